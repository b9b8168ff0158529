"""The problems the assignments use cases raise (rendered as RFC 9457 problem+json)."""

from collections.abc import Iterator
from contextlib import contextmanager

from services.assignments.domain import RuleViolation
from shared.problems import Problem


class NotFound(Problem):
    """A missing (or invisible to the caller) resource."""

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(404, f"{what} {ident} was not found.")


class Forbidden(Problem):
    """The caller may see the resource but not do this."""

    def __init__(self, detail: str) -> None:
        super().__init__(403, detail)


class Conflict(Problem):
    """The request contradicts current state or a rule."""

    def __init__(self, detail: str) -> None:
        super().__init__(409, detail)


class Invalid(Problem):
    """The request is well-formed but its content is not acceptable."""

    def __init__(self, detail: str) -> None:
        super().__init__(422, detail)


class Stale(Problem):
    """The client wrote against an old version (If-Match)."""

    def __init__(self, detail: str) -> None:
        super().__init__(412, detail)


class TooManyRequests(Problem):
    """The caller asked too often; it may ask again after the window."""

    def __init__(self, detail: str) -> None:
        super().__init__(429, detail)


@contextmanager
def rules_checked(suffix: str = "") -> Iterator[None]:
    """Report a broken domain rule inside the block as 409, its message (plus `suffix`) as detail."""
    try:
        yield
    except RuleViolation as exc:
        raise Conflict(f"{exc} {suffix}".strip()) from exc
