"""Cluster pub/sub: classic channels on one node, shard channels on their slot's owner, and both
following the cluster (a moved slot, a lost connection) with the caller's Channel unchanged."""
import asyncio

import pytest

from aioredis_cy._crc16 import key_slot
from aioredis_cy.errors import ChannelClosedError
from aioredis_cy.pubsub import Receiver


def _other_primary(servers, node):
    return next(other for other in servers.primaries() if other is not node)


def _node_of(servers, addr):
    return next(node for node in servers.nodes if node.tcp_address == addr)


async def _until(check):
    """Wait (bounded) until ``check()`` is true; it runs a blocking redis-cli call in a thread."""
    for _ in range(500):
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.01)
    pytest.fail("the subscription did not come back")


def _shard_subscribers(servers, node, channel):
    reply = servers.cli(node, "pubsub", "shardnumsub", channel).splitlines()
    return int(reply[1])


def _subscribers(servers, node, channel):
    return int(servers.cli(node, "pubsub", "numsub", channel).splitlines()[1])


async def test_classic_subscribe_many_channels_and_patterns(create_redis_cluster):
    redis = await create_redis_cluster()
    publisher = await create_redis_cluster()
    names = [f"news:{i}" for i in range(300)]
    channels = await redis.subscribe(*names)
    assert [channel.name for channel in channels] == [name.encode() for name in names]
    [pattern] = await redis.psubscribe("alerts:*")
    assert redis.in_pubsub == 301
    assert set(redis.channels) == {name.encode() for name in names}
    assert list(redis.patterns) == [b"alerts:*"]
    # PUBLISH on any node reaches the subscribers of every node (its count: those of its node).
    await asyncio.gather(*(publisher.publish(name, name) for name in names))
    await publisher.publish("alerts:fire", "hot")
    assert [await channel.get(encoding="utf-8") for channel in channels] == names
    assert await pattern.get() == (b"alerts:fire", b"hot")
    await redis.unsubscribe(*names[:100])
    assert not channels[0].is_active and channels[100].is_active
    assert redis.in_pubsub == 201
    await redis.punsubscribe("alerts:*")
    assert redis.in_pubsub == 200 and not pattern.is_active


async def test_receiver_with_cluster_channels(create_redis_cluster):
    redis = await create_redis_cluster()
    receiver = Receiver()
    await redis.subscribe(receiver.channel("r:1"), receiver.channel("r:2"))
    await redis.ssubscribe(receiver.channel("{shard}r"))
    await redis.publish("r:2", "two")
    await redis.spublish("{shard}r", "sharded")
    messages = [await receiver.get(), await receiver.get()]
    assert sorted((channel.name, message) for channel, message in messages) == [
        (b"r:2", b"two"), (b"{shard}r", b"sharded")]


async def test_sharded_channels_on_their_slot_owners(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    redis = await create_redis_cluster()
    names = [f"shard:{i}" for i in range(60)]
    state = redis.connection.get_cluster_state()
    owners = {state.slot_master(key_slot(name.encode())).addr for name in names}
    assert len(owners) == 3
    channels = await redis.ssubscribe(*names)
    assert redis.in_pubsub == 60
    assert set(redis.connection.sharded_pubsub_channels) == {name.encode() for name in names}
    assert await asyncio.gather(*(redis.spublish(name, name) for name in names)) == [1] * len(names)
    assert [await channel.get(encoding="utf-8") for channel in channels] == names
    # One pub/sub connection per node serves all its shard channels.
    for addr in owners:
        clients = servers.cli(_node_of(servers, addr), "client", "list")
        assert sum(" flags=P " in line or "ssub=" in line and "ssub=0" not in line
                   for line in clients.splitlines()) == 1
    await redis.sunsubscribe(*names)
    assert not any(channel.is_active for channel in channels)
    assert redis.in_pubsub == 0


async def test_shard_channel_follows_a_migrated_slot(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    redis = await create_redis_cluster()
    name = "{migrating}news"
    slot = key_slot(name.encode())
    source = servers.owner_of(slot)
    target = _other_primary(servers, source)
    [channel] = await redis.ssubscribe(name)
    assert await redis.spublish(name, "before") == 1
    assert await channel.get() == b"before"
    await asyncio.to_thread(servers.move_slot, slot, source, target)
    try:
        # The source dropped the subscription (sunsubscribe); it is made again on the target.
        await _until(lambda: _shard_subscribers(servers, target, name) == 1)
        assert await redis.spublish(name, "after") == 1
        assert await channel.get() == b"after"
        assert channel.is_active
        assert redis.in_pubsub == 1
    finally:
        await asyncio.to_thread(servers.move_slot, slot, target, source)
    await _until(lambda: _shard_subscribers(servers, source, name) == 1)
    assert await redis.spublish(name, "back") == 1
    assert await channel.get() == b"back"


async def test_subscriptions_come_back_after_the_connection_is_lost(
        create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    redis = await create_redis_cluster()
    [classic] = await redis.subscribe("lost:classic")
    [shard] = await redis.ssubscribe("lost:shard")
    classic_node = _node_of(servers, redis.connection._subscriptions.classic_addr())
    shard_node = servers.owner_of(key_slot(b"lost:shard"))
    for node in {classic_node, shard_node}:
        servers.cli(node, "client", "kill", "type", "pubsub")
    await _until(lambda: _subscribers(servers, classic_node, "lost:classic") == 1)
    await _until(lambda: _shard_subscribers(servers, shard_node, "lost:shard") == 1)
    await redis.publish("lost:classic", "1")
    assert await redis.spublish("lost:shard", "2") == 1
    assert (await classic.get(), await shard.get()) == (b"1", b"2")


async def test_closing_the_cluster_closes_the_channels(create_redis_cluster):
    redis = await create_redis_cluster()
    [channel] = await redis.ssubscribe("closing")
    redis.close()
    await redis.wait_closed()
    assert not channel.is_active
    with pytest.raises(ChannelClosedError):
        await channel.get()


async def test_a_subscription_that_cannot_come_back_closes_with_a_clear_error(
        create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    running = [node for node in servers.nodes if node.process is not None]
    for node in running:
        servers.cli(node, "acl", "setuser", "subscriber", "on", ">pw", "+@all", "~*", "resetchannels",
                    "&allowed:*")
    try:
        redis = await create_redis_cluster(username="subscriber", password="pw", max_attempts=2,
                                           retry_min_delay=0.01, retry_max_delay=0.02)
        [channel] = await redis.subscribe("allowed:1")
        node = _node_of(servers, redis.connection._subscriptions.classic_addr())
        # Taking the channel away disconnects the subscriber; subscribing again is refused (NOPERM).
        servers.cli(node, "acl", "setuser", "subscriber", "resetchannels", "&other:*")
        assert await channel.wait_message() is False
        with pytest.raises(ChannelClosedError, match="could not be made again"):
            await channel.get()
        assert redis.in_pubsub == 0
    finally:
        for node in running:
            servers.cli(node, "acl", "deluser", "subscriber")


def _replica_of(servers, primary):
    primary_id = servers.node_id(primary)
    for node in servers.nodes:
        if node.process is not None and node is not primary:
            fields = servers._myself(node).split()
            if "slave" in fields[2] and fields[3] == primary_id:
                return node
    raise LookupError(primary)


async def _failover(servers, replica):
    """TAKEOVER: failing back at once would wait for votes the other primaries refuse for a while."""
    await asyncio.to_thread(servers.fail_over, replica, takeover=True)


async def test_shard_channel_across_a_failover(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    redis = await create_redis_cluster()
    name = "{failover}news"
    primary = servers.owner_of(key_slot(name.encode()))
    replica = _replica_of(servers, primary)
    [channel] = await redis.ssubscribe(name)
    await _failover(servers, replica)
    try:
        publisher = await create_redis_cluster()
        await _until(lambda: _shard_subscribers(servers, replica, name) == 1
                     or _shard_subscribers(servers, primary, name) == 1)
        await publisher.spublish(name, "after failover")
        assert await channel.get() == b"after failover"
        await redis.sunsubscribe(name)
        assert not channel.is_active
        assert redis.in_pubsub == 0
    finally:
        await _failover(servers, primary)
