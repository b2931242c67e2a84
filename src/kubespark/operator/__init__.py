"""The operator: SparkApplication and ScheduledSparkApplication controllers on kopf.

Owns reconciliation (kubeflow's states and transitions), scheduling, leader election, metrics
and health. It submits through the driver builder and the compat planner; no JVM, no webhook.

Modules::

    runtime      run_operator(options): kopf's watchers and peering, the controllers, shutdown
    application  the SparkApplication controller (kubeflow's state machine)
    scheduled    the ScheduledSparkApplication controller
    states, status, schedule   the pure rules: states, retries, TTL; status JSON; cron
    crds, install              the CRDs (shipped in data/crds) and installing them
    leadership   kopf peering read the way kopf reads it (which replica is active)
    metrics, http              kubeflow's Prometheus metrics; /metrics, /healthz, /readyz
    caches, workqueue, events, connect, transport   the plumbing
"""
