"""Stream commands against a real server, on a single connection and on a pool."""
import asyncio
from collections import OrderedDict

import pytest

from aioredis_cy.commands.streams import (
    fields_to_dict,
    parse_lists_to_dicts,
    parse_messages,
    parse_messages_by_stream,
)
from aioredis_cy.errors import BusyGroupError, ReplyError

from .helpers import require, wait_until_blocked


async def add(redis, stream="s", n=3):
    """Add entries 1-0 .. n-0 with fields {'n': i}; returns their ids."""
    return [await redis.xadd(stream, {"n": i}, message_id=f"{i}-0") for i in range(1, n + 1)]


# -- pure helpers ------------------------------------------------------------


def test_helpers():
    res = fields_to_dict([b"a", b"1", b"b", b"2"])
    assert type(res) is OrderedDict and list(res.items()) == [(b"a", b"1"), (b"b", b"2")]
    assert type(fields_to_dict([], type_=dict)) is dict
    assert parse_messages(None) == []
    assert parse_messages([[b"1-0", [b"a", b"1"]], None, [b"2-0", None]]) == [(b"1-0", {b"a": b"1"})]
    assert parse_messages_by_stream(None) == []
    assert parse_messages_by_stream([[b"s", [[b"1-0", [b"a", b"1"]]]], [b"t", [[b"2-0", []]]]]) == [
        (b"s", b"1-0", {b"a": b"1"}),
        (b"t", b"2-0", {}),
    ]
    assert parse_lists_to_dicts([[b"a", 1], [b"b", 2]]) == [{b"a": 1}, {b"b": 2}]


# -- adding, reading ranges ----------------------------------------------------


async def test_xadd(redis):
    mid = await redis.xadd("s", {"a": 1, b"b": b"x"})
    assert isinstance(mid, bytes) and b"-" in mid
    assert await redis.xadd("s", {"a": 2}, message_id=b"99999999999999-1") == b"99999999999999-1"
    assert await redis.xlen("s") == 2
    ((got_id, fields),) = await redis.xrange("s", count=1)
    assert got_id == mid and fields == OrderedDict([(b"a", b"1"), (b"b", b"x")])
    with pytest.raises(ReplyError):
        await redis.xadd("s", {"a": 3}, message_id="1-0")
    for fields, exc in (({}, ValueError), ([("a", 1)], TypeError), ("a", TypeError), (None, TypeError)):
        with pytest.raises(exc):
            redis.xadd("s", fields)
    assert await redis.xlen("s") == 2


async def test_xadd_trimming(redis, server):
    for i in range(10):
        await redis.xadd("s", {"i": i}, max_len=5, exact_len=True)
    assert await redis.xlen("s") == 5
    await redis.xadd("s", {"i": 10}, max_len=5)
    assert await redis.xlen("s") >= 5
    with pytest.raises(TypeError):
        redis.xadd("s", {"i": 1}, max_len="5")
    with pytest.raises(ValueError):
        redis.xadd("s", {"i": 1}, max_len=-1)
    require(server, 6, 2)
    await redis.execute(b"DEL", "s")
    await add(redis, n=5)
    assert await redis.xadd("s", {"n": 6}, message_id="6-0", min_id="4-0", exact_len=True) == b"6-0"
    assert [mid for mid, _ in await redis.xrange("s")] == [b"4-0", b"5-0", b"6-0"]
    assert await redis.xadd("s", {"n": 7}, message_id="7-0", max_len=0, limit=100) == b"7-0"
    assert await redis.xadd("nostream", {"a": 1}, no_mkstream=True) is None
    assert await redis.xlen("nostream") == 0
    for kwargs in (
        {"max_len": 1, "min_id": "1-0"},
        {"limit": 10},
        {"max_len": 1, "exact_len": True, "limit": 10},
        {"max_len": 1, "limit": "10"},
    ):
        with pytest.raises((TypeError, ValueError)):
            redis.xadd("s", {"a": 1}, **kwargs)
    assert await redis.xlen("nostream") == 0


async def test_xrange_xrevrange(redis):
    ids = await add(redis, n=4)
    assert await redis.xrange("s") == [(mid, OrderedDict([(b"n", str(i).encode())])) for i, mid in
                                       enumerate(ids, 1)]
    assert [m for m, _ in await redis.xrange("s", "2-0", "3-0")] == [b"2-0", b"3-0"]
    assert [m for m, _ in await redis.xrange("s", count=2)] == [b"1-0", b"2-0"]
    assert [m for m, _ in await redis.xrevrange("s")] == [b"4-0", b"3-0", b"2-0", b"1-0"]
    assert [m for m, _ in await redis.xrevrange("s", "3-0", "2-0")] == [b"3-0", b"2-0"]
    assert [m for m, _ in await redis.xrevrange("s", count=1)] == [b"4-0"]
    assert await redis.xrange("nokey") == []
    with pytest.raises(TypeError):
        redis.xrange("s", count="1")
    with pytest.raises(TypeError):
        redis.xrevrange("s", count=1.5)
    with pytest.raises(ReplyError):
        await redis.xrange("s", "bad-id")


async def test_encoding(create_redis, create_redis_pool, server):
    for factory in (create_redis, create_redis_pool):
        redis = await factory(server.tcp_address, encoding="utf-8")
        await redis.execute(b"DEL", "enc")
        mid = await redis.xadd("enc", {"k": "v"}, message_id="1-0")
        assert mid == "1-0"
        assert await redis.xrange("enc") == [("1-0", {"k": "v"})]
        assert await redis.xread(["enc"], timeout=None, latest_ids=["0"]) == [("enc", "1-0", {"k": "v"})]
        assert await redis.xgroup_create("enc", "g", "0") is True
        assert (await redis.xinfo_stream("enc"))["length"] == 1
        assert (await redis.xinfo_groups("enc"))[0]["name"] == "g"
        help_text = await redis.xinfo_help()
        assert isinstance(help_text, str) and "\n" in help_text and "CONSUMERS" in help_text
        await redis.execute(b"DEL", "enc")


# -- XREAD / XREADGROUP ------------------------------------------------------------


async def test_xread(redis):
    await add(redis, "s1", 2)
    await add(redis, "s2", 1)
    res = await redis.xread(["s1", "s2"], timeout=None, latest_ids=["0", "0"])
    assert res == [
        (b"s1", b"1-0", {b"n": b"1"}),
        (b"s1", b"2-0", {b"n": b"2"}),
        (b"s2", b"1-0", {b"n": b"1"}),
    ]
    assert await redis.xread(("s1",), timeout=None, count=1, latest_ids=("1-0",)) == [
        (b"s1", b"2-0", {b"n": b"2"})
    ]
    assert await redis.xread(["s1"], timeout=None, count=0, latest_ids=["0"]) != []
    assert await redis.xread(["s1", "s2"], timeout=None) == []
    assert await redis.xread(["s1"], timeout=1) == []
    for kwargs, exc in (
        ({"streams": ["s1"], "latest_ids": ["0", "0"]}, ValueError),
        ({"streams": []}, ValueError),
        ({"streams": "s1"}, TypeError),
        ({"streams": ["s1"], "latest_ids": "0"}, TypeError),
        ({"streams": ["s1"], "timeout": 1.5}, TypeError),
        ({"streams": ["s1"], "timeout": -1}, ValueError),
        ({"streams": ["s1"], "count": "2"}, TypeError),
    ):
        with pytest.raises(exc):
            redis.xread(**kwargs)
    assert await redis.xlen("s1") == 2


async def test_xread_blocking(redis, create_redis, server):
    other = await create_redis(server.tcp_address)
    reader = asyncio.ensure_future(redis.xread(["q"], timeout=0))
    await wait_until_blocked(other)
    await other.xadd("q", {"x": "y"}, message_id="5-0")
    assert await reader == [(b"q", b"5-0", {b"x": b"y"})]


async def test_xread_group(redis):
    await add(redis, n=3)
    assert await redis.xgroup_create("s", "g", "0") is True
    res = await redis.xread_group("g", "c1", ["s"], timeout=None, count=2, latest_ids=[">"])
    assert res == [(b"s", b"1-0", {b"n": b"1"}), (b"s", b"2-0", {b"n": b"2"})]
    assert await redis.xread_group("g", "c1", ["s"], latest_ids=["0"], timeout=None) == res
    assert await redis.xread_group("g", "c2", ["s"], latest_ids=[">"], no_ack=True, timeout=None) == [
        (b"s", b"3-0", {b"n": b"3"})
    ]
    assert await redis.xread_group("g", "c2", ["s"], latest_ids=["0"], timeout=None) == []
    assert await redis.xread_group("g", "c2", ["s"], latest_ids=[">"], timeout=1) == []
    await redis.xdel("s", "1-0")
    assert await redis.xread_group("g", "c1", ["s"], latest_ids=["0"], timeout=None) == [
        (b"s", b"2-0", {b"n": b"2"})
    ]
    with pytest.raises(ReplyError, match="NOGROUP"):
        await redis.xread_group("nogroup", "c1", ["s"], latest_ids=[">"], timeout=None)
    with pytest.raises(ValueError):
        redis.xread_group("g", "c1", ["s"], latest_ids=[])
    with pytest.raises(TypeError):
        redis.xread_group("g", "c1", "s")


async def test_xread_group_blocking(redis, create_redis, server):
    other = await create_redis(server.tcp_address)
    assert await redis.xgroup_create("q", "g", mkstream=True) is True
    reader = asyncio.ensure_future(redis.xread_group("g", "c", ["q"], latest_ids=[">"]))
    await wait_until_blocked(other)
    await other.xadd("q", {"x": "y"}, message_id="5-0")
    assert await reader == [(b"q", b"5-0", {b"x": b"y"})]


# -- groups ----------------------------------------------------------------------


async def test_xgroup(redis, server):
    with pytest.raises(ReplyError):
        await redis.xgroup_create("s", "g")
    assert await redis.xgroup_create("s", "g", mkstream=True) is True
    with pytest.raises(BusyGroupError):
        await redis.xgroup_create("s", "g")
    await add(redis, n=2)
    assert await redis.xgroup_setid("s", "g", "0") is True
    assert len(await redis.xread_group("g", "c", ["s"], latest_ids=[">"], timeout=None)) == 2
    assert await redis.xgroup_setid("s", "g") is True
    assert await redis.xread_group("g", "c", ["s"], latest_ids=[">"], timeout=None) == []
    assert await redis.xgroup_delconsumer("s", "g", "c") == 2
    assert await redis.xgroup_delconsumer("s", "g", "c") == 0
    require(server, 6, 2)
    assert await redis.xgroup_createconsumer("s", "g", "c2") == 1
    assert await redis.xgroup_createconsumer("s", "g", "c2") == 0
    assert [c[b"name"] for c in await redis.xinfo_consumers("s", "g")] == [b"c2"]
    assert await redis.xgroup_destroy("s", "g") is True
    assert await redis.xgroup_destroy("s", "g") is False
    with pytest.raises(ReplyError, match="NOGROUP"):
        await redis.xgroup_setid("s", "g", "0")


async def test_xpending(redis, server):
    await add(redis, n=3)
    await redis.xgroup_create("s", "g", "0")
    assert await redis.xpending("s", "g") == [0, None, None, None]
    await redis.xread_group("g", "c1", ["s"], latest_ids=[">"], count=2, timeout=None)
    await redis.xread_group("g", "c2", ["s"], latest_ids=[">"], timeout=None)
    assert await redis.xpending("s", "g") == [3, b"1-0", b"3-0", [[b"c1", b"2"], [b"c2", b"1"]]]
    rows = await redis.xpending("s", "g", "-", "+", 10)
    assert [(row[0], row[1], row[3]) for row in rows] == [(b"1-0", b"c1", 1), (b"2-0", b"c1", 1),
                                                           (b"3-0", b"c2", 1)]
    assert [row[0] for row in await redis.xpending("s", "g", "-", "+", 10, "c2")] == [b"3-0"]
    assert [row[0] for row in await redis.xpending("s", "g", "-", "+", 1)] == [b"1-0"]
    for args, kwargs in (
        (("-",), {}),
        (("-", "+"), {}),
        ((None, "+", 10), {}),
        ((), {"consumer": "c1"}),
        ((), {"idle": 10}),
    ):
        with pytest.raises(ValueError):
            redis.xpending("s", "g", *args, **kwargs)
    with pytest.raises(TypeError):
        redis.xpending("s", "g", "-", "+", "10")
    require(server, 6, 2)
    assert await redis.xpending("s", "g", "-", "+", 10, "c1", idle=0) != []
    assert await redis.xpending("s", "g", "-", "+", 10, idle=10**9) == []
    with pytest.raises(ValueError):
        redis.xpending("s", "g", "-", "+", 10, idle=-1)


async def test_xclaim_xack(redis):
    await add(redis, n=3)
    await redis.xgroup_create("s", "g", "0")
    await redis.xread_group("g", "c1", ["s"], latest_ids=[">"], timeout=None)
    assert await redis.xclaim("s", "g", "c2", 0, "1-0", "2-0") == [
        (b"1-0", {b"n": b"1"}),
        (b"2-0", {b"n": b"2"}),
    ]
    assert await redis.xclaim("s", "g", "c2", 10**9, "3-0") == []
    assert await redis.xack("s", "g", "1-0", "2-0", "9-0") == 2
    assert await redis.xack("s", "g", "1-0") == 0
    assert await redis.xpending("s", "g") == [1, b"3-0", b"3-0", [[b"c1", b"1"]]]
    with pytest.raises(TypeError):
        redis.xclaim("s", "g", "c2", "0", "3-0")
    with pytest.raises(ValueError):
        redis.xclaim("s", "g", "c2", -1, "3-0")
    with pytest.raises(ReplyError):
        await redis.xack("s", "g", "bad")


async def test_xautoclaim(redis, server):
    require(server, 6, 2)
    await add(redis, n=4)
    await redis.xgroup_create("s", "g", "0")
    await redis.xread_group("g", "c1", ["s"], latest_ids=[">"], timeout=None)
    next_id, entries, deleted = await redis.xautoclaim("s", "g", "c2", 0, count=2)
    assert next_id == b"3-0"
    assert entries == [(b"1-0", {b"n": b"1"}), (b"2-0", {b"n": b"2"})]
    assert deleted == []
    await redis.xdel("s", "4-0")
    next_id, entries, deleted = await redis.xautoclaim("s", "g", "c2", 0, next_id, justid=True)
    assert next_id == b"0-0" and entries == [b"3-0"]
    if server.version >= (7, 0):
        assert deleted == [b"4-0"]
    assert await redis.xautoclaim("s", "g", "c3", 10**9) == (b"0-0", [], [])
    with pytest.raises(TypeError):
        redis.xautoclaim("s", "g", "c2", 0, count="2")
    with pytest.raises(ValueError):
        redis.xautoclaim("s", "g", "c2", -5)
    with pytest.raises(ReplyError, match="NOGROUP"):
        await redis.xautoclaim("s", "nogroup", "c2", 0)


# -- deleting, trimming, info ---------------------------------------------------------


async def test_xdel_xtrim_xlen(redis, server):
    await add(redis, n=6)
    assert await redis.xdel("s", "1-0") == 1
    assert await redis.xdel("s", "2-0") == 1
    assert await redis.xdel("s", "9-0") == 0
    assert await redis.xdel("s", "3-0") == 1
    assert await redis.xlen("s") == 3
    assert await redis.xtrim("s", 2, exact_len=True) == 1
    assert await redis.xtrim("s", 0) >= 0
    assert await redis.xlen("nokey") == 0
    with pytest.raises(ValueError):
        redis.xtrim("s", None)
    with pytest.raises(TypeError):
        redis.xtrim("s", "2")
    require(server, 6, 2)
    await redis.execute(b"DEL", "s")
    await add(redis, n=6)
    assert await redis.xtrim("s", None, min_id="3-0", exact_len=True) == 2
    assert await redis.xtrim("s", max_len=None, min_id="9-0", limit=100) >= 0
    assert await redis.xtrim("s", max_len=1, exact_len=True) >= 0
    assert await redis.xlen("s") <= 1
    with pytest.raises(ValueError):
        redis.xtrim("s", 1, min_id="1-0")
    with pytest.raises(ValueError):
        redis.xtrim("s", 1, exact_len=True, limit=5)


async def test_xinfo(redis, server):
    await add(redis, n=2)
    await redis.xgroup_create("s", "g", "0")
    await redis.xread_group("g", "c1", ["s"], latest_ids=[">"], timeout=None)
    info = await redis.xinfo("s")
    assert info == await redis.xinfo_stream("s")
    assert info[b"length"] == 2 and info[b"groups"] == 1
    assert info[b"first-entry"] == [b"1-0", [b"n", b"1"]]
    assert info[b"last-generated-id"] == b"2-0"
    (group,) = await redis.xinfo_groups("s")
    assert type(group) is dict
    assert group[b"name"] == b"g" and group[b"consumers"] == 1 and group[b"pending"] == 2
    (consumer,) = await redis.xinfo_consumers("s", "g")
    assert consumer[b"name"] == b"c1" and consumer[b"pending"] == 2
    help_text = await redis.xinfo_help()
    assert isinstance(help_text, bytes) and b"\nCONSUMERS" in help_text
    with pytest.raises(ReplyError):
        await redis.xinfo_stream("nokey")


async def test_wrong_type(redis):
    await redis.execute(b"SET", "str", "x")
    for call in (
        lambda: redis.xadd("str", {"a": 1}),
        lambda: redis.xrange("str"),
        lambda: redis.xread(["str"], timeout=None, latest_ids=["0"]),
        lambda: redis.xlen("str"),
        lambda: redis.xinfo_stream("str"),
    ):
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await call()
    assert await redis.xadd("s", {"a": 1}, message_id="1-0") == b"1-0"


# -- batches ---------------------------------------------------------------------------


async def test_multi_exec(redis):
    await redis.xadd("s", {"a": 0}, message_id="1-0")
    await redis.xgroup_create("s", "g", "0")
    tr = redis.multi_exec()
    f1 = tr.xadd("s", {"a": 1}, message_id="2-0")
    f2 = tr.xrange("s")
    f3 = tr.xread(["s"], timeout=None, latest_ids=["1-0"])
    f4 = tr.xgroup_create("s", "g2", "0")
    f5 = tr.xinfo_groups("s")
    f6 = tr.xinfo_stream("s")
    f7 = tr.xgroup_destroy("s", "g")
    f8 = tr.xlen("s")
    await tr.execute()
    assert await f1 == b"2-0"
    assert await f2 == [(b"1-0", {b"a": b"0"}), (b"2-0", {b"a": b"1"})]
    assert await f3 == [(b"s", b"2-0", {b"a": b"1"})]
    assert await f4 is True
    assert [g[b"name"] for g in await f5] == [b"g", b"g2"]
    assert (await f6)[b"length"] == 2
    assert await f7 is True
    assert await f8 == 2


async def test_pipeline(redis):
    pipe = redis.pipeline()
    f1 = pipe.xgroup_create("s", "g", "0", mkstream=True)
    f2 = pipe.xadd("s", {"a": 1}, message_id="1-0")
    f3 = pipe.xread_group("g", "c", ["s"], latest_ids=[">"], timeout=None)
    f4 = pipe.xclaim("s", "g", "c2", 0, "1-0")
    f5 = pipe.xpending("s", "g")
    f6 = pipe.xack("s", "g", "1-0")
    f7 = pipe.xinfo_consumers("s", "g")
    f8 = pipe.xrevrange("s")
    await pipe.execute()
    assert await f1 is True
    assert await f2 == b"1-0"
    assert await f3 == [(b"s", b"1-0", {b"a": b"1"})]
    assert await f4 == [(b"1-0", {b"a": b"1"})]
    assert await f5 == [1, b"1-0", b"1-0", [[b"c2", b"1"]]]
    assert await f6 == 1
    assert sorted(c[b"name"] for c in await f7) == [b"c", b"c2"]
    assert await f8 == [(b"1-0", {b"a": b"1"})]
