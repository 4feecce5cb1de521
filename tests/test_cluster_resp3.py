"""``protocol=3`` on the cluster: every node connection speaks RESP3 (HELLO carrying the ACL
user), replies keep their RESP2 shapes, pub/sub (classic and sharded) runs on push frames.
(The whole cluster suite runs over RESP3 with AIOREDIS_CY_TEST_PROTOCOL=3.)"""
import asyncio

import pytest

import aioredis_cy
from aioredis_cy._crc16 import key_slot


def _resp_versions(servers):
    """The ``resp=`` of every client connection of every running node, by node."""
    return {node.tcp_address: [line.split(" resp=")[1].split()[0] for line in servers.clients(node)]
            for node in servers.running()}


async def test_every_node_connection_speaks_resp3(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    before = _resp_versions(servers)
    redis = await create_redis_cluster(protocol=3, read_from_replicas=True)
    keys = [f"r3:{i}" for i in range(300)]
    assert all(await asyncio.gather(*(redis.set(key, key) for key in keys)))
    assert await asyncio.gather(*(redis.get(key, encoding="utf-8") for key in keys)) == keys   # replicas
    [channel] = await redis.subscribe("r3:news")
    [shard] = await redis.ssubscribe("r3:shard")
    after = _resp_versions(servers)
    for addr, versions in after.items():
        new = versions[len(before[addr]):] if versions[:len(before[addr])] == before[addr] else versions
        assert new and set(new) == {"3"}, (addr, versions)   # primaries, replicas, pub/sub, slot map
    assert channel.is_active and shard.is_active


async def test_replies_keep_their_resp2_shapes(create_redis_cluster):
    resp2 = await create_redis_cluster(protocol=2)
    resp3 = await create_redis_cluster(protocol=3)
    assert await resp3.hset("r3:h", "a", 1) == 1
    assert await resp3.zadd("r3:z", 1.5, "m") == 1
    assert await resp3.sadd("r3:s", "x") == 1
    calls = [
        lambda redis: redis.hgetall("r3:h"),
        lambda redis: redis.zrange("r3:z", 0, -1, withscores=True),
        lambda redis: redis.zscore("r3:z", "m"),
        lambda redis: redis.smembers("r3:s"),
        lambda redis: redis.execute(b"HGETALL", "r3:h"),
        lambda redis: redis.execute(b"ZRANGE", "r3:z", 0, -1, b"WITHSCORES"),
        lambda redis: redis.execute(b"CLUSTER", b"SLOTS"),
        lambda redis: redis.mget_nonatomic("r3:h", "r3:none"),
    ]
    for call in calls:
        want, got = await call(resp2), await call(resp3)
        assert got == want and type(got) is type(want)
    pipe = resp3.pipeline()
    pipe.hgetall("r3:h")
    pipe.zscore("r3:z", "m")
    assert await pipe.execute() == [{b"a": b"1"}, 1.5]


async def test_acl_user_in_hello_on_every_node(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    for node in servers.running():
        servers.cli(node, "acl", "setuser", "r3user", "on", ">r3secret", "~*", "&*", "+@all")
    try:
        redis = await create_redis_cluster(protocol=3, username="r3user", password="r3secret",
                                           read_from_replicas=True)
        assert await redis.set("r3:acl", "yes")
        assert await redis.get("r3:acl") == b"yes"
        for node in servers.running():
            lines = [line for line in servers.clients(node) if " resp=3" in line]
            assert "r3user" in {line.split(" user=")[1].split()[0] for line in lines}
        with pytest.raises(aioredis_cy.AuthError):
            await create_redis_cluster(protocol=3, username="r3user", password="wrong")
    finally:
        for node in servers.running():
            servers.cli(node, "acl", "deluser", "r3user")


async def test_protocol_in_the_startup_uri(create_redis_cluster, redis_cluster_servers):
    port = redis_cluster_servers.nodes[0].port
    redis = await create_redis_cluster([f"redis://127.0.0.1:{port}?protocol=3"], protocol=None)
    assert await redis.set("r3:uri", 1)
    pools = redis.connection._pools
    assert {pool._protocol_version for pool in map(pools.get, pools.addresses()) if pool} == {3}


async def test_pubsub_over_push_frames(create_redis_cluster, redis_cluster_servers):
    redis = await create_redis_cluster(protocol=3)
    publisher = await create_redis_cluster(protocol=3)
    names = [f"r3:shard:{i}" for i in range(30)]
    assert len({redis.connection.slot_master(key_slot(name.encode())).addr for name in names}) == 3
    shards = await redis.ssubscribe(*names)
    [channel] = await redis.subscribe("r3:classic")
    [pattern] = await redis.psubscribe("r3:p:*")
    assert await redis.get("r3:missing") is None   # ordinary commands still run
    assert all(await asyncio.gather(*(publisher.spublish(name, name) for name in names)))
    await publisher.publish("r3:classic", "hello")   # (its count: the subscribers of its node)
    await publisher.publish("r3:p:x", "world")
    assert [await shard.get(encoding="utf-8") for shard in shards] == names
    assert await channel.get() == b"hello"
    assert await pattern.get() == (b"r3:p:x", b"world")
    await redis.sunsubscribe(*names)
    assert not any(shard.is_active for shard in shards) and channel.is_active
