"""The SparkApplication model (``sparkoperator.k8s.io/v1beta2``) with kubeflow's defaults.

Owns parsing and validation of SparkApplication, ScheduledSparkApplication and SparkConnect
(``v1alpha1``) documents; errors name the field path and the fix. It knows nothing of
Kubernetes servers or HTTP.

The names below load on first use (PEP 562): ``kubespark validate`` needs only the webhook rules
(:mod:`kubespark.spark.rules`), and importing that submodule runs this file, which would
otherwise build the whole model, some 50 dataclasses, for a command that never reads one.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubespark.spark.loading import (
        ApplicationError,
        Problem,
        apply_defaults,
        load_application,
        load_scheduled_application,
        load_spark_connect,
        spark_version_of,
    )
    from kubespark.spark.model import (
        ScheduledSparkApplication,
        ScheduledSparkApplicationSpec,
        SparkApplication,
        SparkApplicationSpec,
    )

__all__ = [
    "ApplicationError",
    "Problem",
    "ScheduledSparkApplication",
    "ScheduledSparkApplicationSpec",
    "SparkApplication",
    "SparkApplicationSpec",
    "apply_defaults",
    "load_application",
    "load_scheduled_application",
    "load_spark_connect",
    "spark_version_of",
]

_MODEL = frozenset(
    {
        "ScheduledSparkApplication",
        "ScheduledSparkApplicationSpec",
        "SparkApplication",
        "SparkApplicationSpec",
    }
)


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = "kubespark.spark.model" if name in _MODEL else "kubespark.spark.loading"
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
