"""TLS for the emulated server: a throw-away CA and a server certificate made at start.

Owns what the emulator's certificates are: for 127.0.0.1, ``localhost`` and the host it listens
on, valid for a day, written into a directory the server owns, so clients verify the server
against the CA the kubeconfig carries. Generating them is :mod:`kubespark.certificates`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kubespark.certificates import issue_serving_certificate

__all__ = ["ServerCertificates", "make_certificates"]


@dataclass(frozen=True, slots=True)
class ServerCertificates:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def ca_pem(self) -> bytes:
        return self.ca_file.read_bytes()


def make_certificates(directory: Path, host: str = "127.0.0.1") -> ServerCertificates:
    """Write ca.crt, server.crt and server.key into ``directory`` (created if needed)."""
    files = issue_serving_certificate(
        directory,
        authority="kubespark-emulator-ca",
        subject="kube-apiserver",
        names=("localhost", host, "127.0.0.1"),
        valid_days=1,
        cert_name="server.crt",
        key_name="server.key",
    )
    return ServerCertificates(files.ca_file, files.cert_file, files.key_file)
