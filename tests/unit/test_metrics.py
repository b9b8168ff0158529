"""GET /metrics on the three services: requests counted by route template, the metrics token,
scrape-time backlog gauges (NaN while the database is down), emails counted over real SMTP."""

import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from services.notifications.mailer import SmtpSender
from services.notifications.models import OutgoingEmail
from shared.db import make_engine
from shared.messaging.relay import PermanentFailure
from shared.metrics.backlog import Backlog
from shared.metrics.registry import occurred_at
from shared.problems import PROBLEM_JSON
from tests.support.smtp import SmtpServer
from tests.unit.conftest import Api, bearer
from tests.unit.test_mailer import _free_port, _full, _settings
from tests.unit.test_openapi_docs import SERVICES, make_app

METRICS_TOKEN = "metrics-secret-1"


def value(name: str, **labels: str) -> float:
    """A sample of this process's default registry (0 when it was never recorded)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client: TestClient, token: str | None = None) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """GET /metrics, parsed: metric sample name -> sorted labels -> value."""
    response = client.get("/metrics", headers=bearer(token) if token else {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def requests(route: str, status: str, method: str = "GET", service: str = "assignments") -> float:
    return value("plantrack_http_requests_total", service=service, method=method, route=route, status=status)


def test_requests_are_counted_by_route_template_and_status(api: Api) -> None:
    template = "/assignments/{assignment_id}/updates"
    before = requests(template, "404"), requests("/health", "200"), requests("<unmatched>", "404")
    assert api.get("/assignments/424242/updates").status_code == 404
    assert api.get("/assignments/434343/updates").status_code == 404
    assert api.get("/health").status_code == 200
    assert api.get("/no/such/page/123").status_code == 404
    after = requests(template, "404"), requests("/health", "200"), requests("<unmatched>", "404")
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1, 1]

    samples = scrape(api.client)
    counted = {dict(labels)["route"] for labels in samples["plantrack_http_requests_total"]}
    assert {template, "/health", "<unmatched>"} <= counted
    assert not [route for route in counted if "424242" in route or "/no/such" in route]  # never a raw path
    durations = samples["plantrack_http_request_duration_seconds_count"]
    assert durations[(("method", "GET"), ("route", template), ("service", "assignments"))] >= 2


def test_other_routes_and_methods_keep_the_labels_bounded(api: Api) -> None:
    before = requests("/docs", "200"), requests("/health", "405", "OTHER")
    assert api.client.get("/docs").status_code == 200  # a plain Starlette route: looked up by its regex
    assert api.client.request("BREW", "/health").status_code == 405
    after = requests("/docs", "200"), requests("/health", "405", "OTHER")
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1]


def test_the_outbox_backlog_is_read_at_scrape_time(api: Api) -> None:
    api.ok(api.post("/units", {"code": "CB1", "name": "Chi bộ 1", "kind": "party_cell"}))
    samples = scrape(api.client)
    assert samples["plantrack_outbox_backlog"][()] == len(api.outbox()) >= 1  # the relay is off here
    assert samples["plantrack_outbox_oldest_age_seconds"][()] >= 0


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, bearer("t"),
                                     {"Authorization": f"Basic {METRICS_TOKEN}"}])
def test_with_a_metrics_token_metrics_need_it(make_api: Callable[..., Api], headers: dict[str, str]) -> None:
    api = make_api(metrics_token=METRICS_TOKEN)
    response = api.client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401 and "metrics token" in response.json()["detail"]
    assert "plantrack_outbox_backlog" in scrape(api.client, METRICS_TOKEN)


def test_without_a_metrics_token_metrics_are_open(api: Api) -> None:
    assert "plantrack_http_requests_total" in scrape(api.client)


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_serves_metrics_by_its_name(service: str, tmp_path: Path) -> None:
    client = TestClient(make_app(service, tmp_path))  # not started: its tables do not exist yet
    assert client.get("/health").status_code == 200
    samples = scrape(client)
    assert samples["plantrack_http_requests_total"][
        (("method", "GET"), ("route", "/health"), ("service", service), ("status", "200"))] >= 1
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]  # for Prometheus, not the API
    if service == "notifications":  # the emails table cannot be read: the gauges say so, the scrape works
        assert math.isnan(samples["plantrack_email_backlog"][()])
        assert math.isnan(samples["plantrack_email_oldest_age_seconds"][()])


def test_a_database_that_does_not_answer_gives_nan_and_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        families = list(Backlog(engine, OutgoingEmail, "email").collect())
    finally:
        engine.dispose()
    assert [f.name for f in families] == ["plantrack_email_backlog", "plantrack_email_oldest_age_seconds"]
    assert all(math.isnan(f.samples[0].value) for f in families)
    assert "could not read the email backlog" in caplog.text


def test_an_events_time_comes_from_its_envelope_else_its_amqp_timestamp() -> None:
    body = b'{"event_id":"e","event_type":"unit.created.v1","occurred_at":"2026-01-02T03:04:05.678901Z"}'
    stamp = datetime(2026, 1, 2, 3, 4, 5)  # AMQP timestamps carry whole seconds
    assert occurred_at(body, stamp) == datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert occurred_at(b"{not json", stamp) == stamp.replace(tzinfo=UTC)
    assert occurred_at(b'{"occurred_at":"yesterday-ish"}', None) is None


async def test_emails_sent_and_failed_are_counted_over_real_smtp(tmp_path: Path) -> None:
    sent, permanent, transient = (value("plantrack_emails_sent_total"),
                                  value("plantrack_emails_failed_total", permanent="true"),
                                  value("plantrack_emails_failed_total", permanent="false"))
    port = _free_port()
    with SmtpServer(port) as smtp:
        sender = SmtpSender(_settings(tmp_path, port))
        await sender.send(_full())
        await sender.send(_full())
        with pytest.raises(PermanentFailure):
            await sender.send(_full(recipient="not an address"))
        await sender.close()
    assert len(smtp.mailbox.snapshot()) == 2
    with pytest.raises(Exception):  # noqa: B017 - whatever the connection error, it is retried
        await SmtpSender(_settings(tmp_path, _free_port())).send(_full())
    assert value("plantrack_emails_sent_total") - sent == 2
    assert value("plantrack_emails_failed_total", permanent="true") - permanent == 1
    assert value("plantrack_emails_failed_total", permanent="false") - transient == 1
