"""The importer on real documents it was not written for: precision and recall against hand-written
expectations (tests/fixtures/plans/real/README.md); `scripts/score_import.py` prints the figures."""

import time

import pytest

from services.assignments.plan_import import parse_plan
from tests.support.import_score import big_document, fixtures, score_all, score_document

DOCUMENTS = fixtures()


def test_there_are_at_least_15_documents() -> None:
    assert len(DOCUMENTS) >= 15


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.stem for p in DOCUMENTS])
def test_identity_fields_are_right_or_empty_with_a_warning(path) -> None:
    score = score_document(path)
    assert score.invented == [] and score.missed == []
    assert score.identity_right + score.identity_warned == score.identity_fields


def test_tasks_units_and_deadlines_over_all_documents() -> None:
    total, _ = score_all()
    summary = total.summary()
    assert total.tasks.precision >= 0.98 and total.tasks.recall >= 0.95, summary
    assert total.units.precision >= 0.95 and total.units.recall >= 0.85, summary
    assert total.invented == [] and total.wrong_deadlines == [], summary


def test_a_2_mb_document_parses_in_under_2_seconds() -> None:
    """The best of three parses: a full CI run once measured 2.07 s for a parse that takes about 1 s
    on a quiet machine (another process busy on one of the two cores); the parser's own speed is the bar."""
    text = big_document(2.0)
    assert len(text.encode("utf-8")) > 2_000_000
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        draft = parse_plan(text)
        timings.append(time.perf_counter() - start)
    assert len(draft.tasks) > 1000
    assert min(timings) < 2.0, [f"{t:.2f} s" for t in timings]
