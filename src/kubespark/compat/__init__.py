"""The compat planner: turn objects into writes a given server accepts, and explain each change.

Owns ``plan_writes``: choice of create / replace / server-side apply / merge patch, pruning of
fields the server's version lacks, filling of defaulted list-map keys, mapping of apiVersions to
served ones. Pure: it reads the API surface and returns planned requests plus notes; executing
them is the kube client's job.
"""
