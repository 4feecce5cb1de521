"""Sentinel: discovery, the SENTINEL commands, and real failovers.

Real masters, replicas and sentinels. The read-only tests share one topology whose
sentinels never fail over on their own (long down-after); every failover test starts a
topology of its own (unique names: each test runs once per event loop). All waits are
bounded with ``asyncio.wait_for``.
"""
import asyncio
import functools
import itertools
import ssl
from typing import List, NamedTuple

import pytest

import aioredis_cy
from aioredis_cy import (
    AuthError,
    ConnectionClosedError,
    ConnectionsPool,
    MasterNotFoundError,
    MasterReplyError,
    PoolClosedError,
    ReadOnlyError,
    Redis,
    RedisError,
    ReplyError,
    SlaveNotFoundError,
    SlaveReplyError,
)
from aioredis_cy._server import LocalServer, free_port
from aioredis_cy.errors import NoPermissionError
from aioredis_cy.sentinel import RedisSentinel, SentinelPool, create_sentinel_pool

from .helpers import PROTOCOL_DEFAULTS

SERVICE = "mymaster"
# Errors a write may end with while the master changes; anything else (or a hang) fails.
FAILOVER_ERRORS = (ConnectionClosedError, ReadOnlyError, MasterNotFoundError)

_unique = itertools.count()


class Topology(NamedTuple):
    master: LocalServer
    replicas: List[LocalServer]
    sentinels: List[LocalServer]

    @property
    def addresses(self):
        return [sentinel.tcp_address for sentinel in self.sentinels]


def monitor_lines(master, quorum, down_after=1000, *extra):
    return [
        f"sentinel monitor {SERVICE} 127.0.0.1 {master.port} {quorum}",
        f"sentinel down-after-milliseconds {SERVICE} {down_after}",
        f"sentinel failover-timeout {SERVICE} 3000",
        *extra,
    ]


async def wait_until(check, timeout, interval=0.05):
    """Poll the coroutine function ``check`` until it returns true, for at most ``timeout`` seconds."""
    async def poll():
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(interval)

    return await asyncio.wait_for(poll(), timeout)


async def wait_replicas_synced(replicas, **auth):
    for replica in replicas:
        client = await aioredis_cy.create_redis(replica.tcp_address, **auth)
        try:
            async def synced(client=client):
                return b"master_link_status:up" in await client.execute(b"INFO", b"replication")
            await wait_until(synced, 15)
        finally:
            client.close()
            await client.wait_closed()


async def wait_sentinels_ready(topology, timeout=20, peers=True, **sentinel_kwargs):
    """Until every sentinel sees master and replicas healthy and (if ``peers``) knows the others."""
    clients = [await aioredis_cy.sentinel.create_sentinel([address], timeout=2, **sentinel_kwargs)
               for address in topology.addresses]

    async def ready():
        for client in clients:
            if {"s_down", "o_down", "disconnected"} & (await client.master(SERVICE))["flags"]:
                return False
            replicas = await client.slaves(SERVICE)
            healthy = [state for state in replicas
                       if not {"s_down", "o_down", "disconnected"} & state["flags"]
                       and state.get("master-link-status") == "ok"]
            if len(healthy) < len(topology.replicas):
                return False
            if peers and len(await client.sentinels(SERVICE)) < len(topology.sentinels) - 1:
                return False
        return True

    try:
        await wait_until(ready, timeout, interval=0.1)
    finally:
        for client in clients:
            client.close()
        for client in clients:
            await client.wait_closed()


async def start_topology(start, name, *, replicas=1, sentinels=1, quorum=1, down_after=1000,
                         server_lines=(), sentinel_lines=(), replica_auth=None):
    """Start a master, its replicas (synced) and sentinels monitoring it."""
    server_lines = ("repl-diskless-sync-delay 0", *server_lines)
    master = start(f"{name}-master", *server_lines)
    started_replicas = [start(f"{name}-replica{i}", *server_lines, f"replicaof 127.0.0.1 {master.port}")
                        for i in range(replicas)]
    await wait_replicas_synced(started_replicas, **(replica_auth or {}))
    started_sentinels = [start(f"{name}-sentinel{i}", *monitor_lines(master, quorum, down_after),
                               *sentinel_lines, sentinel=True)
                         for i in range(sentinels)]
    return Topology(master, started_replicas, started_sentinels)


@pytest.fixture
def create_sentinel(_closing):
    """``await create_sentinel(addresses, **kw)``; closed at teardown."""
    async def factory(sentinels, **kwargs):
        kwargs.setdefault("timeout", 2)
        for name, value in PROTOCOL_DEFAULTS.items():
            kwargs.setdefault(name, value)
        client = await aioredis_cy.sentinel.create_sentinel(sentinels, **kwargs)
        _closing.append(client)
        return client

    return factory


@pytest.fixture
async def topology(start_server):
    """Master, one replica, two sentinels (quorum 1) that never fail over by themselves."""
    topology = await start_topology(start_server, "sentinel-shared", sentinels=2, down_after=60000)
    await wait_sentinels_ready(topology)
    return topology


@pytest.fixture
async def sentinel(topology, create_sentinel):
    return await create_sentinel(topology.addresses)


@pytest.fixture
async def one_sentinel(topology, create_sentinel):
    """A client of the first sentinel only, for commands that change its configuration."""
    return await create_sentinel(topology.addresses[:1])


# -- the client and the SENTINEL commands ----------------------------------------------


async def test_ping_close(sentinel):
    assert isinstance(sentinel, RedisSentinel)
    assert await sentinel.ping() == b"PONG"
    assert not sentinel.closed
    sentinel.close()
    assert sentinel.closed
    with pytest.raises(PoolClosedError):
        await sentinel.ping()
    await sentinel.wait_closed()
    with pytest.raises(PoolClosedError):
        sentinel.master_for(SERVICE)


async def test_master_state(sentinel, topology):
    state = await sentinel.master(SERVICE)
    assert state["name"] == SERVICE
    assert state["ip"] == "127.0.0.1"
    assert state["port"] == topology.master.port
    assert state["quorum"] == 1
    assert isinstance(state["flags"], frozenset)
    assert "master" in state["flags"]
    assert not {"s_down", "o_down", "disconnected"} & state["flags"]
    assert state["num-slaves"] == 1
    assert state["num-other-sentinels"] == 1
    assert isinstance(state["down-after-milliseconds"], int)
    assert isinstance(state["runid"], str)

    masters = await sentinel.masters()
    assert list(masters) == [SERVICE]
    assert masters[SERVICE]["port"] == topology.master.port
    assert await sentinel.master_address(SERVICE) == topology.master.tcp_address


async def test_replicas_and_sentinels(sentinel, topology):
    (replica,) = await sentinel.slaves(SERVICE)
    assert "slave" in replica["flags"]
    assert replica["port"] == topology.replicas[0].port
    assert replica["master-port"] == topology.master.port
    assert isinstance(replica["slave-repl-offset"], int)

    (other,) = await sentinel.sentinels(SERVICE)
    assert "sentinel" in other["flags"]
    assert other["port"] in {s.port for s in topology.sentinels}


async def test_unknown_master_commands(sentinel):
    assert await sentinel.master_address("no-such-master") is None
    for command in (sentinel.master, sentinel.slaves, sentinel.sentinels, sentinel.remove, sentinel.failover,
                    sentinel.check_quorum):
        with pytest.raises(ReplyError, match="No such master"):
            await command("no-such-master")


async def test_check_quorum_and_set(one_sentinel):
    sentinel = one_sentinel
    assert (await sentinel.check_quorum(SERVICE)).startswith(b"OK")
    try:
        assert await sentinel.set(SERVICE, "quorum", 5) is True
        assert (await sentinel.master(SERVICE))["quorum"] == 5
        with pytest.raises(ReplyError, match="NOQUORUM"):
            await sentinel.check_quorum(SERVICE)
    finally:
        assert await sentinel.set(SERVICE, "quorum", 1) is True
    assert (await sentinel.master(SERVICE))["quorum"] == 1
    with pytest.raises(ReplyError):
        await sentinel.set(SERVICE, "no-such-option", "x")


async def test_monitor_remove(one_sentinel, start_server):
    sentinel = one_sentinel
    target = start_server("sentinel-monitor-target")
    name = f"extra-{next(_unique)}"
    assert await sentinel.monitor(name, "127.0.0.1", target.port, 1) is True
    try:
        masters = await sentinel.masters()
        assert masters[name]["port"] == target.port
    finally:
        assert await sentinel.remove(name) is True
    with pytest.raises(ReplyError):
        await sentinel.remove(name)


async def test_execute_raw(sentinel, topology):
    reply = await sentinel.execute(b"get-master-addr-by-name", SERVICE)
    assert reply == [b"127.0.0.1", str(topology.master.port).encode()]


# -- clients of a service's master and replicas ------------------------------------------


async def test_master_for(sentinel, topology):
    redis = sentinel.master_for(SERVICE)
    assert isinstance(redis, Redis)
    pool = redis.connection
    assert isinstance(pool, ConnectionsPool)
    assert pool.size == 0 and redis.address is None
    assert await redis.set("sentinel:key", "value") is True
    assert await redis.get("sentinel:key") == b"value"
    assert redis.address == topology.master.tcp_address
    assert pool.size == pool.minsize == 1
    assert sentinel.master_for(SERVICE).connection is pool


async def test_master_for_settings(create_sentinel, topology):
    sentinel = await create_sentinel(topology.addresses, db=3, encoding="utf-8", minsize=3, maxsize=4)
    redis = sentinel.master_for(SERVICE)
    await redis.set("sentinel:db3", "x")
    assert await redis.get("sentinel:db3") == "x"
    assert redis.db == 3
    assert redis.connection.size == 3
    plain = await aioredis_cy.create_redis(topology.master.tcp_address, db=3)
    try:
        assert await plain.get("sentinel:db3") == b"x"
    finally:
        plain.close()
        await plain.wait_closed()


async def test_master_and_slave_for_over_resp3(create_sentinel, topology):
    sentinel = await create_sentinel(topology.addresses, protocol=3)
    master = sentinel.master_for(SERVICE)
    await master.delete("sentinel:resp3")
    await master.hset("sentinel:resp3", "f", "v")
    assert await master.hgetall("sentinel:resp3") == {b"f": b"v"}
    assert await master.execute(b"WAIT", 1, 5000) == 1
    replica = sentinel.slave_for(SERVICE)
    assert await replica.hgetall("sentinel:resp3") == {b"f": b"v"}
    for client in (master, replica):
        async with client.connection.get() as conn:
            assert conn.protocol_version == 3
            assert b" resp=3" in await conn.execute("CLIENT", "INFO")
    with pytest.raises(ValueError, match="protocol must be 2 or 3"):
        await create_sentinel(topology.addresses, protocol=1)


async def test_master_for_concurrent_first_use(create_sentinel, topology):
    sentinel = await create_sentinel(topology.addresses, minsize=1, maxsize=2)
    redis = sentinel.master_for(SERVICE)
    results = await asyncio.gather(*[redis.incr("sentinel:concurrent") for _ in range(50)])
    assert len(set(results)) == 50
    assert redis.connection.size <= 2


async def test_slave_for(sentinel, topology):
    master = sentinel.master_for(SERVICE)
    await master.set("sentinel:replicated", "yes")
    assert await master.execute(b"WAIT", 1, 5000) == 1
    replica = sentinel.slave_for(SERVICE)
    assert await replica.get("sentinel:replicated") == b"yes"
    assert replica.address == topology.replicas[0].tcp_address
    with pytest.raises(ReadOnlyError):
        await replica.set("sentinel:replicated", "no")
    # A READONLY reply on a replica client changes nothing.
    assert replica.address == topology.replicas[0].tcp_address
    assert sentinel.slave_for(SERVICE).connection is replica.connection


async def test_unknown_service(sentinel):
    with pytest.raises(MasterNotFoundError):
        await sentinel.master_for("no-such-master").get("x")
    with pytest.raises(SlaveNotFoundError):
        await sentinel.slave_for("no-such-master").get("x")


async def test_closing_a_service_client(sentinel):
    redis = sentinel.master_for(SERVICE)
    assert await redis.ping() == b"PONG"
    redis.close()
    await redis.wait_closed()
    fresh = sentinel.master_for(SERVICE)
    assert fresh.connection is not redis.connection
    assert await fresh.ping() == b"PONG"


async def test_sentinel_pool_api(topology, _closing):
    pool = await create_sentinel_pool(topology.addresses, timeout=2)
    _closing.append(pool)
    assert isinstance(pool, SentinelPool)
    assert pool.discover_timeout == 2
    conn = await pool.discover_master(SERVICE, timeout=2)
    try:
        assert conn.address == topology.master.tcp_address
        assert (await conn.execute(b"ROLE"))[0] == b"master"
    finally:
        conn.close()
    conn = await pool.discover_slave(SERVICE, timeout=2)
    try:
        assert conn.address == topology.replicas[0].tcp_address
    finally:
        conn.close()
    with pytest.raises(MasterNotFoundError):
        await pool.discover_master("no-such-master", timeout=2)
    assert await pool.execute(b"PING") == b"PONG"
    await pool.discover()   # again: replaces the sentinel connections
    assert await pool.execute(b"PING") == b"PONG"


async def test_sentinel_uris(create_sentinel, topology):
    sentinel = await create_sentinel([f"redis://127.0.0.1:{s.port}" for s in topology.sentinels])
    assert await sentinel.master_address(SERVICE) == topology.master.tcp_address


async def test_a_sentinel_is_down(create_sentinel, topology):
    dead = ("127.0.0.1", free_port())
    sentinel = await create_sentinel([dead, *topology.addresses])
    assert await sentinel.ping() == b"PONG"
    redis = sentinel.master_for(SERVICE)
    assert await redis.set("sentinel:one-down", 1) is True


async def test_a_sentinel_dies(start_server, create_sentinel):
    topology = await start_topology(start_server, f"sentinel-dies-{next(_unique)}", replicas=0, sentinels=2,
                                    down_after=60000)
    await wait_sentinels_ready(topology, peers=False)
    sentinel = await create_sentinel(topology.addresses)
    topology.sentinels[0].kill()
    # Its connection is lost or refused: the other sentinel answers.
    assert await sentinel.master_address(SERVICE) == topology.master.tcp_address
    assert await sentinel.master_for(SERVICE).set("k", "v") is True
    assert await sentinel.ping() == b"PONG"


async def test_every_sentinel_is_down(create_sentinel):
    dead = [("127.0.0.1", free_port()), ("127.0.0.1", free_port())]
    with pytest.raises(RedisError, match="Could not connect to any sentinel") as info:
        await asyncio.wait_for(create_sentinel(dead), 10)
    assert isinstance(info.value.__cause__, OSError)


async def test_create_sentinel_arguments(create_sentinel):
    with pytest.raises(TypeError):
        await create_sentinel(("127.0.0.1", 26379))   # one address, not a list of them
    with pytest.raises(ValueError):
        await create_sentinel([])
    with pytest.raises(ValueError):
        await create_sentinel([("127.0.0.1", 26379)], minsize=3, maxsize=2)
    with pytest.raises(ValueError):
        await create_sentinel([("127.0.0.1", 26379)], timeout=0)


# -- failovers ------------------------------------------------------------------------------------


async def write_until_stopped(redis, stop: asyncio.Event, outcomes: list):
    """Write w:0, w:1, ... recording True or the exception type of each; a hang counts as TimeoutError."""
    for i in itertools.count():
        if stop.is_set():
            return
        try:
            outcomes.append(await asyncio.wait_for(redis.set(f"w:{i}", i), 5))
        except (asyncio.TimeoutError, *FAILOVER_ERRORS) as exc:
            outcomes.append(type(exc))
        await asyncio.sleep(0.01)


async def write_after_failover(redis, old_address, timeout):
    """Retry a write until it lands on a master other than ``old_address``; only failover errors allowed."""
    async def written():
        try:
            await asyncio.wait_for(redis.set("after-failover", 1), 5)
        except FAILOVER_ERRORS:
            return False
        return redis.address not in (None, old_address)

    await wait_until(written, timeout, interval=0.1)


async def test_failover_command(start_server, create_sentinel):
    topology = await start_topology(start_server, f"sentinel-failover-{next(_unique)}")
    await wait_sentinels_ready(topology)
    sentinel = await create_sentinel(topology.addresses)
    redis = sentinel.master_for(SERVICE)
    for i in range(50):
        await redis.set(f"before:{i}", i)
    assert await redis.execute(b"WAIT", 1, 5000) == 1

    stop, outcomes = asyncio.Event(), []
    writer = asyncio.ensure_future(write_until_stopped(redis, stop, outcomes))
    await asyncio.sleep(0.1)
    assert await sentinel.failover(SERVICE) is True

    new_address = topology.replicas[0].tcp_address

    async def switched():
        return await sentinel.master_address(SERVICE) == new_address

    await wait_until(switched, 20)
    await write_after_failover(redis, topology.master.tcp_address, 20)
    stop.set()
    await asyncio.wait_for(writer, 10)

    assert redis.address == new_address
    assert (await redis.execute(b"ROLE"))[0] == b"master"
    assert await redis.mget(*[f"before:{i}" for i in range(50)]) == [str(i).encode() for i in range(50)]
    assert asyncio.TimeoutError not in outcomes
    assert outcomes.count(True) > 0


async def test_killed_master(start_server, create_sentinel):
    topology = await start_topology(start_server, f"sentinel-kill-{next(_unique)}", replicas=2, sentinels=3,
                                    quorum=2)
    await wait_sentinels_ready(topology)
    sentinel = await create_sentinel(topology.addresses)
    redis = sentinel.master_for(SERVICE)
    replica = sentinel.slave_for(SERVICE)
    for i in range(50):
        await redis.set(f"before:{i}", i)
    assert await redis.execute(b"WAIT", 2, 5000) == 2
    assert await replica.ping() == b"PONG"

    stop, outcomes = asyncio.Event(), []
    writer = asyncio.ensure_future(write_until_stopped(redis, stop, outcomes))
    await asyncio.sleep(0.1)
    topology.master.kill()

    await write_after_failover(redis, topology.master.tcp_address, 40)
    stop.set()
    await asyncio.wait_for(writer, 10)

    assert redis.address in {r.tcp_address for r in topology.replicas}
    assert await redis.mget(*[f"before:{i}" for i in range(50)]) == [str(i).encode() for i in range(50)]
    assert asyncio.TimeoutError not in outcomes
    assert await sentinel.master_address(SERVICE) == redis.address

    # The remaining replica follows the new master.
    async def replica_follows():
        try:
            return await replica.get("after-failover") == b"1"
        except RedisError:   # e.g. LOADING while it syncs with the new master
            return False

    await wait_until(replica_follows, 20, interval=0.2)
    assert replica.address != redis.address


# -- passwords and ACL users ---------------------------------------------------------------------

ACL_LINES = (
    "requirepass masterpw",
    "masterauth masterpw",
    "user app on >apppw ~app:* +@all -@dangerous",
)


@pytest.fixture
async def auth_topology(start_server):
    """Master and replica with a password and an ACL user; one sentinel with a password of its own."""
    topology = await start_topology(start_server, "sentinel-auth", server_lines=ACL_LINES,
                                    sentinel_lines=[f"sentinel auth-pass {SERVICE} masterpw",
                                                    "requirepass sentpw"],
                                    replica_auth={"password": "masterpw"})
    await wait_sentinels_ready(topology, sentinel_password="sentpw")
    return topology


async def test_master_password(auth_topology, create_sentinel):
    good = await create_sentinel(auth_topology.addresses, password="masterpw", sentinel_password="sentpw")
    assert await good.master_for(SERVICE).set("k", "v") is True
    assert await good.slave_for(SERVICE).ping() == b"PONG"

    wrong = await create_sentinel(auth_topology.addresses, password="nope", sentinel_password="sentpw")
    with pytest.raises(MasterReplyError) as info:
        await wrong.master_for(SERVICE).set("k", "v")
    message, error = info.value.args
    assert message == f"Service {SERVICE} error"
    assert isinstance(error, AuthError)

    missing = await create_sentinel(auth_topology.addresses, sentinel_password="sentpw")
    with pytest.raises(MasterReplyError):
        await missing.master_for(SERVICE).set("k", "v")
    with pytest.raises(SlaveReplyError):
        await missing.slave_for(SERVICE).get("k")


async def test_sentinel_password(auth_topology, create_sentinel):
    for password in (None, "nope"):
        with pytest.raises(RedisError, match="Could not connect to any sentinel") as info:
            await create_sentinel(auth_topology.addresses, sentinel_password=password)
        assert isinstance(info.value.__cause__, AuthError)
    uri = f"redis://:sentpw@127.0.0.1:{auth_topology.sentinels[0].port}"
    sentinel = await create_sentinel([uri], password="masterpw")
    assert await sentinel.ping() == b"PONG"


async def test_acl_user_through_sentinel(auth_topology, create_sentinel):
    sentinel = await create_sentinel(auth_topology.addresses, username="app", password="apppw",
                                     sentinel_password="sentpw")
    redis = sentinel.master_for(SERVICE)
    assert await redis.set("app:key", "v") is True   # ROLE is not allowed: the sentinels are trusted
    assert await redis.get("app:key") == b"v"
    with pytest.raises(NoPermissionError):
        await redis.set("other:key", "v")
    with pytest.raises(NoPermissionError):
        await redis.execute(b"FLUSHALL")
    assert await redis.get("app:key") == b"v"


async def test_readonly_reply_finds_the_master(auth_topology, create_sentinel):
    # An ACL user cannot run ROLE, so a pool pointed at the replica only learns from READONLY.
    sentinel = await create_sentinel(auth_topology.addresses, username="app", password="apppw",
                                     sentinel_password="sentpw")
    redis = sentinel.master_for(SERVICE)
    redis.connection._address = auth_topology.replicas[0].tcp_address   # as if the roles had just changed
    with pytest.raises(ReadOnlyError):
        await redis.set("app:ro", 1)
    assert await redis.set("app:ro", 1) is True
    assert redis.address == auth_topology.master.tcp_address


async def test_role_check_finds_the_master(auth_topology, create_sentinel):
    sentinel = await create_sentinel(auth_topology.addresses, password="masterpw", sentinel_password="sentpw")
    redis = sentinel.master_for(SERVICE)
    redis.connection._address = auth_topology.replicas[0].tcp_address   # a stale address
    assert await redis.set("role-checked", 1) is True
    assert redis.address == auth_topology.master.tcp_address


# -- TLS --------------------------------------------------------------------------------------------


async def test_tls_sentinel(start_server, tls_certs, create_sentinel):
    start_tls_server = functools.partial(start_server, tls=tls_certs.server)
    topology = await start_topology(start_tls_server, "sentinel-tls", replicas=0, down_after=60000)
    certs = tls_certs
    context = certs.context()
    await wait_sentinels_ready(topology, sentinel_ssl=context)
    sentinel = await create_sentinel(topology.addresses, ssl=context, sentinel_ssl=context)
    redis = sentinel.master_for(SERVICE)
    assert await redis.set("tls", "yes") is True
    assert redis.address == topology.master.tcp_address

    uri = f"rediss://127.0.0.1:{topology.sentinels[0].port}?ssl_ca_certs={certs.ca_file}"
    by_uri = await create_sentinel([uri], ssl=context)
    assert await by_uri.master_for(SERVICE).get("tls") == b"yes"

    with pytest.raises(RedisError, match="Could not connect to any sentinel") as info:
        await create_sentinel(topology.addresses, sentinel_ssl=certs.context(ca_file=certs.other_ca_file))
    assert isinstance(info.value.__cause__, ssl.SSLError)

    no_tls = await create_sentinel(topology.addresses, sentinel_ssl=context)
    with pytest.raises(MasterNotFoundError):
        await no_tls.master_for(SERVICE).get("tls")
