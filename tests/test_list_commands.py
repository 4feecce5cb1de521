"""List commands against a real server, on a single connection and on a pool."""
import asyncio

import pytest

from aioredis_cy.errors import ReplyError

from .helpers import wait_until_blocked


async def assert_still_works(redis):
    """A refused call sent nothing: the client keeps answering in order."""
    assert await redis.rpush("alive", "yes") >= 1
    assert await redis.lindex("alive", -1, encoding="utf-8") == "yes"


# -- pushing and popping -----------------------------------------------------------


async def test_push_pop(redis):
    assert await redis.lpush("l", "b") == 1
    assert await redis.lpush("l", "a", 0) == 3
    assert await redis.rpush("l", "c", b"d", 1.5) == 6
    assert await redis.lrange("l", 0, -1) == [b"0", b"a", b"b", b"c", b"d", b"1.5"]
    assert await redis.lpop("l") == b"0"
    assert await redis.rpop("l", encoding="utf-8") == "1.5"
    assert await redis.lpop("l", count=2) == [b"a", b"b"]
    assert await redis.rpop("l", count=5, encoding="utf-8") == ["d", "c"]
    assert await redis.lpop("l") is None
    assert await redis.rpop("l") is None
    assert await redis.lpop("l", count=2) is None
    await redis.rpush("l", "x")
    assert await redis.lpop("l", count=0) == []


async def test_pushx(redis):
    assert await redis.lpushx("l", "a") == 0
    assert await redis.rpushx("l", "a") == 0
    assert await redis.exists("l") == 0
    await redis.rpush("l", "m")
    assert await redis.lpushx("l", "a") == 2
    assert await redis.rpushx("l", "z") == 3
    assert await redis.lrange("l", 0, -1, encoding="utf-8") == ["a", "m", "z"]


async def test_pop_bad_count(redis):
    await redis.rpush("l", "a")
    for method in (redis.lpop, redis.rpop):
        with pytest.raises(TypeError):
            method("l", count="1")
        with pytest.raises(ValueError):
            method("l", count=-1)
    assert await redis.llen("l") == 1
    await assert_still_works(redis)


async def test_rpoplpush(redis):
    await redis.rpush("src", "a", "b")
    assert await redis.rpoplpush("src", "dst") == b"b"
    assert await redis.rpoplpush("src", "dst", encoding="utf-8") == "a"
    assert await redis.rpoplpush("src", "dst") is None
    assert await redis.lrange("dst", 0, -1) == [b"a", b"b"]


async def test_lmove(redis):
    await redis.rpush("src", "a", "b", "c")
    assert await redis.lmove("src", "dst", "LEFT", "RIGHT") == b"a"
    assert await redis.lmove("src", "dst", "right", b"left", encoding="utf-8") == "c"
    assert await redis.lmove("src", "src", b"RIGHT", "Left") == b"b"
    assert await redis.lmove("missing", "dst", "LEFT", "LEFT") is None
    assert await redis.lrange("dst", 0, -1) == [b"c", b"a"]
    for bad in (("UP", "LEFT"), ("LEFT", None), (0, "LEFT")):
        with pytest.raises(ValueError):
            redis.lmove("src", "dst", *bad)
    assert await redis.llen("dst") == 2
    await assert_still_works(redis)


async def test_lmpop(redis):
    assert await redis.lmpop("a", "b") is None
    await redis.rpush("b", 1, 2, 3)
    assert await redis.lmpop("a", "b") == (b"b", [b"1"])
    assert await redis.lmpop("a", "b", where="RIGHT", count=5, encoding="utf-8") == ("b", ["3", "2"])
    await redis.rpush("a", "x", "y")
    assert await redis.lmpop("a", "b", where=b"right") == (b"a", [b"y"])
    assert await redis.lmpop("a", count=2) == (b"a", [b"x"])
    with pytest.raises(ValueError):
        redis.lmpop("a", where="MIDDLE")
    with pytest.raises(ValueError):
        redis.lmpop("a", count=0)
    with pytest.raises(TypeError):
        redis.lmpop("a", count="1")
    await assert_still_works(redis)


# -- blocking commands ------------------------------------------------------------------


async def test_blpop_brpop(redis):
    await redis.rpush("b", "1", "2", "3")
    assert await redis.blpop("a", "b") == [b"b", b"1"]
    assert await redis.brpop("a", "b", timeout=1, encoding="utf-8") == ["b", "3"]
    assert await redis.blpop("b", timeout=0.5) == [b"b", b"2"]
    assert await redis.blpop("a", "b", timeout=0.01) is None
    assert await redis.brpop("a", timeout=0.01) is None


async def test_brpoplpush(redis):
    await redis.rpush("src", "a", "b")
    assert await redis.brpoplpush("src", "dst") == b"b"
    assert await redis.brpoplpush("src", "dst", 1, encoding="utf-8") == "a"
    assert await redis.brpoplpush("src", "dst", timeout=0.01) is None
    assert await redis.lrange("dst", 0, -1) == [b"a", b"b"]


async def test_blmove(redis):
    await redis.rpush("src", "a", "b")
    assert await redis.blmove("src", "dst", "LEFT", "LEFT") == b"a"
    assert await redis.blmove("src", "dst", "RIGHT", "RIGHT", 1, encoding="utf-8") == "b"
    assert await redis.blmove("src", "dst", "LEFT", "LEFT", timeout=0.01) is None
    assert await redis.lrange("dst", 0, -1) == [b"a", b"b"]


async def test_blmpop(redis):
    await redis.rpush("b", 1, 2, 3)
    assert await redis.blmpop("a", "b") == (b"b", [b"1"])
    assert await redis.blmpop("a", "b", timeout=1, where="RIGHT", count=2, encoding="utf-8") == (
        "b",
        ["3", "2"],
    )
    assert await redis.blmpop("a", "b", timeout=0.01) is None


@pytest.mark.parametrize("timeout, exc", [("1", TypeError), (None, TypeError), (-1, ValueError)])
async def test_blocking_bad_timeout(redis, timeout, exc):
    await redis.rpush("l", "a")
    calls = [
        lambda: redis.blpop("l", timeout=timeout),
        lambda: redis.brpop("l", timeout=timeout),
        lambda: redis.brpoplpush("l", "d", timeout=timeout),
        lambda: redis.blmove("l", "d", "LEFT", "LEFT", timeout=timeout),
        lambda: redis.blmpop("l", timeout=timeout),
    ]
    for call in calls:
        with pytest.raises(exc):
            call()
    assert await redis.llen("l") == 1
    await assert_still_works(redis)


async def test_blocking_bad_arguments(redis):
    with pytest.raises(ValueError):
        redis.blmove("l", "d", "LEFT", "DOWN")
    with pytest.raises(ValueError):
        redis.blmpop("l", where="TOP")
    with pytest.raises(ValueError):
        redis.blmpop("l", count=0)
    await assert_still_works(redis)


async def test_blocking_waits_for_push(redis, create_redis):
    other = await create_redis()
    waiters = [
        asyncio.ensure_future(redis.blpop("q1")),
        asyncio.ensure_future(redis.blmove("q2", "dst", "LEFT", "RIGHT", encoding="utf-8")),
        asyncio.ensure_future(redis.blmpop("q3", where="RIGHT", count=2)),
    ]
    await wait_until_blocked(other)
    assert await other.rpush("q1", "one") == 1
    assert await other.rpush("q2", "two") == 1
    assert await other.rpush("q3", "a", "b", "c") == 3
    assert await waiters[0] == [b"q1", b"one"]
    assert await waiters[1] == "two"
    assert await waiters[2] == (b"q3", [b"c", b"b"])
    assert await redis.lrange("dst", 0, -1) == [b"two"]


# -- reading and editing ------------------------------------------------------------------


async def test_lindex_llen_lrange(redis):
    assert await redis.llen("l") == 0
    assert await redis.lrange("l", 0, -1) == []
    await redis.rpush("l", "a", "b", "c")
    assert await redis.llen("l") == 3
    assert await redis.lindex("l", 0) == b"a"
    assert await redis.lindex("l", -1, encoding="utf-8") == "c"
    assert await redis.lindex("l", 10) is None
    assert await redis.lrange("l", 1, 1) == [b"b"]
    assert await redis.lrange("l", -2, 100, encoding="utf-8") == ["b", "c"]
    for bad in ("0", 1.0, None):
        with pytest.raises(TypeError):
            redis.lindex("l", bad)
        with pytest.raises(TypeError):
            redis.lrange("l", bad, -1)
        with pytest.raises(TypeError):
            redis.lrange("l", 0, bad)
    await assert_still_works(redis)


async def test_linsert(redis):
    assert await redis.linsert("l", "a", "x") == 0
    await redis.rpush("l", "a", "b")
    assert await redis.linsert("l", "a", "x") == 3
    assert await redis.linsert("l", "a", "y", before=True) == 4
    assert await redis.linsert("l", "missing", "z") == -1
    assert await redis.lrange("l", 0, -1) == [b"y", b"a", b"x", b"b"]


async def test_lpos(redis):
    assert await redis.lpos("l", "a") is None
    await redis.rpush("l", "a", "b", "c", "1", "2", "3", "c", "c")
    assert await redis.lpos("l", "c") == 2
    assert await redis.lpos("l", "x") is None
    assert await redis.lpos("l", "c", rank=2) == 6
    assert await redis.lpos("l", "c", rank=-1) == 7
    assert await redis.lpos("l", "c", count=0) == [2, 6, 7]
    assert await redis.lpos("l", "c", count=2, rank=-1) == [7, 6]
    assert await redis.lpos("l", "x", count=0) == []
    assert await redis.lpos("l", "c", maxlen=2) is None
    assert await redis.lpos("l", "c", count=0, maxlen=7) == [2, 6]
    assert await redis.lpos("l", 1) == 3


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"rank": 0}, ValueError),
        ({"rank": "1"}, TypeError),
        ({"count": -1}, ValueError),
        ({"count": 1.0}, TypeError),
        ({"maxlen": -1}, ValueError),
        ({"maxlen": None, "count": True}, TypeError),
    ],
)
async def test_lpos_bad_arguments(redis, kwargs, exc):
    with pytest.raises(exc):
        redis.lpos("l", "a", **kwargs)
    await assert_still_works(redis)


async def test_lrem(redis):
    await redis.rpush("l", "a", "b", "a", "c", "a")
    assert await redis.lrem("l", 1, "a") == 1
    assert await redis.lrem("l", -1, "a") == 1
    assert await redis.lrange("l", 0, -1) == [b"b", b"a", b"c"]
    assert await redis.lrem("l", 0, "a") == 1
    assert await redis.lrem("l", 0, "missing") == 0
    with pytest.raises(TypeError):
        redis.lrem("l", "0", "b")
    assert await redis.lrange("l", 0, -1) == [b"b", b"c"]


async def test_lset(redis):
    await redis.rpush("l", "a", "b")
    assert await redis.lset("l", 0, "x") == b"OK"
    assert await redis.lset("l", -1, "y") == b"OK"
    assert await redis.lrange("l", 0, -1) == [b"x", b"y"]
    with pytest.raises(ReplyError, match="index out of range"):
        await redis.lset("l", 5, "z")
    with pytest.raises(ReplyError, match="no such key"):
        await redis.lset("missing", 0, "z")
    with pytest.raises(TypeError):
        redis.lset("l", "0", "z")
    await assert_still_works(redis)


async def test_ltrim(redis):
    await redis.rpush("l", "a", "b", "c", "d")
    assert await redis.ltrim("l", 1, -2) is True
    assert await redis.lrange("l", 0, -1) == [b"b", b"c"]
    assert await redis.ltrim("missing", 0, 1) is True
    with pytest.raises(TypeError):
        redis.ltrim("l", 0, "1")
    with pytest.raises(TypeError):
        redis.ltrim("l", None, 1)
    assert await redis.llen("l") == 2


async def test_wrong_type(redis):
    await redis.set("s", "v")
    for call in (redis.lpush("s", 1), redis.lrange("s", 0, -1), redis.lpos("s", "v"), redis.lmpop("s")):
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await call
    await assert_still_works(redis)


# -- transactions and pipelines ----------------------------------------------------------


async def test_multi_exec(redis):
    tr = redis.multi_exec()
    f1 = tr.rpush("l", "a", "b", "c", "d")
    f2 = tr.lpop("l", encoding="utf-8")
    f3 = tr.lmpop("l", where="RIGHT")
    f4 = tr.lmove("l", "m", "LEFT", "LEFT")
    f5 = tr.ltrim("l", 0, -1)
    f6 = tr.lpos("l", "c", count=0)
    f7 = tr.lrange("m", 0, -1)
    f8 = tr.blpop("l", timeout=0)
    await tr.execute()
    assert await f1 == 4
    assert await f2 == "a"
    assert await f3 == (b"l", [b"d"])
    assert await f4 == b"b"
    assert await f5 is True
    assert await f6 == [0]
    assert await f7 == [b"b"]
    assert await f8 == [b"l", b"c"]


async def test_pipeline(redis):
    pipe = redis.pipeline()
    f1 = pipe.lpush("l", 3, 2, 1)
    f2 = pipe.lindex("l", 0)
    f3 = pipe.linsert("l", 1, 0, before=True)
    f4 = pipe.lrange("l", 0, -1, encoding="utf-8")
    f5 = pipe.lmpop("nothing", "l", count=2)
    f6 = pipe.rpoplpush("l", "l")
    f7 = pipe.brpop("l", timeout=0.01)
    f8 = pipe.llen("l")
    await pipe.execute()
    assert await f1 == 3
    assert await f2 == b"1"
    assert await f3 == 4
    assert await f4 == ["0", "1", "2", "3"]
    assert await f5 == (b"l", [b"0", b"1"])
    assert await f6 == b"3"
    assert await f7 == [b"l", b"2"]
    assert await f8 == 1
