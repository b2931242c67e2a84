"""The flags several commands share, declared once so they read and behave the same everywhere.

Owns the spelling and help of ``--kubeconfig``, ``--context``, ``-n/--namespace`` (for commands
that default to the context's namespace) and ``-o/--output`` (text or json; kubectl's
text/wide/json/yaml/name where applications are shown). A command whose flag means more
(``check --kubeconfig`` reads the live server's version) declares its own.
"""

from __future__ import annotations

from typing import Annotated

import typer

from kubespark.cli.output import ObjectFormat, OutputFormat

__all__ = ["ContextFlag", "KubeconfigFlag", "NamespaceFlag", "ObjectOutputFlag", "OutputFlag"]

KubeconfigFlag = Annotated[str | None, typer.Option("--kubeconfig", help="kubeconfig file")]
ContextFlag = Annotated[str | None, typer.Option("--context", help="kubeconfig context")]
NamespaceFlag = Annotated[
    str | None, typer.Option("-n", "--namespace", help="default: the context's namespace")
]
OutputFlag = Annotated[OutputFormat, typer.Option("-o", "--output")]
# The same -o wherever applications are shown (list, status), as kubectl has it for objects.
ObjectOutputFlag = Annotated[ObjectFormat, typer.Option("-o", "--output")]
