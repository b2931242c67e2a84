"""The operator: SparkApplication and ScheduledSparkApplication controllers on kopf.

Owns reconciliation (kubeflow's states and transitions), scheduling, leader election, metrics
and health. It submits through the driver builder and the compat planner; no JVM, no webhook.
"""
