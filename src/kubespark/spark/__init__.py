"""The SparkApplication model (``sparkoperator.k8s.io/v1beta2``) with kubeflow's defaults.

Owns parsing and validation of SparkApplication, ScheduledSparkApplication and SparkConnect
(``v1alpha1``) documents; errors name the field path and the fix. It knows nothing of
Kubernetes servers or HTTP.
"""

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
