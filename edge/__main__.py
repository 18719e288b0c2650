"""Command line of an edge node: migrate, serve, worker, replicate, sync, restore, demo, audit,
status."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from edge.catalog.loader import CatalogError, read_catalog
from edge.kernel.clock import stamp, system_clock
from edge.kernel.db import Database, DatabaseRefused
from edge.kernel.settings import SettingsError
from edge.schema import MIGRATIONS_DIR
from edge.settings import Settings
from replication import identity
from replication.anchor import Witness, fetch_witness
from replication.feed.pull import FeedSource
from replication.litestream import RestoreRefused

# The demo, reference data and the app are imported where they are used: `replicate` must
# start Litestream within a moment of a power cut's reboot, not after a second of imports.


async def _prepare(settings: Settings) -> tuple[int, str]:
    from edge.reference import prepare_database

    db = Database(settings.database_path)
    await db.open()
    try:
        version, loaded = await prepare_database(db)
    finally:
        await db.close()
    return version, loaded.version


def _schema_current(settings: Settings) -> bool:
    """Whether the database exists in WAL mode at the newest migration (nothing to prepare)."""
    if not settings.database_path.exists():
        return False
    newest = len(list(MIGRATIONS_DIR.glob("*.sql")))
    try:
        with closing(sqlite3.connect(f"file:{settings.database_path}?mode=ro", uri=True)) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    except sqlite3.Error:
        return False
    return version == newest and mode == "wal"


def _demo(settings: Settings) -> None:
    from edge.accounts.demo_people import DEMO_PASSWORD, masked_listing
    from edge.demo import load_demo_node

    people = asyncio.run(load_demo_node(settings, system_clock(), history=True))
    print(f"demo accounts of {settings.node_id} (password {DEMO_PASSWORD}):")
    print("\n".join(masked_listing(people)))


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit 2 with a clear message when the node cannot start."""
    parser = argparse.ArgumentParser(prog="python -m edge")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create or upgrade the database, load reference data")
    commands.add_parser("serve", help="migrate, then serve the web app")
    commands.add_parser("demo", help="load demo accounts (idempotent) and list them")
    commands.add_parser("catalog-check", help="check the catalog files and exit")
    commands.add_parser("worker", help="run the huey worker (outboxes, deadline scan)")
    commands.add_parser(
        "replicate", help="run `litestream replicate` for this node, drill and heal its replica"
    )
    commands.add_parser("sync", help="write the heartbeat and pull central's command feed")
    status = commands.add_parser(
        "status", help="units, replication, feed, outboxes, disk and certificate (exit 1: trouble)"
    )
    status.add_argument("--certificate", type=Path, help="PEM file (default: Caddy's storage)")
    restore = commands.add_parser("restore", help="rebuild edge.db from its replica (DR)")
    restore.add_argument("--force", action="store_true", help="overwrite an existing edge.db")
    restore.add_argument(
        "--mirror", type=Path, help="a copy of central's mirror of this node, used if newer"
    )
    audit = commands.add_parser("audit", help="audit log tools")
    audit.add_argument(
        "action",
        choices=["verify", "rotate-key"],
        help="verify the hash chain and signatures, or rotate the node's identity key",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "catalog-check":
            catalog = read_catalog()
            print(f"catalog {catalog.version}: {len(catalog.items)} items OK")
            return 0
        settings = Settings.from_environ()
        if args.command == "status":
            from edge.health.status import status as node_status

            text, ok = node_status(settings, system_clock, args.certificate)
            print(text)
            return 0 if ok else 1
        if args.command == "demo":
            _demo(settings)
            return 0
        if args.command == "restore":
            from replication.recovery import restore as restore_database

            node = settings.replicated_node
            print(restore_database(node, force=args.force, mirror=args.mirror))
            return 0
        if args.command == "replicate":
            from replication.replicate import run as run_replicate

            if not _schema_current(settings):  # Litestream needs the database in WAL mode
                asyncio.run(_prepare(settings))
            run_replicate(settings.replicated_node)
            return 0
        if args.command == "audit" and args.action == "rotate-key":
            from edge.audit.rotation import main as rotate_key

            return rotate_key(settings.database_path, settings.keys_dir)
        if args.command == "audit":
            from edge.audit.verify import main as verify_audit

            return verify_audit(settings.database_path, _anchor(settings))
        if args.command == "serve" and settings.web.demo:
            _demo(settings)
        version, catalog_version = asyncio.run(_prepare(settings))
        print(f"{settings.database_path}: schema {version}, catalog {catalog_version}")
        if args.command == "serve":
            _serve(settings)
        if args.command == "sync":
            from edge.sync.loop import run as run_sync

            logging.basicConfig(level=settings.web.log_level.upper())
            asyncio.run(run_sync(settings))
        if args.command == "worker":
            from edge.worker import run_worker

            run_worker(settings)
        return 0
    except (SettingsError, DatabaseRefused, CatalogError, RestoreRefused) as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2


async def _signing_key(settings: Settings) -> str:
    db = Database(settings.database_path)
    await db.open()
    try:
        async with db.write() as conn:
            return await identity.ensure_key(conn, settings.keys_dir, stamp(system_clock()))
    finally:
        await db.close()


def _anchor(settings: Settings) -> Callable[[], Witness] | None:
    """Fetches central's witness of this node's audit chain (None: no central configured)."""
    if not settings.central_url:
        print("audit log not compared with central: this node has no CUNBAN_CENTRAL_URL")
        return None

    def fetch() -> Witness:
        key_id = asyncio.run(_signing_key(settings))
        source = FeedSource(settings.central_url, settings.node_id, settings.keys_dir, key_id)
        return fetch_witness(source)

    return fetch


def _serve(settings: Settings) -> None:
    import uvicorn

    from edge.app import create_app
    from edge.kernel.access_log import serving_config
    from edge.kernel.header_limit import BoundedHeadProtocol

    uvicorn.run(
        create_app(settings),
        host=settings.web.host,
        port=settings.web.port,
        log_level=settings.web.log_level,
        http=BoundedHeadProtocol,  # 431 past the head's bound, before the rest is read
        proxy_headers=False,  # the app's own TransportMiddleware (CUNBAN_TRUSTED_PROXIES)
        access_log=False,  # paths carry tracking codes: edge.kernel.access_log instead
        log_config=serving_config(settings.web.log_level),
    )


if __name__ == "__main__":
    sys.exit(main())
