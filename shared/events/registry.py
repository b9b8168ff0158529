"""Event type string -> contract class."""

import json
from typing import Any

from shared.events.assignments import (
    ApiTokenIssuedV1,
    ApiTokenRevokedV1,
    AssignmentCreatedV1,
    AssignmentStatusChangedV1,
    InspectionRecordedV1,
    OfficialCreatedV1,
    OfficialUpdatedV1,
    PlanClosedV1,
    PlanCreatedV1,
    PlanPublishedV1,
    PlanUpdatedV1,
    ReviewRoundOpenedV1,
    ReviewSubmissionSubmittedV1,
    StatusUpdateReviewedV1,
    UnitCreatedV1,
    UnitPlanRegisteredV1,
    UnitUpdatedV1,
)
from shared.events.base import Event
from shared.events.sessions import SigninLinkRequestedV1, WebSessionEndedV1, WebSessionStartedV1

EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        UnitCreatedV1,
        UnitUpdatedV1,
        OfficialCreatedV1,
        PlanCreatedV1,
        AssignmentCreatedV1,
        AssignmentStatusChangedV1,
        OfficialUpdatedV1,
        PlanUpdatedV1,
        PlanPublishedV1,
        PlanClosedV1,
        StatusUpdateReviewedV1,
        UnitPlanRegisteredV1,
        InspectionRecordedV1,
        ReviewRoundOpenedV1,
        ReviewSubmissionSubmittedV1,
        ApiTokenIssuedV1,
        ApiTokenRevokedV1,
        SigninLinkRequestedV1,
        WebSessionStartedV1,
        WebSessionEndedV1,
    )
}


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """Validate a raw message into its contract class, by its `event_type`."""
    raw = json.loads(data) if isinstance(data, str | bytes) else data
    cls = EVENT_TYPES.get(raw.get("event_type", ""))
    if cls is None:
        raise ValueError(f"unknown event_type: {raw.get('event_type')!r}")
    return cls.model_validate(raw)
