"""`deploy/install edge|central|follow|store|upgrade ...`: parse, plan, apply (or only say)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from deploy import caddyfile, roles, units
from deploy.release import source_version
from deploy.steps import StepFailed, Target, run
from deploy.upgrade import DEFAULT_WAIT
from replication import shards

SOURCE = Path(__file__).resolve().parent.parent


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="deploy/install", description="Install or upgrade a Cunban node on Debian."
    )
    roles_ = main.add_subparsers(dest="role", required=True)
    edge = roles_.add_parser("edge", help="a township node")
    edge.add_argument("--node-id", required=True)
    edge.add_argument("--township", required=True, help="12-digit township code")
    edge.add_argument("--central", default="", help="central's https:// URL")
    central = roles_.add_parser("central", help="the city's central node")
    central.add_argument("--nodes", default="", help="node_id=township_code=base_url,...")
    central.add_argument(
        "--shard", default="", help="0/n when follow machines take shards 1/n..n-1/n"
    )
    follow = roles_.add_parser(
        "follow", help="a machine that follows one shard of the townships for central"
    )
    follow.add_argument("--shard", required=True, help="i/n, not 0/n (central's own shard)")
    follow.add_argument("--nodes", default="", help="as central's: node_id=township_code=url,...")
    follow.add_argument("--store", required=True, help="the S3 store's URL")
    follow.add_argument("--store-access-key", default="central", help="central's S3 identity")
    follow.add_argument("--store-secret-key", required=True, help="its secret")
    store = roles_.add_parser("store", help="one machine of the SeaweedFS store cluster")
    store.add_argument("--ip", required=True, help="this machine's address for the cluster")
    store.add_argument("--peers", default="", help="every master, ip:9333, comma-separated")
    store.add_argument("--replication", default="001", help="SeaweedFS placement, e.g. 001")
    store.add_argument(
        "--volume-mb", type=int, default=30000, help="size of one volume (SeaweedFS's default)"
    )
    store.add_argument("--identity", action="append", default=[], metavar="NAME=KEY:SECRET")
    upgrade = roles_.add_parser("upgrade", help="install a new release beside the current one")
    upgrade.add_argument("--node", required=True, help="the node's name (its env file)")
    upgrade.add_argument("--healthz", default="", help="URL to check (default: the node's own)")
    upgrade.add_argument(
        "--wait", type=float, default=DEFAULT_WAIT, help="seconds /healthz may take"
    )
    upgrade.add_argument("--systemctl", default="systemctl", help="the systemctl to run")
    for sub in (edge, central, follow, store, upgrade):
        sub.add_argument("--root", type=Path, default=Path("/"), help="install under a folder")
        sub.add_argument("--dry-run", action="store_true", help="say what would change")
        sub.add_argument("--source", type=Path, default=SOURCE, help="the release's source tree")
        sub.add_argument("--version", default="", help="release name (default: pyproject's)")
    for sub in (edge, central, store):
        sub.add_argument("--domain", required=True, help="public name or intranet address")
        sub.add_argument("--store", default="", help="the S3 store's URL (empty: a folder)")
        sub.add_argument("--store-access-key", default="")
        sub.add_argument("--store-secret-key", default="")
        sub.add_argument("--port", type=int, default=0, help="web process port on loopback")
        sub.add_argument("--tls", default="auto", help="auto (ACME), internal or cert")
        sub.add_argument("--tls-cert", default="")
        sub.add_argument("--tls-key", default="")
        sub.add_argument("--email", default="", help="ACME contact address")
    return main


def main(argv: list[str] | None = None) -> int:
    """Run the command; a failed step is said in one line (what is done stays done: run it
    again once the cause is fixed)."""
    try:
        return _main(argv)
    except StepFailed as failed:
        print(f"deploy/install: FAILED {failed}; fix the cause and run it again", file=sys.stderr)
        return 1


def _main(argv: list[str] | None) -> int:
    args = parser().parse_args(argv)
    target = Target(args.root.resolve(), args.dry_run)
    version = args.version or source_version(args.source)
    if args.role == "upgrade":
        from deploy.upgrade import upgrade

        return upgrade(
            target,
            args.node,
            args.source.resolve(),
            version,
            args.healthz,
            args.wait,
            args.systemctl,
        )
    if args.role == "follow":
        return _install_follow(args, target, version)
    tls = caddyfile.Tls(args.tls, args.tls_cert, args.tls_key)
    if problem := tls.problem(args.domain):
        print(f"deploy/install: {problem}", file=sys.stderr)
        return 2
    plan = _plan(args, target, version, tls)
    if isinstance(plan, str):
        print(f"deploy/install: {plan}", file=sys.stderr)
        return 2
    print(
        f"{'Would install' if target.dry_run else 'Installing'} {plan.role} node {plan.node} "
        f"(release {version}) under {target.root}"
    )
    steps = (
        roles.store_steps(
            plan, args.ip, _list(args.peers), args.replication, _s3_config(plan), args.volume_mb
        )
        if plan.role == "store"
        else roles.node_steps(plan, units.EDGE if plan.role == "edge" else units.CENTRAL)
    )
    run(steps, target)
    return 0


def _install_follow(args: argparse.Namespace, target: Target, version: str) -> int:
    """A follow machine: central's follow process alone on shard `--shard`, shipping to
    central through the store; no web process, no Caddy."""
    shard = shards.parse(args.shard)
    if shard is None or shard[0] == 0:
        refusal = "--shard must be i/n with 0 < i < n (0/n is central's own)"
        print(f"deploy/install: {refusal}", file=sys.stderr)
        return 2
    node = shards.machine_name(shard)
    told = {name: value for name, value in vars(args).items() if isinstance(value, str) and value}
    wanted = roles.follow_values(told, f"{roles.DATA}/{node}")
    fixed = {"DATA_DIR", "FOLLOW_MODE", "FOLLOW_SHARD", "FOLLOW_SHIP", "STORE", "REPLICA_DIR"}
    fixed |= {"S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY"}
    fixed |= {"NODES"} if args.nodes else set()
    values = roles.merged(
        target, f"{roles.ETC}/{node}.env", wanted, {f"CUNBAN_CENTRAL_{n}" for n in fixed}
    )
    plan = roles.Plan(
        "follow", node, version, args.source.resolve(), "", 0, caddyfile.Tls("auto", "", ""),
        values=values, borrow_venv=not target.real,
    )  # fmt: skip
    print(
        f"{'Would install' if target.dry_run else 'Installing'} follow node {node} "
        f"(shard {args.shard}, release {version}) under {target.root}"
    )
    run(roles.node_steps(plan, units.FOLLOW), target)
    return 0


def _plan(
    args: argparse.Namespace, target: Target, version: str, tls: caddyfile.Tls
) -> roles.Plan | str:
    told = {name: value for name, value in vars(args).items() if isinstance(value, str) and value}
    if args.role == "store":
        try:
            identities = _identities(args.identity)
        except ValueError as refused:
            return str(refused)
        port = args.port or roles.STORE_PORTS["s3"]
        return roles.Plan(
            "store", "store", version, args.source.resolve(), args.domain, port, tls, args.email,
            {"S3_CONFIG": identities}, borrow_venv=not target.real,
        )  # fmt: skip
    if args.role == "edge":
        if not (len(args.township) == 12 and args.township.isdigit()):
            return "--township must be the 12-digit code of the township"
        node, prefix, default_port = args.node_id, "CUNBAN_", 8001
        wanted = roles.edge_values(told, f"{roles.DATA}/{node}", args.port or default_port)
    else:
        if args.shard and (shards.parse(args.shard) or (1, 1))[0] != 0:
            return "--shard must be 0/n on central (follow machines take 1/n to n-1/n)"
        node, prefix, default_port = "central", "CUNBAN_CENTRAL_", 8000
        wanted = roles.central_values(told, f"{roles.DATA}/{node}", args.port or default_port)
    env_path = f"{roles.ETC}/{node}.env"
    values = roles.merged(target, env_path, wanted, _told(args, prefix))
    port = int(values.get(f"{prefix}PORT") or default_port)
    return roles.Plan(
        args.role, node, version, args.source.resolve(), args.domain, port, tls, args.email, values,
        borrow_venv=not target.real,
    )  # fmt: skip


def _told(args: argparse.Namespace, prefix: str) -> set[str]:
    """Settings this run's arguments fix: what the command line said, and what follows from
    the install itself; the rest (a port, central, the store, secrets not given) stays as the
    env file has it."""
    told = {
        "DATA_DIR", "HOST", "BASE_URL", "COOKIE_SECURE", "CLIENT_ADDRESS_HEADER", "REPLICA_DIR",
        "TRUSTED_PROXIES",
    }  # fmt: skip
    if args.role == "edge":
        told |= {"NODE_ID", "TOWNSHIP_CODE"}
        if args.central:
            told.add("CENTRAL_URL")
    else:
        told |= {"NODES"} if args.nodes else set()
        told |= {"FOLLOW_SHARD"} if args.shard else set()
    given = {
        "PORT": args.port,
        "STORE": args.store,
        "S3_ENDPOINT": args.store,
        "S3_ACCESS_KEY": args.store_access_key,
        "S3_SECRET_KEY": args.store_secret_key,
    }
    told |= {name for name, value in given.items() if value}
    return {prefix + name for name in told}


def _identities(entries: list[str]) -> str:
    """SeaweedFS's S3 identities file (central reads all, each node writes its own prefix)."""
    from replication.store import identities

    if not entries:
        raise ValueError("--identity NAME=KEY:SECRET is required (central and each node)")
    try:
        return json.dumps(identities(entries), indent=2) + "\n"
    except SystemExit as refused:
        raise ValueError(str(refused)) from None


def _s3_config(plan: roles.Plan) -> str:
    return f"{plan.data_dir}/s3.json"


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
