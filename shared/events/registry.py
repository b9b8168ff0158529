"""Event type string -> contract class."""

import json
from typing import Any

from shared.events.assignments import (
    AssignmentCreatedV1,
    AssignmentStatusChangedV1,
    OfficialCreatedV1,
    PlanCreatedV1,
    UnitCreatedV1,
)
from shared.events.base import Event

EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        UnitCreatedV1,
        OfficialCreatedV1,
        PlanCreatedV1,
        AssignmentCreatedV1,
        AssignmentStatusChangedV1,
    )
}


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """Validate a raw message into its contract class, by its `event_type`."""
    raw = json.loads(data) if isinstance(data, str | bytes) else data
    cls = EVENT_TYPES.get(raw.get("event_type", ""))
    if cls is None:
        raise ValueError(f"unknown event_type: {raw.get('event_type')!r}")
    return cls.model_validate(raw)
