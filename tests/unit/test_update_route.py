"""POST /assignments/{id}/updates in one unit of work: the caller found in the report's transaction."""

from sqlmodel import select

from services.assignments.models import ApiToken, AuditEntry, StatusUpdate
from shared.events import parse_event
from tests.unit.conftest import World


def test_a_dead_token_is_refused_before_the_body_is_read(world: World) -> None:
    api, a_id = world.api, world.a_assignment["id"]
    bad_body = {"status": "nonsense", "progress": "a lot"}
    for token in ("pt_wrong", None):
        r = api.post(f"/assignments/{a_id}/updates", bad_body, token=token)
        assert r.status_code == 401, r.text
    r = api.post("/assignments/0/updates", bad_body, token="pt_wrong")
    assert r.status_code == 401, r.text
    assert api.post(f"/assignments/{a_id}/updates", bad_body, token=world.officer_a).status_code == 422
    assert api.engine.pool.checkedout() == 0  # the refused requests gave their connection back


def test_report_writes_update_event_audit_and_token_use_together(world: World) -> None:
    api, a_id = world.api, world.a_assignment["id"]
    before = len(api.outbox())
    r = api.post(f"/assignments/{a_id}/updates", {"status": "in_progress", "progress": 30, "summary": "Đã họp.",
                                                  "indicator_values": {}, "period": "2026-Q4"},
                 token=world.officer_a, request_id="req-one-uow")
    body = api.ok(r)
    assert r.headers["ETag"] == f'"{body["assignment_version"]}"'
    assert body["review_state"] == "pending" and body["period"] == "2026-Q4"
    outbox = api.outbox()
    assert len(outbox) == before + 1
    event = parse_event(outbox[-1].body)
    assert event.event_type == "assignment.status_changed.v1"
    assert event.payload.update_id == body["id"]  # type: ignore[attr-defined]
    assert event.payload.version == body["assignment_version"]  # type: ignore[attr-defined]
    assert event.correlation_id == "req-one-uow" and event.directory_version is not None
    with api.session() as s:
        row = s.get(StatusUpdate, body["id"])
        assert row is not None and row.summary == "Đã họp." and row.previous_status == "not_started"
        entry = s.exec(select(AuditEntry).where(AuditEntry.event_id == str(event.event_id))).one()
        assert entry.action == "assignment.report" and entry.changes["update_id"] == body["id"]
        assert entry.correlation_id == "req-one-uow"
        tokens = s.exec(select(ApiToken).where(ApiToken.official_id == body["reported_by_id"])).all()
        assert any(t.last_used_at is not None for t in tokens)
    assert api.engine.pool.checkedout() == 0
