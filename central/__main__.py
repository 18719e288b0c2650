"""Command line: python -m central migrate | serve."""

from __future__ import annotations

import argparse
import asyncio
import sys

from central.nodes import parse_registry
from central.schema import migrate_database
from central.settings import CentralSettings
from edge.db import Database, DatabaseRefused
from edge.settings import SettingsError


async def _migrate(settings: CentralSettings) -> int:
    db = Database(settings.database_path)
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
    args = parser.parse_args(argv)
    try:
        settings = CentralSettings.from_environ()
        parse_registry(settings.nodes)
        version = asyncio.run(_migrate(settings))
        print(f"{settings.database_path}: schema {version}")
        if args.command == "serve":
            _serve(settings)
        return 0
    except (SettingsError, DatabaseRefused, ValueError) as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2


def _serve(settings: CentralSettings) -> None:
    import uvicorn

    from central.app import create_app

    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level
    )


if __name__ == "__main__":
    sys.exit(main())
