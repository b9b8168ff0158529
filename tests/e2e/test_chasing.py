"""Notifications that chase the work, over real processes, RabbitMQ, PostgreSQL and SMTP: what each
official receives when a plan is published with deadlines near and past, the one-click unsubscribe
link, an SMTP outage of a minute, and two notifications processes sending each reminder once."""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.conftest import ADMIN_TOKEN
from tests.support.procs import ServiceProcess, free_port
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.e2e
TODAY = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
CHASING = {"PLANTRACK_NOTIFICATIONS_SCAN_INTERVAL": "1", "PLANTRACK_NOTIFICATIONS_SEND_POLL_INTERVAL": "0.2"}


@dataclass
class Org:
    plan_id: int
    officer_token: str
    supervisor_token: str


def _ok(response: httpx.Response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def set_up(base_url: str, *, dues: dict[str, date]) -> Org:
    """A bloc committee, its propaganda board with a supervisor, a party cell with an officer, and a
    published plan whose tasks (code -> deadline) are all given to the cell."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10) as c:
        duk = _ok(c.post("/units", json={"code": "DUK", "name": "Đảng ủy Khối", "kind": "bloc_committee"}))
        btg = _ok(c.post("/units", json={"code": "BTG", "name": "Ban Tuyên giáo Đảng ủy Khối",
                                         "kind": "advisory_board", "parent_id": duk["id"]}))
        cell = _ok(c.post("/units", json={"code": "CB-STC", "name": "Chi bộ Sở Tài chính", "kind": "party_cell",
                                          "parent_id": duk["id"]}))
        supervisor = _ok(c.post("/officials", json={"name": "Nguyễn Thị Lan", "email": "lan.btg@example.vn",
                                                    "title": "Trưởng ban", "unit_id": btg["id"],
                                                    "role": "supervisor"}))
        officer = _ok(c.post("/officials", json={"name": "Trần Văn Bình", "email": "binh.stc@example.vn",
                                                 "title": "Bí thư Chi bộ", "unit_id": cell["id"],
                                                 "role": "unit_officer"}))
        tokens = [_ok(c.post(f"/officials/{o['id']}/tokens", json={"name": "e2e"}))["token"]
                  for o in (officer, supervisor)]
        plan = _ok(c.post("/plans", json={
            "number": "41-KH/ĐUK", "kind": "ke_hoach", "place": "Trà Vinh", "issued_on": "2021-12-15",
            "title": "Kế hoạch thực hiện Chương trình số 22-CTr/TU", "issuer_unit_id": duk["id"],
            "tasks": [{"code": code, "title": f"Nhiệm vụ {code}", "due_on": str(due)} for code, due in dues.items()],
        }))
        for task in plan["tasks"]:
            _ok(c.post(f"/plans/{plan['id']}/assignments", json={"task_id": task["id"], "unit_ids": [cell["id"]]}))
        return Org(plan["id"], tokens[0], tokens[1])


def publish(base_url: str, org: Org) -> None:
    """Publish the plan: its deadlines are in force."""
    _ok(httpx.post(f"{base_url}/plans/{org.plan_id}/publish", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                   timeout=10), 200)


def wait_http(call: Callable[[], httpx.Response], status: int = 200, within: float = 20.0) -> httpx.Response:
    """Retry until the service knows the caller (its token arrives by event)."""
    deadline = time.monotonic() + within
    while True:
        response = call()
        if response.status_code == status or time.monotonic() > deadline:
            assert response.status_code == status, response.text
            return response
        time.sleep(0.2)


def immediate(notifications_url: str, token: str) -> None:
    """The official chooses immediate emails (supervisors get a digest by default)."""
    wait_http(lambda: httpx.put(f"{notifications_url}/me/preferences", headers={"Authorization": f"Bearer {token}"},
                                json={"mode": "immediate", "digest_hour": 7, "muted": []}, timeout=5))


def wait_quiet(smtp: SmtpServer, count: int, settle: float = 3.0, within: float = 40.0) -> list[EmailMessage]:
    """Wait for `count` messages, then a little more: a duplicate would have arrived by then."""
    smtp.mailbox.wait_for(count, timeout=within)
    time.sleep(settle)
    return smtp.mailbox.snapshot()


@dataclass
class Stack:
    assignments: ServiceProcess
    notifications: list[ServiceProcess]
    reporting: ServiceProcess
    smtp_port: int


@pytest.fixture
def chasing_stack(make_vhost: Callable[[], str], make_database: Callable[[str], str],
                  tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """Start a stack whose notifications scan every second; `replicas` notifications processes share
    one PostgreSQL database and one set of queues."""
    started: list[ServiceProcess] = []

    def start(*, replicas: int = 1, smtp_port: int | None = None, **extra: str) -> Stack:
        port = smtp_port or free_port()
        env = {
            "PLANTRACK_AMQP_URL": make_vhost(),
            "PLANTRACK_ASSIGNMENTS_DATABASE_URL": make_database("assignments"),
            "PLANTRACK_NOTIFICATIONS_DATABASE_URL": make_database("notifications"),
            "PLANTRACK_REPORTING_DATABASE_URL": make_database("reporting"),
            "PLANTRACK_ADMIN_TOKEN": ADMIN_TOKEN, "PLANTRACK_SMTP_HOST": "127.0.0.1", "PLANTRACK_SMTP_PORT": str(port),
            **CHASING, **extra,
        }
        notifications = [ServiceProcess("notifications", {**env, "PLANTRACK_DATA_DIR": str(tmp_path / f"n{i}")},
                                        tmp_path / f"n{i}") for i in range(replicas)]
        for i in range(replicas):
            (tmp_path / f"n{i}").mkdir(exist_ok=True)
        rest = [ServiceProcess(n, {**env, "PLANTRACK_DATA_DIR": str(tmp_path / "data")}, tmp_path)
                for n in ("reporting", "assignments")]
        for p in [*notifications, *rest]:
            started.append(p)
            p.start()
        return Stack(rest[1], notifications, rest[0], port)

    yield start
    for p in started:
        p.stop()


def test_each_official_receives_what_the_rules_say_and_one_click_unsubscribe_mutes_its_category(
        chasing_stack: Callable[..., Stack]) -> None:
    with SmtpServer(free_port()) as smtp:
        stack = chasing_stack(smtp_port=smtp.port)
        notifications = stack.notifications[0].url
        org = set_up(stack.assignments.url, dues={"III.1": TODAY + timedelta(days=1),
                                                  "III.2": TODAY - timedelta(days=4)})
        immediate(notifications, org.supervisor_token)
        publish(stack.assignments.url, org)

        # the officer: the tasks given (one email), III.1 due tomorrow, III.2 overdue; the supervisor:
        # III.2 still late after the 3-day grace period
        messages = wait_quiet(smtp, 4)
        assert len(messages) == 4, [str(m["Subject"]) for m in messages]
        to = {str(m["Subject"]): m["To"].addresses[0].addr_spec for m in messages}
        assert sorted(to.values()) == ["binh.stc@example.vn"] * 3 + ["lan.btg@example.vn"]
        given = next(m for m in messages if "2 nhiệm vụ" in str(m["Subject"]))
        assert given["To"].addresses[0].addr_spec == "binh.stc@example.vn"
        late = [m for m in messages if m["To"].addresses[0].addr_spec == "lan.btg@example.vn"]
        assert "III.2" in late[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = given.get_body(("html",))
        assert html is not None and "Chi bộ Sở Tài chính" in html.get_content()

        # every email carries RFC 8058 headers; the one-click POST mutes that category for that official
        deadline = next(m for m in messages if "III.1" in str(m["Subject"]))
        assert deadline["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = str(deadline["List-Unsubscribe"]).strip("<>")
        assert url.startswith("http://127.0.0.1:8002/unsubscribe?t=")  # the configured public address
        local = url.replace("http://127.0.0.1:8002", notifications)
        confirm = httpx.get(local, timeout=5)
        assert confirm.status_code == 200 and "Xác nhận" in confirm.text
        officer = {"Authorization": f"Bearer {org.officer_token}"}
        assert httpx.get(f"{notifications}/me/preferences", headers=officer, timeout=5).json()["muted"] == []
        done = httpx.post(local, data={"List-Unsubscribe": "One-Click"}, timeout=5)
        assert done.status_code == 200 and "Đã hủy nhận" in done.text
        assert httpx.get(f"{notifications}/me/preferences", headers=officer, timeout=5).json()["muted"] == ["deadline"]
        forged = httpx.post(local[:-3] + ("AAA" if not local.endswith("AAA") else "BBB"), timeout=5)
        assert forged.status_code == 400

        # the deliveries log shows them, for admins and supervisors, filtered
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        sent = httpx.get(f"{notifications}/deliveries", params={"status": "sent"}, headers=admin, timeout=5).json()
        assert len(sent) == 4
        esc = httpx.get(f"{notifications}/deliveries", params={"category": "escalation"}, headers=admin,
                        timeout=5).json()
        assert [d["recipient"] for d in esc] == ["lan.btg@example.vn"]
        assert httpx.get(f"{notifications}/deliveries", headers=officer, timeout=5).status_code == 403


def test_an_smtp_outage_of_a_minute_loses_nothing_and_duplicates_nothing(chasing_stack: Callable[..., Stack]) -> None:
    port = free_port()
    stack = chasing_stack(smtp_port=port, PLANTRACK_NOTIFICATIONS_SEND_RETRY_CAP="8")
    org = set_up(stack.assignments.url, dues={"III.1": TODAY + timedelta(days=1), "III.2": TODAY - timedelta(days=1)})
    publish(stack.assignments.url, org)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    notifications = stack.notifications[0].url

    def pending() -> list[dict]:
        return httpx.get(f"{notifications}/deliveries", params={"status": "pending"}, headers=admin,
                         timeout=5).json()  # type: ignore[no-any-return]

    def tried(rows: list[dict]) -> bool:
        return len(rows) == 3 and all(d["attempts"] >= 1 and d["last_error"] for d in rows)

    deadline = time.monotonic() + 20
    while not tried(pending()) and time.monotonic() < deadline:
        time.sleep(0.3)
    waiting = pending()
    assert len(waiting) == 3 and all(d["attempts"] >= 1 and d["last_error"] for d in waiting), waiting
    time.sleep(60)  # a minute without SMTP
    with SmtpServer(port) as smtp:
        messages = wait_quiet(smtp, 3, settle=5, within=30)
        assert len(messages) == 3
        assert len({m["Message-ID"] for m in messages}) == 3
    assert pending() == []


def test_two_notifications_processes_on_postgresql_send_each_reminder_once(
        chasing_stack: Callable[..., Stack]) -> None:
    with SmtpServer(free_port()) as smtp:
        stack = chasing_stack(replicas=2, smtp_port=smtp.port, PLANTRACK_NOTIFICATIONS_SCAN_INTERVAL="0.3")
        dues = {f"III.{i}": TODAY + timedelta(days=(1 if i % 2 else -2)) for i in range(1, 9)}
        org = set_up(stack.assignments.url, dues=dues)
        publish(stack.assignments.url, org)
        # one announcement, eight reminders (four due tomorrow, four overdue); the supervisor's
        # digest is not due before 7:00 of a day that has passed
        messages = wait_quiet(smtp, 9, settle=5)
        subjects = sorted(str(m["Subject"]) for m in messages)
        assert len(messages) == 9, subjects
        assert len(set(subjects)) == 9
        logs = [p.log_path.read_text() for p in stack.notifications]
        assert all("notifications service started" in log for log in logs)


def test_review_rounds_returned_reports_and_unit_mailboxes_over_the_wire(chasing_stack: Callable[..., Stack]) -> None:
    with SmtpServer(free_port()) as smtp:
        stack = chasing_stack(smtp_port=smtp.port)
        base, notifications = stack.assignments.url, stack.notifications[0].url
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=base, headers=admin, timeout=10) as c:
            duk = _ok(c.post("/units", json={"code": "DUK", "name": "Đảng ủy Khối", "kind": "bloc_committee"}))
            btg = _ok(c.post("/units", json={"code": "BTG", "name": "Ban Tuyên giáo", "kind": "advisory_board",
                                             "parent_id": duk["id"]}))
            a = _ok(c.post("/units", json={"code": "CB-A", "name": "Chi bộ Sở Tài chính", "kind": "party_cell",
                                           "parent_id": duk["id"]}))
            b = _ok(c.post("/units", json={"code": "CB-B", "name": "Chi bộ Sở Y tế", "kind": "party_cell",
                                           "parent_id": duk["id"], "email": "cbsyt@example.vn"}))
            nobody = _ok(c.post("/units", json={"code": "CB-C", "name": "Chi bộ Sở Giáo dục", "kind": "party_cell",
                                                "parent_id": duk["id"]}))
            lan = _ok(c.post("/officials", json={"name": "Nguyễn Thị Lan", "email": "lan@example.vn",
                                                 "unit_id": btg["id"], "role": "supervisor"}))
            binh = _ok(c.post("/officials", json={"name": "Trần Văn Bình", "email": "binh@example.vn",
                                                  "unit_id": a["id"], "role": "unit_officer"}))
            lan_token, binh_token = (_ok(c.post(f"/officials/{o['id']}/tokens", json={"name": "e2e"}))["token"]
                                     for o in (lan, binh))
            plan = _ok(c.post("/plans", json={"number": "41-KH/ĐUK", "title": "Kế hoạch 41",
                                              "issuer_unit_id": duk["id"],
                                              "tasks": [{"code": "III.1", "title": "Quán triệt",
                                                         "due_on": str(TODAY + timedelta(days=90))}]}))
            [assignment_a, *_] = _ok(c.post(f"/plans/{plan['id']}/assignments", json={
                "task_id": plan["tasks"][0]["id"], "unit_ids": [a["id"], b["id"], nobody["id"]]}))
            immediate(notifications, lan_token)
            _ok(c.post(f"/plans/{plan['id']}/publish"), 200)
            given = wait_quiet(smtp, 2)  # the officer of A, the mailbox of B; C is reachable by nobody
            assert sorted(m["To"].addresses[0].addr_spec for m in given) == ["binh@example.vn", "cbsyt@example.vn"]
            unreachable = httpx.get(f"{notifications}/deliveries", params={"status": "unreachable"}, headers=admin,
                                    timeout=5).json()
            assert [w["recipient_unit_id"] for w in unreachable] == [nobody["id"]]

            # a round whose deadline has passed: A submits; the supervisor is told B and C are missing
            late = _ok(c.post(f"/plans/{plan['id']}/reviews", json={
                "kind": "preliminary", "title": "Sơ kết 2026", "period_end": str(TODAY - timedelta(days=5)),
                "submit_by": str(TODAY - timedelta(days=1))}))
            officer = {"Authorization": f"Bearer {binh_token}"}
            _ok(httpx.post(f"{base}/reviews/{late['id']}/submissions", headers=officer, timeout=10,
                           json={"summary": "Đã quán triệt đến 100% đảng viên."}))
        messages = wait_quiet(smtp, 5)  # + the round's request to A and to B's mailbox, + the missing report
        missing = [m for m in messages[2:] if m["To"].addresses[0].addr_spec == "lan@example.vn"]
        assert len(missing) == 1, [str(m["Subject"]) for m in messages]
        text = missing[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Chi bộ Sở Y tế" in text and "Chi bộ Sở Giáo dục" in text and "Chi bộ Sở Tài chính" not in text

        # A reports; the supervisor returns it with a reason; A's officer is told why
        update = _ok(httpx.post(f"{base}/assignments/{assignment_a['id']}/updates", headers=officer, timeout=10,
                                json={"status": "in_progress", "progress": 30, "summary": "Đang triển khai"}))
        _ok(httpx.post(f"{base}/updates/{update['id']}/review", headers={"Authorization": f"Bearer {lan_token}"},
                       json={"decision": "returned", "reason": "Đề nghị bổ sung số liệu cụ thể."}, timeout=10), 200)
        messages = wait_quiet(smtp, 7)
        returned = [m for m in messages[5:] if m["To"].addresses[0].addr_spec == "binh@example.vn"]
        assert len(returned) == 1 and len(messages) == 7
        body = returned[0].get_body(("plain",))
        assert body is not None and "Đề nghị bổ sung số liệu cụ thể." in body.get_content()
