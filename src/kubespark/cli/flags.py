"""The flags several commands share, declared once so they read and behave the same everywhere.

Owns the spelling and help of ``--kubeconfig``, ``--context``, ``-n/--namespace`` (for commands
that default to the context's namespace), ``-o/--output`` (text or json; kubectl's
text/wide/json/yaml/name where applications are shown) and the NAME argument of the commands
that act on one application; ``--k8s`` and ``--kubeconfig`` of the commands that check against
a Kubernetes version or else a live server (``check``, ``validate``); for the commands that
also run inside a pod (``operator``, ``install-crds``), their ``--kubeconfig``/``--context``
(the service account when there is no kubeconfig) and ``--k8s`` (a version assumed instead of
asked for); ``--dry-run`` of the commands that plan writes (``submit``, ``install-crds``);
and the namespaces the watchers (``operator``, ``ui``) keep to. A command whose
flag means more (``submit --k8s`` plans offline with ``--dry-run``) declares its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kubespark.cli.output import ObjectFormat, OutputFormat

__all__ = [
    "AppName",
    "AssumedKubeVersionFlag",
    "ContextFlag",
    "DryRunFlag",
    "InClusterContextFlag",
    "InClusterKubeconfigFlag",
    "KubeVersionFlag",
    "KubeconfigFlag",
    "LiveKubeconfigFlag",
    "NamespaceFlag",
    "ObjectOutputFlag",
    "OutputFlag",
    "WatchedNamespacesFlag",
]

KubeconfigFlag = Annotated[str | None, typer.Option("--kubeconfig", help="kubeconfig file")]
# check and validate: a version to check against, or a live server's own (not both).
KubeVersionFlag = Annotated[
    str | None, typer.Option("--k8s", help="Kubernetes version, e.g. 1.19 or v1.20.4-gke.2200")
]
LiveKubeconfigFlag = Annotated[
    str | None,
    typer.Option("--kubeconfig", help="check against this kubeconfig's live server, not --k8s"),
]
ContextFlag = Annotated[str | None, typer.Option("--context", help="kubeconfig context")]
NamespaceFlag = Annotated[
    str | None, typer.Option("-n", "--namespace", help="default: the context's namespace")
]
OutputFlag = Annotated[OutputFormat, typer.Option("-o", "--output")]
# The same -o wherever applications are shown (list, status), as kubectl has it for objects.
ObjectOutputFlag = Annotated[ObjectFormat, typer.Option("-o", "--output")]
AppName = Annotated[str, typer.Argument(help="the application's name (metadata.name)")]

# The in-pod commands' help is written in sentences, as the operator's other flags (kubeflow's).
InClusterKubeconfigFlag = Annotated[
    Path | None,
    typer.Option(
        "--kubeconfig", help="Kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)."
    ),
]
InClusterContextFlag = Annotated[str | None, typer.Option("--context", help="Kubeconfig context.")]
AssumedKubeVersionFlag = Annotated[
    str | None,
    typer.Option("--k8s", help="Assume this Kubernetes version instead of asking the server."),
]
# The operator's watch and the dashboard's (which the operator also serves): every namespace unless
# told; in the operator's sentences.
WatchedNamespacesFlag = Annotated[
    list[str] | None,
    typer.Option("-n", "--namespace", help="Watch only this namespace (repeatable; default: all)."),
]
# submit and install-crds: the compat planner's writes, printed instead of sent.
DryRunFlag = Annotated[bool, typer.Option("--dry-run", help="print the planned writes; send none")]
