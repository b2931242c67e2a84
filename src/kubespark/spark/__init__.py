"""The SparkApplication model (``sparkoperator.k8s.io/v1beta2``) with kubeflow's defaults.

Owns parsing and validation of SparkApplication and ScheduledSparkApplication documents; errors
name the field path and the fix. It knows nothing of Kubernetes servers or HTTP.
"""
