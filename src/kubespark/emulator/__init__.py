"""An emulated Kubernetes API server of any version, with a simulated kubelet.

Owns the HTTP surface real clients use (discovery, CRUD, watch, patch, server-side apply), the
in-memory store with resourceVersions and watches, garbage collection, CRDs, fault injection, and
the kubelet that moves pods through their phases. Every version-dependent behaviour comes from the
API surface; it must not import the client-side planner, driver builder or operator.
"""
