"""Whose data a caller may read: the one rule every service applies.

- admin: everything (None).
- unit_officer: its own unit.
- supervisor, observer: the subtree of the committee it serves (an advisory board serves its
  parent committee; any other unit, its own subtree).
- anyone else, or without a unit: nothing.
"""

from collections import defaultdict
from collections.abc import Mapping

ADVISORY_BOARD = "advisory_board"
OVERSEEING_ROLES = frozenset({"supervisor", "observer"})

Tree = Mapping[int, tuple[int | None, str]]  # unit id -> (parent id, kind)


def subtree(tree: Tree, root_id: int) -> frozenset[int]:
    """`root_id` and every unit below it."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for unit_id, (parent_id, _) in tree.items():
        children[parent_id].append(unit_id)
    found, stack = {root_id}, [root_id]
    while stack:
        for child in children[stack.pop()]:
            if child not in found:
                found.add(child)
                stack.append(child)
    return frozenset(found)


def scope_root(tree: Tree, unit_id: int) -> int | None:
    """The unit whose subtree an overseer of `unit_id` sees (None: the unit is unknown)."""
    if unit_id not in tree:
        return None
    parent_id, kind = tree[unit_id]
    return parent_id if kind == ADVISORY_BOARD and parent_id is not None else unit_id


def visible_units(role: str, unit_id: int | None, tree: Tree) -> frozenset[int] | None:
    """Unit ids whose data an official of `role` at `unit_id` may read; None means all."""
    if role == "admin":
        return None
    if unit_id is None:
        return frozenset()
    if role == "unit_officer":
        return frozenset({unit_id})
    if role in OVERSEEING_ROLES:
        root = scope_root(tree, unit_id)
        return subtree(tree, root) if root is not None else frozenset()
    return frozenset()
