#!/usr/bin/env python3
"""Generate the API-surface data set under ``src/kubespark/apisurface/data/``.

Dev-time only: the packages it reads are not runtime dependencies of kubespark.

Sources, downloaded with ``pip download --no-deps`` into a cache directory:

- ``kubernetes-validate`` 1.24.1 (sdist: schemas of Kubernetes 1.10-1.24) and 1.37.0 (wheel:
  1.25-1.37). Of each minor we read ``v<minor>.0-local/_definitions.json``: the OpenAPI
  definitions with ``x-kubernetes-group-version-kind``, list types and keys, patch strategies and
  merge keys, map types, enums and required fields.
- ``lightkube-models`` (the newest build of each minor, e.g. 1.19.6.8): its generated
  ``lightkube/resources/*.py`` give what definitions lack: plural, scope, verbs and subresources.
  They are parsed with ``ast``, never imported.
- ``src/kubespark/apisurface/data/resource_extras.yaml`` (hand-written, with sources): short
  names, categories and the connect subresources (exec, attach, ...) neither package lists.

Output (deterministic for the same inputs):

- ``types.json``: every distinct type definition of every minor, content-addressed: the key is a
  hash of the definition (name included), so a type unchanged across minors is stored once.
- ``versions/<minor>.json``: per minor, type name -> type hash, and the served resources.
- ``manifest.json``: the package versions, their sha256 and the files read for each minor.

Regenerate: ``.venv/bin/python tools/gen_apisurface.py`` (add ``--cache DIR`` to reuse downloads).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# The name tables are shared with the runtime reader of a live server's /openapi/v2.
from kubespark.apisurface.openapi import SCALAR_TYPES, is_opaque

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "src" / "kubespark" / "apisurface" / "data"
FIRST_MINOR = 16

# Which kubernetes-validate release holds which minors (its sdist/wheel layout differs).
KV_RELEASES = (("1.24.1", range(10, 25)), ("1.37.0", range(25, 38)))

# lightkube verbs -> discovery verbs; "global_*" duplicate list/watch across namespaces.
VERB_MAP = {"post": "create", "put": "update", "global_list": None, "global_watch": None}


# --- downloading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    path: Path

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def pip_download(name: str, version: str, cache: Path) -> Package:
    """The package file, downloaded once into the cache with pip's ordinary client."""
    stem = name.replace("-", "_")
    found = [p for p in cache.iterdir() if _is_dist(p, name, stem, version)]
    if not found:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache)]
        subprocess.run([*cmd, f"{name}=={version}"], check=True)
        found = [p for p in cache.iterdir() if _is_dist(p, name, stem, version)]
    if len(found) != 1:
        raise SystemExit(f"expected one file for {name}=={version} in {cache}, found {found}")
    return Package(name, version, found[0])


def _is_dist(path: Path, name: str, stem: str, version: str) -> bool:
    base = path.name
    return any(base.startswith(f"{n}-{version}") for n in (name, stem)) and (
        base.endswith((".whl", ".tar.gz"))
    )


def read_member(package: Package, suffix: str) -> tuple[str, bytes]:
    """The one archive member whose path ends with ``suffix``: (member path, bytes)."""
    if package.path.name.endswith(".whl"):
        with zipfile.ZipFile(package.path) as zf:
            names = [n for n in zf.namelist() if n.endswith(suffix)]
            _one(names, package, suffix)
            return names[0], zf.read(names[0])
    with tarfile.open(package.path) as tf:
        members = [m for m in tf.getmembers() if m.name.endswith(suffix)]
        _one([m.name for m in members], package, suffix)
        data = tf.extractfile(members[0])
        assert data is not None
        return members[0].name, data.read()


def _one(names: list[str], package: Package, suffix: str) -> None:
    if len(names) != 1:
        raise SystemExit(f"{package.path.name}: expected one member *{suffix}, found {names}")


def wheel_modules(package: Package, folder: str) -> Iterator[tuple[str, str]]:
    """(member path, source) of every module in a wheel folder, sorted by path."""
    with zipfile.ZipFile(package.path) as zf:
        for name in sorted(zf.namelist()):
            if name.startswith(folder) and name.endswith(".py") and "__init__" not in name:
                yield name, zf.read(name).decode()


def lightkube_models_version(minor: int, cache: Path) -> str:
    """The newest lightkube-models build of a minor, as ``pip index versions`` lists them."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "lightkube-models"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    listed = out.split("Available versions:", 1)[-1]
    versions: list[str] = re.findall(r"\b(1\.\d+\.\d+\.\d+)\b", listed)
    ours = [v for v in versions if int(v.split(".")[1]) == minor]
    if not ours:
        raise SystemExit(f"no lightkube-models release for 1.{minor}")
    return max(ours, key=lambda v: tuple(int(p) for p in v.split(".")))


# --- definitions -> compact types ---------------------------------------------------------------


def non_null(value: Any) -> Any:
    """JSON-schema ``type`` without its ``null`` alternative (1.25+ marks optional fields so)."""
    if isinstance(value, list):
        rest = [v for v in value if v != "null"]
        return rest[0] if len(rest) == 1 else rest
    return value


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def compact_schema(prop: dict[str, Any], defs: dict[str, Any]) -> Any:
    """One property's schema in the data set's compact form (see docs/apisurface.md)."""
    extras = _extras(prop)
    if "$ref" in prop:
        name = ref_name(prop["$ref"])
        if name in SCALAR_TYPES:
            kind: Any = SCALAR_TYPES[name]
        elif is_opaque(name):
            kind = "any"
        else:
            kind = "#" + name
        return {"k": kind, **extras} if extras else kind
    typ = non_null(prop.get("type"))
    if typ == "array":
        item = prop.get("items") or {}
        return {"k": "array", "i": compact_schema(item, defs), **extras}
    if typ == "object" or (typ is None and "additionalProperties" in prop):
        add = prop.get("additionalProperties")
        if isinstance(add, dict) and add:
            return {"k": "map", "i": compact_schema(add, defs), **extras}
        return {"k": "any", **extras} if extras else "any"
    if typ in ("string", "integer", "number", "boolean"):
        kind = f"{typ}:{prop['format']}" if "format" in prop else typ
        return {"k": kind, **extras} if extras else kind
    return {"k": "any", **extras} if extras else "any"


def _extras(prop: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "x-kubernetes-list-type" in prop:
        out["lt"] = prop["x-kubernetes-list-type"]
    if "x-kubernetes-list-map-keys" in prop:
        out["lk"] = list(prop["x-kubernetes-list-map-keys"])
    if "x-kubernetes-patch-strategy" in prop:
        out["ps"] = prop["x-kubernetes-patch-strategy"]
    if "x-kubernetes-patch-merge-key" in prop:
        out["pk"] = prop["x-kubernetes-patch-merge-key"]
    if "x-kubernetes-map-type" in prop:
        out["mt"] = prop["x-kubernetes-map-type"]
    if prop.get("enum"):
        out["e"] = [e for e in prop["enum"] if e is not None]
    return out


def compact_type(name: str, d: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any] | None:
    """A definition as a compact type, or None when it is a scalar or opaque (inlined at use)."""
    if name in SCALAR_TYPES or is_opaque(name):
        return None
    if "properties" not in d and non_null(d.get("type")) not in ("object", None):
        raise SystemExit(f"{name}: a non-object definition the generator does not know")
    gvks = [
        [g["group"], g["version"], g["kind"]] for g in d.get("x-kubernetes-group-version-kind", [])
    ]
    props: dict[str, Any] = {}
    for pname, prop in sorted(d.get("properties", {}).items()):
        schema = compact_schema(prop, defs)
        if gvks and pname in ("apiVersion", "kind") and isinstance(schema, dict):
            # The JSON-schema conversion (1.25+) pins apiVersion/kind with an enum; Kubernetes'
            # own OpenAPI has none there, and the GVK list already says it.
            schema = schema["k"] if set(schema) == {"k", "e"} else schema
        props[pname] = schema
    out: dict[str, Any] = {"p": props}
    if d.get("required"):
        out["r"] = sorted(d["required"])
    if gvks:
        out["g"] = sorted(gvks)
    if d.get("x-kubernetes-map-type"):
        out["mt"] = d["x-kubernetes-map-type"]
    if d.get("x-kubernetes-preserve-unknown-fields"):
        out["u"] = True
    return out


def type_hash(name: str, compact: dict[str, Any]) -> str:
    canonical = json.dumps([name, compact], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def definitions_of(raw: bytes) -> dict[str, Any]:
    doc = json.loads(raw)
    defs = doc.get("definitions") or doc.get("$defs")
    if not isinstance(defs, dict):
        raise SystemExit("a _definitions.json without definitions")
    return defs


# --- lightkube resources ------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiInfo:
    cls: str
    base: str
    gvk: tuple[str, str, str]
    parent: tuple[str, str, str] | None
    plural: str
    verbs: tuple[str, ...]
    action: str | None


def parse_api_infos(source: str) -> Iterator[ApiInfo]:
    """Every ``_api_info = res.ApiInfo(...)`` in a lightkube resources module."""
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef) or not node.bases:
            continue
        base = node.bases[0]
        base_name = base.attr if isinstance(base, ast.Attribute) else ""
        for stmt in node.body:
            if (
                isinstance(stmt, ast.Assign)
                and isinstance(stmt.targets[0], ast.Name)
                and stmt.targets[0].id == "_api_info"
                and isinstance(stmt.value, ast.Call)
            ):
                kw = {k.arg: k.value for k in stmt.value.keywords if k.arg}
                yield ApiInfo(
                    cls=node.name,
                    base=base_name,
                    gvk=_resource_def(kw["resource"]),
                    parent=_resource_def(kw["parent"]) if "parent" in kw else None,
                    plural=ast.literal_eval(kw["plural"]),
                    verbs=tuple(ast.literal_eval(kw["verbs"])) if "verbs" in kw else (),
                    action=ast.literal_eval(kw["action"]) if "action" in kw else None,
                )


def _resource_def(node: ast.expr) -> tuple[str, str, str]:
    assert isinstance(node, ast.Call)
    group, version, kind = (ast.literal_eval(a) for a in node.args)
    return (group, version, kind)


def discovery_verbs(verbs: Iterable[str]) -> list[str]:
    out = {VERB_MAP.get(v, v) for v in verbs}
    return sorted(v for v in out if v)


def version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes' version order: GA before beta before alpha, higher numbers first."""
    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not m:
        return (3, 0, 0)
    stability = {"": 0, "beta": 1, "alpha": 2}[m[2] or ""]
    return (stability, -int(m[1]), -int(m[3] or 0))


def build_resources(
    infos: list[ApiInfo], gvk_types: dict[tuple[str, str, str], str], extras: dict[str, Any]
) -> list[dict[str, Any]]:
    """Served resources of one minor, in discovery order, with subresources attached."""
    tops = [i for i in infos if i.parent is None]
    subs = [i for i in infos if i.parent is not None]
    out = []
    for info in tops:
        g, v, k = info.gvk
        gv = f"{g}/{v}" if g else v
        extra = extras.get(f"{g or 'core'}/{info.plural}", {})
        details: list[dict[str, Any]] = [
            {"n": s.action, "g": list(s.gvk), "v": discovery_verbs(s.verbs)}
            for s in subs
            if s.parent == info.gvk and s.plural == info.plural and s.action
        ]
        for c in extra.get("connect", []):
            details.append({"n": c["name"], "g": ["", "v1", c["kind"]], "v": sorted(c["verbs"])})
        details.sort(key=lambda d: d["n"])
        entry: dict[str, Any] = {
            "g": [g, v, k],
            "p": info.plural,
            "ns": info.base.startswith("Namespaced"),
            "v": discovery_verbs(info.verbs),
            "t": gvk_types.get(info.gvk, ""),
        }
        if details:
            entry["s"] = details
        if extra.get("shortNames"):
            entry["sn"] = list(extra["shortNames"])
        if extra.get("categories"):
            entry["c"] = list(extra["categories"])
        if not entry["t"]:
            print(f"  note: {gv} {k} has no type in the definitions", file=sys.stderr)
        out.append(entry)
    out.sort(key=lambda r: (r["g"][0], version_priority(r["g"][1]), r["g"][2], r["p"]))
    return out


# --- default enablement -------------------------------------------------------------------------


def load_enablement() -> list[dict[str, Any]]:
    doc = yaml.safe_load((DATA / "enablement.yaml").read_text())
    return list(doc["rules"])


def stability(version: str) -> str:
    return "alpha" if "alpha" in version else "beta" if "beta" in version else "ga"


def rule_matches(rule: dict[str, Any], entry: dict[str, Any], introduced: int) -> bool:
    g, v, _ = entry["g"]
    gv = f"{g}/{v}" if g else v
    if "group_versions" in rule and gv not in rule["group_versions"]:
        return False
    if "resources" in rule and f"{g}/{v}/{entry['p']}" not in rule["resources"]:
        return False
    if "stability" in rule and stability(v) != rule["stability"]:
        return False
    return not (
        "introduced_from" in rule and introduced < int(rule["introduced_from"].split(".")[1])
    )


def mark_disabled(per_minor: dict[int, list[dict[str, Any]]], rules: list[dict[str, Any]]) -> None:
    """Mark ``"off": <rule index>`` on resources a default server does not serve."""
    first: dict[tuple[str, ...], int] = {}
    for minor in sorted(per_minor):
        for entry in per_minor[minor]:
            first.setdefault(tuple(entry["g"]), minor)
    for entries in per_minor.values():
        for entry in entries:
            for n, rule in enumerate(rules):
                if rule_matches(rule, entry, first[tuple(entry["g"])]):
                    if not rule["enabled"]:
                        entry["off"] = n
                    break


# --- main ---------------------------------------------------------------------------------------


def kv_package_for(minor: int, packages: dict[str, Package]) -> Package:
    for release, minors in KV_RELEASES:
        if minor in minors:
            return packages[release]
    raise SystemExit(f"no kubernetes-validate release holds 1.{minor}")


def newest_minor(kv_newest: Package) -> int:
    """The newest minor whose schemas the newest kubernetes-validate release carries."""
    with zipfile.ZipFile(kv_newest.path) as zf:
        minors = {
            int(m[1])
            for n in zf.namelist()
            if (m := re.search(r"/v1\.(\d+)\.0-local/_definitions\.json$", n))
        }
    return max(minors)


def load_extras() -> dict[str, Any]:
    doc = yaml.safe_load((DATA / "resource_extras.yaml").read_text())
    return {f"{r['group'] or 'core'}/{r['plural']}": r for r in doc["resources"]}


def pinned_lightkube(minor: int) -> str:
    """The lightkube-models version the committed manifest records for a minor."""
    manifest = json.loads((DATA / "manifest.json").read_text())
    package = manifest["minors"][f"1.{minor}"]["resources"]["package"]
    return str(package.split("==", 1)[1])


def generate(
    cache: Path, out: Path = DATA, minors: set[int] | None = None, pinned: bool = False
) -> None:
    """Write the data set into ``out``; ``minors`` limits it (for checks), ``pinned`` reuses the
    committed manifest's lightkube-models versions instead of asking the index for the newest."""
    cache.mkdir(parents=True, exist_ok=True)
    kv = {rel: pip_download("kubernetes-validate", rel, cache) for rel, _ in KV_RELEASES}
    last = newest_minor(kv[KV_RELEASES[-1][0]])
    extras = load_extras()
    all_types: dict[str, list[Any]] = {}
    manifest: dict[str, Any] = {
        "generator": "tools/gen_apisurface.py",
        "packages": [
            {"name": p.name, "version": p.version, "file": p.path.name, "sha256": p.sha256}
            for p in kv.values()
        ],
        "extras": ["resource_extras.yaml", "enablement.yaml"],
        "minors": {},
    }
    (out / "versions").mkdir(parents=True, exist_ok=True)
    indexes: dict[int, dict[str, str]] = {}
    minor_sources: dict[int, dict[str, Any]] = {}
    per_minor: dict[int, list[dict[str, Any]]] = {}
    # Every minor is read even when only some are written: enablement rules need to know in
    # which minor a resource first appeared.
    for minor in range(FIRST_MINOR, last + 1):
        kv_pkg = kv_package_for(minor, kv)
        member, raw = read_member(kv_pkg, f"/v1.{minor}.0-local/_definitions.json")
        defs = definitions_of(raw)
        index: dict[str, str] = {}
        gvk_types: dict[tuple[str, str, str], str] = {}
        for name in sorted(defs):
            compact = compact_type(name, defs[name], defs)
            if compact is None:
                continue
            h = type_hash(name, compact)
            if h in all_types and all_types[h] != [name, compact]:
                raise SystemExit(f"hash collision on {h}")
            all_types[h] = [name, compact]
            index[name] = h
            for g in compact.get("g", []):
                gvk_types.setdefault((g[0], g[1], g[2]), name)
        lk_version = pinned_lightkube(minor) if pinned else lightkube_models_version(minor, cache)
        lk = pip_download("lightkube-models", lk_version, cache)
        infos = [
            i for _, src in wheel_modules(lk, "lightkube/resources/") for i in parse_api_infos(src)
        ]
        resources = build_resources(infos, gvk_types, extras)
        print(f"1.{minor}: {len(index)} types, {len(resources)} resources", file=sys.stderr)
        indexes[minor], per_minor[minor] = index, resources
        minor_sources[minor] = {
            "definitions": {"package": f"kubernetes-validate=={kv_pkg.version}", "file": member},
            "resources": {
                "package": f"lightkube-models=={lk_version}",
                "file": lk.path.name,
                "sha256": lk.sha256,
                "files": "lightkube/resources/*.py",
            },
        }
    mark_disabled(per_minor, load_enablement())
    written: set[str] = set()
    for minor, index in indexes.items():
        if minors is not None and minor not in minors:
            continue
        doc = {"version": f"1.{minor}", "types": index, "resources": per_minor[minor]}
        _write_json(out / "versions" / f"1.{minor}.json", doc)
        written |= set(index.values())
        manifest["minors"][f"1.{minor}"] = minor_sources[minor]
    all_types = {h: v for h, v in all_types.items() if h in written}
    _write_json(out / "types.json", dict(sorted(all_types.items())))
    _write_json(out / "manifest.json", manifest, indent=1)
    print(f"{len(all_types)} distinct types over 1.{FIRST_MINOR}-1.{last}", file=sys.stderr)


def _write_json(path: Path, doc: Any, indent: int | None = None) -> None:
    buf = io.StringIO()
    if indent is None:
        # One entry per line: compact to load, yet a regeneration diffs line by line.
        if isinstance(doc, dict) and all(isinstance(k, str) for k in doc):
            buf.write("{\n")
            items = list(doc.items())
            for n, (k, v) in enumerate(items):
                sep = "," if n < len(items) - 1 else ""
                buf.write(f"{json.dumps(k)}:{json.dumps(v, separators=(',', ':'))}{sep}\n")
            buf.write("}\n")
        else:
            buf.write(json.dumps(doc, separators=(",", ":")) + "\n")
    else:
        buf.write(json.dumps(doc, indent=indent) + "\n")
    path.write_text(buf.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=REPO / ".cache" / "gen_apisurface")
    parser.add_argument("--out", type=Path, default=DATA, help="where to write (default: data/)")
    parser.add_argument("--minors", help="only these minors, e.g. 19,20 (for checks)")
    parser.add_argument(
        "--pinned",
        action="store_true",
        help="use the lightkube-models versions the committed manifest records",
    )
    args = parser.parse_args()
    only = {int(m.split(".")[-1]) for m in args.minors.split(",")} if args.minors else None
    generate(args.cache, args.out, only, args.pinned)


if __name__ == "__main__":
    main()
