"""The emulated API server: the bottom layer of the emulator.

Owns the HTTP surface real clients use (ASGI app, discovery, OpenAPI, tables, protobuf), the
verbs (``api``), the store with resourceVersions and watches, CRDs, patching, fault injection and
the serving certificates. It knows nothing of kubelets or controllers and must not import them.
"""
