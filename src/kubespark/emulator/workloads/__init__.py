"""What runs inside the emulated node's pods, apart from the kubelet that runs them.

Owns the workloads a kubelet starts once a pod's containers run: the simulated Spark driver
(``sparkdriver``), the annotations that steer a simulated pod (``steering``) and the view of its
pod a workload gets (``context``). It reads and writes through the API server's verbs; it must
not import a kubelet, the server assembly or anything above them.
"""
