"""Asyncio streams that read Redis replies, kept for code written against ``aioredis.stream``.

Connections made by :func:`aioredis_cy.create_connection` do not use this module (they run
on the Cython protocol); it serves code that talks RESP over plain asyncio streams.
"""
import asyncio

from .errors import ProtocolError, ReplyError
from .parser import reader_class

__all__ = ["open_connection", "open_unix_connection", "StreamReader"]

_STREAM_LIMIT = 2**16


async def open_connection(host=None, port=None, *, limit=_STREAM_LIMIT, loop=None, parser=None, **kwds):
    """Open a TCP connection; returns ``(StreamReader, asyncio.StreamWriter)``."""
    loop = asyncio.get_running_loop()
    return await _open(lambda factory: loop.create_connection(factory, host, port, **kwds), limit, parser)


async def open_unix_connection(address, *, limit=_STREAM_LIMIT, loop=None, parser=None, **kwds):
    """Open a unix socket connection; returns ``(StreamReader, asyncio.StreamWriter)``."""
    loop = asyncio.get_running_loop()
    return await _open(lambda factory: loop.create_unix_connection(factory, address, **kwds), limit, parser)


async def _open(connect, limit, parser):
    loop = asyncio.get_running_loop()
    reader = StreamReader(limit=limit)
    if parser is not None:
        reader.set_parser(parser)
    transport, _ = await connect(lambda: asyncio.StreamReaderProtocol(reader))
    writer = asyncio.StreamWriter(transport, transport.get_protocol(), reader, loop)
    return reader, writer


class StreamReader(asyncio.StreamReader):
    """A StreamReader whose ``readobj()`` returns one parsed Redis reply.

    Bytes received before a parser is set are kept and handed to it by ``set_parser``.
    """

    _parser = None

    def set_parser(self, parser=None):
        """Parse with ``parser``: a reader instance, as in aioredis 1.x, or a reader class
        (made with this library's errors; None: the default reader class)."""
        if parser is None or isinstance(parser, type):
            reader_cls = reader_class() if parser is None else parser
            parser = reader_cls(protocolError=ProtocolError, replyError=ReplyError)
        self._parser = parser
        if self._buffer:
            parser.feed(self._buffer)
            del self._buffer[:]

    def feed_data(self, data):
        """Hand received bytes to the parser (and wake ``readobj``)."""
        assert not self._eof, "feed_data after feed_eof"
        if not data:
            return
        if self._parser is None:
            self._buffer.extend(data)
            return
        self._parser.feed(data)
        self._wakeup_waiter()

    async def readobj(self):
        """The next complete reply (None at end of stream); error replies come as ReplyError instances."""
        if self._parser is None:
            self.set_parser()
        while True:
            obj = self._parser.gets()
            if obj is not False:
                return obj
            if self._exception is not None:
                raise self._exception
            if self._eof:
                break
            await self._wait_for_data("readobj")
        return None

    async def readline(self):
        raise RuntimeError("readline() is not available: use readobj()")

    async def readexactly(self, n):
        raise RuntimeError("readexactly() is not available: use readobj()")

    async def readuntil(self, separator=b"\n"):
        raise RuntimeError("readuntil() is not available: use readobj()")

    async def read(self, n=-1):
        raise RuntimeError("read() is not available: use readobj()")
