"""RedisConnection against a real server, under both loops and with every reader."""
import asyncio
import socket

import pytest

import aioredis_cy
from aioredis_cy import (
    AuthError,
    ConnectionClosedError,
    ConnectionForcedCloseError,
    RedisConnection,
    RedisError,
    ReplyError,
)
from aioredis_cy.abc import AbcConnection

from .helpers import TEST_PROTOCOL


async def test_connect_tcp(create_connection, server):
    conn = await create_connection(server.tcp_address)
    assert isinstance(conn, RedisConnection)
    assert isinstance(conn, AbcConnection)
    assert conn.address == server.tcp_address
    assert conn.db == 0
    assert conn.encoding is None
    assert not conn.closed
    assert await conn.execute("PING") == b"PONG"
    assert repr(conn).startswith("<RedisConnection [db:0]")


async def test_connect_unix_socket(create_connection, server):
    conn = await create_connection(server.unix_socket, db=2)
    assert conn.address == server.unix_socket
    assert conn.db == 2
    assert await conn.execute("ECHO", "x") == b"x"


async def test_connect_uri_forms(create_connection, server):
    conn = await create_connection(f"{server.url}/3?encoding=utf-8")
    assert conn.db == 3
    assert conn.encoding == "utf-8"
    assert await conn.execute("ECHO", "ok") == "ok"
    conn = await create_connection(f"unix://{server.unix_socket}?db=4")
    assert conn.db == 4
    conn = await create_connection(f"redis://localhost:{server.port}?db=1&timeout=5")
    assert conn.db == 1


async def test_uri_conflicts_are_rejected(create_connection, server):
    with pytest.raises(ValueError, match="Conflicting db"):
        await create_connection(f"{server.url}/1", db=2)
    with pytest.raises(ValueError, match="Conflicting db"):
        await create_connection(f"{server.url}/1?db=2")
    # Agreeing values are fine.
    conn = await create_connection(f"{server.url}/1", db=1)
    assert conn.db == 1


@pytest.mark.parametrize("address, error", [
    (None, TypeError),
    (6379, TypeError),
    (("localhost",), ValueError),
    (("localhost", "6379"), ValueError),
    ("http://localhost", ValueError),
    ("redis://localhost?bogus=1", ValueError),
    ("redis://localhost/notadb", ValueError),
    ("redis://localhost?timeout=-1", ValueError),
])
async def test_bad_addresses(address, error):
    with pytest.raises(error):
        await aioredis_cy.create_connection(address)


@pytest.mark.parametrize("kwargs, error", [
    ({"db": -1}, ValueError),
    ({"db": "1"}, ValueError),
    ({"timeout": 0}, ValueError),
    ({"timeout": "1"}, ValueError),
    ({"encoding": "no-such-codec"}, LookupError),
    ({"connection_cls": object}, TypeError),
])
async def test_bad_keyword_arguments(server, kwargs, error):
    with pytest.raises(error):
        await aioredis_cy.create_connection(server.tcp_address, **kwargs)


async def test_connection_refused():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(OSError):
        await aioredis_cy.create_connection(("127.0.0.1", port))


async def test_loop_argument_is_accepted_and_ignored(create_connection):
    conn = await create_connection(loop=asyncio.get_running_loop())
    assert await conn.execute("PING") == b"PONG"


async def test_execute_returns_a_future(create_connection):
    conn = await create_connection()
    fut = conn.execute("PING")
    assert isinstance(fut, asyncio.Future)
    assert await fut == b"PONG"


async def test_reply_types(create_connection):
    conn = await create_connection()
    await conn.execute("DEL", "rt:list", "rt:str")
    assert await conn.execute("SET", "rt:str", "value") == b"OK"
    assert await conn.execute("GET", "rt:str") == b"value"
    assert await conn.execute("GET", "rt:missing") is None
    assert await conn.execute("INCRBY", "rt:int", 5) >= 5
    assert await conn.execute("RPUSH", "rt:list", 1, 2.5, b"three") == 3
    assert await conn.execute("LRANGE", "rt:list", 0, -1) == [b"1", b"2.5", b"three"]
    assert await conn.execute("LRANGE", "rt:nothing", 0, -1) == []
    with pytest.raises(ReplyError, match="WRONGTYPE"):
        await conn.execute("GET", "rt:list")
    assert await conn.execute("PING") == b"PONG"


@pytest.mark.parametrize("value", [
    b"", b"\x00\xff\r\n", "unicode \u2603", 0, -1, 2**63 - 1, -(2**63), 2**80, 1.5, float("inf"),
    bytearray(b"ba"), memoryview(b"mv"),
])
async def test_argument_encoding(create_connection, value):
    conn = await create_connection()
    await conn.execute("SET", "enc:key", value)
    stored = await conn.execute("GET", "enc:key")
    if isinstance(value, (bytes, bytearray, memoryview)):
        expected = bytes(value)
    elif isinstance(value, str):
        expected = value.encode()
    elif isinstance(value, float):
        expected = repr(value).encode()
    else:
        expected = str(value).encode()
    assert stored == expected


@pytest.mark.parametrize("bad", [None, True, object(), [1], {"a": 1}, memoryview(b"abcd")[::2]])
async def test_bad_argument_sends_nothing(create_connection, bad):
    conn = await create_connection()
    await conn.execute("SET", "bad:key", "before")
    with pytest.raises(TypeError):
        conn.execute("SET", "bad:key", bad)
    with pytest.raises(TypeError):
        conn.execute("MSET", "bad:a", "1", "bad:key", bad)
    # Nothing of the failed commands reached the server, and the stream is in sync.
    assert await conn.execute("GET", "bad:key") == b"before"
    assert await conn.execute("EXISTS", "bad:a") == 0


@pytest.mark.parametrize("command", [None, 1, object()])
async def test_bad_command_name(create_connection, command):
    conn = await create_connection()
    with pytest.raises(TypeError):
        conn.execute(command)
    assert await conn.execute("PING") == b"PONG"


async def test_encoding_per_connection_and_per_call(create_connection):
    conn = await create_connection(encoding="utf-8")
    await conn.execute("SET", "enc:s", "caf\u00e9")
    assert await conn.execute("GET", "enc:s") == "caf\u00e9"
    assert await conn.execute("GET", "enc:s", encoding=None) == "caf\u00e9".encode()
    assert await conn.execute("GET", "enc:s", encoding="latin-1") == "caf\u00e9".encode().decode("latin-1")
    await conn.execute("RPUSH", "enc:l", "a", "b")
    assert await conn.execute("LRANGE", "enc:l", 0, -1) == ["a", "b"]
    await conn.execute("DEL", "enc:l")


async def test_undecodable_reply_fails_only_its_command(create_connection):
    conn = await create_connection(encoding="utf-8")
    await conn.execute("SET", "enc:bin", b"\xff\xfe")
    first = conn.execute("GET", "enc:bin")
    second = conn.execute("ECHO", "after")
    with pytest.raises(UnicodeDecodeError):
        await first
    assert await second == "after"


async def test_pipelining_keeps_order(create_connection):
    conn = await create_connection()
    futures = [conn.execute("ECHO", str(i)) for i in range(5000)]
    results = await asyncio.gather(*futures)
    assert results == [str(i).encode() for i in range(5000)]


async def test_concurrent_tasks_get_their_own_replies(create_connection):
    conn = await create_connection()

    async def worker(n):
        for i in range(50):
            key = f"task:{n}:{i}"
            await conn.execute("SET", key, key)
            assert await conn.execute("GET", key) == key.encode()

    await asyncio.gather(*(worker(n) for n in range(50)))


async def test_large_values(create_connection):
    conn = await create_connection()
    big = bytes(range(256)) * 4096 * 10   # 10 MiB
    await conn.execute("SET", "big", big)
    assert await conn.execute("GET", "big") == big
    await conn.execute("DEL", "big")


@pytest.mark.parametrize("odd_at", [None, 0, 500_000, (1 << 20) - 2])
async def test_large_text_among_small_replies(create_connection, odd_at):
    # Big values are read in place (the bytes or ASCII str being built); a non-ASCII
    # character anywhere, and small replies on both sides, must not change a thing.
    conn = await create_connection(encoding="utf-8")
    text = "x" * (1 << 20)
    if odd_at is not None:
        text = text[:odd_at] + "\u00e9" + text[odd_at + 2:]
    await conn.execute("SET", "big:text", text)
    small = [conn.execute("INCR", "big:counter") for _ in range(100)]
    replies = await asyncio.gather(
        conn.execute("GET", "big:text"), *small, conn.execute("GET", "big:text", encoding=None),
        conn.execute("GET", "big:text"), conn.execute("ECHO", "after"))
    assert replies[0] == text and replies[-2] == text
    assert replies[1:101] == list(range(1, 101))
    assert replies[101] == text.encode()
    assert replies[-1] == "after"
    await conn.execute("DEL", "big:text", "big:counter")


async def test_select(create_connection):
    conn = await create_connection()
    assert await conn.select(1) is True
    assert conn.db == 1
    await conn.execute("SET", "sel:key", "db1")
    await conn.select(0)
    assert conn.db == 0
    assert await conn.execute("GET", "sel:key") is None
    await conn.execute("SELECT", 1)
    assert conn.db == 1
    assert await conn.execute("GET", "sel:key") == b"db1"
    await conn.execute("DEL", "sel:key")
    with pytest.raises(ReplyError):
        await conn.select(100000)
    assert conn.db == 1
    with pytest.raises(TypeError):
        conn.select("1")
    with pytest.raises(ValueError):
        conn.select(-1)


async def test_auth(create_connection, start_server):
    secured = start_server("password", "requirepass s3cret")
    with pytest.raises(AuthError):
        await create_connection(secured.tcp_address, password="wrong")
    if TEST_PROTOCOL == 3:
        # The HELLO 3 handshake needs the password: no unauthenticated RESP3 connection.
        with pytest.raises(AuthError, match="HELLO"):
            await create_connection(secured.tcp_address)
    else:
        conn = await create_connection(secured.tcp_address)
        with pytest.raises(AuthError):
            await conn.execute("GET", "x")
        with pytest.raises(AuthError):
            await conn.auth("wrong")
        assert await conn.auth("s3cret") is True
        assert await conn.execute("PING") == b"PONG"
    conn = await create_connection(secured.tcp_address, password="s3cret", db=1)
    assert conn.db == 1
    conn = await create_connection(f"redis://:s3cret@127.0.0.1:{secured.port}/2")
    assert conn.db == 2


async def test_acl_user(create_connection, start_server):
    acl = start_server("acl", "user app on >apppw ~app:* +@all", "user default on nopass ~* +@all")
    conn = await create_connection(acl.tcp_address, username="app", password="apppw")
    assert await conn.execute("SET", "app:1", "v") == b"OK"
    with pytest.raises(ReplyError, match="NOPERM"):
        await conn.execute("SET", "other:1", "v")
    assert await conn.execute("ACL", "WHOAMI") == b"app"
    conn = await create_connection(f"redis://app:apppw@127.0.0.1:{acl.port}")
    assert await conn.execute("ACL", "WHOAMI") == b"app"
    with pytest.raises(AuthError):
        await create_connection(acl.tcp_address, username="app", password="nope")
    plain = await create_connection(acl.tcp_address)
    assert await plain.auth("apppw", username="app") is True
    assert await plain.execute("ACL", "WHOAMI") == b"app"


async def test_close_fails_pending_commands(create_connection):
    conn = await create_connection()
    pending = conn.execute("BLPOP", "close:nothing", 10)
    await asyncio.sleep(0)
    conn.close()
    with pytest.raises(ConnectionForcedCloseError):
        await pending
    await conn.wait_closed()
    assert conn.closed
    with pytest.raises(ConnectionClosedError):
        conn.execute("PING")
    conn.close()   # closing twice is harmless
    await conn.wait_closed()


async def test_server_side_disconnect(create_connection):
    conn = await create_connection()
    killer = await create_connection()
    await conn.execute("CLIENT", "SETNAME", "victim")
    pending = conn.execute("BLPOP", "disc:nothing", 10)
    await asyncio.sleep(0.05)
    await killer.execute("CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal")
    with pytest.raises(ConnectionClosedError):
        await asyncio.wait_for(pending, 5)
    await asyncio.wait_for(conn.wait_closed(), 5)
    assert conn.closed
    with pytest.raises(ConnectionClosedError):
        conn.execute("PING")


async def test_quit(create_connection):
    conn = await create_connection()
    assert await conn.execute("QUIT") == b"OK"
    await asyncio.wait_for(conn.wait_closed(), 5)
    assert conn.closed


async def test_transaction_bookkeeping(create_connection):
    conn = await create_connection(encoding="utf-8")
    await conn.execute("DEL", "tx:a")
    assert not conn.in_transaction
    assert await conn.execute("MULTI") == "OK"
    assert conn.in_transaction
    queued = [
        conn.execute("SET", "tx:a", "1"),
        conn.execute("GET", "tx:a", encoding=None),
        conn.execute("INCR", "tx:a"),
        conn.execute("LPUSH", "tx:a", "x"),
    ]
    assert await asyncio.gather(*queued) == ["QUEUED", b"QUEUED", "QUEUED", "QUEUED"]
    result = await conn.execute("EXEC")
    assert not conn.in_transaction
    assert result[:3] == ["OK", b"1", 2]
    assert isinstance(result[3], ReplyError)
    assert await conn.execute("MULTI") == "OK"
    await conn.execute("SET", "tx:a", "2")
    assert await conn.execute("DISCARD") == "OK"
    assert not conn.in_transaction
    assert await conn.execute("GET", "tx:a") == "2"


async def test_exec_abort_and_watch(create_connection):
    conn = await create_connection()
    other = await create_connection()
    await conn.execute("MULTI")
    with pytest.raises(ReplyError):
        await conn.execute("NOSUCHCOMMAND")
    with pytest.raises(ReplyError, match="EXECABORT"):
        await conn.execute("EXEC")
    assert not conn.in_transaction
    await conn.execute("WATCH", "tx:w")
    await other.execute("SET", "tx:w", "changed")
    await conn.execute("MULTI")
    await conn.execute("SET", "tx:w", "mine")
    assert await conn.execute("EXEC") is None
    assert await conn.execute("GET", "tx:w") == b"changed"


async def test_select_inside_transaction(create_connection):
    conn = await create_connection()
    await conn.execute("MULTI")
    await conn.execute("SELECT", 5)
    assert conn.db == 0
    assert await conn.execute("EXEC") == [b"OK"]
    assert conn.db == 5


async def test_cancelled_command_keeps_its_slot(create_connection):
    conn = await create_connection()
    slow = conn.execute("BLPOP", "cancel:list", 0.2)
    fast = conn.execute("ECHO", "after")
    slow.cancel()
    assert await fast == b"after"
    assert await conn.execute("ECHO", "again") == b"again"


async def test_timed_out_command_does_not_desync(create_connection):
    conn = await create_connection()
    for i in range(3):
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(conn.execute("BLPOP", "timeout:list", 0.1), 0.01)
        assert await conn.execute("ECHO", str(i)) == str(i).encode()


async def test_pubsub_mode_rejects_other_commands(create_connection):
    conn = await create_connection()
    result = await conn.execute_pubsub("subscribe", "ps:a", "ps:b")
    assert result == [[b"subscribe", b"ps:a", 1], [b"subscribe", b"ps:b", 2]]
    assert conn.in_pubsub == 2
    assert set(conn.pubsub_channels) == {b"ps:a", b"ps:b"}
    with pytest.raises(TypeError):
        conn.pubsub_channels[b"x"] = None
    if conn.protocol_version == 2:
        with pytest.raises(RedisError, match="SUBSCRIBE mode"):
            conn.execute("GET", "x")
    else:   # RESP3: the subscriptions' messages are pushes, any command may run beside them
        assert await conn.execute("GET", "x") is None
    assert await conn.execute("PING") == b"PONG"
    assert await conn.execute("PING", "hi") == b"hi"
    assert await conn.execute_pubsub("unsubscribe", "ps:a", "ps:b") == [
        [b"unsubscribe", b"ps:a", 1], [b"unsubscribe", b"ps:b", 0]]
    assert conn.in_pubsub == 0
    assert await conn.execute("ECHO", "back") == b"back"


async def test_pubsub_messages_reach_channels(create_connection):
    sub = await create_connection()
    pub = await create_connection()
    (channel_reply,) = await sub.execute_pubsub("subscribe", "ps:msg")
    (pattern_reply,) = await sub.execute_pubsub("psubscribe", "ps:*")
    assert channel_reply == [b"subscribe", b"ps:msg", 1]
    assert pattern_reply == [b"psubscribe", b"ps:*", 2]
    channel = sub.pubsub_channels[b"ps:msg"]
    pattern = sub.pubsub_patterns[b"ps:*"]
    assert await pub.execute("PUBLISH", "ps:msg", "hello") == 2
    assert await channel.get() == b"hello"
    assert await pattern.get() == (b"ps:msg", b"hello")


async def test_execute_routes_subscribe_commands(create_connection):
    conn = await create_connection()
    assert await conn.execute("SUBSCRIBE", "ps:via-execute") == [[b"subscribe", b"ps:via-execute", 1]]
    assert conn.in_pubsub == 1


@pytest.mark.parametrize("command, channels, error", [
    ("get", ("x",), ValueError),
    ("subscribe", (), TypeError),
    ("subscribe", (None,), TypeError),
])
async def test_execute_pubsub_bad_arguments(create_connection, command, channels, error):
    conn = await create_connection()
    with pytest.raises(error):
        conn.execute_pubsub(command, *channels)
    assert await conn.execute("PING") == b"PONG"


async def test_pubsub_channels_closed_when_connection_lost(create_connection):
    sub = await create_connection()
    killer = await create_connection()
    await sub.execute_pubsub("subscribe", "ps:lost")
    channel = sub.pubsub_channels[b"ps:lost"]
    reader = asyncio.ensure_future(channel.wait_message())
    await killer.execute("CLIENT", "KILL", "TYPE", "pubsub")
    assert await asyncio.wait_for(reader, 5) is False
    assert not channel.is_active
    assert sub.in_pubsub == 0


@pytest.mark.parametrize("how", ["lost", "closed", "handler fails"])
async def test_lost_handler_runs_once_before_pending_commands_fail(create_connection, fault_proxy,
                                                                  caplog, how):
    proxy = await fault_proxy()
    conn = await create_connection(proxy.address)
    assert await conn.execute("PING") == b"PONG"   # the proxy's link is up
    calls = []

    def on_lost():
        calls.append((conn.closed, pending.done()))
        if how == "handler fails":
            raise RuntimeError("boom")

    proxy.hold()
    pending = conn.execute("PING")
    conn._set_lost_handler(on_lost)
    if how == "closed":
        conn.close()
    else:
        proxy.cut()
    with pytest.raises(ConnectionClosedError):
        await asyncio.wait_for(pending, 5)
    await asyncio.wait_for(conn.wait_closed(), 5)
    conn.close()
    assert calls == [(True, False)]
    assert ("lost-connection handler failed" in caplog.text) == (how == "handler fails")
    with pytest.raises(TypeError):
        conn._set_lost_handler("not callable")


async def test_create_connection_timeout(create_connection, fault_proxy):
    proxy = await fault_proxy()
    proxy.delay = 1.0
    with pytest.raises(asyncio.TimeoutError):
        await create_connection(proxy.address, db=1, timeout=0.05)


async def test_converter_rides_on_the_command_future(create_connection):
    from aioredis_cy.util import reply_is_ok, wait_convert

    conn = await create_connection()
    fut = conn._execute_converted(reply_is_ok, "SET", "conv:key", "41")
    assert conn.pending == 1
    assert await fut is True   # converted by the protocol, no second future
    assert await wait_convert(conn.execute("INCR", "conv:key"), str) == "42"


async def test_converter_on_an_older_future_still_converts(create_connection):
    from aioredis_cy.util import wait_convert

    conn = await create_connection()
    first = conn.execute("ECHO", "7")
    conn.execute("ECHO", "8")
    converted = wait_convert(first, int)
    assert converted is not first
    assert await converted == 7


async def test_converter_on_a_cancelled_future(create_connection):
    from aioredis_cy.util import wait_ok

    conn = await create_connection()
    fut = conn.execute("SET", "conv:cancelled", "1")
    fut.cancel()
    converted = wait_ok(fut)
    after = conn.execute("GET", "conv:cancelled")
    with pytest.raises(asyncio.CancelledError):
        await converted
    assert await after == b"1"   # the SET's reply was read and dropped


async def test_failing_converter_fails_only_its_command(create_connection):
    from aioredis_cy.util import wait_convert

    conn = await create_connection()
    bad = wait_convert(conn.execute("ECHO", "not a number"), int)
    after = conn.execute("ECHO", "fine")
    with pytest.raises(ValueError):
        await bad
    assert await after == b"fine"


async def test_converter_lets_queued_through(create_connection):
    from aioredis_cy.util import wait_ok

    conn = await create_connection()
    await conn.execute("MULTI")
    assert await wait_ok(conn.execute("SET", "conv:tx", "1")) == b"QUEUED"
    assert await conn.execute("EXEC") == [b"OK"]


async def test_server_refusing_the_connection_gives_max_clients_error(start_server, create_connection):
    """The server's error on accept, sent before any command, is what the caller sees.

    The connect fails with it when it arrived before the connect returned (usual under
    uvloop), else the first command does; never a ProtocolError.
    """
    from aioredis_cy.errors import MaxClientsError

    full = start_server("maxclients-1", "maxclients 1")
    holder = await create_connection(full.tcp_address)
    for _ in range(5):
        with pytest.raises(MaxClientsError):
            conn = await create_connection(full.tcp_address)
            await conn.execute(b"PING")
    with pytest.raises(MaxClientsError):
        await create_connection(full.tcp_address, db=1)   # the handshake gets the error
    assert await holder.execute(b"PING") == b"PONG"
