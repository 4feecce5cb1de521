"""Cluster transactions: one slot, WATCH pinned to the slot owner, cross-slot refusal before sending."""
import asyncio

import pytest

import aioredis_cy
from aioredis_cy._crc16 import key_slot
from aioredis_cy.errors import MultiExecError, WatchVariableError


def _multi_calls(servers):
    total = 0
    for node in servers.primaries():
        for line in servers.cli(node, "info", "commandstats").splitlines():
            if line.startswith("cmdstat_multi:"):
                total += int(line.split("calls=")[1].split(",")[0])
    return total


async def test_single_slot_transaction(create_redis_cluster):
    redis = await create_redis_cluster()
    tr = redis.multi_exec()
    first = tr.incr("{user}:a")
    tr.set("{user}:b", "x")
    tr.get("{user}:b", encoding="utf-8")
    tr.ping()                                  # keyless commands join any transaction
    assert await tr.execute() == [1, True, "x", b"PONG"]
    assert await first == 1


async def test_cross_slot_transaction_refused_before_sending(create_redis_cluster, redis_cluster_servers):
    redis = await create_redis_cluster()
    for node in redis_cluster_servers.primaries():
        redis_cluster_servers.cli(node, "config", "resetstat")
    tr = redis.multi_exec()
    first = tr.set("a", 1)
    tr.set("b", 2)
    with pytest.raises(aioredis_cy.CrossSlotError, match="one slot"):
        await tr.execute()
    with pytest.raises(aioredis_cy.CrossSlotError):
        await first
    assert await redis.exists("a") + await redis.exists("b") == 0
    assert _multi_calls(redis_cluster_servers) == 0
    tr = redis.multi_exec()
    tr.mset("c", 1, "d", 2)                     # one command spanning two slots
    with pytest.raises(aioredis_cy.CrossSlotError):
        await tr.execute()
    assert _multi_calls(redis_cluster_servers) == 0


async def test_watch_conflict(create_redis_cluster):
    redis = await create_redis_cluster()
    other = await create_redis_cluster()
    await redis.set("{acct}:balance", 10)
    assert await redis.watch("{acct}:balance") is True
    assert await other.incr("{acct}:balance") == 11
    tr = redis.multi_exec()
    future = tr.set("{acct}:balance", 0)
    tr.set("{acct}:log", "spent")
    with pytest.raises(WatchVariableError):
        await tr.execute()
    with pytest.raises(WatchVariableError):
        await future
    assert await redis.get("{acct}:balance") == b"11"
    assert await redis.exists("{acct}:log") == 0
    # Without a conflict the watched transaction runs.
    await redis.watch("{acct}:balance")
    tr = redis.multi_exec()
    tr.decrby("{acct}:balance", 11)
    assert await tr.execute() == [0]


async def test_watch_pins_the_slot(create_redis_cluster):
    redis = await create_redis_cluster()
    await redis.watch("{w}:x")
    with pytest.raises(aioredis_cy.CrossSlotError):
        await redis.watch("other")
    tr = redis.multi_exec()
    tr.set("other", 1)
    with pytest.raises(aioredis_cy.CrossSlotError):
        await tr.execute()
    assert await redis.exists("other") == 0
    # The pin was given back: a new watch may pick any slot.
    await redis.watch("other")
    assert await redis.unwatch() is True
    with pytest.raises(aioredis_cy.CrossSlotError):
        await redis.watch("a", "b")


async def test_watch_is_per_task(create_redis_cluster):
    redis = await create_redis_cluster()
    await redis.watch("{p}:k")

    async def elsewhere():
        tr = redis.multi_exec()                 # not pinned: this task watched nothing
        tr.set("other", 1)
        return await tr.execute()

    assert await asyncio.ensure_future(elsewhere()) == [True]
    tr = redis.multi_exec()
    tr.set("{p}:k", 1)
    assert await tr.execute() == [True]


async def test_transaction_follows_a_moved_slot(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    redis = await create_redis_cluster()
    slot = key_slot(b"tm")
    source = servers.owner_of(slot)
    target = next(node for node in servers.primaries() if node is not source)
    await asyncio.to_thread(servers.move_slot, slot, source, target)
    try:
        tr = redis.multi_exec()
        tr.incr("{tm}:a")
        tr.incr("{tm}:b")
        assert await tr.execute() == [1, 1]      # MOVED at queue time: run again at the new owner
        assert servers.cli(target, "cluster", "countkeysinslot", slot) == "2"
    finally:
        await asyncio.to_thread(servers.move_slot, slot, target, source)


async def test_failed_command_inside(create_redis_cluster):
    redis = await create_redis_cluster()
    await redis.set("{e}:s", "x")
    tr = redis.multi_exec()
    tr.incr("{e}:n")
    tr.lpush("{e}:s", 1)
    with pytest.raises(MultiExecError):
        await tr.execute()
    assert await redis.get("{e}:n") == b"1"
