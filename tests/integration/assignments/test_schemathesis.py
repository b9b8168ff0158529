"""Property-based tests of each service's OpenAPI document against the service itself (schemathesis).

Every operation is called with generated data (valid and invalid) as each role, and every response
must match the document: no 5xx, only documented status codes, content types, headers and bodies.

To add a service, load its document (`document(create_app(...))`), give it a module fixture returning
a `Service` (its started app, wrapped in `http_only`, and its tokens), and copy the assignments test
with that schema, fixture and roles.
"""

from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.transport.serialization import serialize_binary
from starlette.types import ASGIApp, Receive, Scope, Send

from services.assignments.app import create_app as create_assignments
from services.assignments.plan_documents import DOCX_TYPE
from services.assignments.settings import AssignmentsSettings
from services.notifications.app import create_app as create_notifications
from services.notifications.settings import NotificationsSettings
from services.reporting.app import create_app as create_reporting
from services.reporting.settings import ReportingSettings
from tests.integration.assignments.conftest import Served, World

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 12


@schemathesis.serializer("application/pdf", DOCX_TYPE)
def _binary_document(ctx: Any, value: Any) -> bytes:
    """Word and PDF bodies for POST /plans/import: schemathesis has no serializer of its own for them."""
    return serialize_binary(value)


@dataclass(frozen=True)
class Service:
    """A started service app (without its lifespan: the fixture runs it) and the bearer token of each role."""

    app: ASGIApp
    tokens: dict[str, str | None]


def http_only(app: ASGIApp) -> ASGIApp:
    """The app for requests only: its fixture runs its lifespan already, schemathesis must not start another."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    return wrapper


@pytest.fixture(scope="module")
def assignments_service(shared_world: World) -> Service:
    """The assignments API on a copy of the world (PostgreSQL)."""
    return Service(app=http_only(shared_world.api.app), tokens=shared_world.token)


def document(app: ASGIApp) -> Any:
    """A service's OpenAPI document, read by schemathesis from an app that is not started."""
    return schemathesis.openapi.from_asgi("/openapi.json", http_only(app))


assignments_schema = document(create_assignments(AssignmentsSettings(database_url="sqlite://", relay_enabled=False)))
reporting_schema = document(create_reporting(ReportingSettings(database_url="sqlite://")))
notifications_schema = document(create_notifications(NotificationsSettings(database_url="sqlite://")))


@pytest.fixture(scope="module")
def reporting_service(served: Served) -> Service:
    """Reporting on PostgreSQL, fed with the world's events: it knows every role's token."""
    return Service(app=http_only(served.reporting.app), tokens=served.world.token)


@pytest.fixture(scope="module")
def notifications_service(served: Served) -> Service:
    """Notifications on PostgreSQL, fed with the world's events: it knows every role's token."""
    return Service(app=http_only(served.notifications.app), tokens=served.world.token)


# Every check of `--checks all` but one: positive_data_acceptance expects every schema-valid body to
# succeed, while some domain rules span fields and answer 422 by design ("a supervisor belongs to a
# unit", "an ongoing task has no due date"), which OpenAPI cannot state. Server errors, undocumented
# statuses, headers, content types, bodies and acceptance of schema-violating input are all checked.
def call_as(case: Any, service: Service, role: str) -> None:
    """Send a generated case to the started service as `role` and check the response against the document."""
    headers = dict(case.headers or {})
    token = service.tokens[role]
    # schemathesis fills the bearer scheme's header with a random value, and leaves it out of the
    # negative cases that test a missing one: replace the value, keep the absence
    if token and "Authorization" in headers:
        headers["Authorization"] = f"Bearer {token}"
    case.call_and_validate(app=service.app, headers=headers, excluded_checks=[positive_data_acceptance])


FUZZ = settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                phases=[Phase.explicit, Phase.generate],  # no shrinking: the time bound matters more here
                suppress_health_check=list(HealthCheck))


@assignments_schema.parametrize()
@pytest.mark.parametrize("role", ["admin", "officer_a"])
@FUZZ
def test_assignments_conforms_to_its_document(case: Any, role: str, assignments_service: Service) -> None:
    call_as(case, assignments_service, role)


@reporting_schema.parametrize()
@pytest.mark.parametrize("role", ["admin", "officer_a"])
@FUZZ
def test_reporting_conforms_to_its_document(case: Any, role: str, reporting_service: Service) -> None:
    call_as(case, reporting_service, role)


@notifications_schema.parametrize()
@pytest.mark.parametrize("role", ["admin", "officer_a"])
@FUZZ
def test_notifications_conforms_to_its_document(case: Any, role: str, notifications_service: Service) -> None:
    call_as(case, notifications_service, role)
