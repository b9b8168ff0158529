"""The walking skeleton, end to end over real processes, RabbitMQ, PostgreSQL and SMTP."""

import csv
import io
import time
from email.message import EmailMessage

import httpx
import pytest

from tests.e2e.conftest import ADMIN_TOKEN, Stack
from tests.support.flow import post_update, set_up_flow

pytestmark = pytest.mark.e2e


def _wait_for_export(stack: Stack, plan_id: int, expect: str, timeout: float = 20) -> list[dict[str, str]]:
    deadline = time.monotonic() + timeout
    rows: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        r = httpx.get(f"{stack.reporting.url}/plans/{plan_id}/export.csv", timeout=5,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        if r.status_code == 200:
            rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
            if rows and rows[0]["Trạng thái"] == expect:
                return rows
        time.sleep(0.2)
    raise AssertionError(f"export never showed {expect!r}: {rows}")


def _to(stack: Stack, address: str, timeout: float = 20) -> list[EmailMessage]:
    """The messages to `address`, once there is one (the unit officer is told of the tasks given, too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mine = [m for m in stack.smtp.mailbox.snapshot() if m["To"].addresses[0].addr_spec == address]
        if mine:
            return mine
        time.sleep(0.1)
    raise AssertionError(f"no email to {address} within {timeout}s")


def test_status_update_reaches_email_and_export(stack: Stack) -> None:
    flow = set_up_flow(stack.assignments.url, ADMIN_TOKEN)
    post_update(stack.assignments.url, flow, request_id="req-e2e-1", progress=40)

    [mail] = _to(stack, flow.supervisor_email)
    assert mail["To"].addresses[0].addr_spec == flow.supervisor_email
    assert mail["X-Correlation-ID"] == "req-e2e-1"
    assert "Chi bộ Sở Tài chính" in mail["Subject"] and "Đang thực hiện (40%)" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Kính gửi đồng chí Nguyễn Thị Lan" in body
    assert "Trà Vinh, ngày" in body and "Khó khăn, vướng mắc" in body

    rows = _wait_for_export(stack, flow.plan_id, "Đang thực hiện")
    assert rows[0]["Mã nhiệm vụ"] == "III.1"
    assert rows[0]["Đơn vị"] == "Chi bộ Sở Tài chính"
    assert rows[0]["Tiến độ (%)"] == "40"
    assert rows[0]["Người báo cáo"] == "Trần Văn Bình"

    # the officer's assignments token works on reporting and notifications too (learnt from events),
    # scoped to the officer's unit; without a token both answer 401
    officer = {"Authorization": f"Bearer {flow.officer_token}"}
    mine = httpx.get(f"{stack.reporting.url}/plans/{flow.plan_id}/export.csv", headers=officer, timeout=5)
    assert mine.status_code == 200 and "Chi bộ Sở Tài chính" in mine.content.decode("utf-8-sig")
    _to(stack, "binh.stc@example.vn")
    emails = httpx.get(f"{stack.notifications.url}/emails", headers=officer, timeout=5).json()
    assert [m["recipient"] for m in emails] == ["binh.stc@example.vn"]  # tasks given; the report: supervisors
    assert httpx.get(f"{stack.reporting.url}/plans/{flow.plan_id}/export.csv", timeout=5).status_code == 401
    assert httpx.get(f"{stack.notifications.url}/emails", timeout=5).status_code == 401

    # the request id is on the log lines of the other services too
    time.sleep(0.5)
    assert "req-e2e-1" in stack.notifications.log_path.read_text()


def test_email_survives_notifications_crash_exactly_once(stack: Stack) -> None:
    flow = set_up_flow(stack.assignments.url, ADMIN_TOKEN)
    time.sleep(1.0)  # let notifications learn the directory before it dies
    stack.notifications.kill()

    post_update(stack.assignments.url, flow, request_id="req-e2e-crash")
    _wait_for_export(stack, flow.plan_id, "Đang thực hiện")  # the event was published...
    time.sleep(1.0)
    assert stack.smtp.mailbox.snapshot() == []  # ...but nobody could send the email

    stack.notifications.start()
    [mail] = _to(stack, flow.supervisor_email)
    assert mail["X-Correlation-ID"] == "req-e2e-crash"
    time.sleep(3.0)  # a duplicate would have arrived by now
    assert len(_to(stack, flow.supervisor_email)) == 1
