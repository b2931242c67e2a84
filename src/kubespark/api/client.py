"""``AsyncClient`` (the one implementation) and ``Client`` (the same calls, run to completion).

An application is given as a dict, YAML/JSON text, a path or a :class:`SparkApplication`; it is
validated exactly as ``kubespark submit`` validates a file (an :class:`InputError` naming the
field). Every call returns plain typed values: :class:`Application` handles, log text. It must
not render or exit: that is the CLI's.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ParamSpec, Self, TypeVar
from urllib.parse import quote

import yaml

from kubespark import records
from kubespark.errors import InputError, KubesparkError
from kubespark.kube.client import KubeClient
from kubespark.kube.discovery_cache import cached_surface
from kubespark.kube.errors import BadRequest, NotFound
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.operator.run_now import run_now
from kubespark.spark.loading import load_application
from kubespark.spark.model import SparkApplication
from kubespark.submit.flow import Outcome, Target, submit_and_follow
from kubespark.submit.operator_apps import (
    API,
    OperatorApp,
    ResourceKind,
    find_operator_app,
    find_operator_apps,
    resource_path,
)
from kubespark.submit.pod_logs import driver_target, executor_targets, log_request
from kubespark.submit.removal import delete_submitted
from kubespark.submit.submitted_apps import SubmittedApp, connect, find_apps

__all__ = ["AppSource", "Application", "AsyncClient", "Client", "SubmissionError"]

AppSource = SparkApplication | Mapping[str, Any] | str | Path
SUBMISSION = "Submission"  # the kind of an application `submit` wrote directly
SUCCEEDED = frozenset({"COMPLETED"})
# "Failed": a SparkConnect's server that could not be made.
FAILED = frozenset({"FAILED", "SUBMISSION_FAILED", "FailedValidation", "Failed"})


class SubmissionError(KubesparkError):
    """A submission the server refused; ``outcome`` holds the failure and the doctor's report."""

    def __init__(self, outcome: Outcome) -> None:
        failure = outcome.failure
        super().__init__(
            failure.message if failure is not None else "the submission wrote nothing",
            fix=failure.fix if failure is not None else None,
            where=failure.where if failure is not None else None,
        )
        self.outcome = outcome


@dataclass(frozen=True)
class Application:
    """One application as the server holds it: a direct submission or an operator's resource."""

    kind: str  # "Submission", "SparkApplication", "ScheduledSparkApplication", "SparkConnect"
    name: str
    namespace: str
    state: str  # COMPLETED, FAILED, RUNNING, PENDING, ... (a schedule's: Scheduled, ...)
    spark_version: str = ""
    driver_pod: str = ""
    notes: tuple[str, ...] = ()
    view: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def done(self) -> bool:
        return self.state in SUCCEEDED or self.state in FAILED

    @property
    def succeeded(self) -> bool:
        return self.state in SUCCEEDED

    @classmethod
    def of_submission(cls, app: SubmittedApp) -> Application:
        return cls(
            SUBMISSION,
            app.name,
            app.namespace,
            app.driver.state.value,
            app.spark_version,
            app.driver.pod_name,
            app.notes,
            app.view(),
        )

    @classmethod
    def of_resource(cls, app: OperatorApp) -> Application:
        return cls(
            app.kind.value,
            app.name,
            app.namespace,
            app.state,
            app.spark_version,
            app.driver_pod,
            app.notes,
            app.view(),
        )


def as_application(source: AppSource) -> SparkApplication:
    """A validated SparkApplication from a model, a dict, YAML/JSON text or a path."""
    if isinstance(source, SparkApplication):
        return source
    if isinstance(source, Mapping):
        return load_application(yaml.safe_dump(json.loads(json.dumps(dict(source)))))
    return load_application(source)


class AsyncClient:
    """kubespark's calls against the cluster of a kubeconfig context, as coroutines.

    ``async with AsyncClient(kubeconfig, context) as ks: app = await ks.submit(spec, wait=True)``.
    """

    def __init__(
        self,
        kubeconfig: str | Path | None = None,
        context: str | None = None,
        *,
        namespace: str | None = None,
    ) -> None:
        self._kubeconfig = None if kubeconfig is None else str(kubeconfig)
        self._context = context
        self._namespace = namespace
        self._client: KubeClient | None = None

    async def __aenter__(self) -> Self:
        self._client = await connect(self._kubeconfig, self._context).__aenter__()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def kube(self) -> KubeClient:
        if self._client is None:
            raise RuntimeError("use AsyncClient in `async with`")
        return self._client

    def _ns(self, namespace: str | None) -> str:
        return namespace or self._namespace or self.kube.namespace

    async def submit(
        self, app: AppSource, *, wait: bool = False, wait_seconds: float = 86400.0
    ) -> Application:
        """Submit directly (no operator): the driver pod and what it needs, as the server takes.

        With ``wait``, returns once the application has ended (or ``wait_seconds`` passed). A
        refused submission raises :class:`SubmissionError` with the doctor's diagnosis.
        """
        model = as_application(app)
        target = Target(self._kubeconfig, self._context, self._namespace)
        outcome = await submit_and_follow(
            model,
            target,
            follow_seconds=wait_seconds if wait else None,
            client=self.kube,
            surface=await cached_surface(self.kube),
        )
        if outcome.submission is None:
            raise SubmissionError(outcome)
        return await self.get(outcome.submission.app_name, outcome.submission.namespace)

    async def create(self, app: AppSource) -> Application:
        """Create the SparkApplication for an operator (kubespark's or kubeflow's) to run."""
        model = as_application(app)
        # What the caller wrote, not the model's filled-in defaults: an operator applies those
        # itself, and kubeflow's webhook refuses some empty ones (nodeSelector: {} at two levels).
        body = records.encode(model, only_set=True)
        body.setdefault("apiVersion", "sparkoperator.k8s.io/v1beta2")
        body.setdefault("kind", "SparkApplication")
        namespace = self._ns(model.metadata.namespace)
        body.setdefault("metadata", {})["name"] = model.metadata.name
        body["metadata"]["namespace"] = namespace
        path = f"{API}/namespaces/{quote(namespace, safe='')}/sparkapplications"
        created = await self.kube.send(KubeRequest("POST", path, content_type=JSON, body=body))
        return Application.of_resource(
            OperatorApp(ResourceKind.APPLICATION, namespace, model.metadata.name, created)
        )

    async def get(self, name: str, namespace: str | None = None) -> Application:
        """The application ``name``: a direct submission, else the operator's resource."""
        where = self._ns(namespace)
        submitted = await find_apps(self.kube, where, name)
        if submitted:
            return Application.of_submission(submitted[0])
        resource = await find_operator_app(self.kube, where, name)
        if resource is None:
            raise InputError(
                f"no application {name!r} in namespace {where!r} on {self.kube.server}",
                where=name,
                fix="Client.list() lists the applications of a namespace",
            )
        return Application.of_resource(resource)

    async def list(
        self, namespace: str | None = None, *, all_namespaces: bool = False
    ) -> list[Application]:
        """Direct submissions and the operator's applications, newest first."""
        where = None if all_namespaces else self._ns(namespace)
        submitted, resources = await asyncio.gather(
            find_apps(self.kube, where), find_operator_apps(self.kube, where)
        )
        apps = [(a.created, Application.of_submission(a)) for a in submitted]
        apps += [(r.created, Application.of_resource(r)) for r in resources]
        return [a for _, a in sorted(apps, key=lambda p: p[0], reverse=True)]

    async def logs(
        self,
        name: str,
        namespace: str | None = None,
        *,
        tail: int | None = None,
        previous: bool = False,
        executor: int | str | None = None,
    ) -> str:
        """The driver's log (its last ``tail`` lines), or the executor's with that id;
        ``previous``: the previous instance of a restarted container (``kubectl logs -p``)."""
        app = await self.get(name, namespace)
        if not app.driver_pod:
            raise InputError(
                f"application {name!r} has no driver pod yet (state {app.state})",
                where=name,
                fix="wait for the driver to start: Client.wait or kubespark status",
            )
        target = driver_target(app.namespace, app.driver_pod)
        if executor is not None:
            app_id = str(app.view.get("sparkApplicationId") or "")
            [target] = await executor_targets(self.kube, app.namespace, app_id, name, str(executor))
        try:
            text = await self.kube.send(log_request(target, tail=tail, previous=previous))
        except BadRequest as err:  # not started yet, or no previous instance: the server's words
            raise InputError(
                err.message,
                where=name,
                fix="previous=True reads a restarted container's previous instance"
                if previous
                else "wait for the container to start: Client.wait or kubespark status",
            ) from None
        return text if isinstance(text, str) else json.dumps(text)

    async def run_now(self, name: str, namespace: str | None = None) -> Application | None:
        """Start one run of the ScheduledSparkApplication ``name`` now, as ``kubespark
        run-now``: the run (a SparkApplication), or None when its concurrencyPolicy (Forbid)
        keeps an unfinished run going."""
        done = await run_now(self.kube, self._ns(namespace), name)
        if not done.started:
            return None
        return await self.get(done.run, done.namespace)

    async def delete(self, name: str, namespace: str | None = None) -> None:
        """Delete the application: a submission's objects, or the operator's resource."""
        app = await self.get(name, namespace)
        if app.kind == SUBMISSION:
            found = await find_apps(self.kube, app.namespace, name)
            surface = await cached_surface(self.kube)
            await delete_submitted(self.kube, found, surface, wait_seconds=0.0)
            return
        path = resource_path(ResourceKind(app.kind), app.namespace, name)
        with contextlib.suppress(NotFound):  # gone already: what delete wanted
            await self.kube.send(KubeRequest("DELETE", path))

    async def wait(
        self,
        name: str,
        namespace: str | None = None,
        *,
        seconds: float = 86400.0,
        poll: float = 0.5,
    ) -> Application:
        """The application once it has ended (or as it stands after ``seconds``)."""
        deadline = time.monotonic() + seconds
        app = await self.get(name, namespace)
        while not app.done and time.monotonic() < deadline:
            await asyncio.sleep(poll)
            app = await self.get(name, namespace)
        return app


P = ParamSpec("P")
R = TypeVar("R")


def _blocking(method: Callable[..., Awaitable[R]]) -> Callable[..., R]:
    """The AsyncClient method of the same name, run to completion on a fresh connection."""

    @functools.wraps(method)
    def call(self: Client, *args: Any, **kwargs: Any) -> R:
        async def run() -> R:
            async with AsyncClient(
                self.kubeconfig, self.context, namespace=self.namespace
            ) as client:
                result: R = await getattr(client, method.__name__)(*args, **kwargs)
                return result

        return asyncio.run(run())

    return call


@dataclass(frozen=True)
class Client:
    """The :class:`AsyncClient` calls, blocking: for code with no event loop of its own.

    ``Client(kubeconfig, context).submit("spark-pi.yaml", wait=True).state == "COMPLETED"``
    """

    kubeconfig: str | Path | None = None
    context: str | None = None
    namespace: str | None = None

    submit = _blocking(AsyncClient.submit)
    create = _blocking(AsyncClient.create)
    get = _blocking(AsyncClient.get)
    list = _blocking(AsyncClient.list)
    logs = _blocking(AsyncClient.logs)
    run_now = _blocking(AsyncClient.run_now)
    delete = _blocking(AsyncClient.delete)
    wait = _blocking(AsyncClient.wait)
