"""A TCP proxy between client and server that can cut, delay or corrupt traffic.

It runs in the test's own event loop, on 127.0.0.1 only.
"""
import asyncio
from typing import List, Optional, Tuple


class _Link:
    """One proxied client connection: two pumps, one per direction."""

    def __init__(self, proxy: "FaultProxy", client_reader, client_writer, server_reader, server_writer):
        self.proxy = proxy
        self.client_writer = client_writer
        self.server_writer = server_writer
        self.held = bytearray()   # what the server sent while the proxy was holding
        self.tasks = [
            asyncio.ensure_future(self._pump(client_reader, server_writer, upstream=True)),
            asyncio.ensure_future(self._pump(server_reader, client_writer, upstream=False)),
        ]

    async def _pump(self, reader, writer, *, upstream: bool) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if self.proxy.delay:
                    await asyncio.sleep(self.proxy.delay)
                if not upstream and self.proxy.holding:
                    self.held += data
                    self.proxy.held_changed.set()
                    continue
                if not upstream:
                    data = self.proxy.corrupt_downstream(data)
                    if self.proxy.drop_after is not None:
                        keep = self.proxy.drop_after
                        self.proxy.drop_after = None
                        writer.write(data[:keep])
                        await writer.drain()
                        self.abort()
                        return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.abort()

    def abort(self) -> None:
        for writer in (self.client_writer, self.server_writer):
            transport = writer.transport
            if not transport.is_closing():
                transport.abort()


class FaultProxy:
    """Forwards 127.0.0.1:<port> to ``target``; tests switch faults on and off."""

    def __init__(self, target: Tuple[str, int]) -> None:
        self.target = target
        self.delay: float = 0.0
        self.drop_after: Optional[int] = None
        self._garbage: Optional[bytes] = None
        self._links: List[_Link] = []
        self.holding = False
        self.held_changed = asyncio.Event()
        self._server: Optional[asyncio.base_events.Server] = None
        self.port = 0

    @property
    def address(self) -> Tuple[str, int]:
        return ("127.0.0.1", self.port)

    async def start(self) -> "FaultProxy":
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self._links.append(_Link(self, client_reader, client_writer, server_reader, server_writer))

    def corrupt_next_reply(self, garbage: bytes = b"?garbage\r\n") -> None:
        """Replace the next chunk the server sends with ``garbage``."""
        self._garbage = garbage

    def corrupt_downstream(self, data: bytes) -> bytes:
        if self._garbage is None:
            return data
        garbage, self._garbage = self._garbage, None
        return garbage

    def cut_after(self, nbytes: int) -> None:
        """Forward only ``nbytes`` of the next server chunk, then cut the connection."""
        self.drop_after = nbytes

    def hold(self) -> None:
        """From now on keep what the server sends (per connection) instead of forwarding it."""
        self.holding = True

    async def held(self, nbytes: int) -> bytes:
        """Wait until one connection holds ``nbytes`` at least; return what it holds."""
        while True:
            for link in self._links:
                if len(link.held) >= nbytes:
                    return bytes(link.held)
            self.held_changed.clear()
            await self.held_changed.wait()

    def release(self, data: Optional[bytes] = None) -> None:
        """Stop holding: send ``data`` (by default what was held) to the client that it was held for."""
        self.holding = False
        for link in self._links:
            if link.held:
                link.client_writer.write(bytes(link.held) if data is None else data)
                link.held.clear()

    def cut(self) -> None:
        """Abort every proxied connection now, as a network failure would."""
        for link in self._links:
            link.abort()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for link in self._links:
            for task in link.tasks:
                task.cancel()
            await asyncio.gather(*link.tasks, return_exceptions=True)
        self._links.clear()
