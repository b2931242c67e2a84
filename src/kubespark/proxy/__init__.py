"""A proxy between Kubernetes clients and an API server, rewriting writes the server cannot take.

Owns forwarding (requests, watches and log streams unbuffered, exec/attach/port-forward
upgrades spliced) and the rewrite of server-side applies the upstream's version would reject
into equivalent writes it accepts, decided by the compat planner, answered as the apply would
have been, each rewrite logged and reported in a ``Warning`` header. Credentials only ever go to
the configured upstream and never into a log. It must not decide what a Kubernetes version
accepts (the API surface does) nor how to lower an object (the planner does).

Entry points: :func:`run_proxy` (``async with``), :class:`ProxyThread` (synchronous callers),
:class:`Proxy` and :class:`ProxyOptions`; the decision alone is :func:`decide_apply`.
"""

from kubespark.proxy.applies import Forward, Refuse, Rewrite, RewriteAs, decide_apply
from kubespark.proxy.server import Proxy, ProxyOptions, ProxyThread, run_proxy

__all__ = [
    "Forward",
    "Proxy",
    "ProxyOptions",
    "ProxyThread",
    "Refuse",
    "Rewrite",
    "RewriteAs",
    "decide_apply",
    "run_proxy",
]
