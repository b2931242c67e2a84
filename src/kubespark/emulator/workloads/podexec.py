"""Inside a pod's own mount and UTS namespaces: lay out its mounts, name it, exec its command.

Owns the step between ``unshare --mount --uts`` and the container's first process: bind each
volume directory onto its mount path (read-only where the pod says so), set the host name, enter
the working directory and ``exec`` the command with the container's environment. A mount path
whose directory does not exist on this machine is made by *shadowing* its deepest existing
ancestor: that directory's entries are re-bound onto a private tmpfs laid over it, so the host's
content stays visible and nothing outside the namespace changes. It must not talk to the API
server; it reads one JSON plan (``python -m kubespark.emulator.workloads.podexec PLAN``).

It also ties the pod's processes to the kubelet: the container's first process gets
``PR_SET_PDEATHSIG`` (SIGKILL when the kubelet dies, kept across ``exec``), and a small guard
process kills the pod's whole process group once that first process is gone, as a container
runtime ends what is left in a container whose main process exited. So a killed emulator leaves
no JVM (nor the Python workers a JVM started) behind.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["main"]

_PR_SET_PDEATHSIG = 1  # prctl(2), linux/prctl.h


def _die_with_parent(sig: int) -> None:
    """Have the kernel send ``sig`` to this process when the thread that started it ends."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def _tie_to_kubelet(kubelet_pid: int) -> None:
    """SIGKILL when the kubelet dies (inherited by the exec'd command, not by its children)."""
    _die_with_parent(signal.SIGKILL)
    if os.getppid() != kubelet_pid:  # the kubelet died before the line above: nothing to serve
        os.killpg(0, signal.SIGKILL)


def _guard_group() -> None:
    """Fork a guard that kills the process group when this process (soon the command) ends.

    The guard ignores the kubelet's SIGTERM to the group (the command decides what to do with
    it) and waits for SIGUSR1, its parent-death signal; killing the group ends the command's
    children too, which carry no parent-death signal of their own.
    """
    main = os.getpid()
    if os.fork() != 0:
        return
    try:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # the log pipe must close when the command's processes end
            os.dup2(null, fd)
        os.closerange(3, 1 << 16)
        _die_with_parent(signal.SIGUSR1)
        if os.getppid() == main:
            signal.sigwait({signal.SIGUSR1})
    finally:
        os.killpg(0, signal.SIGKILL)
        os._exit(0)


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


def _shadow(directory: Path, stage: Path) -> None:
    """Lay a tmpfs over ``directory`` that shows its previous entries, so new ones can be made."""
    stage.mkdir(parents=True, exist_ok=True)
    _mount("--rbind", str(directory), str(stage))
    _mount("-t", "tmpfs", "-o", "mode=755", "tmpfs", str(directory))
    for entry in stage.iterdir():
        target = directory / entry.name
        # mount(8) itself may have made an entry meanwhile (/run/mount for its utab): reuse it.
        if entry.is_symlink():
            if not target.is_symlink():
                target.symlink_to(entry.readlink())
        elif entry.is_dir():
            target.mkdir(exist_ok=True)
            _mount("--rbind", str(entry), str(target))
        else:
            target.touch()
            _mount("--bind", str(entry), str(target))


class _Layout:
    """Mount points made so far; which directories are our own tmpfs (writable)."""

    def __init__(self, stage: Path) -> None:
        self.stage = stage
        self.shadowed: set[Path] = set()

    def mountpoint(self, path: Path, *, is_dir: bool) -> None:
        if path.exists():
            return
        ancestor = path.parent
        while not ancestor.exists():
            ancestor = ancestor.parent
        if ancestor == Path("/"):
            raise SystemExit(
                f"mount path {path}: its top directory does not exist on this machine and the "
                "process kubelet does not cover / itself; mount under an existing directory "
                "(such as /opt, /mnt, /tmp, /var)"
            )
        if not any(ancestor == s or s in ancestor.parents for s in self.shadowed):
            _shadow(ancestor, self.stage / str(len(self.shadowed)))
            self.shadowed.add(ancestor)
        if is_dir:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()


def _lay_out(plan: dict[str, Any]) -> _Layout:
    layout = _Layout(Path(plan["stage"]))
    for mount in sorted(plan["mounts"], key=lambda m: m["target"].count("/")):
        source = Path(mount["source"])
        target = Path(os.path.realpath(mount["target"]))
        layout.mountpoint(target, is_dir=source.is_dir())
        _mount("--bind", str(source), str(target))
        if mount.get("read_only"):
            _mount("-o", "remount,bind,ro", str(target))
    return layout


def main(argv: list[str]) -> None:
    plan = json.loads(Path(argv[1]).read_text())
    _tie_to_kubelet(int(plan["kubelet_pid"]))
    try:
        layout = _lay_out(plan)
        workdir = Path(plan["workdir"])
        layout.mountpoint(workdir, is_dir=True)
    except subprocess.CalledProcessError as err:
        raise SystemExit(f"mounting the pod's volumes failed: {err.stderr.strip()}") from None
    socket.sethostname(plan["hostname"])
    os.chdir(workdir)
    command = plan["command"]
    _guard_group()
    try:
        os.execvpe(command[0], command, plan["env"])
    except OSError as err:
        # A real runtime fails the container the same way: StartError, exit code 128.
        sys.stderr.write(f'exec: "{command[0]}": {err.strerror}\n')
        raise SystemExit(128) from None


if __name__ == "__main__":
    main(sys.argv)
