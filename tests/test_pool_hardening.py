"""Pool hardening: one caller's cancellation never hurts others; select, execute and accounting."""
import asyncio
import gc
import logging

import pytest

from aioredis_cy.errors import MaxClientsError, ReplyError
from aioredis_cy.pool import ConnectionsPool

HANG = 10.0


async def test_cancelled_blocking_command_spares_shared_commands(create_pool):
    pool = await create_pool(minsize=4, maxsize=10)
    echoes = [pool.execute(b"ECHO", str(i)) for i in range(5000)]
    blpop = asyncio.ensure_future(pool.execute(b"BLPOP", "hardening:nothing", 0))
    await asyncio.sleep(0)
    more = [pool.execute(b"ECHO", str(i)) for i in range(5000, 10000)]
    blpop.cancel()
    results = await asyncio.wait_for(asyncio.gather(*echoes, *more, return_exceptions=True), HANG)
    assert results == [str(i).encode() for i in range(10000)]
    with pytest.raises(asyncio.CancelledError):
        await blpop


async def test_cancelled_blocking_command_closes_only_after_the_replies_owed_to_others(
        create_pool, fault_proxy):
    # The replies are held back, so the cancel is handled while the echoes still wait on the
    # connection the BLPOP took: it must stay open until they are in.
    proxy = await fault_proxy()
    pool = await create_pool(proxy.address, minsize=1, maxsize=1)
    proxy.hold()
    echoes = [pool.execute(b"ECHO", str(i)) for i in range(10)]
    blpop = asyncio.ensure_future(pool.execute(b"BLPOP", "hardening:nothing", 0))
    await asyncio.sleep(0)   # it takes the one connection, behind the echoes
    blpop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await blpop
    owed = b"".join(b"$1\r\n%d\r\n" % i for i in range(10)) + b"+PONG\r\n"
    assert await asyncio.wait_for(proxy.held(len(owed)), HANG) == owed
    proxy.release()
    assert await asyncio.wait_for(asyncio.gather(*echoes), HANG) == [b"%d" % i for i in range(10)]
    assert await asyncio.wait_for(pool.execute(b"PING"), HANG) == b"PONG"   # on a new connection


async def test_cancelled_select_is_all_or_nothing(create_pool):
    pool = await create_pool(minsize=3, maxsize=3)
    await pool.execute(b"SET", "hardening:db", "zero")
    task = asyncio.ensure_future(pool.select(1))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.db == 0
    for _ in range(6):
        assert await pool.execute(b"GET", "hardening:db") == b"zero"
    async with pool.get() as conn:
        assert conn.db == 0


async def test_select_refused_by_server_keeps_connections(create_pool):
    pool = await create_pool(minsize=2, maxsize=2)
    with pytest.raises(ReplyError):
        await pool.select(100000)
    assert pool.db == 0
    assert (pool.size, pool.freesize) == (2, 2)


async def test_execute_without_free_connection_is_sent_unawaited(create_pool):
    pool = await create_pool(minsize=1, maxsize=1)
    conn = await pool.acquire()
    fut = pool.execute(b"SET", "hardening:unawaited", "sent")
    assert isinstance(fut, asyncio.Future)
    del fut
    pool.release(conn)
    assert await pool.execute(b"GET", "hardening:unawaited") in (b"sent", None)
    for _ in range(100):
        if await pool.execute(b"GET", "hardening:unawaited") == b"sent":
            break
        await asyncio.sleep(0)
    assert await pool.execute(b"GET", "hardening:unawaited") == b"sent"


async def test_cancelled_waiting_execute_logs_nothing(create_pool, caplog):
    pool = await create_pool(minsize=1, maxsize=1)
    conn = await pool.acquire()
    futs = [pool.execute(b"ECHO", "x") for _ in range(20)]
    for fut in futs:
        fut.cancel()
    pool.release(conn)
    pool.close()
    await pool.wait_closed()
    del futs
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        gc.collect()
        await asyncio.sleep(0)
    assert "never retrieved" not in caplog.text


async def test_release_of_conn_on_other_db_stops_counting(create_pool):
    pool = await create_pool(minsize=1, maxsize=3)
    conn = await pool.acquire()
    await conn.execute(b"SELECT", 1)
    pool.release(conn)
    await conn.wait_closed()
    assert (pool.size, pool.freesize) == (0, 0)


async def test_clear_stops_counting_at_once(create_pool):
    pool = await create_pool(minsize=3, maxsize=3)
    await pool.clear()
    assert (pool.size, pool.freesize) == (0, 0)
    assert await pool.execute(b"PING") == b"PONG"


async def test_create_pool_at_maxclients_raises(create_pool, create_connection, start_server):
    full = start_server("maxclients", "maxclients 2")
    for _ in range(3):   # fill every place (one may still be held by an earlier test's client)
        try:
            holder = await create_connection(full.tcp_address)
            await holder.execute(b"PING")
        except MaxClientsError:
            break
    else:
        raise AssertionError("maxclients 2 never reached")
    with pytest.raises(MaxClientsError):
        await create_pool(full.tcp_address, minsize=2)


async def _client_names(conn):
    listing = await conn.execute(b"CLIENT", b"LIST")
    return [field[5:] for line in listing.decode().splitlines()
            for field in line.split() if field.startswith("name=")]


async def test_name_is_set_on_every_pool_connection(create_pool, create_connection):
    pool = await create_pool(minsize=2, maxsize=3, name="hardening-pool")
    conns = [await pool.acquire() for _ in range(3)]
    names = await _client_names(conns[0])
    assert names.count("hardening-pool") == 3
    for conn in conns:
        assert await conn.execute(b"CLIENT", b"GETNAME") == b"hardening-pool"
        pool.release(conn)
    single = await create_connection(name="hardening-conn")
    assert "hardening-conn" in await _client_names(single)


async def test_name_on_redis_factories(create_redis, create_redis_pool):
    redis = await create_redis(name="hardening-redis")
    assert await redis.client_getname() == b"hardening-redis"
    redis_pool = await create_redis_pool(name="hardening-redis-pool")
    assert await redis_pool.client_getname() == b"hardening-redis-pool"


async def test_health_check_drops_dead_idle_connection(create_pool):
    pool = await create_pool(minsize=1, maxsize=1, health_check_interval=0.001)
    conn = await pool.acquire()
    pool.release(conn)
    await asyncio.sleep(0.01)   # idle longer than the interval
    killer = await create_pool(minsize=1, maxsize=1)
    conn_id = await conn.execute(b"CLIENT", b"ID")
    assert await killer.execute(b"CLIENT", b"KILL", b"ID", conn_id) == 1
    async with pool.get() as fresh:   # the PING found the dead one: a new one is handed out
        assert fresh is not conn
        assert await fresh.execute(b"PING") == b"PONG"


def test_health_check_interval_is_checked():
    with pytest.raises(ValueError):
        ConnectionsPool(("localhost", 6379), minsize=1, maxsize=1, health_check_interval=0)


async def _pings(conn):
    stats = await conn.execute(b"INFO", b"commandstats")
    for line in stats.decode().splitlines():
        if line.startswith("cmdstat_ping:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


@pytest.mark.parametrize("interval, expected", [(0.001, 1), (3600, 0)])
async def test_health_check_pings_only_idle_connections(create_pool, start_server, interval, expected):
    own = start_server("health-check")
    pool = await create_pool(own.tcp_address, minsize=1, maxsize=1, name="hc",
                             health_check_interval=interval)
    conn = await pool.acquire()
    await conn.execute(b"CONFIG", b"RESETSTAT")
    pool.release(conn)
    await asyncio.sleep(0.01)   # idle longer than the short interval
    conn = await pool.acquire()
    assert await _pings(conn) == expected
    pool.release(conn)
