"""The page shell: a Jinja2 environment over a service's templates and the shared ones, and the
stylesheet served from the package (no CDN: offices run plantrack on an intranet)."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

HERE = Path(__file__).parent
STATIC_PATH = "/static/web"


def environment(*template_dirs: Path) -> Environment:
    """Templates from `template_dirs`, then the shared shell (`_base.html`); autoescaped."""
    loader = ChoiceLoader([FileSystemLoader(d) for d in (*template_dirs, HERE / "templates")])
    env = Environment(loader=loader, autoescape=select_autoescape(default=True), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["static_url"] = STATIC_PATH
    return env


def render(env: Environment, template: str, context: Mapping[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """A page: `template` rendered with `context`."""
    html = env.get_template(template).render(context)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def wants_html(request: Request) -> bool:
    """True when a browser asked (Accept names text/html); API clients get problem+json instead."""
    return "text/html" in request.headers.get("accept", "")


def install_static(app: FastAPI) -> None:
    """Serve the shell's stylesheet under STATIC_PATH."""
    app.mount(STATIC_PATH, StaticFiles(directory=HERE / "static"), name="web-static")
