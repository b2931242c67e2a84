#!/usr/bin/env python3
"""Generate ``src/kubespark/emulator/data/protobuf.json.gz``: Kubernetes' protobuf field tables.

Dev-time only. kubectl's typed commands (``kubectl create namespace|serviceaccount|secret|...``)
send ``application/vnd.kubernetes.protobuf`` bodies; to read them the emulator needs, for every
API message, its field numbers, names and types. They come from the ``generated.proto`` files of
``kubernetes/api`` (every group-version, the package's ``GroupName`` from its ``register.go``) and
``kubernetes/apimachinery`` (ObjectMeta, Time, Quantity, IntOrString, runtime.Unknown), read from
git checkouts at the commits the output records. Field numbers never change or get reused, so
the newest files describe every older version's fields too.

Output: ``{"sources": {repo: commit}, "groups": {"apps/v1": package, "v1": ...},
"messages": {"pkg.Name": [[number, name, label, type, value_type, omit_zero], ...]}}`` where
label is ``o`` (optional), ``r`` (repeated) or ``m`` (map; ``type`` is the key, ``value_type``
the value), and ``omit_zero`` is 1 when the Go field is a non-pointer scalar tagged
``omitempty`` (Go writes its zero value on the wire, but JSON leaves it out), from the
package's Go sources (struct field type and ``json``/``protobuf`` tags).

Run: ``.venv/bin/python tools/gen_emulator_protobuf.py --api DIR --apimachinery DIR`` with git
directories of the two repositories (``git clone --bare``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/kubespark/emulator/data/protobuf.json.gz"
_FIELD = re.compile(
    r"^\s*(?:(optional|repeated)\s+([.\w]+)|map<\s*([.\w]+)\s*,\s*([.\w]+)\s*>)\s+(\w+)\s*=\s*(\d+)"
)
_GROUP = re.compile(r'GroupName\s*=\s*"([^"]*)"')
_STRUCT = re.compile(r"^type\s+(\w+)\s+struct\s*{")
_GO_FIELD = re.compile(r'^\s*\w+\s+(\S+)\s+`[^`]*json:"([^"]*)"[^`]*protobuf:"[a-z0-9]+,(\d+),')


def omit_zero_fields(repo: Path, folder: str, package: str) -> set[tuple[str, int]]:
    """(message, field number) of non-pointer fields tagged omitempty in the Go types."""
    out: set[tuple[str, int]] = set()
    for path in git(repo, "ls-tree", "--name-only", "HEAD", f"{folder}/").split():
        if not path.endswith(".go") or path.endswith("_test.go") or "generated" in path:
            continue
        struct = None
        for line in git(repo, "show", f"HEAD:{path}").splitlines():
            start = _STRUCT.match(line)
            if start:
                struct = start.group(1)
                continue
            if line.startswith("}"):
                struct = None
                continue
            field = _GO_FIELD.match(line) if struct else None
            if field is None:
                continue
            go_type, json_tag, number = field.groups()
            plain = not go_type.startswith(("*", "[]", "map["))
            if plain and "omitempty" in json_tag:
                out.add((f"{package}.{struct}", int(number)))
    return out


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def qualify(type_name: str, package: str) -> str:
    if type_name.startswith("."):
        return type_name[1:]
    if type_name in (
        "string",
        "bytes",
        "bool",
        "int32",
        "int64",
        "uint32",
        "uint64",
        "double",
        "float",
        "fixed32",
        "fixed64",
        "sint32",
        "sint64",
    ):
        return type_name
    return f"{package}.{type_name}"


def parse(text: str) -> tuple[str, dict[str, list[list[object]]]]:
    package = re.search(r"^package\s+([\w.]+);", text, re.M)
    assert package is not None
    pkg = package.group(1)
    messages: dict[str, list[list[object]]] = {}
    current: str | None = None
    depth = 0
    for line in text.splitlines():
        stripped = line.split("//", 1)[0].strip()
        if not stripped:
            continue
        start = re.match(r"message\s+(\w+)\s*{", stripped)
        if start and depth == 0:
            current = f"{pkg}.{start.group(1)}"
            messages[current] = []
            depth = 1
            continue
        if current is not None:
            depth += stripped.count("{") - stripped.count("}")
            field = _FIELD.match(stripped)
            if field and depth == 1:
                label, ftype, key, value, name, number = field.groups()
                if label:
                    messages[current].append([int(number), name, label[0], qualify(ftype, pkg), ""])
                else:
                    messages[current].append(
                        [int(number), name, "m", qualify(key, pkg), qualify(value, pkg)]
                    )
            if depth <= 0:
                current, depth = None, 0
    return pkg, messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", type=Path, required=True, help="git dir of kubernetes/api")
    parser.add_argument(
        "--apimachinery", type=Path, required=True, help="git dir of kubernetes/apimachinery"
    )
    args = parser.parse_args()
    out: dict[str, object] = {
        "sources": {
            "github.com/kubernetes/api": git(args.api, "rev-parse", "HEAD").strip(),
            "github.com/kubernetes/apimachinery": git(
                args.apimachinery, "rev-parse", "HEAD"
            ).strip(),
        },
    }
    groups: dict[str, str] = {}
    messages: dict[str, list[list[object]]] = {}
    for repo in (args.api, args.apimachinery):
        for path in git(repo, "ls-tree", "-r", "--name-only", "HEAD").split():
            if not path.endswith("generated.proto") or "testapigroup" in path:
                continue
            package, found = parse(git(repo, "show", f"HEAD:{path}"))
            folder = path.rsplit("/", 1)[0]
            omit = omit_zero_fields(repo, folder, package)
            for name, fields in found.items():
                for field in fields:
                    scalar = "." not in str(field[3]) and field[2] == "o"
                    field.append(1 if scalar and (name, field[0]) in omit else 0)
            messages.update(found)
            if repo == args.api:
                register = git(repo, "show", f"HEAD:{folder}/register.go")
                match = _GROUP.search(register)
                group = match.group(1) if match else ""
                version = folder.rsplit("/", 1)[-1]
                groups[f"{group}/{version}" if group else version] = package
    out["groups"] = dict(sorted(groups.items()))
    out["messages"] = dict(sorted(messages.items()))
    raw = json.dumps(out, separators=(",", ":"), sort_keys=False).encode()
    OUT.write_bytes(gzip.compress(raw, mtime=0))
    print(
        f"{OUT}: {len(messages)} messages, {len(groups)} group-versions, {len(raw):,} bytes "
        "before gzip"
    )


if __name__ == "__main__":
    main()
