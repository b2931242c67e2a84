"""The Kubernetes wire layer: Status bodies, errors keyed by HTTP status, requests, the client.

Owns the typed Status model shared by client and emulator, the error hierarchy (with retry intent
in the type), sans-I/O request descriptions, kubeconfig loading, and the one async HTTP executor
with an injectable transport. It must not decide *what* to write (the planner does) nor interpret
failures (the doctor does).
"""
