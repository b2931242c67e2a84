"""``kubespark ui``: the cluster's Spark applications in a browser, with why each waits or failed.

A box of its own above ``submit``, ``doctor`` and ``knowledge`` (beside the operator and the
proxy, independent of both): a watch-based cache of the cluster (:mod:`~kubespark.ui.cache`),
the rows and pages computed from it, the actions a user may take with their own credentials,
and a small ASGI server with its assets (:mod:`~kubespark.ui.server`). ``kubespark.cli.ui``
only parses flags and starts :class:`UIServer`; ``kubespark operator --ui-listen`` serves the
same server from the operator's process.
"""

from kubespark.ui.server import UIOptions, UIServer, parse_listen

__all__ = ["UIOptions", "UIServer", "parse_listen"]
