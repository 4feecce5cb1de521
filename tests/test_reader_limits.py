"""What a hostile server can send: nesting and line limits, aggregate map keys, memory,
and the reader interfaces aioredis 1.x code relies on (parsers returning False, stream)."""
import asyncio
import tracemalloc

import pytest

from aioredis_cy import create_connection as raw_create_connection
from aioredis_cy._resp import MAX_DEPTH as C_MAX_DEPTH
from aioredis_cy._resp import MAX_LINE as C_MAX_LINE
from aioredis_cy._resp import Reader
from aioredis_cy.errors import ConnectionClosedError, ProtocolError, ReplyError
from aioredis_cy.parser import MAX_DEPTH, MAX_LINE, PyReader
from aioredis_cy.stream import StreamReader, open_connection

from .reader_cases import OUR_READERS

try:
    import hiredis
except ImportError:  # pragma: no cover
    hiredis = None


@pytest.fixture(params=sorted(OUR_READERS))
def our_cls(request):
    return OUR_READERS[request.param]


def make(cls, **kwargs):
    return cls(protocolError=ProtocolError, replyError=ReplyError, **kwargs)


def test_limits_agree():
    assert (MAX_DEPTH, MAX_LINE) == (C_MAX_DEPTH, C_MAX_LINE) == (1024, 4 * 1024 * 1024)


# ---------------------------------------------------------------------------- nesting


OPENERS = [b"*1\r\n", b"%1\r\n+k\r\n", b"~1\r\n", b">1\r\n", b"|1\r\n+a\r\n+b\r\n*1\r\n"]


@pytest.mark.parametrize("opener", OPENERS)
def test_nesting_limit(our_cls, opener):
    inner = b":1\r\n"
    reader = make(our_cls)
    reader.feed(b"*1\r\n" * (MAX_DEPTH - 1) + opener + inner)
    reply = reader.gets()
    assert reply is not False
    reader = make(our_cls)
    reader.feed(b"*1\r\n" * MAX_DEPTH)
    assert reader.gets() is False  # still within the limit, waiting
    reader.feed(opener)
    with pytest.raises(ProtocolError, match="nesting deeper than 1024"):
        reader.gets()
    with pytest.raises(ProtocolError):  # and it stays failed
        reader.gets()


@pytest.mark.parametrize("depth", [30_000, 200_000])
def test_deep_map_keys_are_refused(our_cls, depth):
    # Once quadratic (the key rehashed at each level) and a C stack overflow at 200,000.
    reader = make(our_cls)
    reader.feed(b"%1\r\n" * depth + b"+k\r\n+v\r\n" * depth)
    with pytest.raises(ProtocolError):
        reader.gets()


@pytest.mark.parametrize("key", [b"*1\r\n:1\r\n", b"%1\r\n+a\r\n+b\r\n", b"~0\r\n", b"*0\r\n"])
def test_aggregate_map_keys_are_refused(our_cls, key):
    reader = make(our_cls)
    reader.feed(b"%1\r\n" + key + b"+v\r\n")
    with pytest.raises(ProtocolError, match="map key is an aggregate"):
        reader.gets()


def test_wide_map_with_scalar_keys(our_cls):
    n = 50_000
    reader = make(our_cls)
    reader.feed(b"%%%d\r\n" % n + b"".join(b":%d\r\n*1\r\n*1\r\n+v\r\n" % i for i in range(n)))
    reply = reader.gets()
    assert len(reply) == n and reply[n - 1] == [[b"v"]]


# ---------------------------------------------------------------------------- line length


@pytest.mark.parametrize("type_byte", [b"+", b"-", b"("])
def test_line_length_limit(our_cls, type_byte):
    fill = b"1" if type_byte == b"(" else b"a"
    if type_byte != b"(":  # (a big number that long is over int's digit limit anyway)
        reader = make(our_cls)
        reader.feed(type_byte + fill * MAX_LINE + b"\r\n")
        assert reader.gets() is not False
    reader = make(our_cls)
    reader.feed(type_byte + fill * (MAX_LINE + 1) + b"\r\n")
    with pytest.raises(ProtocolError, match="line longer than"):
        reader.gets()


@pytest.mark.parametrize("type_byte", [b"+", b"-", b"("])
def test_unterminated_line_is_refused_once_too_long(our_cls, type_byte):
    reader = make(our_cls)
    reader.feed(type_byte)
    chunk = b"1" * (1024 * 1024)
    for _ in range(MAX_LINE // len(chunk)):
        reader.feed(chunk)
        assert reader.gets() is False
    reader.feed(b"\r")  # may still end the line
    assert reader.gets() is False
    reader.feed(b"1")
    with pytest.raises(ProtocolError, match="line longer than"):
        reader.gets()
    assert reader.len() == 0  # nothing held any more


# ---------------------------------------------------------------------------- memory


def _peak(cls, wire):
    tracemalloc.start()
    try:
        reader = make(cls)
        for i in range(0, len(wire), 65536):
            reader.feed(wire[i : i + 65536])
            reply = reader.gets()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(reply) > 0
    return peak


def test_pyreader_memory_on_tiny_elements():
    n = 200_000
    wire = b"*%d\r\n" % n + b"$1\r\na\r\n:7\r\n$1\r\nb\r\n_\r\n" * (n // 4)
    assert _peak(PyReader, wire) < 3 * _peak(Reader, wire)


# ---------------------------------------------------------------------------- hostile server


class HostileServer:
    """Answers the ``count``-th command it receives with ``reply`` (earlier ones with +OK,
    or +QUEUED inside MULTI; a RESP3 handshake's HELLO, not counted, with a map)."""

    def __init__(self, reply, count=1):
        self.reply = reply
        self.count = count

    async def __aenter__(self):
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[:2]

    async def __aexit__(self, *exc):
        self.server.close()
        await self.server.wait_closed()

    async def serve(self, reader, writer):
        seen = 0
        in_multi = False
        try:
            while seen < self.count:
                line = await reader.readline()
                if not line:
                    return
                if not line.startswith(b"*"):
                    continue
                args = [await self._bulk(reader) for _ in range(int(line[1:]))]
                if args[0].upper() == b"HELLO":
                    writer.write(b"%1\r\n+proto\r\n:3\r\n")
                    continue
                seen += 1
                if seen == self.count:
                    writer.write(self.reply)
                elif args[0].upper() == b"MULTI":
                    in_multi = True
                    writer.write(b"+OK\r\n")
                else:
                    writer.write(b"+QUEUED\r\n" if in_multi else b"+OK\r\n")
            await writer.drain()
            await reader.read()
        except ConnectionError:
            pass
        finally:
            writer.close()

    @staticmethod
    async def _bulk(reader):
        header = await reader.readline()
        data = await reader.readexactly(int(header[1:]) + 2)
        return data[:-2]


HOSTILE = {
    "deep": b"*1\r\n" * 100_000 + b"$1\r\nx\r\n",
    "map-key": b"%1\r\n" + b"*1\r\n" * 200_000 + b":1\r\n+v\r\n",
    "long-line": b"+" + b"a" * (MAX_LINE + 10),
}


@pytest.mark.parametrize("shape", sorted(HOSTILE))
@pytest.mark.parametrize("encoding", [None, "utf-8"])
async def test_hostile_reply_closes_the_connection(create_connection, parser, shape, encoding):
    if hiredis is not None and parser is hiredis.Reader and shape != "deep":
        pytest.skip("hiredis has no line limit and raises TypeError for an unhashable key")
    async with HostileServer(HOSTILE[shape]) as address:
        conn = await create_connection(address, encoding=encoding)
        with pytest.raises((ProtocolError, ConnectionClosedError)):
            await conn.execute("GET", "k")
        await conn.wait_closed()
        assert conn.closed


@pytest.mark.parametrize("encoding", [None, "utf-8"])
async def test_hostile_exec_reply(create_connection, encoding):
    async with HostileServer(b"*1\r\n" + b"*1\r\n" * 100_000 + b"$1\r\nx\r\n", count=3) as address:
        conn = await create_connection(address, encoding=encoding)
        multi = conn.execute("MULTI")
        conn.execute("GET", "k")
        exec_ = conn.execute("EXEC")
        assert await multi == ("OK" if encoding else b"OK")
        with pytest.raises((ProtocolError, ConnectionClosedError)):
            await exec_
        await conn.wait_closed()


class DeepReader:
    """A reader of another library: each reply it parses comes back nested 100,000 levels."""

    def __init__(self, protocolError, replyError):
        self.inner = PyReader(protocolError, replyError)

    def feed(self, data, *args):
        self.inner.feed(data, *args)

    def gets(self):
        reply = self.inner.gets()
        if reply is False:
            return False
        for _ in range(100_000):
            reply = [reply]
        return reply


async def test_protocol_decodes_deep_replies_without_recursion(server):
    conn = await raw_create_connection(server.tcp_address, parser=DeepReader, encoding="utf-8")
    try:
        reply = await conn.execute("ECHO", "hi")
        for _ in range(100_000):
            (reply,) = reply
        assert reply == "hi"
    finally:
        conn.close()
        await conn.wait_closed()


# ---------------------------------------------------------------------------- 1.x parser classes


class FalseReader:
    """A 1.x-style parser class: accepts the error classes (and **kwargs), ignores
    notEnoughData, and returns False from gets() when it needs more data."""

    inner_cls = PyReader

    def __init__(self, protocolError=ProtocolError, replyError=ReplyError, **kwargs):
        self.inner = self.inner_cls(protocolError=protocolError, replyError=replyError)

    def feed(self, data, *args):
        self.inner.feed(data, *args)

    def gets(self):
        return self.inner.gets()


class FalseHiredisReader(FalseReader):
    inner_cls = hiredis.Reader if hiredis is not None else PyReader


@pytest.mark.parametrize("parser_cls", [FalseReader, FalseHiredisReader])
async def test_parser_returning_false_works(server, parser_cls):
    conn = await raw_create_connection(server.tcp_address, parser=parser_cls)
    try:
        big = b"x" * 300_000  # arrives in pieces: gets() returns False in between
        assert await conn.execute("SET", "reader:false", big) == b"OK"
        results = await asyncio.gather(*(conn.execute("GET", "reader:false") for _ in range(20)))
        assert results == [big] * 20
        assert await conn.execute("ECHO", "hi", encoding="utf-8") == "hi"
        with pytest.raises(ReplyError):
            await conn.execute("NOSUCHCOMMAND")
    finally:
        conn.close()
        await conn.wait_closed()


# ---------------------------------------------------------------------------- PING in pub/sub


@pytest.mark.parametrize("encoding,message,expected", [
    ("utf-8", "Hello", "Hello"),
    (None, "Hello", b"Hello"),
    ("utf-8", None, "PONG"),
    (None, None, b"PONG"),
])
async def test_ping_in_pubsub_mode_honours_the_encoding(create_connection, encoding, message, expected):
    conn = await create_connection(encoding=encoding)
    await conn.execute_pubsub("subscribe", "reader:ping")
    args = ("PING",) if message is None else ("PING", message)
    assert await conn.execute(*args) == expected


# ---------------------------------------------------------------------------- 1.x stream and PyReader


async def test_stream_set_parser_takes_an_instance(server):
    reader, writer = await open_connection(*server.tcp_address)
    writer.write(b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n")
    await asyncio.sleep(0)  # bytes arriving before the parser is set are kept for it
    reader.set_parser(PyReader(protocolError=ProtocolError, replyError=ReplyError, encoding="utf-8"))
    assert await reader.readobj() == "hi"
    writer.close()
    await writer.wait_closed()


async def test_stream_parser_class_and_default(server):
    for parser in (Reader, PyReader, None):
        reader, writer = await open_connection(*server.tcp_address, parser=parser)
        assert isinstance(reader, StreamReader)
        writer.write(b"*1\r\n$4\r\nPING\r\n")
        assert await reader.readobj() == b"PONG"
        writer.close()
        await writer.wait_closed()


@pytest.mark.parametrize("wire", [b"+\xe2\x98\x83\r\n", b"$3\r\n\xe2\x98\x83\r\n"])
def test_pyreader_utf32_keeps_undecodable_bytes(wire):
    reader = PyReader(encoding="utf-32")
    reader.feed(wire)
    assert reader.gets() == b"\xe2\x98\x83"
    text = "h\u0a0d\u0d0ai \u2603".encode("utf-32")
    reader.feed(b"$%d\r\n%s\r\n" % (len(text), text))
    assert reader.gets() == "h\u0a0d\u0d0ai \u2603"


def test_pyreader_unknown_encoding_raises_from_gets():
    reader = PyReader(encoding="unknown")  # accepted, as in 1.x
    reader.feed(b"*2\r\n$5\r\nhello\r\n")
    assert reader.gets() is False
    reader.feed(b"*1\r\n+x\r\n")
    with pytest.raises(LookupError):
        reader.gets()
    reader.feed(b":1\r\n")
    assert reader.gets() == 1
