"""Fixtures of the fast unit tests: SQLite files under tmp_path, TestClient, no RabbitMQ/PostgreSQL."""

import copy
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import date, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from services.assignments.app import create_app
from services.assignments.models import Assignment
from services.assignments.settings import AssignmentsSettings
from shared.db import make_engine
from shared.messaging.outbox import OutboxMessage
from shared.vietnamese import local_date

ADMIN_TOKEN = "t"
_SEQ = count(1)


def bearer(token: str) -> dict[str, str]:
    """Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Api:
    """A running assignments app on its own SQLite file, with helpers to build a directory."""

    app: FastAPI
    client: TestClient
    db_url: str
    engine: Engine

    # -- raw calls -------------------------------------------------------------------------
    def call(self, method: str, path: str, *, token: str | None = ADMIN_TOKEN,
             request_id: str | None = None, headers: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
        h = dict(headers or {})
        if token is not None:
            h.update(bearer(token))
        if request_id is not None:
            h["X-Request-ID"] = request_id
        return self.client.request(method, path, headers=h, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.call("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.call("POST", path, json=json, **kw)

    def ok(self, response: httpx.Response, status: int = 201) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    # -- database --------------------------------------------------------------------------
    def session(self) -> Session:
        return Session(self.engine)

    def outbox(self) -> list[OutboxMessage]:
        with self.session() as s:
            return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]

    def assignment_count(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(Assignment)) or 0)

    # -- directory builders (as admin) -----------------------------------------------------
    def unit(self, code: str, kind: str = "party_cell", parent_id: int | None = None, name: str | None = None) -> dict:
        return self.ok(self.post("/units", {"code": code, "name": name or f"Đơn vị {code}", "kind": kind,
                                            "parent_id": parent_id}))

    def official(self, role: str, unit_id: int | None, *, name: str | None = None,
                 email: str | None = None) -> tuple[dict, str]:
        """Create an official and a token; return (official, token)."""
        n = next(_SEQ)  # unique across apps, including copies of the world template
        body = {"name": name or f"Cán bộ {n}", "email": email or f"cb{n}@example.vn", "title": "Chuyên viên",
                "unit_id": unit_id, "role": role}
        official = self.ok(self.post("/officials", body))
        token = self.ok(self.post(f"/officials/{official['id']}/tokens", {"name": "test"}))["token"]
        return official, token

    def plan(self, number: str, tasks: list[dict], *, publish: bool = True, **extra: Any) -> dict:
        body = {"number": number, "title": f"Kế hoạch {number}", "place": "Trà Vinh", "tasks": tasks, **extra}
        plan = self.ok(self.post("/plans", body))
        return self.ok(self.post(f"/plans/{plan['id']}/publish"), 200) if publish and tasks else plan

    def assign(self, plan_id: int, task_id: int, unit_ids: list[int], **extra: Any) -> list[dict]:
        return self.ok(self.post(f"/plans/{plan_id}/assignments",
                                 {"task_id": task_id, "unit_ids": unit_ids, **extra}))


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (WAL included)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def start_api(db_file: Path, **overrides: Any) -> tuple[Api, Callable[[], None]]:
    """Start an assignments app on `db_file`; return it and its stop function."""
    url = f"sqlite:///{db_file}"
    settings = AssignmentsSettings(database_url=url, admin_token=ADMIN_TOKEN, relay_enabled=False, **overrides)
    app = create_app(settings)
    client = TestClient(app)
    client.__enter__()
    engine = make_engine(url)

    def stop() -> None:
        client.__exit__(None, None, None)
        engine.dispose()

    return Api(app=app, client=client, db_url=url, engine=engine), stop


@pytest.fixture(scope="session")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated by the service's own migrations, with only the bootstrap admin."""
    db_file = tmp_path_factory.mktemp("empty") / "template.db"
    _, stop = start_api(db_file)
    stop()
    return db_file


@pytest.fixture
def make_api(tmp_path: Path, empty_template: Path) -> Iterator[Callable[..., Api]]:
    """Factory: an assignments app on a copy of `template` (default: the empty one) under tmp_path,
    started (lifespan ran) and stopped after the test."""
    stops: list[Callable[[], None]] = []

    def make(template: Path | None = None, **overrides: Any) -> Api:
        db_file = tmp_path / f"assignments-{len(stops)}.db"
        copy_sqlite(template or empty_template, db_file)
        api, stop = start_api(db_file, **overrides)
        stops.append(stop)
        return api

    yield make
    for stop in reversed(stops):
        stop()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    """An assignments app with default settings and the bootstrap admin token 't'."""
    return make_api()


@dataclass
class World:
    """A small organisation and a plan with assignments to two party cells."""

    api: Api
    bloc: dict
    board: dict
    cell_a: dict
    cell_b: dict
    plan: dict
    tasks: dict[str, dict]
    a_assignment: dict
    b_assignment: dict
    officer_a: str
    officer_b: str
    supervisor: str
    observer: str


def build_world(api: Api) -> World:
    """Đảng ủy Khối -> Ban Tuyên giáo + two party cells; task II.1 assigned to both cells."""
    bloc = api.unit("DUK", "bloc_committee", name="Đảng ủy Khối các cơ quan tỉnh")
    board = api.unit("BTG", "advisory_board", bloc["id"], name="Ban Tuyên giáo Đảng ủy Khối")
    cell_a = api.unit("CB-STC", "party_cell", bloc["id"], name="Chi bộ Sở Tài chính")
    cell_b = api.unit("CB-SYT", "party_cell", bloc["id"], name="Chi bộ Sở Y tế")
    _, officer_a = api.official("unit_officer", cell_a["id"])
    _, officer_b = api.official("unit_officer", cell_b["id"])
    _, supervisor = api.official("supervisor", board["id"])
    _, observer = api.official("observer", bloc["id"])
    due = (local_date() + timedelta(days=60)).isoformat()
    plan = api.plan("41-KH/ĐUK", [
        {"code": "I", "title": "Mục đích, yêu cầu"},
        {"code": "II", "title": "Nhiệm vụ, giải pháp"},
        {"code": "II.1", "title": "Quán triệt, cụ thể hóa", "parent_code": "II", "due_on": due},
    ], issuer_unit_id=bloc["id"], issued_on=date(2021, 12, 15).isoformat())
    tasks = {t["code"]: t for t in plan["tasks"]}
    a_assignment, b_assignment = api.assign(plan["id"], tasks["II.1"]["id"], [cell_a["id"], cell_b["id"]])
    return World(api, bloc, board, cell_a, cell_b, plan, tasks, a_assignment, b_assignment,
                 officer_a, officer_b, supervisor, observer)


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, World]]:
    """The world built once through the API; each test gets a copy of its database file."""
    db_file = tmp_path_factory.mktemp("world") / "template.db"
    api, stop = start_api(db_file)
    try:
        world = build_world(api)
    finally:
        stop()
    yield db_file, world


@pytest.fixture
def world(make_api: Callable[..., Api], world_template: tuple[Path, World]) -> World:
    """A fresh copy of the standard world, served by its own app."""
    template, built = world_template
    data = {f.name: copy.deepcopy(getattr(built, f.name)) for f in fields(World) if f.name != "api"}
    return World(api=make_api(template=template), **data)
