"""The client cache on a cluster: tracking on every node, others' and own writes, hits, slot
moves (MOVED, refresh, failover), lost connections, flushes, pipelines and *_nonatomic calls."""
import asyncio

import pytest

import aioredis_cy
from aioredis_cy import ClientCache
from aioredis_cy._crc16 import key_slot
from aioredis_cy._server import free_port

KEYS = [f"cc:{i}" for i in range(300)]   # spread over the slots of all three primaries


async def _cached(factory, **cache_options):
    cache = ClientCache(**cache_options)
    return await factory(protocol=3, client_cache=cache), cache


async def _until(check, what):
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"never happened: {what}")


async def _get_all(redis, keys):
    return await asyncio.gather(*(redis.get(key, encoding="utf-8") for key in keys))


def _other_primary(servers, node):
    return next(other for other in servers.primaries() if other is not node)


@pytest.mark.parametrize("factory", [aioredis_cy.create_redis_cluster, aioredis_cy.create_cluster])
async def test_wrong_arguments_fail_before_connecting(factory):
    nowhere = [("127.0.0.1", free_port())]   # connecting would fail with another error
    with pytest.raises(ValueError, match="protocol=3"):
        await factory(nowhere, client_cache=ClientCache())
    with pytest.raises(ValueError, match="protocol=3"):
        await factory(nowhere, protocol=2, client_cache=ClientCache())
    with pytest.raises(ValueError, match="protocol=3"):
        await factory([f"redis://127.0.0.1:{nowhere[0][1]}?protocol=2"], client_cache=ClientCache())
    with pytest.raises(TypeError, match="ClientCache"):
        await factory(nowhere, protocol=3, client_cache={})
    with pytest.raises(ValueError, match="protocol"):
        await factory(nowhere, protocol=4)


async def test_one_cache_serves_one_open_cluster(create_redis_cluster):
    cache = ClientCache()
    redis = await create_redis_cluster(protocol=3, client_cache=cache)
    with pytest.raises(ValueError, match="another client"):
        await create_redis_cluster(protocol=3, client_cache=cache)
    assert redis.client_cache is cache
    redis.close()
    await redis.wait_closed()
    again = await create_redis_cluster(protocol=3, client_cache=cache)   # taken over once closed
    assert await again.get("cc:x") is None


def _server_gets(servers):
    return sum(servers.commandstats(node).get("get", 0) for node in servers.primaries())


async def test_hot_reads_are_hits_on_every_node(create_redis_cluster, redis_cluster_servers):
    redis, cache = await _cached(create_redis_cluster)
    gets = _server_gets(redis_cluster_servers)
    assert all(await asyncio.gather(*(redis.set(key, key) for key in KEYS)))
    assert await redis.hset("cc:hash", "field", "value") == 1
    assert await _get_all(redis, KEYS) == KEYS
    assert (cache.misses, cache.entries, cache.hits) == (len(KEYS), len(KEYS), 0)
    for _ in range(3):
        assert await _get_all(redis, KEYS) == KEYS
        assert await redis.hgetall("cc:hash", encoding="utf-8") == {"field": "value"}   # RESP2 shape
    assert cache.hits == 3 * len(KEYS) + 2
    assert _server_gets(redis_cluster_servers) - gets == len(KEYS)   # each key read from the server once
    with redis.cache_disabled():
        assert await redis.get(KEYS[0]) == KEYS[0].encode()
    assert cache.hits == 3 * len(KEYS) + 2
    for node in redis_cluster_servers.primaries():   # tracking is on where the keys were read
        assert any("flags=t" in line for line in redis_cluster_servers.clients(node))


async def test_write_from_another_client_invalidates(create_redis_cluster):
    redis, cache = await _cached(create_redis_cluster)
    other = await create_redis_cluster()
    assert all(await asyncio.gather(*(other.set(key, "old") for key in KEYS)))
    assert await _get_all(redis, KEYS) == ["old"] * len(KEYS)
    assert all(await asyncio.gather(*(other.set(key, "new") for key in KEYS)))
    await _until(lambda: cache.entries == 0, "the invalidations of every node")
    assert cache.invalidations == len(KEYS)
    assert await _get_all(redis, KEYS) == ["new"] * len(KEYS)


async def test_own_writes_drop_entries_at_once(create_redis_cluster):
    redis, cache = await _cached(create_redis_cluster)
    keys = ["cc:a", "cc:b", "cc:c"]
    assert len({key_slot(key.encode()) for key in keys}) == 3
    assert await redis.mset_nonatomic({key: "1" for key in keys})
    assert await _get_all(redis, keys) == ["1"] * 3
    # Each write is seen by the next read, before any invalidation from the server comes.
    assert await redis.incr("cc:a") == 2
    assert await redis.get("cc:a") == b"2"
    assert await redis.mset_nonatomic("cc:a", "3", "cc:b", "3")
    assert await _get_all(redis, keys) == ["3", "3", "1"]
    pipe = redis.pipeline()
    pipe.set("cc:a", "4")
    pipe.get("cc:b")   # pipelines read from the server, never from the cache
    pipe.set("cc:c", "4")
    hits = cache.hits
    assert await pipe.execute() == [True, b"3", True]
    assert cache.hits == hits
    assert await _get_all(redis, keys) == ["4", "3", "4"]
    tr = redis.multi_exec()
    tr.set("{cc:a}x", "5")
    tr.append("cc:a", "5")
    assert await tr.execute() == [True, 2]
    assert await redis.get("cc:a") == b"45"
    assert await redis.mget_nonatomic(*keys, encoding="utf-8") == ["45", "3", "4"]
    assert await redis.delete_nonatomic(*keys) == 3
    assert await _get_all(redis, keys) == [None] * 3


async def test_flushdb_on_the_cluster_drops_everything(create_redis_cluster):
    redis, cache = await _cached(create_redis_cluster)
    assert all(await asyncio.gather(*(redis.set(key, key) for key in KEYS)))
    assert await _get_all(redis, KEYS) == KEYS
    assert cache.entries == len(KEYS)
    flushing = asyncio.ensure_future(redis.flushdb())
    await asyncio.sleep(0)
    assert cache.entries == 0   # at once, before the primaries answer
    assert await flushing is True
    assert await _get_all(redis, KEYS) == [None] * len(KEYS)
    assert await redis.flushall() is True
    assert cache.entries == 0


async def test_broadcast_mode_on_the_cluster(create_redis_cluster):
    redis, cache = await _cached(create_redis_cluster, mode="broadcast", prefixes=["cc:"])
    other = await create_redis_cluster()
    assert await other.set("cc:1", "old") and await other.set("other:1", "old")
    assert await redis.get("cc:1") == b"old" and await redis.get("other:1") == b"old"
    assert cache.entries == 1   # only keys of the prefixes are cached
    assert await other.set("cc:1", "new")
    await _until(lambda: cache.entries == 0, "the broadcast invalidation")
    assert await redis.get("cc:1") == b"new"


async def test_moved_slot_drops_its_entries(create_redis_cluster, redis_cluster_servers):
    """A slot moved by SETSLOT/MIGRATE: the entries of its keys go when the client learns it,
    by a MOVED reply or by a refresh, even when no server tells it (a key that did not exist)."""
    servers = redis_cluster_servers
    redis, cache = await _cached(create_redis_cluster)
    other = await create_redis_cluster()
    by_moved, by_refresh, stays = "{ccmoved}.a", "{ccrefresh}.a", "cc:stays"
    moves = []
    for key in (by_moved, by_refresh):
        slot = key_slot(key.encode())
        source = servers.owner_of(slot)
        moves.append((slot, source, _other_primary(servers, source)))
    assert await redis.set(stays, "kept")
    assert [await redis.get(key) for key in (by_moved, by_refresh, stays)] == [None, None, b"kept"]
    assert cache.entries == 3
    for move in moves:
        await asyncio.to_thread(servers.move_slot, *move)
    try:
        assert await other.set(by_moved, "new") and await other.set(by_refresh, "new")   # on the new owners
        assert cache.entries == 3   # no server knows we cached these (missing) keys
        assert await redis.set("{ccmoved}.b", "x")   # MOVED: its slot is patched, its entries dropped
        assert cache.entries == 2
        assert await redis.get(by_moved) == b"new"
        await redis.connection.schedule_refresh()   # the other slot has a new owner in the new map
        assert await redis.get(by_refresh) == b"new"
        hits = cache.hits
        assert await redis.get(stays) == b"kept" and cache.hits == hits + 1
    finally:
        for slot, source, target in moves:
            await asyncio.to_thread(servers.move_slot, slot, target, source)


async def test_read_redirected_by_ask_is_not_stored(create_redis_cluster, redis_cluster_servers):
    """During a migration a read answered ASK gets its value from the importing node, unstored:
    the connection it was marked on did not read it."""
    servers = redis_cluster_servers
    redis, cache = await _cached(create_redis_cluster)
    key = "{ccask}.a"
    slot = key_slot(key.encode())
    source = servers.owner_of(slot)
    target = _other_primary(servers, source)
    assert await redis.set(key, "value")
    await asyncio.to_thread(servers.begin_migration, slot, source, target)
    try:
        servers.cli(source, "migrate", "127.0.0.1", target.port, "", 0, 5000, "keys", key)
        for _ in range(2):
            assert await redis.get(key, encoding="utf-8") == "value"   # ASK, then ASKING + GET on target
        assert (cache.entries, cache.hits) == (0, 0)
        await asyncio.to_thread(servers.finish_migration, slot, source, target)
        assert await redis.get(key, encoding="utf-8") == "value"   # MOVED: not stored either
        assert await redis.get(key, encoding="utf-8") == "value"   # read on the new owner: stored
        assert await redis.get(key, encoding="utf-8") == "value"
        assert (cache.entries, cache.hits) == (1, 1)
    finally:
        await asyncio.to_thread(servers.move_slot_back, slot, source, target)


async def test_lost_connections_drop_what_they_read(create_redis_cluster, redis_cluster_servers):
    servers = redis_cluster_servers
    redis, cache = await _cached(create_redis_cluster)
    assert all(await asyncio.gather(*(redis.set(key, key) for key in KEYS)))
    assert await _get_all(redis, KEYS) == KEYS
    victim = servers.primaries()[0]
    state = redis.connection.get_cluster_state()
    lost = [key for key in KEYS if state.slot_master(key_slot(key.encode())).addr == victim.tcp_address]
    assert 0 < len(lost) < len(KEYS)
    servers.cli(victim, "client", "kill", "type", "normal")   # every connection of ours to it
    await _until(lambda: cache.entries == len(KEYS) - len(lost), "the lost connections' entries dropped")
    hits = cache.hits
    assert await _get_all(redis, KEYS) == KEYS   # the others are hits, those of the victim read again
    assert cache.hits == hits + len(KEYS) - len(lost)
    await _until(lambda: len(redis.connection._pools.get(victim.tcp_address)._free) > 0, "a new connection")
    assert await _get_all(redis, lost) == lost   # cached again on its new connections
    assert cache.entries == len(KEYS)


async def test_failover_drops_the_old_primarys_entries(spare_cluster_client, spare_redis_cluster):
    servers = spare_redis_cluster
    cache = ClientCache()
    redis = await spare_cluster_client(protocol=3, client_cache=cache)
    other = await spare_cluster_client()
    assert all(await asyncio.gather(*(redis.set(key, "old") for key in KEYS)))
    assert await _get_all(redis, KEYS) == ["old"] * len(KEYS)
    old = servers.primaries()[0]
    replica = servers.replicas_of(old)[0]
    cluster = redis.connection
    moving = [key for key in KEYS
              if cluster.get_cluster_state().slot_master(key_slot(key.encode())).addr == old.tcp_address]
    await asyncio.to_thread(servers.fail_over, replica)

    def taken_over():
        owner = cluster.get_cluster_state().slot_master(key_slot(moving[0].encode()))
        return owner.addr == replica.tcp_address

    for _ in range(300):
        await cluster.schedule_refresh()
        if taken_over():
            break
    assert taken_over()
    assert cache.entries == len(KEYS) - len(moving)   # those the old primary tracked are gone
    assert all(await asyncio.gather(*(other.set(key, "new") for key in moving)))
    values = await _get_all(redis, KEYS)
    assert [values[KEYS.index(key)] for key in moving] == ["new"] * len(moving)
    await asyncio.to_thread(servers.wait_stable)


async def test_replica_reads_are_invalidated_by_the_replicas(create_redis_cluster, redis_cluster_servers):
    """With read_from_replicas the entries come from replicas, which track and invalidate them too
    (as they apply the primary's writes)."""
    servers = redis_cluster_servers
    cache = ClientCache()
    redis = await create_redis_cluster(read_from_replicas=True, protocol=3, client_cache=cache)
    other = await create_redis_cluster()
    assert all(await asyncio.gather(*(other.set(key, "old") for key in KEYS)))
    await other.wait(1, 1000)
    replicas = [node for node in servers.running() if node not in servers.primaries()]
    before = sum(servers.commandstats(node).get("get", 0) for node in replicas)
    assert await _get_all(redis, KEYS) == ["old"] * len(KEYS)
    assert sum(servers.commandstats(node).get("get", 0) for node in replicas) - before == len(KEYS)
    assert cache.entries == len(KEYS)
    assert all(await asyncio.gather(*(other.set(key, "new") for key in KEYS)))
    await _until(lambda: cache.entries == 0, "the replicas' invalidations")
    assert await _get_all(redis, KEYS) == ["new"] * len(KEYS)


async def test_killed_primary_drops_its_entries(spare_cluster_client, spare_redis_cluster):
    """SIGKILL of a primary: the entries its connections read go at once (its connections are
    lost), the other nodes' stay; once its replica took over, its keys are read there again."""
    servers = spare_redis_cluster
    cache = ClientCache()
    redis = await spare_cluster_client(protocol=3, client_cache=cache, retry_max_delay=0.5, max_attempts=40)
    assert all(await asyncio.gather(*(redis.set(key, key) for key in KEYS)))
    assert await _get_all(redis, KEYS) == KEYS
    victim = servers.primaries()[0]
    state = redis.connection.get_cluster_state()
    lost = [key for key in KEYS if state.slot_master(key_slot(key.encode())).addr == victim.tcp_address]
    assert int(servers.cli(victim, "wait", 1, 5000)) >= 1   # its replica has every key
    victim.kill()
    try:
        await _until(lambda: cache.entries == len(KEYS) - len(lost), "the killed node's entries dropped")
        hits = cache.hits
        kept = [key for key in KEYS if key not in lost]
        assert await _get_all(redis, kept) == kept and cache.hits == hits + len(kept)
        assert await _get_all(redis, lost) == lost   # retried until the replica took over
    finally:
        victim.start()   # it rejoins as a replica of the new primary
        await asyncio.to_thread(servers.wait_stable)
