"""Faults: killed servers, cut and corrupted traffic, cancellation at every await point.

Each test checks the invariants of DESIGN.md: every reply reaches the future that
asked for it, nothing hangs, and failures are clear exceptions.
"""
import asyncio
import random

import pytest

from aioredis_cy import ConnectionClosedError, ProtocolError, RedisError

# An upper bound for "nothing hangs": generous, never a speed assertion.
HANG = 10


async def test_killed_server_fails_every_pending_command(create_connection, start_server):
    victim = start_server("victim-kill")
    conn = await create_connection(victim.tcp_address)
    blocked = conn.execute("BLPOP", "kill:list", 0)
    replies = [conn.execute("ECHO", str(i)) for i in range(100)]
    await asyncio.sleep(0.05)
    victim.kill()
    try:
        results = await asyncio.wait_for(asyncio.gather(*replies, return_exceptions=True), HANG)
        # Replies that arrived before the kill are the right ones; the rest failed clearly.
        for i, result in enumerate(results):
            assert result == str(i).encode() or isinstance(result, ConnectionClosedError)
        with pytest.raises(ConnectionClosedError):
            await asyncio.wait_for(blocked, HANG)
        await asyncio.wait_for(conn.wait_closed(), HANG)
        assert conn.closed
    finally:
        victim.start()


@pytest.mark.parametrize("encoding", [None, "utf-8"])
@pytest.mark.parametrize("cut_at", [1000, 60_000])
async def test_connection_cut_mid_reply(create_connection, fault_proxy, encoding, cut_at):
    # A big value is read in place (into its bytes or str); a cut leaves nothing half-made.
    proxy = await fault_proxy()
    conn = await create_connection(proxy.address, encoding=encoding)
    await conn.execute("SET", "cut:big", b"x" * 500_000)
    proxy.cut_after(cut_at)
    big = conn.execute("GET", "cut:big")
    after = conn.execute("PING")
    with pytest.raises(ConnectionClosedError):
        await asyncio.wait_for(big, HANG)
    with pytest.raises(ConnectionClosedError):
        await asyncio.wait_for(after, HANG)
    await asyncio.wait_for(conn.wait_closed(), HANG)


async def test_cut_while_idle_is_noticed(create_connection, fault_proxy):
    proxy = await fault_proxy()
    conn = await create_connection(proxy.address)
    assert await conn.execute("PING") == b"PONG"
    proxy.cut()
    await asyncio.wait_for(conn.wait_closed(), HANG)
    with pytest.raises(ConnectionClosedError):
        conn.execute("PING")


@pytest.mark.parametrize("garbage", [
    b"?what\r\n",
    b"$abc\r\n",
    b":12x\r\n",
    b"*-5\r\n",
    b"$-7\r\n",
])
async def test_garbage_reply_raises_protocol_error(create_connection, fault_proxy, garbage):
    proxy = await fault_proxy()
    conn = await create_connection(proxy.address)
    assert await conn.execute("PING") == b"PONG"
    proxy.corrupt_next_reply(garbage)
    first = conn.execute("GET", "garbage:key")
    with pytest.raises(ProtocolError):
        await asyncio.wait_for(first, HANG)
    await asyncio.wait_for(conn.wait_closed(), HANG)
    assert conn.closed
    with pytest.raises(ConnectionClosedError):
        conn.execute("PING")


async def test_garbage_fails_every_pending_command(create_connection, fault_proxy):
    proxy = await fault_proxy()
    conn = await create_connection(proxy.address)
    await conn.execute("PING")
    proxy.corrupt_next_reply(b"!!!\r\n")
    pending = [conn.execute("ECHO", str(i)) for i in range(10)]
    results = await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), HANG)
    assert all(isinstance(result, RedisError) for result in results)


async def test_cancellation_at_random_points_never_misroutes(create_connection, fault_proxy):
    """Many tasks SET/GET their own keys through a slow link while others get cancelled."""
    proxy = await fault_proxy()
    proxy.delay = 0.001
    conn = await create_connection(proxy.address)
    rng = random.Random(1234)

    async def owner(n):
        key = f"own:{n}"
        for round_ in range(5):
            value = f"{n}:{round_}"
            await conn.execute("SET", key, value)
            got = await conn.execute("GET", key)
            assert got == value.encode(), (key, got)

    tasks = [asyncio.ensure_future(owner(n)) for n in range(60)]
    for _ in range(40):
        await asyncio.sleep(rng.random() * 0.005)
        victim = rng.choice(tasks)
        victim.cancel()
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), HANG * 3)
    for result in results:
        assert result is None or isinstance(result, asyncio.CancelledError), result
    assert await conn.execute("ECHO", "in sync") == b"in sync"


async def test_cancel_each_pending_future_in_turn(create_connection):
    conn = await create_connection()
    for cancel_index in range(5):
        futures = [conn.execute("ECHO", f"{cancel_index}:{i}") for i in range(5)]
        futures[cancel_index].cancel()
        for i, future in enumerate(futures):
            if i == cancel_index:
                assert future.cancelled()
            else:
                assert await future == f"{cancel_index}:{i}".encode()


async def test_timeouts_under_load_keep_replies_matched(create_connection):
    conn = await create_connection()

    async def maybe_timeout(i):
        try:
            return await asyncio.wait_for(conn.execute("ECHO", str(i)), 0.0001 if i % 3 == 0 else HANG)
        except asyncio.TimeoutError:
            return None

    results = await asyncio.gather(*(maybe_timeout(i) for i in range(3000)))
    for i, result in enumerate(results):
        assert result is None or result == str(i).encode()
    assert await conn.execute("ECHO", "last") == b"last"


async def test_cancelled_error_is_propagated(create_connection):
    conn = await create_connection()

    async def blocked():
        await conn.execute("BLPOP", "cancel:never", 0)

    task = asyncio.ensure_future(blocked())
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The BLPOP still holds its slot: close the connection rather than wait for it.
    conn.close()
    await conn.wait_closed()
