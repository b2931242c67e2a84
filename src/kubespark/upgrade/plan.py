"""Upgrade plans: from one Spark / operator / Kubernetes combination to another, one step at a time.

Owns reading ``--from``/``--to`` (``spark=3.4.1,k8s=1.19[,operator=...]``), the rules of how
each component may move (``upgrade/data/policy.yaml``: Kubernetes one minor at a time and never
down), and the search for the order of steps whose every intermediate state the knowledge base
judges best (fewest incompatible, then "depends", then caveats). Each step says why it comes
where it does and which known issues that order avoids. The same search runs for the path the
user submits with (spark-submit, or the operator when one is given) and for kubespark, whose own
submission removes constraints the others have. It only reads the knowledge base.
"""

from __future__ import annotations

import functools
import heapq
from dataclasses import dataclass, replace
from itertools import count
from typing import Literal

from kubespark.errors import InputError
from kubespark.knowledge import (
    Assessment,
    Combination,
    IssueFinding,
    Knowledge,
    PathName,
    Verdict,
    evaluate_with,
    load_knowledge,
)
from kubespark.packagedata import package_files
from kubespark.versions import (
    OperatorVersion,
    Version,
    parse_kube_version,
    parse_operator_version,
    parse_spark_version,
)

__all__ = ["Plan", "PlanState", "Step", "parse_state", "plan_upgrade", "policy"]

Component = Literal["spark", "kubernetes", "operator"]
_KEYS = {"spark": "spark", "k8s": "kubernetes", "kubernetes": "kubernetes", "operator": "operator"}
_SEVERITY = {
    Verdict.COMPATIBLE: 0,
    Verdict.NOT_ASSESSED: 0,
    Verdict.DEPENDS: 1,
    Verdict.INCOMPATIBLE: 100,
}


@dataclass(frozen=True, order=True)
class PlanState:
    """One combination on the way: Kubernetes as a minor, Spark and the operator as releases."""

    kubernetes: Version
    spark: Version
    operator: OperatorVersion | None = None

    def combination(self) -> Combination:
        return Combination(spark=self.spark, operator=self.operator, kubernetes=self.kubernetes)

    def describe(self) -> str:
        op = f", operator {self.operator.tag}" if self.operator else ""
        return f"Spark {self.spark}, Kubernetes {self.kubernetes}{op}"

    def as_json(self) -> dict[str, object]:
        return {
            "spark": str(self.spark),
            "kubernetes": str(self.kubernetes),
            "operator": self.operator.tag if self.operator else None,
        }


@dataclass(frozen=True)
class Step:
    component: Component
    before: PlanState
    after: PlanState
    verdict: Verdict  # the after-state's, on the plan's path
    why: str  # why this step comes here
    avoids: tuple[str, ...]  # issues that taking this step earlier would have hit
    issues: tuple[str, ...]  # issues still deciding the after-state (if any)
    caveats: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    path: PathName
    start: PlanState
    target: PlanState
    steps: tuple[Step, ...]
    possible: bool
    refusal: str = ""  # why no safe order exists, when not possible
    lifted: tuple[str, ...] = ()  # issues that constrain other paths but not this one


@functools.cache
def policy() -> dict[str, object]:
    """``upgrade/data/policy.yaml``: how each component may move, with sources."""
    import yaml  # only `plan -o json` shows the policy: the text plan need not load YAML

    text = (package_files(__file__, "kubespark.upgrade") / "data" / "policy.yaml").read_text()
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def parse_state(text: str, *, flag: str, kb: Knowledge | None = None) -> PlanState:
    """``spark=3.4.1,k8s=1.19[,operator=v1beta2-1.3.8-3.1.1]``, checked against the knowledge."""
    kb = kb or load_knowledge()
    values: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        key, sep, value = part.partition("=")
        name = _KEYS.get(key.strip().lower())
        if not sep or name is None or not value.strip():
            raise InputError(
                f"{part!r} is not COMPONENT=VERSION",
                where=flag,
                fix="write spark=3.4.1,k8s=1.19[,operator=v1beta2-1.3.8-3.1.1]",
            )
        values[name] = value.strip()
    missing = [c for c in ("spark", "kubernetes") if c not in values]
    if missing:
        raise InputError(
            f"{flag} names no {' and no '.join(missing)} version",
            where=flag,
            fix="give both: spark=3.4.1,k8s=1.19",
        )
    spark = parse_spark_version(values["spark"])
    kb.spark_release(spark)  # an unknown release is an InputError naming the known range
    if spark.patch is None:
        raise InputError(
            f"Spark {spark} is a minor, not a release", where=flag, fix="give e.g. spark=3.5.1"
        )
    kube = parse_kube_version(values["kubernetes"]).minor_version
    if kube not in kb.kube_minors:
        first, last = kb.kube_minors[0], kb.kube_minors[-1]
        raise InputError(
            f"Kubernetes {kube} is not a minor kubespark knows",
            where=flag,
            fix=f"give a minor from {first} to {last}",
        )
    operator = None
    if "operator" in values:
        operator = parse_operator_version(values["operator"])
        kb.operator_line(operator)
    return PlanState(kubernetes=kube, spark=spark, operator=operator)


def plan_upgrade(
    start: PlanState, target: PlanState, kb: Knowledge | None = None
) -> tuple[Plan, Plan]:
    """The plan on the user's path (operator if given, else spark-submit) and with kubespark."""
    kb = kb or load_knowledge()
    _check_moves(start, target)
    path = PathName.OPERATOR if start.operator is not None else PathName.SPARK_SUBMIT
    own = _search(kb, start, target, path)
    ours = _search(kb, start, target, PathName.KUBESPARK)
    lifted = _lifted_issues(own, ours)
    return own, replace(ours, lifted=lifted)


def _check_moves(start: PlanState, target: PlanState) -> None:
    if target.kubernetes < start.kubernetes:
        raise InputError(
            f"Kubernetes cannot go from {start.kubernetes} down to {target.kubernetes}",
            where="--to",
            fix="a cluster is not downgraded: give k8s at or above the --from version",
        )
    if (start.operator is None) != (target.operator is None):
        raise InputError(
            "the operator is in only one of --from and --to",
            where="--to" if target.operator is None else "--from",
            fix="give operator=... in both (installing or removing it is not an upgrade step)",
        )


# -- the search ---------------------------------------------------------------------------------


def _moves(state: PlanState, target: PlanState) -> list[tuple[Component, PlanState]]:
    out: list[tuple[Component, PlanState]] = []
    if state.kubernetes < target.kubernetes:
        out.append(("kubernetes", replace(state, kubernetes=state.kubernetes.next_minor())))
    if state.spark != target.spark:
        out.append(("spark", replace(state, spark=target.spark)))
    if state.operator != target.operator:
        out.append(("operator", replace(state, operator=target.operator)))
    return out


def _cost(kb: Knowledge, state: PlanState, path: PathName) -> tuple[int, int]:
    verdict, _, caveats = _judge(kb, state, path)
    return _SEVERITY[verdict], len(caveats)


@functools.cache
def _assess(kb: Knowledge, state: PlanState) -> Assessment:
    return evaluate_with(kb, state.combination())


def _judge(
    kb: Knowledge, state: PlanState, path: PathName
) -> tuple[Verdict, tuple[IssueFinding, ...], tuple[str, ...]]:
    assessed = _assess(kb, state).path(path)
    return assessed.verdict, assessed.issues, tuple(c.text for c in assessed.caveats)


def _search(kb: Knowledge, start: PlanState, target: PlanState, path: PathName) -> Plan:
    """Dijkstra over the few reachable states.

    A path costs, in this order: the severity of every state it passes (incompatible far above
    depends), how late it moves Spark and the operator (each as soon as it is safe), then the
    caveats of the states it passes.
    """
    order = count()
    zero = (0, 0, 0)
    queue: list[tuple[tuple[int, int, int], int, PlanState]] = [(zero, next(order), start)]
    best: dict[PlanState, tuple[int, int, int]] = {start: zero}
    came: dict[PlanState, tuple[PlanState, Component]] = {}
    while queue:
        cost, _, state = heapq.heappop(queue)
        if state == target:
            break
        if cost > best.get(state, cost):
            continue
        for component, nxt in _moves(state, target):
            severity, caveats = _cost(kb, nxt, path)
            late = (
                0 if component == "kubernetes" else state.kubernetes.minor - start.kubernetes.minor
            )
            new = (cost[0] + severity, cost[1] + late, cost[2] + caveats)
            if nxt not in best or new < best[nxt]:
                best[nxt] = new
                came[nxt] = (state, component)
                heapq.heappush(queue, (new, next(order), nxt))
    chain = _unwind(came, start, target)
    steps = tuple(_step(kb, chain, i, path) for i in range(len(chain) - 1))
    blocked = [s for s in steps if s.verdict is Verdict.INCOMPATIBLE]
    refusal = ""
    if blocked:
        first = blocked[0]
        refusal = (
            f"no order of single steps avoids an incompatible state on the {path.value} path: "
            f"{first.after.describe()} is incompatible ({', '.join(first.issues) or 'see check'})"
        )
    return Plan(path, start, target, steps, possible=not blocked, refusal=refusal)


def _unwind(
    came: dict[PlanState, tuple[PlanState, Component]], start: PlanState, target: PlanState
) -> list[tuple[PlanState, Component | None]]:
    chain: list[tuple[PlanState, Component | None]] = []
    state = target
    while state != start:
        prev, component = came[state]
        chain.append((state, component))
        state = prev
    chain.append((start, None))
    return list(reversed(chain))


def _step(
    kb: Knowledge, chain: list[tuple[PlanState, Component | None]], i: int, path: PathName
) -> Step:
    before, _ = chain[i]
    after, component = chain[i + 1]
    assert component is not None
    verdict, issues, caveats = _judge(kb, after, path)
    avoided = _avoided_by_waiting(kb, chain, i, component, path)
    return Step(
        component=component,
        before=before,
        after=after,
        verdict=verdict,
        why=_why(component, before, after, avoided),
        avoids=tuple(avoided),
        issues=tuple(f.issue.id for f in issues),
        caveats=caveats,
    )


def _avoided_by_waiting(
    kb: Knowledge,
    chain: list[tuple[PlanState, Component | None]],
    i: int,
    component: Component,
    path: PathName,
) -> dict[str, str]:
    """Issues this change would have hit in any earlier state of the plan, with the kb's why."""
    after = chain[i + 1][0]
    chosen = {f.issue.id for s, _ in chain for f in _judge(kb, s, path)[1]}
    found: dict[str, str] = {}
    for earlier, _ in chain[:i]:
        moved = replace(earlier, **{component: getattr(after, component)})
        for finding in _judge(kb, moved, path)[1]:
            if finding.issue.id not in chosen and finding.issue.id not in found:
                why = "; ".join(m.why for m in finding.why) or finding.issue.title
                reasons = [m.why for r in finding.reasons for m in r.why]
                found[finding.issue.id] = (
                    f"at {moved.describe()}: {'; '.join(reasons) if reasons else why}"
                )
    return found


def _why(component: Component, before: PlanState, after: PlanState, avoided: dict[str, str]) -> str:
    if component == "kubernetes":
        text = f"Kubernetes {before.kubernetes} -> {after.kubernetes}: one minor at a time"
    elif component == "spark":
        text = f"Spark {before.spark} -> {after.spark}"
    else:
        old = before.operator.tag if before.operator else "-"
        text = f"operator {old} -> {after.operator.tag if after.operator else '-'}"
    if avoided:
        text += " — not earlier, because " + " | ".join(
            f"{issue} ({why})" for issue, why in avoided.items()
        )
    return text


def _lifted_issues(own: Plan, ours: Plan) -> tuple[str, ...]:
    """Issues that order or block the user's path but never kubespark's."""
    theirs = {i for s in own.steps for i in (*s.avoids, *s.issues)}
    mine = {i for s in ours.steps for i in (*s.avoids, *s.issues)}
    return tuple(sorted(theirs - mine))
