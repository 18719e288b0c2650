"""Command line: python -m central migrate | serve | follow | demo | open311-key | audit verify."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from central.audit.record import record
from central.demo import load_demo_central
from central.nodes import parse_registry
from central.schema import migrate_database
from central.settings import CentralSettings
from edge.accounts.demo_people import DEMO_PASSWORD, masked_listing
from edge.kernel.clock import stamp, system_clock
from edge.kernel.db import Database, DatabaseRefused
from edge.kernel.settings import SettingsError

T = TypeVar("T")


async def _migrate(settings: CentralSettings) -> int:
    db = Database(settings.database_path, replicated=False)
    await db.open()
    try:
        return await migrate_database(db)
    finally:
        await db.close()


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit 2 with a clear message when central cannot start."""
    parser = argparse.ArgumentParser(prog="python -m central")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create or upgrade central.db")
    commands.add_parser("serve", help="migrate, then serve the web app")
    follow_command = commands.add_parser(
        "follow", help="follow every node's replica and ingest it into central.db"
    )
    follow_command.add_argument(
        "--shard", help="follow only shard i of n (by node-id hash), e.g. 0/2; see README"
    )
    commands.add_parser("demo", help="load the demo accounts (idempotent) and list them")
    publish = commands.add_parser(
        "publish-calendar", help="send the holiday calendar to every node"
    )
    publish.add_argument("first_year", type=int)
    publish.add_argument("last_year", type=int)
    commands.add_parser("publish-catalog", help="send the service catalog to every node")
    key = commands.add_parser("open311-key", help="make an Open311 API key for a client")
    key.add_argument("client", help="who the key is for (shown in the audit log)")
    audit = commands.add_parser("audit", help="audit log tools")
    audit.add_argument(
        "action",
        choices=["verify", "rotate-key"],
        help="verify central's and nodes' chains, or rotate central's identity key",
    )
    audit.add_argument("--node", help="check only this node's chain against the witness")
    status = commands.add_parser(
        "status", help="units, followers, lag, feed backlog, disk, certificate (exit 1: trouble)"
    )
    status.add_argument("--certificate", type=Path, help="PEM file (default: Caddy's storage)")
    args = parser.parse_args(argv)
    try:
        settings = CentralSettings.from_environ()
        if getattr(args, "shard", None):
            settings = replace(settings, follow_shard=args.shard)
            settings.validate()
        if args.command == "status":
            from central.monitor.host_status import status as central_status

            text, ok = central_status(settings, system_clock, args.certificate)
            print(text)
            return 0 if ok else 1
        parse_registry(settings.nodes)
        version = asyncio.run(_migrate(settings))
        print(f"{settings.database_path}: schema {version}")
        if args.command == "demo" or (args.command == "serve" and settings.web.demo):
            _demo(settings)
        if args.command == "serve":
            _serve(settings)
        if args.command == "publish-calendar":
            years = range(args.first_year, args.last_year + 1)
            sent = asyncio.run(_publish_calendar(settings, years))
            print(f"calendar {years.start}-{years.stop - 1} queued for {sent} nodes")
        if args.command == "publish-catalog":
            catalog_version, sent = asyncio.run(_publish_catalog(settings))
            print(f"catalog {catalog_version} queued for {sent} nodes")
        if args.command == "audit" and args.action == "rotate-key":
            from edge.audit.rotation import main as rotate_key

            return rotate_key(settings.database_path, settings.keys_dir, replicated=False)
        if args.command == "open311-key":
            print(asyncio.run(_open311_key(settings, args.client)))
        if args.command == "audit":
            from central.audit.verify import main as verify_audit

            return verify_audit(settings, args.node)
        if args.command == "follow":
            from central.follow import run as follow

            logging.basicConfig(level=settings.web.log_level.upper())
            asyncio.run(follow(settings))
        return 0
    except (SettingsError, DatabaseRefused, ValueError) as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2


async def _publish(
    settings: CentralSettings, action: str, publish: Callable[[Any, str], Awaitable[T]]
) -> T:
    """Register the nodes, then append what `publish` makes and its audit row, in one
    transaction."""
    from central.feed.publish import apply_registry

    db = Database(settings.database_path, replicated=False)
    await db.open()
    try:
        now = stamp(system_clock())
        async with db.write() as conn:
            await apply_registry(conn, settings.nodes, now)
            published = await publish(conn, now)
            await record(conn, settings.keys_dir, None, action, "feed", "all_nodes", now)
            return published
    finally:
        await db.close()


async def _publish_calendar(settings: CentralSettings, years: range) -> int:
    from central.feed.publish import publish_calendar

    sent = await _publish(
        settings, "publish_calendar", lambda conn, now: publish_calendar(conn, years, now)
    )
    return len(sent)


async def _publish_catalog(settings: CentralSettings) -> tuple[str, int]:
    from central.feed.publish import publish_catalog

    version, ids = await _publish(settings, "publish_catalog", publish_catalog)
    return version, len(ids)


async def _open311_key(settings: CentralSettings, client: str) -> str:
    """A new Open311 API key (printed once; central keeps its sha256), audited."""
    from central.feedback.keys import create

    db = Database(settings.database_path, replicated=False)
    await db.open()
    try:
        now = stamp(system_clock())
        async with db.write() as conn:
            raw = await create(conn, client[:60], "operator", now)
            await record(
                conn, settings.keys_dir, None, "open311_key", "open311_keys", client[:60], now
            )
        return raw
    finally:
        await db.close()


def _demo(settings: CentralSettings) -> None:
    people = asyncio.run(load_demo_central(settings, stamp(system_clock())))
    print(f"demo accounts of central (password {DEMO_PASSWORD}):")
    print("\n".join(masked_listing(people)))


def _serve(settings: CentralSettings) -> None:
    import uvicorn

    from central.app import create_app
    from edge.kernel.access_log import serving_config
    from edge.kernel.header_limit import BoundedHeadProtocol

    uvicorn.run(
        create_app(settings),
        host=settings.web.host,
        port=settings.web.port,
        log_level=settings.web.log_level,
        http=BoundedHeadProtocol,  # 431 past the head's bound, before the rest is read
        ssl_certfile=settings.tls_cert or None,  # HTTPS itself, when no proxy terminates it
        ssl_keyfile=settings.tls_key or None,
        proxy_headers=False,  # the app's own TransportMiddleware (CUNBAN_TRUSTED_PROXIES)
        access_log=False,  # paths carry tracking codes: edge.kernel.access_log instead
        log_config=serving_config(settings.web.log_level),
    )


if __name__ == "__main__":
    sys.exit(main())
