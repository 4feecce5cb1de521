"""The clients under test behind one small interface, and the event loops they run on.

aioredis_cy and aioredis 1.x share an API, so one adapter drives both; redis-py's
``redis.asyncio``, coredis and valkey-glide have one each. Discovery imports each
peer and says why one that cannot run is left out.
"""
import asyncio
import contextlib
import functools
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import aioredis_cy

Args = Tuple[Any, ...]
Runs = Sequence[Tuple[str, Sequence[Args]]]  # (command name, one argument tuple per call), in order
Lookup = Callable[[Any, str], Callable[..., Any]]


def _issued(target: Any, runs: Runs, lookup: Lookup = getattr) -> List[Any]:
    """Every call of ``runs`` made on ``target``, in order: the awaitables they returned."""
    return [method(*args) for name, arglists in runs for method in (lookup(target, name),)
            for args in arglists]


def _buffered(pipe: Any, runs: Runs, lookup: Lookup = getattr) -> None:
    """Every call of ``runs`` made on an explicit pipeline or batch; what the calls return is dropped."""
    for name, arglists in runs:
        method = lookup(pipe, name)
        for args in arglists:
            method(*args)


class Client:
    """One client library, driven through the few operations the workloads need.

    ``open`` connects (one connection, or a pool of ``pool_size``), and with
    ``subscribe`` also opens a subscriber whose next message ``receive()`` awaits.
    ``batch`` and ``pipeline`` take *runs*: ``(name, argument tuples)`` pairs, one
    call per tuple, in order (one run for a single command, many for a mix).
    """

    redis: Any  # what ``open`` connected: the commands are its methods
    receive: Callable[[], Awaitable[Any]]

    async def open(self, url: str, *, decode: bool = False, pool_size: Optional[int] = None,
                   subscribe: Optional[str] = None) -> None:
        raise NotImplementedError

    def method(self, target: Any, name: str) -> Callable[..., Any]:
        """Command ``name`` of the client or of one of its pipelines, called with Redis's argument order."""
        return getattr(target, name)

    def command(self, name: str) -> Callable[..., Awaitable[Any]]:
        """The coroutine function (or future-returning method) for one command."""
        return self.method(self.redis, name)

    async def batch(self, runs: Runs) -> None:
        """Run every call with all of them in flight at once (concurrent calls, gathered)."""
        await asyncio.gather(*_issued(self.redis, runs, self.method))

    async def pipeline(self, runs: Runs, transaction: bool) -> None:
        """Run every call through the client's explicit pipeline (or MULTI/EXEC)."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    # Cluster clients (the cluster workloads) also have these.
    supports_cluster = False

    async def open_cluster(self, startup_nodes: Sequence[Tuple[str, int]]) -> None:
        """Connect to the cluster at ``startup_nodes``; ``command``/``batch``/``pipeline`` then use it."""
        raise NotImplementedError


class AioredisApi(Client):
    """aioredis 1.x API (aioredis_cy or aioredis itself): concurrent calls pipeline automatically."""

    def __init__(self, module: Any, **options: Any) -> None:
        self.module = module
        self.options = options   # more keywords for the factories (aioredis_cy's protocol=3)
        self.opened: List[Any] = []

    async def open(self, url, *, decode=False, pool_size=None, subscribe=None, client_cache=False):
        encoding = "utf-8" if decode else None
        if client_cache:   # aioredis_cy only
            self.redis = await self.module.create_redis(url, encoding=encoding, protocol=3,
                                                        client_cache=self.module.ClientCache())
        elif pool_size:
            self.redis = await self.module.create_redis_pool(url, encoding=encoding, minsize=pool_size,
                                                             maxsize=pool_size, **self.options)
        else:
            self.redis = await self.module.create_redis(url, encoding=encoding, **self.options)
        self.opened.append(self.redis)
        if subscribe is not None:
            subscriber = await self.module.create_redis(url, encoding=encoding, **self.options)
            self.opened.append(subscriber)
            (channel,) = await subscriber.subscribe(subscribe)
            self.receive = channel.get

    async def pipeline(self, runs, transaction):
        pipe = self.redis.multi_exec() if transaction else self.redis.pipeline()
        _buffered(pipe, runs)
        await pipe.execute()

    async def close(self):
        for redis in self.opened:
            redis.close()
        for redis in self.opened:
            await redis.wait_closed()

    @property
    def supports_cluster(self):
        return hasattr(self.module, "create_redis_cluster")

    async def open_cluster(self, startup_nodes):
        # One shared pool per node: concurrent calls pipeline on its connection.
        self.redis = await self.module.create_redis_cluster(list(startup_nodes), **self.options)
        self.opened.append(self.redis)


class RedisPy(Client):
    """redis-py's ``redis.asyncio``: no automatic pipelining, so batches use an explicit pipeline."""

    def __init__(self) -> None:
        self.pubsubs: List[Any] = []

    async def open(self, url, *, decode=False, pool_size=None, subscribe=None):
        from redis import asyncio as aredis

        if pool_size:
            # The plain ConnectionPool raises once max_connections are busy; the blocking one waits.
            pool = aredis.BlockingConnectionPool.from_url(url, max_connections=pool_size,
                                                          decode_responses=decode)
            self.redis = aredis.Redis.from_pool(pool)
            await asyncio.gather(*[self.redis.ping() for _ in range(pool_size)])
        else:
            self.redis = aredis.Redis.from_url(url, decode_responses=decode, single_connection_client=True)
            await self.redis.ping()
        if subscribe is not None:
            pubsub = self.redis.pubsub()
            self.pubsubs.append(pubsub)
            await pubsub.subscribe(subscribe)
            await pubsub.get_message(timeout=None)  # the subscribe confirmation
            self.receive = functools.partial(pubsub.get_message, timeout=None)

    async def batch(self, runs):
        await self.pipeline(runs, False)

    async def pipeline(self, runs, transaction):
        pipe = self.redis.pipeline(transaction=transaction)
        _buffered(pipe, runs)
        await pipe.execute()

    async def close(self):
        for pubsub in self.pubsubs:
            await pubsub.aclose()
        await self.redis.aclose()

    supports_cluster = True

    async def open_cluster(self, startup_nodes):
        from redis.asyncio.cluster import ClusterNode, RedisCluster

        self.redis = RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in startup_nodes])
        await self.redis.initialize()


class Coredis(Client):
    """coredis (RESP3 only): concurrent commands share a connection; ``pipeline()`` runs on leaving its block.

    Its client, pipelines and subscribers are async context managers, entered in
    ``open`` and left in ``close`` (both in the task that times the run).
    """

    async def open(self, url, *, decode=False, pool_size=None, subscribe=None):
        import coredis

        self.stack = contextlib.AsyncExitStack()
        connect = functools.partial(coredis.Redis.from_url, url, decode_responses=decode)
        self.redis = await self.stack.enter_async_context(connect(max_connections=pool_size or 1))
        if subscribe is not None:
            subscriber = await self.stack.enter_async_context(connect(max_connections=1))
            pubsub = await self.stack.enter_async_context(subscriber.pubsub(channels=[subscribe]))
            await pubsub.get_message(timeout=None)  # the subscribe confirmation
            self.receive = functools.partial(pubsub.get_message, timeout=None)

    async def pipeline(self, runs, transaction):
        async with self.redis.pipeline(transaction=transaction) as pipe:
            _buffered(pipe, runs)

    async def close(self):
        await self.stack.aclose()

    supports_cluster = True

    async def open_cluster(self, startup_nodes):
        import coredis

        self.stack = contextlib.AsyncExitStack()
        nodes = [{"host": host, "port": port} for host, port in startup_nodes]
        self.redis = await self.stack.enter_async_context(coredis.RedisCluster(startup_nodes=nodes))


GLIDE_TIMEOUT_MS = 60_000  # valkey-glide's default of 250 ms per request times out on a busy machine


def glide_configuration(url: str, **options: Any) -> Any:
    """A ``GlideClientConfiguration`` for a redis:// URL (glide has no URL parser and no Unix sockets)."""
    from glide import GlideClientConfiguration, NodeAddress, ServerCredentials

    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "redis":
        raise ValueError(f"valkey-glide is run for redis:// URLs only, not {parts.scheme}://")
    query = urllib.parse.parse_qs(parts.query)
    password = parts.password or query.get("password", [None])[0]
    credentials = None
    if password:
        username = urllib.parse.unquote(parts.username) if parts.username else None
        credentials = ServerCredentials(urllib.parse.unquote(password), username)
    db = parts.path.strip("/") or query.get("db", ["0"])[0]
    return GlideClientConfiguration([NodeAddress(parts.hostname or "localhost", parts.port or 6379)],
                                    credentials=credentials, database_id=int(db),
                                    request_timeout=GLIDE_TIMEOUT_MS, **options)


class Glide(Client):
    """valkey-glide: a Rust core behind one multiplexed connection per client; ``Batch`` for pipelines.

    Replies are always bytes (no decoding option). PUBLISH takes the message
    first; ``method`` puts the arguments in Redis's order for the workloads.
    """

    def __init__(self) -> None:
        self.opened: List[Any] = []

    async def open(self, url, *, decode=False, pool_size=None, subscribe=None):
        from glide import GlideClient

        if decode:
            raise ValueError("valkey-glide returns bytes only")
        self.redis = await GlideClient.create(glide_configuration(url))
        self.opened.append(self.redis)
        if subscribe is not None:
            subscriber = await GlideClient.create(glide_configuration(url))
            self.opened.append(subscriber)
            await subscriber.subscribe({subscribe})
            self.receive = subscriber.get_pubsub_message

    def method(self, target, name):
        method = getattr(target, name)
        if name == "publish":
            return lambda channel, message: method(message, channel)
        return method

    async def pipeline(self, runs, transaction):
        from glide import Batch, ClusterBatch

        batch = (ClusterBatch if self.cluster else Batch)(is_atomic=transaction)
        _buffered(batch, runs, self.method)
        await self.redis.exec(batch, raise_on_error=True)

    async def close(self):
        for client in self.opened:
            await client.close()

    supports_cluster = True
    cluster = False  # set by open_cluster: the pipelines are then ClusterBatch

    async def open_cluster(self, startup_nodes):
        from glide import GlideClusterClient, GlideClusterClientConfiguration, NodeAddress

        configuration = GlideClusterClientConfiguration(
            [NodeAddress(host, port) for host, port in startup_nodes], request_timeout=GLIDE_TIMEOUT_MS)
        self.redis = await GlideClusterClient.create(configuration)
        self.opened.append(self.redis)
        self.cluster = True


@dataclass(frozen=True)
class ClientSpec:
    """A client found on this machine: its name, how it is driven, and a factory."""

    name: str
    version: str
    how: str
    create: Callable[[], Client]
    lacks: Mapping[str, str] = field(default_factory=dict)  # open() option -> why the client lacks it


CLIENT_NAMES = ("aioredis_cy", "aioredis", "redis-py", "coredis", "valkey-glide")
LOOP_NAMES = ("asyncio", "uvloop")


def _aioredis_cy() -> ClientSpec:
    from aioredis_cy.parser import DEFAULT_PARSER

    return ClientSpec("aioredis_cy", aioredis_cy.__version__,
                      f"create_redis / create_redis_pool; automatic pipelining ({DEFAULT_PARSER} reader)",
                      functools.partial(AioredisApi, aioredis_cy))


def aioredis_cy_resp3() -> ClientSpec:
    """aioredis_cy with protocol=3 (the bench's ``--protocol 3``)."""
    spec = _aioredis_cy()
    how = spec.how.replace("create_redis_pool;", "create_redis_pool with protocol=3 (RESP3);")
    return ClientSpec("aioredis_cy/resp3", spec.version, how,
                      functools.partial(AioredisApi, aioredis_cy, protocol=3))


def _aioredis() -> ClientSpec:
    import aioredis  # type: ignore[import-not-found]

    if not aioredis.__version__.startswith("1."):
        raise RuntimeError(f"aioredis {aioredis.__version__} lacks the 1.x API (pip install aioredis==1.3.1)")
    from aioredis.parser import PyReader, Reader  # type: ignore[import-not-found]

    reader = "pure-Python reader: hiredis missing" if Reader is PyReader else "hiredis reader"
    return ClientSpec("aioredis", aioredis.__version__,
                      f"create_redis / create_redis_pool; automatic pipelining ({reader})",
                      functools.partial(AioredisApi, aioredis))


def _redis_py() -> ClientSpec:
    import redis
    from redis import asyncio as aredis  # noqa: F401
    from redis.utils import HIREDIS_AVAILABLE

    if int(redis.__version__.split(".")[0]) < 5:
        raise RuntimeError(f"redis-py {redis.__version__} is older than 5 (pip install 'redis[hiredis]>=5')")
    parser = "hiredis parser" if HIREDIS_AVAILABLE else "pure-Python parser: hiredis missing"
    return ClientSpec("redis-py", redis.__version__,
                      f"redis.asyncio.Redis ({parser}), single_connection_client=True on one connection; "
                      "no automatic pipelining: explicit pipeline(transaction=False) per batch of "
                      "in-flight commands; BlockingConnectionPool for the shared pool",
                      RedisPy)


def _coredis() -> ClientSpec:
    import coredis

    if int(coredis.__version__.split(".")[0]) < 6:
        raise RuntimeError(f"coredis {coredis.__version__} is older than 6 (pip install 'coredis>=6.9')")
    coredis.Config.optimized = True  # its documented switch that drops most run-time argument checks
    return ClientSpec("coredis", coredis.__version__,
                      "coredis.Redis, RESP3, Config.optimized = True; concurrent calls share a connection "
                      "(max_connections=1 on one connection, 10 for the shared pool); explicit "
                      "pipeline(transaction=False / True) in the pipeline workloads; coredis.RedisCluster "
                      "in the cluster workloads",
                      Coredis)


def _glide() -> ClientSpec:
    try:
        import glide  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"{exc} (pip install valkey-glide; it has no wheels for Windows)") from exc
    from importlib.metadata import version

    return ClientSpec("valkey-glide", version("valkey-glide"),
                      "glide.GlideClient (Rust core, RESP3, one multiplexed connection per client, also for "
                      f"the 50 tasks of the shared pool), request_timeout={GLIDE_TIMEOUT_MS // 1000} s; "
                      "Batch(is_atomic=False / True) in the pipeline workloads; GlideClusterClient and "
                      "ClusterBatch in the cluster workloads; its CPU/op includes the Rust core's threads",
                      Glide, lacks={"decode": "replies are bytes only: it has no decoding option"})


_FINDERS = {"aioredis_cy": _aioredis_cy, "aioredis": _aioredis, "redis-py": _redis_py,
            "coredis": _coredis, "valkey-glide": _glide}


def find_clients(names: Sequence[str]) -> Tuple[List[ClientSpec], Dict[str, str]]:
    """The usable clients among ``names``, and the reason each other one is left out."""
    found, missing = [], {}
    for name in names:
        try:
            found.append(_FINDERS[name]())
        except Exception as exc:  # an old peer can fail to import in many ways
            missing[name] = f"{type(exc).__name__}: {exc}"
    return found, missing


LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def find_loops(names: Sequence[str]) -> Tuple[Dict[str, LoopFactory], Dict[str, str]]:
    """Event loop factories by name, and the reason each missing one is left out."""
    loops: Dict[str, LoopFactory] = {}
    missing = {}
    for name in names:
        if name == "asyncio":
            loops[name] = asyncio.new_event_loop
            continue
        try:
            import uvloop
        except ImportError as exc:
            missing[name] = f"ImportError: {exc}"
        else:
            loops[name] = uvloop.new_event_loop
    return loops, missing


def run_on(new_loop: LoopFactory, coro_function: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``coro_function()`` to completion on a fresh loop, then close the loop."""
    loop = new_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(coro_function())
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
