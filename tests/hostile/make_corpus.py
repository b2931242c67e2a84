# ruff: noqa: E501  (recipes of hostile inputs read best one per line)
"""Writes the hostile-input corpus (``tests/hostile/corpus/``): ``python tests/hostile/make_corpus.py``.

Deterministic: the committed files are this script's output, so a reviewer reads the recipes
here rather than the bytes. Inputs too large to commit (a 50 MB line, 100,000 nested brackets)
are made at test time by :func:`large_inputs`. Each file's name says its family; the tests feed
every file to every command that reads files and count what was refused safely.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"

APP = """apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata:
  name: {name}
  namespace: default
spec:
  type: Scala
  mode: cluster
  image: {image}
  sparkVersion: {version}
  mainClass: org.apache.spark.examples.SparkPi
  mainApplicationFile: local:///opt/spark/examples/jars/spark-examples.jar
  driver: {{cores: 1, memory: 512m}}
  executor: {{instances: {instances}, cores: 1, memory: 512m}}
"""


def app(
    name: str = "spark-pi", image: str = "apache/spark:3.5.1", version: str = '"3.5.1"', **kw: str
) -> str:
    return APP.format(name=name, image=image, version=version, instances=kw.get("instances", "2"))


def bomb(levels: int, width: int) -> str:
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def syntax() -> Iterator[tuple[str, bytes | str]]:
    broken = [
        "a: b: c\n",
        "key: 'unclosed\n",
        'key: "unclosed\n',
        "\tkey: tab-indented\n",
        "- a\nb: c\n",
        "a:\n  - b\n c: d\n",
        "{a: 1\n",
        "[1, 2\n",
        "a: *undefined\n",
        "a: &x 1\nb: &x 2\nc: *y\n",
        "? [a, b]\n: c\n",
        "%YAML 9.9\n---\na: 1\n",
        "%TAG ! tag:evil,2000:\n---\n!x a\n",
        "a: !!python/object/apply:os.system ['echo pwned']\n",
        "a: !!python/name:os.system\n",
        "a: !!binary not-base64-$$$\n",
        "a: !!timestamp 2001-99-99\n",
        "a: !!int nope\n",
        "a: !!float nope\n",
        "a: !custom thing\n",
        "--- |\n  text\n--- >\n folded\n...\n...\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: 1}\n---\n: broken\n",
        "key: value\n" * 3 + "key: dup\n",
        "a:\n" + "  b: 1\n" * 3 + "   c: 2\n",
        "\ufeff\ufeffa: 1\n",
        "a: [1, 2]]\n",
        "a: {b: 1}}\n",
        "a: |\n text\n  more\n b: c\n",
        "a: >-\n" + "  line\n" * 1_000 + "b\n",
        "'a': 'b'': c\n",
        "a: 'it''s'\nb: \"\\q\"\n",
        "- &a\n- *a\n- *a\n- &a x\n",
        "!!map [1, 2]\n",
        "!!seq {a: 1}\n",
        "!!str [a]\n",
        "a: !!set {x, y}\n",
        "a: !!omap [b: 1, b: 2]\n",
        "=: 1\n",
        "<<: 1\n",
        "<<: [1, 2]\n",
        "a: @reserved\n",
        "a: `reserved\n",
        "a: %x\n",
        "? |\n  block key\n: v\n",
        "...\n---\n...\n",
    ]
    for i, text in enumerate(broken):
        yield f"syntax-{i:02d}.yaml", text


def aliases() -> Iterator[tuple[str, bytes | str]]:
    for levels, width in ((9, 9), (10, 10), (6, 30), (20, 3), (30, 2), (4, 200)):
        yield f"alias-bomb-{levels}x{width}.yaml", bomb(levels, width)
    yield (
        "alias-merge-bomb.yaml",
        "".join(
            f"m{i}: &m{i}\n  <<: [{', '.join(f'*m{i - 1}' for _ in range(4))}]\n  k{i}: v\n"
            if i
            else "m0: &m0 {k: v}\n"
            for i in range(12)
        ),
    )
    yield "alias-many.yaml", "a: &a x\nb: [" + ", ".join(["*a"] * 12_000) + "]\n"
    yield (
        "alias-in-app.yaml",
        app()
        + "extra: &e ["
        + ",".join(["x"] * 50)
        + "]\n"
        + "".join(
            f"e{i}: &e{i} [*e{'' if i == 0 else i - 1}, *e{'' if i == 0 else i - 1}]\n"
            for i in range(40)
        ),
    )
    yield "alias-flow-bomb.json", bomb(9, 9)


def depth() -> Iterator[tuple[str, bytes | str]]:
    for n in (201, 1_000, 5_000):
        yield f"deep-flow-seq-{n}.yaml", "[" * n + "]" * n
        yield f"deep-flow-map-{n}.yaml", "{a: " * n + "1" + "}" * n
        yield f"deep-json-{n}.json", "[" * n + "]" * n
    for n in (201, 600):
        yield (
            f"deep-block-map-{n}.yaml",
            "".join(" " * i + "a:\n" for i in range(n)) + " " * n + "b",
        )
        yield f"deep-block-seq-{n}.yaml", "- " * n + "x\n"
    yield "deep-in-app.yaml", app() + "  extra: " + "[" * 3000 + "]" * 3000 + "\n"
    yield (
        "deep-sparkconf.yaml",
        app().replace(
            "  driver:", "  sparkConf: " + "{a: " * 500 + "b" + "}" * 500 + "\n  driver:"
        ),
    )


def integers() -> Iterator[tuple[str, bytes | str]]:
    for digits in (65, 4_301, 5_001, 20_000):
        yield f"int-{digits}.yaml", "a: " + "9" * digits + "\n"
        yield f"int-{digits}.json", '{"a": ' + "9" * digits + "}"
    yield "int-in-app.yaml", app(instances="9" * 5_001)
    yield "int-hex.yaml", "a: 0x" + "f" * 5_000 + "\n"
    yield "int-underscore.yaml", "a: " + "1_" * 3_000 + "1\n"
    yield "int-sexagesimal.yaml", "a: 1" + ":59" * 2_000 + "\n"
    yield "float-huge.json", '{"a": 1e99999}'
    yield "float-nan.json", '{"a": NaN, "b": Infinity}'


def encodings() -> Iterator[tuple[str, bytes | str]]:
    text = app()
    yield "enc-latin1.yaml", text.replace("spark-pi", "spärk").encode("latin-1")
    yield "enc-invalid-utf8.yaml", text.encode() + b"\xff\xfe\xfd\n"
    yield "enc-overlong.yaml", b"a: \xc0\xaf\n"
    yield "enc-surrogate.yaml", b"a: \xed\xa0\x80\n"
    yield "enc-truncated.yaml", "a: é".encode()[:-1]
    yield "enc-utf16-no-bom.yaml", text.encode("utf-16-le")
    yield "enc-utf16le-bom.yaml", b"\xff\xfe" + text.encode("utf-16-le")
    yield "enc-utf16be-bom.yaml", b"\xfe\xff" + text.encode("utf-16-be")
    yield "enc-utf16-bom-odd.yaml", b"\xff\xfe" + text.encode("utf-16-le") + b"\x00"
    yield "enc-utf32.yaml", text.encode("utf-32")
    yield "enc-nul.yaml", text.encode().replace(b"name:", b"na\x00me:")
    yield "enc-binary.yaml", bytes(range(256)) * 8
    yield "enc-gzip.yaml", b"\x1f\x8b\x08\x00" + bytes(64)
    yield "enc-escape-surrogate.yaml", 'a: "\\ud800"\n'
    yield "enc-control.yaml", "a: \x07\x1b[31mred\x1b[0m\n"
    yield "enc-bidi.yaml", app(name="spark\u202epi")
    yield "enc-zero-width-key.yaml", text.replace("kind:", "ki\u200bnd:")
    yield "enc-cr-only.yaml", text.replace("\n", "\r")
    yield "enc-crlf.yaml", text.replace("\n", "\r\n")
    yield "enc-empty.yaml", ""


def documents() -> Iterator[tuple[str, bytes | str]]:
    yield "docs-only-separators.yaml", "---\n" * 5_000
    yield "docs-scalar.yaml", "just a string\n"
    yield "docs-list.yaml", "- a\n- b\n"
    yield "docs-null.yaml", "null\n"
    yield "docs-number.yaml", "42\n"
    yield "docs-two-apps.yaml", app() + "---\n" + app(name="other")
    yield (
        "docs-kind-list-huge.json",
        json.dumps({"kind": "List", "apiVersion": "v1", "items": [{"kind": "ConfigMap"}] * 3_000}),
    )
    yield "docs-kind-list-items-map.yaml", "kind: List\napiVersion: v1\nitems: {a: 1}\n"
    yield "docs-json-array.json", "[1, 2, 3]"
    yield "docs-json-trailing-comma.json", '{"a": 1,}'
    yield "docs-json-duplicate.json", '{"kind": "Pod", "kind": "Service"}'
    yield "docs-json-garbage-after.json", '{"a": 1} {"b": 2}'
    yield "docs-json-unterminated.json", '{"a": "'
    yield "docs-json-bad-escape.json", '{"a": "\\x41"}'


def applications() -> Iterator[tuple[str, bytes | str]]:
    versions = [
        '"2.4.8"',
        '"1.6.0"',
        '"99.0.0"',
        '""',
        "3.5",
        "null",
        "[3, 5]",
        '"3.5.1; rm -rf /"',
    ]
    for i, version in enumerate(versions):
        yield f"app-version-{i}.yaml", app(version=version)
    fields = {
        "metadata-null": app().replace(
            "metadata:\n  name: spark-pi\n  namespace: default", "metadata: null"
        ),
        "spec-list": app().split("spec:")[0] + "spec: [1, 2]\n",
        "spec-string": app().split("spec:")[0] + "spec: hello\n",
        "name-long": app(name="a" * 300),
        "name-upper": app(name="Spark_PI"),
        "name-empty": app(name='""'),
        "name-traversal": app(name="../../etc/passwd"),
        "name-newline": app(name='"a\\nb"'),
        "image-huge": app(image="x" * 100_000),
        "image-empty": app(image='""'),
        "instances-negative": app(instances="-5"),
        "instances-string": app(instances="many"),
        "instances-float": app(instances="2.5"),
        "instances-huge": app(instances="99999999999999999999"),
        "memory-garbage": app().replace("memory: 512m", "memory: lots", 1),
        "type-unknown": app().replace("type: Scala", "type: Cobol"),
        "mode-unknown": app().replace("mode: cluster", "mode: space"),
        "kind-other": app().replace("kind: SparkApplication", "kind: Pod"),
        "apiversion-other": app().replace("v1beta2", "v9"),
        "unknown-field": app() + "  bogus: 1\n",
        "key-int": app() + "  1: one\n",
        "key-null": app() + "  ~: nothing\n",
        "key-list": app() + "  ? [a]\n  : list-key\n",
        "sparkconf-not-strings": app().replace("  driver:", "  sparkConf: {a: [1, 2]}\n  driver:"),
        "sparkconf-secret": app().replace(
            "  driver:",
            "  sparkConf:\n    spark.kubernetes.authenticate.submission.oauthToken: s3cr3t\n  driver:",
        ),
        "env-huge": app().replace(
            "  driver: {cores: 1, memory: 512m}",
            "  driver:\n    cores: 1\n    env:\n"
            + "".join(f"    - {{name: E{i}, value: v}}\n" for i in range(2_000)),
        ),
        "arguments-huge": app() + "  arguments: [" + ", ".join(["x" * 100] * 2_000) + "]\n",
        "main-file-empty": app().replace(
            "mainApplicationFile: local:///opt/spark/examples/jars/spark-examples.jar",
            'mainApplicationFile: ""',
        ),
        "cores-zero": app().replace("cores: 1", "cores: 0", 1),
        "timestamp-name": app(name="2001-12-14t21:59:43.10-05:00"),
        "bool-name": app(name="yes"),
        "scheduled-bad-cron": app()
        .replace("kind: SparkApplication", "kind: ScheduledSparkApplication")
        .replace("spec:\n", 'spec:\n  schedule: "99 99 * * *"\n  template:\n', 1),
    }
    for name, text in fields.items():
        yield f"app-{name}.yaml", text


def logs() -> Iterator[tuple[str, bytes | str]]:
    secret_log = (
        "Exception in thread main io.fabric8.kubernetes.client.KubernetesClientException: "
        "Failure executing: POST at: https://admin:hunter2@10.0.0.1/api/v1/namespaces/d/pods. "
        "Message: Unauthorized. Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\n"
    )
    yield "log-secrets.log", secret_log * 20
    yield "log-ansi.log", "\x1b[31mERROR\x1b[0m \x1b]0;title\x07 failed\n" * 50
    yield "log-nul.log", b"ERROR\x00\x00 failed\n" * 100
    yield "log-cr.log", "ERROR a\rERROR b\r" * 100
    yield "log-json-deep.log", "{\n" + '"a": ' * 1 + "[" * 5_000 + "]" * 5_000 + "\n}\n"
    yield "log-yaml-bomb.log", "apiVersion: v1\nkind: Pod\n" + bomb(9, 9)
    yield "log-yaml-deep.log", "apiVersion: v1\nkind: Pod\nx: " + "[" * 50_000 + "]" * 50_000 + "\n"
    yield "log-yaml-int.log", "apiVersion: v1\nkind: Pod\nx: " + "9" * 5_001 + "\n"
    yield (
        "log-status-escaped.yaml",
        (
            "apiVersion: sparkoperator.k8s.io/v1beta2\nkind: SparkApplication\nstatus:\n"
            '  errorMessage: "' + "\\n".join(["failed"] * 3_000) + '"\n'
        ),
    )
    yield "log-huge-token-line.log", "token: " + "A" * 200_000 + "\n"
    yield "log-many-errors.log", "".join(f"ERROR {i} Exception: boom\n" for i in range(5_000))


TOKEN = "kubespark-test-token-0123456789"  # the secret every kubeconfig below carries
KUBECONFIG = (
    'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "SERVER"}\n'
    "users:\n- name: u\n  user: {token: TOKEN}\ncontexts:\n- name: x\n"
    "  context: {cluster: c, user: u}\ncurrent-context: x\n"
).replace("TOKEN", TOKEN)


def kubeconfig(server: str) -> str:
    return KUBECONFIG.replace("SERVER", server)


def kubeconfigs() -> Iterator[tuple[str, bytes | str]]:
    """Kubeconfigs given to ``--kubeconfig``: none may make kubespark print the token."""
    good = kubeconfig("https://127.0.0.1:9")
    variants = {
        "userinfo": kubeconfig(f"https://admin:{TOKEN}@127.0.0.1:9"),
        "broken-after-token": good + "  bad: [\n",
        "token-line-broken": good.replace(f"token: {TOKEN}", f"token: '{TOKEN}"),
        "token-tab": good.replace("  user:", "\tuser:"),
        "bomb": good + bomb(9, 9),
        "deep": good + "x: " + "[" * 5_000 + "]" * 5_000 + "\n",
        "int": good + "x: " + "9" * 5_001 + "\n",
        "not-utf8": good.encode() + b"\xff\n",
        "list": "- " + good.replace("\n", "\n  "),
        "empty": "",
        "no-contexts": good.split("contexts:")[0],
        "context-missing": good.replace("current-context: x", "current-context: nope"),
        "server-garbage": kubeconfig("::not a url::"),
        "server-file": kubeconfig("file:///etc/passwd"),
        "server-empty": kubeconfig(""),
        "exec-missing": good.replace(
            f"{{token: {TOKEN}}}",
            "{exec: {apiVersion: client.authentication.k8s.io/v1, command: /nonexistent/x}}",
        ),
        "key-data-garbage": good.replace(
            f"{{token: {TOKEN}}}",
            f"{{client-certificate-data: Zm9v, client-key-data: {TOKEN}}}",
        ),
        "password": good.replace(f"{{token: {TOKEN}}}", f"{{username: u, password: {TOKEN}}}"),
        "two-docs": good + "---\n" + good,
        "json": json.dumps({"apiVersion": "v1", "kind": "Config", "users": TOKEN}),
    }
    for name, text in variants.items():
        yield f"kubeconfig-{name}.yaml", text
    # Credential plugins that fail or misbehave, with a secret of no known shape in what they
    # print or in their arguments: kubespark shows neither (issue 12, exec-plugin stderr).
    plugins = {
        "exec-stderr-first-line": _exec(
            "sh", "-c", f"echo 'login failed for session {SHAPELESS}' >&2; exit 1"
        ),
        "exec-stderr-alone": _exec("sh", "-c", f"echo {SHAPELESS} >&2; exit 1"),
        "exec-stderr-later-line": _exec(
            "sh", "-c", f"printf 'failed\\ndebug: {SHAPELESS}\\n' >&2; exit 7"
        ),
        "exec-stderr-binary": _exec("sh", "-c", f"printf '\\377\\376{SHAPELESS}' >&2; exit 1"),
        "exec-stdout-garbage": _exec("sh", "-c", f"echo {SHAPELESS}"),
        "exec-args-secret": _exec("/nonexistent/plugin", "--session", SHAPELESS),
        "exec-token-shapeless": _exec(
            "sh",
            "-c",
            "echo '"
            + json.dumps(
                {
                    "apiVersion": "client.authentication.k8s.io/v1",
                    "kind": "ExecCredential",
                    "status": {"token": SHAPELESS},
                }
            )
            + "'",
        ),
        "exec-env-secret": _exec(
            "sh", "-c", 'echo "$SESSION_TOKEN" >&2; exit 1', env={"SESSION_TOKEN": SHAPELESS}
        ),
        "gcp-cmd-not-json": {
            "auth-provider": {
                "name": "gcp",
                "config": {"cmd-path": "sh", "cmd-args": f"-c 'echo {SHAPELESS}'"},
            }
        },
    }
    for name, user in plugins.items():
        yield f"kubeconfig-{name}.yaml", good.replace(f"{{token: {TOKEN}}}", json.dumps(user))


SHAPELESS = "q7Zk2pXw9RmT4vLb8NcY3hJd"  # a secret with no key, scheme or prefix to spot it by


def _exec(command: str, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    spec: dict[str, object] = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": command,
        "args": list(args),
        "interactiveMode": "Never",
    }
    if env:
        spec["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return {"exec": spec}


def manifests() -> Iterator[tuple[str, bytes | str]]:
    """Kubernetes objects with hostile values, for ``validate``."""
    pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels: {labels}\nspec:\n  containers: {containers}\n"
    variants = {
        "label-key-long": pod.format(name="p", labels="{" + "a" * 400 + ": b}", containers="[]"),
        "label-value-bad": pod.format(name="p", labels="{a: 'b c/d'}", containers="[]"),
        "label-null": pod.format(name="p", labels="null", containers="[]"),
        "labels-list": pod.format(name="p", labels="[a, b]", containers="[]"),
        "name-slash": pod.format(name="a/b", labels="{}", containers="[]"),
        "name-huge": pod.format(name="a" * 100_000, labels="{}", containers="[]"),
        "containers-map": pod.format(name="p", labels="{}", containers="{a: 1}"),
        "containers-many": pod.format(
            name="p", labels="{}", containers="[" + ", ".join(["{name: c, image: i}"] * 3_000) + "]"
        ),
        "port-huge": pod.format(
            name="p",
            labels="{}",
            containers="[{name: c, image: i, ports: [{containerPort: 99999999999}]}]",
        ),
        "port-string": pod.format(
            name="p",
            labels="{}",
            containers="[{name: c, image: i, ports: [{containerPort: http}]}]",
        ),
        "patch-directive": pod.format(name="p", labels="{$patch: delete}", containers="[]"),
        "apiversion-int": "apiVersion: 1\nkind: Pod\nmetadata: {name: p}\n",
        "kind-list-of-lists": "apiVersion: v1\nkind: List\nitems: [[1], [2]]\n",
        "kind-missing": "apiVersion: v1\nmetadata: {name: p}\n",
        "crd-deep-schema": "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: x.y.z}\nspec:\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema: "
        + "{properties: {a: " * 90
        + "{type: string}"
        + "}}" * 90
        + "\n",
        "configmap-binary": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbinaryData: {a: '$$$'}\n",
        "service-ports-null": "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [null]}\n",
        "deployment-replicas-str": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: lots}\n",
        "metadata-annotations-huge": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations: {a: '"
        + "x" * 300_000
        + "'}\n",
        "unicode-name": pod.format(name="ро́д", labels="{}", containers="[]"),
        # Names and label values as the API server's exact rules judge them (issue 12).
        "label-value-64": pod.format(name="p", labels="{a: " + "v" * 64 + "}", containers="[]"),
        "label-value-trailing-dash": pod.format(name="p", labels="{a: 'v-'}", containers="[]"),
        "label-value-unicode": pod.format(name="p", labels="{a: 'вал'}", containers="[]"),
        "label-value-int": pod.format(name="p", labels="{a: 1}", containers="[]"),
        "label-value-map": pod.format(name="p", labels="{a: {b: c}}", containers="[]"),
        "name-upper": pod.format(name="Bad_Name", labels="{}", containers="[]"),
        "name-trailing-dash": pod.format(name="p-", labels="{}", containers="[]"),
        "name-254": pod.format(name="a" * 254, labels="{}", containers="[]"),
        "name-dotdot": "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: '..'}\n",
        "service-name-digit": "apiVersion: v1\nkind: Service\nmetadata: {name: 1svc}\nspec: {ports: [{port: 80}]}\n",
        "namespace-name-dot": "apiVersion: v1\nkind: Namespace\nmetadata: {name: a.b}\n",
        "generate-name-bad": "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: UPPER-}\n",
        "generate-name-dash": "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: '-'}\n",
        "annotation-key-upper-prefix": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations: {Example.COM/x: y}\n",
        # Strategic-merge-patch directives inside a manifest (they belong in patches only).
        "patch-directive-int": pod.format(name="p", labels="{$patch: 5}", containers="[]"),
        "patch-retain-keys": pod.format(name="p", labels="{}", containers="[]").replace(
            "spec:\n", "spec:\n  $retainKeys: x\n"
        ),
        "patch-set-element-order": pod.format(name="p", labels="{}", containers="[]").replace(
            "spec:\n", "spec:\n  $setElementOrder/containers: [{name: c}]\n"
        ),
        "patch-delete-primitive": pod.format(name="p", labels="{}", containers="[]").replace(
            "spec:\n", "spec:\n  $deleteFromPrimitiveList/x: [1]\n"
        ),
    }
    for name, text in variants.items():
        yield f"manifest-{name}.yaml", text


def patches() -> Iterator[tuple[str, bytes | str]]:
    """Strategic merge patches for a Pod named ``p`` with a container ``c``: each directive
    error of ``k8s.io/apimachinery``'s strategicpatch, for the emulator (and, as files, for
    every command that reads them)."""
    variants: dict[str, object] = {
        "map-merge": {"metadata": {"labels": {"$patch": "merge"}}},
        "map-unknown": {"metadata": {"labels": {"$patch": "bogus"}}},
        "map-int": {"metadata": {"labels": {"$patch": 5}}},
        "map-null": {"metadata": {"labels": {"$patch": None}}},
        "map-list": {"metadata": {"labels": {"$patch": [1, "x"]}}},
        "top-delete": {"$patch": "delete"},
        "top-replace": {"$patch": "replace"},
        "list-merge": {"spec": {"containers": [{"name": "c", "$patch": "merge"}]}},
        "list-unknown": {"spec": {"containers": [{"name": "c", "$patch": "bogus"}]}},
        "list-delete-no-key": {"spec": {"containers": [{"$patch": "delete"}]}},
        "list-no-merge-key": {"spec": {"containers": [{"image": "x"}]}},
        "list-of-lists": {"spec": {"containers": [["c"]]}},
        "list-scalar": {"spec": {"containers": ["c"]}},
        "retain-keys-string": {"spec": {"$retainKeys": "x"}},
        "retain-keys-missing": {"spec": {"$retainKeys": ["containers"], "dnsPolicy": "None"}},
        "retain-keys-null": {"spec": {"$retainKeys": None}},
        "set-order-string": {"metadata": {"$setElementOrder/finalizers": "x"}},
        "set-order-mismatch": {
            "spec": {
                "$setElementOrder/containers": [{"name": "z"}],
                "containers": [{"name": "c", "image": "j"}],
            }
        },
        "set-order-no-slash": {"spec": {"$setElementOrder": [1]}},
        "set-order-no-key": {"spec": {"$setElementOrder/containers": [{"image": "x"}]}},
        "delete-primitive-string": {"metadata": {"$deleteFromPrimitiveList/finalizers": "x"}},
        "delete-primitive-no-slash": {"metadata": {"$deleteFromPrimitiveList": ["x"]}},
        "unknown-directive": {"metadata": {"$unknown": "x"}},
        "deep-directives": {"metadata": {"labels": {"$patch": {"$patch": {"$patch": "delete"}}}}},
        "not-a-map": ["$patch"],
    }
    for name, patch in variants.items():
        yield f"smp-{name}.json", json.dumps(patch)


FAMILIES = (
    syntax,
    aliases,
    depth,
    integers,
    encodings,
    documents,
    applications,
    logs,
    kubeconfigs,
    manifests,
    patches,
)


def corpus() -> Iterator[tuple[str, bytes | str]]:
    for family in FAMILIES:
        yield from family()


def large_inputs() -> Iterator[tuple[str, bytes]]:
    """The worst inputs, too big to commit: made where a test or the bench needs them."""
    yield "large-line-50mb.yaml", b"a: " + b"x" * (50 << 20) + b"\n"
    yield "large-deep-100k.yaml", b"[" * 100_000 + b"]" * 100_000
    yield "large-deep-block-50k.yaml", b"- " * 50_000 + b"x\n"
    yield "large-documents-60k.yaml", b"a: 1\n---\n" * 60_000
    yield "large-int-5001.yaml", b"a: " + b"9" * 5_001 + b"\n"
    yield "large-bomb-1kb.yaml", bomb(9, 9).encode()
    yield "large-size-70mb.yaml", b"# padding\n" * (7 << 20)


def main() -> None:
    shutil.rmtree(CORPUS, ignore_errors=True)
    CORPUS.mkdir()
    for name, data in corpus():
        path = CORPUS / name
        if isinstance(data, str):
            path.write_bytes(data.encode("utf-8", "surrogatepass"))
        else:
            path.write_bytes(data)


if __name__ == "__main__":
    main()
