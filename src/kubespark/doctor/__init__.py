"""The doctor: match failure text against the knowledge base and say what to do.

Owns reading spark-submit output, operator logs, SparkApplication YAML/JSON, ``kubectl describe``
and event listings as streams, and producing diagnoses (issue, evidence, inferred versions, root
cause, ranked remedies). It reads text; fetching it from a live cluster is the caller's job.
"""
