"""The driver builder: the resources spark-submit of an application's own Spark version creates.

Owns building the driver Pod, headless Service, spark.properties ConfigMap, executor pod template
and UI Service/Ingress for a SparkApplication, per Spark version, plus everything a mutating
webhook used to patch in. Pure: it returns objects; writing them is the submitter's job.
"""

from kubespark.driver.build import BuildOptions, DriverResources, build_driver_resources
from kubespark.driver.names import GeneratedIds, ids_for_submission
from kubespark.driver.sparksubmit import SparkSubmitOutput, run_spark_submit
from kubespark.driver.submit_command import SubmitCommand, spark_submit_command

__all__ = [
    "BuildOptions",
    "DriverResources",
    "GeneratedIds",
    "SparkSubmitOutput",
    "SubmitCommand",
    "build_driver_resources",
    "ids_for_submission",
    "run_spark_submit",
    "spark_submit_command",
]
