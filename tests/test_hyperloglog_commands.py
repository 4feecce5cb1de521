"""HyperLogLog commands against a real server, on a single connection and on a pool."""
import pytest

from aioredis_cy.errors import ReplyError


async def test_pfadd_pfcount(redis):
    assert await redis.pfcount("h") == 0
    assert await redis.pfadd("h", "a", "b", "c") == 1
    assert await redis.pfadd("h", "a") == 0
    assert await redis.pfadd("h", b"d", 5, 1.5) == 1
    assert await redis.pfcount("h") == 6
    await redis.pfadd("g", "a", "z")
    assert await redis.pfcount("h", "g") == 7
    assert await redis.pfcount("h", "missing") == 6


async def test_pfmerge(redis):
    await redis.pfadd("a", 1, 2, 3)
    await redis.pfadd("b", 3, 4)
    assert await redis.pfmerge("dest", "a", "b") is True
    assert await redis.pfcount("dest") == 4
    assert await redis.pfmerge("dest", "missing") is True
    assert await redis.pfcount("dest") == 4


async def test_errors(redis):
    await redis.set("s", "not a hll")
    with pytest.raises(ReplyError, match="WRONGTYPE"):
        await redis.pfadd("s", "a")
    with pytest.raises(ReplyError, match="WRONGTYPE"):
        await redis.pfcount("s")
    with pytest.raises(TypeError):
        await redis.pfadd("h", None)
    assert await redis.pfadd("h", "a") == 1


async def test_multi_exec(redis):
    tr = redis.multi_exec()
    f1 = tr.pfadd("a", 1, 2)
    f2 = tr.pfadd("b", 2, 3)
    f3 = tr.pfmerge("c", "a", "b")
    f4 = tr.pfcount("c")
    await tr.execute()
    assert await f1 == 1
    assert await f2 == 1
    assert await f3 is True
    assert await f4 == 3


async def test_pipeline(redis):
    pipe = redis.pipeline()
    f1 = pipe.pfadd("a", "x")
    f2 = pipe.pfcount("a", "b")
    f3 = pipe.pfmerge("a", "b")
    await pipe.execute()
    assert await f1 == 1
    assert await f2 == 1
    assert await f3 is True
