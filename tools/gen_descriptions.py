#!/usr/bin/env python3
"""Generate ``src/kubespark/apisurface/data/descriptions.json.gz``: field descriptions per minor.

Dev-time only. Reads the same ``kubernetes-validate`` schemas as ``tools/gen_apisurface.py``
(``v<minor>.0-local/_definitions.json`` of each minor the API surface holds) and keeps what the
surface drops to stay small: the ``description`` of every type and of every property, which
``kubectl explain`` prints. Kept apart from the surface and loaded only when an OpenAPI document
is built, so nothing else pays for it.

Output (deterministic): ``{"packages": {...}, "texts": [...], "types": {hash: [type text index
or -1, {property: text index}]}, "minors": {"1.29": {type name: hash}}}``; texts and types are
shared by every minor that has them unchanged.

Regenerate: ``.venv/bin/python tools/gen_descriptions.py --cache DIR``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_apisurface import (  # the sibling tool's downloading and reading
    DATA,
    KV_RELEASES,
    definitions_of,
    kv_package_for,
    pip_download,
    read_member,
)

OUT = DATA / "descriptions.json.gz"


def _minors() -> list[int]:
    manifest = json.loads((DATA / "manifest.json").read_text())
    return sorted(int(m.split(".")[1]) for m in manifest["minors"])


def generate(cache: Path, out: Path = OUT) -> None:
    kv = {rel: pip_download("kubernetes-validate", rel, cache) for rel, _ in KV_RELEASES}
    texts: dict[str, int] = {}
    types: dict[str, list[Any]] = {}
    minors: dict[str, dict[str, str]] = {}

    def text(value: str) -> int:
        return texts.setdefault(value, len(texts))

    for minor in _minors():
        _, raw = read_member(kv_package_for(minor, kv), f"/v1.{minor}.0-local/_definitions.json")
        index: dict[str, str] = {}
        for name, definition in sorted(definitions_of(raw).items()):
            own = definition.get("description")
            props = {
                prop: text(str(schema["description"]))
                for prop, schema in sorted((definition.get("properties") or {}).items())
                if isinstance(schema, dict) and schema.get("description")
            }
            if not own and not props:
                continue
            entry = [text(str(own)) if own else -1, props]
            key = hashlib.sha256(json.dumps([name, own, props]).encode()).hexdigest()[:16]
            types.setdefault(key, entry)
            index[name] = key
        minors[f"1.{minor}"] = index
        print(f"1.{minor}: {len(index)} described types", file=sys.stderr)
    doc = {
        "packages": {p.path.name: p.sha256 for p in kv.values()},
        "texts": list(texts),
        "types": types,
        "minors": minors,
    }
    body = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    out.write_bytes(gzip.compress(body, compresslevel=9, mtime=0))
    print(f"{out}: {out.stat().st_size} bytes ({len(body)} uncompressed)", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True, help="download cache directory")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    generate(args.cache)


if __name__ == "__main__":
    main()
