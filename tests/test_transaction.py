"""MULTI/EXEC blocks, client-side pipelines and WATCH, on a single connection and on a pool."""
import asyncio

import pytest

from aioredis_cy import RedisConnection
from aioredis_cy.commands import MultiExec, Pipeline, Redis
from aioredis_cy.errors import (
    ConnectionClosedError,
    MultiExecError,
    PipelineError,
    ReplyError,
    WatchVariableError,
)

BATCHES = ["multi_exec", "pipeline"]


async def settle_pool(redis):
    """On a pool, wait until every taken connection is back (replies all in)."""
    pool = redis.connection
    if isinstance(redis.connection, RedisConnection):
        return
    for _ in range(2000):
        if pool.freesize == pool.size:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"pool connections not given back: {pool!r}")


# -- results and conversions -------------------------------------------------


async def test_multi_exec_results(redis):
    tr = redis.multi_exec()
    assert isinstance(tr, MultiExec)
    f1 = tr.incr("foo")
    f2 = tr.incr("bar")
    assert isinstance(f1, asyncio.Future) and not f1.done()
    assert await tr.execute() == [1, 1]
    assert await asyncio.gather(f1, f2) == [1, 1]

    tr = redis.multi_exec()
    f1 = tr.incr("foo")
    f2 = tr.incr("bar")
    await tr.execute()
    assert await f1 == 2
    assert await f2 == 2


@pytest.mark.parametrize("batch", BATCHES)
async def test_converted_results(redis, batch):
    await redis.hmset("h", "a", "1", "b", "2")
    tr = getattr(redis, batch)()
    futures = [
        tr.set("k", "v"),
        tr.get("k"),
        tr.expire("k", 100),
        tr.persist("k"),
        tr.exists("k", "h", "missing"),
        tr.hgetall("h"),
        tr.scan(0, match="k*"),
        tr.rename("k", "k2"),
        tr.object_encoding("k2"),
        tr.echo("hi"),
        tr.ping(),
    ]
    expected = [True, b"v", True, True, 2, {b"a": b"1", b"b": b"2"}, (0, [b"k"]), True, "embstr",
                b"hi", b"PONG"]
    assert await tr.execute() == expected
    assert [await future for future in futures] == expected


@pytest.mark.parametrize("batch", BATCHES)
async def test_per_command_encoding(redis, batch):
    await redis.set("key", "value")
    await redis.hmset("hash-key", "foo", "val1", "bar", "val2")
    tr = getattr(redis, batch)()
    f1 = tr.get("key")
    f2 = tr.get("key", encoding="utf-8")
    f3 = tr.hgetall("hash-key", encoding="utf-8")
    await tr.execute()
    assert await f1 == b"value"
    assert await f2 == "value"
    assert await f3 == {"foo": "val1", "bar": "val2"}


@pytest.mark.parametrize("batch", BATCHES)
async def test_client_wide_encoding(create_redis, batch):
    redis = await create_redis(encoding="utf-8")
    await redis.delete("key")
    assert await redis.set("key", "value") is True
    tr = getattr(redis, batch)()
    f1 = tr.get("key")
    f2 = tr.get("key", encoding=None)
    f3 = tr.set("other", "x")
    await tr.execute()
    assert await f1 == "value"
    assert await f2 == b"value"
    assert await f3 is True
    await redis.delete("key", "other")


@pytest.mark.parametrize("batch", BATCHES)
async def test_empty(redis, batch):
    tr = getattr(redis, batch)()
    assert await tr.execute() == []


@pytest.mark.parametrize("batch", BATCHES)
async def test_runs_once(redis, batch):
    tr = getattr(redis, batch)()
    tr.incr("foo")
    await tr.execute()
    with pytest.raises(AssertionError):
        await tr.execute()
    with pytest.raises(AssertionError):
        tr.incr("foo")
    with pytest.raises(AssertionError):
        tr.get("foo")   # a name not looked up before execute()


async def test_pipeline_class_and_context(redis):
    pipe = redis.pipeline()
    assert isinstance(pipe, Pipeline) and not isinstance(pipe, MultiExec)
    assert pipe.encoding == redis.encoding
    assert pipe.db == redis.db


async def test_nothing_sent_before_execute(redis, create_redis):
    other = await create_redis()
    tr = redis.multi_exec()
    tr.set("foo", "bar")
    pipe = redis.pipeline()
    pipe.set("baz", "qux")
    await asyncio.sleep(0.01)
    assert await other.exists("foo", "baz") == 0
    await asyncio.gather(tr.execute(), pipe.execute())
    assert await other.exists("foo", "baz") == 2


# -- bad arguments ---------------------------------------------------------------


@pytest.mark.parametrize("batch", BATCHES)
async def test_bad_arguments_fail_their_own_future(redis, batch):
    """As in 1.x: a call refused by its checks returns a future holding the error, sends
    nothing, and makes execute() raise; the other commands still run."""
    await redis.set("foo", 1)
    tr = getattr(redis, batch)()
    refused = [
        tr.get(None),
        tr.mget("foo", None),
        tr.set("foo", True),
        tr.expire("foo", "soon"),
        tr.incrby("foo", 1.0),
        tr.subscribe("chan"),
    ]
    renamed = tr.rename("foo", "foo")
    with pytest.raises(TypeError):
        tr.connection.execute(None)
    fut = tr.incr("foo")
    with pytest.raises(tr.error_class) as info:
        await tr.execute()
    assert [type(err) for err in info.value.args[1]] == [TypeError] * 6 + [ValueError]
    for future in refused:
        with pytest.raises(TypeError):
            await future
    with pytest.raises(ValueError):
        await renamed
    assert await fut == 2
    assert await redis.get("foo") == b"2"


@pytest.mark.parametrize("batch", BATCHES)
async def test_bad_arguments_with_return_exceptions(redis, batch):
    await redis.set("foo", 1)
    tr = getattr(redis, batch)()
    tr.incrby("foo", 1.0)
    tr.incr("foo")
    first, second = await tr.execute(return_exceptions=True)
    assert isinstance(first, TypeError)
    assert second == 2


# -- errors --------------------------------------------------------------------


async def test_multi_exec_error_inside(redis):
    await redis.set("foo", "bar")
    tr = redis.multi_exec()
    f1 = tr.incr("foo")
    f2 = tr.set("other", "1")
    with pytest.raises(MultiExecError) as info:
        await tr.execute()
    errors = info.value.args[1]
    assert len(errors) == 1 and isinstance(errors[0], ReplyError)
    with pytest.raises(ReplyError):
        await f1
    assert await f2 is True
    assert await redis.get("other") == b"1"   # the rest of the block ran

    tr = redis.multi_exec()
    f1 = tr.incr("foo")
    f2 = tr.get("other")
    res = await tr.execute(return_exceptions=True)
    assert isinstance(res[0], ReplyError) and res[1] == b"1"
    with pytest.raises(ReplyError):
        await f1
    assert await f2 == b"1"


async def test_multi_exec_aborted_when_a_command_is_rejected(redis):
    tr = redis.multi_exec()
    raw = tr.connection.execute(b"NO-SUCH-COMMAND")
    fut = tr.incr("counter")
    with pytest.raises(MultiExecError) as info:
        await tr.execute()
    assert "EXECABORT" in str(info.value.args[1][0])
    with pytest.raises(ReplyError, match="unknown command"):
        await raw
    with pytest.raises(ReplyError, match="EXECABORT"):
        await fut
    assert await redis.get("counter") is None
    assert await redis.ping() == b"PONG"


async def test_pipeline_errors(redis):
    await redis.set("foo", "bar")
    pipe = redis.pipeline()
    f1 = pipe.incr("foo")
    f2 = pipe.get("foo")
    with pytest.raises(PipelineError) as info:
        await pipe.execute()
    assert not isinstance(info.value, MultiExecError)
    assert len(info.value.args[1]) == 1
    with pytest.raises(ReplyError):
        await f1
    assert await f2 == b"bar"

    pipe = redis.pipeline()
    pipe.incr("foo")
    pipe.get("foo")
    res = await pipe.execute(return_exceptions=True)
    assert isinstance(res[0], ReplyError) and res[1] == b"bar"


@pytest.mark.parametrize("batch, error", [("multi_exec", MultiExecError), ("pipeline", PipelineError)])
async def test_closed_connection(create_redis, batch, error):
    redis = await create_redis()
    redis.close()
    await redis.wait_closed()
    tr = getattr(redis, batch)()
    fut = tr.incr("foo")
    with pytest.raises(error) as info:
        await tr.execute()
    assert isinstance(info.value.args[1][0], ConnectionClosedError)
    with pytest.raises(ConnectionClosedError):
        await fut


async def test_connection_lost_inside(redis):
    tr = redis.multi_exec()
    f1 = tr.set("foo", "bar")
    f2 = tr.quit()   # not queued: the server replies OK and closes the connection
    f3 = tr.get("foo")
    with pytest.raises(MultiExecError) as info:
        await tr.execute()
    assert [type(error) for error in info.value.args[1]] == [ConnectionClosedError] * 2
    assert await f2 == b"OK"
    for fut in (f1, f3):
        with pytest.raises(ConnectionClosedError):
            await fut
    if isinstance(redis.connection, RedisConnection):
        await redis.wait_closed()
    else:   # the pool drops the lost connection and goes on
        assert await redis.get("foo") is None


class _Refusing(RedisConnection):
    """A connection class refusing one command before sending it."""

    def execute(self, command, *args, **kwargs):
        if command == b"REFUSED":
            raise ValueError("refused by the connection")
        return super().execute(command, *args, **kwargs)


async def test_refused_command_discards_the_transaction(create_redis):
    redis = await create_redis(connection_cls=_Refusing)
    await redis.delete("foo")
    tr = redis.multi_exec()
    f1 = tr.incr("foo")
    f2 = tr.connection.execute(b"REFUSED")
    f3 = tr.incr("foo")
    with pytest.raises(MultiExecError) as info:
        await tr.execute()
    assert [type(error) for error in info.value.args[1]] == [ValueError] * 3   # f2 counts too
    for fut in (f1, f2, f3):
        with pytest.raises(ValueError):
            await fut
    assert await redis.get("foo") is None   # DISCARD, not EXEC
    assert not redis.in_transaction
    assert await redis.incr("foo") == 1

    pipe = redis.pipeline()
    f1 = pipe.incr("foo")
    f2 = pipe.connection.execute(b"REFUSED")
    f3 = pipe.incr("foo")
    assert await pipe.execute() == [2, 3]
    with pytest.raises(ValueError):
        await f2
    await redis.delete("foo")


# -- WATCH -----------------------------------------------------------------------


async def test_watch_unwatch(redis):
    assert await redis.watch("key") is True
    assert await redis.watch("key", "key") is True
    with pytest.raises(TypeError):
        await redis.watch(None)
    with pytest.raises(TypeError):
        await redis.watch("key", None)
    with pytest.raises(TypeError):
        await redis.watch("key", "key", None)
    assert await redis.unwatch() is True
    assert await redis.unwatch() is True   # nothing watched: still fine
    await settle_pool(redis)


async def test_watch_conflict(redis, create_redis):
    other = await create_redis()
    assert await redis.set("foo", "bar") is True
    assert await redis.watch("foo") is True
    assert await other.set("foo", "baz") is True

    tr = redis.multi_exec()
    fut1 = tr.set("foo", "foo")
    fut2 = tr.get("bar")
    with pytest.raises(WatchVariableError) as info:
        await tr.execute()
    assert isinstance(info.value, MultiExecError)
    assert len(info.value.args[1]) == 2
    with pytest.raises(WatchVariableError):
        await fut1
    with pytest.raises(WatchVariableError):
        await fut2
    assert await redis.get("foo") == b"baz"
    await settle_pool(redis)


async def test_watch_conflict_return_exceptions(redis, create_redis):
    other = await create_redis()
    await redis.watch("foo")
    await other.set("foo", "baz")
    tr = redis.multi_exec()
    tr.set("foo", "mine")
    tr.incr("n")
    res = await tr.execute(return_exceptions=True)
    assert [type(item) for item in res] == [WatchVariableError, WatchVariableError]
    assert await redis.get("foo") == b"baz"
    assert await redis.get("n") is None


async def test_watch_without_conflict(redis):
    await redis.set("foo", "1")
    await redis.watch("foo")
    value = int(await redis.get("foo"))
    tr = redis.multi_exec()
    tr.set("foo", value + 1)
    assert await tr.execute() == [True]
    assert await redis.get("foo") == b"2"
    await settle_pool(redis)


async def test_watch_then_empty_transaction(redis):
    await redis.watch("foo")
    assert await redis.multi_exec().execute() == []
    await settle_pool(redis)


async def test_pool_watch_pins_a_connection(create_redis_pool, create_redis):
    redis = await create_redis_pool(minsize=2, maxsize=2)
    other = await create_redis()
    pool = redis.connection
    await redis.watch("pinned")
    assert pool.freesize == pool.size - 1
    await redis.watch("pinned", "again")   # the same pinned connection
    assert pool.freesize == pool.size - 1
    await other.set("pinned", "changed")   # seen because WATCH and EXEC share a connection
    tr = redis.multi_exec()
    tr.set("pinned", "mine")
    with pytest.raises(WatchVariableError):
        await tr.execute()
    await settle_pool(redis)
    assert await redis.get("pinned") == b"changed"

    await redis.watch("pinned")
    assert pool.freesize == pool.size - 1
    assert await redis.unwatch() is True
    assert pool.freesize == pool.size
    tr = redis.multi_exec()
    tr.set("pinned", "mine")
    await other.set("pinned", "again")   # no longer watched
    assert await tr.execute() == [True]
    await other.delete("pinned")


async def test_pool_watch_released_when_the_task_ends(create_redis_pool):
    redis = await create_redis_pool(minsize=1, maxsize=2)
    pool = redis.connection

    async def watch_and_forget():
        await redis.watch("forgotten")

    await asyncio.create_task(watch_and_forget())
    await settle_pool(redis)
    assert pool.size == pool.freesize


async def test_pool_watch_pin_not_shared_with_child_tasks(create_redis_pool, create_redis):
    redis = await create_redis_pool(minsize=1, maxsize=3)
    other = await create_redis()
    await redis.watch("parent-key")
    await other.set("parent-key", "changed")

    async def child():
        tr = redis.multi_exec()   # not the parent's pinned connection: no WATCH there
        tr.set("child-key", "x")
        return await tr.execute()

    assert await asyncio.create_task(child()) == [True]
    tr = redis.multi_exec()
    tr.set("parent-key", "mine")
    with pytest.raises(WatchVariableError):
        await tr.execute()
    await other.delete("parent-key", "child-key")
    await settle_pool(redis)


async def test_pool_concurrent_watchers_one_wins(create_redis_pool):
    redis = await create_redis_pool(minsize=2, maxsize=4)
    await redis.set("counter", 10)
    both_read = asyncio.Event()
    readers = []

    async def increment():
        await redis.watch("counter")
        value = int(await redis.get("counter"))
        readers.append(value)
        if len(readers) == 2:
            both_read.set()
        await both_read.wait()
        tr = redis.multi_exec()
        tr.set("counter", value + 1)
        return await tr.execute()

    results = await asyncio.gather(increment(), increment(), return_exceptions=True)
    assert readers == [10, 10]
    assert sorted(type(result).__name__ for result in results) == ["WatchVariableError", "list"]
    assert await redis.get("counter") == b"11"
    await settle_pool(redis)
    await redis.delete("counter")


# -- size, cancellation, context ------------------------------------------------------


@pytest.mark.parametrize("batch", BATCHES)
async def test_ten_thousand_commands(redis, batch):
    tr = getattr(redis, batch)()
    futures = [tr.set(f"key:{i}", i) for i in range(5000)]
    futures += [tr.get(f"key:{i}", encoding="utf-8") for i in range(5000)]
    results = await tr.execute()
    assert results == [True] * 5000 + [str(i) for i in range(5000)]
    assert futures[-1].result() == "4999"
    assert await redis.dbsize() == 5000
    await settle_pool(redis)


@pytest.mark.parametrize("batch", BATCHES)
async def test_cancel_execute(redis, batch):
    tr = getattr(redis, batch)()
    fut = tr.set("foo", "bar")
    task = asyncio.ensure_future(tr.execute())
    for _ in range(100):   # until everything is written
        if tr._sent is not None:
            break
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert fut.cancelled()
    await settle_pool(redis)
    # The block went out whole, so it ran; the connection stays in use.
    assert await redis.get("foo") == b"bar"
    assert not redis.in_transaction
    if not isinstance(redis.connection, RedisConnection):
        assert redis.connection.size == redis.connection.freesize


async def test_cancel_while_waiting_for_a_pool_connection(create_redis_pool):
    redis = await create_redis_pool(minsize=1, maxsize=1)
    pool = redis.connection
    with await redis as conn:
        tr = redis.multi_exec()
        fut = tr.incr("waiting")
        task = asyncio.ensure_future(tr.execute())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert fut.cancelled()
        assert await conn.ping() == b"PONG"
    assert pool.freesize == 1
    assert await redis.get("waiting") is None


async def test_converter_that_suspends(redis):
    class Suspending(Redis):
        async def get_later(self, key):
            value = await self.get(key)
            await asyncio.sleep(0)
            return value

    await redis.set("k", "v")
    client = Suspending(redis.connection)
    tr = client.multi_exec()
    fut = tr.get_later("k")
    assert await tr.execute() == [b"v"]
    assert await fut == b"v"


async def test_multi_exec_on_context_redis(create_redis_pool):
    redis = await create_redis_pool()
    with await redis as conn:
        tr = conn.multi_exec()
        tr.set("ctx", "1")
        tr.get("ctx")
        assert await tr.execute() == [True, b"1"]
        assert conn.connection is not redis.connection
    await redis.delete("ctx")


async def test_pipeline_class_directly(redis):
    pipe = Pipeline(redis.connection, Redis)
    pipe.set("direct", "1")
    pipe.get("direct")
    assert await pipe.execute() == [True, b"1"]
    tr = MultiExec(redis.connection, Redis, loop=None)
    tr.incr("direct")
    assert await tr.execute() == [2]


async def test_exec_error_of_command_sent_through_the_connection(redis):
    """1.x: a command sent via ``tr.connection`` that fails at EXEC fails execute() too."""
    tr = redis.multi_exec()
    fut = tr.connection.execute("INCRBY", "key", "1.0")
    with pytest.raises(MultiExecError):
        await tr.execute()
    with pytest.raises(ReplyError):
        await fut


async def test_exec_error_with_return_exceptions(redis):
    await redis.set("foo", "bar")
    tr = redis.multi_exec()
    fut = tr.incrbyfloat("foo", 1.1)
    res = await tr.execute(return_exceptions=True)
    assert isinstance(res[0], ReplyError)
    with pytest.raises(ReplyError):
        await fut


async def test_queue_time_error_through_the_connection(redis):
    """A nested MULTI sent via ``tr.connection`` is refused when queued, and execute() says so.

    Redis 7 still runs the transaction; Valkey discards it (EXECABORT). Either way the
    connection stays in step: the next command gets its own reply.
    """
    await redis.delete("foo")
    tr = redis.multi_exec()
    nested = tr.connection.execute("MULTI")
    fut = tr.connection.execute("incr", "foo")
    with pytest.raises(MultiExecError):
        await tr.execute()
    with pytest.raises(ReplyError):
        await nested
    try:
        result = await fut
    except ReplyError as exc:
        assert "EXECABORT" in str(exc)
        result = None
    assert result in (1, None)
    assert await redis.incr("foo") == (2 if result == 1 else 1)


@pytest.mark.parametrize("batch", BATCHES)
async def test_big_batch_with_encodings_and_an_error_in_the_middle(redis, batch):
    tr = getattr(redis, batch)()
    sets = [tr.set(f"big:{index}", index) for index in range(10_000)]
    failing = tr.lpush("big:0", "x")
    as_text = tr.get("big:1", encoding="utf-8")
    as_bytes = tr.get("big:2")
    results = await tr.execute(return_exceptions=True)
    assert results[:10_000] == [True] * 10_000 and all(fut.result() is True for fut in sets)
    assert isinstance(results[10_000], ReplyError)
    with pytest.raises(ReplyError):
        await failing
    assert results[10_001:] == ["1", b"2"]
    assert await as_text == "1" and await as_bytes == b"2"
    assert await redis.get("big:9999") == b"9999"   # the connection is still in step
    await settle_pool(redis)


# -- whether a WATCH is active on the connection ------------------------------


async def test_watching_follows_the_server(create_connection, create_redis):
    conn = await create_connection()
    other = await create_redis()
    assert not conn.watching
    await conn.execute("WATCH", "watching:key")
    assert conn.watching
    await conn.execute("UNWATCH")
    assert not conn.watching

    await conn.execute("WATCH", "watching:key")
    await conn.execute("MULTI")
    await conn.execute("DISCARD")
    assert not conn.watching

    await conn.execute("WATCH", "watching:key")
    await other.set("watching:key", "changed")
    await conn.execute("MULTI")
    await conn.execute("SET", "watching:key", "mine")
    assert await conn.execute("EXEC") is None   # aborted, and unwatched all the same
    assert not conn.watching

    await conn.execute("WATCH", "watching:key")
    await conn.execute("MULTI")
    assert await conn.execute("UNWATCH") == b"QUEUED"
    assert not conn.watching
    assert await conn.execute("EXEC") == [b"OK"]


async def test_watching_not_set_by_refused_watch_and_cleared_by_loss(create_connection):
    conn = await create_connection()
    await conn.execute("MULTI")
    with pytest.raises(ReplyError):
        await conn.execute("WATCH", "watching:key")
    assert not conn.watching
    await conn.execute("DISCARD")
    await conn.execute("WATCH", "watching:key")
    with pytest.raises(ReplyError):
        await conn.execute("EXEC")   # EXEC without MULTI leaves the WATCH in place
    assert conn.watching
    assert await conn.reset() is True
    assert not conn.watching
    await conn.execute("WATCH", "watching:key")
    conn.close()
    await conn.wait_closed()
    assert not conn.watching
