"""Local endpoints that fail the way a CRM's host can, for transport-failure tests (127.0.0.1 only).

`closed_port()` is a port nobody listens on; the servers accept and then misbehave: a TLS server
whose self-signed certificate no bundle trusts, one that never answers, one that resets.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"
ACCEPT_POLL_SECONDS = 0.05


def closed_port() -> int:
    """A port of 127.0.0.1 that was free a moment ago and that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def untrusted_tls_server() -> Iterator[int]:
    """A TLS server on 127.0.0.1 with a valid but self-signed certificate; yields its port."""
    with tls_server(expired=False) as (port, _certificate):
        yield port


@contextmanager
def tls_server(*, expired: bool) -> Iterator[tuple[int, Path]]:
    """A TLS server on 127.0.0.1 with a self-signed certificate, valid today or expired since
    yesterday; yields its port and the certificate's PEM (a client that trusts it meets only
    the expiry)."""
    with tempfile.TemporaryDirectory(prefix="okrsync-test-tls-") as directory:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert_file, key_file = _self_signed(Path(directory), expired=expired)
        context.load_cert_chain(cert_file, key_file)

        def handshake(connection: socket.socket) -> None:
            try:  # the client rejects the certificate and hangs up
                context.wrap_socket(connection, server_side=True).close()
            except OSError:
                connection.close()

        with serving(handshake) as port:
            yield port, cert_file


@contextmanager
def silent_server() -> Iterator[int]:
    """A server that accepts connections and never answers (a read timeout); yields its port."""
    held: list[socket.socket] = []
    with serving(held.append) as port:
        yield port
    for connection in held:
        connection.close()


@contextmanager
def resetting_server() -> Iterator[int]:
    """A server that reads the request and resets the connection (RST); yields its port."""

    def reset(connection: socket.socket) -> None:
        connection.recv(65536)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()

    with serving(reset) as port:
        yield port


@contextmanager
def serving(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """Accept connections on a free port of 127.0.0.1 and hand each to `handle`; yields the port."""
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    listener.listen()
    listener.settimeout(ACCEPT_POLL_SECONDS)  # a blocked accept() would not see the test end
    stopped = threading.Event()

    def accept() -> None:
        while not stopped.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was closed: the test is over
                return
            handle(connection)

    thread = threading.Thread(target=accept, name="transport-test-server", daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopped.set()
        listener.close()
        thread.join(timeout=5)


def _self_signed(directory: Path, *, expired: bool) -> tuple[Path, Path]:
    """(certificate, key) PEM files of a self-signed certificate for 127.0.0.1, valid from the day
    before yesterday to tomorrow, or (`expired`) to yesterday."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK)])
    now = datetime.now(UTC) - (timedelta(days=2) if expired else timedelta(0))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file
