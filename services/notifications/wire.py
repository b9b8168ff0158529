"""How an email's headers go on the wire: a Subject whose words arrive word for word.

Python 3.11's header folder splits a long non-ASCII Subject into encoded-words with the space
between words left outside them, and RFC 2047 has readers drop whitespace between adjacent
encoded-words: "tổng kết" arrived as "tổngkết". Here such a Subject is encoded whole, in
encoded-words of whole characters that carry their spaces inside.
"""

import base64
from email.policy import EmailPolicy

MAX_WORD_BYTES = 45  # base64 of 45 bytes is 60 characters: "=?utf-8?b?…?=" stays within RFC 2047's 75


def encoded_words(text: str) -> list[str]:
    """`text` as RFC 2047 encoded-words (UTF-8, base64), split only between characters."""
    chunks: list[bytes] = []
    chunk = b""
    for char in text:
        encoded = char.encode("utf-8")
        if chunk and len(chunk) + len(encoded) > MAX_WORD_BYTES:
            chunks.append(chunk)
            chunk = b""
        chunk += encoded
    if chunk:
        chunks.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(c).decode('ascii')}?=" for c in chunks]


class WirePolicy(EmailPolicy):
    """The default policy, but a non-ASCII Subject is folded by `encoded_words`."""

    def fold(self, name: str, value: str) -> str:
        if name.lower() == "subject" and not str(value).isascii():
            return f"{name}: {(self.linesep + ' ').join(encoded_words(str(value)))}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "subject" and not str(value).isascii():
            return self.fold(name, value).encode("ascii")
        return super().fold_binary(name, value)


POLICY = WirePolicy()  # email.policy.default's settings
