"""A TCP proxy for broker outages in tests: refuse, black-hole (accept, never answer) or forward."""

import asyncio
import threading
from typing import Literal

from tests.support.procs import free_port

Mode = Literal["refuse", "blackhole", "forward"]


class TcpProxy:
    """Listens on a free local port; what a new connection gets depends on `mode`."""

    def __init__(self, upstream_host: str, upstream_port: int, mode: Mode = "refuse") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode: Mode = mode
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "TcpProxy":
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *_: object) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def set_mode(self, mode: Mode) -> None:
        """What connections made from now on get (open ones are kept)."""
        self.mode = mode

    def cut(self) -> None:
        """Close every open connection, as a broker restart or a network failure would."""
        async def close_all() -> None:
            for writer in list(self._writers):
                writer.transport.abort()
            self._writers.clear()

        asyncio.run_coroutine_threadsafe(close_all(), self._loop).result(5)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        if self.mode == "refuse":
            writer.transport.abort()
            return
        if self.mode == "blackhole":
            await reader.read(-1)  # hold the connection, answer nothing
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(up_writer)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
