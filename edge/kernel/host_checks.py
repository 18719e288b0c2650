"""What `status` reports about the machine around a node: its systemd units, the data
folder's free space and the HTTPS certificate's expiry (from Caddy's storage or a file)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509

# Debian's caddy runs as user caddy with HOME=/var/lib/caddy
CADDY_CERTIFICATES = Path("/var/lib/caddy/.local/share/caddy/certificates")


@dataclass(frozen=True)
class Check:
    """One line of a status report: what, the finding, and whether it is fine."""

    name: str
    value: str
    ok: bool


def unit_checks(node: str, processes: tuple[str, ...]) -> list[Check]:
    """Each unit's state from systemctl; without a running systemd, says so (not ok)."""
    systemctl = shutil.which("systemctl")
    if systemctl is None or not Path("/run/systemd/system").is_dir():
        return [Check("units", "systemd is not running here (no systemctl)", False)]
    checks = []
    for process in processes:
        unit = f"cunban-{node}-{process}.service"
        found = subprocess.run([systemctl, "is-active", unit], capture_output=True, text=True)
        state = found.stdout.strip() or "unknown"
        checks.append(Check(f"unit {unit}", state, state == "active"))
    return checks


def disk_check(folder: Path, minimum_mb: int) -> Check:
    """Free space in the data folder against the node's minimum."""
    usage = shutil.disk_usage(folder if folder.exists() else folder.parent)
    free_mb = usage.free // (1024 * 1024)
    share = usage.free / usage.total if usage.total else 0
    value = f"{free_mb} MB free ({share:.0%}) in {folder}, minimum {minimum_mb} MB"
    return Check("disk", value, free_mb >= minimum_mb)


def certificate_file(
    host: str, given: Path | None, storage: Path = CADDY_CERTIFICATES
) -> Path | None:
    """The certificate serving `host`: the given file, else the newest in Caddy's storage."""
    if given is not None:
        return given
    if not host or not storage.is_dir():
        return None
    found = sorted(storage.glob(f"*/{host}/{host}.crt"), key=lambda path: path.stat().st_mtime)
    return found[-1] if found else None


def https_certificate_check(
    host: str,
    given: Path | None,
    now: datetime,
    storage: Path = CADDY_CERTIFICATES,
    port: int = 443,
) -> Check:
    """The certificate's expiry from the given file or Caddy's storage; when that storage is
    not readable (it belongs to user caddy, and status runs as the node's user), from the
    certificate the site serves."""
    try:
        path = certificate_file(host, given, storage)
    except PermissionError:
        return served_certificate_check(host, now, port)
    return certificate_check(path, now)


def certificate_check(path: Path | None, now: datetime, warn_days: int = 14) -> Check:
    """Days until the certificate expires (not ok within `warn_days`: Caddy renews at a third
    of the lifetime left, so a certificate this close means renewal is failing)."""
    if path is None:
        return Check("certificate", "none found (no HTTPS site for this node, or not yet)", False)
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as error:
        return Check("certificate", f"{path}: cannot be read ({error})", False)
    return _expiry(str(path), certificate, now, warn_days)


def served_certificate_check(host: str, now: datetime, port: int = 443) -> Check:
    """Days until the certificate `host` serves on `port` expires (not verified: only read)."""
    try:
        pem = ssl.get_server_certificate((host, port), timeout=5)
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except (OSError, ValueError) as error:
        return Check("certificate", f"https://{host}:{port}: none served ({error})", False)
    return _expiry(f"served by {host}:{port}", certificate, now, 14)


def _expiry(where: str, certificate: x509.Certificate, now: datetime, warn_days: int) -> Check:
    """Not ok within `warn_days` of the end, or a quarter of the lifetime for short-lived
    certificates (Caddy's `tls internal` ones last 12 hours and are renewed with 4 left)."""
    ends = certificate.not_valid_after_utc
    lifetime = ends - certificate.not_valid_before_utc
    left = ends - now
    days = left.total_seconds() / 86400
    in_hours = f"{left.total_seconds() / 3600:.0f} hours" if days < 2 else f"{days:.0f} days"
    value = f"{where}: expires {ends:%Y-%m-%d %H:%M} UTC, in {in_hours}"
    return Check("certificate", value, left > min(timedelta(days=warn_days), lifetime / 4))


def report(title: str, checks: list[Check]) -> str:
    """The report as text: a line per check, marked ok or NOT OK."""
    width = max(len(check.name) for check in checks)
    lines = [title]
    lines += [
        f"  {'ok    ' if check.ok else 'NOT OK'}  {check.name:<{width}}  {check.value}"
        for check in checks
    ]
    return "\n".join(lines)
