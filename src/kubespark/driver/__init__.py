"""The driver builder: the resources spark-submit of an application's own Spark version creates.

Owns building the driver Pod, headless Service, spark.properties ConfigMap, executor pod template
and UI Service/Ingress for a SparkApplication, per Spark version, plus everything a mutating
webhook used to patch in. Pure: it returns objects; writing them is the submitter's job.
"""
