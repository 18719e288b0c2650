"""systemd units: one service per process of a node, grouped by a target, each restarted on
failure, bounded in memory and tasks, and confined (read-only system, its data folder only)."""

from __future__ import annotations

from dataclasses import dataclass

USER = "cunban"
CURRENT = "/opt/cunban/current"


@dataclass(frozen=True)
class Process:
    """One long-running process of a node: its name, command and memory ceiling."""

    name: str
    command: str
    description: str
    memory_max: str = "512M"


EDGE = (
    Process("web", "-m edge serve", "web app (uvicorn)", "768M"),
    Process("worker", "-m edge worker", "worker (SMS, push, photo uploads, deadlines)"),
    Process("replicate", "-m edge replicate", "Litestream replication to the store"),
    Process("sync", "-m edge sync", "heartbeat and central's command feed", "256M"),
)
CENTRAL = (
    Process("web", "-m central serve", "web app (uvicorn)", "1G"),
    Process("follow", "-m central follow", "replica followers and ingest", "4G"),
)
FOLLOW = CENTRAL[1:]  # a follow machine: central's follow process alone, on its shard


def unit_name(node: str, process: str) -> str:
    """`cunban-<node>-<process>.service`."""
    return f"cunban-{node}-{process}.service"


def target_name(node: str) -> str:
    """The target that starts and stops every process of a node."""
    return f"cunban-{node}.target"


def service(node: str, process: Process, data_dir: str, env_file: str) -> str:
    """A hardened service running `python <command>` from the current release."""
    return _service(
        node,
        description=f"Cunban {node}: {process.description}",
        exec_start=f"{CURRENT}/.venv/bin/python {process.command}",
        working_directory=CURRENT,
        data_dir=data_dir,
        env_file=env_file,
        memory_max=process.memory_max,
    )


def store_service(node: str, name: str, description: str, exec_start: str, data_dir: str) -> str:
    """A hardened service running one SeaweedFS server of the store cluster."""
    return _service(
        node,
        description=f"Cunban {node}: {description}",
        exec_start=exec_start,
        working_directory=data_dir,
        data_dir=data_dir,
        env_file="",
        memory_max="2G",
        families="AF_UNIX AF_INET AF_INET6 AF_NETLINK",  # Go lists interfaces over netlink
    )


def store_bucket_service(node: str, exec_start: str, data_dir: str, after: str) -> str:
    """A hardened oneshot that creates the store's bucket once the `after` unit (the filer)
    runs, unless it exists; retried on failure, done until the next boot."""
    return _service(
        node,
        description=f"Cunban {node}: the store's bucket",
        exec_start=exec_start,
        working_directory=CURRENT,
        data_dir=data_dir,
        env_file="",
        memory_max="256M",
        families="AF_UNIX AF_INET AF_INET6 AF_NETLINK",  # weed shell, as the servers
        oneshot_after=after,
    )


def _service(
    node: str,
    *,
    description: str,
    exec_start: str,
    working_directory: str,
    data_dir: str,
    env_file: str,
    memory_max: str,
    families: str = "AF_UNIX AF_INET AF_INET6",
    oneshot_after: str = "",  # a oneshot run once this unit has started
) -> str:
    environment = f"EnvironmentFile={env_file}\n" if env_file else ""
    after = f" {oneshot_after}\nWants={oneshot_after}" if oneshot_after else ""
    kind = (
        "Type=oneshot\nRemainAfterExit=yes\nRestart=on-failure"
        if oneshot_after
        else "Type=simple\nRestart=always"
    )
    return f"""\
[Unit]
Description={description}
Documentation=file://{CURRENT}/docs/operations.md
After=network-online.target{after}
Wants=network-online.target
PartOf={target_name(node)}
StartLimitIntervalSec=300
StartLimitBurst=10

[Service]
{kind}
User={USER}
Group={USER}
{environment}WorkingDirectory={working_directory}
ExecStart={exec_start}
RestartSec=2
TimeoutStopSec=30
KillMode=mixed
# Logs go to journald; the app masks personal data before it logs.
StandardOutput=journal
StandardError=journal
SyslogIdentifier=cunban-{node}
# Resource limits
MemoryMax={memory_max}
TasksMax=256
LimitNOFILE=65536
Nice=0
# Hardening: the system is read-only but for the node's data folder
UMask=0027
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths={data_dir}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectHostname=yes
ProtectClock=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
RestrictAddressFamilies={families}
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RemoveIPC=yes
CapabilityBoundingSet=
AmbientCapabilities=
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM

[Install]
WantedBy={target_name(node)}
"""


def target(node: str, units: list[str]) -> str:
    """The node's target: `systemctl start|stop|restart cunban-<node>.target`."""
    wants = " ".join(units)
    return f"""\
[Unit]
Description=Cunban node {node}: every process
Documentation=file://{CURRENT}/docs/operations.md
Wants={wants}
After=network-online.target

[Install]
WantedBy=multi-user.target
"""
