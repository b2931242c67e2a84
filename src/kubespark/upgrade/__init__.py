"""Upgrade planning: move a Spark / operator / Kubernetes combination one component at a time.

Owns ``kubespark plan``'s search over intermediate states, every one checked against the
knowledge base. Pure; it reads the knowledge base only.
"""
