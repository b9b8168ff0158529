"""Emails from Jinja2 templates (email_templates/): subject, plain text and HTML, in Vietnamese."""

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup

from shared.validation import strip_invisible
from shared.vietnamese import date_line, local_time, review_kind_label, short_date, status_label

TEMPLATES = Path(__file__).with_name("email_templates")
KINDS: frozenset[str] = frozenset(
    p.name.removesuffix(".subject.j2") for p in TEMPLATES.glob("*.subject.j2") if not p.name.startswith("_")
)
SUBJECT_MAX = 200  # characters; a task title or unit name can be long, a subject should not be

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but tab and newline
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\s]+")
_BLANK_RUNS = re.compile(r"\n{3,}")
_ROLES = {"lead": "chủ trì", "support": "phối hợp"}
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_PERIOD = re.compile(r"^(?P<year>\d{4})-(?:(?P<q>Q[1-4])|(?P<h>H[12])|M?(?P<m>0?[1-9]|1[0-2]))$", re.IGNORECASE)


@dataclass(frozen=True)
class Rendered:
    """One email: its subject, full bodies, and the kind-specific part of each (for digests)."""

    subject: str
    text: str
    html: str
    text_content: str
    html_content: str


def render(kind: str, context: Mapping[str, Any]) -> Rendered:
    """Render the email `kind` (one of KINDS) with `context`; output is NFC and sanitised."""
    if kind not in KINDS:
        raise ValueError(f"unknown email kind {kind!r}")
    env = environment()
    ctx = {key: _clean(value) for key, value in context.items()}
    subject = _one_line(env.get_template(f"{kind}.subject.j2").render(ctx))
    ctx["subject"] = subject
    text_template = env.get_template(f"{kind}.txt.j2")
    html_template = env.get_template(f"{kind}.html.j2")
    return Rendered(
        subject=subject,
        text=_text(text_template.render(ctx)),
        html=_html(html_template.render(ctx)),
        text_content=_text(_block(text_template, "content", ctx)).rstrip("\n"),
        html_content=_html(_block(html_template, "content", ctx)).strip(),
    )


@functools.cache
def environment() -> Environment:
    """The Jinja2 environment of the email templates (built once)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        date_line=date_line, short_date=short_date, status_label=status_label, role_label=role_label,
        review_kind_label=review_kind_label, time_vi=time_vi, period_vi=period_vi, http_url=http_url,
    )
    return env


def role_label(role: str) -> str:
    """"chủ trì" or "phối hợp" (the code itself if unknown)."""
    return _ROLES.get(role, role)


def time_vi(moment: datetime) -> str:
    """A moment in Vietnam's time: "09 giờ 30, ngày 27/11/2026"."""
    return local_time(moment).strftime("%H giờ %M, ngày %d/%m/%Y")


def period_vi(period: str) -> str:
    """A reporting period code in words: "2026-Q4" -> "quý IV/2026", "2026" -> "năm 2026" (anything
    else unchanged)."""
    m = _PERIOD.match(period.strip())
    if m is None:
        return f"năm {period.strip()}" if re.fullmatch(r"\d{4}", period.strip()) else period
    year = m["year"]
    if m["q"]:
        return f"quý {_ROMAN[int(m['q'][1])]}/{year}"
    if m["h"]:
        return f"6 tháng {'đầu' if m['h'][1] == '1' else 'cuối'} năm {year}"
    return f"tháng {int(m['m']):02d}/{year}"


def http_url(url: str) -> str:
    """`url` if it is an http(s) URL, else "" (a `javascript:` link must not become clickable)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


def _block(template: Template, name: str, ctx: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(ctx)))


def _clean(value: Any) -> Any:
    """A context value with its texts NFC, without controls or invisible characters, recursively."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        # no line may start with a combining mark: the output's NFC would join it to the markup
        # before it, as ">" + U+0338 becomes "≯" (a line follows "<br>" in the HTML)
        return "\n".join(_without_leading_marks(line) for line in _normal(value).split("\n"))
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _without_leading_marks(line: str) -> str:
    start = 0
    while start < len(line) and unicodedata.combining(line[start]):
        start += 1
    return line[start:]


def _normal(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", strip_invisible(unicodedata.normalize("NFC", text)))


def _one_line(text: str) -> str:
    line = " ".join(_LINE_BREAKS.sub(" ", strip_invisible(unicodedata.normalize("NFC", text))).split())
    if len(line) <= SUBJECT_MAX:
        return line
    cut = line[: SUBJECT_MAX - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[SUBJECT_MAX // 2:] else cut).rstrip(" ,;:.-") + "…"


def _text(text: str) -> str:
    lines = [line.rstrip() for line in _normal(text).split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n") + "\n"


def _html(html: str) -> str:
    return _normal(html).strip() + "\n"
