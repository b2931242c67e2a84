"""The cluster page: the live server's version and its compatibility row per Spark version in use.

Owns turning the server's ``/version`` and the Spark versions of the cached applications into
the knowledge base's verdicts (``kubespark check --spark X --k8s Y`` for each X in use): per
submission path, the verdict, the issues that decide it and their cheapest remedy. The facts are
the knowledge base's; nothing here compares versions itself or reads the cluster.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from kubespark.errors import InputError
from kubespark.knowledge import Combination, evaluate
from kubespark.versions import parse_kube_version, parse_spark_version

__all__ = ["cluster_page", "compat_row"]


@cache
def compat_row(spark: str, kube: str) -> dict[str, Any]:
    """The verdict of every submission path for Spark ``spark`` on Kubernetes ``kube``."""
    try:
        combo = Combination(spark=parse_spark_version(spark), kubernetes=parse_kube_version(kube))
    except InputError as err:
        return {"spark": spark, "error": err.message, "paths": []}
    assessment = evaluate(combo)
    paths = []
    for path in assessment.paths:
        issues = []
        for finding in path.issues:
            remedies = path.remedies(finding)
            issues.append(
                {
                    "id": finding.issue.id,
                    "title": finding.issue.title,
                    "remedy": remedies[0].action if remedies else "",
                }
            )
        paths.append(
            {
                "path": path.path.value,
                "verdict": path.verdict.value,
                "subject": path.subject,
                "issues": issues,
                "blockers": list(path.blockers),
            }
        )
    return {"spark": spark, "verdict": assessment.verdict.value, "paths": paths}


def cluster_page(
    version: Mapping[str, Any], spark_versions: Iterable[str], notice: str, problems: list[str]
) -> dict[str, Any]:
    """The page's data: the server's version and a row per Spark version in use (most used
    first)."""
    used = Counter(v for v in spark_versions if v)
    git = str(version.get("gitVersion") or "")
    rows = [
        {**compat_row(spark, git), "applications": count}
        for spark, count in used.most_common(20)
        if git
    ]
    return {
        "version": git,
        "platform": str(version.get("platform") or ""),
        "watching": notice,
        "problems": problems,
        "rows": rows,
    }
