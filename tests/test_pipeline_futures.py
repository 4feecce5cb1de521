"""The futures a pipeline's commands return (BufferedCommand): lazy, but futures in every way callers see."""
import asyncio
import gc
import sys
import weakref

import pytest

from aioredis_cy.commands import Redis
from aioredis_cy.commands.hash import HashCommandsMixin
from aioredis_cy.commands.string import StringCommandsMixin
from aioredis_cy.errors import ConnectionClosedError, MultiExecError, PipelineError, ReplyError
from aioredis_cy.util import _NOTSET

BATCHES = ["multi_exec", "pipeline"]


@pytest.fixture
async def client(create_connection):
    """A Redis client on one connection with the parametrized reader, its db flushed."""
    redis = Redis(await create_connection())
    await redis.flushdb()
    return redis


@pytest.mark.parametrize("batch", BATCHES)
async def test_future_interface(client, batch):
    pipe = getattr(client, batch)()
    fut = pipe.set("k", "v")
    assert isinstance(fut, asyncio.Future) and asyncio.isfuture(fut)
    assert fut.get_loop() is asyncio.get_running_loop()
    assert not fut.done() and not fut.cancelled()
    with pytest.raises(asyncio.InvalidStateError):
        fut.result()
    with pytest.raises(asyncio.InvalidStateError):
        fut.exception()
    assert await pipe.execute() == [True]
    assert fut.done() and fut.result() is True and fut.exception() is None
    assert not fut.cancel()
    assert await fut is True
    assert await asyncio.gather(fut, asyncio.ensure_future(fut)) == [True, True]
    with pytest.raises(asyncio.InvalidStateError):
        fut.set_result(False)


@pytest.mark.parametrize("batch", BATCHES)
async def test_awaited_before_execute(client, batch):
    await client.set("k", "old")
    pipe = getattr(client, batch)()
    first = pipe.get("k")
    second = pipe.set("k", "new")
    third = pipe.incr("k")   # fails on the server
    early = asyncio.ensure_future(first)
    gathered = asyncio.ensure_future(asyncio.gather(first, second, third, return_exceptions=True))
    called = []
    second.add_done_callback(lambda fut: called.append(fut.result()))
    waited = asyncio.ensure_future(asyncio.wait_for(second, timeout=30))
    await asyncio.sleep(0)
    assert not early.done() and not gathered.done()
    with pytest.raises(PipelineError if batch == "pipeline" else MultiExecError):
        await pipe.execute()
    assert await early == b"old"
    assert await waited is True
    one, two, three = await gathered
    assert (one, two) == (b"old", True) and isinstance(three, ReplyError)
    assert called == [True]
    assert first.result() == b"old" and isinstance(third.exception(), ReplyError)


@pytest.mark.parametrize("batch", BATCHES)
async def test_callback_added_after_execute(client, batch):
    pipe = getattr(client, batch)()
    fut = pipe.set("k", "v")
    await pipe.execute()
    called = asyncio.get_running_loop().create_future()
    fut.add_done_callback(lambda done: called.set_result(done.result()))
    assert await called is True
    assert fut.remove_done_callback(print) == 0


@pytest.mark.parametrize("batch", BATCHES)
async def test_cancelled_before_execute(client, batch):
    pipe = getattr(client, batch)()
    kept = pipe.set("a", "1")
    dropped = pipe.set("b", "2")
    assert dropped.cancel("no longer needed") and dropped.cancelled()
    assert not dropped.cancel()
    results = await pipe.execute(return_exceptions=True)
    assert results[0] is True and isinstance(results[1], asyncio.CancelledError)
    assert kept.result() is True
    with pytest.raises(asyncio.CancelledError, match="no longer needed"):
        dropped.result()
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert await client.get("b") == b"2"   # sent anyway: the batch leaves whole


@pytest.mark.parametrize("batch", BATCHES)
async def test_gather_of_cancelled_commands(client, batch):
    pipe = getattr(client, batch)()
    kept = pipe.set("a", "1")
    dropped = pipe.set("b", "2")
    dropped.cancel("dropped")
    before = asyncio.ensure_future(asyncio.gather(kept, dropped, return_exceptions=True))
    await pipe.execute(return_exceptions=True)
    for gathered in (await before, await asyncio.gather(kept, dropped, return_exceptions=True)):
        assert gathered[0] is True and isinstance(gathered[1], asyncio.CancelledError)
        assert gathered[1].args == ("dropped",)
    with pytest.raises(asyncio.CancelledError):
        await asyncio.gather(kept, dropped)


@pytest.mark.parametrize("batch", BATCHES)
async def test_gather_cancelled_while_it_waits(client, batch):
    pipe = getattr(client, batch)()
    futures = [pipe.set("a", "1"), pipe.set("b", "2")]
    gathered = asyncio.ensure_future(asyncio.gather(*futures, return_exceptions=True))
    await asyncio.sleep(0)
    gathered.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gathered
    assert all(fut.cancelled() for fut in futures)
    results = await pipe.execute(return_exceptions=True)
    assert all(isinstance(result, asyncio.CancelledError) for result in results)


@pytest.mark.parametrize("batch", BATCHES)
async def test_cancelled_execute_cancels_early_waiters(client, batch):
    pipe = getattr(client, batch)()
    fut = pipe.set("k", "v")
    waiter = asyncio.ensure_future(fut)
    other = client.get("other")   # another caller's command on the same connection
    task = asyncio.ensure_future(pipe.execute())
    for _ in range(100):
        if pipe._sent is not None:
            break
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert fut.cancelled()
    assert await other is None
    assert await client.get("k") == b"v"   # the replies were read and dropped in order
    assert await client.ping() == b"PONG"


@pytest.mark.parametrize("batch", BATCHES)
async def test_bad_call_holds_its_error(client, batch):
    pipe = getattr(client, batch)()
    bad = pipe.incrby("k", "not a number")
    assert isinstance(bad, asyncio.Future) and bad.done()
    assert isinstance(bad.exception(), TypeError)
    with pytest.raises(TypeError):
        await bad
    with pytest.raises(PipelineError if batch == "pipeline" else MultiExecError):
        await pipe.execute()


async def test_other_callers_interleaved_with_a_pipeline(client):
    await client.mset(*[part for i in range(300) for part in (f"key:{i}", f"value:{i}")])
    pipe = client.pipeline()
    futures = [pipe.get(f"key:{i}") for i in range(300)]
    before = [client.get(f"key:{i}") for i in range(0, 300, 7)]
    running = asyncio.ensure_future(pipe.execute())
    await asyncio.sleep(0)
    after = [client.get(f"key:{i}") for i in range(3, 300, 11)]
    results = await running
    assert results == [f"value:{i}".encode() for i in range(300)]
    assert [fut.result() for fut in futures] == results
    assert await asyncio.gather(*before) == [f"value:{i}".encode() for i in range(0, 300, 7)]
    assert await asyncio.gather(*after) == [f"value:{i}".encode() for i in range(3, 300, 11)]


@pytest.mark.parametrize("batch", BATCHES)
async def test_connection_lost_mid_batch(create_connection, fault_proxy, batch):
    proxy = await fault_proxy()
    client = Redis(await create_connection(proxy.address))
    await client.mset(*[part for i in range(500) for part in (f"key:{i}", f"value:{i:04d}")])
    pipe = getattr(client, batch)()
    futures = [pipe.get(f"key:{i}") for i in range(500)]
    early = asyncio.ensure_future(asyncio.gather(*futures[:10], return_exceptions=True))
    proxy.cut_after(2000)   # somewhere inside the replies (or the QUEUED lines)
    with pytest.raises(PipelineError if batch == "pipeline" else MultiExecError) as info:
        await pipe.execute()
    assert any(isinstance(error, ConnectionClosedError) for error in info.value.args[1])
    for i, fut in enumerate(futures):   # each its own value, or the loss: never another's reply
        outcome = fut.exception() or fut.result()
        expected = f"value:{i:04d}".encode()
        assert outcome == expected or isinstance(outcome, ConnectionClosedError), (i, outcome)
    assert [fut.exception() or fut.result() for fut in futures[:10]] == await early
    if batch == "pipeline":   # cut after the first replies
        assert 0 < sum(fut.exception() is None for fut in futures) < len(futures)


async def test_pipeline_freed_without_the_garbage_collector(client):
    pipe = client.pipeline()
    fut = pipe.set("k", "v")
    await pipe.execute()
    ref = weakref.ref(pipe)
    gc.disable()
    try:
        del pipe
        assert ref() is None
    finally:
        gc.enable()
    assert fut.result() is True


async def test_repr_shows_no_arguments(client):
    pipe = client.pipeline()
    fut = pipe.connection.execute(b"AUTH", "s3cret-password")   # recorded as it is
    assert "s3cret" not in repr(fut) and "pending" in repr(fut)
    await pipe.execute(return_exceptions=True)
    assert "s3cret" not in repr(fut) and "finished" in repr(fut)


def _record(future):
    return future.command, future.args, future.encoding, future.converter


@pytest.mark.parametrize("batch", BATCHES)
async def test_shortcut_calls_record_what_the_methods_record(client, batch):
    # get/set/incr/decr with positional arguments only are recorded in C, without running
    # the method; with a keyword (here one that changes nothing) the method runs.
    pipe = getattr(client, batch)()
    pairs = [(pipe.set("k", "v"), pipe.set("k", "v", expire=0)),
             (pipe.get("k"), pipe.get("k", encoding=_NOTSET)),
             (pipe.set("n", 1), pipe.set("n", 1, exist=None)),
             (pipe.incr("n"), pipe.incr(key="n")),
             (pipe.decr("n"), pipe.decr(key="n")),
             (pipe.hset("h", "f", "x"), pipe.hset("h", "f", "x")),
             (pipe.hget("h", "f"), pipe.hget("h", "f", encoding=_NOTSET)),
             (pipe.hgetall("h"), pipe.hgetall("h", encoding=_NOTSET))]
    for shortcut, method in pairs:
        assert _record(shortcut) == _record(method)
    results = await pipe.execute()
    assert results == [True, True, b"v", b"v", True, True, 2, 3, 2, 1, 1, 0, b"x", b"x",
                       {b"f": b"x"}, {b"f": b"x"}]


async def test_shortcut_calls_do_not_run_the_method(client):
    pipe = client.pipeline()
    ran = []

    def calls(frame, event, arg):
        if event == "call":
            ran.append(frame.f_code)

    sys.setprofile(calls)
    try:
        pipe.set("k", "v")
        pipe.get("k")
        pipe.hgetall("h")
        shortcut = list(ran)
        pipe.set("k", "v", expire=0)
    finally:
        sys.setprofile(None)
    stock = StringCommandsMixin.set.__code__
    methods = {StringCommandsMixin.get.__code__, HashCommandsMixin.hgetall.__code__, stock}
    assert not methods & set(shortcut)
    assert stock in ran
    assert await pipe.execute() == [True, b"v", {}, True]


@pytest.mark.parametrize("batch", BATCHES)
async def test_shortcut_bad_arguments_fail_at_the_call_and_nothing_is_sent(client, batch):
    other = Redis(client._pool_or_conn)
    pipe = getattr(client, batch)()
    first = pipe.set("k", "v")
    bad = [pipe.set("k", None), pipe.get(None), pipe.incr(object()), pipe.get()]
    last = pipe.set("k2", "v2")
    for fut in bad:
        assert fut.done() and isinstance(fut.exception(), TypeError)
    assert await other.exists("k", "k2") == 0   # nothing sent before execute()
    with pytest.raises(PipelineError if batch == "pipeline" else MultiExecError) as info:
        await pipe.execute()
    assert [type(error) for error in info.value.args[1]] == [TypeError] * 4
    assert first.result() is True and last.result() is True
    assert await other.mget("k", "k2") == [b"v", b"v2"]


async def test_overridden_methods_are_not_shortcut(create_connection):
    calls = []

    class Counting(Redis):
        def set(self, key, value, **kwargs):
            calls.append(("set", key))
            return super().set(key, value, **kwargs)

        def execute(self, command, *args, **kwargs):
            calls.append(command)
            return super().execute(command, *args, **kwargs)

    client = Counting(await create_connection())
    pipe = client.pipeline()
    pipe.set("k", "v")
    pipe.get("k")
    pipe.incr("n")
    assert calls == [("set", "k"), b"SET", b"GET", b"INCR"]
    assert await pipe.execute() == [True, b"v", 1]
    await client.delete("k", "n")
