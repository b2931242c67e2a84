"""A pod's volumes as real directories, and where its containers see them.

Owns writing ConfigMap and Secret volumes (``items``, ``defaultMode`` and per-item ``mode``),
projected volumes (ConfigMaps, Secrets, the service-account token), emptyDir and hostPath into a
pod's directory, the service-account files a real cluster's admission would mount, and the list of
binds (``subPath`` and ``readOnly`` included) a container's mount namespace gets. It reads objects
through a lookup and writes only below the pod's directory.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kubespark.emulator.apiserver.objects import Obj
from kubespark.emulator.workloads.sparkimage import Lookup

__all__ = ["SERVICE_ACCOUNT_DIR", "Bind", "UnsupportedVolume", "container_binds", "write_volumes"]

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


class UnsupportedVolume(Exception):
    """A volume source the process kubelet cannot give a process."""


@dataclass(frozen=True)
class Bind:
    source: Path
    target: str
    read_only: bool


def _files(obj: Obj | None, secret: bool) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for key, value in ((obj or {}).get("data") or {}).items():
        out[key] = base64.b64decode(value) if secret else str(value).encode()
    for key, value in ((obj or {}).get("binaryData") or {}).items():
        out[key] = base64.b64decode(value)
    return out


def _write_keys(directory: Path, files: dict[str, bytes], source: Obj, mode: int) -> None:
    items = source.get("items")
    chosen = (
        [(i.get("key", ""), i.get("path", i.get("key", "")), i.get("mode")) for i in items]
        if items
        else [(k, k, None) for k in files]
    )
    for key, path, item_mode in chosen:
        if key not in files:
            continue
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[key])
        target.chmod(int(item_mode) if item_mode is not None else mode)


_KEYED = (("configMap", "configmaps", False), ("secret", "secrets", True))


def _projected(directory: Path, volume: Obj, lookup: Lookup, token: str) -> None:
    mode = int(volume.get("defaultMode", 0o644))
    for source in volume.get("sources") or []:
        if "serviceAccountToken" in source:
            path = directory / source["serviceAccountToken"].get("path", "token")
            path.write_text(token)
            path.chmod(mode)
        for kind, plural, secret in (
            ("configMap", "configmaps", False),
            ("secret", "secrets", True),
        ):
            if kind in source:
                ref = source[kind]
                files = _files(lookup(plural, ref.get("name", "")), secret)
                _write_keys(directory, files, ref, mode)


def _write_volume(directory: Path, volume: Obj, lookup: Lookup, token: str) -> Path:
    name = volume.get("name", "")
    if "hostPath" in volume:
        return Path(volume["hostPath"].get("path", "/"))
    directory.mkdir(parents=True, exist_ok=True)
    if "emptyDir" in volume:
        return directory
    for kind, plural, ref_name, secret in (
        ("configMap", "configmaps", "name", False),
        ("secret", "secrets", "secretName", True),
    ):
        if kind in volume:
            ref = volume[kind]
            files = _files(lookup(plural, ref.get(ref_name, "")), secret)
            _write_keys(directory, files, ref, int(ref.get("defaultMode", 0o644)))
            return directory
    if "projected" in volume:
        _projected(directory, volume["projected"], lookup, token)
        return directory
    kinds = sorted(k for k in volume if k != "name")
    raise UnsupportedVolume(
        f'volume "{name}" ({", ".join(kinds)}) has no local equivalent in the process kubelet; '
        "use configMap, secret, projected, emptyDir or hostPath volumes"
    )


def write_volumes(pod_dir: Path, pod: Obj, lookup: Lookup, token: str) -> dict[str, Path]:
    """Write every volume of ``pod`` below ``pod_dir``; the directory each one is."""
    volumes = (pod.get("spec") or {}).get("volumes") or []
    return {
        v.get("name", ""): _write_volume(pod_dir / "volumes" / v.get("name", ""), v, lookup, token)
        for v in volumes
    }


def service_account_dir(pod_dir: Path, namespace: str, token: str, ca_pem: bytes | None) -> Path:
    """The token, namespace and CA a cluster's admission mounts into every pod by default."""
    directory = pod_dir / "serviceaccount"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "token").write_text(token)
    (directory / "namespace").write_text(namespace)
    if ca_pem is not None:
        (directory / "ca.crt").write_bytes(ca_pem)
    return directory


def container_binds(
    container: Obj, volumes: dict[str, Path], service_account: Path | None
) -> Iterator[Bind]:
    """The binds a container's mounts make, ConfigMaps and Secrets read-only as in clusters."""
    targets = set()
    for mount in container.get("volumeMounts") or []:
        name = mount.get("name", "")
        if name not in volumes:
            continue
        source = volumes[name]
        if mount.get("subPath"):
            source = source / mount["subPath"]
            if not source.exists():
                source.mkdir(parents=True)  # a kubelet creates a missing subPath directory
        target = str(mount.get("mountPath", ""))
        targets.add(target.rstrip("/"))
        yield Bind(source, target, bool(mount.get("readOnly")))
    if service_account is not None and SERVICE_ACCOUNT_DIR not in targets:
        yield Bind(service_account, SERVICE_ACCOUNT_DIR, True)
