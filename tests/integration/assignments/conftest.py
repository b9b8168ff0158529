"""The assignments API over PostgreSQL: a world of two unit trees, officials of every role, and
one of each record, built once through the API into a template database.

Each test (or module) gets its own copy of that database (CREATE DATABASE ... TEMPLATE), served by
its own app under TestClient: a copy takes a fraction of a second where rebuilding the world
through the API would take seconds.

    DUK  Đảng ủy Khối các cơ quan và doanh nghiệp (bloc_committee)
    ├── BTG   Ban Tuyên giáo (advisory_board)      supervisor "sup_in", inactive supervisor
    ├── UBKT  Ủy ban Kiểm tra (advisory_board)
    ├── A     Chi bộ Sở Tài chính (party_cell)     officer "officer_a"
    ├── B     Chi bộ Sở Y tế (party_cell)          officer "officer_b"
    └── DBCS  Đảng bộ Công an tỉnh (grassroots)    (never assigned)
    KDN  Đảng ủy Khối doanh nghiệp — another tree
    ├── BTG2  its Ban Tuyên giáo                   supervisor "sup_out"
    └── X     Chi bộ Công ty Cấp nước (party_cell)
    observer at DUK; admin (bootstrap token); a second admin whose token is revoked.

Plan 12-KH/ĐUK (published, issuer DUK): I.1 (indicators) → A, B; I.2 (ongoing) → A; II unassigned.
A reported on I.1, registered its own plan, was inspected by BTG, and submitted in a review round.
Plan 7-KH/ĐUKDN (published, issuer KDN): task 1 → X; X was inspected by BTG2.
"""

import asyncio
import copy
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from services.assignments.app import create_app
from services.assignments.settings import AssignmentsSettings
from services.notifications.app import create_app as notifications_app
from services.notifications.mailroom import Mailroom
from services.notifications.scanner import scan
from services.notifications.settings import NotificationsSettings
from services.reporting.app import create_app as reporting_app
from services.reporting.models import ReportUnit
from services.reporting.settings import ReportingSettings
from shared.db import make_engine
from shared.events import Event, parse_event
from shared.messaging.broker import make_broker
from shared.messaging.inbox import ProcessedEvent
from shared.vietnamese import local_date
from tests.integration.conftest import outbox_rows
from tests.support.events import publish
from tests.support.servers import Postgres, Rabbit, run_name
from tests.unit.conftest import ADMIN_TOKEN, Api

ROLES = ("anonymous", "admin", "sup_in", "sup_out", "officer_a", "officer_b", "observer", "inactive", "revoked")
UNIT_KEYS = ("DUK", "BTG", "UBKT", "A", "B", "DBCS", "KDN", "BTG2", "X")
DUK_TREE = ("DUK", "BTG", "UBKT", "A", "B", "DBCS")
KDN_TREE = ("KDN", "BTG2", "X")
PLAN_NUMBER = "12-KH/ĐUK"
METRICS_TOKEN = "metrics-token-of-the-world"  # every app here requires it on GET /metrics


@dataclass
class World:
    """Ids and bodies of everything the template holds, and the app serving this copy."""

    api: Api
    db_url: str
    unit: dict[str, int]  # UNIT_KEYS -> id
    token: dict[str, str | None]  # ROLES -> bearer token (anonymous: None)
    official: dict[str, dict]  # ROLES except anonymous -> official body
    plan: dict  # 12-KH/ĐUK, published
    task: dict[str, dict]  # its tasks by code
    other_plan: dict  # 7-KH/ĐUKDN, published
    assignment: dict[str, dict]  # "A" (I.1), "A_ongoing" (I.2), "B" (I.1), "X" (other plan)
    update: dict  # A's status update on I.1
    unit_plan: dict  # A's own plan
    inspection: dict  # of A by BTG
    x_inspection: dict  # of X by BTG2
    round: dict  # preliminary review round of the plan
    submission: dict  # A's submission in it

    def scope(self, role: str) -> frozenset[int] | None:
        """Unit ids whose data `role` may read (None: all)."""
        if role == "admin":
            return None
        keys = {"sup_in": DUK_TREE, "observer": DUK_TREE, "sup_out": KDN_TREE,
                "officer_a": ("A",), "officer_b": ("B",)}.get(role, ())
        return frozenset(self.unit[k] for k in keys)

    def ids(self, *keys: str) -> set[int]:
        """Unit ids of unit keys."""
        return {self.unit[k] for k in keys}

    def as_(self, role: str, method: str, path: str, **kw: Any) -> Any:
        """Call the API as `role`."""
        return self.api.call(method, path, token=self.token[role], **kw)


def day(n: int) -> str:
    """ISO date `n` days from today (Vietnamese calendar)."""
    return (local_date() + timedelta(days=n)).isoformat()


def unique(prefix: str) -> str:
    """A fresh code or number."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def build_world(api: Api) -> dict[str, Any]:
    """Build the world through the API (as the admin, and as each unit's own officials)."""
    u: dict[str, int] = {}
    for key, code, kind, parent, name in [
        ("DUK", "DUK", "bloc_committee", None, "Đảng ủy Khối các cơ quan và doanh nghiệp"),
        ("BTG", "BTG", "advisory_board", "DUK", "Ban Tuyên giáo Đảng ủy Khối"),
        ("UBKT", "UBKT", "advisory_board", "DUK", "Ủy ban Kiểm tra Đảng ủy Khối"),
        ("A", "CB-STC", "party_cell", "DUK", "Chi bộ Sở Tài chính"),
        ("B", "CB-SYT", "party_cell", "DUK", "Chi bộ Sở Y tế"),
        ("DBCS", "DB-CA", "grassroots_committee", "DUK", "Đảng bộ Công an tỉnh"),
        ("KDN", "DUK-DN", "bloc_committee", None, "Đảng ủy Khối doanh nghiệp tỉnh"),
        ("BTG2", "BTG-DN", "advisory_board", "KDN", "Ban Tuyên giáo Đảng ủy Khối doanh nghiệp"),
        ("X", "CB-CN", "party_cell", "KDN", "Chi bộ Công ty Cấp nước"),
    ]:
        u[key] = api.unit(code, kind, u[parent] if parent else None, name=name)["id"]

    official: dict[str, dict] = {"admin": api.ok(api.get("/me"), 200)}
    token: dict[str, str | None] = {"anonymous": None, "admin": ADMIN_TOKEN}
    for role, kind, unit in [("sup_in", "supervisor", "BTG"), ("sup_out", "supervisor", "BTG2"),
                             ("officer_a", "unit_officer", "A"), ("officer_b", "unit_officer", "B"),
                             ("observer", "observer", "DUK"), ("inactive", "supervisor", "BTG"),
                             ("revoked", "admin", None)]:
        official[role], token[role] = api.official(kind, u[unit] if unit else None)
    official["inactive"] = api.ok(api.call("PATCH", f"/officials/{official['inactive']['id']}",
                                           json={"active": False}), 200)
    (revoked,) = api.ok(api.get(f"/officials/{official['revoked']['id']}/tokens"), 200)
    api.ok(api.call("DELETE", f"/officials/{official['revoked']['id']}/tokens/{revoked['id']}"), 200)

    plan = api.plan(PLAN_NUMBER, [
        {"code": "I", "title": "Quán triệt, tuyên truyền"},
        {"code": "I.1", "title": "Quán triệt, cụ thể hóa thành kế hoạch", "parent_code": "I", "due_on": day(60),
         "indicators": [
             {"code": "lop_tap_huan", "name": "Số lớp tập huấn", "unit_of_measure": "lớp", "target": 2},
             {"code": "dang_vien", "name": "Số đảng viên được quán triệt", "unit_of_measure": "người"},
         ]},
        {"code": "I.2", "title": "Tuyên truyền thường xuyên", "parent_code": "I", "kind": "ongoing"},
        {"code": "II", "title": "Kiểm tra, giám sát", "due_on": day(90)},
    ], issuer_unit_id=u["DUK"], issued_on="2021-12-15")
    task = {t["code"]: t for t in plan["tasks"]}
    a, b = api.assign(plan["id"], task["I.1"]["id"], [u["A"], u["B"]])
    (a_ongoing,) = api.assign(plan["id"], task["I.2"]["id"], [u["A"]])

    other_plan = api.plan("7-KH/ĐUKDN", [{"code": "1", "title": "Quán triệt", "due_on": day(30)}],
                          issuer_unit_id=u["KDN"])
    (x,) = api.assign(other_plan["id"], other_plan["tasks"][0]["id"], [u["X"]])

    update = api.ok(api.post(f"/assignments/{a['id']}/updates", {
        "status": "in_progress", "progress": 40, "summary": "Đã tổ chức hội nghị quán triệt.",
        "indicator_values": {"lop_tap_huan": 1}, "evidence_links": ["https://vanban.example.vn/bb-01.pdf"],
    }, token=token["officer_a"]))
    unit_plan = api.ok(api.post(f"/plans/{plan['id']}/unit-plans", {
        "number": "05-KH/CB", "issued_on": "2022-01-10", "title": "Kế hoạch thực hiện Kế hoạch 12-KH/ĐUK",
        "link": "https://vanban.example.vn/05-KH-CB.pdf"}, token=token["officer_a"]))
    inspection = api.ok(api.post("/inspections", {
        "plan_id": plan["id"], "unit_id": u["A"], "kind": "supervision", "inspected_on": day(-3),
        "findings": "Đã xây dựng kế hoạch.", "conclusion": "Đúng tiến độ.",
        "follow_ups": ["Bổ sung phân công cho từng đảng viên."]}, token=token["sup_in"]))
    x_inspection = api.ok(api.post("/inspections", {
        "plan_id": other_plan["id"], "unit_id": u["X"], "kind": "inspection", "inspected_on": day(-2)},
        token=token["sup_out"]))
    round_ = api.ok(api.post(f"/plans/{plan['id']}/reviews", {
        "kind": "preliminary", "period_end": day(0), "submit_by": day(14)}))
    submission = api.ok(api.post(f"/reviews/{round_['id']}/submissions", {
        "summary": "Chi bộ đã quán triệt đến 100% đảng viên.", "results": "1 lớp tập huấn."},
        token=token["officer_a"]))
    return {
        "unit": u, "token": token, "official": official, "plan": plan, "task": task, "other_plan": other_plan,
        "assignment": {"A": a, "A_ongoing": a_ongoing, "B": b, "X": x}, "update": update,
        "unit_plan": unit_plan, "inspection": inspection, "x_inspection": x_inspection,
        "round": round_, "submission": submission,
    }


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers (HEAD aside), included routers flattened."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        assert route.path is not None, route
        path = re.sub(r":\w+}", "}", route.path)  # "/plans/{plan_id:int}" as the document names it
        found |= {(method, path) for method in route.methods or () if method != "HEAD"}
    return found


# -- apps on PostgreSQL databases -------------------------------------------------------------


@contextmanager
def serve(db_url: str, **overrides: Any) -> Iterator[Api]:
    """An assignments app on `db_url` (migrated by its lifespan), stopped on exit."""
    overrides.setdefault("metrics_token", METRICS_TOKEN)
    settings = AssignmentsSettings(database_url=db_url, admin_token=ADMIN_TOKEN, relay_enabled=False, **overrides)
    engine = make_engine(db_url)
    with TestClient(create_app(settings)) as client:
        try:
            yield Api(app=client.app, client=client, db_url=db_url, engine=engine)  # type: ignore[arg-type]
        finally:
            engine.dispose()


def _admin_conninfo(postgres: Postgres) -> str:
    return make_url(postgres.admin_url).set(drivername="postgresql").render_as_string(hide_password=False)


def clone_database(postgres: Postgres, template: str, label: str) -> tuple[str, str]:
    """A copy of the `template` database; return its name and URL."""
    name = f"{run_name()}_{label}"
    for attempt in range(50):
        try:
            with psycopg.connect(_admin_conninfo(postgres), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            break
        except psycopg.errors.ObjectInUse:  # a connection to the template is still closing
            if attempt == 49:
                raise
            time.sleep(0.05)
    return name, postgres.url_for(name)


@dataclass(frozen=True)
class Template:
    """The world's database, to copy, and what it holds."""

    database: str
    data: dict[str, Any]


@pytest.fixture(scope="session")
def world_template(postgres: Postgres) -> Iterator[Template]:
    """The world, built once per run into a database used only as a template."""
    name = f"{run_name()}_world"
    url = postgres.create_database(name)
    try:
        with serve(url) as api:
            data = build_world(api)
        yield Template(name, data)
    finally:
        postgres.drop_database(name)


@contextmanager
def open_world(postgres: Postgres, template: Template, **overrides: Any) -> Iterator[World]:
    """A private copy of the world, served by its own app; dropped on exit."""
    name, url = clone_database(postgres, template.database, "w")
    try:
        with serve(url, **overrides) as api:
            yield World(api=api, db_url=url, **copy.deepcopy(template.data))
    finally:
        postgres.drop_database(name)


@pytest.fixture
def make_world(postgres: Postgres, world_template: Template) -> Iterator[Callable[..., World]]:
    """Factory of private world copies (settings overrides allowed), dropped after the test."""
    stack: list[Any] = []

    def make(**overrides: Any) -> World:
        ctx = open_world(postgres, world_template, **overrides)
        stack.append(ctx)
        return ctx.__enter__()

    yield make
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    """A private copy of the world for a test that writes."""
    return make_world()


@pytest.fixture(scope="module")
def shared_world(postgres: Postgres, world_template: Template) -> Iterator[World]:
    """One copy of the world for a whole module whose writes do not disturb each other."""
    with open_world(postgres, world_template) as w:
        yield w



# -- reporting and notifications, fed with the world's events ---------------------------------


DIRECTORY_EVENTS = ("unit.", "official.", "api_token.")


def subscribed(app: Any) -> set[str]:
    """The event types a consumer service's app has queues for (read from its FastStream broker)."""
    return {subscriber.queue.routing_key for broker in app._brokers for subscriber in broker.subscribers}


@dataclass
class Served:
    """Reporting and notifications on their own databases, fed with the world's events."""

    world: World
    reporting: TestClient
    notifications: TestClient
    unit_names: dict[str, int]  # unit name -> id, as reporting knows them


@pytest.fixture(scope="module")
def served(shared_world: World, postgres: Postgres, rabbit: Rabbit) -> Iterator[Served]:
    names = {service: f"{run_name()}_{service}" for service in ("reporting", "notifications")}
    urls = {service: postgres.create_database(name) for service, name in names.items()}
    vhost = run_name()
    amqp_url = rabbit.create_vhost(vhost)
    assignments_engine = make_engine(shared_world.db_url)
    events = [parse_event(row.body) for row in outbox_rows(assignments_engine)]
    assignments_engine.dispose()
    engines = {service: make_engine(url) for service, url in urls.items()}
    reporting = TestClient(reporting_app(ReportingSettings(database_url=urls["reporting"], amqp_url=amqp_url,
                                                            metrics_token=METRICS_TOKEN)))
    notifications_settings = NotificationsSettings(
        database_url=urls["notifications"], amqp_url=amqp_url, smtp_port=9,  # nothing listens: emails wait
        supervisor_mode="immediate",  # supervisors' emails are rows of their own, not digest items
        metrics_token=METRICS_TOKEN)
    notifications = TestClient(notifications_app(notifications_settings))
    notified = subscribed(notifications.app)
    try:
        with reporting, notifications:  # lifespans: migrations, broker, subscribers declared
            # the directory first, as in real life: each event type has its own queue, and an update
            # consumed before its supervisor's official.created would email nobody
            directory = [e for e in events if e.event_type.startswith(DIRECTORY_EVENTS)]
            rest = [e for e in events if not e.event_type.startswith(DIRECTORY_EVENTS)]
            for batch, done in ((directory, 0), (rest, len(directory))):
                asyncio.run(_publish(amqp_url, batch))
                _wait_for_inbox(engines["reporting"], "reporting", done + len(batch))
                _wait_for_inbox(engines["notifications"], "notifications",
                                sum(1 for e in [*directory, *rest][:done + len(batch)] if e.event_type in notified))
            # the scan the service runs a second after a plan event, done now: the tasks given are announced
            scan(Mailroom(engines["notifications"], notifications_settings))
            with Session(engines["reporting"]) as s:
                unit_names = {u.name: u.id for u in s.exec(select(ReportUnit)).all()}
            yield Served(shared_world, reporting, notifications, unit_names)
    finally:
        for engine in engines.values():
            engine.dispose()
        for name in names.values():
            postgres.drop_database(name)
        rabbit.delete_vhost(vhost)


async def _publish(amqp_url: str, events: list[Event]) -> None:
    broker = make_broker(amqp_url)
    await broker.connect()
    try:
        await publish(broker, *events)  # as the relay does
    finally:
        await broker.stop()


def _wait_for_inbox(engine: Engine, consumer: str, expected: int, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while True:
        with Session(engine) as s:
            done = s.scalar(select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.consumer == consumer))
        if done == expected:
            return
        assert time.monotonic() < deadline, f"{consumer} processed {done} of {expected} events"
        time.sleep(0.1)
