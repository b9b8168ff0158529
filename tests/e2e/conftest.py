"""A running plantrack for the end-to-end tests (tests/support/stack.py)."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.stack import ADMIN_TOKEN, Stack, running_stack

__all__ = ["ADMIN_TOKEN", "Stack", "stack"]


@pytest.fixture
def stack(make_vhost: Callable[[], str], make_database: Callable[[str], str], tmp_path: Path) -> Iterator[Stack]:
    """The three services as real processes, with a real SMTP server."""
    with running_stack(make_vhost(), make_database, tmp_path) as running:
        yield running
