"""Generic (keyspace) commands against a real server, on a single connection and on a pool."""
import time

import pytest

from aioredis_cy.errors import ReplyError


async def test_delete_exists_unlink_touch(redis):
    await redis.mset("a", 1, "b", 2, "c", 3)
    assert await redis.exists("a") == 1
    assert await redis.exists("a", "a", "b", "missing") == 3
    assert await redis.touch("a", "b", "missing") == 2
    assert await redis.delete("a", "missing") == 1
    assert await redis.delete("a") == 0
    assert await redis.unlink("b", "c", "missing") == 2
    assert await redis.exists("a", "b", "c") == 0


async def test_dump_restore(redis, create_redis):
    await redis.rpush("list", "x", "\xff")
    payload = await redis.dump("list")
    assert isinstance(payload, bytes)
    assert await redis.dump("missing") is None
    assert await redis.restore("copy", 0, payload) == b"OK"
    assert await redis.lrange("copy", 0, -1) == [b"x", "\xff".encode()]
    with pytest.raises(ReplyError, match="BUSYKEY"):
        await redis.restore("copy", 0, payload)
    # A binary payload is never decoded, whatever the client's encoding.
    decoding = await create_redis(encoding="utf-8")
    assert await decoding.dump("list") == payload


async def test_expire_ttl_persist(redis):
    await redis.set("k", "v")
    assert await redis.ttl("k") == -1
    assert await redis.pttl("k") == -1
    assert await redis.ttl("missing") == -2
    assert await redis.expire("k", 100) is True
    assert 0 < await redis.ttl("k") <= 100
    assert await redis.expire("missing", 100) is False
    assert await redis.expire("k", 12.5) is True   # float: PEXPIRE in ms
    assert 10000 < await redis.pttl("k") <= 12500
    assert await redis.persist("k") is True
    assert await redis.persist("k") is False
    assert await redis.pexpire("k", 50000) is True
    assert 0 < await redis.pttl("k") <= 50000
    assert await redis.pexpire("missing", 1) is False


async def test_expire_options(redis):
    await redis.set("k", "v")
    assert await redis.expire("k", 100, xx=True) is False   # no timeout yet
    assert await redis.expire("k", 100, nx=True) is True
    assert await redis.expire("k", 200, nx=True) is False
    assert await redis.expire("k", 50, gt=True) is False
    assert await redis.expire("k", 200, gt=True) is True
    assert await redis.expire("k", 300, lt=True) is False
    assert await redis.expire("k", 150, xx=True, lt=True) is True
    assert 0 < await redis.ttl("k") <= 150
    assert await redis.pexpire("k", 100000, lt=True) is True
    assert await redis.expire("k", 99.5, lt=True) is True
    now = int(time.time())
    assert await redis.expireat("k", now + 1000, gt=True) is True
    assert await redis.pexpireat("k", (now + 10) * 1000, gt=True) is False
    assert await redis.expireat("k", now + 10.0, lt=True) is True


@pytest.mark.parametrize("method", ["expire", "pexpire", "expireat", "pexpireat"])
@pytest.mark.parametrize("options", [{"nx": True, "xx": True}, {"nx": True, "gt": True},
                                     {"nx": True, "lt": True}, {"gt": True, "lt": True}])
async def test_expire_option_conflicts(redis, method, options):
    with pytest.raises(ValueError):
        getattr(redis, method)("k", 10, **options)
    assert await redis.ping() == b"PONG"


async def test_expireat_expiretime(redis):
    await redis.set("k", "v")
    assert await redis.expiretime("k") == -1
    assert await redis.pexpiretime("k") == -1
    assert await redis.expiretime("missing") == -2
    at = int(time.time()) + 1000
    assert await redis.expireat("k", at) is True
    assert await redis.expiretime("k") == at
    assert await redis.pexpiretime("k") == at * 1000
    assert await redis.expireat("k", at + 0.5) is True   # float: PEXPIREAT in ms
    assert await redis.pexpiretime("k") == at * 1000 + 500
    assert await redis.pexpireat("k", (at + 1) * 1000) is True
    assert await redis.expiretime("k") == at + 1
    assert await redis.expireat("missing", at) is False
    assert await redis.pexpireat("missing", at * 1000) is False
    assert await redis.expireat("k", 1) is True   # in the past: deleted
    assert await redis.exists("k") == 0


@pytest.mark.parametrize("method, value", [
    ("expire", "10"), ("expire", None), ("expire", True),
    ("pexpire", 1.5), ("pexpire", "10"),
    ("expireat", "10"), ("expireat", b"10"),
    ("pexpireat", 1.5), ("pexpireat", False),
])
async def test_expire_bad_values(redis, method, value):
    with pytest.raises(TypeError):
        getattr(redis, method)("k", value)
    assert await redis.ping() == b"PONG"


async def test_keys_randomkey(redis):
    assert await redis.keys("*") == []
    assert await redis.randomkey() is None
    await redis.mset("one", 1, "two", 2, "three", 3)
    assert sorted(await redis.keys("t*")) == [b"three", b"two"]
    assert sorted(await redis.keys("*o*", encoding="utf-8")) == ["one", "two"]
    assert await redis.randomkey() in (b"one", b"two", b"three")
    assert await redis.randomkey(encoding="utf-8") in ("one", "two", "three")


async def test_rename_renamenx(redis):
    await redis.mset("a", 1, "b", 2)
    assert await redis.rename("a", "c") is True
    assert await redis.get("c") == b"1"
    with pytest.raises(ReplyError, match="no such key"):
        await redis.rename("a", "d")
    assert await redis.renamenx("c", "b") is False
    assert await redis.renamenx("c", "d") is True
    assert await redis.get("d") == b"1"
    with pytest.raises(ValueError):
        redis.rename("x", "x")
    with pytest.raises(ValueError):
        redis.renamenx("x", "x")
    with pytest.raises(TypeError):
        redis.rename("x", None)
    assert await redis.ping() == b"PONG"


async def test_move_copy(redis, create_redis, server):
    other_db = await create_redis(db=3)
    await other_db.flushdb()
    await redis.set("k", "v")
    assert await redis.move("k", 3) is True
    assert await redis.move("k", 3) is False
    assert await other_db.get("k") == b"v"

    await redis.set("src", "1")
    assert await redis.copy("src", "dst") is True
    assert await redis.copy("src", "dst") is False
    await redis.set("src", "2")
    assert await redis.copy("src", "dst", replace=True) is True
    assert await redis.get("dst") == b"2"
    assert await redis.copy("src", "dst", db=3) is True
    assert await other_db.get("dst") == b"2"
    assert await redis.copy("missing", "x") is False
    await other_db.flushdb()


@pytest.mark.parametrize("method, args, exc", [
    ("move", ("k", "1"), TypeError),
    ("move", ("k", True), TypeError),
    ("move", ("k", -1), ValueError),
    ("copy", ("a", "b", ), None),
])
async def test_move_copy_bad_db(redis, method, args, exc):
    if exc is None:   # copy: the db keyword
        with pytest.raises(TypeError):
            redis.copy(*args, db="1")
        with pytest.raises(ValueError):
            redis.copy(*args, db=-1)
    else:
        with pytest.raises(exc):
            getattr(redis, method)(*args)
    assert await redis.ping() == b"PONG"


async def test_object_commands(redis):
    await redis.set("num", 12345)
    await redis.set("str", "hello")
    await redis.rpush("list", "a")
    assert await redis.object_encoding("num") == "int"
    assert await redis.object_encoding("str") == "embstr"
    assert await redis.object_encoding("list") in ("quicklist", "listpack")
    assert await redis.object_encoding("missing") is None
    assert await redis.object_refcount("str") >= 1
    assert await redis.object_refcount("missing") is None
    assert await redis.object_idletime("str") >= 0
    assert await redis.object_idletime("missing") is None
    with pytest.raises(ReplyError):   # needs an LFU maxmemory-policy
        await redis.object_freq("str")


async def test_object_freq(start_server, create_redis):
    node = start_server("generic-lfu", "maxmemory-policy allkeys-lfu")
    redis = await create_redis(node.tcp_address)
    await redis.set("k", "v")
    assert await redis.object_freq("k") >= 0
    assert await redis.object_freq("missing") is None
    await redis.delete("k")


async def test_scan_iscan(redis):
    keys = {f"key:{i}".encode() for i in range(50)} | {b"other"}
    await redis.mset(*[item for key in keys for item in (key, 1)])
    cursor, found = b"0", set()
    while True:
        cursor, page = await redis.scan(cursor, match="key:*", count=10)
        assert isinstance(cursor, int)
        found.update(page)
        if not cursor:
            break
    assert found == keys - {b"other"}
    assert {key async for key in redis.iscan(match="key:*", count=7)} == keys - {b"other"}
    assert {key async for key in redis.iscan()} == keys
    assert [key async for key in redis.iscan(match="none:*")] == []


async def test_sort(redis):
    await redis.rpush("ids", 3, 1, 2)
    await redis.mset("w_1", 30, "w_2", 10, "w_3", 20, "name_1", "one", "name_2", "two", "name_3", "three")
    assert await redis.sort("ids") == [b"1", b"2", b"3"]
    assert await redis.sort("ids", asc=False) == [b"3", b"2", b"1"]
    assert await redis.sort("ids", asc=True) == [b"1", b"2", b"3"]
    assert await redis.sort("ids", asc=b"DESC") == [b"3", b"2", b"1"]   # 1.x: the order word
    assert await redis.sort("ids", asc="ASC") == [b"1", b"2", b"3"]
    assert await redis.sort("ids", offset=1, count=1) == [b"2"]
    assert await redis.sort("ids", count=1) == [b"1", b"2", b"3"]   # LIMIT only with both
    assert await redis.sort("ids", by="w_*") == [b"2", b"3", b"1"]
    assert await redis.sort("ids", "name_*", by="w_*") == [b"two", b"three", b"one"]
    assert await redis.sort("ids", "#", "name_*", offset=0, count=1) == [b"1", b"one"]
    await redis.rpush("words", "b", "a", "c")
    assert await redis.sort("words", alpha=True) == [b"a", b"b", b"c"]
    with pytest.raises(ReplyError):
        await redis.sort("words")
    assert await redis.sort("ids", store="sorted") == 3
    assert await redis.lrange("sorted", 0, -1) == [b"1", b"2", b"3"]


async def test_type(redis):
    await redis.set("s", 1)
    await redis.rpush("l", 1)
    await redis.sadd("set", 1)
    await redis.hset("h", "f", 1)
    await redis.zadd("z", 1, "m")
    assert [await redis.type(key) for key in ("s", "l", "set", "h", "z", "missing")] == [
        b"string", b"list", b"set", b"hash", b"zset", b"none"]


async def test_wait(redis):
    assert await redis.wait(0, 0) == 0
    with pytest.raises(TypeError):
        redis.wait("1", 0)
    with pytest.raises(ValueError):
        redis.wait(0, -1)


async def test_migrate(redis, start_server, create_redis):
    target = start_server("generic-migrate-target")
    other = await create_redis(target.tcp_address)
    await other.flushdb()
    host, port = target.tcp_address
    await redis.set("k", "v")
    assert await redis.migrate(host, port, "k", 0, 1000) is True
    assert await redis.exists("k") == 0
    assert await other.get("k") == b"v"
    assert await redis.migrate(host, port, "missing", 0, 1000) is False

    await redis.set("k", "mine")
    with pytest.raises(ReplyError, match="BUSYKEY"):
        await redis.migrate(host, port, "k", 0, 1000)
    assert await redis.migrate(host, port, "k", 0, 1000, copy=True, replace=True) is True
    assert await redis.get("k") == b"mine"
    assert await other.get("k") == b"mine"

    await redis.mset("a", 1, "b", 2)
    assert await redis.migrate_keys(host, port, ["a", "b", "missing"], 1, 1000) is True
    assert await redis.exists("a", "b") == 0
    assert await redis.migrate_keys(host, port, ("a",), 1, 1000) is False
    await other.select(1)
    assert await other.mget("a", "b") == [b"1", b"2"]
    await redis.set("a", "again")
    assert await redis.migrate_keys(host, port, ["a"], 1, 1000, copy=True, replace=True) is True
    assert await other.get("a") == b"again"
    assert await redis.get("a") == b"again"
    await other.flushdb()


@pytest.mark.parametrize("args, exc", [
    ((1, 6379, "k", 0, 100), TypeError),
    (("", 6379, "k", 0, 100), ValueError),
    (("h", 6379, "k", "0", 100), TypeError),
    (("h", 6379, "k", -1, 100), ValueError),
    (("h", 6379, "k", 0, 1.5), TypeError),
    (("h", 6379, "k", 0, -1), ValueError),
])
async def test_migrate_bad_arguments(redis, args, exc):
    with pytest.raises(exc):
        redis.migrate(*args)
    host, port, _key, db, timeout = args
    with pytest.raises(exc):
        redis.migrate_keys(host, port, ["k"], db, timeout)
    assert await redis.ping() == b"PONG"


async def test_migrate_keys_bad_keys(redis):
    with pytest.raises(TypeError):
        redis.migrate_keys("h", 6379, "k", 0, 100)
    with pytest.raises(ValueError):
        redis.migrate_keys("h", 6379, [], 0, 100)
    with pytest.raises(TypeError):
        redis.migrate_keys("h", 6379, ["k", None], 0, 100)
    assert await redis.ping() == b"PONG"


async def test_none_key_fails_before_sending(redis):
    for method in ("delete", "dump", "exists", "persist", "pttl", "ttl", "type", "touch", "unlink"):
        with pytest.raises(TypeError):
            getattr(redis, method)(None)
    with pytest.raises(TypeError):
        redis.delete("a", None)
    with pytest.raises(TypeError):
        redis.keys(None)
    assert await redis.ping() == b"PONG"


@pytest.mark.parametrize("batch", ["multi_exec", "pipeline"])
async def test_generic_batch(redis, batch, create_redis):
    await redis.mset("a", 1, "b", 2)
    await redis.rpush("ids", 2, 1)
    tr = getattr(redis, batch)()
    futures = [
        tr.exists("a", "b", "c"),
        tr.expire("a", 100),
        tr.expire("a", 50.5),
        tr.pexpire("a", 100000, gt=True),
        tr.ttl("a"),
        tr.persist("a"),
        tr.copy("a", "c"),
        tr.rename("c", "d"),
        tr.renamenx("d", "b"),
        tr.move("d", 5),
        tr.type("a"),
        tr.object_encoding("a"),
        tr.scan(0, match="i*"),
        tr.sort("ids"),
        tr.keys("ids", encoding="utf-8"),
        tr.touch("a", "b"),
        tr.delete("b"),
        tr.unlink("missing"),
        tr.expiretime("a"),
    ]
    expected = [2, True, True, True, 100, True, True, True, False, True, b"string", "int",
                (0, [b"ids"]), [b"1", b"2"], ["ids"], 2, 1, 0, -1]
    assert await tr.execute() == expected
    assert [future.result() for future in futures] == expected
    db5 = await create_redis(db=5)
    assert await db5.delete("d") == 1
