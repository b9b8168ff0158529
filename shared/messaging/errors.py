"""Failures that are not the message's fault: a consumer waits them out instead of counting them."""

import psycopg
from sqlalchemy.exc import DBAPIError, OperationalError


class DependencyNotReady(Exception):
    """Something the handler needs is not there yet (another event, a service); retry the same message later."""


class LegacyQueueError(RuntimeError):
    """A queue was declared by an older plantrack with x-arguments that the current declaration lacks."""


def is_dependency_failure(exc: BaseException) -> bool:
    """True when `exc` (or what it was raised from) says a dependency is down, not that the message is bad."""
    seen: BaseException | None = exc
    for _ in range(5):  # a handler may wrap the database error in its own
        if seen is None:
            return False
        if isinstance(seen, DependencyNotReady | OperationalError | psycopg.OperationalError):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        seen = seen.__cause__
    return False
