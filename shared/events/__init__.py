"""Versioned event contracts shared by the plantrack services."""

from shared.events.assignments import (
    AssignmentCreatedPayload,
    AssignmentCreatedV1,
    AssignmentStatusChangedPayload,
    AssignmentStatusChangedV1,
    OfficialCreatedV1,
    OfficialPayload,
    PlanCreatedV1,
    PlanPayload,
    TaskPayload,
    UnitCreatedV1,
    UnitPayload,
)
from shared.events.base import Event, utcnow
from shared.events.registry import EVENT_TYPES, parse_event

__all__ = [
    "EVENT_TYPES",
    "AssignmentCreatedPayload",
    "AssignmentCreatedV1",
    "AssignmentStatusChangedPayload",
    "AssignmentStatusChangedV1",
    "Event",
    "OfficialCreatedV1",
    "OfficialPayload",
    "PlanCreatedV1",
    "PlanPayload",
    "TaskPayload",
    "UnitCreatedV1",
    "UnitPayload",
    "parse_event",
    "utcnow",
]
