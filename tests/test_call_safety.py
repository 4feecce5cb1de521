"""One caller's mistake never hurts the others: per-call encodings, converters, stream-changing commands."""
import asyncio
import gc

import pytest

import aioredis_cy
from aioredis_cy.errors import RedisError, ReplyError
from aioredis_cy.util import wait_convert, wait_make_dict, wait_ok


@pytest.fixture(params=["conn", "pool"])
async def client(request, create_connection, create_pool):
    """A Redis client on one connection or on a pool, with the parametrized reader."""
    target = await (create_connection() if request.param == "conn" else create_pool(minsize=2))
    redis = aioredis_cy.Redis(target)
    await redis.execute(b"FLUSHDB")
    return redis


# -- per-call encoding -----------------------------------------------------------------


@pytest.mark.parametrize("encoding, error", [
    ("no-such-codec", LookupError),
    (b"utf-8", TypeError),
    ("rot13", LookupError),   # a codec, but not a text encoding
])
async def test_bad_encoding_is_refused_before_sending(create_connection, encoding, error):
    conn = await create_connection()
    others = [conn.execute(b"ECHO", str(i), encoding="utf-8") for i in range(25)]
    with pytest.raises(error):
        conn.execute(b"GET", b"k", encoding=encoding)
    others += [conn.execute(b"ECHO", str(i), encoding="utf-8") for i in range(25, 50)]
    assert await asyncio.gather(*others) == [str(i) for i in range(50)]
    assert conn.pending == 0 and not conn.closed


async def test_bad_encoding_on_a_pool_and_a_command(create_pool):
    pool = await create_pool()
    redis = aioredis_cy.Redis(pool)
    others = [redis.echo(str(i), encoding="utf-8") for i in range(50)]
    with pytest.raises(LookupError):
        redis.get("k", encoding="no-such-codec")
    assert await asyncio.gather(*others) == [str(i) for i in range(50)]


# -- converters ------------------------------------------------------------------------


async def test_public_helpers_add_to_the_command_conversion(client):
    await client.hset("h", "b", "2")
    await client.hset("h", "a", "1")
    await client.zadd("z", 2, "y", 1, "x")
    await client.sadd("s", "m2", "m1")
    assert await wait_convert(client.hgetall("h"), sorted) == [b"a", b"b"]
    assert await wait_convert(client.zrange("z", withscores=True), dict) == {b"x": 1, b"y": 2}
    assert await wait_convert(client.smembers("s"), sorted) == [b"m1", b"m2"]
    assert await wait_ok(client.set("k", "v")) is False   # True is not "OK": 1.x applied both too
    assert await wait_make_dict(client.execute(b"HGETALL", "h")) == {b"a": b"1", b"b": b"2"}


async def test_overridden_execute_still_gets_converted_replies(create_connection):
    seen = []

    class Recording(aioredis_cy.Redis):
        def execute(self, command, *args, **kwargs):
            seen.append(command)
            return super().execute(command, *args, **kwargs)

    redis = Recording(await create_connection())
    assert await redis.set("k", "v") is True
    assert await redis.hgetall("missing") == {}
    assert seen == [b"SET", b"HGETALL"]


async def test_no_unretrieved_error_for_a_cancelled_caller(client):
    """A cancelled caller's failed command (plain or converted) is never logged."""
    await client.set("str", "x")
    loop = asyncio.get_running_loop()
    reports = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reports.append(context))
    try:
        tasks = [asyncio.ensure_future(client.hgetall("str")),
                 asyncio.ensure_future(client.execute(b"HGETALL", "str")),
                 asyncio.ensure_future(wait_convert(client.hgetall("str"), list))]
        await asyncio.sleep(0)
        for task in tasks:
            task.cancel()
        with pytest.raises(ReplyError):
            await client.hgetall("str")   # every reply before it is in
        del tasks
        gc.collect()
    finally:
        loop.set_exception_handler(previous)
    assert reports == []


# -- commands that change the reply stream ----------------------------------------------


@pytest.mark.parametrize("command", [
    (b"CLIENT", b"REPLY", b"OFF"),
    (b"client", "reply", "skip"),
    (b"MONITOR",),
    ("reset",),
    (b"HELLO", 3),
])
async def test_stream_changing_commands_are_refused(client, command):
    others = [client.echo(str(i)) for i in range(20)]
    with pytest.raises(RedisError, match="refused"):
        client.execute(*command)
    assert await asyncio.gather(*others) == [str(i).encode() for i in range(20)]
    assert await client.execute(b"CLIENT", b"GETNAME") is None   # other CLIENT subcommands pass


async def test_monitor_streams_on_a_connection_of_its_own(create_connection, create_pool):
    watched = await create_connection()
    pool = await create_pool(minsize=1)
    redis = aioredis_cy.Redis(pool)
    lines = redis.monitor()
    first = asyncio.ensure_future(lines.__anext__())
    while not first.done():   # the monitor is on before the command it should see
        await watched.execute(b"ECHO", b"seen-by-monitor")
        await asyncio.sleep(0.01)
    line = first.result()
    assert b"seen-by-monitor" in line or b"ECHO" in line.upper()
    assert await redis.echo("shared") == b"shared"   # the pool's other traffic is unaffected
    await lines.aclose()
    assert pool.size <= pool.maxsize


async def test_monitor_takes_a_connection_over(create_connection):
    conn = await create_connection()
    other = await create_connection()
    lines = conn.monitor()
    first = asyncio.ensure_future(lines.__anext__())
    while not first.done():
        await other.execute(b"SET", b"monitor:key", b"1")
        await asyncio.sleep(0.01)
    with pytest.raises(RedisError, match="MONITOR mode"):
        conn.execute(b"GET", b"monitor:key")
    await lines.aclose()
    assert conn.closed
