"""Run an ASGI app's lifespan in-process: startup on enter, shutdown on exit (as uvicorn does)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


@asynccontextmanager
async def lifespan(app: Any, *, within: float = 60.0) -> AsyncIterator[None]:
    """Start `app` (its lifespan: database, broker, consumers), yield, then stop it."""
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    await to_app.put({"type": "lifespan.startup"})
    task = asyncio.create_task(app(scope, to_app.get, from_app.put))
    started = await asyncio.wait_for(from_app.get(), within)
    if started["type"] != "lifespan.startup.complete":
        await asyncio.gather(task, return_exceptions=True)
        raise RuntimeError(f"app did not start: {started.get('message', started)}")
    try:
        yield
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(from_app.get(), within)
        await asyncio.gather(task, return_exceptions=True)
