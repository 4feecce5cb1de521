"""Hash commands against a real server, on a single connection and on a pool."""
import pytest

from aioredis_cy.errors import ReplyError


async def assert_still_works(redis):
    """A refused call sent nothing: the client keeps answering in order."""
    assert await redis.hset("alive", "f", "yes") in (0, 1)
    assert await redis.hget("alive", "f", encoding="utf-8") == "yes"


async def test_hset_hget(redis):
    assert await redis.hset("h", "f", "v") == 1
    assert await redis.hset("h", "f", "w") == 0
    assert await redis.hset("h", b"n", 12) == 1
    assert await redis.hget("h", "f") == b"w"
    assert await redis.hget("h", "f", encoding="utf-8") == "w"
    assert await redis.hget("h", "n") == b"12"
    assert await redis.hget("h", "missing") is None
    assert await redis.hget("missing", "f") is None


async def test_hsetnx(redis):
    assert await redis.hsetnx("h", "f", "a") == 1
    assert await redis.hsetnx("h", "f", "b") == 0
    assert await redis.hget("h", "f") == b"a"


async def test_hdel_hexists_hlen(redis):
    await redis.hmset("h", "a", 1, "b", 2, "c", 3)
    assert await redis.hlen("h") == 3
    assert await redis.hexists("h", "a") is True
    assert await redis.hexists("h", "x") is False
    assert await redis.hdel("h", "a") == 1
    assert await redis.hdel("h", "b", "c", "x") == 2
    assert await redis.hlen("h") == 0
    assert await redis.hexists("h", "a") is False


async def test_hgetall_hkeys_hvals(redis):
    assert await redis.hgetall("h") == {}
    assert await redis.hkeys("h") == []
    assert await redis.hvals("h") == []
    await redis.hmset("h", "a", 1, "b", "x")
    assert await redis.hgetall("h") == {b"a": b"1", b"b": b"x"}
    assert await redis.hgetall("h", encoding="utf-8") == {"a": "1", "b": "x"}
    assert sorted(await redis.hkeys("h")) == [b"a", b"b"]
    assert sorted(await redis.hkeys("h", encoding="utf-8")) == ["a", "b"]
    assert sorted(await redis.hvals("h")) == [b"1", b"x"]
    assert sorted(await redis.hvals("h", encoding="utf-8")) == ["1", "x"]


async def test_hmget(redis):
    await redis.hmset("h", "a", 1, "b", 2)
    assert await redis.hmget("h", "a", "x", "b") == [b"1", None, b"2"]
    assert await redis.hmget("h", "a", encoding="utf-8") == ["1"]
    assert await redis.hmget("missing", "a", "b") == [None, None]


async def test_hmset(redis):
    assert await redis.hmset("h", "a", 1) is True
    assert await redis.hmset("h", "b", 2, "c", 3) is True
    assert await redis.hgetall("h") == {b"a": b"1", b"b": b"2", b"c": b"3"}
    with pytest.raises(TypeError):
        redis.hmset("h", "d", 4, "e")
    assert await redis.hlen("h") == 3


async def test_hmset_dict(redis):
    assert await redis.hmset_dict("h", {"a": 1, b"b": "x"}) is True
    assert await redis.hmset_dict("h", c=3) is True
    assert await redis.hmset_dict("h", {"a": "from dict", "d": 4}, a="from kwargs") is True
    assert await redis.hgetall("h", encoding="utf-8") == {"a": "from kwargs", "b": "x", "c": "3", "d": "4"}
    assert await redis.hmset_dict("h", {}, e=5) is True
    assert await redis.hget("h", "e") == b"5"


@pytest.mark.parametrize(
    "args, kwargs, exc",
    [
        ((), {}, TypeError),
        (({"a": 1}, {"b": 2}), {}, TypeError),
        ((["a", 1],), {}, TypeError),
        (("a", 1), {}, TypeError),
        (({},), {}, ValueError),
    ],
)
async def test_hmset_dict_bad_arguments(redis, args, kwargs, exc):
    with pytest.raises(exc):
        redis.hmset_dict("h", *args, **kwargs)
    assert await redis.hlen("h") == 0
    await assert_still_works(redis)


async def test_hincrby(redis):
    assert await redis.hincrby("h", "f") == 1
    assert await redis.hincrby("h", "f", 10) == 11
    assert await redis.hincrby("h", "f", -20) == -9
    for bad in (None, True):   # cannot be sent
        with pytest.raises(TypeError):
            redis.hincrby("h", "f", bad)
    assert await redis.hincrby("h", "f", "1") == -8   # as in 1.x, the server judges values
    assert await redis.hincrby("h", "f", -1) == -9
    with pytest.raises(ReplyError, match="not an integer"):
        await redis.hincrby("h", "f", 3.14)
    await redis.hset("h", "s", "abc")
    with pytest.raises(ReplyError, match="not an integer"):
        await redis.hincrby("h", "s")
    assert await redis.hget("h", "f") == b"-9"


async def test_hincrbyfloat(redis):
    res = await redis.hincrbyfloat("h", "f")
    assert res == 1.0 and isinstance(res, float)
    assert await redis.hincrbyfloat("h", "f", 0.5) == 1.5
    res = await redis.hincrbyfloat("h", "f", 2)
    assert res == 3.5 and isinstance(res, float)
    for bad in (None, True):
        with pytest.raises(TypeError):
            redis.hincrbyfloat("h", "f", bad)
    with pytest.raises(ReplyError, match="not a valid float"):
        await redis.hincrbyfloat("h", "f", "one")
    await redis.hset("h", "s", "abc")
    with pytest.raises(ReplyError):
        await redis.hincrbyfloat("h", "s", 1.0)
    assert await redis.hget("h", "f") == b"3.5"


async def test_hstrlen(redis):
    await redis.hset("h", "f", "hello")
    assert await redis.hstrlen("h", "f") == 5
    assert await redis.hstrlen("h", "x") == 0
    assert await redis.hstrlen("missing", "f") == 0


async def test_hrandfield(redis):
    assert await redis.hrandfield("h") is None
    assert await redis.hrandfield("h", 2) == []
    assert await redis.hrandfield("h", 2, withvalues=True) == []
    await redis.hmset("h", "a", 1, "b", 2)
    assert await redis.hrandfield("h") in (b"a", b"b")
    assert await redis.hrandfield("h", encoding="utf-8") in ("a", "b")
    assert sorted(await redis.hrandfield("h", 5)) == [b"a", b"b"]
    repeated = await redis.hrandfield("h", -5)
    assert len(repeated) == 5 and set(repeated) <= {b"a", b"b"}
    pairs = await redis.hrandfield("h", 2, withvalues=True, encoding="utf-8")
    assert sorted(pairs) == [("a", "1"), ("b", "2")]
    with pytest.raises(ValueError):
        redis.hrandfield("h", withvalues=True)
    with pytest.raises(TypeError):
        redis.hrandfield("h", "2")
    await assert_still_works(redis)


async def test_hscan(redis):
    assert await redis.hscan("h") == (0, [])
    await redis.hmset_dict("h", {f"key:{i}": i for i in range(30)}, other="x")
    cursor, pairs = await redis.hscan("h", match="other")
    assert isinstance(cursor, int)
    found = []
    cursor = 0
    while True:
        cursor, pairs = await redis.hscan("h", cursor, match="key:*", count=5)
        assert all(isinstance(pair, tuple) and len(pair) == 2 for pair in pairs)
        found.extend(pairs)
        if cursor == 0:
            break
    assert sorted(found) == sorted((f"key:{i}".encode(), str(i).encode()) for i in range(30))
    with pytest.raises(TypeError):
        redis.hscan("h", count="5")
    with pytest.raises(ValueError):
        redis.hscan("h", count=0)
    await assert_still_works(redis)


async def test_ihscan(redis):
    items = [pair async for pair in redis.ihscan("h")]
    assert items == []
    await redis.hmset_dict("h", {f"key:{i}": i for i in range(30)}, other="x")
    items = [pair async for pair in redis.ihscan("h", match="key:*", count=7)]
    assert sorted(items) == sorted((f"key:{i}".encode(), str(i).encode()) for i in range(30))
    items = [pair async for pair in redis.ihscan("h", match="other")]
    assert items == [(b"other", b"x")]


async def test_wrong_type(redis):
    await redis.set("s", "v")
    for call in (redis.hget("s", "f"), redis.hgetall("s"), redis.hset("s", "f", 1), redis.hscan("s")):
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await call
    await assert_still_works(redis)


async def test_multi_exec(redis):
    tr = redis.multi_exec()
    f1 = tr.hset("h", "a", 1)
    f2 = tr.hmset_dict("h", b=2.5, c="x")
    f3 = tr.hgetall("h", encoding="utf-8")
    f4 = tr.hincrbyfloat("h", "b", 1)
    f5 = tr.hexists("h", "c")
    f6 = tr.hscan("h", match="a")
    f7 = tr.hrandfield("h", -1, withvalues=True)
    await tr.execute()
    assert await f1 == 1
    assert await f2 is True
    assert await f3 == {"a": "1", "b": "2.5", "c": "x"}
    assert await f4 == 3.5
    assert await f5 is True
    assert await f6 == (0, [(b"a", b"1")])
    assert (await f7)[0] in ((b"a", b"1"), (b"b", b"3.5"), (b"c", b"x"))


async def test_pipeline(redis):
    pipe = redis.pipeline()
    f1 = pipe.hmset("h", "a", 1, "b", 2)
    f2 = pipe.hincrby("h", "a", 5)
    f3 = pipe.hmget("h", "a", "b", "x", encoding="utf-8")
    f4 = pipe.hdel("h", "b")
    f5 = pipe.hlen("h")
    f6 = pipe.hstrlen("h", "a")
    await pipe.execute()
    assert await f1 is True
    assert await f2 == 6
    assert await f3 == ["6", "2", None]
    assert await f4 == 1
    assert await f5 == 1
    assert await f6 == 1
