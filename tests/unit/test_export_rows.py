"""The narrow export rows: now, as of a day, in document order, a batch at a time."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from services.reporting import exports, rows
from services.reporting.models import ReportAssignment, ReportingModel, ReportPlan, ReportUpdate
from shared.db import make_engine

TODAY = date(2024, 7, 10)


def assignment(id: int, code: str, unit: int, **kw: object) -> ReportAssignment:
    fields = {"plan_id": 1, "due_on": date(2024, 6, 30), "assigned_on": date(2024, 6, 1)} | kw
    return ReportAssignment(id=id, task_id=id, task_code=code, task_title=f"Nhiệm vụ {code}", unit_id=unit,
                            unit_code=f"CB-{unit}", unit_name=f"Chi bộ {unit}", **fields)  # type: ignore[arg-type]


def update(id: int, assignment_id: int, at: datetime, **kw: object) -> ReportUpdate:
    fields = {"status": "in_progress", "progress": 50} | kw
    return ReportUpdate(id=id, assignment_id=assignment_id, plan_id=1, unit_id=1, reported_at=at, version=id + 1,
                        **fields)  # type: ignore[arg-type]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path}/reporting.db")
    ReportingModel.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(ReportPlan(id=1, number="41-KH/ĐUK"))
        s.add(assignment(1, "II.10", 1, status="completed", progress=100, summary="Xong",
                         completed_on=date(2024, 6, 20), last_reported_on=date(2024, 6, 20),
                         reported_at=datetime(2024, 6, 19, 18, tzinfo=UTC),
                         indicator_values={"lop": 4}, evidence_links=["https://vb.example/a.pdf"],
                         review_state="accepted", reviewed_at=datetime(2024, 6, 25, tzinfo=UTC)))
        s.add(assignment(2, "II.2", 2, status="in_progress", progress=30))
        s.add(assignment(3, "I", 1))
        s.add(assignment(4, "II.2", 1, assigned_on=date(2024, 7, 1)))  # created in July
        s.add(assignment(9, "I", 1, plan_id=2))  # another plan
        s.add(update(101, 1, datetime(2024, 6, 10, 3, tzinfo=UTC), summary="Đang làm", indicator_values={"lop": 1},
                     review_state="accepted", reviewed_at=datetime(2024, 6, 11, tzinfo=UTC)))
        # 01:00 on 20 June in Viet Nam, reviewed on 25 June
        s.add(update(102, 1, datetime(2024, 6, 19, 18, tzinfo=UTC), status="completed", progress=100, summary="Xong",
                     indicator_values={"lop": 4}, evidence_links=["https://vb.example/a.pdf"],
                     review_state="accepted", reviewed_at=datetime(2024, 6, 25, tzinfo=UTC)))
        s.add(update(103, 2, datetime(2024, 7, 2, tzinfo=UTC), progress=30))
        s.commit()
        yield s
    engine.dispose()


def test_rows_now_in_document_order(session: Session) -> None:
    found = rows.export_rows(session, 1)
    assert [(r.id, r.task_code, r.unit_code) for r in found] == [
        (3, "I", "CB-1"), (4, "II.2", "CB-1"), (2, "II.2", "CB-2"), (1, "II.10", "CB-1")]
    first = found[-1]
    assert (first.status, first.progress, first.completed_on, first.last_reported_on) == (
        "completed", 100, date(2024, 6, 20), date(2024, 6, 20))
    assert first.reported_at == datetime(2024, 6, 19, 18, tzinfo=UTC)
    assert first.indicator_values == {"lop": 4} and first.evidence_links == ["https://vb.example/a.pdf"]
    assert found[0].indicator_values == {} and found[0].reported_at is None


def test_rows_as_of_a_day_take_the_update_history(session: Session) -> None:
    before = {r.id: r for r in rows.export_rows(session, 1, date(2024, 6, 19))}
    assert set(before) == {1, 2, 3}  # 4 was created in July
    assert (before[1].status, before[1].summary, before[1].indicator_values) == ("in_progress", "Đang làm", {"lop": 1})
    assert before[1].review_state == "accepted" and before[1].completed_on is None
    assert (before[2].status, before[2].progress, before[2].review_state) == ("not_started", 0, "")

    after = {r.id: r for r in rows.export_rows(session, 1, date(2024, 6, 20))}
    assert (after[1].status, after[1].completed_on, after[1].last_reported_on) == (
        "completed", date(2024, 6, 20), date(2024, 6, 20))
    assert after[1].review_state == "pending" and after[1].review_reason == ""  # reviewed on 25 June
    assert {r.id: r for r in rows.export_rows(session, 1, date(2024, 6, 25))}[1].review_state == "accepted"
    assert session.get(ReportAssignment, 2).status == "in_progress"  # type: ignore[union-attr]  # nothing written


def test_batches_and_the_streamed_csv(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows, "BATCH", 2)
    assert [len(b) for b in rows.row_batches(session, 1)] == [2, 2]
    plan = session.get(ReportPlan, 1)
    assert plan is not None
    chunks = list(exports.plan_csv(session, plan, TODAY, 7))
    assert len(chunks) == 3  # the header, then one piece per batch
    whole = exports.export_csv(plan, rows.export_rows(session, 1), TODAY, 7,
                               indicators=exports.indicator_labels(session, 1))
    assert "".join(chunks) == whole
    only_unit_2 = "".join(exports.plan_csv(session, plan, TODAY, 7, can_read=lambda unit: unit == 2))
    assert only_unit_2.count("\r\n") == 2 and "Chi bộ 2" in only_unit_2 and "Chi bộ 1" not in only_unit_2
