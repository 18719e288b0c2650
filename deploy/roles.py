"""The steps that install each role: an edge (township), central (city) or the store."""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from deploy import caddyfile, envfile, units
from deploy.release import CURRENT, RELEASES, BorrowedVenv, Release, venv
from deploy.steps import (
    Command,
    Directory,
    File,
    KeepCopy,
    Link,
    Step,
    Target,
    packages_missing,
    user_missing,
)
from replication import store

PACKAGES = ("python3", "python3-venv", "sqlite3", "caddy", "ca-certificates")
ETC = "/etc/cunban"
DATA = "/var/lib/cunban"
SYSTEMD = "/etc/systemd/system"
SBIN = "/usr/local/sbin"


@dataclass(frozen=True)
class Plan:
    """What to install: the role, the node's name, its release and settings, its site."""

    role: str
    node: str
    version: str
    source: Path
    domain: str
    port: int
    tls: caddyfile.Tls
    email: str = ""
    values: Mapping[str, str] = field(default_factory=dict)
    borrow_venv: bool = False  # under --root: the release runs on the installer's environment

    @property
    def env_path(self) -> str:
        return f"{ETC}/{self.node}.env"

    @property
    def data_dir(self) -> str:
        return f"{DATA}/{self.node}"


def edge_values(args: Mapping[str, str], data_dir: str, port: int) -> dict[str, str]:
    """The edge settings the installer sets (the rest keep their defaults)."""
    return {
        "CUNBAN_NODE_ID": args["node_id"],
        "CUNBAN_TOWNSHIP_CODE": args["township"],
        "CUNBAN_DATA_DIR": data_dir,
        "CUNBAN_HOST": "127.0.0.1",
        "CUNBAN_PORT": str(port),
        "CUNBAN_BASE_URL": f"https://{args['domain']}",
        "CUNBAN_COOKIE_SECURE": "true",  # only Caddy's HTTPS reaches it: Secure even so
        "CUNBAN_TRUSTED_PROXIES": caddyfile.PROXY_PEERS,  # Caddy's X-Forwarded-Proto/-For
        "CUNBAN_CLIENT_ADDRESS_HEADER": "X-Forwarded-For",
        "CUNBAN_CENTRAL_URL": args.get("central", ""),
        "CUNBAN_STORE": "s3" if args.get("store") else "file",
        "CUNBAN_REPLICA_DIR": f"{data_dir}/replica",
        **(
            {
                "CUNBAN_S3_ENDPOINT": args["store"],
                "CUNBAN_S3_ACCESS_KEY": args.get("store_access_key") or args["node_id"],
                "CUNBAN_S3_SECRET_KEY": args.get("store_secret_key") or secrets.token_urlsafe(24),
            }
            if args.get("store")
            else {}
        ),
        "CUNBAN_METRICS_TOKEN": secrets.token_urlsafe(24),
    }


def central_values(args: Mapping[str, str], data_dir: str, port: int) -> dict[str, str]:
    """The central settings the installer sets."""
    p = "CUNBAN_CENTRAL_"
    return {
        f"{p}DATA_DIR": data_dir,
        f"{p}HOST": "127.0.0.1",
        f"{p}PORT": str(port),
        f"{p}BASE_URL": f"https://{args['domain']}",
        f"{p}COOKIE_SECURE": "true",
        f"{p}TRUSTED_PROXIES": caddyfile.PROXY_PEERS,
        f"{p}CLIENT_ADDRESS_HEADER": "X-Forwarded-For",
        f"{p}NODES": args.get("nodes", ""),
        **({f"{p}FOLLOW_SHARD": args["shard"]} if args.get("shard") else {}),
        f"{p}STORE": "s3" if args.get("store") else "file",
        f"{p}REPLICA_DIR": f"{data_dir}/replica",
        **(
            {
                f"{p}S3_ENDPOINT": args["store"],
                f"{p}S3_ACCESS_KEY": args.get("store_access_key") or "central",
                f"{p}S3_SECRET_KEY": args.get("store_secret_key") or secrets.token_urlsafe(24),
            }
            if args.get("store")
            else {}
        ),
        f"{p}METRICS_TOKEN": secrets.token_urlsafe(24),
    }


def follow_values(args: Mapping[str, str], data_dir: str) -> dict[str, str]:
    """A follow machine's settings: central's, for one shard that ships its rows to central
    through the store (central's S3 identity: it reads every replica and writes batches)."""
    p = "CUNBAN_CENTRAL_"
    return {
        f"{p}DATA_DIR": data_dir,
        f"{p}NODES": args.get("nodes", ""),
        f"{p}FOLLOW_MODE": "poll",
        f"{p}FOLLOW_SHARD": args["shard"],
        f"{p}FOLLOW_SHIP": "true",
        f"{p}STORE": "s3",
        f"{p}REPLICA_DIR": f"{data_dir}/replica",
        f"{p}S3_ENDPOINT": args["store"],
        f"{p}S3_ACCESS_KEY": args.get("store_access_key") or "central",
        f"{p}S3_SECRET_KEY": args["store_secret_key"],
    }


def merged(target: Target, path: str, wanted: Mapping[str, str], told: set[str]) -> dict[str, str]:
    """Values for the env file: what the operator said this time wins, then what the file
    already holds (so generated secrets and hand edits survive a second run), then defaults."""
    where = target.path(path)
    existing = envfile.existing_values(where.read_text("utf-8")) if where.is_file() else {}
    return {
        name: wanted[name]
        if name in wanted and (name in told or name not in existing)
        else existing[name]
        for name in {**wanted, **existing}
    }


def base_steps(plan: Plan) -> list[Step]:
    """What every role needs: packages, the user, the release and its venv, folders."""
    return [
        Command(
            ["apt-get", "update", "-q"],
            needed=packages_missing(PACKAGES),
            label="Debian package lists (apt-get update: a machine's lists may be old or empty)",
        ),
        Command(
            ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES],
            needed=packages_missing(PACKAGES),
            label=f"Debian packages {' '.join(PACKAGES)}",
        ),
        Command(
            ["useradd", "--system", "--home-dir", DATA, "--shell", "/usr/sbin/nologin", units.USER],
            needed=user_missing(units.USER),
            label=f"system user {units.USER}",
        ),
        Directory(RELEASES),
        Release(plan.source, plan.version),
        BorrowedVenv(plan.version) if plan.borrow_venv else venv(plan.version),
        Link(CURRENT, f"releases/{plan.version}"),
        Directory(ETC, 0o750),
        Directory(DATA, 0o750, units.USER),
        Directory(plan.data_dir, 0o750, units.USER),
    ]


def node_steps(plan: Plan, processes: tuple[units.Process, ...]) -> list[Step]:
    """An edge or central: base, env file, one unit per process and the target, Caddy (none
    for a follow machine: it serves nothing)."""
    names = [units.unit_name(plan.node, p.name) for p in processes]
    unit_files: list[Step] = [
        File(
            f"{SYSTEMD}/{name}",
            units.service(plan.node, process, plan.data_dir, plan.env_path),
        )
        for name, process in zip(names, processes, strict=True)
    ]
    title = f"{plan.role} node {plan.node}"
    return [
        *base_steps(plan),
        File(plan.env_path, envfile.render(plan.role, title, plan.values), 0o600),
        File(f"{SBIN}/cunban-{plan.node}", command_wrapper(plan), 0o750),
        *unit_files,
        File(f"{SYSTEMD}/{units.target_name(plan.node)}", units.target(plan.node, names)),
        *(caddy_steps(plan, f"127.0.0.1:{plan.port}") if plan.role != "follow" else []),
        *service_steps(plan.node),
    ]


def command_wrapper(plan: Plan) -> str:
    """`cunban-<node> status|restore|audit verify|...`: `python -m edge|central` with the node's
    settings, as the service user, from the current release (root only: it reads the env file)."""
    module = "edge" if plan.role == "edge" else "central"  # a follow machine runs central's
    return (
        "#!/bin/sh\n"
        f"# python -m {module} with the settings of {plan.node}: cunban-{plan.node} status\n"
        "set -e\n"
        f"set -a; . {plan.env_path}; set +a\n"
        f"cd {CURRENT}\n"
        f'exec runuser -u {units.USER} -- {CURRENT}/.venv/bin/python -m {module} "$@"\n'
    )


def caddy_steps(plan: Plan, upstream: str) -> list[Step]:
    """The main Caddyfile, this node's site, and a reload when either changed."""
    return [
        KeepCopy(caddyfile.MAIN, f"{caddyfile.MAIN}.before-cunban", caddyfile.OURS),
        File(caddyfile.MAIN, caddyfile.main_file(plan.email, plan.domain)),
        Directory(caddyfile.SITES),
        File(
            f"{caddyfile.SITES}/{plan.node}.caddy",
            caddyfile.site(plan.node, plan.domain, upstream, plan.tls),
        ),
        Command(
            ["systemctl", "reload-or-restart", "caddy.service"],
            needed=lambda _target: False,
            when_changed=("/etc/caddy",),
            label="reload Caddy (its configuration changed)",
        ),
    ]


def service_steps(node: str) -> list[Step]:
    """systemd learns the units and starts the node's target (and restarts it when they or the
    release changed)."""
    target = units.target_name(node)
    return [
        Command(
            ["systemctl", "daemon-reload"],
            needed=lambda _target: False,
            when_changed=(SYSTEMD,),
            label="systemctl daemon-reload (units changed)",
        ),
        Command(
            ["systemctl", "enable", "--now", target],
            needed=lambda _target: not _active(target),
            label=f"enable and start {target}",
        ),
        Command(
            ["systemctl", "restart", target],
            needed=lambda _target: False,
            when_changed=(SYSTEMD, ETC, CURRENT),
            label=f"restart {target} (units, settings or release changed)",
        ),
    ]


def _active(unit: str) -> bool:
    import subprocess

    found = subprocess.run(["systemctl", "is-active", unit], capture_output=True, text=True)
    return found.stdout.strip() == "active"


STORE_PORTS = {"master": 9333, "volume": 8080, "filer": 8888, "s3": 8333}


def store_steps(
    plan: Plan, ip: str, peers: list[str], replication: str, s3_config: str, volume_mb: int
) -> list[Step]:
    """One machine of the SeaweedFS store cluster: a master (the peers elect a leader), a
    volume server and a filer with the S3 gateway, data placed by `replication` (e.g. 001:
    one more copy on another server of the same rack), volumes of `volume_mb` (a small disk
    holds few large volumes, and SeaweedFS grows several at once), and Caddy for S3."""
    weed = f"{CURRENT}/.venv/bin/weed"
    own = {name: f"{ip}:{port}" for name, port in STORE_PORTS.items()}
    masters = peers or [own["master"]]
    data = Path(plan.data_dir)
    config = Path(s3_config)
    servers = {  # replication/store.py's command lines, as the loopback test cluster runs them
        "master": (
            "SeaweedFS master",
            store.master_command(
                data / "master", STORE_PORTS["master"], replication, volume_mb,
                ip=ip, peers=masters, weed=weed,
            ),
        ),
        "volume": (
            "SeaweedFS volume server",
            store.volume_command(
                data / "volume", STORE_PORTS["volume"], 0, ip=ip, masters=masters, weed=weed
            ),
        ),
        "filer": (
            "SeaweedFS filer and S3 gateway",
            store.filer_command(
                data / "filer", STORE_PORTS["filer"], STORE_PORTS["s3"], 0, config,
                ip=ip, masters=masters, replication=replication, weed=weed,
            ),
        ),
    }  # fmt: skip
    bucket = [
        f"{CURRENT}/.venv/bin/python", "-m", "replication.bucket", "--masters", ",".join(masters),
        "--filer", own["filer"], "--weed", weed, "--wait", "60",
    ]  # fmt: skip
    names = [units.unit_name(plan.node, name) for name in (*servers, "bucket")]
    return [
        *base_steps(plan),
        File(s3_config, plan.values["S3_CONFIG"], 0o600, units.USER),
        *(Directory(f"{data}/{name}", 0o750, units.USER) for name in ("master", "volume", "filer")),
        *(
            File(
                f"{SYSTEMD}/{units.unit_name(plan.node, name)}",
                units.store_service(plan.node, name, description, shlex.join(argv), str(data)),
            )
            for name, (description, argv) in servers.items()
        ),
        File(
            f"{SYSTEMD}/{units.unit_name(plan.node, 'bucket')}",
            units.store_bucket_service(
                plan.node, shlex.join(bucket), str(data), units.unit_name(plan.node, "filer")
            ),
        ),
        File(f"{SYSTEMD}/{units.target_name(plan.node)}", units.target(plan.node, names)),
        *caddy_steps(plan, f"{ip}:{STORE_PORTS['s3']}"),
        *service_steps(plan.node),
    ]
