"""Channel, Receiver and pub/sub through connections and pools, against real servers."""
import asyncio
import json
import logging

import pytest

import aioredis_cy
from aioredis_cy.abc import AbcChannel
from aioredis_cy.errors import (
    ChannelClosedError,
    ConnectionClosedError,
    RedisError,
)
from aioredis_cy.pubsub import Channel, Receiver

from .test_pool import HANG, eventually


async def collect(aiterable):
    return [item async for item in aiterable]


async def kill_pubsub_clients(conn):
    """Cut every pub/sub connection of the server, as a network failure would."""
    await conn.execute(b"CLIENT", b"KILL", b"TYPE", b"pubsub")


# -- Channel -------------------------------------------------------------------------


async def test_channel_attributes():
    ch = Channel("chan:1", is_pattern=False)
    assert isinstance(ch, AbcChannel)
    assert ch.name == b"chan:1"
    assert ch.is_pattern is False
    assert ch.is_active is True
    assert Channel(b"p*", True, loop=object()).is_pattern is True
    assert repr(ch) == "<Channel name:b'chan:1', is_pattern:False, qsize:0>"


async def test_channel_rejects_unsupported_names():
    with pytest.raises(TypeError):
        Channel(None, False)


async def test_channel_get_in_order_and_decoding():
    ch = Channel("c", False)
    for msg in (b"one", b"\xc3\xa9", b'{"a": 1}', b"[1, 2]"):
        ch.put_nowait(msg)
    assert await ch.get() == b"one"
    assert await ch.get(encoding="utf-8") == "é"
    assert await ch.get_json() == {"a": 1}
    assert await ch.get(decoder=json.loads) == [1, 2]


async def test_pattern_channel_returns_target_and_message():
    ch = Channel("news.*", True)
    ch.put_nowait((b"news.it", b"hello"))
    ch.put_nowait((b"news.fr", b'{"x": null}'))
    assert await ch.get(encoding="utf-8") == (b"news.it", "hello")
    assert await ch.get_json() == (b"news.fr", {"x": None})


async def test_get_rejects_bad_decoder():
    ch = Channel("c", False)
    ch.put_nowait(b"x")
    with pytest.raises(TypeError):
        await ch.get(decoder="json")
    with pytest.raises(TypeError):
        ch.iter(decoder=1)
    assert await ch.get() == b"x"


async def test_blocked_get_wakes_on_put():
    ch = Channel("c", False)
    reader = asyncio.ensure_future(ch.get())
    await asyncio.sleep(0)
    assert not reader.done()
    ch.put_nowait(b"late")
    assert await asyncio.wait_for(reader, HANG) == b"late"


async def test_close_drains_then_ends():
    ch = Channel("c", False)
    ch.put_nowait(b"a")
    ch.put_nowait(b"b")
    ch.close()
    ch.put_nowait(b"ignored after close")
    assert ch.is_active
    assert await ch.wait_message() is True
    assert await ch.get() == b"a"
    assert await ch.get() == b"b"
    assert not ch.is_active
    assert await ch.wait_message() is False
    with pytest.raises(ChannelClosedError):
        await ch.get()
    with pytest.raises(ChannelClosedError):
        await ch.get()
    assert await collect(ch.iter()) == []


async def test_blocked_readers_wake_on_unsubscribe():
    ch = Channel("c", False)
    getter = asyncio.ensure_future(ch.get())
    waiter = asyncio.ensure_future(ch.wait_message())
    iterator = asyncio.ensure_future(collect(ch.iter()))
    await asyncio.sleep(0)
    ch.close()
    assert await asyncio.wait_for(getter, HANG) is None
    assert await asyncio.wait_for(waiter, HANG) is False
    assert await asyncio.wait_for(iterator, HANG) == []
    with pytest.raises(ChannelClosedError):
        await ch.get()


async def test_connection_loss_makes_get_raise_after_buffered_messages():
    ch = Channel("c", False)
    lost = ConnectionClosedError("lost")
    ch.put_nowait(b"kept")
    ch.close(lost)
    ch.close()   # a second close changes nothing
    assert await ch.get() == b"kept"
    with pytest.raises(ChannelClosedError) as info:
        await ch.get()
    assert info.value.__cause__ is lost
    assert await ch.wait_message() is False


async def test_blocked_readers_wake_on_connection_loss():
    ch = Channel("c", False)
    getter = asyncio.ensure_future(ch.get())
    iterator = asyncio.ensure_future(collect(ch.iter()))
    waiter = asyncio.ensure_future(ch.wait_message())
    await asyncio.sleep(0)
    lost = ConnectionClosedError("lost")
    ch.close(lost)
    assert await asyncio.wait_for(getter, HANG) is None   # end of stream, as in 1.x
    assert await asyncio.wait_for(iterator, HANG) == []
    assert await asyncio.wait_for(waiter, HANG) is False
    assert ch.is_active is False
    with pytest.raises(ChannelClosedError, match="Connection lost") as info:
        await ch.get()
    assert info.value.__cause__ is lost


async def test_wait_message_loop():
    ch = Channel("c", False)
    received = []

    async def reader():
        while await ch.wait_message():
            received.append(await ch.get(encoding="ascii"))

    task = asyncio.ensure_future(reader())
    for i in range(3):
        ch.put_nowait(str(i).encode())
        await asyncio.sleep(0)
    ch.close()
    await asyncio.wait_for(task, HANG)
    assert received == ["0", "1", "2"]


async def test_iter_does_not_stop_on_messages_decoding_to_none():
    ch = Channel("c", False)
    for msg in (b"1", b"null", b"2"):
        ch.put_nowait(msg)
    ch.close()
    assert await collect(ch.iter(decoder=json.loads)) == [1, None, 2]


async def test_many_readers_and_a_cancelled_one():
    ch = Channel("c", False)
    readers = [asyncio.ensure_future(ch.get()) for _ in range(3)]
    await asyncio.sleep(0)
    readers[0].cancel()
    await asyncio.sleep(0)
    ch.put_nowait(b"x")
    ch.put_nowait(b"y")
    done = await asyncio.wait_for(asyncio.gather(*readers[1:]), HANG)
    assert sorted(done) == [b"x", b"y"]
    assert readers[0].cancelled()
    assert ch._readers == []


async def test_reader_cancelled_repeatedly_leaves_no_waiters():
    ch = Channel("c", False)
    for _ in range(5):
        reader = asyncio.ensure_future(ch.get())
        await asyncio.sleep(0)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader
    assert ch._readers == []
    ch.put_nowait(b"still works")
    assert await ch.get() == b"still works"


# -- Receiver ------------------------------------------------------------------------


async def test_receiver_senders():
    mpsc = Receiver(loop=object())
    a = mpsc.channel("a")
    assert mpsc.channel(b"a") is a
    p = mpsc.pattern("p*")
    assert mpsc.pattern("p*") is p
    assert isinstance(a, AbcChannel) and isinstance(p, AbcChannel)
    assert (a.name, a.is_pattern, a.is_active) == (b"a", False, True)
    assert (p.name, p.is_pattern) == (b"p*", True)
    assert dict(mpsc.channels) == {b"a": a}
    assert dict(mpsc.patterns) == {b"p*": p}
    assert mpsc.is_active
    assert "Receiver" in repr(mpsc) and "_Sender" in repr(a)
    with pytest.raises(RuntimeError):
        await a.get()
    with pytest.raises(TypeError):
        mpsc.channel(None)


async def test_receiver_get_decodes_per_sender():
    mpsc = Receiver()
    a, p = mpsc.channel("a"), mpsc.pattern("p*")
    a.put_nowait(b"1")
    p.put_nowait((b"p1", b"2"))
    a.put_nowait(b'"three"')
    assert await mpsc.wait_message() is True
    assert await mpsc.get() == (a, b"1")
    assert await mpsc.get(encoding="utf-8") == (p, (b"p1", "2"))
    assert await mpsc.get(decoder=json.loads) == (a, "three")
    with pytest.raises(TypeError):
        await mpsc.get(decoder=42)


async def test_receiver_stops_when_last_sender_closes():
    mpsc = Receiver()
    a, b = mpsc.channel("a"), mpsc.channel("b")
    getter = asyncio.ensure_future(mpsc.get())
    await asyncio.sleep(0)
    a.close()
    a.close()
    assert not a.is_active and mpsc.is_active
    assert dict(mpsc.channels) == {b"b": b}
    b.put_nowait(b"last")
    assert await asyncio.wait_for(getter, HANG) == (b, b"last")
    waiter = asyncio.ensure_future(mpsc.wait_message())
    await asyncio.sleep(0)
    b.close()
    assert await asyncio.wait_for(waiter, HANG) is False
    assert not mpsc.is_active
    with pytest.raises(ChannelClosedError):
        await mpsc.get()


async def test_receiver_stop_wakes_reader_and_drops_later_messages(caplog):
    mpsc = Receiver()
    a = mpsc.channel("a")
    a.put_nowait(b"before")
    iterator = asyncio.ensure_future(collect(mpsc.iter(encoding="utf-8")))
    await asyncio.sleep(0)
    mpsc.stop()
    with caplog.at_level(logging.WARNING, logger="aioredis_cy"):
        a.put_nowait(b"after")
    assert "after stop" in caplog.text
    assert await asyncio.wait_for(iterator, HANG) == [(a, "before")]
    assert await mpsc.wait_message() is False
    blocked = Receiver()
    blocked.channel("x")
    getter = asyncio.ensure_future(blocked.get())
    await asyncio.sleep(0)
    blocked.stop()
    assert await asyncio.wait_for(getter, HANG) is None


async def test_receiver_on_close_callback():
    calls = []
    mpsc = Receiver(on_close=lambda ch, exc=None: calls.append((ch, exc)))
    a = mpsc.channel("a")
    lost = ConnectionClosedError("lost")
    a.close(lost)
    assert calls == [(a, lost)]
    assert not mpsc._closed   # a custom on_close decides itself when to stop
    with pytest.raises(TypeError):
        Receiver(on_close="nope")


# -- pub/sub on a connection ------------------------------------------------------------


async def test_connection_subscribe_and_receive(create_connection):
    sub = await create_connection()
    pub = await create_connection()
    ch = Channel("conn:a", False)
    assert await sub.execute_pubsub("subscribe", ch, "conn:b") == [
        [b"subscribe", b"conn:a", 1], [b"subscribe", b"conn:b", 2]]
    assert sub.in_pubsub == 2
    assert sub.pubsub_channels[b"conn:a"] is ch
    ch_b = sub.pubsub_channels[b"conn:b"]
    await pub.execute("publish", "conn:a", "hello")
    await pub.execute("publish", "conn:b", "world")
    assert await asyncio.wait_for(ch.get(), HANG) == b"hello"
    assert await asyncio.wait_for(ch_b.get(encoding="utf-8"), HANG) == "world"
    getter = asyncio.ensure_future(ch.get())
    assert await sub.execute_pubsub("unsubscribe", "conn:a") == [[b"unsubscribe", b"conn:a", 1]]
    assert await asyncio.wait_for(getter, HANG) is None
    assert not ch.is_active and ch_b.is_active
    if sub.protocol_version == 3:
        assert await sub.execute("GET", "conn:x") is None   # RESP3: commands run while subscribed
    else:
        with pytest.raises(RedisError):
            sub.execute("GET", "x")


async def test_connection_pattern_subscribe(create_connection):
    sub = await create_connection()
    pub = await create_connection()
    await sub.execute_pubsub("psubscribe", "pat:*")
    ch = sub.pubsub_patterns[b"pat:*"]
    assert ch.is_pattern
    await pub.execute("publish", "pat:1", "x")
    assert await asyncio.wait_for(ch.get(), HANG) == (b"pat:1", b"x")
    await sub.execute_pubsub("punsubscribe", "pat:*")
    assert await asyncio.wait_for(ch.wait_message(), HANG) is False


async def test_connection_sharded_subscribe(create_connection, server):
    if server.version < (7,):
        pytest.skip("sharded pub/sub needs Redis 7")
    sub = await create_connection()
    pub = await create_connection()
    assert await sub.execute_pubsub("ssubscribe", "shard:a") == [[b"ssubscribe", b"shard:a", 1]]
    ch = sub.pubsub_channels[b"shard:a"]
    assert await pub.execute("spublish", "shard:a", "m1") == 1
    assert await asyncio.wait_for(ch.get(), HANG) == b"m1"
    assert await sub.execute_pubsub("sunsubscribe", "shard:a") == [[b"sunsubscribe", b"shard:a", 0]]
    assert not ch.is_active


async def test_receiver_through_connection(create_connection):
    sub = await create_connection()
    pub = await create_connection()
    mpsc = Receiver()
    a, p = mpsc.channel("rcv:a"), mpsc.pattern("rcv:p*")
    await sub.execute_pubsub("subscribe", a)
    await sub.execute_pubsub("psubscribe", p)
    await pub.execute("publish", "rcv:a", "1")
    await pub.execute("publish", "rcv:p1", "2")
    assert await asyncio.wait_for(mpsc.get(), HANG) == (a, b"1")
    assert await asyncio.wait_for(mpsc.get(), HANG) == (p, (b"rcv:p1", b"2"))
    await sub.execute_pubsub("unsubscribe", a)
    await sub.execute_pubsub("punsubscribe", p)
    assert await asyncio.wait_for(mpsc.wait_message(), HANG) is False
    assert not mpsc.is_active


async def test_connection_cut_while_messages_flow(create_connection):
    sub = await create_connection()
    pub = await create_connection()
    admin = await create_connection()
    await sub.execute_pubsub("subscribe", "cut:a")
    await sub.execute_pubsub("psubscribe", "cut:*")
    ch, pattern = sub.pubsub_channels[b"cut:a"], sub.pubsub_patterns[b"cut:*"]
    received = []

    async def read_all():
        while True:   # the aioredis 1.x loop: None is the end of the stream
            msg = await ch.get()
            if msg is None:
                break
            received.append(msg)
        with pytest.raises(ChannelClosedError) as info:
            await ch.get()
        return info.value

    reader = asyncio.ensure_future(read_all())
    pattern_reader = asyncio.ensure_future(collect(pattern.iter()))
    publishing = True

    async def publisher():
        i = 0
        while publishing:
            await pub.execute("publish", "cut:a", str(i))
            i += 1

    producer = asyncio.ensure_future(publisher())
    await eventually(lambda: len(received) >= 50)
    await kill_pubsub_clients(admin)
    error = await asyncio.wait_for(reader, HANG)
    assert isinstance(error.__cause__, ConnectionClosedError)
    pattern_received = await asyncio.wait_for(pattern_reader, HANG)
    publishing = False
    await producer
    assert received == [str(i).encode() for i in range(len(received))]
    # The cut may fall between a message and its pattern copy.
    assert len(pattern_received) >= len(received) - 1
    assert sub.closed and not ch.is_active and not pattern.is_active
    assert sub.in_pubsub == 0 and not sub.pubsub_channels


async def test_close_connection_closes_channels(create_connection):
    sub = await create_connection()
    await sub.execute_pubsub("subscribe", "closing:a")
    ch = sub.pubsub_channels[b"closing:a"]
    getter = asyncio.ensure_future(ch.get())
    await asyncio.sleep(0)
    sub.close()
    assert await asyncio.wait_for(getter, HANG) is None   # end of stream, as in 1.x
    assert ch.is_active is False
    assert await ch.wait_message() is False
    with pytest.raises(ChannelClosedError):
        await ch.get()


async def test_aioredis1_reader_loop_ends_on_close(create_connection):
    """The loop 1.x code uses ends cleanly when the user closes the connection."""
    sub = await create_connection()
    pub = await create_connection()
    await sub.execute_pubsub("subscribe", "closing:loop")
    ch = sub.pubsub_channels[b"closing:loop"]
    received = []

    async def reader():
        while True:
            msg = await ch.get()
            if msg is None:
                break
            received.append(msg)

    task = asyncio.ensure_future(reader())
    for i in range(3):
        await pub.execute("publish", "closing:loop", str(i))
    await eventually(lambda: len(received) == 3)
    sub.close()   # while the reader waits in get()
    await asyncio.wait_for(task, HANG)
    assert received == [b"0", b"1", b"2"] and not ch.is_active


# -- pub/sub on a pool -----------------------------------------------------------------


async def test_pool_uses_one_dedicated_pubsub_connection(create_pool):
    pool = await create_pool(minsize=2, maxsize=3)
    assert pool.in_pubsub == 0
    assert dict(pool.pubsub_channels) == {} and dict(pool.pubsub_patterns) == {}
    res = await pool.execute_pubsub("subscribe", "pool:a")
    assert res == [[b"subscribe", b"pool:a", 1]]
    conn = pool._pubsub_conn
    assert pool.freesize == 1 and pool.size == 2
    await pool.execute_pubsub("psubscribe", "pool:*")
    await pool.execute("subscribe", "pool:b")   # routed to the pub/sub connection
    assert pool._pubsub_conn is conn
    assert pool.in_pubsub == 3
    assert set(pool.pubsub_channels) == {b"pool:a", b"pool:b"}
    assert set(pool.pubsub_patterns) == {b"pool:*"}
    assert pool.get_connection("SUBSCRIBE") == (conn, conn.address)
    assert await pool.execute("publish", "pool:a", "m") == 2
    assert await asyncio.wait_for(pool.pubsub_channels[b"pool:a"].get(), HANG) == b"m"
    assert await asyncio.wait_for(pool.pubsub_patterns[b"pool:*"].get(), HANG) == (b"pool:a", b"m")
    await pool.execute_pubsub("unsubscribe", "pool:a", "pool:b")
    await pool.execute_pubsub("punsubscribe", "pool:*")
    assert pool.in_pubsub == 0
    assert pool._pubsub_conn is conn   # stays dedicated to pub/sub
    assert await pool.execute("ping") == b"PONG"


async def test_pool_pubsub_waits_for_a_connection_when_none_is_free(create_pool):
    pool = await create_pool(minsize=0, maxsize=2)
    assert pool.size == 0
    first, second = await asyncio.gather(
        pool.execute_pubsub("subscribe", "wait:a"), pool.execute_pubsub("subscribe", "wait:b"))
    assert first[0][:2] == [b"subscribe", b"wait:a"] and second[0][:2] == [b"subscribe", b"wait:b"]
    assert pool.in_pubsub == 2
    assert pool.size == 2 and pool.freesize == 1


async def test_pool_pubsub_connection_lost(create_pool, create_connection):
    pool = await create_pool(minsize=1, maxsize=3)
    admin = await create_connection()
    await pool.execute_pubsub("subscribe", "lost:a")
    ch = pool.pubsub_channels[b"lost:a"]
    old = pool._pubsub_conn
    getter = asyncio.ensure_future(ch.get())
    await kill_pubsub_clients(admin)
    assert await asyncio.wait_for(getter, HANG) is None
    assert pool.in_pubsub == 0 and dict(pool.pubsub_channels) == {}
    await eventually(lambda: old not in pool._conns)
    # No automatic re-subscription; a new subscription gets a new connection.
    await pool.execute_pubsub("subscribe", "lost:b")
    assert pool._pubsub_conn is not old and set(pool.pubsub_channels) == {b"lost:b"}
    assert await pool.execute("publish", "lost:b", "x") == 1
    assert pool.size <= pool.maxsize


async def test_100k_messages_in_order(server):
    total, batch = 100_000, 2_000
    pool = await aioredis_cy.create_pool(server.tcp_address, minsize=2, maxsize=4)
    try:
        await pool.execute_pubsub("subscribe", "bulk")
        ch = pool.pubsub_channels[b"bulk"]
        received = []

        async def reader():
            async for msg in ch.iter():
                received.append(msg)
                if len(received) == total:
                    return

        task = asyncio.ensure_future(reader())
        for start in range(0, total, batch):
            counts = await asyncio.gather(
                *[pool.execute("PUBLISH", "bulk", i) for i in range(start, start + batch)])
            assert counts == [1] * batch
        await asyncio.wait_for(task, HANG)
        assert received == [str(i).encode() for i in range(total)]
    finally:
        pool.close()
        await pool.wait_closed()


# -- bound and flow control ------------------------------------------------------------


def test_channel_bound_is_validated():
    assert Channel("c", False)._maxsize == 10_000
    for bad in (0, -1, 1.5, True, None):
        with pytest.raises(ValueError):
            Channel("c", False, maxsize=bad)
    with pytest.raises(ValueError):
        Receiver(maxsize=0)


@pytest.mark.parametrize("use_receiver", [False, True])
async def test_reading_pauses_at_the_bound_and_resumes_when_drained(create_connection, use_receiver):
    sub = await create_connection()
    pub = await create_connection()
    if use_receiver:
        queue = Receiver(maxsize=50)
        await sub.execute_pubsub("subscribe", queue.channel("bound:a"))
    else:
        queue = Channel("bound:a", False, maxsize=50)
        await sub.execute_pubsub("subscribe", queue)
    total, pad = 400, b"." * 10_000
    for i in range(total):
        pub.execute("publish", "bound:a", b"%d:%s" % (i, pad))
    await pub.execute("PING")   # every message is published
    await eventually(lambda: sub._protocol.reading_paused)
    assert len(queue._items) < 50 + 100   # the bound, plus what one read held beyond it
    received = []
    while len(received) < total:
        item = await asyncio.wait_for(queue.get(), HANG)
        received.append(item[1] if use_receiver else item)
    assert received == [b"%d:%s" % (i, pad) for i in range(total)]
    assert not sub._protocol.reading_paused


async def test_slow_subscriber_disconnected_by_the_server_is_told_why(start_server, create_connection):
    limited = start_server("pubsub-limit", "client-output-buffer-limit pubsub 1mb 0 0")
    sub = await create_connection(limited.tcp_address)
    pub = await create_connection(limited.tcp_address)
    ch = Channel("slow:a", False, maxsize=20)
    await sub.execute_pubsub("subscribe", ch)
    # Small enough that Valkey copies it into each output buffer (bigger bulk strings are shared
    # by reference there, and count late against the limit).
    payload = b"x" * 8_000
    sent = 0
    while await pub.execute("publish", "slow:a", payload) == 1:   # until the server drops us
        sent += 1
        assert sent < 20_000, "the server never applied its output buffer limit"
    one_read = 256 * 1024 // len(payload) + 1
    assert len(ch._items) < 20 + one_read   # held back by the bound, not by the client's memory
    received = 0
    while await asyncio.wait_for(ch.wait_message(), HANG):   # an aioredis 1.x reader loop
        assert await ch.get() == payload
        received += 1
    assert 20 <= received < sent
    with pytest.raises(ChannelClosedError, match=f"after {received} messages.*client-output-buffer-limit"):
        await ch.get()
