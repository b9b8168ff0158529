"""`plantrack demo` on every `docker compose up`: the demo officer's token is issued once, not again."""

import httpx
import pytest

from services.assignments.demo.loader import load_demo
from tests.e2e.conftest import ADMIN_TOKEN, Stack

pytestmark = pytest.mark.e2e


def test_a_second_load_issues_no_new_officer_token(stack: Stack) -> None:
    first = load_demo(stack.assignments.url, ADMIN_TOKEN)
    again = load_demo(stack.assignments.url, ADMIN_TOKEN)
    assert first.officer_token and first.officer_token_id is not None
    assert again.officer_token is None and again.officer_token_id == first.officer_token_id
    assert "already has demo token" in again.officer_line() and first.officer_token not in again.officer_line()

    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=stack.assignments.url, headers=admin, timeout=10) as c:
        me = c.get("/me", headers={"Authorization": f"Bearer {first.officer_token}"})
        assert me.status_code == 200  # the first token still works
        tokens = c.get(f"/officials/{me.json()['id']}/tokens").json()
        assert [t["name"] for t in tokens] == ["demo"]
        c.delete(f"/officials/{me.json()['id']}/tokens/{first.officer_token_id}").raise_for_status()
    renewed = load_demo(stack.assignments.url, ADMIN_TOKEN)
    assert renewed.officer_token and renewed.officer_token_id != first.officer_token_id
