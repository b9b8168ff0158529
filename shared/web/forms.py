"""Reading the plain HTML forms of the pages (application/x-www-form-urlencoded, UTF-8)."""

from urllib.parse import parse_qsl

from fastapi import Request

FORM_TYPE = "application/x-www-form-urlencoded"


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of a form post (the first value of each); empty for any other body."""
    if not request.headers.get("content-type", "").startswith(FORM_TYPE):
        return {}
    body = (await request.body()).decode("utf-8", errors="replace")
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        fields.setdefault(name, value)
    return fields
