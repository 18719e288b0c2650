"""The whole system on loopback: SeaweedFS, central (web + followers), two township edges.

An application goes village -> township (edge) -> county (central) -> applied at the edge,
through real processes; then the store and central vanish, processes are killed, and a dead
edge is rebuilt from the store. Nothing is mocked.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from central.demo import ADMIN_PHONE
from tests.bulletin_support import KEY
from tests.cluster import PYTHON, ROOT, Cluster, Edge, wait_for, wait_for_port
from tests.conftest import AGENT_QIANJIANG, STAFF, csrf_of, login
from tests.intake_support import KEY_FIELD, intake_data, intake_files

RECEIPT = re.compile(r"/agent/applications/([0-9A-Z]{26})/receipt")
HEFU_COUNTY = "450521000000"
FUCHENG_AGENT = "13807720011"  # the agent of Fucheng's first village


@pytest.fixture
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    """Store (S3, or a `file` folder), both edges and central, running; SIGTERM afterwards."""
    running = Cluster(tmp_path, store=getattr(request, "param", "s3"))
    try:
        if running.store == "s3":
            running.start_store()
        for node_id in ("lianzhou", "fucheng"):
            running.add_edge(node_id)
            running.start_edge(node_id)
        running.start_central()
        yield running
    finally:
        running.stop()


def client(url: str) -> httpx2.Client:
    """A browser-like client of one node."""
    return httpx2.Client(base_url=url, timeout=30)


def accept(agent: httpx2.Client, code: str = "MZ-002") -> str | None:
    """Submit one intake as the agent; the application id once the node acknowledged it."""
    page = agent.get(f"/agent/apply/{code}")
    data = intake_data(code) | {
        "csrf_token": csrf_of(page.text),
        "idempotency_key": KEY_FIELD.search(page.text).group(1),
    }
    response = agent.post(f"/agent/apply/{code}", data=data, files=intake_files(code))
    if response.status_code != 303:
        return None
    return RECEIPT.match(response.headers["location"]).group(1)


def township_approves(edge: Edge, application_id: str) -> None:
    """Township staff approve the township step through the staff page."""
    with client(edge.url) as staff:
        assert login(staff, STAFF).status_code == 303
        page = staff.get(f"/staff/applications/{application_id}")
        step = edge.query(
            "SELECT id FROM steps WHERE application_id = ? AND level = 'township'", application_id
        )[0]["id"]
        decided = staff.post(
            f"/staff/steps/{step}/decide",
            data={
                "csrf_token": csrf_of(page.text),
                "idempotency_key": KEY_FIELD.search(page.text).group(1),
                "action": "approve",
                "opinion": "情况属实",
            },
        )
        assert decided.status_code == 303, decided.text


def county_officer(cluster: Cluster, department: str) -> str:
    """The phone of the demo officer of `department` in 合浦县 (central's demo accounts)."""
    return cluster.central(
        "SELECT phone FROM accounts WHERE role = 'officer' AND department_code = ? "
        "AND jurisdiction_code = ?",
        department,
        HEFU_COUNTY,
    )[0]["phone"]


def central_step(cluster: Cluster, node_id: str, application_id: str) -> sqlite3.Row | None:
    """The county step as central has ingested it, once it is active."""
    found = cluster.central(
        "SELECT * FROM edge_steps WHERE node_id = ? AND application_id = ? AND level = 'county' "
        "AND status = 'active'",
        node_id,
        application_id,
    )
    return found[0] if found else None


@pytest.mark.parametrize("cluster", ["s3", "file"], indirect=True)
def test_an_application_travels_village_township_county_and_back(cluster):
    lianzhou = cluster.edges["lianzhou"]
    with client(lianzhou.url) as agent:
        assert login(agent, AGENT_QIANJIANG).status_code == 303
        application_id = accept(agent)
    assert application_id
    seen = wait_for(
        lambda: cluster.central(
            "SELECT status FROM edge_applications WHERE node_id = 'lianzhou' AND id = ?",
            application_id,
        ),
        30,
        "central to ingest the new application",
    )
    assert seen[0]["status"] == "in_review"

    township_approves(lianzhou, application_id)
    step = wait_for(
        lambda: central_step(cluster, "lianzhou", application_id), 30, "county step at central"
    )
    sha = lianzhou.query(
        "SELECT sha256 FROM attachments WHERE application_id = ? LIMIT 1", application_id
    )[0]["sha256"]
    with client(f"http://127.0.0.1:{cluster.central_port}") as officer:
        assert login(officer, county_officer(cluster, "civil")).status_code == 303
        queue = officer.get("/officer/")
        assert application_id in queue.text
        wait_for(
            lambda: officer.get(f"/officer/blobs/lianzhou/{sha}").status_code == 200,
            30,
            "the photo uploaded to the store and readable at central",
        )
        file_page = officer.get(f"/officer/applications/lianzhou/{application_id}")
        assert file_page.status_code == 200
        sent = officer.post(
            f"/officer/applications/lianzhou/{application_id}/decide",
            data={
                "csrf_token": csrf_of(file_page.text),
                "step_id": step["id"],
                "action": "approve",
                "opinion": "符合条件，同意",
            },
        )
        assert sent.status_code == 303, sent.text
        command = cluster.central(
            "SELECT id, kind FROM commands WHERE node_id = 'lianzhou' AND step_id = ?",
            step["id"],
        )
        assert [row["kind"] for row in command] == ["county_decision"]

        wait_for(
            lambda: lianzhou.query(
                "SELECT 1 FROM applications WHERE id = ? AND status = 'approved'", application_id
            ),
            30,
            "the edge to pull and apply the decision",
        )
        applied = wait_for(
            lambda: cluster.central(
                "SELECT result FROM edge_applied_commands WHERE node_id = 'lianzhou' AND id = ?",
                command[0]["id"],
            ),
            30,
            "central to see the command applied",
        )
        assert applied[0]["result"] == "applied"
        after = officer.get(f"/officer/applications/lianzhou/{application_id}")
        assert "乡镇已执行" in after.text

    decided = lianzhou.query(
        "SELECT s.status, a.origin, a.active FROM steps s JOIN accounts a ON a.id = s.decided_by "
        "WHERE s.id = ?",
        step["id"],
    )[0]
    assert tuple(decided) == ("approved", "central", 0)  # the officer cannot log in at the edge
    assert (
        lianzhou.query("SELECT count(*) FROM applied_commands WHERE id = ?", command[0]["id"])[0][0]
        == 1
    )
    assert (
        lianzhou.query(
            "SELECT template FROM sms_outbox WHERE application_id = ? ORDER BY created_at DESC, id "
            "DESC LIMIT 1",
            application_id,
        )[0]["template"]
        == "approved"
    )
    wait_for(
        lambda: cluster.central(
            "SELECT 1 FROM edge_applications WHERE node_id = 'lianzhou' AND id = ? "
            "AND status = 'approved'",
            application_id,
        ),
        30,
        "central to ingest the approval",
    )
    code = lianzhou.query("SELECT tracking_code FROM applications WHERE id = ?", application_id)
    with client(lianzhou.url) as resident:
        page = resident.get(f"/track/{code[0][0]}")
        assert page.status_code == 200 and "已办结（批准）" in page.text
    health = httpx2.get(f"{lianzhou.url}/healthz", timeout=10).json()
    assert health["feed_cursor"] >= 1 and health["feed_pulled_ms"] and health["heartbeat_ms"]
    # the other township saw none of it, and its own heartbeat reaches central
    assert not cluster.central(
        "SELECT 1 FROM edge_applications WHERE node_id = 'fucheng' AND id = ?", application_id
    )
    wait_for(
        lambda: cluster.central("SELECT 1 FROM lag_samples WHERE node_id = 'fucheng'"),
        30,
        "a heartbeat from the second township",
    )


def _submit_many(edge: Edge, count: int) -> list[str]:
    """Submit `count` applications one after another; the ids the node acknowledged."""
    acknowledged = []
    with client(edge.url) as agent:
        assert login(agent, AGENT_QIANJIANG).status_code == 303
        for _ in range(count):
            application_id = accept(agent)
            if application_id:
                acknowledged.append(application_id)
    return acknowledged


def _ingested(cluster: Cluster, ids: list[str]) -> int:
    marks = ",".join("?" * len(ids))
    return cluster.central(
        f"SELECT count(*) FROM edge_applications WHERE node_id = 'lianzhou' AND id IN ({marks})",
        *ids,
    )[0][0]


def test_a_partitioned_edge_keeps_working_and_converges_when_the_link_returns(cluster):
    lianzhou = cluster.edges["lianzhou"]
    wait_for(lambda: cluster.central("SELECT 1 FROM lag_samples"), 30, "replication running")
    before = lianzhou.query("SELECT count(*) FROM applications")[0][0]
    cluster.kill("store", signal.SIGTERM)  # the store (and with it every replica) is gone
    cluster.kill("central_web", signal.SIGTERM)  # and central cannot be reached either
    accepted = _submit_many(lianzhou, 8)
    assert len(accepted) == 8  # the township keeps taking applications while cut off
    # the next pull (every CUNBAN_FEED_MS, 3 s) finds central gone and says so
    wait_for(
        lambda: lianzhou.query("SELECT feed_error FROM heartbeat")[0][0] != "",
        15,
        "the failed feed pull recorded",
    )
    waiting = lianzhou.query("SELECT count(*) FROM blobs WHERE uploaded_at IS NULL")[0][0]
    assert waiting > 0  # the new photos wait for the store

    reconnected = time.monotonic()
    cluster.start_store()
    cluster.spawn("central_web", [PYTHON, "-m", "central", "serve"], cluster.central_environ())
    wait_for(
        lambda: _ingested(cluster, accepted) == len(accepted),
        120,
        "every application written during the partition to reach central",
    )
    converged = time.monotonic() - reconnected
    print(f"\npartition: {len(accepted)} applications converged {converged:.1f} s after reconnect")
    wait_for(
        lambda: lianzhou.query("SELECT count(*) FROM blobs WHERE uploaded_at IS NULL")[0][0] == 0,
        120,
        "the blob backlog to drain",
    )
    wait_for(
        lambda: lianzhou.query("SELECT feed_error FROM heartbeat")[0][0] == "",
        60,
        "the feed to be pulled again",
    )
    assert lianzhou.query("SELECT count(*) FROM applications")[0][0] == before + len(accepted)
    wait_for(lambda: _all_ingested(cluster, lianzhou), 60, "central to hold the same rows")


def _all_ingested(cluster: Cluster, edge: Edge) -> bool:
    local = {row[0] for row in edge.query("SELECT id FROM applications")}
    central = {
        row[0]
        for row in cluster.central(
            "SELECT id FROM edge_applications WHERE node_id = ?", edge.node_id
        )
    }
    return local == central


def test_every_acknowledged_application_survives_kill_9_of_the_edge(cluster):
    lianzhou = cluster.edges["lianzhou"]
    acknowledged: list[str] = []
    done = threading.Event()

    def keep_submitting() -> None:
        with client(lianzhou.url) as agent:
            login(agent, AGENT_QIANJIANG)
            while not done.is_set():
                try:
                    application_id = accept(agent)
                except httpx2.HTTPError:
                    return  # the web process died under us: nothing was acknowledged
                if application_id:
                    acknowledged.append(application_id)

    submitter = threading.Thread(target=keep_submitting)
    submitter.start()
    wait_for(lambda: len(acknowledged) >= 3, 60, "some applications acknowledged")
    for part in ("web", "worker", "replicate", "sync"):
        cluster.kill(f"lianzhou_{part}", signal.SIGKILL)
    done.set()
    submitter.join(30)
    assert acknowledged

    cluster.start_edge("lianzhou")
    wait_for(lambda: _all_ingested(cluster, lianzhou), 120, "every application at central")
    assert set(acknowledged) <= {row[0] for row in lianzhou.query("SELECT id FROM applications")}
    assert _ingested(cluster, acknowledged) == len(acknowledged)


def _content_hash(path: Path) -> dict[str, tuple[int, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = ["applications", "steps", "attachments", "blobs", "audit_log", "accounts"]
        return {
            table: (
                conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0],
                hashlib.sha256(
                    repr(conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()).encode()
                ).hexdigest(),
            )
            for table in tables
        }
    finally:
        conn.close()


def _restore(edge: Edge, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "edge", "restore", *extra],
        cwd=ROOT,
        env={**os.environ, **edge.environ},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_dead_edge_is_rebuilt_from_the_store_and_continues(cluster):
    lianzhou = cluster.edges["lianzhou"]
    accepted = _submit_many(lianzhou, 2)
    wait_for(lambda: _all_ingested(cluster, lianzhou), 60, "central to have everything")
    wait_for(
        lambda: lianzhou.query("SELECT count(*) FROM blobs WHERE uploaded_at IS NULL")[0][0] == 0,
        60,
        "every blob uploaded",
    )
    for part in ("web", "worker", "sync", "replicate"):
        cluster.kill(f"lianzhou_{part}", signal.SIGTERM)  # replicate flushes on SIGTERM
    before = _content_hash(lianzhou.data_dir / "edge.db")
    shutil.rmtree(lianzhou.data_dir)  # the disk dies: database, photos and keys are gone

    restored = _restore(lianzhou)
    assert restored.returncode == 0, restored.stderr
    assert "integrity check passed" in restored.stdout
    assert "replica generation 1" in restored.stdout
    assert _content_hash(lianzhou.data_dir / "edge.db") == before
    blobs = lianzhou.query("SELECT sha256 FROM blobs")
    assert all((lianzhou.data_dir / "blobs" / r[0][:2] / r[0]).is_file() for r in blobs)
    again = _restore(lianzhou)
    assert again.returncode == 2 and "--force" in again.stderr  # never overwrites silently

    cluster.start_edge("lianzhou")
    more = _submit_many(lianzhou, 1)
    wait_for(
        lambda: _ingested(cluster, accepted + more) == len(accepted + more),
        90,
        "the restored node to replicate again",
    )
    # it writes a new generation (central followed it there to ingest the new ones)
    wait_for(
        lambda: (
            [tuple(r) for r in lianzhou.query("SELECT generation, state FROM replica_health")]
            == [(2, "ok")]
        ),
        30,
        "the new generation verified",
    )


def _rate_by_link(edge: Edge, application_id: str, level: int) -> None:
    """The applicant opens the link of the closing SMS, signed out, and rates."""
    body = edge.query(
        "SELECT body FROM sms_outbox WHERE application_id = ? AND template = 'rejected'",
        application_id,
    )[0]["body"]
    token = re.search(r"/rate/([0-9a-z]{10})", body).group(1)
    with client(edge.url) as resident:
        assert resident.get(f"/rate/{token}").status_code == 200
        rated = resident.post(f"/rate/{token}", data={"level": str(level), "comment": "没讲清"})
        assert rated.status_code == 303, rated.text


def _follow_up_action(cluster: Cluster, officer: httpx2.Client, url: str, action: str, **data):
    """Record one action at central and wait until central sees the township applied it."""
    page = officer.get(url)
    sent = officer.post(f"{url}/{action}", data={"csrf_token": csrf_of(page.text), **data})
    assert sent.status_code == 303, sent.text
    command = cluster.central(
        "SELECT id FROM commands WHERE kind = 'follow_up_action' ORDER BY seq DESC LIMIT 1"
    )[0]["id"]
    applied = wait_for(
        lambda: cluster.central(
            "SELECT result FROM edge_applied_commands WHERE node_id = 'lianzhou' AND id = ?",
            command,
        ),
        30,
        f"central to see the township apply {action}",
    )
    assert applied[0]["result"] == "applied"


def test_a_bad_rating_of_a_county_decision_is_followed_up_at_central(cluster):
    lianzhou = cluster.edges["lianzhou"]
    with client(lianzhou.url) as agent:
        assert login(agent, AGENT_QIANJIANG).status_code == 303
        application_id = accept(agent)
    assert application_id
    wait_for(
        lambda: cluster.central(
            "SELECT 1 FROM edge_applications WHERE node_id = 'lianzhou' AND id = ?",
            application_id,
        ),
        30,
        "central to ingest the new application",
    )
    township_approves(lianzhou, application_id)
    step = wait_for(
        lambda: central_step(cluster, "lianzhou", application_id), 30, "county step at central"
    )
    with client(f"http://127.0.0.1:{cluster.central_port}") as officer:
        assert login(officer, county_officer(cluster, "civil")).status_code == 303
        file_url = f"/officer/applications/lianzhou/{application_id}"
        rejected = officer.post(
            f"{file_url}/decide",
            data={
                "csrf_token": csrf_of(officer.get(file_url).text),
                "step_id": step["id"],
                "action": "reject",
                "opinion": "家庭收入超过标准",
            },
        )
        assert rejected.status_code == 303, rejected.text
        wait_for(
            lambda: lianzhou.query(
                "SELECT 1 FROM applications WHERE id = ? AND status = 'rejected'", application_id
            ),
            30,
            "the edge to apply the rejection",
        )
        _rate_by_link(lianzhou, application_id, 5)
        case = wait_for(
            lambda: cluster.central(
                "SELECT * FROM edge_follow_ups WHERE node_id = 'lianzhou' AND application_id = ?",
                application_id,
            ),
            30,
            "the bad rating's follow-up at central",
        )[0]
        assert (case["handled_at"], case["office_code"], case["status"]) == (
            "central",
            "civil",
            "open",
        )
        published = httpx2.get(f"http://127.0.0.1:{cluster.central_port}/disclosure/ratings")
        assert published.status_code == 200 and "没讲清" not in published.text
        url = f"/officer/follow-ups/lianzhou/{case['id']}"
        assert url in officer.get("/officer/follow-ups").text
        _follow_up_action(cluster, officer, url, "verify", note="核实：告知书未写明收入标准")
        _follow_up_action(cluster, officer, url, "remedy", remedy="explained", note="当面说明")
        _follow_up_action(cluster, officer, url, "callback", result="accepted", note="电话回访")
    township = lianzhou.query("SELECT * FROM follow_ups WHERE id = ?", case["id"])[0]
    assert (township["status"], township["callback_result"], township["closed_in_time"]) == (
        "closed",
        "accepted",
        1,
    )
    assert lianzhou.query(
        "SELECT 1 FROM sms_outbox WHERE application_id = ? AND template = 'rate_fix'",
        application_id,
    )
    with client(lianzhou.url) as staff:  # the township sees the result on its own page
        assert login(staff, STAFF).status_code == 303
        page = staff.get(f"/staff/follow-ups/{case['id']}")
        assert page.status_code == 200 and "电话回访" in page.text and "已办结" in page.text


# --- 阳光红页 (issue 14): city content down the feed, township content up to the portal ---

CITY_POLICY = {
    "title": "城乡居民基本养老保险缴费补贴",
    "issuer": "北海市人力资源和社会保障局",
    "eligibility": "参加城乡居民养老保险的本市户籍居民",
    "amount": "按缴费档次每人每年补贴 30–80 元",
    "how_to_apply": "按年缴费后自动计入个人账户，无需申请。",
    "item_code": "",
    "valid_from": "2026-01-01",
    "valid_to": "",
}


def test_a_policy_published_at_central_shows_on_both_edges(cluster):
    central_url = f"http://127.0.0.1:{cluster.central_port}"
    with httpx2.Client(base_url=central_url, timeout=30) as admin:
        assert login(admin, ADMIN_PHONE).status_code == 303
        page = admin.get("/disclosure/policies/new")
        data = {
            **CITY_POLICY,
            "csrf_token": csrf_of(page.text),
            "idempotency_key": KEY.search(page.text)[1],
        }
        assert admin.post("/disclosure/policies/new", data=data).status_code == 303
    for edge in cluster.edges.values():
        wait_for(
            lambda edge=edge: edge.query(
                "SELECT 1 FROM policies WHERE title = ?", CITY_POLICY["title"]
            ),
            60,
            f"the city policy at {edge.node_id}\n{cluster.log(edge.node_id + '_sync')}",
        )
        with httpx2.Client(base_url=edge.url, timeout=30) as resident:
            listed = resident.get("/disclosure/policies").text
            assert CITY_POLICY["title"] in listed and "每人每年补贴 30–80 元" in listed
            assert "高龄津贴" in listed  # the city's demo policies came down the same way
    with httpx2.Client(base_url=central_url, timeout=30) as visitor:
        wait_for(
            lambda: "福成镇农村危房改造补助" in visitor.get("/disclosure/policies").text,
            60,
            f"fucheng's own policy at central\n{cluster.log('central_follow')}",
        )


def test_market_listings_of_two_edges_are_found_by_one_central_search(cluster):
    """Issue 15: a listing posted at each township is found by one search at central within
    seconds; a buyer's contact there texts the seller at their edge."""
    from tests.market_support import SELLER_PHONE, post_listing, register_seller

    posted = {}
    agents = {
        "lianzhou": (AGENT_QIANJIANG, "450521100201"),
        "fucheng": (FUCHENG_AGENT, "450503101201"),
    }
    for node_id, edge in cluster.edges.items():
        with client(edge.url) as agent:
            seller_id = register_seller(agent, *agents[node_id])
            posted[node_id] = post_listing(agent, seller_id, variety=f"集群{node_id}")
    start = time.monotonic()

    def both_found() -> bool:
        page = httpx2.get(
            f"http://127.0.0.1:{cluster.central_port}/market",
            params={"q": "集群"},
            headers={"HX-Request": "true"},
        ).text
        return all(f"/market/{node}/{listing}" in page for node, listing in posted.items())

    wait_for(both_found, 30, "both townships' listings in central search", every=0.2)
    found_after = time.monotonic() - start
    print(f"\nmarket: both listings found at central {found_after:.1f} s after posting")
    assert found_after < 20
    with client(f"http://127.0.0.1:{cluster.central_port}") as buyer:
        path = f"/market/fucheng/{posted['fucheng']}"
        buyer.get(path)
        sent = buyer.post(f"{path}/contact", data={"phone": "13612345678", "message": "要3头"})
        assert sent.status_code == 200, sent.text
    fucheng = cluster.edges["fucheng"]
    wait_for(
        lambda: fucheng.query(
            "SELECT 1 FROM sms_outbox WHERE template = 'market_contact' AND phone = ?",
            SELLER_PHONE,
        ),
        30,
        "the seller's SMS at their edge",
    )


def test_a_feedback_item_for_a_county_department_is_answered_at_central_and_shows_at_the_edge(
    cluster,
):
    from tests.feedback_support import code_of, raise_item

    lianzhou = cluster.edges["lianzhou"]
    with client(lianzhou.url) as resident:
        raised = raise_item(
            resident, category="assistance", body="我母亲的高龄津贴三个月没到账了。"
        )
        code = code_of(raised)
    item_id = lianzhou.query("SELECT id FROM feedback WHERE tracking_code = ?", code)[0]["id"]
    wait_for(
        lambda: cluster.central(
            "SELECT 1 FROM edge_feedback WHERE node_id = 'lianzhou' AND id = ?", item_id
        ),
        30,
        "central to ingest the feedback item",
    )
    answer = "经核查，您母亲的高龄津贴因银行卡过期未到账，已更换账户并补发。"
    with client(f"http://127.0.0.1:{cluster.central_port}") as officer:
        assert login(officer, county_officer(cluster, "civil")).status_code == 303
        assert item_id in officer.get("/officer/feedback").text
        page = officer.get(f"/officer/feedback/lianzhou/{item_id}")
        sent = officer.post(
            f"/officer/feedback/lianzhou/{item_id}/answer",
            data={"csrf_token": csrf_of(page.text), "answer": answer},
        )
        assert sent.status_code == 303, sent.text
    wait_for(
        lambda: lianzhou.query(
            "SELECT 1 FROM feedback WHERE id = ? AND state = 'answered'", item_id
        ),
        30,
        "the edge to pull and write the answer",
    )
    with client(lianzhou.url) as resident:
        assert answer in resident.get(f"/feedback/{item_id}").text
        assert answer in resident.get(f"/feedback/track/{code}").text
    wait_for(
        lambda: cluster.central(
            "SELECT 1 FROM edge_feedback WHERE node_id = 'lianzhou' AND id = ? "
            "AND state = 'answered'",
            item_id,
        ),
        30,
        "central to ingest the answered item",
    )


def test_a_red_county_step_escalates_at_central_and_shows_in_the_township_history(cluster):
    """Issue 13: the demo history's county steps red for weeks are escalated by central's follow
    process (not by the connected township), texted from central's outbox, and each reaches the
    township's step history through the feed and comes back applied."""
    lianzhou = cluster.edges["lianzhou"]
    escalated = wait_for(
        lambda: cluster.central(
            "SELECT step_id, command_id FROM step_reminders "
            "WHERE node_id = 'lianzhou' AND kind = 'escalation'"
        ),
        150,
        f"central to escalate a red county step\n{cluster.log('central_follow')}",
    )
    step_id = escalated[0]["step_id"]
    sent = wait_for(
        lambda: cluster.central(
            "SELECT phone FROM sms_outbox WHERE template = 'escalation' AND state = 'sent'"
        ),
        30,
        "central to send its escalation SMS",
    )
    heads = cluster.central("SELECT phone FROM accounts WHERE is_head = 1 AND role = 'officer'")
    assert {r["phone"] for r in sent} <= {r["phone"] for r in heads}
    wait_for(
        lambda: lianzhou.query(
            "SELECT 1 FROM reminders WHERE step_id = ? AND kind = 'escalation' "
            "AND origin = 'central'",
            step_id,
        ),
        60,
        f"the township to record central's escalation\n{cluster.log('lianzhou_sync')}",
    )
    with client(lianzhou.url) as township:
        assert login(township, "13807710003").status_code == 303  # the township supervisor
        page = township.get(f"/supervision/steps/{step_id}").text
        assert "超期督办（系统）" in page and "由中心发出" in page
    wait_for(
        lambda: cluster.central(
            "SELECT 1 FROM edge_applied_commands WHERE node_id = 'lianzhou' AND id = ? "
            "AND result = 'applied'",
            escalated[0]["command_id"],
        ),
        60,
        "central to learn the township recorded it",
    )
    township_escalations = lianzhou.query(
        "SELECT count(*) FROM reminders r JOIN steps s ON s.id = r.step_id "
        "WHERE r.kind = 'escalation' AND s.level = 'county' AND r.origin = 'township'"
    )[0][0]
    assert township_escalations == 0


def test_a_follow_machine_on_the_s3_store_ships_its_shard_and_nodes_shows_it(tmp_path):
    """Issue 17: central's machine follows shard 0/3 (lianzhou), a second machine 2/3
    (fucheng) with FOLLOW_SHIP on its own data dir; both through the real SeaweedFS S3 store.
    Central.db gets fucheng's rows, lag and follower row from the store alone."""
    running = Cluster(tmp_path)
    try:
        running.start_store()
        for node_id in ("lianzhou", "fucheng"):
            running.add_edge(node_id)
            running.start_edge(node_id)
        environ = running.central_environ() | {"CUNBAN_CENTRAL_FOLLOW_SHARD": "0/3"}
        running.spawn("central_web", [PYTHON, "-m", "central", "serve"], environ)
        wait_for_port(running.central_port, 60)
        running.spawn("central_follow", [PYTHON, "-m", "central", "follow"], environ)
        machine_b = environ | {
            "CUNBAN_CENTRAL_DATA_DIR": str(tmp_path / "machine-b"),
            "CUNBAN_CENTRAL_FOLLOW_SHARD": "2/3",
            "CUNBAN_CENTRAL_FOLLOW_SHIP": "true",
        }
        running.spawn("follow_b", [PYTHON, "-m", "central", "follow"], machine_b)

        def followed() -> bool:
            states = running.central("SELECT node_id, state FROM followers")
            lagged = running.central("SELECT DISTINCT node_id FROM lag_samples")
            return {r["node_id"]: r["state"] for r in states} == {
                "lianzhou": "following",
                "fucheng": "following",
            } and {r["node_id"] for r in lagged} == {"lianzhou", "fucheng"}

        wait_for(followed, 180, f"both townships followed\n{running.log('follow_b')}", every=1)
        shipped = running.central("SELECT shard FROM shipped_batches")
        assert [row["shard"] for row in shipped] == ["2-of-3"]
        wait_for(
            lambda: (
                running.central(
                    "SELECT count(*) AS n FROM edge_applications WHERE node_id = 'fucheng'"
                )[0]["n"]
                > 0
            ),
            60,
            "fucheng's demo applications in central.db, through B's batches",
        )
        b_own = tmp_path / "machine-b" / "central.db"
        with sqlite3.connect(b_own) as conn:  # B keeps only its shard's rows
            assert conn.execute("SELECT DISTINCT node_id FROM edge_heartbeat").fetchall() == [
                ("fucheng",)
            ]
        paths = running.central("SELECT node_id, mirror_path FROM followers")
        assert {r["node_id"]: r["mirror_path"] is None for r in paths} == {
            "lianzhou": False,
            "fucheng": True,  # its mirror is on B
        }
        with client(f"http://127.0.0.1:{running.central_port}") as admin:
            assert login(admin, ADMIN_PHONE).status_code == 303
            page = admin.get("/nodes").text
        for node_id in ("lianzhou", "fucheng"):
            row = re.search(rf'<tr id="node-{node_id}"[^>]*>.*?</tr>', page, re.S)
            assert row and "跟随中" in row.group(0), node_id
    finally:
        running.stop()
