"""``kubespark proxy``: serve a rewriting proxy in front of one Kubernetes API server.

Parses flags, starts the proxy (``kubespark.proxy``), prints where it listens, what it found
upstream and how clients reach it, logs rewrites (and, with ``--log-level debug``, every
request; never a header) on stderr, and serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from kubespark.cli.output import stdout
from kubespark.cli.serving import until_interrupted
from kubespark.errors import InputError
from kubespark.proxy import Proxy, ProxyOptions, RewriteAs
from kubespark.proxy.guard import DEFAULT_REJECT_PATHS, Limits
from kubespark.proxy.server import DEFAULT_LISTEN
from kubespark.redaction import RedactingFilter, redact_url

_LEVELS = ("debug", "info", "warning", "error")


def proxy(
    upstream_kubeconfig: Annotated[
        Path | None,
        typer.Option(
            "--upstream-kubeconfig",
            help="Kubeconfig of the API server to forward to "
            "(default: $KUBECONFIG, else ~/.kube/config).",
        ),
    ] = None,
    context: Annotated[
        str | None, typer.Option(help="Context of that kubeconfig (default: its current one).")
    ] = None,
    listen: Annotated[
        str, typer.Option(help="IP:PORT to listen on (port 0: any free port).")
    ] = DEFAULT_LISTEN,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="PEM certificate to serve HTTPS with.")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="Its PEM private key.")] = None,
    tls_ca: Annotated[
        Path | None,
        typer.Option("--tls-ca", help="The CA of --tls-cert, written into --kubeconfig-out."),
    ] = None,
    tls_dir: Annotated[
        Path | None,
        typer.Option(
            "--tls-dir",
            help="Without --tls-cert: write a self-signed ca.crt, tls.crt and tls.key here "
            "(default: a temporary directory). Clients trust ca.crt.",
        ),
    ] = None,
    tls_san: Annotated[
        list[str] | None,
        typer.Option("--tls-san", help="Another name or IP for the self-signed certificate."),
    ] = None,
    plain_http: Annotated[
        bool,
        typer.Option(
            "--plain-http", help="Serve plain HTTP (loopback addresses only), e.g. for a sidecar."
        ),
    ] = False,
    kubeconfig_out: Annotated[
        Path | None,
        typer.Option(
            "--kubeconfig-out", help="Write a kubeconfig for clients of the proxy to this path."
        ),
    ] = None,
    rewrite_as: Annotated[
        RewriteAs,
        typer.Option(
            "--rewrite-as",
            help="What an apply the upstream rejects becomes: an apply without what it cannot "
            "type (apply), or the planner's POST and merge patch (create).",
        ),
    ] = RewriteAs.APPLY,
    log_level: Annotated[
        str, typer.Option(help="debug (every request), info (rewrites), warning or error.")
    ] = "info",
    accept_hosts: Annotated[
        str | None,
        typer.Option(
            "--accept-hosts",
            help="Comma-separated regular expressions of the Host (and Origin) names accepted "
            "(default, as kubectl proxy: ^localhost$,^127\\.0\\.0\\.1$,^\\[::1\\]$, "
            "plus the --listen address).",
        ),
    ] = None,
    reject_paths: Annotated[
        str,
        typer.Option(
            "--reject-paths",
            help="Comma-separated regular expressions of paths refused with 403 (default, as "
            "kubectl proxy: exec and attach into pods). '' refuses none.",
        ),
    ] = ",".join(DEFAULT_REJECT_PATHS),
    allow_impersonation: Annotated[
        bool,
        typer.Option(
            "--allow-impersonation",
            help="Forward clients' Impersonate-* headers (refused by default: they would act "
            "as anyone the upstream identity may impersonate).",
        ),
    ] = False,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            help="Require this bearer token from every client (written into --kubeconfig-out).",
        ),
    ] = None,
    client_ca: Annotated[
        Path | None,
        typer.Option(
            "--client-ca", help="Require client certificates signed by this CA (mutual TLS)."
        ),
    ] = None,
    max_connections: Annotated[
        int, typer.Option("--max-connections", help="Open client connections at most.", min=1)
    ] = Limits().max_connections,
) -> None:
    """Forward every request to an API server, rewriting server-side applies it would reject."""
    if log_level not in _LEVELS:
        raise InputError(
            f"{log_level!r} is not a log level",
            where="--log-level",
            fix="use " + ", ".join(_LEVELS),
        )
    options = ProxyOptions(
        upstream_kubeconfig=upstream_kubeconfig,
        context=context,
        listen=listen,
        tls=not plain_http,
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_ca=tls_ca,
        tls_dir=tls_dir,
        tls_names=tuple(tls_san or ()),
        kubeconfig_out=kubeconfig_out,
        rewrite_as=rewrite_as,
        accept_hosts=_regexes(accept_hosts) if accept_hosts is not None else None,
        reject_paths=_regexes(reject_paths),
        allow_impersonation=allow_impersonation,
        token_file=token_file,
        client_ca=client_ca,
        limits=Limits(max_connections=max_connections),
    )
    with _logging_to_stderr(log_level):
        asyncio.run(_serve(options))


def _regexes(text: str) -> tuple[str, ...]:
    return tuple(p for p in (part.strip() for part in text.split(",")) if p)


@contextlib.contextmanager
def _logging_to_stderr(level: str) -> Iterator[None]:
    """The proxy's log on stderr while it serves; the logger as it was afterwards."""
    logger = logging.getLogger("kubespark.proxy")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


async def _serve(options: ProxyOptions) -> None:
    running = Proxy(options)
    await running.start()
    console = stdout()
    snapshot = running.capabilities.snapshot
    found = (
        f"Kubernetes {snapshot.git_version} (capabilities from {snapshot.source})"
        if snapshot
        else "not reachable yet (answers 503 until it is)"
    )
    upstream = redact_url(running.upstream.server)
    console.print(f"[bold]kubespark proxy[/]: {running.url} -> {upstream}", highlight=False)
    console.print(f"upstream: {found}", highlight=False)
    if running.pair is not None and running.pair.ca_file is not None:
        console.print(f"CA for clients: {running.pair.ca_file}", highlight=False)
    if running.kubeconfig_path is not None:
        console.print(f"kubeconfig for clients: {running.kubeconfig_path}", highlight=False)
    console.print("Ctrl-C stops it.")
    sys.stdout.flush()  # a supervisor reading the address through a pipe sees it now
    try:
        await until_interrupted()
    finally:
        await running.stop()
