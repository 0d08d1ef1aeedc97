"""A throwaway certificate authority and a server certificate for 127.0.0.1 / localhost.

The CRM clients force `https://` (docs/crm-apis.md §2.3), so the local sandboxes serve TLS with a
certificate from this CA and the clients trust `ca_bundle`. Made once per process (EC P-256 keys)
in a temporary directory removed at exit, or earlier by `remove_localhost_certificate` (a process
ended by a signal skips `atexit`); never use these files for anything but the sandbox.
"""

from __future__ import annotations

import atexit
import functools
import ipaddress
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class SandboxCertificate:
    """PEM files: the CA to trust, and the server's certificate chain and private key."""

    ca_bundle: Path
    cert_file: Path
    key_file: Path


@functools.cache
def localhost_certificate() -> SandboxCertificate:
    """The process-wide CA and 127.0.0.1/localhost server certificate (created on first call)."""
    directory = Path(tempfile.mkdtemp(prefix="okrsync-sandbox-tls-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _ca_certificate(ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _server_certificate(server_key, ca_key, ca_cert)
    paths = SandboxCertificate(
        ca_bundle=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server-key.pem",
    )
    paths.ca_bundle.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    paths.key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def remove_localhost_certificate() -> None:
    """Delete the CA and certificate files now, for a process done with every sandbox (`okrsync
    sandbox` as it stops); a later `localhost_certificate()` makes new ones."""
    if localhost_certificate.cache_info().currsize:
        shutil.rmtree(localhost_certificate().ca_bundle.parent, ignore_errors=True)
        localhost_certificate.cache_clear()


def _validity() -> tuple[datetime, datetime]:
    # Real wall time, not a sandbox clock: TLS clients check it against the system clock.
    start = datetime.now(UTC) - timedelta(days=1)
    return start, start + VALIDITY


def _ca_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "okrsync sandbox CA")])
    not_before, not_after = _validity()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _server_certificate(
    key: ec.EllipticCurvePrivateKey, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate
) -> x509.Certificate:
    not_before, not_after = _validity()
    names = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not signs_certificates,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )
