"""Time each review export on a large read model: 200 units x 50 tasks (10,000 assignments) in SQLite.

    .venv/bin/python scripts/bench_exports.py [--units 200] [--tasks 50]

Each timing covers reading the read model and writing the file, as the route does (minus HTTP)."""

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session  # noqa: E402

from services.reporting import exports, progress  # noqa: E402
from services.reporting.documents import content, data, docx, pdf, xlsx  # noqa: E402
from services.reporting.models import (  # noqa: E402
    ReportAssignment,
    ReportingModel,
    ReportPlan,
    ReportReviewRound,
    ReportReviewSubmission,
    ReportTask,
    ReportUnit,
    ReportUnitPlan,
)
from shared.db import make_engine  # noqa: E402

TODAY = date(2022, 9, 20)


def build(session: Session, units: int, tasks: int) -> None:
    rnd = random.Random(41)
    session.add(ReportPlan(id=1, number="41-KH/ĐUK", place="Trà Vinh", issued_on=date(2021, 12, 15),
                           title="thực hiện Chương trình số 22-CTr/TU về phát triển kinh tế đô thị",
                           issuer_name="Đảng ủy Khối các cơ quan và doanh nghiệp", status="published"))
    for u in range(1, units + 1):
        session.add(ReportUnit(id=u, code=f"CB-{u:03d}", name=f"Chi bộ đơn vị số {u}", kind="party_cell"))
        if u % 3:
            session.add(ReportUnitPlan(id=u, plan_id=1, unit_id=u, unit_code=f"CB-{u:03d}",
                                       unit_name=f"Chi bộ đơn vị số {u}", number=f"{u}-KH/CB",
                                       issued_on=date(2022, 1, 10), title="Kế hoạch thực hiện"))
    for t in range(1, tasks + 1):
        session.add(ReportTask(id=t, plan_id=1, code=f"II.{t}", title=f"Nhiệm vụ trọng tâm số {t}",
                               kind="ongoing" if t % 10 == 0 else "one_off", due_on=date(2022, 6, 30),
                               indicators=[{"code": "lop", "name": "Số lớp", "unit_of_measure": "lớp", "target": 100}]))
    n = 0
    for t in range(1, tasks + 1):
        for u in range(1, units + 1):
            n += 1
            status = rnd.choice(["not_started", "in_progress", "completed"])
            session.add(ReportAssignment(
                id=n, plan_id=1, task_id=t, task_code=f"II.{t}", task_title=f"Nhiệm vụ trọng tâm số {t}",
                task_kind="ongoing" if t % 10 == 0 else "one_off", unit_id=u, unit_code=f"CB-{u:03d}",
                unit_name=f"Chi bộ đơn vị số {u}", due_on=date(2022, 6, 30), assigned_on=date(2022, 1, 5),
                status=status, progress=100 if status == "completed" else rnd.randint(0, 90),
                completed_on=date(2022, 6, rnd.randint(1, 30)) + timedelta(days=rnd.choice([0, 10]))
                if status == "completed" else None,
                summary="Đã tổ chức quán triệt cho toàn thể đảng viên; xây dựng kế hoạch cụ thể." if n % 2 else "",
                difficulties="Thiếu kinh phí." if n % 7 == 0 else "", indicator_values={"lop": rnd.randint(0, 3)},
                evidence_links=["https://vb.example/x.pdf"], review_state="accepted", reported_by="Nguyễn Văn An",
                reported_at=datetime(2022, 6, 1, tzinfo=UTC)))
    session.add(ReportReviewRound(id=1, plan_id=1, plan_number="41-KH/ĐUK", kind="preliminary",
                                  title="Sơ kết 6 tháng đầu năm 2022", period_end=date(2022, 6, 30),
                                  submit_by=date(2022, 7, 15), unit_ids=list(range(1, units + 1))))
    for u in range(1, units + 1, 2):
        session.add(ReportReviewSubmission(id=u, round_id=1, plan_id=1, unit_id=u, unit_name=f"Chi bộ đơn vị số {u}",
                                           submitted_at=datetime(2022, 7, 10, tzinfo=UTC), on_time=u % 4 == 1,
                                           summary="Tóm tắt", results="Kết quả", difficulties="Khó khăn",
                                           proposals="Kiến nghị"))
    session.commit()


def timed(name: str, work: Callable[[], bytes | str]) -> None:
    start = time.perf_counter()
    body = work()
    print(f"{name:<28} {time.perf_counter() - start:6.3f} s  {len(body) / 1024:8.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        ReportingModel.metadata.create_all(engine)
        with Session(engine) as s:
            build(s, args.units, args.tasks)
        print(f"{args.units} units x {args.tasks} tasks = {args.units * args.tasks} assignments")

        def session_run(fn: Callable[[Session], bytes | str]) -> Callable[[], bytes | str]:
            def run() -> bytes | str:
                with Session(engine) as s:
                    return fn(s)
            return run

        def report(s: Session, round_id: int | None = None) -> data.PlanReport:
            plan = exports.get_plan(s, 1)
            assert plan is not None
            rnd = progress.get_round(s, 1, round_id) if round_id else None
            return data.build_report(s, plan, TODAY, 7, can_read=lambda _: True, round_=rnd)

        def csv_plan(s: Session) -> str:
            plan = exports.get_plan(s, 1)
            assert plan is not None
            return "".join(exports.plan_csv(s, plan, TODAY, 7))

        def csv_round(s: Session) -> str:
            rnd = progress.get_round(s, 1, 1)
            assert rnd is not None
            return exports.review_csv(progress.round_units(s, rnd), progress.latest_submissions(s, 1))

        timed("plan export.csv", session_run(csv_plan))
        timed("round export.csv", session_run(csv_round))
        timed("plan export.xlsx", session_run(lambda s: xlsx.write_workbook(report(s))))
        timed("round export.xlsx", session_run(lambda s: xlsx.write_workbook(report(s, 1))))
        timed("plan export.docx", session_run(lambda s: docx.write_docx(content.build_document(report(s)))))
        timed("round export.docx", session_run(lambda s: docx.write_docx(content.build_document(report(s, 1)))))
        if pdf.fallback_available():
            timed("round export.pdf (fpdf2)", session_run(lambda s: pdf.draw_pdf(content.build_document(report(s, 1)))))
        binary = pdf.soffice()
        if binary:
            timed("round export.pdf (soffice)", session_run(
                lambda s: pdf.docx_to_pdf(docx.write_docx(content.build_document(report(s, 1))), binary)))
            timed("  again (profile warm)", session_run(
                lambda s: pdf.docx_to_pdf(docx.write_docx(content.build_document(report(s, 1))), binary)))
        engine.dispose()


if __name__ == "__main__":
    main()
