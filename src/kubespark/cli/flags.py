"""The flags several commands share, declared once so they read and behave the same everywhere.

Owns the spelling and help of ``--kubeconfig``, ``--context``, ``-n/--namespace`` (for commands
that default to the context's namespace), ``-o/--output`` (text or json; kubectl's
text/wide/json/yaml/name where applications are shown) and the NAME argument of the commands
that act on one application; and, for the commands that also run inside a pod (``operator``,
``install-crds``), their ``--kubeconfig``/``--context`` (the service account when there is no
kubeconfig) and ``--k8s`` (a version assumed instead of asked for). A command whose flag means
more (``check --kubeconfig`` reads the live server's version) declares its own.
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
    "InClusterContextFlag",
    "InClusterKubeconfigFlag",
    "KubeconfigFlag",
    "NamespaceFlag",
    "ObjectOutputFlag",
    "OutputFlag",
]

KubeconfigFlag = Annotated[str | None, typer.Option("--kubeconfig", help="kubeconfig file")]
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
