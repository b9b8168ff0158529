"""Dependencies of the assignments routes: state, unit of work, the acting official."""

import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import Engine, func
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from services.assignments import signin
from services.assignments.auth import Actor, resolve_actor
from services.assignments.settings import AssignmentsSettings
from shared.db import session_scope
from shared.events.base import utcnow
from shared.identity.auth import bearer_scheme, unauthorized
from shared.identity.cookies import by_cookie, submitted_csrf
from shared.messaging.relay import DueRowWorker
from shared.problems import Problem
from shared.validation import Limit, Offset
from shared.web.pages import wants_html

T = TypeVar("T")


@dataclass
class AppState:
    """What the routes need from the running service."""

    settings: AssignmentsSettings
    engine: Engine
    relay: DueRowWorker | None = None  # type: ignore[type-arg]
    now: Callable[[], datetime] = field(default=utcnow)  # the clock sessions and links are judged by

    @contextmanager
    def uow(self) -> Iterator[Session]:
        """A transaction whose commit wakes the outbox relay."""
        with session_scope(self.engine) as session:
            yield session
        if self.relay is not None:
            self.relay.notify()


async def get_state(request: Request) -> AppState:
    """The service state stored on the app."""
    return request.app.state.plantrack  # type: ignore[no-any-return]


StateDep = Annotated[AppState, Depends(get_state)]


def actor_in(
    session: Session, request: Request, state: AppState, credentials: HTTPAuthorizationCredentials | None, csrf: str,
) -> Actor | None:
    """The acting official by bearer token (401 when unknown), or else by browser session (CSRF
    checked on unsafe methods: 403, or None for a page's form); None when the request carries neither."""
    token = credentials.credentials.strip() if credentials else ""
    request_id = getattr(request.state, "request_id", "")
    if token:
        actor = resolve_actor(session, token, request_id)
        if actor is None:
            raise unauthorized("The API token is unknown, expired or revoked.")
        return actor
    now = state.now()
    try:
        official = by_cookie(request, state.settings.session_cookies(), csrf, now,
                             lambda secret: signin.resolve_session(session, secret, now))
    except HTTPException as exc:
        if exc.status_code != 403 or not wants_html(request):
            raise
        official = None  # a page's form checks its token itself and answers in Vietnamese
    return Actor.of(official, request_id) if official is not None else None


def find_actor(
    request: Request, state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    csrf: Annotated[str, Depends(submitted_csrf)],
) -> Actor | None:
    """The acting official (see `actor_in`), in a transaction of its own."""
    with session_scope(state.engine) as session:
        return actor_in(session, request, state, credentials, csrf)


def _signed_in(actor: Actor | None) -> Actor:
    if actor is None:
        raise unauthorized("Send an API token: 'Authorization: Bearer <token>', or sign in.")
    return actor


async def get_actor(actor: Annotated[Actor | None, Depends(find_actor)]) -> Actor:
    """The acting official (401 without one)."""
    return _signed_in(actor)


@dataclass(frozen=True)
class Acting:
    """The acting official and the open unit of work it was found in: one transaction per request."""

    actor: Actor
    session: Session
    state: AppState

    def run(self, work: Callable[[Session], T]) -> T:
        """Run `work` in the unit of work and commit (roll back on error), then wake the outbox relay;
        blocking, so call it in the threadpool, once."""
        with self.session:
            try:
                result = work(self.session)
                self.session.commit()
            except BaseException:
                self.session.rollback()
                raise
        if self.state.relay is not None:
            self.state.relay.notify()
        return result


def _acting_in(session: Session, request: Request, state: AppState,
               credentials: HTTPAuthorizationCredentials | None, csrf: str) -> Actor:
    try:
        return _signed_in(actor_in(session, request, state, credentials, csrf))
    except BaseException:
        session.close()
        raise


async def get_acting(
    request: Request, state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    csrf: Annotated[str, Depends(submitted_csrf)],
) -> AsyncIterator[Acting]:
    """The acting official (401 as `get_actor`, before the body is validated), found in the unit of
    work the route then writes in: one session and transaction instead of two."""
    session = Session(state.engine, expire_on_commit=False)
    actor = await run_in_threadpool(_acting_in, session, request, state, credentials, csrf)
    try:
        yield Acting(actor, session, state)
    finally:
        if session.in_transaction():  # the route never ran (an invalid body) or failed before `run`
            await run_in_threadpool(session.close)


ActorDep = Annotated[Actor, Depends(get_actor)]
ActingDep = Annotated[Acting, Depends(get_acting, scope="function")]
MaybeActorDep = Annotated[Actor | None, Depends(find_actor)]


@dataclass(frozen=True)
class PageParams:
    """Offset pagination, capped."""

    offset: int
    limit: int


async def get_page(state: StateDep, offset: Offset = 0, limit: Limit = 50) -> PageParams:
    """Read offset/limit; the limit is capped by the service's page_size_max."""
    return PageParams(offset, min(limit, state.settings.page_size_max))


PageDep = Annotated[PageParams, Depends(get_page)]


def page_of(session: Session, model: type[Any], where: list[Any], order_by: Any, page: PageParams) -> dict[str, Any]:
    """One page of `model` rows matching `where`, with the total count: the shape of every list."""
    total = session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    rows = session.exec(select(model).where(*where).order_by(order_by).offset(page.offset).limit(page.limit)).all()
    return {"data": list(rows), "count": total, "offset": page.offset, "limit": page.limit}


_ETAG_RE = re.compile(r'(?:W/)?"?([0-9]+)"?', re.ASCII)  # quotes optional, as this API always took them
VERSION_DIGITS_MAX = 10  # versions are database integers


def parse_if_match(value: str | None) -> int | None:
    """The version named by an If-Match header (`"3"`, `W/"3"` or `3`); None for none or `*`.

    400 unless it is one such ETag of ASCII digits; 412 for more digits than any version has.
    """
    if value is None or value.strip() == "*":
        return None
    match = _ETAG_RE.fullmatch(value.strip())
    if match is None:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise Problem(400, f"If-Match must be an ETag of this API such as \"3\", not {shown!r}.")
    digits = match.group(1)
    if len(digits) > VERSION_DIGITS_MAX:
        raise Problem(412, "If-Match names a version this resource never had: reload it and try again.",
                      title="Precondition Failed")
    return int(digits)
