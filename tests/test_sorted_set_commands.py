"""Sorted set commands against a real server, on a single connection and on a pool."""
import asyncio

import pytest

from aioredis_cy.commands.sorted_set import int_or_float, pairs_int_or_float
from aioredis_cy.errors import ReplyError

from .helpers import require, wait_until_blocked

INF = float("inf")


async def fill(redis, key=b"z", **items):
    pairs = []
    for member, score in items.items():
        pairs += [score, member]
    assert await redis.zadd(key, *pairs) == len(items)


# -- reply converters -------------------------------------------------------


def test_int_or_float():
    assert int_or_float(b"3") == 3 and type(int_or_float(b"3")) is int
    assert int_or_float("2.5") == 2.5
    assert int_or_float(b"-inf") == -INF
    assert int_or_float(1.5) == 1.5
    assert pairs_int_or_float([b"a", b"1", b"b", b"1.5"]) == [(b"a", 1), (b"b", 1.5)]


# -- adding, counting, scores ----------------------------------------------


async def test_zadd(redis):
    assert await redis.zadd("z", 1, "a") == 1
    assert await redis.zadd("z", 2, "b", 3.5, "c", 1, "a") == 2
    assert await redis.zrange("z", withscores=True) == [(b"a", 1), (b"b", 2), (b"c", 3.5)]
    assert await redis.zadd("z", 5, "a", exist=redis.ZSET_IF_NOT_EXIST) == 0
    assert await redis.zadd("z", 5, "x", exist=redis.ZSET_IF_EXIST) == 0
    assert await redis.zadd("z", 5, "a", exist=redis.ZSET_IF_EXIST, changed=True) == 1
    assert await redis.zscore("z", "a") == 5
    assert await redis.zscore("z", "x") is None


async def test_zadd_incr(redis):
    assert await redis.zadd("z", 2, "a", incr=True) == b"2"
    assert await redis.zadd("z", 1.5, "a", incr=True) == b"3.5"
    assert await redis.zadd("z", 1, "a", incr=True, exist=redis.ZSET_IF_NOT_EXIST) is None


async def test_zadd_gt_lt(redis, server):
    require(server, 6, 2)
    await fill(redis, a=5)
    assert await redis.zadd("z", 3, "a", gt=True, changed=True) == 0
    assert await redis.zadd("z", 7, "a", gt=True, changed=True) == 1
    assert await redis.zadd("z", 9, "a", lt=True, changed=True) == 0
    assert await redis.zadd("z", 1, "a", lt=True, exist=redis.ZSET_IF_EXIST, changed=True) == 1
    assert await redis.zscore("z", "a") == 1


@pytest.mark.parametrize(
    "args, kwargs, exc",
    [
        (("1", "a"), {}, TypeError),
        ((True, "a"), {}, TypeError),
        ((1, "a", 2), {}, TypeError),
        ((1, "a", "2", "b"), {}, TypeError),
        ((1, "a", 2, "b"), {"incr": True}, ValueError),
        ((1, "a"), {"gt": True, "lt": True}, ValueError),
        ((1, "a"), {"gt": True, "exist": "ZSET_IF_NOT_EXIST"}, ValueError),
        ((1, "a"), {"exist": "NX"}, ValueError),
    ],
)
async def test_zadd_bad_arguments(redis, args, kwargs, exc):
    with pytest.raises(exc):
        redis.zadd("z", *args, **kwargs)
    assert await redis.zcard("z") == 0


async def test_zcard_zcount(redis):
    await fill(redis, a=1, b=2, c=3)
    assert await redis.zcard("z") == 3
    assert await redis.zcard("nokey") == 0
    assert await redis.zcount("z") == 3
    assert await redis.zcount("z", 1, 2) == 2
    assert await redis.zcount("z", 1, 3, exclude=redis.ZSET_EXCLUDE_MIN) == 2
    assert await redis.zcount("z", 1, 3, exclude=redis.ZSET_EXCLUDE_MAX) == 2
    assert await redis.zcount("z", 1, 3, exclude=redis.ZSET_EXCLUDE_BOTH) == 1
    assert await redis.zcount("z", -INF, 1.5) == 1
    with pytest.raises(TypeError):
        redis.zcount("z", "1", 2)
    with pytest.raises(TypeError):
        redis.zcount("z", 1, None)
    with pytest.raises(ValueError):
        redis.zcount("z", 3, 1)
    with pytest.raises(ValueError):
        redis.zcount("z", exclude="both")
    assert await redis.zcount("z") == 3


async def test_zincrby(redis):
    assert await redis.zincrby("z", 1, "a") == 1
    res = await redis.zincrby("z", 1.5, "a")
    assert res == 2.5 and isinstance(res, float)
    assert await redis.zincrby("z", -0.5, "a") == 2
    with pytest.raises(TypeError):
        redis.zincrby("z", "1", "a")
    assert await redis.zscore("z", "a") == 2


async def test_zscore_zmscore(redis, server):
    await fill(redis, a=1, b=2.25)
    assert await redis.zscore("z", "b") == 2.25
    require(server, 6, 2)
    assert await redis.zmscore("z", "a", "x", "b") == [1, None, 2.25]
    assert await redis.zmscore("nokey", "a") == [None]


async def test_zrank_zrevrank(redis):
    await fill(redis, a=1, b=2, c=3)
    assert await redis.zrank("z", "a") == 0
    assert await redis.zrevrank("z", "a") == 2
    assert await redis.zrank("z", "x") is None
    assert await redis.zrevrank("z", "x") is None


# -- ranges ----------------------------------------------------------------


async def test_zrange_zrevrange(redis):
    await fill(redis, a=1, b=2, c=3.5)
    assert await redis.zrange("z") == [b"a", b"b", b"c"]
    assert await redis.zrange("z", 1, 1) == [b"b"]
    assert await redis.zrange("z", 0, -1, True) == [(b"a", 1), (b"b", 2), (b"c", 3.5)]
    assert await redis.zrange("z", encoding="utf-8") == ["a", "b", "c"]
    assert await redis.zrange("z", withscores=True, encoding="utf-8") == [("a", 1), ("b", 2), ("c", 3.5)]
    assert await redis.zrevrange("z", 0, -1) == [b"c", b"b", b"a"]
    assert await redis.zrevrange("z", 0, 0, withscores=True) == [(b"c", 3.5)]
    assert await redis.zrevrange("z", 0, 0, encoding="utf-8") == ["c"]
    assert await redis.zrange("nokey") == []
    with pytest.raises(TypeError):
        redis.zrange("z", "0")
    with pytest.raises(TypeError):
        redis.zrevrange("z", 0, 1.5)
    assert await redis.zcard("z") == 3


async def test_zrangebyscore(redis):
    await fill(redis, a=1, b=2, c=3, d=4, e=INF)
    assert await redis.zrangebyscore("z") == [b"a", b"b", b"c", b"d", b"e"]
    assert await redis.zrangebyscore("z", 2, 3) == [b"b", b"c"]
    assert await redis.zrangebyscore("z", 1, 4, exclude=redis.ZSET_EXCLUDE_BOTH) == [b"b", b"c"]
    assert await redis.zrangebyscore("z", 1, 4, exclude=redis.ZSET_EXCLUDE_MIN) == [b"b", b"c", b"d"]
    assert await redis.zrangebyscore("z", 1, 4, exclude=redis.ZSET_EXCLUDE_MAX) == [b"a", b"b", b"c"]
    assert await redis.zrangebyscore("z", 3, INF, withscores=True) == [(b"c", 3), (b"d", 4), (b"e", INF)]
    assert await redis.zrangebyscore("z", offset=1, count=2) == [b"b", b"c"]
    assert await redis.zrangebyscore("z", 1, 2, withscores=True, encoding="utf-8") == [("a", 1), ("b", 2)]
    for kwargs in ({"offset": 1}, {"count": 1}, {"offset": "1", "count": 1}, {"offset": 0, "count": 1.0}):
        with pytest.raises(TypeError):
            redis.zrangebyscore("z", **kwargs)
    with pytest.raises(TypeError):
        redis.zrangebyscore("z", b"1", 2)
    assert await redis.zrangebyscore("z", 0, 1) == [b"a"]


async def test_zrevrangebyscore(redis):
    await fill(redis, a=1, b=2, c=3, d=4)
    assert await redis.zrevrangebyscore("z") == [b"d", b"c", b"b", b"a"]
    assert await redis.zrevrangebyscore("z", 3, 2) == [b"c", b"b"]
    assert await redis.zrevrangebyscore("z", 4, 1, exclude=redis.ZSET_EXCLUDE_BOTH) == [b"c", b"b"]
    assert await redis.zrevrangebyscore("z", 4, 1, exclude=redis.ZSET_EXCLUDE_MAX) == [b"c", b"b", b"a"]
    assert await redis.zrevrangebyscore("z", withscores=True, offset=1, count=2) == [(b"c", 3), (b"b", 2)]
    assert await redis.zrevrangebyscore("z", 1, 1, encoding="utf-8") == ["a"]
    with pytest.raises(TypeError):
        redis.zrevrangebyscore("z", offset=1)
    with pytest.raises(TypeError):
        redis.zrevrangebyscore("z", "+inf")


async def test_zrangebylex_zlexcount(redis):
    await fill(redis, a=0, b=0, c=0, d=0, e=0)
    assert await redis.zrangebylex("z") == [b"a", b"b", b"c", b"d", b"e"]
    assert await redis.zrangebylex("z", b"b", b"d") == [b"b", b"c", b"d"]
    assert await redis.zrangebylex("z", "b", "d", include_min=False, include_max=False) == [b"c"]
    assert await redis.zrangebylex("z", offset=1, count=2) == [b"b", b"c"]
    assert await redis.zrangebylex("z", b"d", encoding="utf-8") == ["d", "e"]
    assert await redis.zrevrangebylex("z") == [b"e", b"d", b"c", b"b", b"a"]
    assert await redis.zrevrangebylex("z", b"b", b"d", include_max=False) == [b"c", b"b"]
    assert await redis.zrevrangebylex("z", offset=0, count=1, encoding="utf-8") == ["e"]
    assert await redis.zlexcount("z") == 5
    assert await redis.zlexcount("z", b"b", b"d", include_min=False) == 2
    for method in (redis.zrangebylex, redis.zrevrangebylex, redis.zlexcount, redis.zremrangebylex):
        with pytest.raises(TypeError):
            method("z", 1, b"+")
        with pytest.raises(TypeError):
            method("z", b"-", None)
    with pytest.raises(TypeError):
        redis.zrangebylex("z", offset=1)
    assert await redis.zlexcount("z") == 5


async def test_zrangestore(redis, server):
    require(server, 6, 2)
    await fill(redis, a=1, b=2, c=3, d=4)
    assert await redis.zrangestore("dst", "z", 1, 2) == 2
    assert await redis.zrange("dst", withscores=True) == [(b"b", 2), (b"c", 3)]
    assert await redis.zrangestore("dst", "z", 0, 0, rev=True) == 1
    assert await redis.zrange("dst") == [b"d"]
    assert await redis.zrangestore("dst", "z", 1, 4, byscore=True, exclude=redis.ZSET_EXCLUDE_MIN) == 3
    assert await redis.zrange("dst") == [b"b", b"c", b"d"]
    assert await redis.zrangestore("dst", "z", 4, 1, byscore=True, rev=True, offset=0, count=2) == 2
    assert await redis.zrange("dst") == [b"c", b"d"]
    excl = redis.ZSET_EXCLUDE_MIN
    assert await redis.zrangestore("dst", "z", 4, 1, byscore=True, rev=True, exclude=excl) == 3
    assert await redis.zrange("dst") == [b"b", b"c", b"d"]
    await fill(redis, "lex", a=0, b=0, c=0, d=0)
    assert await redis.zrangestore("dst", "lex", b"b", b"+", bylex=True) == 3
    assert await redis.zrangestore("dst", "lex", b"a", b"c", bylex=True, exclude=redis.ZSET_EXCLUDE_BOTH) == 1
    assert await redis.zrange("dst") == [b"b"]
    assert await redis.zrangestore("dst", "lex", b"+", b"b", bylex=True, rev=True, offset=0, count=2) == 2
    assert await redis.zrange("dst") == [b"c", b"d"]
    with pytest.raises(ValueError):
        redis.zrangestore("dst", "z", 0, 1, byscore=True, bylex=True)
    with pytest.raises(ValueError):
        redis.zrangestore("dst", "z", 0, 1, offset=0, count=1)
    with pytest.raises(TypeError):
        redis.zrangestore("dst", "z", "0", 1)
    with pytest.raises(TypeError):
        redis.zrangestore("dst", "z", b"a", 1, byscore=True)
    with pytest.raises(TypeError):
        redis.zrangestore("dst", "z", 1, b"a", bylex=True)
    assert await redis.zrangestore("dst", "missing", 0, -1) == 0


async def test_zrandmember(redis, server):
    require(server, 6, 2)
    assert await redis.zrandmember("z") is None
    assert await redis.zrandmember("z", 2) == []
    await fill(redis, a=1, b=2.5)
    assert await redis.zrandmember("z") in (b"a", b"b")
    assert await redis.zrandmember("z", encoding="utf-8") in ("a", "b")
    assert sorted(await redis.zrandmember("z", 5)) == [b"a", b"b"]
    assert len(await redis.zrandmember("z", -5)) == 5
    assert sorted(await redis.zrandmember("z", 2, withscores=True)) == [(b"a", 1), (b"b", 2.5)]
    res = await redis.zrandmember("z", 2, withscores=True, encoding="utf-8")
    assert sorted(res) == [("a", 1), ("b", 2.5)]
    with pytest.raises(ValueError):
        redis.zrandmember("z", withscores=True)
    with pytest.raises(TypeError):
        redis.zrandmember("z", "2")
    assert await redis.zcard("z") == 2


# -- removal and pops --------------------------------------------------------


async def test_zrem_and_zremrange(redis):
    await fill(redis, a=1, b=2, c=3, d=4, e=5)
    assert await redis.zrem("z", "a", "x") == 1
    assert await redis.zremrangebyrank("z", 0, 0) == 1
    assert await redis.zremrangebyscore("z", 3, 5, exclude=redis.ZSET_EXCLUDE_BOTH) == 1
    assert await redis.zrange("z") == [b"c", b"e"]
    assert await redis.zremrangebyscore("z") == 2
    await fill(redis, a=0, b=0, c=0, d=0)
    assert await redis.zremrangebylex("z", b"a", b"c", include_max=False) == 2
    assert await redis.zremrangebylex("z") == 2
    with pytest.raises(TypeError):
        redis.zremrangebyrank("z", 0, "1")
    with pytest.raises(TypeError):
        redis.zremrangebyscore("z", None)


async def test_zpopmin_zpopmax(redis):
    await fill(redis, a=1, b=2, c=3, d=4.5)
    assert await redis.zpopmin("z") == [b"a", b"1"]
    assert await redis.zpopmax("z") == [b"d", b"4.5"]
    assert await redis.zpopmin("z", 5, encoding="utf-8") == ["b", "2", "c", "3"]
    assert await redis.zpopmax("z") == []
    with pytest.raises(TypeError):
        redis.zpopmin("z", "1")
    with pytest.raises(TypeError):
        redis.zpopmax("z", 1.0)


async def test_zmpop(redis, server):
    require(server, 7, 0)
    assert await redis.zmpop("z1", "z2") is None
    await fill(redis, "z2", a=1, b=2, c=3.5)
    assert await redis.zmpop("z1", "z2") == (b"z2", [(b"a", 1)])
    assert await redis.zmpop("z2", where="MAX", count=5) == (b"z2", [(b"c", 3.5), (b"b", 2)])
    await fill(redis, "z2", a=1)
    assert await redis.zmpop("z2", where="min", encoding="utf-8") == ("z2", [("a", 1)])
    with pytest.raises(ValueError):
        redis.zmpop("z2", where="LEFT")
    with pytest.raises(ValueError):
        redis.zmpop("z2", count=0)
    with pytest.raises(TypeError):
        redis.zmpop("z2", count="1")


async def test_bzpop_ready(redis):
    await fill(redis, "z2", a=1, b=2, c=3)
    assert await redis.bzpopmin("z1", "z2") == [b"z2", b"a", b"1"]
    assert await redis.bzpopmax("z2", timeout=1) == [b"z2", b"c", b"3"]
    assert await redis.bzpopmin("z2", encoding="utf-8") == ["z2", "b", "2"]
    assert await redis.bzpopmin("z2", timeout=0.01) is None
    assert await redis.bzpopmax("z2", timeout=0.01) is None
    for timeout in ("1", None, True):
        with pytest.raises(TypeError):
            redis.bzpopmin("z2", timeout=timeout)
        with pytest.raises(TypeError):
            redis.bzpopmax("z2", timeout=timeout)
    with pytest.raises(ValueError):
        redis.bzpopmin("z2", timeout=-1)


async def test_bzpop_wakes_up(redis, create_redis, server):
    other = await create_redis(server.tcp_address)
    waiter = asyncio.ensure_future(redis.bzpopmax("zq", timeout=0))
    await wait_until_blocked(other)
    await other.zadd("zq", 7, "m")
    assert await waiter == [b"zq", b"m", b"7"]


async def test_bzmpop(redis, create_redis, server):
    require(server, 7, 0)
    await fill(redis, "z2", a=1, b=2, c=3)
    assert await redis.bzmpop("z1", "z2") == (b"z2", [(b"a", 1)])
    assert await redis.bzmpop("z2", where="MAX", count=2, encoding="utf-8") == ("z2", [("c", 3), ("b", 2)])
    assert await redis.bzmpop("z2", timeout=0.01) is None
    with pytest.raises(ValueError):
        redis.bzmpop("z2", timeout=-0.5)
    with pytest.raises(ValueError):
        redis.bzmpop("z2", where=None)
    other = await create_redis(server.tcp_address)
    waiter = asyncio.ensure_future(redis.bzmpop("zq", timeout=0))
    await wait_until_blocked(other)
    await other.zadd("zq", 1.5, "m")
    assert await waiter == (b"zq", [(b"m", 1.5)])


# -- set algebra ---------------------------------------------------------------


async def test_zinterstore_zunionstore(redis):
    await fill(redis, "z1", a=1, b=2, c=3)
    await fill(redis, "z2", b=10, c=20, d=30)
    assert await redis.zinterstore("dst", "z1", "z2") == 2
    assert await redis.zrange("dst", withscores=True) == [(b"b", 12), (b"c", 23)]
    assert await redis.zinterstore("dst", ("z1", 2), ("z2", 0.5), with_weights=True) == 2
    assert await redis.zrange("dst", withscores=True) == [(b"b", 9), (b"c", 16)]
    assert await redis.zinterstore("dst", "z1", "z2", aggregate=redis.ZSET_AGGREGATE_MAX) == 2
    assert await redis.zrange("dst", withscores=True) == [(b"b", 10), (b"c", 20)]
    assert await redis.zunionstore("dst", "z1", "z2", aggregate=redis.ZSET_AGGREGATE_MIN) == 4
    assert await redis.zrange("dst", withscores=True) == [(b"a", 1), (b"b", 2), (b"c", 3), (b"d", 30)]
    assert await redis.zunionstore("dst", ("z1", 1), ("z2", 2), with_weights=True,
                                   aggregate=redis.ZSET_AGGREGATE_SUM) == 4
    assert await redis.zrange("dst", withscores=True) == [(b"a", 1), (b"b", 22), (b"c", 43), (b"d", 60)]
    for method in (redis.zinterstore, redis.zunionstore):
        with pytest.raises(TypeError):
            method("dst", "z1", "z2", with_weights=True)
        with pytest.raises(TypeError):
            method("dst", ("z1", "x"), with_weights=True)
        with pytest.raises(ValueError):
            method("dst", "z1", aggregate="SUM")
    assert await redis.zcard("dst") == 4


async def test_zinter_zunion_zdiff(redis, server):
    require(server, 6, 2)
    await fill(redis, "z1", a=1, b=2, c=3)
    await fill(redis, "z2", b=10, c=20, d=30)
    assert await redis.zinter("z1", "z2") == [b"b", b"c"]
    assert await redis.zinter("z1", "z2", withscores=True) == [(b"b", 12), (b"c", 23)]
    assert await redis.zinter(("z1", 1), ("z2", 0.25), with_weights=True, withscores=True) == [
        (b"b", 4.5),
        (b"c", 8),
    ]
    assert await redis.zinter("z1", "z2", aggregate=redis.ZSET_AGGREGATE_MIN, withscores=True,
                              encoding="utf-8") == [("b", 2), ("c", 3)]
    assert await redis.zunion("z1", "z2") == [b"a", b"b", b"c", b"d"]
    assert await redis.zunion("z1", "z2", aggregate=redis.ZSET_AGGREGATE_MAX, withscores=True) == [
        (b"a", 1),
        (b"b", 10),
        (b"c", 20),
        (b"d", 30),
    ]
    assert await redis.zdiff("z1", "z2") == [b"a"]
    assert await redis.zdiff("z2", "z1", withscores=True) == [(b"d", 30)]
    assert await redis.zdiff("z2", "z1", encoding="utf-8") == ["d"]
    assert await redis.zdiffstore("dst", "z1", "z2") == 1
    assert await redis.zrange("dst", withscores=True) == [(b"a", 1)]
    with pytest.raises(TypeError):
        redis.zunion("z1", 5, with_weights=True)
    with pytest.raises(ValueError):
        redis.zinter("z1", aggregate="max")


async def test_zintercard(redis, server):
    require(server, 7, 0)
    await fill(redis, "z1", a=1, b=2, c=3)
    await fill(redis, "z2", a=1, b=2, c=3, d=4)
    assert await redis.zintercard("z1", "z2") == 3
    assert await redis.zintercard("z1", "z2", limit=2) == 2
    assert await redis.zintercard("z1", "nokey") == 0
    with pytest.raises(ValueError):
        redis.zintercard("z1", limit=-1)
    with pytest.raises(TypeError):
        redis.zintercard("z1", limit="2")


# -- scanning ------------------------------------------------------------------


async def test_zscan(redis):
    await redis.zadd("z", *[v for i in range(50) for v in (i / 2, f"m{i}")])
    cursor, items = await redis.zscan("z", count=10)
    assert isinstance(cursor, int)
    seen = dict(items)
    while cursor:
        cursor, items = await redis.zscan("z", cursor, count=10)
        seen.update(items)
    assert seen == {f"m{i}".encode(): (i // 2 if i % 2 == 0 else i / 2) for i in range(50)}
    assert await redis.zscan("z", match="m1", count=100) == (0, [(b"m1", 0.5)])
    assert await redis.zscan("nokey") == (0, [])


async def test_izscan(redis):
    await redis.zadd("z", *[v for i in range(30) for v in (i, f"m{i}")])
    seen = {}
    async for member, score in redis.izscan("z", count=7):
        seen[member] = score
    assert seen == {f"m{i}".encode(): i for i in range(30)}
    matched = [item async for item in redis.izscan("z", match="m2?")]
    assert sorted(matched) == [(f"m{i}".encode(), i) for i in range(20, 30)]
    assert [item async for item in redis.izscan("nokey")] == []


# -- errors and batches ----------------------------------------------------------


async def test_wrong_type(redis):
    await redis.execute(b"SET", "str", "x")
    for call in (
        lambda: redis.zadd("str", 1, "a"),
        lambda: redis.zrange("str", withscores=True),
        lambda: redis.zscore("str", "a"),
        lambda: redis.zincrby("str", 1, "a"),
        lambda: redis.zscan("str"),
    ):
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await call()
    await redis.zadd("z", 1, "a")
    with pytest.raises(ReplyError, match="WRONGTYPE"):
        await redis.zinterstore("dst", "z", "str")
    assert await redis.zadd("z", 1, "a") == 0


async def test_multi_exec(redis):
    tr = redis.multi_exec()
    f1 = tr.zadd("z", 1, "a", 2.5, "b")
    f2 = tr.zrange("z", withscores=True)
    f3 = tr.zscore("z", "b")
    f4 = tr.zincrby("z", 1, "a")
    f5 = tr.zscan("z")
    f6 = tr.zrangebyscore("z", 2, INF, withscores=True, encoding="utf-8")
    f7 = tr.zpopmin("z")
    await tr.execute()
    assert await f1 == 2
    assert await f2 == [(b"a", 1), (b"b", 2.5)]
    assert await f3 == 2.5
    assert await f4 == 2
    assert await f5 == (0, [(b"a", 2), (b"b", 2.5)])
    assert await f6 == [("a", 2), ("b", 2.5)]
    assert await f7 == [b"a", b"2"]


async def test_pipeline(redis, server):
    require(server, 7, 0)
    pipe = redis.pipeline()
    f1 = pipe.zadd("z", 1, "a", 2, "b", 3, "c")
    f2 = pipe.zrevrange("z", 0, 0, withscores=True)
    f3 = pipe.zmscore("z", "a", "x")
    f4 = pipe.zmpop("z", where="MAX")
    f5 = pipe.zunion("z", "z", withscores=True)
    f6 = pipe.bzpopmin("z", timeout=0.01)
    await pipe.execute()
    assert await f1 == 3
    assert await f2 == [(b"c", 3)]
    assert await f3 == [1, None]
    assert await f4 == (b"z", [(b"c", 3)])
    assert await f5 == [(b"a", 2), (b"b", 4)]
    assert await f6 == [b"z", b"a", b"1"]
