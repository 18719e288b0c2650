"""The feed over HTTPS: central serves TLS itself (CUNBAN_CENTRAL_TLS_CERT/_KEY) and an edge
pulls through it, trusting a private CA named by SSL_CERT_FILE, and nothing else (finding 13)."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge.kernel.key_files import write_private_key
from edge.kernel.signatures import ALGORITHMS
from replication.feed.pull import FeedSource, FeedUnavailable, fetch_page
from tests.central_process import central_serving

KEY_ID = "01JD0000000000000000000009"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "central.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "central.pem", folder / "central.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture(scope="module")
def tls_central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("tls-central")
    cert, key = _self_signed(root)
    with central_serving(root, "https", tls_cert=str(cert), tls_key=str(key)) as url:
        yield url, cert


def _source(url: str, keys_dir: Path) -> FeedSource:
    private_pem, _public = ALGORITHMS["ed25519"].generate()
    write_private_key(keys_dir, KEY_ID, private_pem)
    return FeedSource(url, "lianzhou", keys_dir, KEY_ID)


def test_an_edge_reaches_central_over_https_trusting_its_ca(
    tls_central: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = tls_central
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with pytest.raises(FeedUnavailable, match="central answered 401"):  # the key is new to it
        fetch_page(_source(url, tmp_path), 0)


def test_an_untrusted_certificate_is_refused(
    tls_central: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _cert = tls_central
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(FeedUnavailable, match="central unreachable"):
        fetch_page(_source(url, tmp_path), 0)
