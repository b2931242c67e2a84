"""Kubernetes patch semantics, typed by the API surface.

Owns what a server does with a patch body: JSON patch (RFC 6902), merge patch (RFC 7386),
strategic merge patch (patch strategies and merge keys from the API surface), and server-side
apply (typed conversion of the apply body with the version's own failure messages, managed
fields, field managers, conflicts, force). Pure functions over plain objects: the emulator uses
them to answer, the compat planner to predict, the proxy to answer as apply would have. No I/O.
"""
