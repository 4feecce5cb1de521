"""Commands split per slot (``*_nonatomic``), commands on every primary, and clear refusals."""
import asyncio

import pytest

import aioredis_cy
from aioredis_cy._crc16 import key_slot
from aioredis_cy.cluster import UnsupportedCommandError
from aioredis_cy.errors import ReplyError

KEYS = [f"split:{i}" for i in range(200)]


async def test_nonatomic_helpers_merge_in_the_callers_order(create_redis_cluster):
    redis = await create_redis_cluster()
    assert len({key_slot(key.encode()) for key in KEYS}) > 150
    assert await redis.mset_nonatomic(*(part for key in KEYS for part in (key, key.upper()))) is True
    assert await redis.mset_nonatomic({"{m}a": 1, "b": 2}) is True
    values = await redis.mget_nonatomic(*KEYS, "missing", encoding="utf-8")
    assert values == [key.upper() for key in KEYS] + [None]
    assert await redis.mget_nonatomic("b", "{m}a") == [b"2", b"1"]
    assert await redis.exists_nonatomic(*KEYS, KEYS[0], "missing") == 201
    assert await redis.touch_nonatomic(*KEYS[:50], "missing") == 50
    assert await redis.delete_nonatomic(*KEYS[:100], "missing") == 100
    assert await redis.unlink_nonatomic(*KEYS) == 100
    assert await redis.dbsize() == 2
    # The atomic commands refuse keys of several slots before sending.
    with pytest.raises(aioredis_cy.CrossSlotError):
        await redis.mget(*KEYS)
    with pytest.raises(aioredis_cy.CrossSlotError):
        await redis.delete("{m}a", "b")
    assert await redis.dbsize() == 2


async def test_nonatomic_argument_errors_before_sending(create_redis_cluster):
    redis = await create_redis_cluster()
    with pytest.raises(TypeError):
        redis.mset_nonatomic("a", 1, "b")
    with pytest.raises(TypeError):
        redis.mset_nonatomic({})
    with pytest.raises(TypeError):
        redis.mget_nonatomic("a", None)
    assert await redis.dbsize() == 0


async def test_nonatomic_inside_a_pipeline(create_redis_cluster):
    redis = await create_redis_cluster()
    pipe = redis.pipeline()
    pipe.mset_nonatomic({"x": 1, "y": 2, "z": 3})
    values = pipe.mget_nonatomic("z", "x", "y", "w")
    assert await pipe.execute() == [True, [b"3", b"1", b"2", None]]
    assert await values == [b"3", b"1", b"2", None]


async def test_scan_and_iscan_cover_every_key_once(create_redis_cluster):
    redis = await create_redis_cluster()
    keys = [f"scan:{i}".encode() for i in range(1500)]
    await redis.mset_nonatomic(*(part for key in keys for part in (key, b"1")))
    await redis.set(b"other", b"1")
    seen = []
    cursor, pages = 0, 0
    while True:
        cursor, page = await redis.scan(cursor, match="scan:*", count=200)
        seen += page
        pages += 1
        if not cursor:
            break
    assert pages >= 3
    assert sorted(seen) == sorted(keys)
    assert sorted([key async for key in redis.iscan(match="scan:*", count=100)]) == sorted(keys)
    everything = [key async for key in redis.iscan()]
    assert sorted(everything) == sorted(keys + [b"other"])
    with pytest.raises(ValueError):
        await redis.scan(1023)   # names a primary the cluster does not have


async def test_scan_of_an_empty_cluster(create_redis_cluster):
    redis = await create_redis_cluster()
    assert [key async for key in redis.iscan()] == []
    assert await redis.randomkey() is None


async def test_randomkey_finds_the_only_key(create_redis_cluster):
    redis = await create_redis_cluster()
    await redis.set("lonely", "1")
    for _ in range(5):
        assert await redis.randomkey(encoding="utf-8") == "lonely"


async def test_scripts_on_every_primary(create_redis_cluster):
    redis = await create_redis_cluster()
    assert await redis.script_flush() is True
    sha = await redis.script_load("return redis.call('INCR', KEYS[1])")
    keys = [f"script:{i}" for i in range(60)]
    assert len({redis.connection.slot_master(key_slot(key.encode())).addr for key in keys}) == 3
    assert await asyncio.gather(*(redis.evalsha(sha, keys=[key]) for key in keys)) == [1] * len(keys)
    missing = "0" * 40
    assert await redis.script_exists(sha, missing) == [1, 0]
    # Loaded on one primary only: not "existing" on the cluster.
    one = await (await redis.keys_master(keys[0])).script_load("return 1")
    assert await redis.script_exists(one) == [0]
    assert await redis.script_flush() is True
    assert await redis.script_exists(sha) == [0]
    with pytest.raises(ReplyError, match="NOTBUSY"):
        await redis.script_kill()


async def test_wait_on_every_primary(create_redis_cluster):
    redis = await create_redis_cluster()
    await redis.set("w", 1)
    assert await redis.wait(0, 100) >= 0
    with pytest.raises(TypeError):
        await redis.wait("1", 100)


async def test_slot_commands_go_to_the_slot_owner(create_redis_cluster):
    redis = await create_redis_cluster()
    slot = key_slot(b"owned")
    await redis.set("owned", 1)
    assert await redis.cluster_count_key_in_slots(slot) == 1
    assert await redis.cluster_get_keys_in_slots(slot, 10, encoding="utf-8") == ["owned"]
    with pytest.raises(TypeError):
        await redis.cluster_count_key_in_slots("1")


@pytest.mark.parametrize("method, args", [
    ("config_set", ("maxmemory", "0")), ("bgsave", ()), ("cluster_meet", ("127.0.0.1", 1)),
    ("cluster_failover", ()), ("move", ("k", 1)), ("swapdb", (0, 1)), ("quit", ()), ("select", (1,)),
])
async def test_per_node_commands_refused_with_a_workaround(create_redis_cluster, method, args):
    redis = await create_redis_cluster()
    with pytest.raises(UnsupportedCommandError) as info:
        getattr(redis, method)(*args)
    assert isinstance(info.value, aioredis_cy.RedisClusterError)
    assert isinstance(info.value, NotImplementedError)   # what aioredis-cluster raised
    assert await redis.ping() == b"PONG"


async def test_info_and_config_get_answer_from_one_primary(create_redis_cluster):
    redis = await create_redis_cluster()
    info = await redis.info("cluster")
    assert info["cluster"]["cluster_enabled"] == "1"
    assert "maxmemory" in await redis.config_get("maxmemory")
