"""Event contracts: names, routing keys, JSON round trips, rejection of bad messages."""

import json
import re
from datetime import UTC, date, datetime
from types import UnionType
from typing import Any, Union, get_args, get_origin
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from sqlmodel import Session, SQLModel, create_engine

from shared.events import (
    EVENT_TYPES,
    AssignmentCreatedPayload,
    AssignmentCreatedV1,
    AssignmentStatusChangedPayload,
    AssignmentStatusChangedV1,
    Event,
    OfficialCreatedV1,
    OfficialPayload,
    PlanCreatedV1,
    PlanPayload,
    TaskPayload,
    UnitCreatedV1,
    UnitPayload,
    parse_event,
)
from shared.messaging.outbox import OutboxMessage, add_event
from shared.messaging.publisher import outbox_publisher
from shared.messaging.topology import EVENTS_EXCHANGE, consumer_queue

NAME = re.compile(r"^(?P<noun>[a-z][a-z_]*)\.(?P<verb>[a-z][a-z_]*ed)\.v(?P<version>[1-9][0-9]*)$")

STATUS_PAYLOAD = AssignmentStatusChangedPayload(
    assignment_id=7, update_id=3, plan_id=1, plan_number="41-KH/ĐUK", task_id=4, task_code="II.1",
    task_title="Quán triệt, cụ thể hóa", unit_id=5, unit_code="CB-STC", unit_name="Chi bộ Sở Tài chính",
    old_status="not_started", new_status="in_progress", progress=40, summary="Đã tổ chức hội nghị.",
    difficulties="Thiếu kinh phí.", due_on=date(2022, 3, 31), reported_by_id=9,
    reported_by_name="Nguyễn Văn An", reported_at=datetime(2022, 1, 5, 2, 0, tzinfo=UTC), version=2,
)

HANDWRITTEN: dict[str, Event] = {
    "unit.created.v1": UnitCreatedV1(
        correlation_id="req-1",
        payload=UnitPayload(id=1, code="BTG", name="Ban Tuyên giáo", kind="advisory_board", parent_id=None)),
    "official.created.v1": OfficialCreatedV1(payload=OfficialPayload(
        id=2, name="Nguyễn Thị Lan", email="lan@example.vn", title="Trưởng ban", unit_id=1, role="supervisor")),
    "plan.created.v1": PlanCreatedV1(payload=PlanPayload(
        id=1, number="41-KH/ĐUK", title="Kế hoạch", issued_on=date(2021, 12, 15), implements="22-CTr/TU",
        tasks=[TaskPayload(id=1, code="II", title="Nhiệm vụ"),
               TaskPayload(id=2, code="II.1", title="Quán triệt", parent_code="II", due_on=date(2022, 3, 31))])),
    "assignment.created.v1": AssignmentCreatedV1(payload=AssignmentCreatedPayload(
        id=7, plan_id=1, task_id=2, task_code="II.1", task_title="Quán triệt", unit_id=5, unit_code="CB-STC",
        unit_name="Chi bộ Sở Tài chính", due_on=date(2022, 3, 31))),
    "assignment.status_changed.v1": AssignmentStatusChangedV1(correlation_id="req-9", payload=STATUS_PAYLOAD),
}


_SCALARS: dict[Any, Any] = {
    int: 7, float: 1.5, bool: True, str: "Ví dụ có dấu", date: date(2022, 1, 5),
    datetime: datetime(2022, 1, 5, 2, 0, tzinfo=UTC), UUID: UUID(int=1),
}


def _sample_value(annotation: Any, info: FieldInfo | None = None) -> Any:
    if info is not None and info.examples:
        return info.examples[0]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, UnionType):
        return _sample_value(next(a for a in args if a is not type(None)))
    if origin is list:
        return [_sample_value(args[0])] if args else []
    if origin is dict:
        return {"k": _sample_value(args[1])} if args else {}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sample_model(annotation)
    return _SCALARS[annotation]


def sample_model(model: type[BaseModel]) -> BaseModel:
    """An instance with every field filled (examples first), so new contracts are covered automatically."""
    values = {name: _sample_value(info.annotation, info)
              for name, info in model.model_fields.items() if name not in Event.model_fields}
    return model.model_validate(values)


SAMPLES: dict[str, Event] = {
    t: HANDWRITTEN.get(t) or sample_model(cls).model_copy(update={"correlation_id": f"req-{t}"})  # type: ignore[misc]
    for t, cls in EVENT_TYPES.items()
}


def test_handwritten_samples_are_still_registered() -> None:
    assert set(HANDWRITTEN) <= set(EVENT_TYPES)
    assert len(SAMPLES) == len(EVENT_TYPES)


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_type_string_is_the_class_default_and_the_routing_key(event_type: str) -> None:
    cls = EVENT_TYPES[event_type]
    assert cls.TYPE == event_type == cls.model_fields["event_type"].default
    assert type(SAMPLES[event_type]) is cls and SAMPLES[event_type].event_type == event_type
    # consumers bind their queue with the type; the outbox row carries it as its routing key
    assert consumer_queue("svc", event_type, delivery_limit=5).routing_key == event_type
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine, tables=[OutboxMessage.__table__])  # type: ignore[attr-defined]
    with Session(engine) as session:
        row = add_event(session, SAMPLES[event_type])
        assert row.event_type == event_type


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
async def test_publisher_routes_by_event_type(event_type: str) -> None:
    sent: list[dict] = []

    class FakeBroker:
        async def publish(self, body: bytes, **kw: object) -> None:
            sent.append({"body": body, **kw})

    event = SAMPLES[event_type]
    row = OutboxMessage(event_id=event.event_id, event_type=event.event_type, correlation_id="req-1",
                        body=event.model_dump_json(), created_at=event.occurred_at,
                        available_at=event.occurred_at)
    await outbox_publisher(FakeBroker())(row)  # type: ignore[arg-type]
    (msg,) = sent
    assert msg["routing_key"] == event_type and msg["exchange"] is EVENTS_EXCHANGE
    assert msg["message_id"] == str(event.event_id) and msg["correlation_id"] == "req-1"
    assert parse_event(msg["body"]) == event


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_naming_convention(event_type: str) -> None:
    match = NAME.match(event_type)
    assert match, f"{event_type} is not <noun>.<past_tense_verb>.v<N>"
    assert EVENT_TYPES[event_type].__name__.endswith(f"V{match['version']}")


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_json_round_trip(event_type: str) -> None:
    event = SAMPLES[event_type]
    text = event.model_dump_json()
    for raw in (text, text.encode(), json.loads(text)):
        back = parse_event(raw)
        assert type(back) is type(event)
        assert back == event
    assert json.loads(text)["event_type"] == event_type


def test_round_trip_keeps_vietnamese_and_dates() -> None:
    back = parse_event(SAMPLES["assignment.status_changed.v1"].model_dump_json())
    assert isinstance(back, AssignmentStatusChangedV1)
    assert back.payload.unit_name == "Chi bộ Sở Tài chính"
    assert back.payload.due_on == date(2022, 3, 31)
    assert back.payload.reported_at == datetime(2022, 1, 5, 2, 0, tzinfo=UTC)
    assert back.correlation_id == "req-9"


def test_envelope_defaults() -> None:
    a, b = (UnitCreatedV1(payload=UnitPayload(id=1, code="X", name="X", kind="external")) for _ in range(2))
    assert a.event_id != b.event_id
    assert a.occurred_at.tzinfo is not None
    assert a.producer == "assignments"


def test_events_are_immutable() -> None:
    with pytest.raises(ValidationError):
        SAMPLES["unit.created.v1"].correlation_id = "other"  # type: ignore[misc]


@pytest.mark.parametrize("raw", [
    {"event_type": "unit.deleted.v1", "payload": {}},
    {"event_type": "unit.created.v2", "payload": {"id": 1, "code": "X", "name": "X", "kind": "external"}},
    {"payload": {"id": 1}},
])
def test_parse_rejects_unknown_types(raw: dict) -> None:
    with pytest.raises(ValueError, match="unknown event_type"):
        parse_event(raw)


def _status_raw(**changes: object) -> dict:
    raw = json.loads(SAMPLES["assignment.status_changed.v1"].model_dump_json())
    raw["payload"].update(changes)
    return raw


@pytest.mark.parametrize("raw", [
    _status_raw(progress=101),
    _status_raw(progress=-1),
    _status_raw(reported_at="not a time"),
    {k: v for k, v in _status_raw().items() if k != "payload"},
    {**_status_raw(), "payload": {"assignment_id": 1}},
    {**_status_raw(), "event_id": "not-a-uuid"},
    # a unit payload under another type's name
    {"event_type": "assignment.status_changed.v1", "event_id": str(uuid4()),
     "payload": SAMPLES["unit.created.v1"].model_dump(mode="json")["payload"]},
])
def test_parse_rejects_bad_payloads(raw: dict) -> None:
    with pytest.raises(ValidationError):
        parse_event(raw)


def test_parse_rejects_non_json() -> None:
    with pytest.raises(ValueError):
        parse_event(b"{not json")


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    raw = _status_raw(new_field="x")
    raw["extra_envelope_field"] = 1
    assert parse_event(raw) == SAMPLES["assignment.status_changed.v1"]
