"""Central's followers check their mirrors and follow a node to its new replica generation
(issue 11, finding 1): real `litestream restore -f` on the embedded file store."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from edge.settings import Settings
from replication import followers, generations
from replication.litestream import replicate_once
from replication.objectstore import open_store
from replication.store_config import StoreSettings
from tests.conftest import prepare


def _edge(tmp_path: Path) -> Settings:
    settings = Settings(
        node_id="lianzhou",
        township_code="450521100000",
        data_dir=tmp_path / "edge",
        replica=StoreSettings(replica_dir=tmp_path / "store"),
    )
    asyncio.run(prepare(settings))
    return settings


def _beat(settings: Settings, beat_ms: int) -> None:
    with closing(sqlite3.connect(settings.database_path, isolation_level=None)) as conn:
        conn.execute(
            "INSERT INTO heartbeat (id, beat_ms) VALUES (1, ?) "
            "ON CONFLICT (id) DO UPDATE SET beat_ms = excluded.beat_ms",
            (beat_ms,),
        )


def _mirror_beat(follower: followers.Follower) -> int | None:
    if follower.state != "following" or follower.mirror is None:
        return None
    try:
        with closing(sqlite3.connect(f"file:{follower.mirror}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT beat_ms FROM heartbeat").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


async def _until(check, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds * 10)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _follow(tmp_path: Path, settings: Settings, scenario) -> None:  # type: ignore[no-untyped-def]
    following = followers.Following(settings.store_config, 100, check_seconds=0.5)
    follower = followers.Follower("lianzhou", tmp_path / "mirrors" / "lianzhou")

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(followers.keep_running(following, follower, stop))
        try:
            await scenario(follower)
        finally:
            stop.set()
            await task

    asyncio.run(main())


def test_a_follower_moves_to_the_generation_the_pointer_names(tmp_path):
    settings = _edge(tmp_path)
    _beat(settings, 1)
    replicate_once(settings.replicated_node)

    async def scenario(follower: followers.Follower) -> None:
        await _until(lambda: _mirror_beat(follower) == 1, 30, "generation 1 mirrored")
        assert follower.replica_generation == 1
        _beat(settings, 2)  # the node heals: a new generation from the live database
        shutil.rmtree(settings.data_dir / ".edge.db-litestream", ignore_errors=True)
        replicate_once(settings.replicated_node, generation=2)
        generations.publish(open_store(settings.store_config), "lianzhou", 2, 1)
        await _until(lambda: _mirror_beat(follower) == 2, 30, "generation 2 mirrored")
        assert follower.replica_generation == 2
        assert follower.mirror_state == "ok" and follower.mirror_good_at is not None

    _follow(tmp_path, settings, scenario)


def test_a_mirror_that_fails_its_check_is_marked_corrupt_and_followed_again(tmp_path):
    settings = _edge(tmp_path)
    _beat(settings, 7)
    replicate_once(settings.replicated_node)

    async def scenario(follower: followers.Follower) -> None:
        await _until(lambda: follower.mirror_state == "ok", 30, "a checked mirror")
        first = follower.mirror
        assert first is not None
        data = bytearray(first.read_bytes())
        for offset in range(4096 * 2, len(data), 4096):  # scramble every page after the first
            data[offset + 8 : offset + 200] = bytes(192)
        first.write_bytes(bytes(data))
        await _until(lambda: follower.mirror_state == "corrupt", 30, "the mirror marked corrupt")
        assert "quick_check" in follower.last_error
        await _until(
            lambda: follower.mirror_state == "ok" and follower.mirror != first, 30, "a new mirror"
        )
        assert _mirror_beat(follower) == 7

    _follow(tmp_path, settings, scenario)
