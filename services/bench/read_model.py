"""A large reporting read model, bulk-inserted, and the time progress and the exports take on it."""

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlmodel import Session

from services.reporting import exports, progress
from services.reporting.documents import data, xlsx
from services.reporting.models import (
    ReportAssignment,
    ReportInspection,
    ReportPlan,
    ReportReviewRound,
    ReportReviewSubmission,
    ReportTask,
    ReportUnit,
    ReportUnitPlan,
    ReportUpdate,
)

TODAY = date(2022, 9, 20)
SUMMARY = "Đã tổ chức quán triệt cho toàn thể đảng viên; xây dựng kế hoạch cụ thể."
OVERDUE_LIMIT = 100  # the progress route's default


def build(engine: Engine, units: int, tasks: int, updates_each: int, *, analyze: bool = True) -> None:
    """Bulk-insert the read model of one plan: `units` x `tasks` assignments, `updates_each` updates
    each; `analyze=False` leaves the planner without statistics (autovacuum may be off)."""
    rnd = random.Random(41)
    ind = [{"code": "lop", "name": "Số lớp", "unit_of_measure": "lớp", "target": 100}]
    rows: dict[Any, list[dict[str, Any]]] = {m: [] for m in (
        ReportUnit, ReportUnitPlan, ReportTask, ReportAssignment, ReportUpdate, ReportInspection,
        ReportReviewSubmission)}
    for u in range(1, units + 1):
        rows[ReportUnit].append(dict(id=u, code=f"CB-{u:03d}", name=f"Chi bộ đơn vị số {u}", kind="party_cell"))
        if u % 3:
            rows[ReportUnitPlan].append(dict(id=u, plan_id=1, unit_id=u, unit_code=f"CB-{u:03d}",
                                             unit_name=f"Chi bộ đơn vị số {u}", number=f"{u}-KH/CB",
                                             issued_on=date(2022, 1, 10 + u % 200 // 10), title="Kế hoạch thực hiện",
                                             link=""))
        if u % 4 == 0:
            rows[ReportInspection].append(dict(id=u, plan_id=1, unit_id=u, unit_name=f"Chi bộ đơn vị số {u}",
                                               inspecting_unit_id=1, inspecting_unit_name="Ủy ban Kiểm tra",
                                               kind="inspection", inspected_on=date(2022, 5, 1 + u % 28),
                                               conclusion="Tốt", follow_ups=[]))
        if u % 2:
            rows[ReportReviewSubmission].append(dict(
                id=u, round_id=1, plan_id=1, unit_id=u, unit_name=f"Chi bộ đơn vị số {u}",
                submitted_at=datetime(2022, 7, 10, tzinfo=UTC), on_time=u % 4 == 1, link="", summary="Tóm tắt",
                results="Kết quả", difficulties="Khó khăn", proposals="Kiến nghị"))
    for t in range(1, tasks + 1):
        rows[ReportTask].append(dict(id=t, plan_id=1, code=f"II.{t}", title=f"Nhiệm vụ trọng tâm số {t}",
                                     kind="ongoing" if t % 10 == 0 else "one_off", due_on=date(2022, 6, 30),
                                     indicators=ind))
    start = datetime(2022, 1, 10, 2, tzinfo=UTC)
    span = (datetime(2022, 9, 15, tzinfo=UTC) - start) / updates_each
    n = update_id = 0
    for t in range(1, tasks + 1):
        for u in range(1, units + 1):
            n += 1
            status = rnd.choice(["not_started", "in_progress", "completed"])
            history = []
            for k in range(updates_each):
                update_id += 1
                last = k == updates_each - 1
                s = status if last and status != "not_started" else "in_progress"
                at = start + span * k + timedelta(hours=rnd.randint(0, 24 * 20))
                history.append(dict(
                    id=update_id, assignment_id=n, plan_id=1, unit_id=u, status=s,
                    progress=100 if s == "completed" else min(90, 10 * (k + 1)), summary=SUMMARY if n % 2 else "",
                    difficulties="Thiếu kinh phí." if n % 7 == 0 else "", indicator_values={"lop": rnd.randint(0, 3)},
                    evidence_links=["https://vb.example/x.pdf"], period="", reported_by="Nguyễn Văn An",
                    reported_at=at, version=k + 2, review_state="accepted" if k % 3 else "pending", review_reason="",
                    reviewed_at=at + timedelta(days=1) if k % 3 else None))
            rows[ReportUpdate].extend(history)
            latest: dict[str, Any] = history[-1]
            rows[ReportAssignment].append(dict(
                id=n, plan_id=1, task_id=t, task_code=f"II.{t}", task_title=f"Nhiệm vụ trọng tâm số {t}",
                task_kind="ongoing" if t % 10 == 0 else "one_off", unit_id=u, unit_code=f"CB-{u:03d}",
                unit_name=f"Chi bộ đơn vị số {u}", role="lead", due_on=date(2022, 6, 30),
                assigned_on=date(2022, 1, 5) if n % 20 else date(2022, 7, 1),
                last_reported_on=latest["reported_at"].date(), status=latest["status"], progress=latest["progress"],
                summary=latest["summary"], difficulties=latest["difficulties"], reported_by=latest["reported_by"],
                reported_at=latest["reported_at"],
                completed_on=latest["reported_at"].date() if latest["status"] == "completed" else None,
                version=latest["version"], update_id=latest["id"], indicator_values=latest["indicator_values"],
                evidence_links=latest["evidence_links"], period="", review_state=latest["review_state"],
                review_reason="", reviewed_update_id=None, reviewed_at=latest["reviewed_at"]))
    with Session(engine) as session:
        session.add(ReportPlan(id=1, number="41-KH/ĐUK", place="Trà Vinh", issued_on=date(2021, 12, 15),
                               title="thực hiện Chương trình số 22-CTr/TU về phát triển kinh tế đô thị",
                               issuer_name="Đảng ủy Khối các cơ quan và doanh nghiệp", status="published"))
        session.add(ReportReviewRound(id=1, plan_id=1, plan_number="41-KH/ĐUK", kind="preliminary",
                                      title="Sơ kết 6 tháng đầu năm 2022", period_end=date(2022, 6, 30),
                                      submit_by=date(2022, 7, 15), unit_ids=list(range(1, units + 1))))
        for model, values in rows.items():
            for i in range(0, len(values), 5000):
                session.execute(insert(model.__table__), values[i:i + 5000])  # type: ignore[attr-defined]
        session.commit()
    if analyze:
        with engine.connect() as conn:  # fresh statistics for the planner
            conn.execute(text("ANALYZE"))
            conn.commit()


def median_seconds(work: Callable[[], object], runs: int) -> float:
    """The median time of `runs` runs of `work`, after one warm-up run."""
    work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def route_work(engine: Engine) -> dict[str, Callable[[], object]]:
    """What `GET /plans/1/progress`, `/export.csv` and `/export.xlsx` do, minus HTTP."""
    def progress_now() -> object:
        with Session(engine) as s:
            return progress.plan_progress(s, 1, TODAY, 7, overdue_limit=OVERDUE_LIMIT)

    def export_csv() -> int:
        with Session(engine) as s:
            plan = exports.get_plan(s, 1)
            assert plan is not None
            return sum(len(chunk.encode("utf-8")) for chunk in exports.plan_csv(s, plan, TODAY, 7))

    def export_xlsx() -> bytes:
        with Session(engine) as s:
            plan = exports.get_plan(s, 1)
            assert plan is not None
            return xlsx.write_workbook(data.build_report(s, plan, TODAY, 7, can_read=lambda _: True))

    return {"progress": progress_now, "export.csv": export_csv, "export.xlsx": export_xlsx}
