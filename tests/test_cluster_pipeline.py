"""Cluster pipelines: per-node batches, caller's order, re-sends on MOVED/ASK only, refusal before sending."""
import asyncio

import pytest

import aioredis_cy
from aioredis_cy._crc16 import key_slot
from aioredis_cy.errors import PipelineError, ReplyError


def _other_primary(servers, node):
    return next(other for other in servers.primaries() if other is not node)


def _commandstats(servers, node):
    """``{command: (calls, rejected_calls)}`` from INFO commandstats of ``node``."""
    stats = {}
    for line in servers.cli(node, "info", "commandstats").splitlines():
        if line.startswith("cmdstat_"):
            name, _, fields = line[len("cmdstat_"):].partition(":")
            values = dict(field.split("=") for field in fields.split(","))
            stats[name] = (int(values["calls"]), int(values.get("rejected_calls", 0)))
    return stats


def _reset_stats(servers):
    for node in servers.primaries():
        servers.cli(node, "config", "resetstat")


def _calls(servers, command):
    """Summed over the primaries: (calls, rejected calls) of ``command``."""
    stats = [_commandstats(servers, node).get(command, (0, 0)) for node in servers.primaries()]
    return sum(calls for calls, _ in stats), sum(rejected for _, rejected in stats)


async def test_10k_pipeline_with_a_slot_moved_in_between(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    redis = await create_redis_cluster()
    moved_slot = key_slot(b"moved")
    keys = [f"{{moved}}:{i}".encode() for i in range(50)] + [f"pipe:{i}".encode() for i in range(4950)]
    assert len({key_slot(key) for key in keys}) > 4000   # spread over most slots and every node
    source = servers.owner_of(moved_slot)
    target = _other_primary(servers, source)
    pipe = redis.pipeline()
    futures = []
    for i, key in enumerate(keys):
        futures.append(pipe.set(key, i))
        futures.append(pipe.get(key, encoding="utf-8"))
    await asyncio.to_thread(servers.move_slot, moved_slot, source, target)
    try:
        _reset_stats(servers)
        results = await pipe.execute()
        assert results == [value for i in range(len(keys)) for value in (True, str(i))]
        assert [await future for future in futures[:4]] == [True, "0", True, "1"]
        # Every command ran once; only the 100 of the moved slot were refused (MOVED) and sent again.
        assert _calls(servers, "set") == (5000, 50)
        assert _calls(servers, "get") == (5000, 50)
        state = redis.connection.get_cluster_state()
        assert state.slot_master(moved_slot).addr == target.tcp_address
        assert servers.cli(target, "cluster", "countkeysinslot", moved_slot) == "50"
    finally:
        await asyncio.to_thread(servers.move_slot, moved_slot, target, source)


async def test_ask_during_migration_is_followed_in_a_pipeline(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    redis = await create_redis_cluster()
    slot = key_slot(b"asked")
    source = servers.owner_of(slot)
    target = _other_primary(servers, source)
    await redis.set(b"{asked}:old", b"old")
    await asyncio.to_thread(servers.begin_migration, slot, source, target)
    try:
        pipe = redis.pipeline()
        for i in range(20):
            pipe.set(f"{{asked}}:new:{i}", i)   # missing on the source: ASK to the target
            pipe.set(f"other:{i}", i)
        pipe.get(b"{asked}:old")                 # still on the source: answered there
        assert await pipe.execute() == [True] * 40 + [b"old"]
        assert servers.cli(target, "cluster", "countkeysinslot", slot) == "20"
        assert servers.cli(source, "cluster", "countkeysinslot", slot) == "1"
        # ASK leaves the slot map as it is.
        assert redis.connection.get_cluster_state().slot_master(slot).addr == source.tcp_address
    finally:
        await asyncio.to_thread(servers.finish_migration, slot, source, target)
        await asyncio.to_thread(servers.move_slot, slot, target, source)


async def test_cross_slot_command_refused_alone_before_sending(create_redis_cluster):
    redis = await create_redis_cluster()
    pipe = redis.pipeline()
    first = pipe.set("a", 1)
    split = pipe.mset("b", 2, "c", 3)         # b and c hash to different slots
    last = pipe.mget("{t}1", "{t}2")
    with pytest.raises(PipelineError) as info:
        await pipe.execute()
    assert isinstance(info.value.args[1][0], aioredis_cy.CrossSlotError)
    assert await first is True
    with pytest.raises(aioredis_cy.CrossSlotError):
        await split
    assert await last == [None, None]
    assert await redis.exists("b") + await redis.exists("c") == 0


async def test_commands_outside_the_key_table_are_placed_by_the_slow_path(create_redis_cluster,
                                                                         redis_cluster_servers):
    """A numkeys command (EVAL) and one only the server can place (BITOP, by COMMAND GETKEYS) sit
    among table commands: each reaches its keys' owner and the results keep the caller's order."""
    redis = await create_redis_cluster()
    keys = [f"{{outside:{i}}}" for i in range(30)]
    pipe = redis.pipeline()
    for i, key in enumerate(keys):
        pipe.set(key, i)
        pipe.eval("return redis.call('GET', KEYS[1])", [key])
        pipe.bitop_or(key + "copy", key)
        pipe.get(key + "copy")
    results = await pipe.execute()
    assert results == [item for i in range(len(keys))
                       for item in (True, str(i).encode(), len(str(i)), str(i).encode())]
    for key in keys:   # on its owner only
        owner = redis_cluster_servers.owner_of(key_slot(key.encode()))
        assert redis_cluster_servers.cli(owner, "exists", key, key + "copy") == "2"


async def test_errors_and_return_exceptions(create_redis_cluster):
    redis = await create_redis_cluster()
    await redis.set("str", "x")
    pipe = redis.pipeline()
    pipe.incr("n")
    failing = pipe.lpush("str", 1)
    pipe.ping()
    results = await pipe.execute(return_exceptions=True)
    assert results[0] == 1 and results[2] == b"PONG"
    assert isinstance(results[1], ReplyError) and "WRONGTYPE" in str(results[1])
    with pytest.raises(ReplyError, match="WRONGTYPE"):
        await failing
    pipe = redis.pipeline()
    pipe.incr("n")
    pipe.lpush("str", 1)
    with pytest.raises(PipelineError):
        await pipe.execute()
    assert await redis.get("n") == b"2"


async def test_fan_out_and_pubsub_commands_are_refused_in_a_pipeline(create_redis_cluster):
    redis = await create_redis_cluster()
    pipe = redis.pipeline()
    with pytest.raises(aioredis_cy.RedisClusterError, match="every primary"):
        pipe.dbsize()
    with pytest.raises(TypeError, match="pub/sub"):
        await pipe.subscribe("ch")   # as in 1.x, the call's future holds its error
    pipe.ping()
    refused, pong = await pipe.execute(return_exceptions=True)
    assert isinstance(refused, TypeError) and pong == b"PONG"


async def test_empty_pipeline_and_single_use(create_redis_cluster):
    redis = await create_redis_cluster()
    pipe = redis.pipeline()
    assert await pipe.execute() == []
    with pytest.raises(AssertionError):
        await pipe.execute()


async def test_converters_and_blocking_commands(create_redis_cluster):
    redis = await create_redis_cluster()
    await redis.rpush("list", "x")
    pipe = redis.pipeline()
    hset = pipe.hmset_dict("h", {"a": 1})
    hgetall = pipe.hgetall("h", encoding="utf-8")
    popped = pipe.blpop("list", timeout=1)      # on a connection of its own, not a shared one
    assert await pipe.execute() == [True, {"a": "1"}, [b"list", b"x"]]
    assert (await hset, await hgetall, await popped) == (True, {"a": "1"}, [b"list", b"x"])


async def test_a_slow_node_fails_only_its_own_commands(create_redis_cluster, redis_cluster_servers):
    redis = await create_redis_cluster(attempt_timeout=0.1)
    state = redis.connection.get_cluster_state()
    keys = [f"slow:{i}" for i in range(60)]
    slow_addr = state.slot_master(key_slot(keys[0].encode())).addr
    slow = await redis.keys_master(keys[0])
    sleeping = slow.execute(b"DEBUG", b"SLEEP", 0.5)
    pipe = redis.pipeline()
    for key in keys:
        pipe.incr(key)
    results = await pipe.execute(return_exceptions=True)
    assert await sleeping == b"OK"
    on_slow = [state.slot_master(key_slot(key.encode())).addr == slow_addr for key in keys]
    assert 0 < sum(on_slow) < len(keys)
    for result, slowed in zip(results, on_slow):
        if slowed:
            assert isinstance(result, asyncio.TimeoutError)
        else:
            assert result == 1
    # A write that timed out is not sent again: each INCR ran once.
    assert await redis.mget_nonatomic(*keys) == [b"1"] * len(keys)


async def test_cancelled_execute_leaves_the_cluster_usable(create_redis_cluster):
    redis = await create_redis_cluster()
    slow = await redis.keys_master("cancel:0")
    sleeping = slow.execute(b"DEBUG", b"SLEEP", 0.2)
    pipe = redis.pipeline()
    futures = [pipe.set(f"cancel:{i}", i) for i in range(300)]
    task = asyncio.ensure_future(pipe.execute())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert all(future.cancelled() or future.done() for future in futures)
    await sleeping
    assert await redis.get("cancel:0") == b"0"   # sent before the cancel: it ran
    assert await redis.incr("after-cancel") == 1
