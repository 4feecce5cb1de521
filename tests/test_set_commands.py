"""Set commands against a real server, on a single connection and on a pool."""
import pytest

from aioredis_cy.errors import ReplyError


async def assert_still_works(redis):
    """A refused call sent nothing: the client keeps answering in order."""
    assert await redis.sadd("alive", "yes") in (0, 1)
    assert await redis.smembers("alive", encoding="utf-8") == ["yes"]


async def test_sadd_scard_smembers(redis):
    assert await redis.scard("s") == 0
    assert await redis.smembers("s") == []
    assert await redis.sadd("s", "a") == 1
    assert await redis.sadd("s", "a", b"b", 3) == 2
    assert await redis.scard("s") == 3
    assert sorted(await redis.smembers("s")) == [b"3", b"a", b"b"]
    assert sorted(await redis.smembers("s", encoding="utf-8")) == ["3", "a", "b"]


async def test_sismember_smismember(redis):
    await redis.sadd("s", "a", "b")
    assert await redis.sismember("s", "a") == 1
    assert await redis.sismember("s", "x") == 0
    assert await redis.sismember("missing", "a") == 0
    assert await redis.smismember("s", "a", "x", "b") == [True, False, True]
    assert await redis.smismember("missing", "a") == [False]


async def test_srem_smove(redis):
    await redis.sadd("s", "a", "b", "c")
    assert await redis.srem("s", "a") == 1
    assert await redis.srem("s", "b", "x") == 1
    assert await redis.smove("s", "d", "c") == 1
    assert await redis.smove("s", "d", "c") == 0
    assert await redis.scard("s") == 0
    assert await redis.smembers("d") == [b"c"]


async def test_spop(redis):
    assert await redis.spop("s") is None
    assert await redis.spop("s", 2) == []
    await redis.sadd("s", "a", "b", "c")
    assert await redis.spop("s") in (b"a", b"b", b"c")
    assert await redis.spop("s", encoding="utf-8") in ("a", "b", "c")
    popped = await redis.spop("s", 5)
    assert len(popped) == 1 and popped[0] in (b"a", b"b", b"c")
    assert await redis.scard("s") == 0
    await redis.sadd("s", "a")
    assert await redis.spop("s", 0) == []
    with pytest.raises(TypeError):
        redis.spop("s", True)
    with pytest.raises(ReplyError, match="out of range|must be positive"):
        await redis.spop("s", count=-2)   # as in 1.x, the server judges the value
    assert await redis.scard("s") == 1
    await assert_still_works(redis)


async def test_srandmember(redis):
    assert await redis.srandmember("s") is None
    assert await redis.srandmember("s", 2) == []
    await redis.sadd("s", "a", "b")
    assert await redis.srandmember("s") in (b"a", b"b")
    assert sorted(await redis.srandmember("s", 5, encoding="utf-8")) == ["a", "b"]
    repeated = await redis.srandmember("s", -5)
    assert len(repeated) == 5 and set(repeated) <= {b"a", b"b"}
    with pytest.raises(ReplyError, match="not an integer"):
        await redis.srandmember("s", 1.5)
    assert await redis.scard("s") == 2


async def test_set_algebra(redis):
    await redis.sadd("a", 1, 2, 3)
    await redis.sadd("b", 2, 3, 4)
    await redis.sadd("c", 3, 5)
    assert sorted(await redis.sdiff("a")) == [b"1", b"2", b"3"]
    assert sorted(await redis.sdiff("a", "b")) == [b"1"]
    assert sorted(await redis.sinter("a", "b")) == [b"2", b"3"]
    assert sorted(await redis.sinter("a", "b", "c")) == [b"3"]
    assert sorted(await redis.sunion("a", "c")) == [b"1", b"2", b"3", b"5"]
    assert await redis.sinter("a", "missing") == []
    assert await redis.sdiffstore("d", "a", "b") == 1
    assert await redis.smembers("d") == [b"1"]
    assert await redis.sinterstore("d", "a", "b") == 2
    assert await redis.sunionstore("d", "a", "b", "c") == 5
    assert await redis.scard("d") == 5


async def test_sintercard(redis):
    await redis.sadd("a", 1, 2, 3)
    await redis.sadd("b", 2, 3, 4)
    assert await redis.sintercard("a") == 3
    assert await redis.sintercard("a", "b") == 2
    assert await redis.sintercard("a", "b", limit=1) == 1
    assert await redis.sintercard("a", "b", limit=0) == 2
    assert await redis.sintercard("a", "missing") == 0
    with pytest.raises(ValueError):
        redis.sintercard("a", limit=-1)
    with pytest.raises(TypeError):
        redis.sintercard("a", limit="1")
    await assert_still_works(redis)


async def test_sscan(redis):
    assert await redis.sscan("s") == (0, [])
    await redis.sadd("s", *[f"m:{i}" for i in range(40)], "other")
    found = []
    cursor = 0
    while True:
        cursor, members = await redis.sscan("s", cursor, match="m:*", count=5)
        assert isinstance(cursor, int)
        found.extend(members)
        if cursor == 0:
            break
    assert sorted(set(found)) == sorted(f"m:{i}".encode() for i in range(40))
    with pytest.raises(TypeError):
        redis.sscan("s", count=1.5)
    with pytest.raises(ValueError):
        redis.sscan("s", count=-1)
    await assert_still_works(redis)


async def test_isscan(redis):
    assert [member async for member in redis.isscan("s")] == []
    await redis.sadd("s", *[f"m:{i}" for i in range(40)], "other")
    members = [member async for member in redis.isscan("s", match="m:*", count=3)]
    assert sorted(set(members)) == sorted(f"m:{i}".encode() for i in range(40))
    assert [member async for member in redis.isscan("s", match="oth*")] == [b"other"]


async def test_wrong_type(redis):
    await redis.set("str", "v")
    for call in (redis.sadd("str", 1), redis.smembers("str"), redis.smismember("str", 1), redis.sscan("str")):
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await call
    await assert_still_works(redis)


async def test_multi_exec(redis):
    tr = redis.multi_exec()
    f1 = tr.sadd("s", "a", "b", "c")
    f2 = tr.smismember("s", "a", "z")
    f3 = tr.sismember("s", "b")
    f4 = tr.sscan("s", match="a")
    f5 = tr.sintercard("s", "s", limit=2)
    f6 = tr.smembers("s", encoding="utf-8")
    f7 = tr.srem("s", "c")
    await tr.execute()
    assert await f1 == 3
    assert await f2 == [True, False]
    assert await f3 == 1
    assert await f4 == (0, [b"a"])
    assert await f5 == 2
    assert sorted(await f6) == ["a", "b", "c"]
    assert await f7 == 1


async def test_pipeline(redis):
    pipe = redis.pipeline()
    f1 = pipe.sadd("a", 1, 2)
    f2 = pipe.sadd("b", 2, 3)
    f3 = pipe.sinterstore("c", "a", "b")
    f4 = pipe.smembers("c")
    f5 = pipe.smove("a", "b", 1)
    f6 = pipe.scard("b")
    f7 = pipe.spop("c", encoding="utf-8")
    await pipe.execute()
    assert await f1 == 2
    assert await f2 == 2
    assert await f3 == 1
    assert await f4 == [b"2"]
    assert await f5 == 1
    assert await f6 == 3
    assert await f7 == "2"
