"""``reset()``: RESET through its own entry point keeps the connection's state true."""
import asyncio

import pytest

import aioredis_cy
from aioredis_cy.errors import RedisError, ReplyError


async def test_reset_returns_to_db_0(create_connection):
    conn = await create_connection(db=3)
    observer = await create_connection()
    await observer.execute(b"DEL", b"reset:key")
    assert conn.db == 3
    assert await conn.reset() is True
    assert conn.db == 0
    await conn.execute(b"SET", b"reset:key", b"here")
    assert await observer.execute(b"GET", b"reset:key") == b"here"   # the SET landed in db 0
    await observer.execute(b"DEL", b"reset:key")


async def test_reset_keeps_the_replies_around_it_in_order(create_connection):
    conn = await create_connection()
    await conn.select(2)
    before = [conn.execute(b"ECHO", str(i)) for i in range(20)]
    reset = conn.reset()
    after = [conn.execute(b"ECHO", str(i)) for i in range(20, 40)]
    db_after = conn.execute(b"CLIENT", b"INFO")
    assert await asyncio.gather(*before, reset, *after) == \
        [str(i).encode() for i in range(20)] + [True] + [str(i).encode() for i in range(20, 40)]
    assert b" db=0 " in await db_after and conn.db == 0


async def test_reset_ends_pub_sub_mode(create_connection):
    conn = await create_connection()
    publisher = await create_connection()
    await conn.execute_pubsub(b"SUBSCRIBE", b"reset:chan")
    await conn.execute_pubsub(b"PSUBSCRIBE", b"reset:*")
    channel, pattern = conn.pubsub_channels[b"reset:chan"], conn.pubsub_patterns[b"reset:*"]
    assert conn.in_pubsub == 2
    waiting = asyncio.ensure_future(channel.get())
    assert await conn.reset() is True
    assert conn.in_pubsub == 0 and dict(conn.pubsub_channels) == {} and dict(conn.pubsub_patterns) == {}
    assert not channel.is_active and not pattern.is_active
    assert await waiting is None   # closed as on unsubscribe
    assert await conn.execute(b"ECHO", b"plain again") == b"plain again"
    assert await publisher.execute(b"PUBLISH", b"reset:chan", b"lost") == 0   # the server agrees


async def test_reset_inside_multi_clears_the_transaction(create_connection):
    conn = await create_connection()
    await conn.execute(b"DEL", b"reset:tx")
    await conn.execute(b"MULTI")
    assert await conn.execute(b"SET", b"reset:tx", b"1") == b"QUEUED"
    assert conn.in_transaction
    assert await conn.reset() is True
    assert not conn.in_transaction
    assert await conn.execute(b"GET", b"reset:tx") is None   # the queued SET never ran
    with pytest.raises(ReplyError, match="EXEC without MULTI"):
        await conn.execute(b"EXEC")


async def test_redis_reset_on_a_connection_and_refused_on_a_pool(create_connection, create_pool):
    single = aioredis_cy.Redis(await create_connection(db=4))
    assert await single.reset() is True
    assert single.db == 0
    pool = aioredis_cy.Redis(await create_pool(db=4, minsize=1))
    with pytest.raises(RedisError, match="single connection"):
        pool.reset()
    assert pool.db == 4 and await pool.echo("still") == b"still"
    with pytest.raises(RedisError, match="refused"):
        single.execute(b"RESET")   # plain RESET stays refused: reset() is the way


async def test_reset_refused_in_monitor_mode(create_connection):
    conn = await create_connection()
    lines = conn.monitor()
    first = asyncio.ensure_future(lines.__anext__())
    await asyncio.sleep(0)   # MONITOR is sent: the connection is in MONITOR mode from here
    with pytest.raises(RedisError, match="MONITOR mode"):
        conn.reset()
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    await lines.aclose()
    assert conn.closed
