"""Commands missing from the static key table are routed by what the server says (COMMAND INFO).

Each command used here is known to Redis 7.0 and Valkey 9 but not to aioredis_cy's
table (checked first, so the tests keep testing the fallback). Every call must reach
the owner of its keys at once: the owner counts it in INFO commandstats, and no node
rejects it with a redirect (``rejected_calls``).
"""
import asyncio

import pytest

import aioredis_cy
from aioredis_cy.cluster import command_info
from aioredis_cy.cluster.keys import KEYLESS, slot_of, static_keys

from .helpers import open_replica_pools

TAGS = [f"{{t{i}}}" for i in range(120)]


def stats(cluster, node, command):
    """(calls, rejected_calls) of ``command`` on ``node``."""
    for line in cluster.cli(node, "info", "commandstats").splitlines():
        if line.startswith(f"cmdstat_{command}:"):
            fields = dict(part.split("=") for part in line.split(":", 1)[1].split(","))
            return int(fields["calls"]), int(fields.get("rejected_calls", 0))
    return 0, 0


def all_stats(cluster, command):
    """Per primary's port: its stats() (replicas count the writes they replicate)."""
    return {node.port: stats(cluster, node, command) for node in cluster.primaries()}


def calls_made(before, after):
    """Per node port: (calls, rejected_calls) made between two all_stats() readings."""
    return {port: (after[port][0] - before[port][0], after[port][1] - before[port][1]) for port in after}


def expected_calls(cluster, redis, keys):
    """Per primary's port: how many of ``keys`` it owns, no rejection."""
    state = redis.connection.get_cluster_state()
    counts = {node.port: (0, 0) for node in cluster.primaries()}
    for key in keys:
        port = state.slot_master(slot_of(key)).addr[1]
        counts[port] = (counts[port][0] + 1, 0)
    return counts


@pytest.mark.parametrize("name", ["bitop", "lcs", "zintercard", "module", "nosuchcommand"])
def test_commands_are_not_in_the_static_table(name):
    assert static_keys(name.encode(), ("x", "y", "z")) is None
    assert name.encode() not in KEYLESS


async def test_fixed_key_positions_learned_once(create_redis_cluster, redis_cluster_servers):
    cluster = redis_cluster_servers
    redis = await create_redis_cluster()
    await asyncio.gather(*(redis.set(f"{tag}src", tag) for tag in TAGS))
    info_before = cluster.calls("command|info")
    before = all_stats(cluster, "bitop")
    results = await asyncio.gather(*(redis.execute("BITOP", "OR", f"{tag}dst", f"{tag}src") for tag in TAGS))
    assert results == [len(tag) for tag in TAGS]
    assert calls_made(before, all_stats(cluster, "bitop")) == \
        expected_calls(cluster, redis, [f"{tag}dst" for tag in TAGS])
    # One COMMAND INFO for 120 concurrent callers; later calls take the fast path.
    assert cluster.calls("command|info") - info_before == 1
    assert await redis.execute("BITOP", "OR", f"{TAGS[0]}dst", f"{TAGS[0]}src") == len(TAGS[0])
    assert "BITOP" in redis.connection._router.routes
    for primary in await redis.all_masters():
        owned = sum(1 for tag in TAGS if primary.address == redis.connection.slot_master(slot_of(tag)).addr)
        assert await primary.dbsize() == 2 * owned
        primary.close()
        await primary.wait_closed()
    assert await redis.execute("LCS", f"{TAGS[0]}src", f"{TAGS[0]}dst") == TAGS[0].encode()


async def test_learned_command_refused_across_slots(create_redis_cluster):
    redis = await create_redis_cluster()
    await redis.execute("BITOP", "AND", "{a}dst", "{a}src")   # learned
    with pytest.raises(aioredis_cy.CrossSlotError):
        await redis.execute("BITOP", "AND", "{a}dst", "{b}src")


async def test_movable_keys_asked_per_call(create_redis_cluster, redis_cluster_servers):
    cluster = redis_cluster_servers
    redis = await create_redis_cluster()
    await asyncio.gather(*(redis.zadd(f"{tag}a", 1, "m", 2, tag) for tag in TAGS))
    await asyncio.gather(*(redis.zadd(f"{tag}b", 1, "m") for tag in TAGS))
    before = all_stats(cluster, "zintercard")
    counts = await asyncio.gather(*(redis.execute("ZINTERCARD", 2, f"{tag}a", f"{tag}b") for tag in TAGS))
    assert counts == [1] * len(TAGS)
    assert calls_made(before, all_stats(cluster, "zintercard")) == \
        expected_calls(cluster, redis, [f"{tag}a" for tag in TAGS])
    assert "ZINTERCARD" not in redis.connection._router.routes
    with pytest.raises(aioredis_cy.CrossSlotError):
        await redis.execute("ZINTERCARD", 2, "{a}a", "{b}b")


async def test_keyless_command_goes_to_a_primary(create_redis_cluster, redis_cluster_servers):
    cluster = redis_cluster_servers
    redis = await create_redis_cluster()
    before = all_stats(cluster, "module|list")
    replies = await asyncio.gather(*(redis.execute("MODULE", "LIST") for _ in range(30)))
    assert all(isinstance(reply, list) for reply in replies)
    made = calls_made(before, all_stats(cluster, "module|list"))
    assert sum(calls for calls, _ in made.values()) == 30   # all on primaries


async def test_unknown_command_gives_the_server_error(create_redis_cluster):
    redis = await create_redis_cluster()
    for _ in range(2):
        with pytest.raises(aioredis_cy.ReplyError, match="unknown command"):
            await redis.execute("NOSUCHCOMMAND", "key")
    assert redis.connection._server_commands.cached(b"nosuchcommand") is None
    assert await redis.execute("PING") == b"PONG"


async def test_learned_read_only_command_reads_from_replicas(create_redis_cluster, redis_cluster_servers):
    cluster = redis_cluster_servers
    redis = await create_redis_cluster(read_from_replicas=True)
    await asyncio.gather(*(redis.mset(f"{tag}a", "abcde", f"{tag}b", "abxde") for tag in TAGS))
    for primary in cluster.primaries():
        assert int(cluster.cli(primary, "wait", 1, 5000)) == 1
    await open_replica_pools(redis)
    before = {node.port: stats(cluster, node, "lcs")[0] for node in cluster.running()}
    results = await asyncio.gather(*(redis.execute("LCS", f"{tag}a", f"{tag}b") for tag in TAGS))
    assert results == [b"abde"] * len(TAGS)
    primaries = {node.port for node in cluster.primaries()}
    served = {node.port: stats(cluster, node, "lcs")[0] - before[node.port] for node in cluster.running()}
    assert sum(served.values()) == len(TAGS)
    assert all(served[port] == 0 for port in primaries)


async def test_pipeline_with_a_command_missing_from_the_table(create_redis_cluster):
    redis = await create_redis_cluster()
    pipe = redis.pipeline()
    for tag in TAGS:
        pipe.set(f"{tag}src", b"\x0f")
        pipe.bitop_not(f"{tag}dst", f"{tag}src")   # BITOP
        pipe.get(f"{tag}dst")
    assert await pipe.execute() == [True, 1, b"\xf0"] * len(TAGS)


async def test_learned_commands_are_bounded(create_redis_cluster, monkeypatch):
    monkeypatch.setattr(command_info, "LIMIT", 2)
    redis = await create_redis_cluster()
    learned = redis.connection._server_commands
    await redis.execute("BITOP", "OR", "{a}dst", "{a}src")
    await redis.execute("LCS", "{a}dst", "{a}src")
    assert learned.cached(b"bitop") is not None
    assert await redis.execute("BITFIELD_RO", "{a}dst", "GET", "u8", 0) == [0]
    assert learned.cached(b"bitop") is None   # the oldest answer made room
    assert learned.cached(b"lcs").read_only and learned.cached(b"bitfield_ro").read_only
