"""The knowledge base: releases and known issues, as data with sources.

Owns the data files under ``knowledge/data`` (Spark releases and their fabric8 client and write
methods, spark-operator releases, Kubernetes facts, known issues with symptom patterns, affected
ranges, root causes, ranked remedies and sources), their schema, and the evaluation "which known
issues apply to this combination of versions". It must not do I/O beyond reading its own package
data, and must not know about HTTP or the API surface.
"""
