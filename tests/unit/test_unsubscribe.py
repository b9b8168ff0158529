"""Signed one-click unsubscribe tokens: they round-trip, resist tampering, and die with their key."""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifications.unsubscribe import MAX_TOKEN_LENGTH, InvalidToken, link, sign, verify

KEY = b"k" * 32


def test_round_trip() -> None:
    token = sign(7, "deadlines", KEY)
    assert verify(token, KEY) == (7, "deadlines")
    assert token.count(".") == 1 and "=" not in token
    assert all(c.isalnum() or c in "-_." for c in token)


def test_a_units_mailbox_has_a_negative_key() -> None:
    assert verify(sign(-12, "digest", KEY), KEY) == (-12, "digest")


def test_another_key_refuses_every_token() -> None:
    token = sign(7, "deadlines", KEY)
    with pytest.raises(InvalidToken):
        verify(token, b"rotated" * 5)


def test_a_token_names_one_official_and_one_category() -> None:
    payload, mac = sign(7, "deadlines", KEY).split(".")
    other = base64.urlsafe_b64encode(b"8:deadlines").rstrip(b"=").decode()
    for forged in (f"{other}.{mac}", f"{payload}.{sign(8, 'deadlines', KEY).split('.')[1]}"):
        with pytest.raises(InvalidToken):
            verify(forged, KEY)


@pytest.mark.parametrize("garbage", [
    "", ".", "abc", "abc.", ".abc", "a.b.c", "é.é", "abc.d ef", "abc.def=", "abc+/.def",
    "x" * (MAX_TOKEN_LENGTH + 1), "Nzpk.AAAA", "\x00.\x00",
])
def test_garbage_is_an_invalid_token(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        verify(garbage, KEY)
    assert issubclass(InvalidToken, ValueError)


def test_a_long_token_is_refused_before_any_work() -> None:
    token = sign(7, "deadlines", KEY)
    with pytest.raises(InvalidToken, match="not a token"):
        verify(token + "A" * MAX_TOKEN_LENGTH, KEY)


def test_only_the_canonical_encoding_is_accepted() -> None:
    payload, mac = sign(7, "deadlines", KEY).split(".")
    # flipping the unused low bits of the last character decodes to the same bytes
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(mac[-1])
    variant = mac[:-1] + alphabet[last ^ 1]
    assert base64.urlsafe_b64decode(variant + "=" * (-len(variant) % 4)) == base64.urlsafe_b64decode(
        mac + "=" * (-len(mac) % 4))
    with pytest.raises(InvalidToken):
        verify(f"{payload}.{variant}", KEY)


@pytest.mark.parametrize("official_id, category", [(-(2**31), "x"), (2**31, "x"), (True, "x"),
                                                    (1, ""), (1, "Hạn"), (1, "a:b"), (1, "x" * 41)])
def test_bad_inputs_are_not_signed(official_id: int, category: str) -> None:
    with pytest.raises(ValueError):
        sign(official_id, category, KEY)


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError):
        sign(1, "deadlines", b"")
    with pytest.raises(ValueError):
        verify(sign(1, "deadlines", KEY), b"")


def test_link_quotes_the_token() -> None:
    token = sign(7, "review_rounds", KEY)
    url = link("https://plantrack.travinh.gov.vn/unsubscribe", token)
    assert url == f"https://plantrack.travinh.gov.vn/unsubscribe?t={token}"
    assert parse_qs(urlsplit(url).query) == {"t": [token]}
    assert link("https://x.vn/u?lang=vi", "a.b") == "https://x.vn/u?lang=vi&t=a.b"
    assert link("https://x.vn/u", "a b&c") == "https://x.vn/u?t=a%20b%26c"


@given(st.integers(-(2**31 - 1), 2**31 - 1), st.from_regex(r"[a-z0-9_.-]{1,40}", fullmatch=True), st.binary(min_size=1))
def test_any_signed_pair_verifies(official_id: int, category: str, key: bytes) -> None:
    token = sign(official_id, category, key)
    assert len(token) <= MAX_TOKEN_LENGTH
    assert verify(token, key) == (official_id, category)


@given(st.text(max_size=300))
def test_no_text_crashes_verify(text: str) -> None:
    try:
        verify(text, KEY)
    except InvalidToken:
        pass
