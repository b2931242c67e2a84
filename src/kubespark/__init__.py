"""kubespark: a Python control plane for Apache Spark on Kubernetes.

Run any Spark 3.x/4.x application on any Kubernetes 1.16+, choosing per server what the API
accepts; know before deploying what will break and why. The curated public surface is listed in
``__all__``; everything else is internal and may change.
"""

from kubespark.errors import InputError, KubesparkError, VersionError
from kubespark.versions import (
    Version,
    VersionRange,
    parse_kube_version,
    parse_operator_version,
    parse_spark_version,
    spark_version_from_image,
)

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "KubesparkError",
    "Version",
    "VersionError",
    "VersionRange",
    "__version__",
    "parse_kube_version",
    "parse_operator_version",
    "parse_spark_version",
    "spark_version_from_image",
]
