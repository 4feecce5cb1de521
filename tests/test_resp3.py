"""RESP3 (``protocol=3``): the HELLO handshake, RESP2 reply shapes, push routing.

Real servers (HELLO 3 against redis-server 7 / Valkey), with every reader and both loops;
fake hostile servers only for what a real one will not send on demand.
"""
import asyncio
import logging

import pytest

import aioredis_cy
from aioredis_cy.errors import AuthError, RedisError, ReplyError
from aioredis_cy.parser import PyReader
from aioredis_cy.pubsub import Channel, Receiver

DEBUG_TYPES = ["string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib",
               "verbatim", "true", "false"]


@pytest.fixture
def debug_server(start_server):
    """A server that runs DEBUG PROTOCOL (which gives each RESP3 type on demand)."""
    return start_server("resp3-debug", "enable-debug-command local")


def is_hiredis(parser):
    return getattr(parser, "__module__", "").startswith("hiredis")


def as_numbers(reply):
    """Numeric text as floats: hiredis gives doubles as floats, whose text we rebuild (documented)."""
    if isinstance(reply, list):
        return [as_numbers(item) for item in reply]
    if isinstance(reply, (bytes, str)):
        try:
            return float(reply)
        except ValueError:
            return reply
    return reply


# ---------------------------------------------------------------------------- the handshake


async def test_hello_handshake(create_connection):
    conn = await create_connection(protocol=3, name="resp3-client", db=1)
    assert conn.protocol_version == 3
    assert conn.db == 1
    info = await conn.execute("CLIENT", "INFO")
    assert b" resp=3" in info and b" name=resp3-client " in info and b" db=1 " in info
    plain = await create_connection()
    assert plain.protocol_version == 2
    assert b" resp=2" in await plain.execute("CLIENT", "INFO")


async def test_hello_is_refused_through_execute(create_connection):
    conn = await create_connection(protocol=3)
    with pytest.raises(RedisError, match="refused"):
        conn.execute("HELLO", 2)
    assert await conn.execute("PING") == b"PONG"


@pytest.mark.parametrize("bad", [1, 4, "3", 3.0, True, b"3"])
async def test_protocol_validated_before_connecting(bad):
    # Nothing listens on port 1: a connection attempt would fail otherwise.
    with pytest.raises(ValueError, match="protocol must be 2 or 3"):
        await aioredis_cy.create_connection(("127.0.0.1", 1), protocol=bad)
    with pytest.raises(ValueError, match="protocol must be 2 or 3"):
        await aioredis_cy.create_pool(("127.0.0.1", 1), protocol=bad)
    with pytest.raises(ValueError, match="protocol must be 2 or 3"):
        await aioredis_cy.create_redis_pool(("127.0.0.1", 1), protocol=bad, minsize=0)


async def test_protocol_in_uri(create_connection, create_pool, server):
    conn = await create_connection(f"redis://127.0.0.1:{server.port}?protocol=3")
    assert conn.protocol_version == 3
    pool = await create_pool(f"redis://127.0.0.1:{server.port}/0?protocol=3", minsize=1)
    with await pool as pooled:
        assert pooled.protocol_version == 3
    with pytest.raises(ValueError, match="Invalid protocol"):
        await create_connection(f"redis://127.0.0.1:{server.port}?protocol=4")
    with pytest.raises(ValueError, match="Conflicting protocol"):
        await create_connection(f"redis://127.0.0.1:{server.port}?protocol=3", protocol=2)
    same = await create_connection(f"redis://127.0.0.1:{server.port}?protocol=3", protocol=3)
    assert same.protocol_version == 3


async def test_hello_with_password(create_connection, start_server, caplog):
    secured = start_server("resp3-password", "requirepass s3cr3t-pw")
    caplog.set_level(logging.DEBUG, logger="aioredis_cy")
    conn = await create_connection(secured.tcp_address, password="s3cr3t-pw", protocol=3, name="pw")
    assert await conn.execute("ACL", "WHOAMI") == b"default"
    assert b" name=pw " in await conn.execute("CLIENT", "INFO")
    with pytest.raises(AuthError) as failure:
        await create_connection(secured.tcp_address, password="not-the-pw", protocol=3)
    assert "not-the-pw" not in str(failure.value) and "not-the-pw" not in repr(failure.value)
    # HELLO needs the client authenticated first: without a password, the connection is refused.
    with pytest.raises(AuthError):
        await create_connection(secured.tcp_address, protocol=3)
    assert "s3cr3t-pw" not in caplog.text and "not-the-pw" not in caplog.text
    assert "s3cr3t-pw" not in repr(conn)


async def test_hello_with_acl_user(create_connection, start_server):
    acl = start_server("resp3-acl", "user app on >apppw ~app:* +@all", "user default on nopass ~* +@all")
    conn = await create_connection(acl.tcp_address, username="app", password="apppw", protocol=3)
    assert await conn.execute("ACL", "WHOAMI") == b"app"
    with pytest.raises(ReplyError, match="NOPERM"):
        await conn.execute("SET", "other:1", "v")
    uri = await create_connection(f"redis://app:apppw@127.0.0.1:{acl.port}?protocol=3")
    assert await uri.execute("ACL", "WHOAMI") == b"app"
    with pytest.raises(AuthError):
        await create_connection(acl.tcp_address, username="app", password="nope", protocol=3)


async def fake_server(handle):
    """A server whose ``handle(command, writer)`` answers each command (parsed with PyReader)."""
    async def serve(reader, writer):
        commands = PyReader()
        try:
            while data := await reader.read(65536):
                commands.feed(data)
                while (command := commands.gets()) is not False:
                    await handle(command, writer)
        finally:
            writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


async def serve_old_redis(command, writer):
    if command[0].upper() == b"HELLO":
        writer.write(b"-ERR unknown command 'HELLO', with args beginning with: '3' \r\n")
    elif command[0].upper() == b"INFO":
        info = b"# Server\r\nredis_version:5.0.14\r\nredis_mode:standalone\r\n"
        writer.write(b"$%d\r\n%s\r\n" % (len(info), info))
    else:
        writer.write(b"+OK\r\n")


async def test_server_without_hello(create_connection):
    old = await fake_server(serve_old_redis)
    try:
        with pytest.raises(ReplyError, match=r"protocol=3 needs Redis 6 or later.*Redis 5\.0\.14"):
            await create_connection(old.sockets[0].getsockname()[:2], protocol=3)
    finally:
        old.close()
        await old.wait_closed()


# ---------------------------------------------------------------------------- reply shapes


async def test_debug_protocol_types_keep_resp2_shapes(create_connection, debug_server, parser):
    """Each RESP3 type a real server sends comes back as the RESP2 reply of the same command."""
    resp3 = await create_connection(debug_server.tcp_address, protocol=3)
    resp2 = await create_connection(debug_server.tcp_address)
    # hiredis returns an attribute as a reply of its own (documented): not asked for with it.
    types = [t for t in DEBUG_TYPES if not (t == "attrib" and is_hiredis(parser))]
    for kind in types:
        expected = await resp2.execute("DEBUG", "PROTOCOL", kind)
        assert await resp3.execute("DEBUG", "PROTOCOL", kind) == expected, kind
        decoded = await resp2.execute("DEBUG", "PROTOCOL", kind, encoding="utf-8")
        assert await resp3.execute("DEBUG", "PROTOCOL", kind, encoding="utf-8") == decoded, kind
    assert await resp3.execute("DEBUG", "PROTOCOL", "double") == b"3.141"
    assert await resp3.execute("DEBUG", "PROTOCOL", "true") == 1
    assert await resp3.execute("DEBUG", "PROTOCOL", "map") == [0, 0, 1, 1, 2, 0]


SHAPE_COMMANDS = [
    ("HGETALL", "shape:h"), ("SMEMBERS", "shape:s"), ("ZSCORE", "shape:z", "m1"),
    ("ZMSCORE", "shape:z", "m1", "nope"), ("ZRANGE", "shape:z", 0, -1, "WITHSCORES"),
    ("ZRANGE", "shape:z", 0, -1), ("ZRANGEBYSCORE", "shape:z", "-inf", "+inf", "WITHSCORES"),
    ("ZREVRANGE", "shape:z", 0, -1, "WITHSCORES"),
    ("ZREVRANGEBYSCORE", "shape:z", "+inf", "-inf", "WITHSCORES"),
    ("ZUNION", 1, "shape:z", "WITHSCORES"), ("ZINTER", 1, "shape:z", "WITHSCORES"),
    ("ZDIFF", 1, "shape:z", "WITHSCORES"), ("ZRANDMEMBER", "shape:one", 1, "WITHSCORES"),
    ("HRANDFIELD", "shape:h1", 1, "WITHVALUES"), ("CONFIG", "GET", "maxmemory*"),
    ("XREAD", "STREAMS", "shape:x", "shape:y", 0, 0), ("XREAD", "COUNT", 1, "STREAMS", "shape:none", 0),
    ("XINFO", "STREAM", "shape:x"), ("GEOPOS", "shape:g", "Palermo"),
    ("GEODIST", "shape:g", "Palermo", "Catania"),
    ("GEOSEARCH", "shape:g", "FROMLONLAT", 15, 37, "BYRADIUS", 200, "km", "WITHDIST", "WITHCOORD", "ASC"),
    ("HELLO",), ("ZSCAN", "shape:z", 0), ("SCAN", 0, "MATCH", "shape:*", "COUNT", 1000),
    ("EVAL", "return {1, 'two', {3}}", 0), ("SISMEMBER", "shape:s", "a"),
]


async def fill_shape_keys(conn):
    await conn.execute("DEL", "shape:h", "shape:s", "shape:z", "shape:one", "shape:h1", "shape:x",
                       "shape:y", "shape:g")
    await conn.execute("HSET", "shape:h", "f1", "v1", "f2", "v2")
    await conn.execute("HSET", "shape:h1", "f", "v")
    await conn.execute("SADD", "shape:s", "a", "b", "c")
    await conn.execute("ZADD", "shape:z", 1.5, "m1", 2, "m2", "-inf", "m0", 0.1, "m3")
    await conn.execute("ZADD", "shape:one", 7, "only")
    await conn.execute("XADD", "shape:x", "1-1", "f", "v")
    await conn.execute("XADD", "shape:y", "2-1", "g", "w", "h", "u")
    await conn.execute("GEOADD", "shape:g", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania")


def without_volatile(command, reply):
    """Replies that differ between any two connections (ids, protocol) made comparable."""
    if command[0] == "HELLO":
        return [item for item in reply[:6]]   # server, redis, version, x.y.z, proto, N
    if command[0] == "XINFO":
        return dict(zip(reply[::2], reply[1::2])).keys()
    return reply


async def test_commands_keep_resp2_shapes(create_connection, parser):
    resp3 = await create_connection(protocol=3)
    resp2 = await create_connection()
    await fill_shape_keys(resp2)
    for encoding in (None, "utf-8"):
        for command in SHAPE_COMMANDS:
            if command[0] == "HELLO":
                expected = await resp2._protocol.hello([2])
                got = await resp3._protocol.hello([3])
                assert expected[:4] == got[:4] and got[4:6] in ([b"proto", 3], ["proto", 3])
                continue
            expected = without_volatile(command, await resp2.execute(*command, encoding=encoding))
            got = without_volatile(command, await resp3.execute(*command, encoding=encoding))
            if is_hiredis(parser):
                got, expected = as_numbers(got), as_numbers(expected)
            assert got == expected, command
    # Inside MULTI/EXEC, each reply takes its shape too.
    results = []
    for conn in (resp2, resp3):
        conn.execute("MULTI")
        conn.execute("ZRANGE", "shape:z", 0, 1, "WITHSCORES")
        conn.execute("HGETALL", "shape:h")
        conn.execute("XREAD", "STREAMS", "shape:x", 0)
        results.append(as_numbers(await conn.execute("EXEC")))
    assert results[0] == results[1]
    assert results[1][1] == [b"f1", b"v1", b"f2", b"v2"]


# ---------------------------------------------------------------------------- native types (opt-in)

NATIVE_DEBUG = {"double": 3.141, "true": True, "false": False, "map": {0: False, 1: True, 2: False},
                "bignum": 1234567999999999999999999999999999999}


async def test_debug_protocol_types_native(create_connection, debug_server, parser):
    """With resp3_types="native", each RESP3 type keeps its Python type (sets stay lists)."""
    native = await create_connection(debug_server.tcp_address, protocol=3, resp3_types="native")
    resp2 = await create_connection(debug_server.tcp_address)
    assert native.resp3_types == "native" and resp2.resp3_types == "resp2"
    types = [t for t in DEBUG_TYPES if not (t == "attrib" and is_hiredis(parser))]
    for kind in types:
        expected = NATIVE_DEBUG.get(kind) if kind in NATIVE_DEBUG else \
            await resp2.execute("DEBUG", "PROTOCOL", kind)
        if kind == "bignum" and is_hiredis(parser):
            expected = str(expected).encode()   # hiredis gives big numbers as their text (documented)
        got = await native.execute("DEBUG", "PROTOCOL", kind)
        assert got == expected and type(got) is type(expected), kind


async def test_commands_native_types(create_connection, create_pool, parser):
    conn = await create_connection(protocol=3, resp3_types="native")
    pool = await create_pool(protocol=3, resp3_types="native", minsize=1, maxsize=2)
    assert pool.resp3_types == "native"
    await fill_shape_keys(conn)
    for target in (conn, pool):
        assert await target.execute("HGETALL", "shape:h") == {b"f1": b"v1", b"f2": b"v2"}
        assert await target.execute("HGETALL", "shape:h", encoding="utf-8") == {"f1": "v1", "f2": "v2"}
        assert await target.execute("ZSCORE", "shape:z", "m1") == 1.5
        assert await target.execute("ZRANGE", "shape:z", 0, 1, "WITHSCORES") == [
            [b"m0", float("-inf")], [b"m3", 0.1]]
        assert await target.execute("CONFIG", "GET", "maxmemory", encoding="utf-8") == {"maxmemory": "0"}
        streams = await target.execute("XREAD", "STREAMS", "shape:x", 0, encoding="utf-8")
        assert streams == {"shape:x": [["1-1", ["f", "v"]]]}
    conn.execute("MULTI")
    conn.execute("HGETALL", "shape:h", encoding="utf-8")
    conn.execute("ZSCORE", "shape:z", "m1")
    assert await conn.execute("EXEC") == [{"f1": "v1", "f2": "v2"}, 1.5]


async def test_native_types_only_where_asked(create_connection, server):
    # Checked before connecting: nothing listens on port 1.
    for create in (aioredis_cy.create_connection, aioredis_cy.create_pool):
        with pytest.raises(ValueError, match="needs protocol=3"):
            await create(("127.0.0.1", 1), resp3_types="native")
        with pytest.raises(ValueError, match="resp3_types must be"):
            await create(("127.0.0.1", 1), protocol=3, resp3_types="dict")
    native = await create_connection(protocol=3, resp3_types="native")
    with pytest.raises(ValueError, match="execute"):
        aioredis_cy.Redis(native)   # the command methods' converters expect the default shapes
    default = await create_connection(protocol=3, resp3_types="resp2")
    assert default.resp3_types == "resp2" and await default.execute("HGETALL", "shape:none") == []


async def redis_calls(redis):
    """What a few command methods return (their converters expect RESP2 shapes)."""
    await fill_shape_keys(redis)
    results = [
        await redis.hgetall("shape:h"), await redis.hgetall("shape:h", encoding="utf-8"),
        await redis.zscore("shape:z", "m1"), await redis.zincrby("shape:one", 0.5, "only"),
        await redis.zrange("shape:z", 0, 1, withscores=True),
        await redis.zrevrangebyscore("shape:z", withscores=True),
        await redis.smembers("shape:s"), await redis.sismember("shape:s", "a"),
        await redis.config_get("maxmemory"), await redis.incrbyfloat("shape:float", 1.25),
        await redis.geodist("shape:g", "Palermo", "Catania", "km"), await redis.geopos("shape:g", "Palermo"),
        await redis.xread(["shape:x", "shape:y"], latest_ids=["0", "0"], count=10),
        await redis.xinfo_stream("shape:x"),
    ]
    await redis.delete("shape:float")
    results[-1].pop("last-generated-id", None)
    return results


async def test_redis_commands_under_resp3(create_redis, create_redis_pool):
    expected = await redis_calls(await create_redis())
    assert await redis_calls(await create_redis(protocol=3)) == expected
    assert await redis_calls(await create_redis_pool(protocol=3, maxsize=2)) == expected
    assert expected[2] == 1.5 and expected[4] == [(b"m0", float("-inf")), (b"m3", 0.1)]


# ---------------------------------------------------------------------------- push frames


async def test_debug_protocol_push_goes_to_the_handler(create_connection, debug_server):
    conn = await create_connection(debug_server.tcp_address, protocol=3, encoding="utf-8")
    assert await conn.execute("DEBUG", "PROTOCOL", "push") == "Some real reply following the push reply"
    frames = []
    conn.set_push_handler(frames.append)
    assert await conn.execute("DEBUG", "PROTOCOL", "push") == "Some real reply following the push reply"
    assert frames == [[b"server-cpu-usage", 42]]   # raw: never decoded
    conn.set_push_handler(None)
    assert await conn.execute("DEBUG", "PROTOCOL", "push") == "Some real reply following the push reply"
    assert frames == [[b"server-cpu-usage", 42]]
    with pytest.raises(TypeError):
        conn.set_push_handler("not callable")


async def test_invalidations_reach_the_handler(create_connection):
    conn = await create_connection(protocol=3, encoding="utf-8")
    other = await create_connection()
    frames = []
    conn.set_push_handler(frames.append)
    assert await conn.execute("CLIENT", "TRACKING", "ON") == "OK"
    await other.execute("SET", "resp3:tracked", "1")
    assert await conn.execute("GET", "resp3:tracked") == "1"
    await other.execute("SET", "resp3:tracked", "2")
    assert await conn.execute("GET", "resp3:tracked") == "2"   # after the invalidation, in stream order
    assert frames == [[b"invalidate", [b"resp3:tracked"]]]
    await other.execute("FLUSHDB")
    assert await conn.execute("PING") == "PONG"
    assert frames[-1] == [b"invalidate", None]


async def test_a_failing_handler_is_logged_and_harmless(create_connection, caplog):
    conn = await create_connection(protocol=3)
    other = await create_connection()
    calls = []

    def handler(frame):
        calls.append(frame)
        raise RuntimeError("handler bug")

    conn.set_push_handler(handler)
    await conn.execute("CLIENT", "TRACKING", "ON")
    await conn.execute("GET", "resp3:failing")
    pending = [conn.execute("PING") for _ in range(3)]
    await other.execute("SET", "resp3:failing", "x")
    with caplog.at_level(logging.ERROR, logger="aioredis_cy"):
        assert await asyncio.gather(*pending, conn.execute("GET", "resp3:failing")) == [b"PONG"] * 3 + [b"x"]
    assert calls == [[b"invalidate", [b"resp3:failing"]]]
    assert "push handler failed" in caplog.text and "handler bug" in caplog.text
    assert not conn.closed


async def serve_with_pushes(command, writer):
    """Answers HELLO, GET and a few more with pushes between (and around) the replies."""
    name = command[0].upper()
    if name == b"HELLO":
        writer.write(b"%2\r\n$6\r\nserver\r\n$4\r\nfake\r\n$5\r\nproto\r\n:3\r\n")
    elif name == b"GET":
        key = command[1]
        push = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$%d\r\n%s\r\n" % (len(key), key)
        # The push goes out a byte at a time, split across reads.
        reply = b"$%d\r\n%s\r\n" % (len(key) + 4, b"val:" + key)
        data = push + reply + b">1\r\n$7\r\nunknown\r\n"
        for i in range(len(data)):
            writer.write(data[i:i + 1])
            if i % 7 == 0:
                await writer.drain()
    elif name == b"SUBSCRIBE":
        for channel in command[1:]:
            writer.write(b">3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(channel), channel))
            writer.write(b">3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$5\r\nhello\r\n" % (len(channel), channel))
    elif name == b"LRANGE":
        # An array that looks like a pub/sub message is a reply, not a push.
        writer.write(b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\ndata\r\n")
    else:
        writer.write(b"+OK\r\n")
    await writer.drain()


async def test_pushes_between_pipelined_replies_do_not_shift_them(create_connection):
    fake = await fake_server(serve_with_pushes)
    try:
        conn = await create_connection(fake.sockets[0].getsockname()[:2], protocol=3)
        frames = []
        conn.set_push_handler(frames.append)
        replies = await asyncio.gather(*[conn.execute("GET", f"k{i}") for i in range(5)],
                                       conn.execute("LRANGE", "l", 0, -1))
        assert replies == [f"val:k{i}".encode() for i in range(5)] + [[b"message", b"ch", b"data"]]
        expected = []
        for i in range(5):
            expected += [[b"invalidate", [f"k{i}".encode()]], [b"unknown"]]
        assert frames == expected
        channel = Channel("news", is_pattern=False)
        await conn.execute_pubsub("SUBSCRIBE", channel)
        assert await channel.get() == b"hello"
        assert await conn.execute("GET", "after") == b"val:after"   # commands still run
    finally:
        fake.close()
        await fake.wait_closed()


async def test_pubsub_with_commands_on_the_same_connection(create_connection):
    conn = await create_connection(protocol=3, encoding="utf-8")
    publisher = await create_connection()
    channel, pattern = Channel("resp3:news", False), Channel("resp3:*", True)
    await conn.execute_pubsub("SUBSCRIBE", channel)
    await conn.execute_pubsub("PSUBSCRIBE", pattern)
    assert conn.in_pubsub == 2
    assert await conn.execute("SET", "resp3:k", "v") == "OK"
    assert await publisher.execute("PUBLISH", "resp3:news", "one") == 2
    replies = await asyncio.gather(conn.execute("GET", "resp3:k"), conn.execute("PING"),
                                   conn.execute("HGETALL", "resp3:none"))
    assert replies == ["v", "PONG", []]
    assert await channel.get() == b"one"
    assert await pattern.get() == (b"resp3:news", b"one")
    receiver = Receiver()
    await conn.execute_pubsub("SUBSCRIBE", receiver.channel("resp3:other"))
    await publisher.execute("PUBLISH", "resp3:other", "two")
    assert await conn.execute("ECHO", "between") == "between"
    source, message = await receiver.get()
    assert source.name == b"resp3:other" and message == b"two"
    await conn.execute_pubsub("UNSUBSCRIBE", "resp3:news", "resp3:other")
    await conn.execute_pubsub("PUNSUBSCRIBE", "resp3:*")
    assert conn.in_pubsub == 0 and not channel.is_active
    assert await conn.execute("GET", "resp3:k") == "v"
    await conn.execute("DEL", "resp3:k")


async def test_reset_brings_the_connection_back_to_resp2(create_connection):
    conn = await create_connection(protocol=3)
    publisher = await create_connection()
    channel = Channel("resp3:reset", False)
    await conn.execute_pubsub("SUBSCRIBE", channel)
    assert await conn.reset() is True
    assert conn.protocol_version == 2 and not channel.is_active
    assert b" resp=2" in await conn.execute("CLIENT", "INFO")
    assert await conn.execute("HGETALL", "resp3:none") == []
    again = Channel("resp3:reset", False)
    await conn.execute_pubsub("SUBSCRIBE", again)
    await publisher.execute("PUBLISH", "resp3:reset", "after")
    assert await again.get() == b"after"
    with pytest.raises(RedisError, match="SUBSCRIBE mode"):
        conn.execute("GET", "x")


async def serve_odd_pushes(command, writer):
    """HELLO, then for ECHO x: odd pushes before the reply x; SUBSCRIBE confirms; GET: a broken message."""
    name = command[0].upper()
    if name == b"HELLO":
        writer.write(b"%1\r\n$5\r\nproto\r\n:3\r\n")
    elif name == b"ECHO":
        # An empty push, one whose kind is not a string, a message for no subscribed channel.
        writer.write(b">0\r\n>2\r\n:7\r\n$1\r\nx\r\n>3\r\n$7\r\nmessage\r\n$4\r\nnone\r\n$1\r\nm\r\n")
        writer.write(b"$%d\r\n%s\r\n" % (len(command[1]), command[1]))
    elif name == b"SUBSCRIBE":
        writer.write(b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n")
    elif name == b"GET":
        writer.write(b">2\r\n$7\r\nmessage\r\n$2\r\nch\r\n")   # the payload is missing
    await writer.drain()


async def test_odd_and_malformed_pushes(create_connection):
    fake = await fake_server(serve_odd_pushes)
    try:
        conn = await create_connection(fake.sockets[0].getsockname()[:2], protocol=3)
        frames = []
        conn.set_push_handler(frames.append)
        assert await conn.execute("ECHO", "reply") == b"reply"
        assert frames == [[], [7, b"x"]]
        channel = Channel("ch", is_pattern=False)
        await conn.execute_pubsub("SUBSCRIBE", channel)
        # A malformed message for a subscribed channel: the stream cannot be trusted any more.
        with pytest.raises(RedisError):
            await conn.execute("GET", "k")
        await conn.wait_closed()
        assert conn.closed and not channel.is_active
    finally:
        fake.close()
        await fake.wait_closed()


@pytest.mark.parametrize("protocol", [2, 3])
async def test_short_pubsub_message_closes_the_connection(create_connection, protocol):
    # Regression: a message array one element short was read past its end (a crash) under RESP2 too.
    kind = b">" if protocol == 3 else b"*"

    async def serve(command, writer):
        if command[0].upper() == b"HELLO":
            writer.write(b"%1\r\n$5\r\nproto\r\n:3\r\n")
        elif command[0].upper() == b"SUBSCRIBE":
            writer.write(kind + b"3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n")
            writer.write(kind + b"2\r\n$7\r\nmessage\r\n$2\r\nch\r\n")
        await writer.drain()

    fake = await fake_server(serve)
    try:
        conn = await create_connection(fake.sockets[0].getsockname()[:2], protocol=protocol)
        channel = Channel("ch", is_pattern=False)
        await conn.execute_pubsub("SUBSCRIBE", channel)
        await conn.wait_closed()
        assert conn.closed and not channel.is_active
    finally:
        fake.close()
        await fake.wait_closed()
