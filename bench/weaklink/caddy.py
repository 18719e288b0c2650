"""Caddy (Debian `caddy`, the Caddyfile deploy/install writes, `tls internal`) in the server
namespace in front of the rig's edge node, so the shaped link carries TLS 1.3 and QUIC; its
local CA trusted by the client side's Chromium through an NSS database, as an agent's phone
trusts it once the township installs the root.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bench.weaklink.rig import Rig, RigError, run
from deploy import caddyfile

CADDY = Path("/usr/bin/caddy")
CERTUTIL = Path("/usr/bin/certutil")
START_SECONDS = 90


@dataclass(frozen=True)
class Proxy:
    """Caddy's HTTPS URL, its local CA's root certificate, the HOME whose NSS database trusts
    it, and the base64 SHA-256 of the SPKI of each certificate in the chain it serves (for
    Chromium's `--ignore-certificate-errors-spki-list`)."""

    url: str
    root_ca: Path
    home: Path
    spki_hashes: tuple[str, ...]
    chain_der_bytes: int


def caddy_config(folder: Path, address: str, upstream: str) -> Path:
    """deploy/install's main Caddyfile and site (`tls internal` on the server's address),
    with the admin endpoint off, no trust store install and storage in `folder`; and
    `default_sni` the address: a client names no IP address in SNI, and Caddy 2.6 then finds
    the certificate by the local address over TCP but not over QUIC (TLS alert 80)."""
    config = folder / "caddy-etc"
    (config / "cunban").mkdir(parents=True, exist_ok=True)
    options = (
        f"\tadmin off\n\tskip_install_trust\n\tdefault_sni {address}\n"
        f"\tstorage file_system {folder / 'caddy-data'}\n"
    )
    main = caddyfile.main_file().replace("{\n", "{\n" + options, 1)
    (config / "Caddyfile").write_text(main)
    site = caddyfile.site("lianzhou", address, upstream, caddyfile.Tls("internal"))
    (config / "cunban" / "lianzhou.caddy").write_text(site)
    return config / "Caddyfile"


def start_caddy(rig: Rig, folder: Path, upstream: str) -> Proxy:
    """Run Caddy in the server namespace (ports 80 and 443 of the server's address), wait until
    the client side gets /healthz over HTTPS trusting only Caddy's CA; the proxy."""
    if not CADDY.exists() or not CERTUTIL.exists():
        raise RigError("Caddy over the rig needs Debian `caddy` and `libnss3-tools`")
    config = caddy_config(folder, rig.server.address, upstream)
    home = folder / "caddy-home"
    home.mkdir(exist_ok=True)
    environ = {"HOME": str(home), "XDG_DATA_HOME": str(home / "data")}
    command = [str(CADDY), "run", "--adapter", "caddyfile", "--config", str(config)]
    log = folder / "caddy.log"
    caddy = rig.spawn(rig.server, command, environ, log)
    root_ca = folder / "caddy-data/pki/authorities/local/root.crt"
    url = f"https://{rig.server.address}"
    deadline = time.monotonic() + START_SECONDS
    while not _answers(rig, url, root_ca):
        if caddy.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:]
            raise RigError(f"Caddy did not answer over HTTPS (exit {caddy.poll()}):\n{tail}")
        time.sleep(0.5)
    chain = _served_chain(folder, rig.server.address)
    return Proxy(
        url,
        root_ca,
        home,
        tuple(spki_hash(cert) for cert in chain),
        sum(len(cert.public_bytes(Encoding.DER)) for cert in chain),
    )


def _answers(rig: Rig, url: str, root_ca: Path) -> bool:
    if not root_ca.exists():
        return False
    curl = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", str(root_ca)]
    try:
        return rig.client.run([*curl, "--max-time", "20", f"{url}/healthz"]) == "200"
    except RigError:
        return False


def _served_chain(folder: Path, address: str) -> list[x509.Certificate]:
    """The leaf and intermediate Caddy serves for `address` (its PEM bundle)."""
    bundle = folder / f"caddy-data/certificates/local/{address}/{address}.crt"
    return x509.load_pem_x509_certificates(bundle.read_bytes())


def spki_hash(certificate: x509.Certificate) -> str:
    """Base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo, as Chromium's flag
    takes it."""
    spki = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def trust(proxy: Proxy) -> None:
    """An NSS database in the proxy's HOME that trusts Caddy's root for TLS servers (Chromium
    on Linux reads $HOME/.pki/nssdb)."""
    nssdb = proxy.home / ".pki/nssdb"
    if nssdb.exists():
        shutil.rmtree(nssdb)
    nssdb.mkdir(parents=True)
    database = f"sql:{nssdb}"
    _certutil(["-N", "-d", database, "--empty-password"])
    _certutil(
        ["-A", "-d", database, "-n", "cunban-local-ca", "-t", "C,,", "-i", str(proxy.root_ca)]
    )


def _certutil(arguments: list[str]) -> None:
    run([str(CERTUTIL), *arguments])
