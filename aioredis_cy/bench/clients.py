"""The clients under test behind one small interface, and the event loops they run on.

aioredis_cy and aioredis 1.x share an API, so one adapter drives both; redis-py's
``redis.asyncio`` has its own. Discovery imports each peer and says why one that
cannot run is left out.
"""
import asyncio
import functools
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Tuple

import aioredis_cy

Args = Tuple[Any, ...]


class Client:
    """One client library, driven through the few operations the workloads need.

    ``open`` connects (one connection, or a pool of ``pool_size``), and with
    ``subscribe`` also opens a subscriber whose next message ``receive()`` awaits.
    """

    receive: Callable[[], Awaitable[Any]]

    async def open(self, url: str, *, decode: bool = False, pool_size: Optional[int] = None,
                   subscribe: Optional[str] = None) -> None:
        raise NotImplementedError

    def command(self, name: str) -> Callable[..., Awaitable[Any]]:
        """The coroutine function (or future-returning method) for one command."""
        raise NotImplementedError

    async def batch(self, name: str, arglists: Sequence[Args]) -> None:
        """Run one command per argument tuple with all of them in flight at once."""
        raise NotImplementedError

    async def pipeline(self, name: str, arglists: Sequence[Args], transaction: bool) -> None:
        """Run one command per argument tuple through the client's explicit pipeline (or MULTI/EXEC)."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class AioredisApi(Client):
    """aioredis 1.x API (aioredis_cy or aioredis itself): concurrent calls pipeline automatically."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.opened: List[Any] = []

    async def open(self, url, *, decode=False, pool_size=None, subscribe=None, client_cache=False):
        encoding = "utf-8" if decode else None
        if client_cache:   # aioredis_cy only
            self.redis = await self.module.create_redis(url, encoding=encoding, protocol=3,
                                                        client_cache=self.module.ClientCache())
        elif pool_size:
            self.redis = await self.module.create_redis_pool(url, encoding=encoding, minsize=pool_size,
                                                             maxsize=pool_size)
        else:
            self.redis = await self.module.create_redis(url, encoding=encoding)
        self.opened.append(self.redis)
        if subscribe is not None:
            subscriber = await self.module.create_redis(url, encoding=encoding)
            self.opened.append(subscriber)
            (channel,) = await subscriber.subscribe(subscribe)
            self.receive = channel.get

    def command(self, name):
        return getattr(self.redis, name)

    async def batch(self, name, arglists):
        method = getattr(self.redis, name)
        await asyncio.gather(*[method(*args) for args in arglists])

    async def pipeline(self, name, arglists, transaction):
        pipe = self.redis.multi_exec() if transaction else self.redis.pipeline()
        method = getattr(pipe, name)
        for args in arglists:
            method(*args)
        await pipe.execute()

    async def close(self):
        for redis in self.opened:
            redis.close()
        for redis in self.opened:
            await redis.wait_closed()


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

    def command(self, name):
        return getattr(self.redis, name)

    async def batch(self, name, arglists):
        await self.pipeline(name, arglists, False)

    async def pipeline(self, name, arglists, transaction):
        pipe = self.redis.pipeline(transaction=transaction)
        method = getattr(pipe, name)
        for args in arglists:
            method(*args)
        await pipe.execute()

    async def close(self):
        for pubsub in self.pubsubs:
            await pubsub.aclose()
        await self.redis.aclose()


@dataclass(frozen=True)
class ClientSpec:
    """A client found on this machine: its name, how it is driven, and a factory."""

    name: str
    version: str
    how: str
    create: Callable[[], Client]


CLIENT_NAMES = ("aioredis_cy", "aioredis", "redis-py")
LOOP_NAMES = ("asyncio", "uvloop")


def _aioredis_cy() -> ClientSpec:
    from aioredis_cy.parser import DEFAULT_PARSER

    return ClientSpec("aioredis_cy", aioredis_cy.__version__,
                      f"create_redis / create_redis_pool; automatic pipelining ({DEFAULT_PARSER} reader)",
                      functools.partial(AioredisApi, aioredis_cy))


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


_FINDERS = {"aioredis_cy": _aioredis_cy, "aioredis": _aioredis, "redis-py": _redis_py}


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
