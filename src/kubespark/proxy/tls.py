"""TLS for the proxy's listening side: a self-signed pair when none is given, and the context.

Owns generating a certificate authority and a server certificate for the names the proxy is
reached by (127.0.0.1, ::1, localhost and any ``--tls-san``), written as PEM files (the key
readable by its owner only), and the server-side ``SSLContext`` (HTTP/1.1 only in ALPN, so
HTTP/2 clients fall back to the protocol the proxy speaks). A separate CA rather than one
self-signed leaf, because some TLS stacks refuse a leaf that is its own trust anchor.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubespark.errors import InputError

__all__ = ["ServingPair", "self_signed_pair", "server_context"]

VALID_DAYS = 365
_DEFAULT_NAMES = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True, slots=True)
class ServingPair:
    """The files the proxy serves TLS with; ``ca_file`` is what clients trust (None: unknown)."""

    cert_file: Path
    key_file: Path
    ca_file: Path | None = None


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _alt_names(names: Sequence[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in dict.fromkeys((*_DEFAULT_NAMES, *names)):
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


def self_signed_pair(directory: Path, names: Sequence[str] = ()) -> ServingPair:
    """Write ca.crt, tls.crt and tls.key into ``directory`` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=VALID_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("kubespark-proxy-ca")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("kubespark-proxy"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(_alt_names(names)), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pair = ServingPair(directory / "tls.crt", directory / "tls.key", directory / "ca.crt")
    assert pair.ca_file is not None
    pair.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pair.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(pair.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_pem)
    return pair


def server_context(pair: ServingPair) -> ssl.SSLContext:
    """The listening side's TLS; a bad pair is an InputError naming the flag."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(pair.cert_file, pair.key_file)
    except (OSError, ssl.SSLError) as err:
        raise InputError(
            f"cannot load the TLS certificate and key: {err}",
            where=f"--tls-cert {pair.cert_file} / --tls-key {pair.key_file}",
            fix="give a PEM certificate and its PEM private key, or leave both out for a "
            "self-signed pair",
        ) from None
    context.set_alpn_protocols(["http/1.1"])
    return context
