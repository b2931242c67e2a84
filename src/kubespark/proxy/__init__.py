"""A proxy between Kubernetes clients and an API server, rewriting writes the server cannot take.

Owns forwarding (requests, streams, upgrades) and the rewrite of rejected server-side applies into
equivalent writes, through the compat planner. Credentials only ever go to the configured upstream.
"""
