"""The Redis client object: construction, context managers, properties and connection commands."""
import pytest

import aioredis_cy
from aioredis_cy import ConnectionsPool, RedisConnection
from aioredis_cy.commands import ContextRedis, Redis, create_redis, create_redis_pool
from aioredis_cy.errors import AuthError, ReplyError


def is_pool(redis):
    return isinstance(redis.connection, ConnectionsPool)


# -- construction -----------------------------------------------------------------


async def test_redis_over_a_connection(create_connection):
    conn = await create_connection()
    redis = Redis(conn)
    assert redis._pool_or_conn is conn
    assert redis.connection is conn
    assert repr(redis) == f"<Redis {conn!r}>"
    assert await redis.ping() == b"PONG"
    assert await redis.execute("ECHO", "raw") == b"raw"


async def test_commands_follow_a_replaced_connection(create_connection):
    # Commands go straight to the connection's execute; replacing _pool_or_conn (as some
    # 1.x code does) must move them along, and a subclass's own execute must stay in use.
    first, second = await create_connection(db=1), await create_connection(db=2)
    redis = Redis(first)
    redis._pool_or_conn = second
    assert await redis.set("moved", "here") is True
    assert await second.execute("GET", "moved") == b"here"
    assert await first.execute("EXISTS", "moved") == 0
    await second.execute("DEL", "moved")

    class Counting(Redis):
        calls = 0

        def execute(self, command, *args, **kwargs):
            Counting.calls += 1
            return super().execute(command, *args, **kwargs)

    counting = Counting(first)
    assert await counting.ping() == b"PONG"
    assert Counting.calls == 1


async def test_redis_over_a_pool(create_pool):
    pool = await create_pool()
    redis = Redis(pool)
    assert redis.connection is pool
    assert await redis.set("k", "v") is True
    assert await redis.get("k") == b"v"
    await redis.delete("k")


async def test_create_redis_arguments(create_redis, server):
    redis = await create_redis(db=2, encoding="utf-8", timeout=5, loop=None)
    assert isinstance(redis, Redis)
    assert isinstance(redis.connection, RedisConnection)
    assert redis.db == 2
    assert redis.encoding == "utf-8"
    assert redis.address == server.tcp_address
    assert await redis.echo("hi") == "hi"

    redis = await create_redis(f"{server.url}/3?encoding=utf-8")
    assert (redis.db, redis.encoding) == (3, "utf-8")

    redis = await create_redis(server.unix_socket)
    assert redis.address == server.unix_socket
    assert await redis.ping() == b"PONG"

    with pytest.raises(ValueError):
        await create_redis(db=-1)


async def test_create_redis_pool_arguments(create_redis_pool, server):
    class MyPool(ConnectionsPool):
        pass

    redis = await create_redis_pool(db=2, encoding="utf-8", minsize=2, maxsize=3, timeout=5,
                                    pool_cls=MyPool, connection_cls=RedisConnection, loop=None)
    pool = redis.connection
    assert type(pool) is MyPool
    assert (pool.minsize, pool.maxsize, pool.size) == (2, 3, 2)
    assert redis.db == 2 and redis.encoding == "utf-8"
    assert redis.address == server.tcp_address
    assert await redis.echo("hi") == "hi"
    with pytest.raises(ValueError):
        await create_redis_pool(minsize=0, maxsize=0)


async def test_factories_are_reexported():
    assert aioredis_cy.create_redis is create_redis
    assert aioredis_cy.create_redis_pool is create_redis_pool
    assert aioredis_cy.Redis is Redis


class Custom(Redis):
    """A user subclass used as ``commands_factory``."""

    def get_twice(self, key):
        return self.mget(key, key)


@pytest.mark.parametrize("on_pool", [False, True], ids=["conn", "pool"])
async def test_commands_factory_subclass(create_redis, create_redis_pool, on_pool):
    make = create_redis_pool if on_pool else create_redis
    redis = await make(commands_factory=Custom)
    assert type(redis) is Custom
    await redis.set("k", "v")
    assert await redis.get_twice("k") == [b"v", b"v"]
    tr = redis.multi_exec()
    fut = tr.get_twice("k")
    assert await tr.execute() == [[b"v", b"v"]]
    assert await fut == [b"v", b"v"]
    with await redis as conn:
        assert type(conn) is ContextRedis
        assert await conn.get("k") == b"v"
    await redis.delete("k")


async def test_commands_factory_any_callable(create_redis):
    made = []

    def factory(conn):
        made.append(conn)
        return Redis(conn)

    redis = await create_redis(commands_factory=factory)
    assert made == [redis.connection]


# -- context managers ----------------------------------------------------------------


async def test_with_await(redis):
    with await redis as conn:
        assert isinstance(conn, ContextRedis)
        assert isinstance(conn.connection, RedisConnection)
        assert await conn.set("k", "v") is True
        assert await conn.get("k") == b"v"
        if is_pool(redis):
            assert redis.connection.freesize == redis.connection.size - 1
        else:
            assert conn.connection is redis.connection
        with await conn as same:   # awaiting a bound client gives the same connection
            assert same.connection is conn.connection
    if is_pool(redis):
        assert redis.connection.freesize == redis.connection.size
        assert conn.connection is None
    assert await redis.get("k") == b"v"


async def test_async_with_await(redis):
    async with await redis as conn:
        assert isinstance(conn.connection, RedisConnection)
        assert await conn.ping() == b"PONG"
    if is_pool(redis):
        assert redis.connection.freesize == redis.connection.size
        assert conn.connection is None
    else:
        assert conn.connection is redis.connection


async def test_async_with_closes(create_redis, create_redis_pool):
    for factory in (create_redis, create_redis_pool):
        redis = await factory()
        async with redis as same:
            assert same is redis
            assert await redis.ping() == b"PONG"
        assert redis.closed


async def test_close_wait_closed(redis):
    assert not redis.closed
    redis.close()
    await redis.wait_closed()
    assert redis.closed


# -- properties ------------------------------------------------------------------------


async def test_properties(redis, server):
    assert redis.db == 0
    assert redis.encoding is None
    assert redis.address == server.tcp_address
    assert redis.in_transaction is False
    assert redis.closed is False


async def test_in_transaction(create_redis):
    redis = await create_redis()
    assert await redis.execute("MULTI") == b"OK"
    assert redis.in_transaction is True
    assert await redis.execute("PING") == b"QUEUED"
    assert await redis.execute("EXEC") == [b"PONG"]
    assert redis.in_transaction is False


# -- connection commands ---------------------------------------------------------------


async def test_echo_ping(redis):
    assert await redis.echo("hello") == b"hello"
    assert await redis.echo("hello", encoding="utf-8") == "hello"
    assert await redis.ping() == b"PONG"
    assert await redis.ping(encoding="utf-8") == "PONG"
    assert await redis.ping("hi") == b"hi"
    assert await redis.ping(b"hi", encoding="utf-8") == "hi"
    with pytest.raises(TypeError):
        redis.echo(None)
    with pytest.raises(TypeError):
        redis.ping(None)
    assert await redis.ping() == b"PONG"


async def test_select(redis, create_redis):
    other = await create_redis(db=1)
    await other.set("in-db-1", "x")
    assert await redis.select(1) is True
    assert redis.db == 1
    assert await redis.get("in-db-1") == b"x"
    assert await redis.select(0) is True
    assert redis.db == 0
    assert await redis.get("in-db-1") is None
    with pytest.raises(TypeError):
        await redis.select("1")
    with pytest.raises(ValueError):
        await redis.select(-1)
    assert redis.db == 0
    await other.delete("in-db-1")


async def test_swapdb(redis, create_redis):
    db7 = await create_redis(db=7)
    db8 = await create_redis(db=8)
    await db7.flushdb()
    await db8.flushdb()
    await db7.set("k", "seven")
    assert await redis.swapdb(7, 8) is True
    assert await db8.get("k") == b"seven"
    assert await db7.get("k") is None
    await db8.flushdb()
    for args, exc in [(("7", 8), TypeError), ((7, None), TypeError), ((True, 8), TypeError),
                      ((-1, 8), ValueError), ((7, -2), ValueError)]:
        with pytest.raises(exc):
            redis.swapdb(*args)
    with pytest.raises(ReplyError):
        await redis.swapdb(0, 100000)
    assert await redis.ping() == b"PONG"


async def test_quit(create_redis):
    redis = await create_redis()
    assert await redis.quit() == b"OK"
    await redis.wait_closed()
    assert redis.closed


async def test_auth_without_password_set(redis):
    with pytest.raises(AuthError):
        await redis.auth("secret")


async def test_auth(start_server, create_redis, create_redis_pool):
    node = start_server("redis-auth", "requirepass secret", "user alice on >wonderland ~* &* +@all")
    redis = await create_redis(node.tcp_address, protocol=2)   # (RESP3's HELLO needs AUTH first)
    with pytest.raises(AuthError):
        await redis.ping()
    with pytest.raises(AuthError):
        await redis.auth("wrong")
    assert await redis.auth("secret") is True
    assert await redis.ping() == b"PONG"
    assert await redis.auth("wonderland", username="alice") is True
    assert await redis.execute("ACL", "WHOAMI") == b"alice"

    redis = await create_redis(node.tcp_address, password="wonderland", username="alice")
    assert await redis.execute("ACL", "WHOAMI") == b"alice"

    pool = await create_redis_pool(node.tcp_address, password="secret", minsize=2)
    assert await pool.ping() == b"PONG"
    await pool.auth("wonderland", username="alice")
    assert await pool.execute("ACL", "WHOAMI") == b"alice"
    pool = await create_redis_pool(node.tcp_address, password="wonderland", username="alice")
    assert await pool.execute("ACL", "WHOAMI") == b"alice"
