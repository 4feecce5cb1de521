"""ConnectionsPool and create_pool against real servers: routing, accounting, failures."""
import asyncio
import inspect
import logging
import random

import pytest

import aioredis_cy
from aioredis_cy.abc import AbcPool
from aioredis_cy.errors import (
    AuthError,
    ConnectionClosedError,
    ConnectionForcedCloseError,
    PoolClosedError,
    RedisError,
    ReplyError,
)
from aioredis_cy.locks import Lock
from aioredis_cy.pool import ConnectionsPool

# Upper bound for anything that must not hang; never reached when the code is right.
HANG = 10.0


async def eventually(predicate, what="condition"):
    """Wait (yielding to the loop) until ``predicate()`` (sync or async) is true."""
    for attempt in range(3000):
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0 if attempt < 50 else 0.005)
    raise AssertionError(f"{what} never became true")


async def assert_accounted(pool):
    """At rest: every open connection is free, taken or the pub/sub one, within maxsize."""
    assert pool.size <= pool.maxsize
    # A dropped connection stays counted until its watcher sees it closed: wait for that too.
    await eventually(lambda: not pool._releasing and not pool._creating
                     and not any(conn.closed for conn in pool._conns), "releases settled")
    pubsub = {pool._pubsub_conn} if pool._pubsub_conn is not None else set()
    assert set(pool._free) | pool._used | pubsub == pool._conns
    assert pool.size == pool.freesize + len(pool._used) + len(pubsub)
    assert all(not conn.closed for conn in pool._conns)


async def blocked_clients(conn):
    info = await conn.execute(b"INFO", b"clients", encoding="utf-8")
    return int(info.split("blocked_clients:")[1].split()[0])


async def no_blocked_clients(conn):
    return await blocked_clients(conn) == 0


async def connected_clients(conn):
    info = await conn.execute(b"INFO", b"clients", encoding="utf-8")
    return int(info.split("connected_clients:")[1].split()[0])


# -- creation and attributes --------------------------------------------------------


async def test_defaults_and_attributes(create_pool, server):
    pool = await create_pool()
    assert isinstance(pool, ConnectionsPool) and isinstance(pool, AbcPool)
    assert (pool.minsize, pool.maxsize, pool.size, pool.freesize) == (1, 10, 1, 1)
    assert pool.db == 0 and pool.encoding is None and not pool.closed
    assert pool.address == server.tcp_address
    assert repr(pool) == "<ConnectionsPool [db:0, size:[1:10], free:1]>"
    assert await pool.execute("PING") == b"PONG"
    await assert_accounted(pool)


async def test_minsize_connections_are_opened(create_pool):
    pool = await create_pool(minsize=3, maxsize=4)
    assert (pool.size, pool.freesize) == (3, 3)
    empty = await create_pool(minsize=0, maxsize=1)
    assert empty.size == 0
    assert await empty.execute("PING") == b"PONG"
    assert (empty.size, empty.freesize) == (1, 1)


@pytest.mark.parametrize("kwargs, error", [
    ({"maxsize": 0}, ValueError),
    ({"maxsize": -1}, ValueError),
    ({"maxsize": None}, TypeError),
    ({"maxsize": 2.5}, TypeError),
    ({"minsize": -1}, ValueError),
    ({"minsize": "1"}, TypeError),
    ({"minsize": True}, TypeError),
    ({"minsize": 3, "maxsize": 2}, ValueError),
    ({"create_connection_timeout": 0}, ValueError),
    ({"create_connection_timeout": -1.0}, ValueError),
    ({"pool_cls": dict}, TypeError),
    ({"connection_cls": object}, TypeError),
])
async def test_invalid_arguments(create_pool, kwargs, error):
    with pytest.raises(error):
        await create_pool(**kwargs)


async def test_uri_options(create_pool, server):
    pool = await create_pool(server.url + "/2?encoding=utf-8", loop=object())
    assert pool.db == 2 and pool.encoding == "utf-8"
    assert pool.address == server.tcp_address
    await pool.execute("SET", "pool:uri", "é")
    assert await pool.execute("GET", "pool:uri") == "é"
    assert await pool.execute("GET", "pool:uri", encoding=None) == "é".encode()
    async with pool.get() as conn:
        assert conn.db == 2
    with pytest.raises(ValueError):
        await create_pool(server.url + "/2", db=3)


async def test_unix_socket(create_pool, server):
    pool = await create_pool(server.unix_socket)
    assert pool.address == server.unix_socket
    assert await pool.execute("PING") == b"PONG"


async def test_custom_pool_cls(create_pool):
    class MyPool(ConnectionsPool):
        pass

    pool = await create_pool(pool_cls=MyPool)
    assert type(pool) is MyPool


async def test_connect_failure_leaves_nothing_open(create_pool):
    from aioredis_cy._server import free_port

    with pytest.raises(OSError):
        await create_pool(("127.0.0.1", free_port()))


async def test_create_connection_timeout(create_pool, fault_proxy):
    proxy = await fault_proxy()
    proxy.delay = HANG
    with pytest.raises(asyncio.TimeoutError):
        await create_pool(proxy.address, db=1, create_connection_timeout=0.2)
    pool = await create_pool(proxy.address, minsize=0, db=1, create_connection_timeout=0.2)
    with pytest.raises(asyncio.TimeoutError):
        await pool.execute("PING")
    assert pool.size == 0


# -- shared mode ---------------------------------------------------------------------


async def test_concurrent_commands_share_one_connection(create_pool):
    pool = await create_pool(minsize=1, maxsize=10)
    await pool.execute("DEL", "pool:shared")
    results = await asyncio.gather(*[pool.execute("INCR", "pool:shared") for _ in range(1000)])
    assert sorted(results) == list(range(1, 1001))
    assert pool.size == 1


async def test_free_connections_take_turns(create_pool):
    pool = await create_pool(minsize=3, maxsize=3)
    ids = await asyncio.gather(*[pool.execute("CLIENT", "ID") for _ in range(6)])
    assert len(set(ids[:3])) == 3
    assert ids[3:] == ids[:3]


async def test_get_connection(create_pool):
    pool = await create_pool(minsize=1, maxsize=2)
    conn, address = pool.get_connection("GET")
    assert address == conn.address and pool.freesize == 1
    assert pool.get_connection(b"blpop") == (None, pool.address)
    assert pool.get_connection("XREAD", ("BLOCK", 0, "STREAMS", "s", "$")) == (None, pool.address)
    assert pool.get_connection("XREAD", ("STREAMS", "s", "0"))[0] is conn
    assert pool.get_connection("MULTI") == (None, pool.address)
    async with pool.get():
        assert pool.get_connection("GET") == (None, pool.address)


async def test_execute_waits_when_every_connection_is_taken(create_pool):
    pool = await create_pool(minsize=1, maxsize=1)
    conn = await pool.acquire()
    task = pool.execute("PING")
    assert isinstance(task, asyncio.Future)   # sent when a connection frees up, awaited or not
    await asyncio.sleep(0)
    assert not task.done()
    pool.release(conn)
    assert await asyncio.wait_for(task, HANG) == b"PONG"
    await assert_accounted(pool)


async def test_bad_arguments_fail_without_losing_connections(create_pool):
    pool = await create_pool(minsize=1, maxsize=1)
    with pytest.raises(TypeError):
        pool.execute("SET", "key", None)
    conn = await pool.acquire()
    waiting = pool.execute("SET", "key", None)
    pool.release(conn)
    with pytest.raises(TypeError):
        await waiting
    assert await pool.execute("PING") == b"PONG"
    await assert_accounted(pool)


@pytest.mark.parametrize("command", ["MULTI", "exec", b"DISCARD", "Watch", b"select"])
async def test_state_changing_commands_are_refused(create_pool, command):
    pool = await create_pool()
    with pytest.raises(RedisError, match="shared pool connection"):
        pool.execute(command, "x")
    assert await pool.execute("PING") == b"PONG"


# -- blocking commands ----------------------------------------------------------------


BLOCKING = [
    ("BLPOP", ("{k}", 0)),
    ("BRPOP", ("{k}", 0)),
    ("BRPOPLPUSH", ("{k}", "{k}:dst", 0)),
    ("BLMOVE", ("{k}", "{k}:dst", "LEFT", "RIGHT", 0)),
    ("BLMPOP", (0, 1, "{k}", "LEFT")),
    ("BZPOPMIN", ("{k}", 0)),
    ("BZPOPMAX", ("{k}", 0)),
    ("BZMPOP", (0, 1, "{k}", "MIN")),
    ("XREAD", ("BLOCK", 0, "STREAMS", "{k}", "$")),
    ("xreadgroup", ("GROUP", "grp", "consumer", "BLOCK", 0, "STREAMS", "{k}", ">")),
    ("WAIT", (1, 0)),
    ("WAITAOF", (0, 1, 0)),
]


@pytest.mark.parametrize("command, args", BLOCKING, ids=[c for c, _ in BLOCKING])
async def test_blocking_command_runs_alone_and_is_dropped_when_cancelled(
        create_pool, create_connection, server, command, args):
    if command == "WAITAOF" and server.version < (7, 2):
        pytest.skip("WAITAOF needs Redis 7.2")
    admin = await create_connection()
    key = f"pool:blocking:{command}"
    await admin.execute("DEL", key)
    if command == "xreadgroup":
        await admin.execute("XGROUP", "CREATE", key, "grp", "$", "MKSTREAM")
    pool = await create_pool(minsize=1, maxsize=2)
    blocked = asyncio.ensure_future(pool.execute(command, *[key if a == "{k}" else a for a in args]))
    await eventually(lambda: blocked_clients(admin), "the command blocking on the server")
    # Shared traffic goes on while the command blocks.
    assert await asyncio.wait_for(pool.execute("PING"), HANG) == b"PONG"
    assert pool.size == 2 and pool.freesize == 1
    blocked.cancel()
    with pytest.raises(asyncio.CancelledError):
        await blocked
    await eventually(lambda: pool.size == 1, "the blocked connection dropped")
    await eventually(lambda: no_blocked_clients(admin), "the server side closed")
    assert await pool.execute("PING") == b"PONG"
    await assert_accounted(pool)


async def test_blocking_command_result_and_connection_reuse(create_pool):
    pool = await create_pool(minsize=1, maxsize=2)
    await pool.execute("DEL", "pool:blpop")
    blocked = asyncio.ensure_future(pool.execute("BLPOP", "pool:blpop", 0))
    await eventually(lambda: pool.freesize == 0, "BLPOP taking the free connection")
    assert await pool.execute("RPUSH", "pool:blpop", "v") == 1
    assert await asyncio.wait_for(blocked, HANG) == [b"pool:blpop", b"v"]
    assert (pool.size, pool.freesize) == (2, 2)
    assert await pool.execute("XREAD", "STREAMS", "pool:nostream", "0") is None
    await assert_accounted(pool)


# -- acquire and release ---------------------------------------------------------------


async def test_acquire_and_release(create_pool, create_connection):
    pool = await create_pool(minsize=1, maxsize=2)
    conn = await pool.acquire()
    assert (pool.size, pool.freesize) == (1, 0)
    assert await conn.execute("PING") == b"PONG"
    assert await pool.execute("PING") == b"PONG"   # opens a second connection
    assert (pool.size, pool.freesize) == (2, 1)
    pool.release(conn)
    assert (pool.size, pool.freesize) == (2, 2)
    with pytest.raises(ValueError):
        pool.release(conn)
    with pytest.raises(ValueError):
        pool.release(await create_connection())
    await assert_accounted(pool)


async def test_context_managers(create_pool):
    pool = await create_pool(minsize=1, maxsize=2)
    with await pool as conn:
        assert pool.freesize == 0
        assert await conn.execute("PING") == b"PONG"
    assert pool.freesize == 1
    async with pool.get() as conn:
        assert pool.freesize == 0
        assert await conn.execute("ECHO", "x") == b"x"
    assert pool.freesize == 1
    with pytest.raises(ZeroDivisionError):
        async with pool.get():
            raise ZeroDivisionError
    assert pool.freesize == 1   # back at once, though nothing was awaited inside
    assert pool.size == 1
    with pytest.raises(RuntimeError):
        with pool:
            pass
    await assert_accounted(pool)


async def _select_other_db(conn):
    await conn.select(1)


async def _begin_transaction(conn):
    await conn.execute("MULTI")


async def _subscribe(conn):
    await conn.execute_pubsub("SUBSCRIBE", "pool:release")


async def _leave_reply_pending(conn):
    pending = conn.execute("BLPOP", "pool:release:empty", 0)
    pending.add_done_callback(lambda fut: fut.exception())


@pytest.mark.parametrize("spoil", [_select_other_db, _begin_transaction, _subscribe, _leave_reply_pending])
async def test_release_drops_unclean_connections(create_pool, spoil, caplog):
    pool = await create_pool(minsize=1, maxsize=2)
    conn = await pool.acquire()
    await spoil(conn)
    with caplog.at_level(logging.WARNING, logger="aioredis_cy"):
        pool.release(conn)
        await eventually(lambda: conn.closed, "the connection closed")
    assert "closing it" in caplog.text
    assert pool.freesize == 0
    await eventually(lambda: pool.size == 0, "the dropped connection forgotten")
    assert await pool.execute("PING") == b"PONG"
    await assert_accounted(pool)


async def test_release_of_closed_connection(create_pool):
    pool = await create_pool(minsize=1, maxsize=2)
    conn = await pool.acquire()
    conn.close()
    pool.release(conn)
    await eventually(lambda: pool.size == 0)
    assert await pool.execute("PING") == b"PONG"


async def test_release_forgets_watched_keys(create_pool, create_connection):
    pool = await create_pool(minsize=1, maxsize=1)
    other = await create_connection()
    with await pool as conn:
        await conn.execute("WATCH", "pool:watched")
    await other.execute("SET", "pool:watched", "changed")
    with await pool as same:
        assert same is conn
        assert await same.execute("MULTI") == b"OK"
        assert await same.execute("SET", "pool:watched", "mine") == b"QUEUED"
        assert await same.execute("EXEC") == [b"OK"]


async def test_release_counts_free_at_once(create_pool):
    pool = await create_pool(minsize=3, maxsize=3)
    conns = [await pool.acquire() for _ in range(3)]
    assert (pool.size, pool.freesize) == (3, 0)
    for conn in conns:
        pool.release(conn)
    assert (pool.size, pool.freesize) == (3, 3)
    await assert_accounted(pool)


async def test_watch_left_by_holder_does_not_abort_next_transaction(create_pool, create_connection):
    pool = await create_pool(minsize=1, maxsize=1)
    other = await create_connection()
    conn = await pool.acquire()
    await conn.execute("WATCH", "pool:left-watched")
    assert conn.watching
    pool.release(conn)
    assert pool.freesize == 1
    await other.execute("SET", "pool:left-watched", "changed")
    same = await pool.acquire()
    assert same is conn
    tr = same.execute("MULTI"), same.execute("SET", "pool:left-watched", "mine"), same.execute("EXEC")
    assert await asyncio.gather(*tr) == [b"OK", b"QUEUED", [b"OK"]]
    assert not same.watching
    pool.release(same)
    assert await other.execute("GET", "pool:left-watched") == b"mine"


async def test_watch_inside_acquired_connection_still_guards(create_pool, create_connection):
    pool = await create_pool(minsize=1, maxsize=1)
    other = await create_connection()
    with await pool as conn:
        assert await conn.execute("WATCH", "pool:guarded") == b"OK"
        await other.execute("SET", "pool:guarded", "changed")
        assert await conn.execute("MULTI") == b"OK"
        assert await conn.execute("SET", "pool:guarded", "mine") == b"QUEUED"
        assert await conn.execute("EXEC") is None   # aborted: the WATCH held
        assert not conn.watching
    assert pool.freesize == 1
    assert await other.execute("GET", "pool:guarded") == b"changed"


async def test_waiters_get_connections_in_turn(create_pool):
    pool = await create_pool(minsize=1, maxsize=1)
    conn = await pool.acquire()
    waiters = [asyncio.ensure_future(pool.acquire()) for _ in range(6)]
    await asyncio.sleep(0)
    for task in waiters[::2]:
        task.cancel()
    pool.release(conn)
    for task in waiters[1::2]:
        got = await asyncio.wait_for(task, HANG)
        assert got is conn
        pool.release(got)
    assert all(task.cancelled() for task in waiters[::2])
    assert not pool._waiters
    await assert_accounted(pool)


async def test_connection_handed_to_a_cancelled_waiter_goes_to_the_next(create_pool):
    pool = await create_pool(minsize=1, maxsize=1)
    conn = await pool.acquire()
    first = asyncio.ensure_future(pool.acquire())
    second = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0)
    pool.release(conn)     # hands the connection to ``first``...
    first.cancel()         # ...which is cancelled before it runs
    assert await asyncio.wait_for(second, HANG) is conn
    with pytest.raises(asyncio.CancelledError):
        await first
    pool.release(conn)
    await assert_accounted(pool)


async def test_connection_lost_while_handed_over(create_pool):
    pool = await create_pool(minsize=1, maxsize=1)
    conn = await pool.acquire()
    assert await conn.execute("PING") == b"PONG"
    waiter = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0)
    pool.release(conn)     # hands the connection to ``waiter``...
    conn.close()           # ...and it is lost before the waiter runs
    fresh = await asyncio.wait_for(waiter, HANG)
    assert fresh is not conn and not fresh.closed
    assert await fresh.execute("PING") == b"PONG"
    pool.release(fresh)
    await assert_accounted(pool)
    assert pool.size == 1


# -- pool-wide settings -----------------------------------------------------------------


async def test_select(create_pool, create_connection):
    pool = await create_pool(minsize=2, maxsize=3)
    taken = await pool.acquire()
    assert await pool.select(1) is True
    assert pool.db == 1
    assert all(conn.db == 1 for conn in pool._free)
    await pool.execute("SET", "pool:select", "db1")
    db1 = await create_connection(db=1)
    assert await db1.execute("GET", "pool:select") == b"db1"
    pool.release(taken)          # still on db 0: dropped
    assert taken.closed
    with pytest.raises(TypeError):
        await pool.select("1")
    with pytest.raises(ValueError):
        await pool.select(-1)
    with pytest.raises(ReplyError):
        await pool.select(100000)
    assert pool.db == 1
    await pool.select(0)
    await eventually(lambda: taken not in pool._conns)
    await assert_accounted(pool)


async def test_select_with_no_free_connection(create_pool):
    pool = await create_pool(minsize=0, maxsize=2)
    assert await pool.select(3) is True
    async with pool.get() as conn:
        assert conn.db == 3


async def test_auth(create_pool, start_server):
    srv = start_server("pool-auth", "requirepass sEcret", "user alice on >wonderland ~* &* +@all")
    pool = await create_pool(srv.tcp_address, minsize=2, protocol=2)   # (RESP3's HELLO needs AUTH first)
    with pytest.raises(AuthError):
        await pool.execute("PING")
    await pool.auth("sEcret")
    assert await pool.execute("PING") == b"PONG"
    async with pool.get() as one, pool.get() as two, pool.get() as new:
        assert [await c.execute("PING") for c in (one, two, new)] == [b"PONG"] * 3
    acl = await create_pool(srv.tcp_address, username="alice", password="wonderland")
    assert await acl.execute("ACL", "WHOAMI") == b"alice"
    uri = await create_pool(f"redis://alice:wonderland@127.0.0.1:{srv.port}")
    assert await uri.execute("ACL", "WHOAMI") == b"alice"
    await uri.auth("sEcret", username="default")
    assert await uri.execute("ACL", "WHOAMI") == b"default"


# -- dead connections, restarts, closing ---------------------------------------------------


async def test_dead_connections_are_replaced(create_pool, create_connection):
    pool = await create_pool(minsize=2, maxsize=2)
    admin = await create_connection()
    ids = await asyncio.gather(pool.execute("CLIENT", "ID"), pool.execute("CLIENT", "ID"))
    for client_id in ids:
        await admin.execute("CLIENT", "KILL", "ID", client_id)
    await eventually(lambda: pool.size == 0, "dead connections forgotten")
    assert await pool.execute("PING") == b"PONG"
    assert pool.size == 2
    await assert_accounted(pool)


class Workload:
    """A random mix of pool operations, checking after each step that the pool stays in bounds.

    Operations failing because the server is down are counted, not raised.
    """

    def __init__(self, pool, seed):
        self.pool = pool
        self.rnd = random.Random(seed)
        self.largest = 0
        self.done = 0
        self.failures = 0
        self.operations = [self.shared, self.shared, self.shared, self.exclusive, self.context,
                           self.cancelled_acquire, self.cancelled_blocking, self.blocking_served, self.push]

    def check(self):
        self.largest = max(self.largest, self.pool.size)
        assert self.pool.size <= self.pool.maxsize

    async def yield_some(self):
        for _ in range(self.rnd.randrange(4)):
            await asyncio.sleep(0)

    async def run_one(self):
        operation = self.rnd.choice(self.operations)
        await self.yield_some()
        self.check()
        try:
            await operation()
        except (ConnectionClosedError, OSError):
            self.failures += 1
        else:
            self.done += 1
        self.check()

    async def shared(self):
        await self.pool.execute("INCR", "pool:load")

    async def exclusive(self):
        with await self.pool as conn:
            self.check()
            await conn.execute("INCR", "pool:load")

    async def context(self):
        async with self.pool.get() as conn:
            await conn.execute("PING")

    async def cancelled_acquire(self):
        task = asyncio.ensure_future(self.pool.acquire())
        await self.yield_some()
        task.cancel()
        try:
            conn = await task
        except asyncio.CancelledError:
            return
        self.pool.release(conn)

    async def cancelled_blocking(self):
        task = asyncio.ensure_future(self.pool.execute("BLPOP", "pool:load:empty", 0))
        await self.yield_some()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    async def blocking_served(self):
        # With a timeout: blocked callers holding every connection would starve the pushes.
        await self.pool.execute("BRPOP", "pool:load:list", 0.05)

    async def push(self):
        await self.pool.execute("LPUSH", "pool:load:list", "x")


async def assert_server_agrees(pool, observer):
    """The server sees exactly the pool's connections (plus the observer)."""
    async def same_count():
        return await connected_clients(observer) == pool.size + 1

    await eventually(same_count, "server and pool agreeing on connections")


async def test_no_leaks_under_load_and_cancellation(start_server):
    srv = start_server("pool-leak")
    pool = await aioredis_cy.create_pool(srv.tcp_address, minsize=2, maxsize=8)
    observer = await aioredis_cy.create_connection(srv.tcp_address)
    load = Workload(pool, seed=20240601)
    try:
        await asyncio.wait_for(asyncio.gather(*[load.run_one() for _ in range(5000)]), 60)
        assert (load.done, load.failures) == (5000, 0)
        assert load.largest == pool.maxsize
        await assert_accounted(pool)
        assert not pool._used and pool.size == pool.freesize
        await assert_server_agrees(pool, observer)
    finally:
        observer.close()
        pool.close()
        await pool.wait_closed()
        await observer.wait_closed()


async def test_server_restart_in_the_middle_of_traffic(start_server):
    srv = start_server("pool-restart")
    pool = await aioredis_cy.create_pool(srv.tcp_address, minsize=2, maxsize=5)
    load = Workload(pool, seed=7)
    running = True

    async def worker():
        while running:
            failures = load.failures
            await load.run_one()
            if load.failures > failures:
                await asyncio.sleep(0.01)   # the server is down: do not spin

    loop = asyncio.get_running_loop()
    workers = [asyncio.ensure_future(worker()) for _ in range(20)]
    try:
        await eventually(lambda: load.done >= 500, "traffic flowing")
        await loop.run_in_executor(None, srv.kill)
        await eventually(lambda: load.failures > 0, "traffic failing while the server is down")
        await loop.run_in_executor(None, srv.start)
        done = load.done
        await eventually(lambda: load.done >= done + 500, "traffic flowing again after the restart")
        running = False
        await asyncio.wait_for(asyncio.gather(*workers), HANG)
        await assert_accounted(pool)
        observer = await aioredis_cy.create_connection(srv.tcp_address)
        try:
            await assert_server_agrees(pool, observer)
        finally:
            observer.close()
            await observer.wait_closed()
        # An idle pool recovers too, on its first command after the restart.
        await loop.run_in_executor(None, srv.stop)
        await loop.run_in_executor(None, srv.start)
        await eventually(lambda: pool.size == 0)
        assert await pool.execute("PING") == b"PONG"
        await assert_accounted(pool)
    finally:
        running = False
        await asyncio.gather(*workers, return_exceptions=True)
        pool.close()
        await pool.wait_closed()


async def test_locks_lock_accepts_loop():
    lock = Lock(loop=asyncio.get_running_loop())
    async with lock:
        assert lock.locked()
    assert not lock.locked()


async def test_close_and_wait_closed(create_pool):
    pool = await create_pool(minsize=2, maxsize=2)
    conns = list(pool._free)
    taken = await pool.acquire()
    await pool.acquire()
    waiting = asyncio.ensure_future(pool.acquire())
    closing = asyncio.ensure_future(pool.wait_closed())
    await asyncio.sleep(0)
    assert not closing.done()
    pool.close()
    pool.close()
    assert pool.closed
    with pytest.raises(PoolClosedError):
        await asyncio.wait_for(waiting, HANG)
    await asyncio.wait_for(closing, HANG)
    await pool.wait_closed()
    assert all(conn.closed for conn in conns) and taken.closed
    assert pool.size == 0
    pool.release(taken)
    with pytest.raises(PoolClosedError):
        await pool.acquire()
    with pytest.raises(PoolClosedError):
        await pool.execute("PING")
    with pytest.raises(PoolClosedError):
        await pool.execute_pubsub("SUBSCRIBE", "x")


async def test_close_while_a_connection_is_being_opened(create_pool):
    pool = await create_pool(minsize=0, maxsize=2)
    opening = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0)
    assert pool.size == 1
    pool.close()
    with pytest.raises(PoolClosedError):
        await asyncio.wait_for(opening, HANG)
    await asyncio.wait_for(pool.wait_closed(), HANG)
    assert pool.size == 0


async def test_close_fails_commands_in_flight(create_pool):
    pool = await create_pool()
    slow = asyncio.ensure_future(pool.execute("BLPOP", "pool:never", 0))
    await eventually(lambda: pool.freesize == 0, "BLPOP taking the connection")
    pool.close()
    with pytest.raises(ConnectionForcedCloseError):
        await asyncio.wait_for(slow, HANG)
    await pool.wait_closed()


async def test_clear(create_pool):
    pool = await create_pool(minsize=2, maxsize=3)
    conns = list(pool._free)
    await pool.clear()
    assert pool.freesize == 0 and all(conn.closed for conn in conns)
    await eventually(lambda: pool.size == 0)
    assert await pool.execute("PING") == b"PONG"
    assert pool.size == 2
    await assert_accounted(pool)
