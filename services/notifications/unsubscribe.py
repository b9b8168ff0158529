"""Signed one-click unsubscribe links (RFC 8058): a token names an official and a category.

A token is base64url(payload) "." base64url(HMAC-SHA256(key, payload)), without padding. It does
not expire: a link in an old email keeps working until the key is changed, which revokes them all.
"""

import base64
import binascii
import hashlib
import hmac
import re
from urllib.parse import quote

MAX_TOKEN_LENGTH = 200  # a signed token is at most 114 characters
_PREFIX = b"plantrack-unsubscribe-v1\x00"  # binds the MAC to this use of the key
_CATEGORY = re.compile(r"^[a-z0-9_.-]{1,40}$")
_PART = re.compile(r"^[A-Za-z0-9_-]+$")
_ID_MAX = 2**31 - 1
_ID = re.compile(r"^-?[0-9]{1,10}$")


class InvalidToken(ValueError):
    """The token was not signed with this key, or is not a token at all."""


def sign(official_id: int, category: str, key: bytes) -> str:
    """A URL-safe token for muting `category` for `official_id` (whose preferences: an official's
    id, or minus a unit's id for the unit's own mailbox)."""
    if not key:
        raise ValueError("an empty key would let anyone forge unsubscribe links")
    if isinstance(official_id, bool) or not -_ID_MAX <= official_id <= _ID_MAX:
        raise ValueError(f"invalid official id {official_id!r}")
    if not _CATEGORY.match(category):
        raise ValueError(f"invalid category {category!r}")
    payload = f"{official_id}:{category}".encode("ascii")
    return f"{_b64(payload)}.{_b64(_mac(payload, key))}"


def verify(token: str, key: bytes) -> tuple[int, str]:
    """The (official id, category) a token was signed for; raises InvalidToken otherwise."""
    if not key:
        raise ValueError("an empty key cannot verify anything")
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("not a token")
    encoded_payload, dot, encoded_mac = token.partition(".")
    if not dot or not _PART.match(encoded_payload) or not _PART.match(encoded_mac):
        raise InvalidToken("not a token")
    payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
    if not hmac.compare_digest(mac, _mac(payload, key)):
        raise InvalidToken("bad signature")
    official, _, category = payload.decode("ascii", "replace").partition(":")
    if not _ID.match(official) or not _CATEGORY.match(category):
        raise InvalidToken("malformed payload")
    return int(official), category


def link(base_url: str, token: str) -> str:
    """The unsubscribe URL: `base_url` with the token in its query string."""
    return f"{base_url}{'&' if '?' in base_url else '?'}t={quote(token, safe='')}"


def _mac(payload: bytes, key: bytes) -> bytes:
    return hmac.new(key, _PREFIX + payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("not base64url") from exc
    if _b64(data) != text:  # one encoding per token: no variants with other trailing bits
        raise InvalidToken("not canonical base64url")
    return data
