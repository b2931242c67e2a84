"""The emulated node's kubelets: the scheduler and kubelet that give pods a life.

``simulated`` moves pods through their phases on timers (annotations steer them); ``process``
runs Apache Spark image pods as local processes. Both write only through the API server's verbs;
they run the workloads below them and must not import the server assembly above.
"""
