"""One follow process keeps many mirrors current by applying LTX files itself (issue 17, goal 4):
real Litestream replicas on the embedded file store, one `litestream restore` per mirror,
then only the new level-0 files; a gap or a new generation restores anew; shards by node id."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import time
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from central import follow
from central.follow import run
from central.settings import CentralSettings
from edge.kernel.clock import system_clock
from edge.kernel.db import Database, connect_sync
from edge.kernel.settings import SettingsError
from edge.settings import Settings
from replication import followers, generations, ltx, polled_followers, shards, shipped_batches
from replication.ingest import read_batch
from replication.litestream import (
    litestream_binary,
    litestream_environ,
    replicate_once,
    write_config,
)
from replication.mirror_readers import MirrorReaders
from replication.objectstore import StoreUnavailable, open_store
from replication.store_config import StoreSettings
from replication.tables import TABLES
from replication.turn_phases import TurnPhases
from tests.conftest import prepare
from tests.test_central_monitor import ADMIN_PHONE, _monitor, _row, _sign_in


def _edge(tmp_path: Path, node_id: str = "lianzhou") -> Settings:
    settings = Settings(
        node_id=node_id,
        township_code="450521100000",
        data_dir=tmp_path / node_id,
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


def _mirror_beat(mirror: Path | None) -> int | None:
    if mirror is None:
        return None
    with closing(sqlite3.connect(f"file:{mirror}?mode=ro", uri=True)) as conn:
        row = conn.execute("SELECT beat_ms FROM heartbeat").fetchone()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return int(row[0]) if row else None


async def _turns(following, store, polled, until, what: str) -> None:  # type: ignore[no-untyped-def]
    pool = asyncio.Semaphore(1)
    for _ in range(300):
        await polled_followers.poll(following, store, polled, pool)
        if until():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}: {polled.follower.last_error}")


def _following(settings: Settings) -> followers.Following:
    return followers.Following(settings.store_config, 100, check_seconds=0.5)


def test_one_restore_then_each_new_transaction_is_applied_from_its_ltx_file(tmp_path):
    settings = _edge(tmp_path)
    _beat(settings, 1)
    replicate_once(settings.replicated_node)
    following = _following(settings)
    store = open_store(settings.store_config)
    polled = polled_followers.Polled(followers.Follower("lianzhou", tmp_path / "mirrors" / "l"))

    async def scenario() -> None:
        await _turns(following, store, polled, lambda: polled.txid > 0, "the first restore")
        assert _mirror_beat(polled.follower.mirror) == 1
        for beat in (2, 3, 4):
            _beat(settings, beat)
            replicate_once(settings.replicated_node)
            await _turns(
                following,
                store,
                polled,
                lambda b=beat: _mirror_beat(polled.follower.mirror) == b,  # type: ignore[misc]
                f"beat {beat} applied",
            )

    asyncio.run(scenario())
    assert polled.follower.generation == 1  # restored once; beats 2-4 came as LTX files
    assert polled.follower.restarts == 0 and polled.follower.state == "following"
    level0 = ltx.level_prefix("file", generations.replica_prefix("lianzhou", 1), 0)
    assert polled.txid == max(ids[1] for key in store.keys(level0) if (ids := ltx.txids(key)))


def test_a_reader_kept_open_sees_each_commit_even_one_that_leaves_page_1_alone(tmp_path):
    settings = _edge(tmp_path)
    _beat(settings, 1)
    replicate_once(settings.replicated_node)
    following = _following(settings)
    store = open_store(settings.store_config)
    polled = polled_followers.Polled(followers.Follower("lianzhou", tmp_path / "mirrors" / "l"))
    readers = MirrorReaders()
    edge = connect_sync(settings.database_path)  # kept open, as the edge's app keeps its own

    def kept_beat() -> int:
        assert polled.follower.mirror is not None
        conn = readers.connection("lianzhou", polled.follower.mirror)
        return int(conn.execute("SELECT beat_ms FROM heartbeat").fetchone()[0])

    async def scenario() -> None:
        await _turns(following, store, polled, lambda: polled.txid > 0, "the first restore")
        assert kept_beat() == 1
        for beat in (2, 3):  # an UPDATE in WAL mode, no checkpoint: its LTX has no page 1
            edge.execute("UPDATE heartbeat SET beat_ms = ?", (beat,))
            replicate_once(settings.replicated_node)
            before = polled.txid
            await _turns(following, store, polled, lambda b=before: polled.txid > b, "a file")
            assert _mirror_beat(polled.follower.mirror) == beat  # a fresh connection
            assert kept_beat() == beat  # and the one kept open since the restore

    try:
        asyncio.run(scenario())
    finally:
        readers.close()
        edge.close()
    assert polled.follower.generation == 1


def _compact_level_1(settings: Settings, level1: Path) -> None:
    """Run Litestream with a 1 s level-1 compaction until level 1 holds a file."""
    config = json.loads(write_config(settings.replicated_node).read_text(encoding="utf-8"))
    config["levels"] = [{"interval": "1s"}]
    path = settings.data_dir / "compact.yml"
    path.write_text(json.dumps(config), encoding="utf-8")
    process = subprocess.Popen(
        [litestream_binary(), "replicate", "-config", str(path)],
        env=litestream_environ(settings.replicated_node.store),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            if level1.is_dir() and any(level1.iterdir()):
                return
            time.sleep(0.1)
        raise AssertionError("Litestream compacted nothing into level 1")
    finally:
        process.terminate()
        process.wait(30)


def test_a_node_far_behind_catches_up_from_level_1_in_one_turn(tmp_path):
    settings = _edge(tmp_path)
    _beat(settings, 1)
    replicate_once(settings.replicated_node)
    following = _following(settings)
    store = open_store(settings.store_config)
    polled = polled_followers.Polled(followers.Follower("lianzhou", tmp_path / "mirrors" / "l"))
    replica = settings.store_config.root / generations.replica_prefix("lianzhou", 1)
    behind = polled_followers.FILES_A_TURN + 4
    phases = TurnPhases()

    async def scenario() -> None:
        await _turns(following, store, polled, lambda: polled.txid > 0, "the first restore")
        edge = connect_sync(settings.database_path)
        try:
            for beat in range(2, 2 + behind):  # one level-0 file each
                edge.execute("UPDATE heartbeat SET beat_ms = ?", (beat,))
                replicate_once(settings.replicated_node)
        finally:
            edge.close()
        _compact_level_1(settings, replica / "ltx" / "1")
        polled.checked_at = asyncio.get_running_loop().time()  # no mirror check this turn
        await polled_followers.poll(following, store, polled, asyncio.Semaphore(1), phases)

    asyncio.run(scenario())
    assert polled.follower.state == "following", polled.follower.last_error
    assert _mirror_beat(polled.follower.mirror) == 1 + behind  # all of it in one turn
    newest = max(ids[1] for key in store.keys(str(replica)) if (ids := ltx.txids(key)))
    assert polled.txid == newest
    got = json.loads(phases.report())["phases"]["get"]["count"]
    assert got < behind  # the level-1 file instead of one GET per transaction
    assert polled.follower.generation == 1  # caught up without a restore


def test_a_gap_in_level_0_or_a_new_generation_restores_the_mirror_anew(tmp_path):
    settings = _edge(tmp_path)
    _beat(settings, 1)
    replicate_once(settings.replicated_node)
    following = _following(settings)
    store = open_store(settings.store_config)
    polled = polled_followers.Polled(followers.Follower("lianzhou", tmp_path / "mirrors" / "l"))
    replica = settings.store_config.root / generations.replica_prefix("lianzhou", 1)

    async def scenario() -> None:
        await _turns(following, store, polled, lambda: polled.txid > 0, "the first restore")
        _beat(settings, 2)
        replicate_once(settings.replicated_node)
        _beat(settings, 3)
        replicate_once(settings.replicated_node)
        newest = sorted((replica / "ltx" / "0").iterdir())[-2]  # beat 2's file: now a gap
        newest.rename(replica / "ltx" / "0" / ("x" + newest.name))
        await _turns(
            following, store, polled, lambda: polled.follower.restarts == 1, "the gap seen"
        )
        assert "jumps from txid" in polled.follower.last_error
        newest.parent.joinpath("x" + newest.name).rename(newest)
        await _turns(
            following, store, polled, lambda: _mirror_beat(polled.follower.mirror) == 3, "beat 3"
        )
        assert polled.follower.generation == 2
        # the node moves to generation 2 (a healed replica): its pointer names it
        _beat(settings, 9)
        replicate_once(settings.replicated_node, generation=2)
        generations.publish(store, "lianzhou", 2, 0)
        await _turns(
            following, store, polled, lambda: _mirror_beat(polled.follower.mirror) == 9, "gen 2"
        )
        assert polled.follower.replica_generation == 2

    asyncio.run(scenario())


def test_shards_split_the_nodes_and_two_shards_on_one_machine_ingest_every_node(tmp_path):
    names = ["lianzhou", "fucheng", "shankou", "baisha", "shatian", "changle"]
    owners = {name: [i for i in range(2) if shards.owns((i, 2), name)] for name in names}
    assert all(len(found) == 1 for found in owners.values())  # each node in exactly one shard
    assert {found[0] for found in owners.values()} == {0, 1}
    assert shards.parse("1/2") == (1, 2) and shards.parse("2/2") is None
    chosen = [next(name for name in names if owners[name] == [i]) for i in range(2)]
    edges = [_edge(tmp_path, name) for name in chosen]
    for number, edge in enumerate(edges, start=1):
        _beat(edge, 1000 + number)
        replicate_once(edge.replicated_node)
    codes = ["450521100000", "450503101000"]  # the jurisdiction tree's two townships
    registry = ",".join(
        f"{name}={codes[n % 2]}=http://127.0.0.1:{9000 + n}" for n, name in enumerate(chosen)
    )
    base = CentralSettings(
        data_dir=tmp_path / "central",
        nodes=registry,
        replica=StoreSettings(replica_dir=tmp_path / "store"),
        follow_interval_ms=100,
    )

    async def both() -> None:
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(run(replace(base, follow_shard=f"{i}/2"), stop=stop))
            for i in range(2)
        ]
        try:
            for _ in range(300):
                if _ingested(base) == {name: 1001 + n for n, name in enumerate(chosen)}:
                    break
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.gather(*tasks)

    asyncio.run(both())
    assert _ingested(base) == {name: 1001 + n for n, name in enumerate(chosen)}
    with closing(sqlite3.connect(base.database_path)) as conn:
        rows = dict(conn.execute("SELECT node_id, mirror_path FROM followers").fetchall())
    assert set(rows) == set(chosen)
    for name in chosen:  # each mirror lives under the node's own folder
        assert rows[name] and f"/mirrors/{name}/" in rows[name]


def test_a_shard_on_a_second_machine_ships_its_rows_and_central_db_keeps_one_writer(tmp_path):
    names = ["lianzhou", "fucheng", "shankou", "baisha", "shatian", "changle"]
    chosen = [next(n for n in names if shards.owns((i, 2), n)) for i in range(2)]
    edges = [_edge(tmp_path, name) for name in chosen]
    codes = ["450521100000", "450503101000"]
    registry = ",".join(
        f"{name}={codes[n]}=http://127.0.0.1:{9000 + n}" for n, name in enumerate(chosen)
    )
    store_settings = StoreSettings(replica_dir=tmp_path / "store")
    machine_a = CentralSettings(  # central's machine: central.db and shard 0
        data_dir=tmp_path / "a",
        nodes=registry,
        replica=store_settings,
        follow_interval_ms=100,
        follow_shard="0/2",
    )
    machine_b = replace(machine_a, data_dir=tmp_path / "b", follow_shard="1/2", follow_ship=True)
    machine_b.validate()
    with pytest.raises(SettingsError, match="FOLLOW_SHIP"):
        replace(machine_a, follow_ship=True).validate()
    with pytest.raises(SettingsError, match="FOLLOW_MODE=poll"):
        replace(machine_b, follow_mode="litestream").validate()
    expected = {chosen[0]: 2001, chosen[1]: 2002}

    async def both() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(run(m, stop=stop)) for m in (machine_a, machine_b)]
        try:
            for round_ in range(2):  # the first restore, then a second beat as LTX files
                for number, edge in enumerate(edges, start=1):
                    _beat(edge, 1000 * (round_ + 1) + number)
                    replicate_once(edge.replicated_node)
                wanted = {n: 1000 * (round_ + 1) + i for i, n in enumerate(chosen, start=1)}
                for _ in range(300):
                    if _ingested(machine_a) == wanted:
                        break
                    await asyncio.sleep(0.1)
            for _ in range(300):  # B's follower rows reach central within SHIP_SECONDS
                if _follower_states(machine_a).get(chosen[1]) == "following":
                    break
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.gather(*tasks)

    asyncio.run(both())
    assert _ingested(machine_a) == expected  # both shards' nodes in central's one database
    assert _ingested(machine_b) == {chosen[1]: 2002}  # B's own state: only its shard
    with closing(sqlite3.connect(machine_a.database_path)) as conn:
        lagged = {row[0] for row in conn.execute("SELECT node_id FROM lag_samples")}
        applied = conn.execute("SELECT shard, last_key FROM shipped_batches").fetchall()
    assert lagged == set(chosen)
    assert [shard for shard, _ in applied] == ["1-of-2"]
    store = open_store(machine_a.store_config)
    assert store.keys(shipped_batches.PREFIX) == []  # applied batches are deleted
    # central's /nodes shows B's township followed, as it shows A's own
    assert _follower_states(machine_a) == {chosen[0]: "following", chosen[1]: "following"}
    with closing(sqlite3.connect(machine_a.database_path)) as conn:
        paths = dict(conn.execute("SELECT node_id, mirror_path FROM followers").fetchall())
    assert paths[chosen[1]] is None and paths[chosen[0]]  # B's mirror is not on this machine
    with _monitor(machine_a.data_dir, system_clock, registry) as client:
        _sign_in(client, machine_a.data_dir, ADMIN_PHONE, "central_admin")
        page = client.get("/nodes").text
    for name in chosen:
        row = _row(page, name)
        assert "跟随中" in row and "未启动" not in row, row


def _follower_states(settings: CentralSettings) -> dict[str, str]:
    try:
        with closing(sqlite3.connect(settings.database_path)) as conn:
            return dict(conn.execute("SELECT node_id, state FROM followers").fetchall())
    except sqlite3.Error:
        return {}


def _ingested(settings: CentralSettings) -> dict[str, int]:
    if not settings.database_path.exists():
        return {}
    try:
        with closing(sqlite3.connect(settings.database_path)) as conn:
            return dict(conn.execute("SELECT node_id, beat_ms FROM edge_heartbeat").fetchall())
    except sqlite3.Error:
        return {}


def test_a_shipped_batch_keeps_blobs_and_a_damaged_one_is_passed_over():
    blobs = next(t for t in TABLES if t.name == "blobs")
    changes = {"lianzhou": {blobs: (["sha256", "data", "rev"], [("ab", b"\x00\xff", 7)])}}
    assert shipped_batches.unpack(shipped_batches.pack(changes)) == changes
    assert read_batch("central/batches/1-of-2/x.json", b"{not json") == {}
    assert read_batch("central/batches/1-of-2/x.json", None) == {}


def _snapshot(settings: Settings, snapshots: Path) -> None:
    """Run Litestream with a 1 s snapshot interval until the snapshot level holds a file."""
    config = json.loads(write_config(settings.replicated_node).read_text(encoding="utf-8"))
    config["levels"] = [{"interval": "1s"}]
    config["snapshot"] = {"interval": "1s"}
    path = settings.data_dir / "snapshot.yml"
    path.write_text(json.dumps(config), encoding="utf-8")
    process = subprocess.Popen(
        [litestream_binary(), "replicate", "-config", str(path)],
        env=litestream_environ(settings.replicated_node.store),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            if snapshots.is_dir() and any(snapshots.iterdir()):
                return
            time.sleep(0.1)
        raise AssertionError("Litestream wrote no snapshot")
    finally:
        process.terminate()
        process.wait(30)


def test_a_new_mirror_is_rebuilt_from_the_snapshot_and_the_files_after_it_without_litestream(
    tmp_path, monkeypatch
):
    settings = _edge(tmp_path)
    edge = connect_sync(settings.database_path)
    try:
        for beat in range(1, 41):  # forty transactions, one level-0 file each
            edge.execute(
                "INSERT INTO heartbeat (id, beat_ms) VALUES (1, ?) "
                "ON CONFLICT (id) DO UPDATE SET beat_ms = excluded.beat_ms",
                (beat,),
            )
            replicate_once(settings.replicated_node)
        replica = settings.store_config.root / generations.replica_prefix("lianzhou", 1)
        _snapshot(settings, replica / "ltx" / str(ltx.SNAPSHOT_LEVEL))
        edge.execute("UPDATE heartbeat SET beat_ms = 41")  # after the snapshot: level 0
        replicate_once(settings.replicated_node)
    finally:
        edge.close()
    # no Litestream for the restore: the follow process rebuilds the mirror itself
    monkeypatch.setattr(polled_followers, "litestream_binary", lambda: "/nonexistent/litestream")
    store = open_store(settings.store_config)
    levels = polled_followers.replica_levels(store, "file", str(replica.relative_to(store.root)))
    plan, reach = polled_followers.restore_plan(levels)
    assert plan[0] in levels[ltx.SNAPSHOT_LEVEL] and plan[-1] in levels[0]
    assert len(plan) < 5 and reach == max(ltx.txids(k)[1] for k in levels[0])  # type: ignore[index]
    polled = polled_followers.Polled(followers.Follower("lianzhou", tmp_path / "mirrors" / "l"))
    phases = TurnPhases()

    async def scenario() -> None:
        pool = asyncio.Semaphore(1)
        await polled_followers.poll(_following(settings), store, polled, pool, phases)
        await asyncio.gather(*polled_followers.RUNNING)

    asyncio.run(scenario())
    assert polled.follower.state == "following", polled.follower.last_error
    assert _mirror_beat(polled.follower.mirror) == 41 and polled.txid == reach
    assert json.loads(phases.report())["phases"]["get"]["count"] == len(plan)
    # the litestream way stays: FOLLOW_RESTORE=litestream (here without a binary) fails
    again = polled_followers.Polled(followers.Follower("lianzhou", tmp_path / "mirrors" / "m"))
    litestream = replace(_following(settings), restore="litestream")

    async def by_litestream() -> None:
        await polled_followers.poll(litestream, store, again, asyncio.Semaphore(1))
        await asyncio.gather(*polled_followers.RUNNING)

    asyncio.run(by_litestream())
    assert again.follower.state == "backoff" and "nonexistent" in again.follower.last_error


def test_a_shard_whose_batch_cannot_be_put_copies_nothing_and_tries_again(tmp_path):
    settings = _edge(tmp_path)
    _beat(settings, 7)
    replicate_once(settings.replicated_node)
    store = open_store(settings.store_config)
    polled = polled_followers.Polled(followers.Follower("lianzhou", tmp_path / "mirrors" / "l"))
    central = CentralSettings(
        data_dir=tmp_path / "b",
        nodes="lianzhou=450521100000=http://127.0.0.1:9000",
        replica=StoreSettings(replica_dir=tmp_path / "store"),
    )
    shipped: list[int] = []

    def ship(changes: object) -> None:
        if not shipped:
            shipped.append(0)
            raise StoreUnavailable("put central/batches/...: S3Error")  # the store said no
        shipped.append(1)

    async def scenario() -> tuple[bool, dict[str, int], bool]:
        await _turns(_following(settings), store, polled, lambda: polled.txid > 0, "restore")
        db = Database(central.database_path, replicated=False)
        await db.open()
        try:
            columns, _ = await follow.prepare(db, central, system_clock)
            args = (db, central, [polled.follower], columns, 1)
            more = await follow.ingest_all(*args, ship=ship)
            before = _ingested(central)
            again = await follow.ingest_all(*args, ship=ship)
            return more, before, again
        finally:
            await db.close()

    more, before, _ = asyncio.run(scenario())
    assert more is True and before == {}  # nothing copied while the batch was not in the store
    assert shipped == [0, 1] and _ingested(central) == {"lianzhou": 7}
