"""The committed event documentation matches the code."""

import json
from pathlib import Path

from services.asyncapi import build_document, render
from shared.events import EVENT_TYPES

ROOT = Path(__file__).resolve().parents[2]


def test_committed_asyncapi_is_current() -> None:
    committed = (ROOT / "docs" / "asyncapi.json").read_text(encoding="utf-8")
    assert committed == render(), "docs/asyncapi.json is stale: run `plantrack asyncapi -o docs/asyncapi.json`"


def test_asyncapi_documents_every_event_and_its_consumers() -> None:
    doc = build_document()
    channels = set(doc["channels"])
    for event_type in EVENT_TYPES:
        assert f"assignments:{event_type}" in channels
    assert "notifications:assignment.status_changed.v1" in channels
    assert "reporting:assignment.status_changed.v1" in channels
    schemas = json.dumps(doc["components"]["schemas"])
    for field in ("event_id", "event_type", "occurred_at", "correlation_id", "payload"):
        assert field in schemas


def test_events_page_lists_every_event() -> None:
    page = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    for event_type in EVENT_TYPES:
        assert f"`{event_type}`" in page
