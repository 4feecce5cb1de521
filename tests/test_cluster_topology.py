"""Topology on the session cluster: refreshes, replica reads, uncovered slots, TRYAGAIN,
cancellation during a redirect, connections per node, ACL users (the cluster is restored)."""
import asyncio

import pytest

import aioredis_cy
from aioredis_cy._crc16 import key_slot
from aioredis_cy.cluster.cluster import REFRESH_NODES


def _other_primary(servers, node):
    return next(other for other in servers.primaries() if other is not node)


def _keys_in(tag, count):
    """``count`` keys sharing the hash tag ``tag`` (and so its slot)."""
    return [f"{{{tag}}}:{i}".encode() for i in range(count)]


async def test_500_concurrent_moved_cause_one_refresh(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    redis = await create_redis_cluster()
    cluster = redis.connection
    keys = _keys_in("moved:many", 500)
    slot = key_slot(keys[0])
    await asyncio.gather(*(redis.set(k, k) for k in keys))
    source = servers.owner_of(slot)
    target = _other_primary(servers, source)
    await asyncio.to_thread(servers.move_slot, slot, source, target)
    try:
        refreshes = cluster.refresh_count
        asked = servers.calls("cluster|slots")
        assert await asyncio.gather(*(redis.get(k) for k in keys)) == keys   # each one answered MOVED first
        await cluster.schedule_refresh()
        assert cluster.refresh_count == refreshes + 1
        assert servers.calls("cluster|slots") - asked == REFRESH_NODES
        assert cluster.get_cluster_state().slot_master(slot).addr == target.tcp_address
    finally:
        await asyncio.to_thread(servers.move_slot, slot, target, source)


async def test_refresh_keeps_the_pools_of_unchanged_nodes(create_redis_cluster):
    redis = await create_redis_cluster()
    cluster = redis.connection
    before = {addr: await cluster.create_pool_by_addr(addr)
              for addr in (node.addr for node in cluster.get_cluster_state().masters())}
    connections = {addr: set(pool._conns) for addr, pool in before.items()}
    cluster.schedule_refresh()
    await cluster.schedule_refresh()
    for addr, pool in before.items():
        assert await cluster.create_pool_by_addr(addr) is pool
        assert not pool.closed and set(pool._conns) == connections[addr]
    assert await redis.set(b"after:refresh", 1)


async def test_reads_go_to_replicas_writes_to_primaries(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    redis = await create_redis_cluster(read_from_replicas=True)
    keys = [f"replica:{i}".encode() for i in range(300)]
    assert all(await asyncio.gather(*(redis.set(k, k) for k in keys)))
    primaries = servers.primaries()
    for primary in primaries:   # every write has reached the replicas
        assert int(servers.cli(primary, "wait", 1, 5000)) >= 1
    replicas = [replica for primary in primaries for replica in servers.replicas_of(primary)]
    gets_before = {node.name: servers.commandstats(node).get("get", 0) for node in primaries + replicas}
    assert await asyncio.gather(*(redis.get(k) for k in keys)) == keys
    assert await redis.incr(b"replica:counter") == 1   # a write still goes to a primary
    gets = {node.name: servers.commandstats(node).get("get", 0) - gets_before[node.name]
            for node in primaries + replicas}
    assert all(gets[node.name] == 0 for node in primaries)
    assert sum(gets[node.name] for node in replicas) == len(keys)
    assert all(gets[node.name] > 0 for node in replicas)
    for replica in replicas:
        assert any("flags=r" in line for line in servers.clients(replica))   # READONLY connections


async def test_uncovered_slot_fails_alone_and_recovers(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    redis = await create_redis_cluster()
    cluster = redis.connection
    key = b"uncovered:key"
    slot = key_slot(key)
    owner = servers.owner_of(slot)
    others = [f"covered:{i}".encode() for i in range(200)]
    others = [k for k in others if key_slot(k) != slot]
    for node in servers.running():
        await asyncio.to_thread(servers.cli, node, "cluster", "delslots", slot)
    try:
        with pytest.raises((aioredis_cy.UncoveredSlotError, aioredis_cy.ClusterDownError)) as failure:
            await redis.set(key, b"value")
        assert str(slot) in str(failure.value) or "not served" in str(failure.value)
        assert all(await asyncio.gather(*(redis.set(k, k) for k in others)))   # other slots serve on
        await cluster.schedule_refresh()
        with pytest.raises(aioredis_cy.UncoveredSlotError, match=f"slot {slot} "):
            await redis.get(key)
    finally:
        await asyncio.to_thread(servers.cli, owner, "cluster", "addslots", slot)
        await asyncio.to_thread(servers.wait_stable)
    await cluster.schedule_refresh()
    assert await redis.set(key, b"value")
    assert await redis.get(key) == b"value"


async def test_tryagain_on_a_multi_key_command_during_migration(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    redis = await create_redis_cluster(max_attempts=3, retry_min_delay=0.01, retry_max_delay=0.02)
    first, second = _keys_in("tryagain", 2)
    slot = key_slot(first)
    assert await redis.mset(first, b"1", second, b"2")
    source = servers.owner_of(slot)
    target = _other_primary(servers, source)
    await asyncio.to_thread(servers.begin_migration, slot, source, target)
    try:
        await asyncio.to_thread(servers.cli, source, "migrate", "127.0.0.1", target.port, second.decode(), 0,
                                5000)
        # One key here, one on the target: the source answers TRYAGAIN, retried, then a clear error.
        with pytest.raises(aioredis_cy.TryAgainError):
            await redis.mget(first, second)
        patient = await create_redis_cluster(max_attempts=30, retry_min_delay=0.05, retry_max_delay=0.2)
        waiting = asyncio.ensure_future(patient.mget(first, second))
        await asyncio.to_thread(servers.finish_migration, slot, source, target)
        assert await waiting == [b"1", b"2"]   # retried until the slot moved, then MOVED followed
    finally:
        await asyncio.to_thread(servers.move_slot_back, slot, source, target)


async def test_cancelled_while_following_a_redirect(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    redis = await create_redis_cluster()
    moved = _keys_in("cancel", 300)
    slot = key_slot(moved[0])
    others = [f"stay:{i}".encode() for i in range(1000)]
    await asyncio.gather(*(redis.set(k, k) for k in moved + others))
    source = servers.owner_of(slot)
    target = _other_primary(servers, source)
    await asyncio.to_thread(servers.move_slot, slot, source, target)
    try:
        futures = [redis.get(k) for k in moved + others]
        loop = asyncio.get_running_loop()
        cancelled = set(range(0, len(moved), 3))
        for index in cancelled:   # cancelled at once, or one or two loop turns later
            loop.call_soon(futures[index].cancel) if index % 2 else futures[index].cancel()
        results = await asyncio.gather(*futures, return_exceptions=True)
        for index, (key, result) in enumerate(zip(moved + others, results)):
            if index in cancelled:
                assert isinstance(result, asyncio.CancelledError) or result == key
            else:
                assert result == key
        # The shared connections are still in step.
        assert await asyncio.gather(*(redis.get(k) for k in moved + others)) == moved + others
    finally:
        await asyncio.to_thread(servers.move_slot, slot, target, source)


async def test_connections_per_node_bounded(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    primaries = servers.primaries()
    before = {node.name: len(servers.clients(node)) for node in primaries}
    redis = await create_redis_cluster(pool_maxsize=4)
    keys = [f"bounded:{i}".encode() for i in range(10000)]
    assert all(await asyncio.gather(*(redis.set(k, b"v") for k in keys)))
    assert await redis.dbsize() == len(keys)
    for node in primaries:
        assert 1 <= len(servers.clients(node)) - before[node.name] <= 4


@pytest.fixture
def acl_user(redis_cluster_servers):
    servers = redis_cluster_servers
    for node in servers.running():
        servers.cli(node, "acl", "setuser", "clusteruser", "on", ">cluster-secret", "~*", "&*", "+@all")
    yield "clusteruser", "cluster-secret"
    for node in servers.running():
        servers.cli(node, "acl", "deluser", "clusteruser")


async def test_acl_user_on_every_discovered_node(create_redis_cluster, redis_cluster_servers, acl_user):
    servers = redis_cluster_servers
    username, password = acl_user
    redis = await create_redis_cluster(username=username, password=password, read_from_replicas=True)
    keys = [f"acl:{i}".encode() for i in range(300)]
    assert all(await asyncio.gather(*(redis.set(k, k) for k in keys)))
    await asyncio.gather(*(redis.get(k) for k in keys))
    for node in servers.running():   # primaries and replicas: every connection logged in as the user
        ours = [line for line in servers.clients(node) if "user=clusteruser" in line]
        assert ours and all("user=default" not in line for line in ours)
    assert password not in repr(redis) and password not in repr(redis.connection.get_cluster_state())
    with pytest.raises(aioredis_cy.AuthError) as failure:
        await create_redis_cluster(username=username, password="wrong-secret")
    assert "wrong-secret" not in str(failure.value)
