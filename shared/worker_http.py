"""A worker process (a standalone relay or mail sender): its small HTTP face (/health, /ready and
/metrics on a port of its own, served in the worker's event loop) and its run until a signal."""

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import uvicorn
from fastapi import FastAPI
from prometheus_client.registry import Collector

from shared.http import health_router
from shared.metrics.http import install_metrics


def worker_app(title: str, service: str, *, checks: dict[str, Callable[[], Awaitable[object]]],
               metrics_token: str, collectors: list[Collector]) -> FastAPI:
    """/health, /ready (the named `checks`) and /metrics, nothing else."""
    app = FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(health_router(checks))
    install_metrics(app, service=service, token=metrics_token, collectors=collectors)
    return app


class _Server(uvicorn.Server):
    """uvicorn inside the worker's loop: the worker, not uvicorn, handles SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[None]:
    """Serve `app` on `port` (all interfaces: a container's port) while the block runs; nothing when 0."""
    if not port:
        yield
        return
    server = _Server(uvicorn.Config(app, host="0.0.0.0", port=port, log_level="warning", lifespan="off"))  # noqa: S104
    task = asyncio.create_task(server.serve())
    try:
        yield
    finally:
        server.should_exit = True
        await task


def until_signalled(work: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run `work(stop)` in a new event loop; SIGINT or SIGTERM sets `stop`."""
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await work(stop)

    asyncio.run(main())
