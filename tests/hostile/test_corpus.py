"""Every hostile input of the corpus, through every command that reads files: refused safely.

Safely means: the exit code is 0, 1 or 2 (never 3, an internal error), nothing prints a Python
traceback, a refusal (exit 2) is one ``error:`` message naming the input, and no credential the
input carries is printed. Commands run in-process through the CLI's own entry (``main``), which
is what the ``kubespark`` script runs. ``python -m tests.hostile.test_corpus`` prints the tried /
refused-safely table kept in docs/security.md.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kubespark.cli.app import main
from kubespark.emulator.server import EmulatorOptions, EmulatorThread
from kubespark.emulator.testing import RunningEmulator

CORPUS = Path(__file__).parent / "corpus"
TOKEN = "kubespark-test-token-0123456789"
SHAPELESS = "q7Zk2pXw9RmT4vLb8NcY3hJd"  # make_corpus.SHAPELESS: no shape to redact it by
SECRETS = (TOKEN, SHAPELESS, "hunter2", "s3cr3t", "eyJhbGciOiJSUzI1NiJ9")


pytestmark = pytest.mark.fuzz


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    def problems(self, name: str, *, named: bool = True) -> list[str]:
        found = []
        if self.code not in (0, 1, 2):
            found.append(f"exit {self.code}")
        if "Traceback" in self.out + self.err:
            found.append("traceback")
        said = self.out + self.err
        # A refusal names the input (file:line) or, for a value the loader judged, its field.
        if named and self.code == 2 and not (name in said or "spec." in said or "spark." in said):
            found.append(f"refusal does not name the input: {said[:200]!r}")
        found.extend(f"printed {s!r}" for s in SECRETS if s in self.out + self.err)
        return found


def run(*args: str) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    stdin = sys.stdin
    try:
        sys.stdin = io.TextIOWrapper(io.BytesIO(b""))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(list(args))
    except SystemExit as exit:
        code = exit.code
    finally:
        sys.stdin = stdin
    return Outcome(code if isinstance(code, int) else 1, out.getvalue(), err.getvalue())


def files(prefix: str = "", *, exclude: str = "kubeconfig-") -> list[Path]:
    return [
        p
        for p in sorted(CORPUS.iterdir())
        if p.name.startswith(prefix) and not p.name.startswith(exclude)
    ]


COMMANDS = {
    "validate": lambda p: ("validate", "-f", str(p), "--k8s", "1.19"),
    "submit": lambda p: ("submit", str(p), "--dry-run", "--k8s", "1.19"),
    "check": lambda p: ("check", "-f", str(p), "--k8s", "1.29"),
    "doctor": lambda p: ("doctor", str(p)),
}


def tally() -> Iterator[tuple[str, int, int, list[str]]]:
    """Per command: inputs tried, refused safely, and what went wrong for the others."""
    for command, argv in COMMANDS.items():
        tried, safe, wrong = 0, 0, []
        for path in files():
            tried += 1
            problems = run(*argv(path)).problems(path.name)
            safe += not problems
            wrong.extend(f"{path.name}: {p}" for p in problems)
        yield command, tried, safe, wrong
    tried, safe, wrong = 0, 0, []
    for path in files("kubeconfig-", exclude="\0"):
        tried += 1
        outcome = run("submit", str(_valid_app()), "--kubeconfig", str(path))
        problems = outcome.problems(path.name, named=False)
        safe += not problems
        wrong.extend(f"{path.name}: {p}" for p in problems)
    yield "submit --kubeconfig", tried, safe, wrong


def _valid_app() -> Path:
    return CORPUS / "app-sparkconf-secret.yaml"


def test_the_corpus_has_at_least_200_inputs() -> None:
    assert len(list(CORPUS.iterdir())) >= 200


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_input_is_refused_safely(command: str) -> None:
    argv = COMMANDS[command]
    wrong = [f"{p.name}: {problem}" for p in files() for problem in run(*argv(p)).problems(p.name)]
    assert wrong == []


# lightkube leaves the temporary file it copies client-key-data into unclosed when the key does
# not load (kubeconfig-key-data-garbage); the refusal itself is what this test judges.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_hostile_kubeconfigs_are_refused_without_printing_credentials() -> None:
    wrong = []
    for path in files("kubeconfig-", exclude="\0"):
        outcome = run("submit", str(_valid_app()), "--kubeconfig", str(path))
        wrong.extend(f"{path.name}: {p}" for p in outcome.problems(path.name, named=False))
        assert outcome.code == 2, (path.name, outcome)
    assert wrong == []


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("alias-bomb-9x9.yaml", "aliases expand to more than"),
        ("deep-flow-seq-5000.yaml", "nested deeper than 200 levels"),
        ("int-5001.yaml", "an integer of 5,001 digits"),
        ("enc-invalid-utf8.yaml", "not UTF-8 text"),
    ],
)
def test_a_refusal_is_one_message_with_file_line_and_limit(name: str, limit: str) -> None:
    for command in ("validate", "submit", "check"):
        outcome = run(*COMMANDS[command](CORPUS / name))
        assert outcome.code == 2, (command, outcome)
        said = outcome.out + outcome.err  # validate reports on stdout, beside its summary
        assert f"{name}:" in said and limit in said, (command, said)


def test_doctor_reads_hostile_documents_as_text_and_redacts() -> None:
    outcome = run("doctor", str(CORPUS / "log-secrets.log"), "-o", "json")
    assert outcome.code == 1  # the failure is still diagnosed
    assert "Unauthorized" in outcome.out
    assert "<redacted>" in outcome.out
    for secret in SECRETS:
        assert secret not in outcome.out


# ---- the emulator: every patch and manifest of the corpus over HTTP -------------------------

_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p", "labels": {"app": "x"}, "finalizers": ["a.io/b"]},
    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
}
_COLLECTIONS = {
    "Pod": "/api/v1/namespaces/default/pods",
    "ConfigMap": "/api/v1/namespaces/default/configmaps",
    "Service": "/api/v1/namespaces/default/services",
    "Namespace": "/api/v1/namespaces",
    "Role": "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
    "Deployment": "/apis/apps/v1/namespaces/default/deployments",
}


def _answer_problems(resp: httpx.Response) -> list[str]:
    """What is wrong with an answer: a crash, or an error that is not the API server's Status."""
    if resp.status_code < 400:
        return []
    found = []
    try:
        status = resp.json()
    except ValueError:
        return [f"{resp.status_code} without a JSON Status"]
    if status.get("kind") != "Status" or status.get("code") != resp.status_code:
        found.append(f"{resp.status_code} answered with {str(status)[:120]}")
    message = str(status.get("message", ""))
    if message.startswith("Internal error occurred") or "Traceback" in message:
        found.append(f"the emulator failed: {message[:200]}")
    return found


def emulator_tally(url: str) -> Iterator[tuple[str, int, int, list[str]]]:
    """PATCH every ``smp-*`` file onto a Pod; POST every manifest of a served kind."""
    with httpx.Client(base_url=url, timeout=30) as client:
        tried, safe, wrong = 0, 0, []
        for path in files("smp-"):
            client.delete(f"{_COLLECTIONS['Pod']}/p?gracePeriodSeconds=0")
            client.post(_COLLECTIONS["Pod"], json=_POD)
            resp = client.patch(
                f"{_COLLECTIONS['Pod']}/p",
                content=path.read_bytes(),
                headers={"Content-Type": "application/strategic-merge-patch+json"},
            )
            problems = _answer_problems(resp)
            tried, safe = tried + 1, safe + (not problems)
            wrong.extend(f"{path.name}: {p}" for p in problems)
        yield "emulator: strategic merge patch", tried, safe, wrong
        tried, safe, wrong = 0, 0, []
        for path in files("manifest-"):
            kind = next(
                (k for k in _COLLECTIONS if f"kind: {k}\n" in path.read_text(errors="replace")),
                None,
            )
            if kind is None:
                continue
            resp = client.post(
                _COLLECTIONS[kind],
                content=path.read_bytes(),
                headers={"Content-Type": "application/yaml"},
            )
            problems = _answer_problems(resp)
            tried, safe = tried + 1, safe + (not problems)
            wrong.extend(f"{path.name}: {p}" for p in problems)
        alive = client.get("/api/v1/namespaces/default/pods").status_code == 200
        yield "emulator: create", tried, safe, wrong if alive else [*wrong, "stopped serving"]


@pytest.mark.parametrize("version", ["1.19", "1.30"])
def test_the_emulator_answers_every_hostile_patch_and_manifest_as_a_server(
    emulator_factory: Callable[..., RunningEmulator], version: str
) -> None:
    emu = emulator_factory(version=version)
    rows = list(emulator_tally(emu.url))
    assert [(name, tried > 20) for name, tried, _, _ in rows] == [
        ("emulator: strategic merge patch", True),
        ("emulator: create", True),
    ]
    assert [w for _, _, _, wrong in rows for w in wrong] == []


if __name__ == "__main__":
    print("| command | inputs tried | refused safely |\n|---|---|---|")
    for command, tried, safe, wrong in tally():
        print(f"| `{command}` | {tried} | {safe} |")
        for line in wrong:
            print(f"  unsafe: {line}", file=sys.stderr)
    runner = EmulatorThread(EmulatorOptions(version="1.30"))
    served = runner.start()
    try:
        for command, tried, safe, wrong in emulator_tally(served.url):
            print(f"| {command} | {tried} | {safe} |")
            for line in wrong:
                print(f"  unsafe: {line}", file=sys.stderr)
    finally:
        runner.stop()
