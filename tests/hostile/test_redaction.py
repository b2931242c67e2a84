"""Redaction over a corpus of credential shapes, and what it must leave alone."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kubespark.errors import InputError
from kubespark.privatefiles import write_private
from kubespark.redaction import REDACTED, is_secret_key, redact, redact_text, redact_url

SECRET = "Zx9-secret-VALUE_42"
JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLXZhbHVl"

# Each line carries SECRET (or a JWT, a key) in a shape kubespark may repeat.
SHAPES = [
    f"Authorization: Bearer {SECRET}",
    f"authorization: basic {SECRET}",
    f'"Authorization": "Bearer {SECRET}"',
    f"curl -H 'Authorization: Bearer {SECRET}' https://10.0.0.1",
    f"    token: {SECRET}",
    f'  "token": "{SECRET}",',
    f"id-token: {SECRET}",
    f"refresh-token: {SECRET}",
    f"access-token={SECRET}",
    f"    client-key-data: {SECRET}",
    f"password: {SECRET}",
    f"PASSWORD={SECRET}",
    f"--conf spark.kubernetes.authenticate.submission.oauthToken={SECRET}",
    f"--conf spark.kubernetes.authenticate.driver.oauthToken={SECRET}",
    f"spark.ssl.keyStorePassword={SECRET}",
    f"spark.ssl.trustStorePassword {SECRET}".replace(" ", "="),
    f"spark.authenticate.secret={SECRET}",
    f"spark.hadoop.fs.s3a.secret.key={SECRET}",
    f"spark.hadoop.fs.s3a.access.key={SECRET}",
    f"aws_secret_access_key = {SECRET}",
    f"api_key: {SECRET}",
    f"apiKey: {SECRET}",
    f"--token {SECRET}",
    f"--password={SECRET}",
    f"https://admin:{SECRET}@10.0.0.1:6443/api",
    f"k8s://https://user:{SECRET}@api.example:443",
    f"http://proxy-user:{SECRET}@proxy:3128",
    f"https://api.example/login?token={SECRET}",
    f"Cookie: session={SECRET}",
    f"secret: {SECRET}",
    f"the service account token {JWT} expired",
    f"{{'user': {{'token': '{SECRET}'}}}}",
]
KEEP = [
    "spark.kubernetes.authenticate.submission.oauthTokenFile=/var/run/secrets/token",
    "secretName: spark-conf",
    "token expired: the exec plugin must be run again",
    "401 Unauthorized: Failure executing: POST at: https://10.0.0.1/api/v1/namespaces/d/pods",
    "failed to create typed patch object: .spec.ipFamilies: field not declared in schema",
    "spark.kubernetes.driver.secretKeyRef.ENV=name:key",
    "Forbidden: User system:serviceaccount:spark:default cannot create pods",
]


@pytest.mark.parametrize("line", SHAPES)
def test_every_shape_is_redacted(line: str) -> None:
    out = redact_text(line)
    assert SECRET not in out and JWT not in out, out
    assert REDACTED in out


@pytest.mark.parametrize("line", KEEP)
def test_diagnoses_are_kept_as_they_are(line: str) -> None:
    assert redact_text(line) == line


def test_the_bearer_scheme_and_the_key_name_stay_readable() -> None:
    assert redact_text(f"Authorization: Bearer {SECRET}") == f"Authorization: Bearer {REDACTED}"
    assert redact_text(f"token: {SECRET}") == f"token: {REDACTED}"


def test_a_private_key_block_is_redacted_whole() -> None:
    block = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nline2\n-----END RSA PRIVATE KEY-----"
    )
    out = redact_text(f"key:\n{block}\nafter")
    assert "MIIEow" not in out and "line2" not in out and out.endswith("after")


def test_urls_keep_their_user_and_host() -> None:
    assert redact_url(f"https://admin:{SECRET}@h:6443") == f"https://admin:{REDACTED}@h:6443"
    assert redact_url(f"https://{SECRET}@h") == f"https://{REDACTED}@h"
    assert redact_url("https://h:6443/api") == "https://h:6443/api"


def test_structures_redact_by_field_name_and_shape() -> None:
    kubeconfig = {
        "users": [
            {
                "name": "u",
                "user": {
                    "token": SECRET,
                    "client-key-data": SECRET,
                    "exec": {"command": "aws", "args": ["--token", SECRET]},
                },
            }
        ],
        "sparkConf": {"spark.ssl.keyPassword": SECRET, "spark.executor.cores": "2"},
    }
    out = redact(kubeconfig)
    assert SECRET not in repr(out)
    assert out["users"][0]["name"] == "u" and out["sparkConf"]["spark.executor.cores"] == "2"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("oauthToken", True),
        ("client-key-data", True),
        ("spark.ssl.keyStorePassword", True),
        ("oauthTokenFile", False),
        ("secretName", False),
        ("tokenExpirationSeconds", False),
    ],
)
def test_secret_field_names(name: str, secret: bool) -> None:
    assert is_secret_key(name) is secret


def test_private_files_are_born_0600(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "tls.key"
    write_private(path, "key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == "key"


def test_a_wider_existing_file_is_narrowed_before_the_secret_is_written(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, "token: new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == "token: new"


def test_a_symlink_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("")
    link = tmp_path / "tls.key"
    link.symlink_to(target)
    with pytest.raises(InputError) as caught:
        write_private(link, "key")
    assert caught.value.where == str(link) and target.read_text() == ""
