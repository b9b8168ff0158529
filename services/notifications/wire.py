"""How an email goes on the wire: its headers, and its MIME body, as bytes.

Python 3.11's header folder split a long non-ASCII Subject into encoded-words with the space
between words left outside them, and RFC 2047 has readers drop whitespace between adjacent
encoded-words: "tổng kết" arrived as "tổngkết". Here non-ASCII text is encoded whole, in
encoded-words of whole characters that carry their spaces inside.

The message is written directly (`message_bytes`) rather than through `email.message`: its
header registry parsed and refolded every header, over half of the mail sender's CPU per email.
What is written is a fixed, small shape: 7-bit headers (folded ASCII, or encoded-words), and one
or two UTF-8 quoted-printable text parts.
"""

import base64
import binascii
import uuid
from email.utils import formataddr

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


CRLF = "\r\n"
LINE = 78  # RFC 5322: a line SHOULD stay within 78 characters (it MUST within 998)


def header(name: str, value: str) -> str:
    """One unstructured header line, CRLF-terminated: ASCII folded at spaces, anything else (or an
    ASCII value a reader could take for an encoded-word) as encoded-words. `value` is one line."""
    if value.isascii() and "=?" not in value:
        lines = [f"{name}:"]
        for word in value.split(" "):
            if len(lines[-1]) + 1 + len(word) > LINE and len(lines[-1]) > len(name) + 1:
                lines.append("")
            lines[-1] += f" {word}"
        if max(len(line) for line in lines) <= 998:
            return CRLF.join(lines) + CRLF
    return f"{name}: {(CRLF + ' ').join(encoded_words(value))}{CRLF}"


def address(display_name: str, addr_spec: str) -> str:
    """`Name <addr>`: an ASCII name quoted where it must be, any other as encoded-words."""
    if not display_name:
        return addr_spec
    if display_name.isascii() and "=?" not in display_name:
        return formataddr((display_name, addr_spec))
    words = encoded_words(display_name)
    fold = CRLF if len(words[-1]) + len(addr_spec) + 3 > LINE - len("From: ") else ""
    return f"{(CRLF + ' ').join(words)}{fold} <{addr_spec}>"


def quoted_printable(text: str) -> bytes:
    """UTF-8 quoted-printable with CRLF line ends, ending in a line break (lines within 76 characters)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    return binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


def _text_part(subtype: str, text: str) -> bytes:
    return (f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}Content-Transfer-Encoding: quoted-printable'
            f"{CRLF}{CRLF}").encode("ascii") + quoted_printable(text)


def message_bytes(headers: list[str], text: str, html: str = "") -> bytes:
    """The whole message: `headers` (lines from `header`), then the plain-text part, or the plain
    and HTML parts as multipart/alternative."""
    head = "".join(headers) + f"MIME-Version: 1.0{CRLF}"
    if not html:
        return head.encode("ascii") + _text_part("plain", text)
    boundary = f"=_plantrack_{uuid.uuid4().hex}"  # "=_" never occurs in quoted-printable text
    return b"".join([
        f'{head}Content-Type: multipart/alternative; boundary="{boundary}"{CRLF}{CRLF}'.encode("ascii"),
        f"--{boundary}{CRLF}".encode("ascii"), _text_part("plain", text),
        f"{CRLF}--{boundary}{CRLF}".encode("ascii"), _text_part("html", html),  # the CRLF before a
        f"{CRLF}--{boundary}--{CRLF}".encode("ascii"),  # boundary belongs to it, not to the part
    ])
