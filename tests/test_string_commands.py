"""String and bit commands against a real server, on a single connection and on a pool."""
import pytest

from aioredis_cy.errors import ReplyError


async def assert_still_works(redis):
    """A refused call sent nothing: the client keeps answering in order."""
    assert await redis.set("alive", "yes") is True
    assert await redis.get("alive", encoding="utf-8") == "yes"


# -- get / set family -----------------------------------------------------------


async def test_get_set(redis):
    assert await redis.get("k") is None
    assert await redis.set("k", "value") is True
    assert await redis.get("k") == b"value"
    assert await redis.get("k", encoding="utf-8") == "value"
    assert await redis.set("n", 12) is True
    assert await redis.set("f", 1.5) is True
    assert await redis.set(b"b", bytearray(b"\x00\xff")) is True
    assert await redis.mget("n", "f", "b", "missing") == [b"12", b"1.5", b"\x00\xff", None]


async def test_set_exist(redis):
    assert redis.SET_IF_EXIST == "SET_IF_EXIST"
    assert redis.SET_IF_NOT_EXIST == "SET_IF_NOT_EXIST"
    assert await redis.set("k", "a", exist=redis.SET_IF_EXIST) is False
    assert await redis.get("k") is None
    assert await redis.set("k", "a", exist=redis.SET_IF_NOT_EXIST) is True
    assert await redis.set("k", "b", exist=redis.SET_IF_NOT_EXIST) is False
    assert await redis.set("k", "c", exist=redis.SET_IF_EXIST) is True
    assert await redis.get("k") == b"c"


async def test_set_expire(redis):
    assert await redis.set("k", "v", expire=100) is True
    assert 0 < await redis.ttl("k") <= 100
    assert await redis.set("k", "v", pexpire=50000) is True
    assert 0 < await redis.pttl("k") <= 50000
    assert await redis.set("k", "v", expire=0, pexpire=0) is True
    assert await redis.ttl("k") == -1
    assert await redis.set("k", "v", exat=4102444800) is True
    assert await redis.ttl("k") > 100
    assert await redis.set("k", "v", pxat=4102444800000) is True
    assert await redis.pttl("k") > 100000
    assert await redis.set("k", "w", keepttl=True) is True
    assert await redis.ttl("k") > 100
    assert await redis.get("k") == b"w"


async def test_set_get(redis):
    assert await redis.set("k", "old", get=True) is None
    assert await redis.set("k", "new", get=True) == b"old"
    assert await redis.set("k", "newer", get=True, encoding="utf-8") == "new"
    assert await redis.set("k", "x", get=True, exist=redis.SET_IF_NOT_EXIST) == b"newer"
    assert await redis.get("k") == b"newer"
    assert await redis.set("k", "y", get=True, expire=100, exist=redis.SET_IF_EXIST) == b"newer"
    assert await redis.ttl("k") > 0


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"expire": 1.5}, TypeError),
        ({"expire": "10"}, TypeError),
        ({"pexpire": 1.5}, TypeError),
        ({"exat": "1"}, TypeError),
        ({"pxat": 2.0}, TypeError),
        ({"expire": 1, "pexpire": 1000}, ValueError),
        ({"expire": 1, "keepttl": True}, ValueError),
        ({"exat": 1, "pxat": 1}, ValueError),
        ({"exist": "NX"}, ValueError),
        ({"exist": True}, ValueError),
    ],
)
async def test_set_bad_arguments(redis, kwargs, exc):
    with pytest.raises(exc):
        redis.set("k", "v", **kwargs)
    assert await redis.get("k") is None
    await assert_still_works(redis)


async def test_set_server_errors(redis):
    with pytest.raises(ReplyError):
        await redis.set("k", "v", expire=-1)
    with pytest.raises(TypeError):
        await redis.set("k", None)
    with pytest.raises(TypeError):
        await redis.set(None, "v")
    await assert_still_works(redis)


async def test_setex_psetex(redis):
    assert await redis.setex("k", 100, "v") is True
    assert 0 < await redis.ttl("k") <= 100
    assert await redis.setex("f", 2.5, "v") is True
    assert 0 < await redis.pttl("f") <= 2500
    assert await redis.psetex("p", 60000, "v") is True
    assert 0 < await redis.pttl("p") <= 60000
    assert await redis.get("p") == b"v"
    for bad in ("10", None):
        with pytest.raises(TypeError):
            redis.setex("k", bad, "v")
        with pytest.raises(TypeError):
            redis.psetex("k", bad, "v")
    with pytest.raises(TypeError):
        redis.psetex("k", 1.5, "v")
    with pytest.raises(ReplyError):
        await redis.setex("k", 0, "v")
    await assert_still_works(redis)


async def test_setnx(redis):
    assert await redis.setnx("k", "a") is True
    assert await redis.setnx("k", "b") is False
    assert await redis.get("k") == b"a"


async def test_getset(redis):
    assert await redis.getset("k", "a") is None
    assert await redis.getset("k", "b") == b"a"
    assert await redis.getset("k", "c", encoding="utf-8") == "b"
    await redis.lpush("list", "x")
    with pytest.raises(ReplyError, match="WRONGTYPE"):
        await redis.getset("list", "y")


async def test_getdel(redis):
    await redis.set("k", "v")
    assert await redis.getdel("k", encoding="utf-8") == "v"
    assert await redis.getdel("k") is None
    assert await redis.exists("k") == 0


async def test_getex(redis):
    assert await redis.getex("missing") is None
    await redis.set("k", "v")
    assert await redis.getex("k") == b"v"
    assert await redis.ttl("k") == -1
    assert await redis.getex("k", ex=100) == b"v"
    assert 0 < await redis.ttl("k") <= 100
    assert await redis.getex("k", px=200000, encoding="utf-8") == "v"
    assert 100 < await redis.ttl("k") <= 200
    assert await redis.getex("k", exat=4102444800) == b"v"
    assert await redis.getex("k", pxat=4102444800000) == b"v"
    assert await redis.ttl("k") > 1000
    assert await redis.getex("k", persist=True) == b"v"
    assert await redis.ttl("k") == -1
    with pytest.raises(ValueError):
        redis.getex("k", ex=1, px=1)
    with pytest.raises(ValueError):
        redis.getex("k", ex=1, persist=True)
    with pytest.raises(TypeError):
        redis.getex("k", ex="1")
    assert await redis.ttl("k") == -1


async def test_mget_mset(redis):
    assert await redis.mset("a", 1, "b", "x") is True
    assert await redis.mset({"c": "3", b"d": b"4"}) is True
    assert await redis.mget("a", "b", "c", "d", "e") == [b"1", b"x", b"3", b"4", None]
    assert await redis.mget("a", "b", encoding="utf-8") == ["1", "x"]
    with pytest.raises(TypeError):
        redis.mset("a")
    with pytest.raises(TypeError):
        redis.mset("a", 1, "b")
    with pytest.raises(TypeError):
        redis.mset()
    with pytest.raises(ValueError):
        redis.mset({})
    await assert_still_works(redis)


async def test_msetnx(redis):
    assert await redis.msetnx("a", 1, "b", 2) == 1
    assert await redis.msetnx("b", 3, "c", 4) == 0
    assert await redis.mget("a", "b", "c") == [b"1", b"2", None]
    with pytest.raises(TypeError):
        redis.msetnx("a", 1, "b")


async def test_append_strlen(redis):
    assert await redis.strlen("k") == 0
    assert await redis.append("k", "abc") == 3
    assert await redis.append("k", b"\xff") == 4
    assert await redis.strlen("k") == 4
    assert await redis.get("k") == b"abc\xff"


async def test_getrange_setrange(redis):
    await redis.set("k", "Hello World")
    assert await redis.getrange("k", 0, 4) == b"Hello"
    assert await redis.getrange("k", -5, -1, encoding="utf-8") == "World"
    assert await redis.getrange("missing", 0, 10) == b""
    assert await redis.setrange("k", 6, "Redis") == 11
    assert await redis.get("k") == b"Hello Redis"
    assert await redis.setrange("pad", 3, "x") == 4
    assert await redis.get("pad") == b"\x00\x00\x00x"
    for args in (("0", 1), (0, 1.0), (None, 1)):
        with pytest.raises(TypeError):
            redis.getrange("k", *args)
    with pytest.raises(TypeError):
        redis.setrange("k", "1", "x")
    with pytest.raises(ValueError):
        redis.setrange("k", -1, "x")
    assert await redis.get("k") == b"Hello Redis"


async def test_lcs(redis):
    await redis.mset("k1", "ohmytext", "k2", "mynewtext")
    assert await redis.lcs("k1", "k2") == b"mytext"
    assert await redis.lcs("k1", "k2", encoding="utf-8") == "mytext"
    assert await redis.lcs("k1", "k2", length=True) == 6
    assert await redis.lcs("k1", "k2", idx=True) == ([((4, 7), (5, 8)), ((2, 3), (0, 1))], 6)
    assert await redis.lcs("k1", "k2", idx=True, minmatchlen=4, withmatchlen=True) == (
        [((4, 7), (5, 8), 4)],
        6,
    )
    assert await redis.lcs("k1", "missing", idx=True) == ([], 0)
    assert await redis.lcs("k1", "missing") == b""


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"length": True, "idx": True}, ValueError),
        ({"minmatchlen": 2}, ValueError),
        ({"withmatchlen": True}, ValueError),
        ({"idx": True, "minmatchlen": "2"}, TypeError),
        ({"idx": True, "minmatchlen": -1}, ValueError),
    ],
)
async def test_lcs_bad_arguments(redis, kwargs, exc):
    with pytest.raises(exc):
        redis.lcs("k1", "k2", **kwargs)
    await assert_still_works(redis)


# -- counters ---------------------------------------------------------------------


async def test_incr_decr(redis):
    assert await redis.incr("k") == 1
    assert await redis.incrby("k", 10) == 11
    assert await redis.decr("k") == 10
    assert await redis.decrby("k", 4) == 6
    assert await redis.incrby("k", -10) == -4
    for method in (redis.incrby, redis.decrby):
        for bad in ("1", 1.5, None, True):
            with pytest.raises(TypeError):
                method("k", bad)
    await redis.set("s", "abc")
    with pytest.raises(ReplyError, match="not an integer"):
        await redis.incr("s")
    assert await redis.get("k") == b"-4"


async def test_incrbyfloat(redis):
    res = await redis.incrbyfloat("k", 1.5)
    assert res == 1.5 and isinstance(res, float)
    res = await redis.incrbyfloat("k", 2)
    assert res == 3.5 and isinstance(res, float)
    assert await redis.incrbyfloat("k", -0.25) == 3.25
    for bad in ("1.0", None, True):
        with pytest.raises(TypeError):
            redis.incrbyfloat("k", bad)
    await redis.set("s", "abc")
    with pytest.raises(ReplyError):
        await redis.incrbyfloat("s", 1.0)
    assert await redis.get("k") == b"3.25"


# -- bits ---------------------------------------------------------------------------


async def test_setbit_getbit(redis):
    assert await redis.setbit("k", 7, 1) == 0
    assert await redis.setbit("k", 7, 1) == 1
    assert await redis.getbit("k", 7) == 1
    assert await redis.getbit("k", 6) == 0
    assert await redis.getbit("k", 1000) == 0
    assert await redis.get("k") == b"\x01"
    with pytest.raises(TypeError):
        redis.getbit("k", "7")
    with pytest.raises(ValueError):
        redis.getbit("k", -1)
    with pytest.raises(TypeError):
        redis.setbit("k", 1.0, 1)
    with pytest.raises(ValueError):
        redis.setbit("k", -1, 1)
    for bad in (2, -1, True, "1", 1.0):
        with pytest.raises(ValueError):
            redis.setbit("k", 1, bad)
    assert await redis.get("k") == b"\x01"


async def test_bitcount(redis):
    await redis.set("k", "foobar")
    assert await redis.bitcount("k") == 26
    assert await redis.bitcount("k", 0, 0) == 4
    assert await redis.bitcount("k", 1, 1) == 6
    assert await redis.bitcount("k", -2, -1) == 7
    assert await redis.bitcount("missing") == 0
    with pytest.raises(TypeError):
        redis.bitcount("k", 1)
    with pytest.raises(TypeError):
        redis.bitcount("k", end=1)
    with pytest.raises(TypeError):
        redis.bitcount("k", "0", 1)
    await assert_still_works(redis)


async def test_bitpos(redis):
    await redis.set("k", b"\xff\xf0\x00")
    assert await redis.bitpos("k", 0) == 12
    assert await redis.bitpos("k", 1, 1) == 8
    assert await redis.bitpos("k", 0, 0, 0) == -1
    assert await redis.bitpos("k", 1, end=0) == 0
    assert await redis.bitpos("k", 1, 2, -1) == -1
    await redis.set("z", b"\x00")
    assert await redis.bitpos("z", 1) == -1
    for bad in (2, -1, True, "1"):
        with pytest.raises(ValueError):
            redis.bitpos("k", bad)
    with pytest.raises(TypeError):
        redis.bitpos("k", 1, "0")
    with pytest.raises(TypeError):
        redis.bitpos("k", 1, 0, 1.5)
    await assert_still_works(redis)


async def test_bitop(redis):
    await redis.mset("a", b"\x0f", "b", b"\xf1")
    assert await redis.bitop_and("d", "a", "b") == 1
    assert await redis.get("d") == b"\x01"
    assert await redis.bitop_or("d", "a", "b") == 1
    assert await redis.get("d") == b"\xff"
    assert await redis.bitop_xor("d", "a", "b", "d") == 1
    assert await redis.get("d") == b"\x01"
    assert await redis.bitop_not("d", "a") == 1
    assert await redis.get("d") == b"\xf0"
    await redis.lpush("list", 1)
    with pytest.raises(ReplyError, match="WRONGTYPE"):
        await redis.bitop_and("d", "list", "a")


async def test_bitfield(redis):
    assert await redis.bitfield("k", ("SET", "u8", 0, 200), ("GET", "u8", 0)) == [0, 200]
    assert await redis.bitfield("k", ("incrby", "u8", 0, 100)) == [44]
    assert await redis.bitfield("k", ("OVERFLOW", "SAT"), ("INCRBY", "u8", 0, 250)) == [255]
    assert await redis.bitfield("k", [b"OVERFLOW", b"fail"], ("INCRBY", "u8", 0, 1)) == [None]
    assert await redis.bitfield("s", ("SET", "i4", "#1", -3), ("GET", "i4", "#1")) == [0, -3]
    assert await redis.get("s") == b"\x0d"
    assert await redis.bitfield_ro("k", ("GET", "u8", 0), ("get", "u4", 0)) == [255, 15]
    assert await redis.bitfield_ro("missing", ("GET", "u8", 0)) == [0]
    with pytest.raises(ReplyError):
        await redis.bitfield("k", ("GET", "x8", 0))


@pytest.mark.parametrize(
    "operations, exc",
    [
        ((), TypeError),
        (("GET", "u8", 0), TypeError),
        ((("GET", "u8"),), TypeError),
        ((("SET", "u8", 0),), TypeError),
        (((),), TypeError),
        ((("DEL", "u8", 0),), ValueError),
        (((1, "u8", 0),), ValueError),
        ((("OVERFLOW", "SATURATE"),), ValueError),
    ],
)
async def test_bitfield_bad_arguments(redis, operations, exc):
    with pytest.raises(exc):
        redis.bitfield("k", *operations)
    await assert_still_works(redis)


async def test_bitfield_ro_only_get(redis):
    with pytest.raises(ValueError):
        redis.bitfield_ro("k", ("SET", "u8", 0, 1))
    with pytest.raises(ValueError):
        redis.bitfield_ro("k", ("OVERFLOW", "SAT"))
    await assert_still_works(redis)


# -- transactions and pipelines -------------------------------------------------------


async def test_multi_exec(redis):
    tr = redis.multi_exec()
    f1 = tr.set("a", 1)
    f2 = tr.get("a")
    f3 = tr.incrbyfloat("a", 1.5)
    f4 = tr.setnx("a", 2)
    f5 = tr.mset({"b": "x", "c": "y"})
    f6 = tr.mget("a", "b", "c", encoding="utf-8")
    f7 = tr.set("a", "z", get=True)
    f8 = tr.lcs("b", "c", idx=True)
    f9 = tr.setex("e", 100, "v")
    await tr.execute()
    assert await f1 is True
    assert await f2 == b"1"
    assert await f3 == 2.5
    assert await f4 is False
    assert await f5 is True
    assert await f6 == ["2.5", "x", "y"]
    assert await f7 == b"2.5"
    assert await f8 == ([], 0)
    assert await f9 is True


async def test_pipeline(redis):
    pipe = redis.pipeline()
    f1 = pipe.set("a", "v", exist=redis.SET_IF_EXIST)
    f2 = pipe.set("a", "v", expire=100)
    f3 = pipe.getex("a", persist=True, encoding="utf-8")
    f4 = pipe.incrby("n", 5)
    f5 = pipe.getrange("a", 0, 0)
    f6 = pipe.getdel("a")
    f7 = pipe.bitfield("bits", ("SET", "u4", 0, 9), ("GET", "u4", 0))
    await pipe.execute()
    assert await f1 is False
    assert await f2 is True
    assert await f3 == "v"
    assert await f4 == 5
    assert await f5 == b"v"
    assert await f6 == b"v"
    assert await f7 == [0, 9]
    assert await redis.exists("a") == 0
