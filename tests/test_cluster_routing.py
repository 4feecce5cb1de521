"""Cluster bootstrap, routing of keys to slot owners, hash tags, cross-slot refusal."""
import pytest

import aioredis_cy
from aioredis_cy._crc16 import key_slot
from aioredis_cy._server import free_port
from aioredis_cy.cluster import Cluster


async def test_bootstrap_from_one_node(create_redis_cluster, redis_cluster_servers):
    redis = await create_redis_cluster([redis_cluster_servers.addresses[0]])
    state = redis.connection.get_cluster_state()
    assert len(state.masters()) == 3
    assert len(state.nodes) == 6
    assert sum(end - start + 1 for start, end, _ in state.slot_ranges) == 16384
    assert await redis.set("foo", "bar")
    assert await redis.get("foo", encoding="utf-8") == "bar"


async def test_bootstrap_with_dead_startup_node_and_uri(create_redis_cluster, redis_cluster_servers):
    port = redis_cluster_servers.nodes[1].port
    redis = await create_redis_cluster([("127.0.0.1", free_port()), f"redis://127.0.0.1:{port}"])
    assert await redis.incr("counter") == 1


@pytest.mark.parametrize("kwargs", [{"retry_min_delay": -1}, {"retry_max_delay": -0.5}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        Cluster([("127.0.0.1", 7000)], **kwargs)
    with pytest.raises(ValueError):
        Cluster([])


async def test_routing_matches_server_keyslot_and_dbsize(create_redis_cluster, redis_cluster_servers):
    redis = await create_redis_cluster()
    keys = [f"key:{i}".encode() for i in range(3000)]
    server_slots = [int(s) for s in await _gather(redis.cluster_keyslot(key) for key in keys[:500])]
    assert server_slots == [key_slot(key) for key in keys[:500]]
    await _gather(redis.set(key, key) for key in keys)
    state = redis.connection.get_cluster_state()
    expected = {}
    for key in keys:
        addr = state.slot_master(key_slot(key)).addr
        expected[addr] = expected.get(addr, 0) + 1
    masters = await redis.all_masters()
    sizes = {master.address: await master.dbsize() for master in masters}
    assert sizes == expected
    for master in masters:
        master.close()
        await master.wait_closed()


async def test_hash_tags_share_a_slot(create_redis_cluster):
    redis = await create_redis_cluster()
    assert key_slot(b"{user1}.a") == key_slot(b"{user1}.b") == key_slot(b"user1")
    assert await redis.mset("{user1}.a", 1, "{user1}.b", 2)
    assert await redis.mget("{user1}.a", "{user1}.b") == [b"1", b"2"]


async def test_cross_slot_refused_before_sending(create_redis_cluster):
    redis = await create_redis_cluster()
    assert key_slot(b"a") != key_slot(b"b")
    with pytest.raises(aioredis_cy.CrossSlotError):
        await redis.mset("a", 1, "b", 2)
    assert await redis.exists("a") == 0


async def test_select_refused(create_redis_cluster):
    redis = await create_redis_cluster()
    with pytest.raises(aioredis_cy.RedisClusterError, match="SELECT"):
        redis.select(1)


async def _gather(coros):
    import asyncio

    return await asyncio.gather(*coros)


async def test_dbsize_keys_flushdb_cover_every_primary(create_redis_cluster):
    redis = await create_redis_cluster()
    keys = [f"fan:{i}".encode() for i in range(300)]
    await _gather(redis.set(key, 1) for key in keys)
    assert await redis.dbsize() == 300
    assert sorted(await redis.keys("fan:*")) == sorted(keys)
    assert await redis.flushdb() is True
    assert await redis.dbsize() == 0
