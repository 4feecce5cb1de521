"""Client-side caching (``ClientCache``): the store, and the cache on real servers over RESP3."""
import asyncio

import pytest

import aioredis_cy
from aioredis_cy import ClientCache
from aioredis_cy import cache as cache_module
from aioredis_cy._cache_client import CACHEABLE, Tracker

# -- the store alone -----------------------------------------------------------------------------


def _tracker(cache):
    tracker = Tracker(cache, object())
    cache._trackers[tracker.conn] = tracker
    return tracker


def _fill(cache, owner, key: bytes, raw, name=b"GET"):
    """Store ``raw`` as the reply of ``name key`` read on ``owner``'s connection, as a reply would."""
    fill = cache._begin_fill((name, key), key, owner, None, None)
    return fill(raw)


@pytest.mark.parametrize("kwargs, error", [
    ({"max_entries": 0}, ValueError),
    ({"max_entries": -1}, ValueError),
    ({"max_entries": 1.5}, TypeError),
    ({"max_entries": True}, TypeError),
    ({"max_bytes": 0}, ValueError),
    ({"max_bytes": "1"}, TypeError),
    ({"ttl": 0}, ValueError),
    ({"ttl": float("nan")}, ValueError),
    ({"ttl": float("inf")}, ValueError),
    ({"ttl": "1"}, TypeError),
    ({"mode": "bcast"}, ValueError),
    ({"mode": 1}, TypeError),
    ({"prefixes": "user:"}, TypeError),
    ({"prefixes": [1], "mode": "broadcast"}, TypeError),
    ({"prefixes": ["a"]}, ValueError),   # prefixes need broadcast mode
    ({"prefixes": ["user:", "user:1"], "mode": "broadcast"}, ValueError),   # overlapping
])
def test_bad_settings(kwargs, error):
    with pytest.raises(error):
        ClientCache(**kwargs)


def test_settings_and_stats():
    cache = ClientCache(max_entries=5, max_bytes=10_000, ttl=None, mode="broadcast", prefixes=["a:", b"b:"])
    assert (cache.max_entries, cache.max_bytes, cache.ttl, cache.mode) == (5, 10_000, None, "broadcast")
    assert cache.prefixes == (b"a:", b"b:")
    assert cache.stats() == {"hits": 0, "misses": 0, "invalidations": 0, "evictions": 0,
                             "entries": 0, "bytes": 0}
    assert "entries=0/5" in repr(cache)


def test_lru_eviction_by_entries():
    cache = ClientCache(max_entries=3)
    owner = _tracker(cache)
    for index in range(3):
        _fill(cache, owner, b"k%d" % index, b"v")
    assert cache._lookup((b"GET", b"k0")) == b"v"   # k0 is now the most recently used
    _fill(cache, owner, b"k3", b"v")
    assert cache.entries == 3 and cache.evictions == 1
    assert cache._lookup((b"GET", b"k1")) is cache_module.MISSING
    assert cache._lookup((b"GET", b"k0")) == b"v"
    assert len(owner.filled) == 3


def test_eviction_by_bytes():
    cache = ClientCache(max_bytes=4_000)
    owner = _tracker(cache)
    for index in range(100):
        _fill(cache, owner, b"k%d" % index, b"x" * 500)
        assert cache.bytes <= 4_000
    assert 0 < cache.entries < 10
    assert cache.evictions == 100 - cache.entries
    _fill(cache, owner, b"huge", b"x" * 10_000)   # bigger than the whole cache: not stored
    assert cache._lookup((b"GET", b"huge")) is cache_module.MISSING
    assert cache.bytes == sum(entry.size for entry in cache._entries.values())


def test_ttl(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(cache_module, "_clock", lambda: now[0])
    cache = ClientCache(ttl=10)
    owner = _tracker(cache)
    _fill(cache, owner, b"k", b"v")
    now[0] += 9.9
    assert cache._lookup((b"GET", b"k")) == b"v"
    now[0] += 0.2
    assert cache._lookup((b"GET", b"k")) is cache_module.MISSING
    assert cache.stats()["evictions"] == 1 and cache.entries == 0 and cache.bytes == 0 and not owner.filled


def test_invalidation_drops_every_entry_of_the_key_and_pending_reads():
    cache = ClientCache()
    owner = _tracker(cache)
    _fill(cache, owner, b"h", [b"f", b"v"], name=b"HGETALL")
    _fill(cache, owner, b"h", 2, name=b"HLEN")
    _fill(cache, owner, b"other", b"v")
    pending = cache._begin_fill((b"GET", b"h"), b"h", owner, None, None)
    owner.on_push([b"invalidate", [b"h"]])
    assert cache.entries == 1 and cache.invalidations == 2
    assert pending(b"old") == b"old"   # the reply still reaches its caller...
    assert cache._lookup((b"GET", b"h")) is cache_module.MISSING   # ...but is not stored
    owner.on_push([b"invalidate", None])
    assert cache.entries == 0 and cache.bytes == 0 and not cache._by_key


def test_only_the_latest_of_concurrent_reads_stores():
    cache = ClientCache()
    owner = _tracker(cache)
    first = cache._begin_fill((b"GET", b"k"), b"k", owner, None, None)
    second = cache._begin_fill((b"GET", b"k"), b"k", owner, None, None)
    first(b"v1")
    assert cache.entries == 0
    second(b"v2")
    assert cache._lookup((b"GET", b"k")) == b"v2"
    # A read that crossed the stored one and disagrees with it: neither is trusted.
    third = cache._begin_fill((b"GET", b"k"), b"k", owner, None, None)
    fourth = cache._begin_fill((b"GET", b"k"), b"k", owner, None, None)
    fourth(b"v3")
    third(b"v4")
    assert cache.entries == 0


def test_lost_connection_drops_what_it_filled():
    cache = ClientCache()
    one, two = _tracker(cache), _tracker(cache)
    _fill(cache, one, b"a", b"1")
    _fill(cache, two, b"b", b"2")
    pending = cache._begin_fill((b"GET", b"c"), b"c", one, None, None)
    one.lost()
    assert cache._lookup((b"GET", b"a")) is cache_module.MISSING
    assert cache._lookup((b"GET", b"b")) == b"2"
    pending(b"3")   # arrived on the lost connection's tracking: never stored
    assert cache._lookup((b"GET", b"c")) is cache_module.MISSING
    assert one.conn not in cache._trackers


def test_copies_are_handed_out():
    cache = ClientCache()
    owner = _tracker(cache)
    fill = cache._begin_fill((b"HGETALL", b"h"), b"h", owner, "utf-8", None)
    assert fill([b"f", [b"nested"], 1, None]) == ["f", ["nested"], 1, None]
    stored = cache._lookup((b"HGETALL", b"h"))
    assert stored == [b"f", [b"nested"], 1, None]
    copy = cache_module.copy_reply(stored, None)
    copy[1].append(b"changed")
    assert cache._lookup((b"HGETALL", b"h")) == [b"f", [b"nested"], 1, None]


def test_memory_bounded_under_a_million_distinct_keys():
    cache = ClientCache(max_entries=1_000, max_bytes=200_000)
    owner = _tracker(cache)
    begin = cache._begin_fill
    for index in range(1_000_000):
        key = b"key:%d" % index
        begin((b"GET", key), key, owner, None, None)(b"value")
        if index % 100_000 == 0:
            assert cache.entries <= 1_000 and cache.bytes <= 200_000
    assert cache.entries <= 1_000 and cache.bytes <= 200_000
    assert len(cache._by_key) == cache.entries == len(owner.filled)
    assert not cache._pending
    # Reads that never come back (errors, cancelled) leave marks: those are bounded too.
    for index in range(100_000):
        key = b"lost:%d" % index
        begin((b"GET", key), key, owner, None, None)
    assert len(cache._pending) <= cache.max_entries


def test_cacheable_commands_are_read_only():
    assert "GET" in CACHEABLE and "HGETALL" in CACHEABLE and "ZRANGE" in CACHEABLE
    for name in ("SET", "DEL", "GETDEL", "GETEX", "SRANDMEMBER", "SPOP", "TTL", "PTTL", "HRANDFIELD",
                 "MGET", "BLPOP"):
        assert name not in CACHEABLE


# -- on real servers (RESP3) ---------------------------------------------------------------------

HANG = 10   # seconds: only guards against a hang, never part of what is checked


@pytest.fixture
async def other(create_redis):
    """A plain client (no cache) that changes keys behind the cached one's back."""
    client = await create_redis()
    await client.flushdb()
    return client


def _cached_factory(create_redis, create_redis_pool, parser=None):
    async def factory(pool=False, cache=None, address=None, **kwargs):
        cache = ClientCache() if cache is None else cache
        create = create_redis_pool if pool else create_redis
        return await create(address, protocol=3, client_cache=cache, parser=parser, **kwargs)

    return factory


@pytest.fixture
def cached(create_redis, create_redis_pool, parser):
    """Factory: ``await cached(pool=False, cache=None, address=None, **kw)`` -> a client with a
    cache, with each reader (for what the reader takes part in: replies, pushes, decoding)."""
    return _cached_factory(create_redis, create_redis_pool, parser)


@pytest.fixture
def cached_default(create_redis, create_redis_pool):
    """``cached`` with the default reader only (the cache's own logic)."""
    return _cached_factory(create_redis, create_redis_pool)


async def _sync(redis):
    """One round trip on every connection of ``redis``: pushes sent before it have arrived."""
    target = redis.connection
    conns = list(target._conns) if isinstance(target, aioredis_cy.ConnectionsPool) else [target]
    await asyncio.gather(*[conn.execute(b"PING") for conn in conns])


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _invalidation(key: bytes) -> bytes:
    return b">2\r\n$10\r\ninvalidate\r\n*1\r\n" + _bulk(key)


async def test_needs_protocol_3(create_redis, create_redis_pool, server):
    for create, direct in ((create_redis, aioredis_cy.create_redis),
                           (create_redis_pool, aioredis_cy.create_redis_pool)):
        with pytest.raises(ValueError, match="protocol=3"):
            await create(client_cache=ClientCache(), protocol=2)
        with pytest.raises(ValueError, match="protocol=3"):   # RESP2, the default
            await direct(server.tcp_address, client_cache=ClientCache())
        with pytest.raises(TypeError, match="ClientCache"):
            await create(client_cache={}, protocol=3)


async def test_one_cache_per_client(cached_default, other):
    cache = ClientCache()
    first = await cached_default(cache=cache)
    with pytest.raises(ValueError, match="another client"):
        await cached_default(cache=cache, pool=True)
    await other.set("k", "v")
    await first.get("k")
    first.close()
    await first.wait_closed()
    second = await cached_default(cache=cache, pool=True)   # taken over from a closed client: empty
    assert cache.entries == 0 and await second.get("k") == b"v" and cache.entries == 1


async def test_commands_factory_that_overrides_execute(cached_default):
    class Logged(aioredis_cy.Redis):
        def execute(self, command, *args, **kwargs):
            return super().execute(command, *args, **kwargs)

    with pytest.raises(ValueError, match="overrides"):
        await cached_default(commands_factory=Logged)
    await cached_default(commands_factory=type("Plain", (aioredis_cy.Redis,), {}))   # no override: fine


@pytest.mark.parametrize("pool", [False, True])
async def test_hits_decode_per_call_and_hand_out_copies(cached, other, pool):
    redis = await cached(pool=pool, encoding="utf-8")
    cache = redis.client_cache
    await other.set("k", "välue")
    await other.hset("h", "f", "v")
    await other.rpush("l", "a", "b")
    assert await redis.get("k") == "välue"
    assert cache.stats()["misses"] == 1 and cache.entries == 1
    assert await redis.get("k") == "välue"
    assert await redis.get(b"k", encoding=None) == "välue".encode()
    assert await redis.get("k", encoding="latin-1") == "välue".encode().decode("latin-1")
    assert cache.hits == 3 and cache.misses == 1
    first = await redis.hgetall("h")
    first["changed"] = True
    assert await redis.hgetall("h") == {"f": "v"}
    assert await redis.lrange("l", 0, -1) == await redis.lrange("l", 0, -1) == ["a", "b"]
    assert await redis.hget("h", "f") == await redis.hget("h", "f") == "v"
    assert await redis.exists("k") == await redis.exists("k") == 1
    assert await redis.exists("k", "h") == 2   # several keys: not cached
    assert cache.hits == 7 and cache.misses == 5
    with pytest.raises(LookupError):
        redis.get("k", encoding="no-such-codec")
    with pytest.raises(UnicodeDecodeError):
        await redis.get("k", encoding="ascii")   # a hit: decoded for this call, and it fails
    assert await redis.get("k") == "välue"


@pytest.mark.parametrize("pool", [False, True])
async def test_write_from_another_client_invalidates_within_one_round_trip(cached, other, pool):
    redis = await cached(pool=pool, minsize=1, maxsize=1) if pool else await cached()
    await other.set("k", "old")
    assert await redis.get("k") == b"old" and await redis.get("k") == b"old"
    await other.set("k", "new")
    await redis.ping()
    assert redis.client_cache.entries == 0 and redis.client_cache.invalidations == 1
    assert await redis.get("k") == b"new"


async def _read_overtaken_by_a_write(cached, other, fault_proxy):
    """A cached client behind a proxy that holds the reply to its GET of k (b"old") and the
    server's invalidation of k that another client's write made right after.

    Returns ``(redis, proxy, the read's future, reply bytes, push bytes)``, all held.
    """
    proxy = await fault_proxy()
    redis = await cached(address=proxy.address)
    await other.set("k", "old")
    proxy.hold()
    read = redis.get("k")
    reply = _bulk(b"old")
    await asyncio.wait_for(proxy.held(len(reply)), HANG)
    await other.set("k", "new")
    push = _invalidation(b"k")
    assert await asyncio.wait_for(proxy.held(len(reply + push)), HANG) == reply + push
    return redis, proxy, read, reply, push


async def test_invalidation_pushed_before_the_reply_wins(cached, other, fault_proxy):
    # Forced: the server's invalidation of k reaches the client ahead of the reply to the read of k.
    redis, proxy, read, reply, push = await _read_overtaken_by_a_write(cached, other, fault_proxy)
    proxy.release(push + reply)
    assert await asyncio.wait_for(read, HANG) == b"old"   # the value when the server read it...
    assert redis.client_cache.entries == 0   # ...never stored
    assert await redis.get("k") == b"new"


async def test_invalidation_right_behind_the_reply_wins(cached, other, fault_proxy):
    # Reply and invalidation arrive together: the reply is stored in the reply dispatch,
    # so the invalidation behind it drops it before the reader's task even runs.
    redis, proxy, read, _reply, _push = await _read_overtaken_by_a_write(cached, other, fault_proxy)
    proxy.release()
    assert await asyncio.wait_for(read, HANG) == b"old"
    await redis.ping()
    assert redis.client_cache.entries == 0
    assert await redis.get("k") == b"new"


async def test_concurrent_misses_with_an_invalidation_between(cached, other, fault_proxy):
    proxy = await fault_proxy()
    redis = await cached(address=proxy.address)
    await other.set("k", "old")
    proxy.hold()
    first = redis.get("k")
    await asyncio.wait_for(proxy.held(len(_bulk(b"old"))), HANG)
    await other.set("k", "new")
    second = redis.get("k")   # read by the server after the write
    expected = _bulk(b"old") + _invalidation(b"k") + _bulk(b"new")
    assert await asyncio.wait_for(proxy.held(len(expected)), HANG) == expected
    proxy.release()
    assert await asyncio.wait_for(asyncio.gather(first, second), HANG) == [b"old", b"new"]
    assert await redis.get("k") == b"new"
    await redis.ping()
    assert await redis.get("k") == b"new"


async def test_concurrent_misses_of_one_key(cached_default, other):
    redis = await cached_default(pool=True, minsize=4, maxsize=4)
    await other.set("k", "v")
    assert await asyncio.gather(*[redis.get("k") for _ in range(20)]) == [b"v"] * 20
    cache = redis.client_cache
    assert cache.misses == 20 and cache.entries == 1
    assert await redis.get("k") == b"v" and cache.hits == 1


async def test_lost_pool_connection_drops_what_it_filled(cached_default, other):
    redis = await cached_default(pool=True, minsize=2, maxsize=2)
    cache = redis.client_cache
    await other.mset("a", "1", "b", "2")
    with await redis as one, await redis as two:
        assert await one.get("a") == b"1" and await two.get("b") == b"2"
        victim = one.connection
        victim_id = await one.execute(b"CLIENT", b"ID")
    assert cache.entries == 2
    await other.execute(b"CLIENT", b"KILL", b"ID", victim_id)
    await asyncio.wait_for(victim.wait_closed(), HANG)
    assert victim not in cache._trackers
    assert cache._lookup((b"GET", b"a")) is cache_module.MISSING
    assert cache.entries == 1 and await redis.get("b") == b"2" and cache.hits == 1
    assert await redis.get("a") == b"1"


@pytest.mark.parametrize("how", ["proxy cut", "client kill"])
async def test_lost_connection_serves_no_hit_once_the_loss_is_known(cached, other, fault_proxy, how):
    # The entries go in the connection's own loss handling: the first code that can learn of
    # the loss (a callback of the command it failed) already misses.
    proxy = await fault_proxy()
    redis = await cached(address=proxy.address)
    cache = redis.client_cache
    await other.set("k", "v")
    assert await redis.get("k") == b"v" and await redis.get("k") == b"v" and cache.hits == 1
    victim_id = await redis.execute(b"CLIENT", b"ID")
    seen = []

    def read_at_loss(failed):
        seen.append((type(failed.exception()), cache.entries, cache._lookup((b"GET", b"k"))))
        try:
            redis.get("k")
        except aioredis_cy.ConnectionClosedError:
            pass   # not a hit: sent, and refused by the closed connection

    proxy.hold()
    in_flight = redis.execute(b"PING")
    in_flight.add_done_callback(read_at_loss)
    if how == "proxy cut":
        proxy.cut()
    else:
        await other.execute(b"CLIENT", b"KILL", b"ID", victim_id)
    with pytest.raises(aioredis_cy.ConnectionClosedError):
        await asyncio.wait_for(in_flight, HANG)
    assert seen == [(aioredis_cy.ConnectionClosedError, 0, cache_module.MISSING)]
    assert cache.hits == 1 and not cache._trackers


async def test_entries_dropped_as_soon_as_the_server_closes_its_side(cached, other):
    redis = await cached()
    cache = redis.client_cache
    await other.set("k", "v")
    assert await redis.get("k") == b"v" and cache.entries == 1
    transport = redis.connection._transport
    kill = other.execute(b"CLIENT", b"KILL", b"ID", await redis.execute(b"CLIENT", b"ID"))
    deadline = asyncio.get_running_loop().time() + HANG
    while not transport.is_closing():   # polled each loop turn: the first that can tell
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0)
    assert cache.entries == 0 and cache._lookup((b"GET", b"k")) is cache_module.MISSING
    assert await kill == 1


async def test_eviction_under_limits(cached_default, other):
    redis = await cached_default(cache=ClientCache(max_entries=3))
    await other.mset(*[part for index in range(5) for part in (f"k{index}", "v")])
    for index in range(5):
        await redis.get(f"k{index}")
    cache = redis.client_cache
    assert cache.entries == 3 and cache.evictions == 2
    await redis.get("k2")
    assert cache.hits == 1
    small = await cached_default(cache=ClientCache(max_bytes=2_000), pool=True)
    await other.set("big", "x" * 5_000)
    for index in range(5):
        await small.get(f"k{index}")
        assert small.client_cache.bytes <= 2_000
    assert await small.get("big") == b"x" * 5_000   # bigger than the cache: served, not stored
    assert small.client_cache._lookup((b"GET", b"big")) is cache_module.MISSING


async def test_ttl_on_a_server(cached_default, other, monkeypatch):
    now = [0.0]
    monkeypatch.setattr(cache_module, "_clock", lambda: now[0])
    redis = await cached_default(cache=ClientCache(ttl=5))
    await other.set("k", "v")
    await redis.get("k")
    await redis.get("k")
    now[0] = 6.0
    await redis.get("k")
    assert redis.client_cache.stats()["hits"] == 1 and redis.client_cache.misses == 2
    assert redis.client_cache.evictions == 1


async def test_own_writes_are_seen_at_once_on_a_pool(cached_default, other):
    redis = await cached_default(pool=True, minsize=4, maxsize=4)
    keys = [f"k{index}" for index in range(20)]
    await other.mset(*[part for key in keys for part in (key, "0")])
    for round_ in range(1, 4):
        assert await asyncio.gather(*[redis.get(key) for key in keys]) == [b"%d" % (round_ - 1)] * 20
        for key in keys:
            await redis.set(key, round_)
            assert await redis.get(key) == b"%d" % round_
    await redis.incr("k0")
    assert await redis.get("k0") == b"4"
    await redis.delete("k1")
    assert await redis.get("k1") is None
    pipe = redis.pipeline()
    pipe.set("k2", "piped")
    await pipe.execute()
    assert await redis.get("k2") == b"piped"
    tr = redis.multi_exec()
    tr.set("k3", "transacted")
    await tr.execute()
    assert await redis.get("k3") == b"transacted"
    await redis.hset("h", "f", "1")
    assert await redis.hget("h", "f") == b"1"
    await redis.hincrby("h", "f")
    assert await redis.hget("h", "f") == b"2" and await redis.hgetall("h") == {b"f": b"2"}


async def test_write_sent_before_the_read_replies(cached_default, other):
    # The read is answered by the server before the write (another connection of the pool):
    # its reply must not be stored once the write is done.
    redis = await cached_default(pool=True, minsize=2, maxsize=2)
    await other.set("k", "old")
    read = redis.get("k")
    write = redis.set("k", "new")
    assert await read in (b"old", b"new")
    await write
    assert await redis.get("k") == b"new"


async def test_many_connections_and_tasks(cached_default, other):
    redis = await cached_default(pool=True, minsize=10, maxsize=10)
    keys = [f"key:{index}" for index in range(100)]
    await other.mset(*[part for key in keys for part in (key, "0")])

    async def worker(offset):
        for step in range(30):
            key = keys[(offset * 7 + step) % len(keys)]
            if step % 10 == 9:
                await redis.incr(key)
            await redis.get(key)

    await asyncio.gather(*[worker(offset) for offset in range(20)])
    values = await other.mget(*keys)
    assert await asyncio.gather(*[redis.get(key) for key in keys]) == values
    await other.mset(*[part for key in keys for part in (key, "changed")])
    await _sync(redis)
    assert await asyncio.gather(*[redis.get(key) for key in keys]) == [b"changed"] * 100
    assert redis.client_cache.hits > 0


@pytest.mark.parametrize("pool", [False, True])
async def test_flushall(cached, other, pool):
    redis = await cached(pool=pool)
    await other.set("k", "v")
    await redis.get("k")
    flushed = redis.flushall()
    assert redis.client_cache.entries == 0   # at once, before the reply
    await flushed
    assert await redis.get("k") is None
    await other.set("k", "v2")
    await _sync(redis)
    assert await redis.get("k") == b"v2"
    await other.flushall()
    await _sync(redis)
    assert redis.client_cache.entries == 0
    assert await redis.get("k") is None


async def test_select_empties_the_cache(cached_default, other):
    redis = await cached_default()
    await other.set("k", "db0")
    assert await redis.get("k") == b"db0"
    await redis.select(1)
    assert await redis.get("k") is None
    await redis.select(0)
    assert await redis.get("k") == b"db0"


async def test_broadcast_mode_with_prefixes(cached, other):
    cache = ClientCache(mode="broadcast", prefixes=["user:"])
    redis = await cached(cache=cache, pool=True, minsize=2, maxsize=2)
    await other.mset("user:1", "a", "other", "b")
    for _ in range(2):
        assert await redis.get("user:1") == b"a" and await redis.get("other") == b"b"
    assert cache.hits == 1 and cache.entries == 1   # "other" is not announced: never stored
    await other.set("user:1", "changed")
    await _sync(redis)
    assert cache.entries == 0
    assert await redis.get("user:1") == b"changed"


async def test_cache_disabled(cached_default, other):
    redis = await cached_default()
    await other.set("k", "v")
    with redis.cache_disabled():
        assert await redis.get("k") == b"v"
    assert redis.client_cache.entries == 0
    await redis.get("k")
    with redis.cache_disabled():
        await redis.get("k")
    assert redis.client_cache.hits == 0


async def test_multi_on_a_single_connection_bypasses_the_cache(cached_default, other):
    redis = await cached_default()
    await other.set("k", "v")
    await redis.get("k")
    await redis.execute("MULTI")
    queued = redis.get("k")
    written = redis.set("k", "w")
    assert await redis.execute("EXEC") == [b"v", b"OK"]
    assert await queued == b"QUEUED" and await written == b"QUEUED"
    assert await redis.get("k") == b"w"


async def test_bounded_under_many_distinct_keys(cached_default):
    redis = await cached_default(cache=ClientCache(max_entries=500, max_bytes=100_000))
    cache = redis.client_cache
    for start in range(0, 20_000, 1_000):
        await asyncio.gather(*[redis.get(f"missing:{index}") for index in range(start, start + 1_000)])
        assert cache.entries <= 500 and cache.bytes <= 100_000
    assert len(cache._by_key) == cache.entries and not cache._pending
