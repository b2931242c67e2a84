"""kubespark: a Python control plane for Apache Spark on Kubernetes.

Run any Spark 3.x/4.x application on any Kubernetes 1.16+, choosing per server what the API
accepts; know before deploying what will break and why. The curated public surface is listed in
``__all__``; everything else is internal and may change. Names are imported on first use, so
``import kubespark`` stays cheap for the CLI and for callers who need only one part.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that owns it
_EXPORTS: dict[str, str] = {
    # errors and versions
    "KubesparkError": "kubespark.errors",
    "InputError": "kubespark.errors",
    "VersionError": "kubespark.errors",
    "Version": "kubespark.versions",
    "VersionRange": "kubespark.versions",
    "parse_kube_version": "kubespark.versions",
    "parse_operator_version": "kubespark.versions",
    "parse_spark_version": "kubespark.versions",
    "spark_version_from_image": "kubespark.versions",
    # knowledge base
    "Combination": "kubespark.knowledge",
    "evaluate": "kubespark.knowledge",
    "load_knowledge": "kubespark.knowledge",
    "build_matrix": "kubespark.knowledge",
    # API surface
    "ApiSurface": "kubespark.apisurface",
    "load_surface": "kubespark.apisurface",
    "check_object": "kubespark.apisurface",
    # Spark applications and their driver resources
    "SparkApplication": "kubespark.spark",
    "load_application": "kubespark.spark",
    "build_driver_resources": "kubespark.driver",
    # patch semantics: what a server of a version does with a write
    "apply_patch": "kubespark.patch",
    "apply_typing_errors": "kubespark.patch",
    "predict_apply": "kubespark.compat",
    # from Python: the calls a program makes, and the handle they return
    "Client": "kubespark.api",
    "AsyncClient": "kubespark.api",
    "Application": "kubespark.api",
    "SubmissionError": "kubespark.api",
    # the wire
    "KubeClient": "kubespark.kube.client",
    "KubeRequest": "kubespark.kube.requests",
}

__all__ = [
    "ApiSurface",
    "Application",
    "AsyncClient",
    "Client",
    "Combination",
    "InputError",
    "KubeClient",
    "KubeRequest",
    "KubesparkError",
    "SparkApplication",
    "SubmissionError",
    "Version",
    "VersionError",
    "VersionRange",
    "__version__",
    "apply_patch",
    "apply_typing_errors",
    "build_driver_resources",
    "build_matrix",
    "check_object",
    "evaluate",
    "load_application",
    "load_knowledge",
    "load_surface",
    "parse_kube_version",
    "parse_operator_version",
    "parse_spark_version",
    "predict_apply",
    "spark_version_from_image",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kubespark' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from kubespark.api import Application, AsyncClient, Client, SubmissionError
    from kubespark.apisurface import ApiSurface, check_object, load_surface
    from kubespark.compat import predict_apply
    from kubespark.driver import build_driver_resources
    from kubespark.errors import InputError, KubesparkError, VersionError
    from kubespark.knowledge import Combination, build_matrix, load_knowledge
    from kubespark.knowledge.evaluation import evaluate
    from kubespark.kube.client import KubeClient
    from kubespark.kube.requests import KubeRequest
    from kubespark.patch import apply_patch, apply_typing_errors
    from kubespark.spark import SparkApplication, load_application
    from kubespark.versions import (
        Version,
        VersionRange,
        parse_kube_version,
        parse_operator_version,
        parse_spark_version,
        spark_version_from_image,
    )
