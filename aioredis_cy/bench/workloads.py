"""The workloads: what each one sends, how it is set up, and how one run of it is timed.

A workload lists its *contenders* (a client on a loop, a reader class, or
redis-benchmark); one contender's ``measure(data)`` is one timed run. Set-up
(filling keys, building buffers) happens once per workload and is never timed.
"""
import asyncio
import gc
import re
import subprocess
import time
import urllib.parse
from dataclasses import asdict, dataclass, replace
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Tuple

import aioredis_cy
from aioredis_cy.parser import reader_class

from .clients import Client, ClientSpec, Runs, run_on

PREFIX = "aioredis_cy:bench:"
SMALL_KEY = PREFIX + "small"
SMALL_VALUE = b"0123456789abcdef"
LIST_KEY = PREFIX + "list"
HASH_KEY = PREFIX + "hash"
BIG_KEY = PREFIX + "big"
MIXED_HASH = PREFIX + "mixed:hash"
MIXED_FIELDS = 10  # HGETALL size in the mixed batch
MIXED_TTL = 3_600  # EXPIRE seconds in the mixed batch
CHANNEL = PREFIX + "channel"
PAYLOAD = b"message-payload-0123456789"
ELEMENTS = 1_000  # LRANGE and HGETALL reply sizes
BIG_SIZE = 1 << 20  # GET of 1 MiB
WINDOW = 1_000  # commands in flight on one connection (b, e)
TASKS = 50  # tasks sharing the pool (c)
POOL_SIZE = 10
PUBSUB_LAG = 20_000  # most messages the publisher may run ahead of the subscriber
REFERENCE_PIPELINE = 100  # redis-benchmark -P
REFERENCE_KEY = "key:__rand_int__"  # what redis-benchmark writes without -r
HOT_KEYS = [f"{PREFIX}hot:{index}" for index in range(1_000)]  # h: read 100 times per write
CACHED_FACTOR = 20  # h.cache does this many times the operations of h (it is that much faster)


@dataclass(frozen=True)
class Sizes:
    """How many operations one run of each workload does."""

    sequential: int  # a
    pipelined: int  # b, each of SET and GET
    pool: int  # c, over all tasks
    aggregate: int  # d, LRANGE/HGETALL calls
    big: int  # d, 1 MiB GETs
    pubsub: int  # e, messages
    replies: int  # f, replies in the buffer
    parse_time: float  # f, seconds one run parses the buffer for, at least (once at 0)
    reference: int  # g, redis-benchmark -n


def scaled(sizes: Sizes, factor: float) -> Sizes:
    """``sizes`` with every count multiplied by ``factor`` (at least 1); the parse time stays."""
    counts = {name: max(1, round(value * factor)) for name, value in asdict(sizes).items()
              if isinstance(value, int)}
    return replace(sizes, **counts)


FULL = Sizes(sequential=10_000, pipelined=200_000, pool=10_000, aggregate=1_000, big=100,
             pubsub=100_000, replies=100_000, parse_time=0.5, reference=200_000)
QUICK = Sizes(sequential=200, pipelined=2_000, pool=500, aggregate=20, big=3, pubsub=2_000,
              replies=2_000, parse_time=0.0, reference=2_000)


@dataclass(frozen=True)
class Sample:
    """One timed run: operations done, wall-clock seconds and process CPU seconds."""

    ops: int
    wall: float
    cpu: float


@dataclass(frozen=True)
class Contender:
    """Something one workload times: a client on a loop, a reader, or redis-benchmark."""

    client: str
    loop: str
    measure: Callable[[Any], Sample]


@dataclass
class Env:
    """What the workloads run against and with."""

    url: str
    clients: List[ClientSpec]
    loops: Dict[str, Callable[[], asyncio.AbstractEventLoop]]
    sizes: Sizes
    redis_benchmark: Optional[str]
    cluster: Optional[List[Tuple[str, int]]] = None   # startup nodes of the cluster workloads


class Workload:
    """Base: an id (``b.set``), a title for the table and a note on how peers differ."""

    id = ""
    title = ""
    note = ""

    def unavailable(self, env: Env) -> Optional[str]:
        """Why the workload cannot run here, or None."""
        return None

    def skipped(self, env: Env) -> Dict[str, str]:
        """The clients of ``env`` left out of this workload, and why (the others are contenders)."""
        return {}

    def contenders(self, env: Env) -> List[Contender]:
        raise NotImplementedError

    def prepare(self, env: Env) -> Any:
        """Untimed set-up, once per workload; returns what ``measure`` gets."""
        raise NotImplementedError


# --- a-e: a client talking to the server -----------------------------------------------------------


async def with_redis(url: str, action: Callable[[Any], Awaitable[Any]]) -> Any:
    """``action(redis)`` on an aioredis_cy connection opened for it (set-up and clean-up work)."""
    redis = await aioredis_cy.create_redis(url)
    try:
        return await action(redis)
    finally:
        redis.close()
        await redis.wait_closed()


def _chunks(items: List[Any], size: int = WINDOW) -> List[List[Any]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def _runs_of(name: str, arglists: List[tuple]) -> List[Runs]:
    """``name`` once per argument tuple, WINDOW calls per batch: one run per batch."""
    return [[(name, chunk)] for chunk in _chunks(arglists)]


def _mixed(count: int) -> List[Runs]:
    """SET, INCR, HGETALL (of MIXED_FIELDS), EXPIRE on per-group keys, repeated; WINDOW calls per batch."""
    calls = []
    for key in _keys(count // 4):
        calls += [("set", [(key, SMALL_VALUE)]), ("incr", [(key + ":n",)]), ("hgetall", [(MIXED_HASH,)]),
                  ("expire", [(key, MIXED_TTL)])]
    return _chunks(calls)


def _keys(count: int) -> List[str]:
    return [f"{PREFIX}k:{index}" for index in range(count)]


class ClientWorkload(Workload):
    """A workload run by every client on every loop.

    ``body(client, data)`` is the timed part, ``data(sizes)`` what it gets (by default
    its count of operations); ``fill(redis, sizes)`` stores what it reads (with
    aioredis_cy, before the runs); ``expect`` checks the last reply.
    """

    def __init__(self, id: str, title: str, count: Callable[[Sizes], int],
                 body: Callable[[Client, Any], Awaitable[Any]], *,
                 data: Optional[Callable[[Sizes], Any]] = None,
                 fill: Optional[Callable[[Any, Sizes], Awaitable[None]]] = None,
                 expect: Optional[Callable[[Any], bool]] = None,
                 note: str = "", **open_options: Any) -> None:
        self.id, self.title, self.note = id, title, note
        self.count, self.body, self.data = count, body, data or count
        self.fill, self.expect, self.open_options = fill, expect, open_options

    def prepare(self, env):
        fill = self.fill
        if fill is not None:
            run_on(asyncio.new_event_loop, lambda: with_redis(env.url, lambda r: fill(r, env.sizes)))
        return self.data(env.sizes)

    def skipped(self, env):
        return {spec.name: spec.lacks[option] for spec in env.clients for option, value in
                self.open_options.items() if value and option in spec.lacks}

    def contenders(self, env):
        skipped = self.skipped(env)
        return [Contender(spec.name, loop_name, self._measurer(env, spec, new_loop))
                for loop_name, new_loop in env.loops.items() for spec in env.clients
                if spec.name not in skipped]

    def _measurer(self, env, spec, new_loop):
        ops = self.count(env.sizes)

        async def timed(data):
            client = spec.create()
            await self.open(client, env)
            try:
                gc.collect()
                wall, cpu = time.perf_counter(), time.process_time()
                last = await self.body(client, data)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            finally:
                await client.close()
            if self.expect is not None and not self.expect(last):
                raise RuntimeError(f"unexpected reply {str(last)[:80]}")
            return Sample(ops, wall, cpu)

        return lambda data: run_on(new_loop, lambda: timed(data))

    async def open(self, client: Client, env: Env) -> None:
        await client.open(env.url, **self.open_options)


def _repeat(name: str, *args: Any) -> Callable[[Client, int], Awaitable[Any]]:
    """Body: ``name(*args)`` awaited ``count`` times in a row; returns the last reply."""

    async def body(client, count):
        call = client.command(name)
        reply = None
        for _ in range(count):
            reply = await call(*args)
        return reply

    return body


async def _batched(client: Client, batches: List[Runs]) -> None:
    """Body: each batch's calls in flight at once, batch after batch."""
    for runs in batches:
        await client.batch(runs)


def _pipelined(transaction: bool) -> Callable[[Client, List[Runs]], Awaitable[None]]:
    """Body: each batch's calls through one explicit pipeline (or MULTI/EXEC), in turn."""

    async def body(client, batches):
        for runs in batches:
            await client.pipeline(runs, transaction)

    return body


async def _hot_reads(client: Client, count: int) -> Any:
    """Body: GETs of the hot keys in turn, awaited one by one; every 101st operation a SET."""
    get, set_ = client.command("get"), client.command("set")
    reply = None
    for index in range(count):
        key = HOT_KEYS[index % len(HOT_KEYS)]
        if index % 101 == 100:
            await set_(key, SMALL_VALUE)
        else:
            reply = await get(key)
    return reply


async def _fill_hot(redis, sizes):
    await redis.mset(*[part for key in HOT_KEYS for part in (key, SMALL_VALUE)])


class CachedWorkload(ClientWorkload):
    """A ClientWorkload run by aioredis_cy alone, with a ClientCache (RESP3)."""

    def skipped(self, env):
        return {spec.name: "no client-side cache here: see h for it without one"
                for spec in env.clients if spec.name != "aioredis_cy"}


async def _shared_pool(client: Client, count: int) -> None:
    get = client.command("get")

    async def task():
        for _ in range(count // TASKS):
            await get(SMALL_KEY)

    await asyncio.gather(*[task() for _ in range(TASKS)])


class _Received:
    """Counts the subscriber's messages; the publisher waits on it to bound its lead."""

    def __init__(self) -> None:
        self.count = 0
        self.target = 0
        self.waiter: Optional[asyncio.Future] = None

    def add(self) -> None:
        self.count += 1
        if self.waiter is not None and self.count >= self.target:
            self.waiter.set_result(None)
            self.waiter = None

    async def reach(self, target: int) -> None:
        if self.count < target:
            self.target = target
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter


async def _pubsub(client: Client, batches: List[Runs]) -> None:
    received = _Received()
    total = sum(len(arglists) for runs in batches for _, arglists in runs)

    async def publish():
        sent = 0
        for runs in batches:
            await received.reach(sent - PUBSUB_LAG)
            await client.batch(runs)
            sent += sum(len(arglists) for _, arglists in runs)

    async def subscribe():
        for _ in range(total):
            if await client.receive() is None:
                raise RuntimeError("the subscription ended early")
            received.add()

    tasks = [asyncio.ensure_future(publish()), asyncio.ensure_future(subscribe())]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()


def _items_of(kind: type) -> Callable[[Any], bool]:
    """Check: ELEMENTS items (a dict's keys for HGETALL), each of type ``kind``."""
    return lambda reply: len(reply) == ELEMENTS and all(isinstance(item, kind) for item in reply)


def _value_of(kind: type) -> Callable[[Any], bool]:
    """Check: one value of BIG_SIZE, of type ``kind``."""
    return lambda reply: isinstance(reply, kind) and len(reply) == BIG_SIZE


async def _fill_list(redis, sizes):
    await redis.delete(LIST_KEY)
    await redis.rpush(LIST_KEY, *[f"element:{index:06d}" for index in range(ELEMENTS)])


async def _fill_hash(redis, sizes):
    await redis.delete(HASH_KEY)
    fields = [part for index in range(ELEMENTS) for part in (f"field:{index:06d}", f"value:{index:06d}")]
    await redis.execute(b"HSET", HASH_KEY, *fields)


async def _fill_big(redis, sizes):
    await redis.set(BIG_KEY, (b"0123456789abcdef" * (BIG_SIZE // 16)))


async def _fill_small(redis, sizes):
    await redis.set(SMALL_KEY, SMALL_VALUE)


async def _fill_mixed(redis, sizes):
    await redis.delete(MIXED_HASH)
    await redis.hmset_dict(MIXED_HASH, {f"field:{index}": f"value:{index}" for index in range(MIXED_FIELDS)})


async def _fill_keys(redis, sizes):
    keys = _keys(sizes.pipelined)
    for start in range(0, len(keys), WINDOW):
        await asyncio.gather(*[redis.set(key, SMALL_VALUE) for key in keys[start:start + WINDOW]])


MIXED = "4-command mix"


def _mixed_count(sizes: Sizes) -> int:
    return sizes.pipelined // 4 * 4


def _client_workloads() -> List[Workload]:
    batching = ("redis-py: explicit pipeline(transaction=False) of 1,000 commands per batch "
                "(it has no automatic pipelining); the others: 1,000 concurrent calls gathered; "
                f"the mix (b.mixed, b.pipeline.mixed): SET, INCR, HGETALL of {MIXED_FIELDS} fields, EXPIRE, "
                "repeated")
    explicit = ("aioredis APIs: pipeline() / multi_exec(), 1,000 calls then one execute(); "
                "redis-py: pipeline(transaction=False / True); coredis: pipeline(transaction=False / True), "
                "run on leaving its async with; valkey-glide: exec() of a Batch(is_atomic=False / True)")
    workloads: List[Workload] = [
        ClientWorkload("a", "GET, sequential, 1 connection", lambda s: s.sequential,
                       _repeat("get", SMALL_KEY), fill=_fill_small,
                       expect=lambda reply: reply == SMALL_VALUE),
        ClientWorkload("b.set", "SET, 1,000 in flight, 1 connection", lambda s: s.pipelined, _batched,
                       data=lambda s: _runs_of("set", [(k, SMALL_VALUE) for k in _keys(s.pipelined)]),
                       fill=_fill_keys, note=batching),
        ClientWorkload("b.get", "GET, 1,000 in flight, 1 connection", lambda s: s.pipelined, _batched,
                       data=lambda s: _runs_of("get", [(k,) for k in _keys(s.pipelined)]),
                       fill=_fill_keys, note=batching),
        ClientWorkload("b.mixed", f"{MIXED}, 1,000 in flight, 1 connection", _mixed_count, _batched,
                       data=lambda s: _mixed(s.pipelined), fill=_fill_mixed, note=batching),
        ClientWorkload("b.pipeline.set", "SET, pipeline() of 1,000, 1 connection", lambda s: s.pipelined,
                       _pipelined(False),
                       data=lambda s: _runs_of("set", [(k, SMALL_VALUE) for k in _keys(s.pipelined)]),
                       fill=_fill_keys, note=explicit),
        ClientWorkload("b.pipeline.get", "GET, pipeline() of 1,000, 1 connection", lambda s: s.pipelined,
                       _pipelined(False), data=lambda s: _runs_of("get", [(k,) for k in _keys(s.pipelined)]),
                       fill=_fill_keys, note=explicit),
        ClientWorkload("b.pipeline.mixed", f"{MIXED}, pipeline() of 1,000, 1 connection", _mixed_count,
                       _pipelined(False), data=lambda s: _mixed(s.pipelined), fill=_fill_mixed,
                       note=explicit),
        ClientWorkload("b.multi_exec", "SET, multi_exec() of 1,000, 1 connection", lambda s: s.pipelined,
                       _pipelined(True),
                       data=lambda s: _runs_of("set", [(k, SMALL_VALUE) for k in _keys(s.pipelined)]),
                       fill=_fill_keys, note=explicit),
        ClientWorkload("c", f"GET, {TASKS} tasks, pool of {POOL_SIZE}", lambda s: s.pool // TASKS * TASKS,
                       _shared_pool, fill=_fill_small, pool_size=POOL_SIZE,
                       note="aioredis APIs: create_redis_pool(minsize=10, maxsize=10); redis-py: "
                            "BlockingConnectionPool(max_connections=10); 10 connections open before timing; "
                            "coredis: max_connections=10, opened on demand; valkey-glide: one multiplexed "
                            "client"),
    ]
    reads = [
        ("lrange", f"LRANGE of {ELEMENTS:,}", _repeat("lrange", LIST_KEY, 0, -1), _fill_list, _items_of,
         lambda s: s.aggregate),
        ("hgetall", f"HGETALL of {ELEMENTS:,}", _repeat("hgetall", HASH_KEY), _fill_hash, _items_of,
         lambda s: s.aggregate),
        ("get1m", "GET of 1 MiB", _repeat("get", BIG_KEY), _fill_big, _value_of, lambda s: s.big),
    ]
    for name, title, body, fill, check, count in reads:
        for decode, kind in ((False, bytes), (True, str)):
            workloads.append(ClientWorkload(
                f"d.{name}.{kind.__name__}", f"{title}, as {kind.__name__}", count, body,
                fill=fill, expect=check(kind), decode=decode,
                note="decoding: aioredis APIs create_redis(encoding='utf-8'); "
                     "redis-py and coredis decode_responses=True; valkey-glide returns bytes only"))
    hot = "GET of 1,000 hot keys, 100 reads per write, sequential, 1 connection"
    workloads.append(ClientWorkload(
        "h", hot, lambda s: s.sequential, _hot_reads, fill=_fill_hot,
        expect=lambda reply: reply == SMALL_VALUE, note="no client-side cache; compare with h.cache"))
    workloads.append(CachedWorkload(
        "h.cache", f"{hot}, client-side cache", lambda s: s.sequential * CACHED_FACTOR, _hot_reads,
        fill=_fill_hot, expect=lambda reply: reply == SMALL_VALUE, client_cache=True,
        note=f"aioredis_cy only: create_redis(protocol=3, client_cache=ClientCache()); "
             f"{CACHED_FACTOR}x the operations of h"))
    workloads.append(ClientWorkload(
        "e", "pub/sub messages, end to end", lambda s: s.pubsub, _pubsub,
        data=lambda s: _runs_of("publish", [(CHANNEL, PAYLOAD)] * s.pubsub), subscribe=CHANNEL,
        note="one publisher sending 1,000 PUBLISH at a time (redis-py: explicit pipeline), one subscriber "
             "(aioredis APIs: Channel.get(); redis-py and coredis: PubSub.get_message(); valkey-glide: "
             f"get_pubsub_message()); publisher at most {PUBSUB_LAG:,} messages ahead"))
    return workloads


# --- cluster: a local cluster of 3 primaries (and 3 replicas) ----------------------------------------

CLUSTER_PIPELINE = 10_000  # commands in one cross-slot pipeline


async def with_cluster(startup_nodes: Sequence[Tuple[str, int]],
                       action: Callable[[Any], Awaitable[Any]]) -> Any:
    """``action(redis)`` on an aioredis_cy cluster client opened for it."""
    redis = await aioredis_cy.create_redis_cluster(list(startup_nodes))
    try:
        return await action(redis)
    finally:
        redis.close()
        await redis.wait_closed()


class ClusterWorkload(ClientWorkload):
    """A ClientWorkload against the cluster, run by the clients that have a cluster client."""

    def unavailable(self, env):
        if env.cluster is None:
            return "no cluster: run without --url (a local one is started) or give --cluster HOST:PORT"
        return None

    def prepare(self, env):
        fill, nodes = self.fill, env.cluster or []
        if fill is not None:
            run_on(asyncio.new_event_loop, lambda: with_cluster(nodes, lambda r: fill(r, env.sizes)))
        return self.data(env.sizes)

    def skipped(self, env):
        return {spec.name: "no cluster client in this benchmark's adapter" for spec in env.clients
                if not spec.create().supports_cluster}

    async def open(self, client, env):
        await client.open_cluster(env.cluster or [])


async def _tasks_over_keys(client: Client, keys: List[str]) -> None:
    """Body: TASKS tasks, each GETting its share of ``keys`` one after the other."""
    get = client.command("get")

    async def task(start):
        for index in range(start, len(keys), TASKS):
            await get(keys[index])

    await asyncio.gather(*[task(start) for start in range(TASKS)])


def _cluster_workloads() -> List[Workload]:
    where = "over all slots, 3 primaries"
    batching = ("a local cluster of 3 primaries and 3 replicas, each client given one startup node; "
                "aioredis_cy: create_redis_cluster (one shared pool per node), 1,000 concurrent calls "
                "gathered; redis-py: redis.asyncio.cluster.RedisCluster, explicit "
                "pipeline(transaction=False) of 1,000 per batch (it has no automatic pipelining); coredis: "
                "coredis.RedisCluster and valkey-glide: GlideClusterClient, 1,000 concurrent calls gathered")
    return [
        ClusterWorkload("cluster.set", f"SET, 1,000 in flight {where}", lambda s: s.pipelined, _batched,
                        data=lambda s: _runs_of("set", [(k, SMALL_VALUE) for k in _keys(s.pipelined)]),
                        fill=_fill_keys, note=batching),
        ClusterWorkload("cluster.get", f"GET, 1,000 in flight {where}", lambda s: s.pipelined, _batched,
                        data=lambda s: _runs_of("get", [(k,) for k in _keys(s.pipelined)]),
                        fill=_fill_keys, note=batching),
        ClusterWorkload("cluster.c", f"GET, {TASKS} tasks {where}", lambda s: s.pool,
                        _tasks_over_keys, data=lambda s: _keys(s.pool), fill=_fill_keys,
                        note=f"{TASKS} tasks each awaiting one GET at a time; aioredis_cy: one shared pool "
                             "per node; redis-py: RedisCluster's connection per command in flight; coredis: "
                             "its cluster pool (max_connections=32, its default); valkey-glide: one "
                             "multiplexed connection per node"),
        ClusterWorkload("cluster.pipeline", f"GET, pipeline() of {CLUSTER_PIPELINE:,} {where}",
                        lambda s: s.pipelined, _pipelined(False),
                        data=lambda s: [[("get", chunk)] for chunk in
                                        _chunks([(k,) for k in _keys(s.pipelined)], CLUSTER_PIPELINE)],
                        fill=_fill_keys,
                        note="one pipeline per 10,000 commands, then run: aioredis_cy and redis-py "
                             "pipeline() then execute(); coredis: pipeline(transaction=False), run on "
                             "leaving its async with; valkey-glide: exec() of a "
                             "ClusterBatch(is_atomic=False); each groups the commands per node"),
    ]


# --- f: the reader alone ---------------------------------------------------------------------------

_REPLY_MIX = (
    b"+OK\r\n",
    b":1234567\r\n",
    b"$5\r\nhello\r\n",
    b"$-1\r\n",
    b"$100\r\n" + b"v" * 100 + b"\r\n",
    b"*3\r\n$3\r\nfoo\r\n$3\r\nbar\r\n:42\r\n",
    b"-ERR unknown command\r\n",
    b"*2\r\n*2\r\n:1\r\n:2\r\n$4\r\nlast\r\n",
    b"$1000\r\n" + b"w" * 1000 + b"\r\n",
    b"*4\r\n$6\r\nfield1\r\n$6\r\nvalue1\r\n$6\r\nfield2\r\n$-1\r\n",
)


def _readers() -> Dict[str, type]:
    """The reader classes on this machine by the name shown in the table."""
    readers = {}
    for shown, name in (("aioredis_cy", "cython"), ("hiredis", "hiredis"), ("PyReader", "python")):
        try:
            readers[shown] = reader_class(name)
        except ImportError:
            pass
    return readers


def _read_all(reader_class: type, buffer: bytes, count: int, chunk: int, parse_time: float) -> Sample:
    """Parse ``buffer`` with a new reader, fed ``chunk`` bytes at a time, again and again
    until ``parse_time`` has passed (a short run is at the mercy of the scheduler)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    parsed = 0
    while not parsed or time.perf_counter() - wall < parse_time:
        reader = reader_class()
        feed, gets = reader.feed, reader.gets
        replies = 0
        for offset in range(0, len(buffer), chunk):
            feed(buffer, offset, min(chunk, len(buffer) - offset))
            while gets() is not False:
                replies += 1
        if replies != count:
            raise RuntimeError(f"parsed {replies} replies, expected {count}")
        parsed += replies
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Sample(parsed, wall, cpu)


class ReaderWorkload(Workload):
    """The RESP reader alone on a buffer of mixed replies: fed at once, or in socket-sized chunks."""

    note = ("aioredis_cy._resp.Reader vs hiredis.Reader vs aioredis_cy.parser.PyReader, no I/O, "
            "no event loop ('-'), not filtered by --clients; f.once: one feed() of the whole buffer, then "
            "gets() until done; f.chunks: feed() 64 KiB at a time, gets() until done after each; "
            "a run parses the buffer with new readers for 0.5 s at least")

    def __init__(self, chunk: Optional[int]) -> None:
        self.chunk = chunk
        self.id = "f.chunks" if chunk else "f.once"
        how = f"fed {chunk // 1024} KiB at a time" if chunk else "fed at once"
        self.title = f"reader alone, mixed replies, {how}"

    def prepare(self, env):
        count = env.sizes.replies
        return count, b"".join(_REPLY_MIX[index % len(_REPLY_MIX)] for index in range(count))

    def contenders(self, env):
        def measurer(reader):
            return lambda data: _read_all(reader, data[1], data[0], self.chunk or len(data[1]),
                                          env.sizes.parse_time)

        return [Contender(name, "-", measurer(reader)) for name, reader in _readers().items()]


# --- g: redis-benchmark as the physical reference --------------------------------------------------

_RPS = re.compile(r"^([A-Z]+): ([0-9.]+) requests per second", re.MULTILINE)


def benchmark_connection_args(url: str) -> List[str]:
    """redis-benchmark's options that reach the server at ``url`` (redis:// or unix://)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    if parts.scheme == "redis":
        args = ["-h", parts.hostname or "localhost", "-p", str(parts.port or 6379)]
        db = parts.path.strip("/") or query.get("db", [""])[0]
    elif parts.scheme == "unix":
        args, db = ["-s", parts.path], query.get("db", [""])[0]
    else:
        raise ValueError(f"redis-benchmark is run for redis:// and unix:// URLs only, not {parts.scheme}://")
    if parts.username:
        args += ["--user", urllib.parse.unquote(parts.username)]
    password = parts.password or query.get("password", [None])[0]
    if password:
        args += ["-a", urllib.parse.unquote(password)]
    if db:
        args += ["--dbnum", db]
    return args


def _children_cpu() -> float:
    import resource  # Unix only, like redis-benchmark

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_benchmark(command: List[str], test: str, count: int) -> Sample:
    cpu = _children_cpu()
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    cpu = _children_cpu() - cpu
    rates = dict(_RPS.findall(result.stdout.replace("\r", "\n")))
    if test.upper() not in rates:
        raise RuntimeError(f"no '{test.upper()}: ... requests per second' in {result.stdout[-200:]!r}")
    return Sample(count, count / float(rates[test.upper()]), cpu)


class ReferenceWorkload(Workload):
    """``redis-benchmark -c 1 -P DEPTH -t TEST -n N -q`` on the same server (DEPTH 100 unless given)."""

    note = (f"redis-benchmark -c 1 -P {REFERENCE_PIPELINE} (or -P 1000) -q (C, that many in flight); "
            "rate as it reports it; CPU of the redis-benchmark process")

    def __init__(self, test: str, depth: int = REFERENCE_PIPELINE) -> None:
        self.test, self.depth = test, depth
        self.id = f"g.{test}" if depth == REFERENCE_PIPELINE else f"g.{test}.p{depth}"
        self.title = f"redis-benchmark {test.upper()}, -P {depth}"

    def unavailable(self, env):
        if env.redis_benchmark is None:
            return "redis-benchmark not installed (Debian/Ubuntu package redis-tools)"
        try:
            benchmark_connection_args(env.url)
        except ValueError as exc:
            return str(exc)
        return None

    def prepare(self, env):
        return None

    def contenders(self, env):
        count = env.sizes.reference
        command = [env.redis_benchmark or "redis-benchmark", *benchmark_connection_args(env.url), "-c", "1",
                   "-P", str(self.depth), "-t", self.test, "-n", str(count), "-q"]
        return [Contender("redis-benchmark", "-", lambda data: _run_benchmark(command, self.test, count))]


def all_workloads() -> List[Workload]:
    """Every workload, in table order."""
    return [*_client_workloads(), *_cluster_workloads(), ReaderWorkload(None), ReaderWorkload(1 << 16),
            ReferenceWorkload("set"), ReferenceWorkload("get"),
            ReferenceWorkload("set", 1_000), ReferenceWorkload("get", 1_000)]


async def delete_bench_keys(redis: Any) -> None:
    """Remove what the workloads stored (with --url the server is not ours to flush)."""
    cursor = b"0"
    while True:
        cursor, keys = await redis.execute(b"SCAN", cursor, b"MATCH", PREFIX + "*", b"COUNT", 1000)
        if keys:
            await redis.execute(b"UNLINK", *keys)
        if cursor == b"0":
            break
    await redis.execute(b"DEL", REFERENCE_KEY)
