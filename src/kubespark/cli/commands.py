"""The subcommands: where each lives, its one-line summary and its examples. Data only.

Owns the table :mod:`kubespark.cli.app` builds the CLI from and :mod:`kubespark.cli.entry` keys
its help cache on. It imports nothing, so reading it costs nothing at start-up. A test keeps each
summary equal to the first line of its command's docstring.
"""

from __future__ import annotations

__all__ = ["COMMANDS", "EXAMPLES", "SHORT_PATH", "SUMMARIES"]

COMMANDS: dict[str, str] = {
    "demo": "kubespark.cli.demo:demo",
    "check": "kubespark.cli.check:check",
    "matrix": "kubespark.cli.matrix:matrix",
    "validate": "kubespark.cli.validate:validate",
    "doctor": "kubespark.cli.doctor:doctor",
    "plan": "kubespark.cli.plan:plan",
    "emulate": "kubespark.cli.emulate:emulate",
    "proxy": "kubespark.cli.proxy:proxy",
    "install-crds": "kubespark.cli.install_crds:install_crds",
    "operator": "kubespark.cli.operator:operator",
    "submit": "kubespark.cli.submit:submit",
    "status": "kubespark.cli.status:status",
    "describe": "kubespark.cli.status:describe",
    "logs": "kubespark.cli.logs:logs",
    "ui-proxy": "kubespark.cli.ui_proxy:ui_proxy",
    "list": "kubespark.cli.list_apps:list_apps",
    "delete": "kubespark.cli.delete:delete",
    "events": "kubespark.cli.events:events",
    "suspend": "kubespark.cli.suspend:suspend",
    "resume": "kubespark.cli.suspend:resume",
    "run-now": "kubespark.cli.run_now:run_now",
    "completion": "kubespark.cli.completion:completion",
    "ui": "kubespark.cli.ui:ui",
}

# The commands kubespark.cli.entry runs without typer (kubespark.cli.shortpath), the offline ones
# and submit: their modules name typer only in annotations, and every flag is of a plain kind.
SHORT_PATH = frozenset({"check", "matrix", "plan", "validate", "submit"})

# The first line of each command's docstring, listed by ``kubespark --help`` without importing the
# command (a test keeps them equal to the docstrings).
SUMMARIES: dict[str, str] = {
    "demo": (
        "Spark 3.5.1 on Kubernetes 1.19: the verdict, spark-submit failing, kubespark succeeding."
    ),
    "check": "Say, per submission path, whether a combination works, why not, and what to do.",
    "matrix": (
        "Show the verdict of every Spark release (and operator image) on every Kubernetes minor."
    ),
    "validate": "Check manifests against one Kubernetes version: fields, APIs, server-side apply.",
    "doctor": "Diagnose a Spark-on-Kubernetes failure from its logs, objects and events.",
    "plan": "Plan an upgrade one component at a time, every intermediate state checked.",
    "emulate": "Serve an emulated API server of one Kubernetes version, with a kubelet.",
    "proxy": (
        "Forward every request to an API server, rewriting server-side applies it would reject."
    ),
    "install-crds": (
        "Install the operator's CRDs (apiextensions.k8s.io/v1) on any Kubernetes 1.16+."
    ),
    "operator": (
        "Run the operator for SparkApplications and ScheduledSparkApplications (kubeflow's CRDs)."
    ),
    "submit": (
        "Submit a SparkApplication: the driver pod, Service and ConfigMaps, as this server needs."
    ),
    "status": "Show an application: state, why it waits, attempts, compat notes, events.",
    "describe": "Show an application: state, why it waits, attempts, compat notes, events.",
    "logs": "Print (or follow) the driver's log of an application, or its executors'.",
    "ui-proxy": "Serve a running application's Spark UI on a local port, through the API server.",
    "list": "List Spark applications: kubespark's submissions and the operator's, newest first.",
    "events": "Show the Events about an application: its driver, executors and operator resource.",
    "suspend": "Suspend a SparkApplication or ScheduledSparkApplication (spec.suspend: true).",
    "resume": "Resume a suspended SparkApplication or ScheduledSparkApplication.",
    "run-now": "Start one run of a ScheduledSparkApplication now, under its concurrencyPolicy.",
    "delete": (
        "Delete an application: a submission's driver pod and objects, or the operator's resource."
    ),
    "completion": "Print the shell completion script for bash, zsh or fish.",
    "ui": "Serve a dashboard of the cluster's Spark applications: states, why they wait or failed.",
}

# Shown under each command's --help (the emulate command's are in its docstring).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "demo": ("kubespark demo", "kubespark demo --with-spark-submit"),
    "check": (
        "kubespark check --k8s 1.19 --spark 3.5.1",
        "kubespark check -f examples/spark-pi.yaml --kubeconfig ~/.kube/config",
        "kubespark check --k8s 1.29 --image apache/spark:3.5.1 -o json",
    ),
    "matrix": ("kubespark matrix", "kubespark matrix --html matrix.html"),
    "validate": (
        "kubespark validate -f deploy/ --k8s 1.21",
        "helm template my-chart | kubespark validate -f - --k8s 1.19 -o sarif",
    ),
    "doctor": (
        "kubespark doctor driver.log",
        "kubectl get sparkapplication spark-pi -o yaml | kubespark doctor -",
        "kubespark doctor --app spark-pi -n spark",
    ),
    "plan": ("kubespark plan --from spark=3.4.1,k8s=1.19 --to spark=3.5.1,k8s=1.29",),
    "proxy": (
        "kubespark proxy --upstream-kubeconfig ~/.kube/config \\\n"
        "      --kubeconfig-out proxied.yaml",
    ),
    "install-crds": ("kubespark install-crds", "kubespark install-crds --dry-run --k8s 1.16"),
    "operator": (
        "kubespark operator -n spark",
        "kubespark operator --namespace-selector team=data",
    ),
    "submit": (
        "kubespark submit examples/spark-pi.yaml --wait",
        "kubespark submit examples/spark-pi.yaml --dry-run --k8s 1.19",
    ),
    "status": (
        "kubespark status spark-pi",
        "kubespark status spark-pi -n spark -o json",
        "kubespark status spark-pi -o wide",
    ),
    "describe": (
        "kubespark describe spark-pi",
        "kubespark describe nightly -n spark -o yaml",
    ),
    "logs": (
        "kubespark logs spark-pi -f",
        "kubespark logs spark-pi --tail 50",
        "kubespark logs spark-pi --previous",
        "kubespark logs spark-pi --all-executors",
        "kubespark logs spark-pi --executor 2 -f",
    ),
    "ui-proxy": ("kubespark ui-proxy spark-pi --open", "kubespark ui-proxy spark-pi --port 4040"),
    "list": ("kubespark list", "kubespark list -A -o wide", "kubespark list -l team=data -o name"),
    "events": ("kubespark events spark-pi", "kubespark events spark-pi -n spark -o yaml"),
    "suspend": ("kubespark suspend nightly-report -n spark",),
    "resume": ("kubespark resume nightly-report -n spark",),
    "run-now": ("kubespark run-now nightly-report -n spark", "kubespark run-now nightly -o json"),
    "delete": ("kubespark delete spark-pi", "kubespark delete spark-pi -n spark --no-wait"),
    "ui": ("kubespark ui", "kubespark ui --listen 127.0.0.1:0 -n spark --allow-actions"),
    "completion": (
        "source <(kubespark completion bash)",
        "kubespark completion fish > ~/.config/fish/completions/kubespark.fish",
    ),
}
