"""Failover, a killed primary, nodes joining and leaving: on the spare cluster, which each
test leaves serving every slot with 3 primaries and 3 replicas (roles may be swapped); its
client comes from the conftest's ``spare_cluster_client``."""
import asyncio
import logging
import os
import time

import aioredis_cy
from aioredis_cy._crc16 import key_slot

logger = logging.getLogger(__name__)


def _keys_by_owner(servers, redis, count):
    """``count`` keys grouped by the address of the primary serving them."""
    state = redis.connection.get_cluster_state()
    groups = {}
    for i in range(count):
        key = f"fo:{i}".encode()
        groups.setdefault(state.slot_master(key_slot(key)).addr, []).append(key)
    return groups


class _Load:
    """Tasks that write and read back their own keys until stopped; every reply is checked."""

    def __init__(self, redis, keys):
        self.redis, self.keys = redis, keys
        self.errors = []   # (time, exception)
        self.wrong = []
        self.done = 0
        self.stopping = False

    async def _run(self, key):
        round_ = 0
        while not self.stopping:
            round_ += 1
            value = b"%s=%d" % (key, round_)
            try:
                await self.redis.set(key, value)
                got = await self.redis.get(key)
            except (aioredis_cy.RedisError, OSError, asyncio.TimeoutError) as exc:
                self.errors.append((time.monotonic(), exc))
                await asyncio.sleep(0.01)
                continue
            if got != value:
                self.wrong.append((key, value, got))
            self.done += 1

    def start(self):
        self.tasks = [asyncio.ensure_future(self._run(key)) for key in self.keys]

    async def stop(self):
        self.stopping = True
        await asyncio.gather(*self.tasks)

    def window(self):
        if not self.errors:
            return 0.0
        return self.errors[-1][0] - self.errors[0][0]


async def _until(check, what):
    """Refresh the client's view until ``check()`` holds (the test fails on a stuck cluster by its
    own deadline: at most 300 rounds)."""
    for _ in range(300):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_cluster_failover_under_load(spare_cluster_client, spare_redis_cluster):
    servers = spare_redis_cluster
    redis = await spare_cluster_client()
    cluster = redis.connection
    groups = _keys_by_owner(servers, redis, 300)
    old = servers.primaries()[0]
    replica = servers.replicas_of(old)[0]
    load = _Load(redis, [key for keys in groups.values() for key in keys])
    load.start()
    await asyncio.sleep(0.1)
    gets_before = servers.commandstats(replica).get("get", 0)
    await asyncio.to_thread(servers.fail_over, replica)

    async def moved_over():
        await cluster.schedule_refresh()
        return cluster.get_cluster_state().slot_master(key_slot(groups[old.tcp_address][0])).addr

    for _ in range(300):
        if await moved_over() == replica.tcp_address:
            break
    done = load.done
    await _until(lambda: load.done > done + 300, "traffic after the failover")
    await load.stop()
    logger.info("failover: %d errors over %.3f s: %s", len(load.errors), load.window(),
                sorted({type(exc).__name__ for _, exc in load.errors}))
    assert load.wrong == []   # no reply ever reached the wrong caller
    assert servers.commandstats(replica).get("get", 0) > gets_before   # its slots' traffic moved there
    await asyncio.to_thread(servers.wait_stable)
    for node in servers.primaries():   # still a few connections per node
        assert len(servers.clients(node)) <= 10


async def test_killed_primary_affects_only_its_slots(spare_cluster_client, spare_redis_cluster):
    servers = spare_redis_cluster
    redis = await spare_cluster_client(retry_max_delay=0.5, max_attempts=40)
    groups = _keys_by_owner(servers, redis, 300)
    run = os.urandom(4).hex().encode()
    for keys in groups.values():
        assert all(await asyncio.gather(*(redis.set(k, k + b":" + run) for k in keys)))
    victim = servers.primaries()[0]
    assert int(servers.cli(victim, "wait", 1, 5000)) >= 1   # its replica has every key
    victim_keys = groups.pop(victim.tcp_address)
    victim.kill()
    try:
        # The other shards keep serving at once.
        for keys in groups.values():
            assert await asyncio.gather(*(redis.get(k) for k in keys)) == [k + b":" + run for k in keys]
        # Its own slots: reads are retried until the replica took over (cluster-node-timeout 1 s).
        # Each read gets its own key's value. (Under heavy load the cluster itself may have
        # failed over early and lost this run's writes, as Redis Cluster may: then the value
        # is one an earlier run wrote to the same key, never another key's.)
        values = await asyncio.gather(*(redis.get(k) for k in victim_keys))
        assert all(value.startswith(k + b":") for k, value in zip(victim_keys, values)), values
        stale = sum(value != k + b":" + run for k, value in zip(victim_keys, values))
        logger.info("%d of %d values written before the kill were lost", stale, len(values))
        # Writes either fail clearly (maybe sent before the kill) or run on the new primary.
        results = await asyncio.gather(*(redis.set(k, k + b":again") for k in victim_keys),
                                       return_exceptions=True)
        assert all(result is True or isinstance(result, (aioredis_cy.RedisError, OSError))
                   for result in results)
        assert await redis.set(victim_keys[0], victim_keys[0] + b":later")
    finally:
        victim.start()   # it rejoins as a replica of the new primary
        await asyncio.to_thread(servers.wait_stable)
    assert await redis.get(victim_keys[0]) == victim_keys[0] + b":later"


async def test_node_added_then_removed(spare_cluster_client, spare_redis_cluster):
    servers = spare_redis_cluster
    redis = await spare_cluster_client()
    cluster = redis.connection
    key = b"joined:key"
    slot = key_slot(key)
    assert await redis.set(key, b"value")
    unchanged = {node.addr: await cluster.create_pool_by_addr(node.addr)
                 for node in cluster.get_cluster_state().masters()}
    source = servers.owner_of(slot)
    extra = await asyncio.to_thread(servers.add_node)
    try:
        await asyncio.to_thread(servers.move_slot, slot, source, extra)
        assert await redis.get(key) == b"value"   # MOVED to the new node, its pool opened
        await cluster.schedule_refresh()
        assert cluster.get_cluster_state().has_addr(extra.tcp_address)
        new_pool = await cluster.create_pool_by_addr(extra.tcp_address)
        await asyncio.to_thread(servers.move_slot, slot, extra, source)
        assert await redis.get(key) == b"value"
    finally:
        if servers.owner_of(slot) is not source:
            await asyncio.to_thread(servers.move_slot, slot, extra, source)
        await asyncio.to_thread(servers.remove_node, extra)
    await cluster.schedule_refresh()
    state = cluster.get_cluster_state()
    assert not state.has_addr(extra.tcp_address)
    assert new_pool.closed   # the pool of the node that left is closed
    for addr, pool in unchanged.items():   # the others kept theirs, open
        assert await cluster.create_pool_by_addr(addr) is pool and not pool.closed
    assert await redis.incr(b"joined:counter") == 1


async def test_replica_reads_fall_back_to_the_primary(spare_cluster_client, spare_redis_cluster):
    servers = spare_redis_cluster
    # Two attempts: far less time than the cluster needs to mark the replica failed.
    redis = await spare_cluster_client(read_from_replicas=True, max_attempts=2)
    primary = servers.primaries()[0]
    keys = _keys_by_owner(servers, redis, 300)[primary.tcp_address]
    assert all(await asyncio.gather(*(redis.set(k, k) for k in keys)))
    assert int(servers.cli(primary, "wait", 1, 5000)) >= 1
    (replica,) = servers.replicas_of(primary)
    gets_before = servers.commandstats(primary).get("get", 0)
    replica.kill()
    try:
        # Its primary has no replica left: the reads of its slots go to the primary.
        assert await asyncio.gather(*(redis.get(k) for k in keys)) == keys
        assert servers.commandstats(primary).get("get", 0) > gets_before
    finally:
        replica.start()
        await asyncio.to_thread(servers.wait_stable)
