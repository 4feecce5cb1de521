"""MOVED after a completed reshard, ASK during a live migration (the session cluster is restored)."""
import asyncio

from aioredis_cy._crc16 import key_slot


def _other_primary(cluster, node):
    return next(other for other in cluster.primaries() if other is not node)


async def test_moved_after_reshard_patches_the_slot(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    redis = await create_redis_cluster()
    key = b"moved:key"
    slot = key_slot(key)
    await redis.set(key, b"value")
    source = servers.owner_of(slot)
    target = _other_primary(servers, source)
    await asyncio.to_thread(servers.move_slot, slot, source, target)
    try:
        state = redis.connection.get_cluster_state()
        assert state.slot_master(slot).addr == source.tcp_address   # the client has not noticed yet
        assert await redis.get(key) == b"value"                       # MOVED followed
        assert redis.connection.get_cluster_state().slot_master(slot).addr == target.tcp_address
        assert await redis.incr(b"moved:counter{moved:key}") == 1
        target_redis = await redis.keys_master(key)
        assert target_redis.address == target.tcp_address
    finally:
        await asyncio.to_thread(servers.move_slot, slot, target, source)


async def test_ask_during_live_migration(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    redis = await create_redis_cluster()
    key = b"ask:key"
    slot = key_slot(key)
    source = servers.owner_of(slot)
    target = _other_primary(servers, source)
    state = redis.connection.get_cluster_state()
    # Keys served by the same source node, in other slots, to run alongside.
    neighbours = [f"n:{i}".encode() for i in range(5000)]
    neighbours = [k for k in neighbours
                  if key_slot(k) != slot and state.slot_master(key_slot(k)).addr == source.tcp_address][:1000]
    await asyncio.to_thread(servers.begin_migration, slot, source, target)
    try:
        # The key is missing on the source, so the source answers ASK and the target takes it.
        results = await asyncio.gather(redis.set(key, b"asked"), *(redis.set(k, k) for k in neighbours))
        assert all(results)
        assert servers.cli(target, "cluster", "countkeysinslot", slot).strip() == "1"
        assert servers.cli(source, "cluster", "countkeysinslot", slot).strip() == "0"
        assert await redis.get(key) == b"asked"
        assert await asyncio.gather(*(redis.get(k) for k in neighbours)) == neighbours
        # The slot map is unchanged by ASK.
        assert redis.connection.get_cluster_state().slot_master(slot).addr == source.tcp_address
    finally:
        await asyncio.to_thread(servers.finish_migration, slot, source, target)
        await asyncio.to_thread(servers.move_slot, slot, target, source)
