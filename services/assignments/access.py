"""Who may see and do what: object-level rules over the unit tree.

- admin: everything.
- supervisor: reads everything under the committee it serves (an advisory board serves its
  parent committee; any other unit, its own subtree); reviews updates, records inspections and
  opens review rounds there.
- unit_officer: reads and writes for its own unit only.
- observer: reads like a supervisor, writes nothing.

What is outside a caller's scope is reported as missing (404), never shown.
"""

from sqlmodel import Session, select

from services.assignments.auth import Actor
from services.assignments.domain import Role
from services.assignments.errors import Forbidden, Invalid, NotFound
from services.assignments.models import Unit
from shared.identity.scope import OVERSEEING_ROLES, Tree, visible_units
from shared.identity.scope import subtree as tree_below


def require_role(actor: Actor, *roles: Role) -> None:
    """Raise 403 unless the actor has one of `roles`."""
    if actor.role not in roles:
        raise Forbidden(f"This action needs one of the roles: {', '.join(roles)}.")


def _tree(session: Session) -> Tree:
    rows = session.exec(select(Unit.id, Unit.parent_id, Unit.kind)).all()
    return {unit_id: (parent_id, kind) for unit_id, parent_id, kind in rows if unit_id is not None}


def subtree(session: Session, root_id: int) -> frozenset[int]:
    """`root_id` and every unit below it."""
    return tree_below(_tree(session), root_id)


def scope_unit_ids(session: Session, actor: Actor) -> frozenset[int] | None:
    """Units whose data the actor may read; None means all (the rule every service applies)."""
    if actor.role == Role.ADMIN:
        return None
    if actor.role not in OVERSEEING_ROLES:
        return visible_units(actor.role, actor.unit_id, {})  # a unit's own scope needs no tree
    return visible_units(actor.role, actor.unit_id, _tree(session))


def can_read_unit(session: Session, actor: Actor, unit_id: int) -> bool:
    """True when `unit_id` is inside the actor's scope."""
    scope = scope_unit_ids(session, actor)
    return scope is None or unit_id in scope


def ensure_readable(session: Session, actor: Actor, unit_id: int, what: str, ident: object) -> None:
    """404 unless the actor may read data of `unit_id`."""
    if not can_read_unit(session, actor, unit_id):
        raise NotFound(what, ident)


def ensure_acts_for(actor: Actor, unit_id: int, action: str) -> None:
    """403 unless the actor is an officer of `unit_id`."""
    if actor.role != Role.UNIT_OFFICER or actor.unit_id != unit_id:
        raise Forbidden(f"Only an officer of the unit itself can {action}.")


def acting_unit(session: Session, actor: Actor, unit_id: int | None, action: str) -> int:
    """The unit a unit's own act is for (the caller's unit unless named), checked: out of scope is
    404, anyone but that unit's officer 403."""
    unit_id = unit_id if unit_id is not None else actor.unit_id
    if unit_id is None:
        raise Invalid("Name the unit (unit_id).")
    ensure_readable(session, actor, unit_id, "Unit", unit_id)
    ensure_acts_for(actor, unit_id, action)
    return unit_id


def ensure_supervises(session: Session, actor: Actor, unit_id: int, action: str) -> None:
    """403 unless the actor is an admin or a supervisor whose scope holds `unit_id`."""
    if actor.role == Role.ADMIN:
        return
    if actor.role != Role.SUPERVISOR or not can_read_unit(session, actor, unit_id):
        raise Forbidden(f"Only a supervisor over this unit (or an admin) can {action}.")
