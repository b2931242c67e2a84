"""Reading the knowledge base's data files: parse, validate, cross-check, cache.

Owns turning ``knowledge/data`` (or a copy of it, for tests) into a :class:`Knowledge`, and the
promise that a malformed file fails loudly with a :class:`kubespark.errors.DataError` naming the
file and the field. The packaged data is loaded once per process (``functools.cache``): it never
changes while kubespark runs. It must not evaluate combinations.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from kubespark.errors import DataError
from kubespark.knowledge.base import Knowledge
from kubespark.knowledge.disk_cache import disk_cached
from kubespark.knowledge.schema import (
    Conditions,
    FactRef,
    Issue,
    KubernetesData,
    KubesparkData,
    OperatorData,
    SparkData,
)
from kubespark.records import DecodeError, decode

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = ["load_knowledge", "load_knowledge_from"]

M = TypeVar("M")


@functools.cache
def load_knowledge() -> Knowledge:
    """The packaged knowledge base: loaded and checked once per data, then read from disk."""
    return disk_cached("knowledge", _load_packaged)


def _load_packaged() -> Knowledge:
    from importlib import resources  # only when the disk cache misses: it costs start-up

    return load_knowledge_from(resources.files("kubespark.knowledge") / "data")


def load_knowledge_from(root: Traversable) -> Knowledge:
    """Load and check a data directory laid out like ``knowledge/data`` (tests pass copies)."""
    issues = tuple(
        _read_issue(entry)
        for entry in sorted(_issue_files(root), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    )
    knowledge = Knowledge(
        spark=_read(root, "spark.yaml", SparkData),
        operators=_read(root, "operator.yaml", OperatorData),
        kubernetes=_read(root, "kubernetes.yaml", KubernetesData),
        kubespark=_read(root, "kubespark.yaml", KubesparkData),
        issues=issues,
    )
    _check_across_files(knowledge)
    return knowledge


def _issue_files(root: Traversable) -> Iterator[Traversable]:
    folder = root / "issues"
    if not folder.is_dir():
        raise DataError("the issues/ folder is missing", where=str(root))
    return folder.iterdir()


def _read_issue(entry: Traversable) -> Issue:
    name = f"issues/{entry.name}"
    issue = _validate(name, _yaml(entry, name), Issue)
    if f"{issue.id}.yaml" != entry.name:
        raise DataError(
            f"id {issue.id!r} does not match the file name",
            where=f"{name}: id",
            fix=f"name the file {issue.id}.yaml, or change its id",
        )
    return issue


def _read(root: Traversable, name: str, model: type[M]) -> M:
    return _validate(name, _yaml(root / name, name), model)


def _yaml(entry: Traversable, name: str) -> Any:
    # Imported here: the data is parsed only when the disk cache misses (a new release of it).
    # libyaml's parser when PyYAML has it: the same data (safe loading), an order of magnitude
    # faster.
    import yaml

    try:
        return yaml.load(
            entry.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
    except FileNotFoundError:
        raise DataError("the data file is missing", where=name) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        raise DataError(f"not valid YAML: {getattr(err, 'problem', err)}", where=where) from None


def _validate(name: str, data: Any, model: type[M]) -> M:
    try:
        return decode(model, data)
    except DecodeError as err:
        # One problem per data file: a misspelt key first, as it explains the field it misses.
        first = min(err.faults, key=lambda fault: fault.kind != "extra_forbidden")
        raise DataError(
            first.message,
            where=f"{name}: {first.path}" if first.path else name,
            fix="correct the data file; its schema is documented in knowledge/data/README.md",
        ) from None


# -- rules that span files ----------------------------------------------------------------------


def _check_across_files(kb: Knowledge) -> None:
    _check_fact_references(kb)
    _check_spark_tables(kb)
    _check_operator_releases(kb)


def _check_fact_references(kb: Knowledge) -> None:
    for issue in kb.issues:
        for where, conditions in _conditions_of(issue):
            ref = conditions.kubernetes
            if isinstance(ref, FactRef) and ref.fact_id not in kb.facts:
                raise DataError(
                    f"names unknown Kubernetes fact {ref.fact_id!r}",
                    where=f"issues/{issue.id}.yaml: {where}.kubernetes",
                    fix="use an id from kubernetes.yaml's facts, or add the fact there",
                )
    for index, need in enumerate(kb.spark.needs):
        if need.fact not in kb.facts:
            raise DataError(
                f"names unknown Kubernetes fact {need.fact!r}",
                where=f"spark.yaml: needs[{index}].fact",
                fix="use an id from kubernetes.yaml's facts",
            )


def _conditions_of(issue: Issue) -> Iterator[tuple[str, Conditions]]:
    yield "affects", issue.affects
    for index, reason in enumerate(issue.reasons):
        yield f"reasons[{index}].affects", reason.affects


def _check_spark_tables(kb: Knowledge) -> None:
    for release in kb.spark_releases:
        for table in ("fabric8", "writes"):
            rows = [i for i, r in enumerate(getattr(kb.spark, table)) if r.spark.contains(release)]
            if len(rows) != 1:
                raise DataError(
                    f"Spark {release} is covered by {len(rows)} rows {rows}; it needs exactly one",
                    where=f"spark.yaml: {table}",
                    fix="make the rows' spark ranges cover every release once",
                )
    # Only now may releases be resolved: every one has its rows.
    for release in kb.spark_releases:
        resources_written = kb.spark_release(release).writes
        for index, need in enumerate(kb.spark.needs):
            if need.spark.contains(release) and need.resource not in resources_written:
                raise DataError(
                    f"Spark {release} needs {need.fact} on a {need.resource}, "
                    "which it never writes",
                    where=f"spark.yaml: needs[{index}].resource",
                )


def _check_operator_releases(kb: Knowledge) -> None:
    seen: set[str] = set()
    for index, line in enumerate(kb.operators.lines):
        for release in line.releases:
            if str(release) in seen:
                raise DataError(
                    f"operator release {release} is listed twice",
                    where=f"operator.yaml: lines[{index}].releases",
                )
            seen.add(str(release))
