"""The cluster client over TLS as an ACL user, on every node it discovers.

A cluster of its own (3 primaries, 3 replicas) listens for TLS only: with TLS between the
nodes when the server binary has it, else behind one TLS proxy per node whose port the
node announces (see tls_proxy.py). Its default user is off, so a connection that is not
logged in as ``app`` can do nothing: every node that answers proves the client used the
ACL user there. ``app`` has only the permissions the client needs; the harness logs in
as ``admin``, which the replicas also use to reach their primaries.
"""
import asyncio
import logging

import pytest

import aioredis_cy
from aioredis_cy import AuthError
from aioredis_cy.cluster.keys import slot_of

from .helpers import PROTOCOL_DEFAULTS, open_replica_pools

PASSWORD = "Tls4Cluster-Secret9"
ACL = (
    "user default off",
    "user admin on >admin-pw ~* &* +@all",
    "masteruser admin",
    "masterauth admin-pw",
    f"user app on >{PASSWORD} ~* &* -@all +@read +@write +@pubsub +ping +hello +readonly -@dangerous "
    "+cluster|slots +cluster|shards +cluster|info +acl|whoami",
)


@pytest.fixture(scope="module")
def tls_cluster(start_cluster, tls_certs):
    return start_cluster("tls-cluster", *ACL, tls=tls_certs.server)


@pytest.fixture
def connect(_closing, tls_cluster, tls_certs):
    """``await connect(startup_nodes=None, **kw)``: a RedisCluster over TLS as ``app``; data flushed first."""
    for node in tls_cluster.primaries():
        tls_cluster.cli(node, "flushall")

    async def factory(startup_nodes=None, **kwargs):
        kwargs.setdefault("ssl", tls_certs.context())
        kwargs.setdefault("username", "app")
        kwargs.setdefault("password", PASSWORD)
        kwargs = {**PROTOCOL_DEFAULTS, **kwargs}
        client = await aioredis_cy.create_redis_cluster(
            startup_nodes or [tls_cluster.nodes[0].tcp_address], **kwargs)
        _closing.append(client)
        return client

    return factory


def assert_secret_kept(*objects, caplog=None, error=None):
    for obj in objects:
        assert PASSWORD not in repr(obj)
    if caplog is not None:
        assert PASSWORD not in caplog.text
    while error is not None:
        assert PASSWORD not in str(error) and PASSWORD not in repr(error)
        error = error.__cause__ or error.__context__


def app_clients(cluster, node):
    return [line for line in cluster.clients(node) if " user=app " in line]


async def test_nodes_announce_their_tls_ports(tls_cluster, tls_certs, _closing):
    """CLUSTER SLOTS and CLUSTER SHARDS of every node name the TLS ports, and nothing else."""
    ports = {node.port for node in tls_cluster.nodes}
    for node in tls_cluster.nodes:
        redis = await aioredis_cy.create_redis(node.tcp_address, ssl=tls_certs.context(),
                                               username="app", password=PASSWORD)
        _closing.append(redis)
        slots = await redis.execute("CLUSTER", "SLOTS")
        assert {(bytes(entry[0]), entry[1]) for row in slots for entry in row[2:]} == \
            {(b"127.0.0.1", port) for port in ports}
        shards = await redis.execute("CLUSTER", "SHARDS")
        announced = set()
        for shard in shards:
            for entry in dict(zip(shard[::2], shard[1::2]))[b"nodes"]:
                fields = dict(zip(entry[::2], entry[1::2]))
                announced |= {fields[key] for key in (b"port", b"tls-port") if fields.get(key)}
        assert announced == ports


async def test_every_primary_as_acl_user(connect, tls_cluster, caplog):
    caplog.set_level(logging.DEBUG)
    redis = await connect()
    state = redis.connection.get_cluster_state()
    assert {node.addr for node in state.nodes} == set(tls_cluster.addresses)
    keys = [f"tls:{i}" for i in range(600)]
    assert all(await asyncio.gather(*(redis.set(key, key) for key in keys)))
    assert await asyncio.gather(*(redis.get(key, encoding="utf-8") for key in keys)) == keys
    for primary in tls_cluster.primaries():
        owners = [redis.connection.slot_master(slot_of(key)).addr for key in keys]
        owned = owners.count(primary.tcp_address)
        assert 100 < owned == int(tls_cluster.cli(primary, "dbsize"))
        assert app_clients(tls_cluster, primary)
    masters = await redis.all_masters()
    assert [await master.execute("ACL", "WHOAMI") for master in masters] == [b"app"] * 3
    for master in masters:
        master.close()
        await master.wait_closed()
    assert_secret_kept(redis, redis.connection, *redis.connection._pools._pools.values(), caplog=caplog)


async def test_reads_from_replicas(connect, tls_cluster):
    redis = await connect(read_from_replicas=True)
    keys = [f"replica:{i}" for i in range(300)]
    await asyncio.gather(*(redis.set(key, key) for key in keys))
    primaries = tls_cluster.primaries()
    for primary in primaries:
        assert int(tls_cluster.cli(primary, "wait", 1, 5000)) == 1
    await open_replica_pools(redis)
    before = {node.port: tls_cluster.commandstats(node).get("get", 0) for node in tls_cluster.nodes}
    assert await asyncio.gather(*(redis.get(key, encoding="utf-8") for key in keys)) == keys
    for node in tls_cluster.nodes:
        served = tls_cluster.commandstats(node).get("get", 0) - before[node.port]
        if node in primaries:
            assert served == 0
        else:
            assert served > 0 and app_clients(tls_cluster, node)


async def test_follows_moved(connect, tls_cluster):
    redis = await connect()
    key = "moved:key"
    slot = slot_of(key)
    source = tls_cluster.owner_of(slot)
    target = next(node for node in tls_cluster.primaries() if node is not source)
    tls_cluster.move_slot(slot, source, target)   # the slot is empty: nothing to MIGRATE
    assert redis.connection.slot_master(slot).addr == source.tcp_address   # the client's view is stale
    assert await redis.set(key, "moved")
    assert tls_cluster.cli(target, "get", key) == "moved"
    assert redis.connection.slot_master(slot).addr == target.tcp_address
    assert await redis.incr("moved:other") == 1


async def test_pubsub(connect):
    redis = await connect()
    channel, = await redis.subscribe("tls:news")
    shard, = await redis.ssubscribe("{tls}shard")
    publisher = await connect()
    await publisher.publish("tls:news", "hello")
    assert await publisher.spublish("{tls}shard", "sharded") == 1
    assert await asyncio.wait_for(channel.get(), 5) == b"hello"
    assert await asyncio.wait_for(shard.get(), 5) == b"sharded"


async def test_rediss_uri_with_acl_user(connect, tls_cluster, tls_certs):
    port = tls_cluster.nodes[1].port
    uri = f"rediss://app:{PASSWORD}@127.0.0.1:{port}?ssl_ca_certs={tls_certs.ca_file}"
    redis = await connect([uri], ssl=None, username=None, password=None)
    assert await asyncio.gather(*(redis.incr(f"uri:{i}") for i in range(100))) == [1] * 100
    masters = await redis.all_masters()
    assert [await master.execute("ACL", "WHOAMI") for master in masters] == [b"app"] * 3
    for master in masters:
        master.close()
        await master.wait_closed()
    assert_secret_kept(redis, redis.connection)


@pytest.mark.parametrize("credentials", [
    {},                                              # the default user is off
    {"password": PASSWORD},                          # the app's password, as the default user
    {"username": "app", "password": PASSWORD[::-1]},   # wrong password
])
async def test_refused_without_the_acl_user(connect, credentials, caplog):
    caplog.set_level(logging.DEBUG)
    options = {"username": None, "password": None, **credentials}
    with pytest.raises(AuthError) as info:
        await connect(**options)
    assert_secret_kept(caplog=caplog, error=info.value)
    assert PASSWORD[::-1] not in str(info.value) + caplog.text
