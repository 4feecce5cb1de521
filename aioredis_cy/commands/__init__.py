"""The high-level client: :class:`Redis` gathers one mixin per command family.

``create_redis`` binds it to one connection, ``create_redis_pool`` to a pool.
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, Optional

from .._cache_client import CachingFront, cache_disabled, track_connection
from .._typing import Address, Arg, Reply, SSLOption, Value
from ..abc import AbcPool
from ..cache import ClientCache
from ..errors import RedisError
from ..util import _NOTSET, _convert_later, reply_is_ok
from ._checks import _check_int
from .cluster import ClusterCommandsMixin
from .generic import GenericCommandsMixin
from .geo import GeoCommandsMixin, GeoMember, GeoPoint
from .hash import HashCommandsMixin
from .hyperloglog import HyperLogLogCommandsMixin
from .list import ListCommandsMixin
from .pubsub import PubSubCommandsMixin
from .scripting import ScriptingCommandsMixin
from .server import ServerCommandsMixin
from .set import SetCommandsMixin
from .sorted_set import SortedSetCommandsMixin
from .streams import StreamCommandsMixin
from .string import StringCommandsMixin
from .transaction import MultiExec, Pipeline, TransactionsCommandsMixin

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..connection import RedisConnection
    from ..pool import ConnectionsPool

__all__ = [
    "create_redis",
    "create_redis_pool",
    "Redis",
    "Pipeline",
    "MultiExec",
    "GeoPoint",
    "GeoMember",
]


class Redis(GenericCommandsMixin, StringCommandsMixin,
            HyperLogLogCommandsMixin, SetCommandsMixin,
            HashCommandsMixin, TransactionsCommandsMixin,
            SortedSetCommandsMixin, ListCommandsMixin,
            ScriptingCommandsMixin, ServerCommandsMixin,
            PubSubCommandsMixin, ClusterCommandsMixin,
            GeoCommandsMixin, StreamCommandsMixin):
    """High-level Redis client over a connection or a pool; one method per command.

    ``async with redis:`` closes the client on exit. ``with await redis as conn:`` (or
    ``async with await redis as conn:``) gives a client bound to one connection taken
    from the pool, released on exit.
    """

    _cache_front: Any = None   # set (with execute) when a client cache is attached

    def __init__(self, pool_or_conn: Any) -> None:
        self._pool_or_conn = pool_or_conn

    @property
    def _pool_or_conn(self) -> Any:
        return self.__pool_or_conn

    @_pool_or_conn.setter
    def _pool_or_conn(self, pool_or_conn: Any) -> None:
        if getattr(pool_or_conn, "resp3_types", "resp2") != "resp2":
            raise ValueError('the command methods convert replies of the default shapes: a connection or '
                             'pool with resp3_types="native" is for execute() only')
        self.__pool_or_conn = pool_or_conn
        if pool_or_conn is not None and type(self).execute is Redis.execute:
            # Commands call the connection's (or pool's) execute directly: no extra frame.
            self.execute = pool_or_conn.execute  # type: ignore[method-assign]
            converted = getattr(pool_or_conn, "_execute_converted", None)
            if converted is not None:
                self._execute_converted = converted  # type: ignore[method-assign]
            else:
                self.__dict__.pop("_execute_converted", None)
        else:
            self.__dict__.pop("execute", None)
            self.__dict__.pop("_execute_converted", None)
        if self.__dict__.pop("_cache_front", None) is not None:
            self.__dict__.pop("get", None)   # CachingFront.attach bound it

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._pool_or_conn!r}>"

    def execute(self, command: Arg, *args: Arg, **kwargs: Any) -> Awaitable[Any]:
        """Send a raw command; returns the future (or awaitable) of its reply."""
        return self._pool_or_conn.execute(command, *args, **kwargs)

    def _execute_converted(self, converter: Callable[[Any], Any], command: Arg, *args: Any,
                           **kwargs: Any) -> Awaitable[Any]:
        """``execute`` with ``converter`` applied to the reply: how command methods send.

        Bound to the connection's (or pool's) own method, which hands the converter to
        the protocol with the command, unless ``execute`` is overridden: then the
        conversion is chained on what the override returns.
        """
        return _convert_later(self.execute(command, *args, **kwargs), converter)

    async def monitor(self) -> AsyncIterator[Value]:
        """``async for line in redis.monitor()``: the server's MONITOR stream.

        On a pool it runs on a connection of its own (opened for it, closed after); on
        a single connection it takes that connection over (see RedisConnection.monitor).
        """
        target = self._pool_or_conn
        if isinstance(target, AbcPool):
            conn = await target.acquire()
            try:
                async for line in conn.monitor():
                    yield line
            finally:
                target.release(conn)
            return
        async for line in target.monitor():
            yield line

    def reset(self) -> Reply[bool]:
        """RESET the single connection this client is on (see RedisConnection.reset); await it for True.

        Refused on a pool with ``RedisError``: its connections are shared, and which one
        would be reset is not the caller's to choose.
        """
        target = self._pool_or_conn
        if isinstance(target, AbcPool):
            raise RedisError("reset() needs a single connection, not a pool: acquire one and reset it")
        return target.reset()

    @property
    def client_cache(self) -> Optional[ClientCache]:
        """The :class:`~aioredis_cy.ClientCache` of this client, or None."""
        front = self._cache_front
        return None if front is None else front.cache

    def cache_disabled(self) -> contextlib.AbstractContextManager[None]:
        """Context manager: inside ``with redis.cache_disabled():`` the current task's reads
        (and those of tasks it starts) go to the server and are not stored. Writes still
        drop what they touch. A no-op without a client cache.
        """
        return cache_disabled()

    def close(self) -> None:
        """Close the connection or pool."""
        self._pool_or_conn.close()

    async def wait_closed(self) -> None:
        """Wait until the connection or every connection of the pool is closed."""
        await self._pool_or_conn.wait_closed()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
        await self.wait_closed()

    @property
    def db(self) -> int:
        """The selected database index."""
        return self._pool_or_conn.db

    @property
    def encoding(self) -> Optional[str]:
        """The codec used to decode replies, or None."""
        return self._pool_or_conn.encoding

    @property
    def connection(self) -> Any:
        """The :class:`~aioredis_cy.RedisConnection` or :class:`~aioredis_cy.ConnectionsPool` used."""
        return self._pool_or_conn

    @property
    def address(self) -> Any:
        """The server address."""
        return self._pool_or_conn.address

    @property
    def in_transaction(self) -> bool:
        """True between MULTI and EXEC on the connection (False on a pool, which shares none in one)."""
        return getattr(self._pool_or_conn, "in_transaction", False)

    @property
    def closed(self) -> bool:
        """True once the connection or pool is closed."""
        return self._pool_or_conn.closed

    def auth(self, password: str, *, username: Optional[str] = None) -> Reply[bool]:
        """Authenticate (as the ACL user ``username`` if given); on a pool, every connection."""
        if username is None:
            return self._pool_or_conn.auth(password)
        return self._pool_or_conn.auth(password, username=username)

    def echo(self, message: Arg, *, encoding: Optional[str] = _NOTSET) -> Reply[Value]:
        """Return ``message`` from the server."""
        return self.execute(b"ECHO", message, encoding=encoding)

    def ping(self, message: Arg = _NOTSET, *, encoding: Optional[str] = _NOTSET) -> Reply[Value]:
        """Ping the server: ``b'PONG'``, or ``message`` if given."""
        args = () if message is _NOTSET else (message,)
        return self.execute(b"PING", *args, encoding=encoding)

    def quit(self) -> Reply[Value]:
        """Ask the server to close the connection."""
        return self.execute(b"QUIT")

    def select(self, db: int) -> Reply[bool]:
        """Switch the connection (or every connection of the pool) to database ``db``.

        With a client cache, the cache is emptied (at once and when the switch is done).
        """
        if self._cache_front is not None:
            return self._cache_front.select(db)
        return self._pool_or_conn.select(db)

    def swapdb(self, from_index: int, to_index: int) -> Reply[bool]:
        """Swap two databases; True when done."""
        _check_int("from_index", from_index, 0)
        _check_int("to_index", to_index, 0)
        return self._execute_converted(reply_is_ok, b"SWAPDB", from_index, to_index)

    def __await__(self) -> Generator[Any, None, ContextRedis]:
        # ``with await redis as conn:``
        if isinstance(self._pool_or_conn, AbcPool):
            conn = yield from self._pool_or_conn.acquire().__await__()
            context = ContextRedis(conn, self._pool_or_conn.release)
            if self._cache_front is not None:
                CachingFront(self._cache_front.cache, conn).attach(context)
            return context
        context = ContextRedis(self._pool_or_conn)
        if self._cache_front is not None:
            self._cache_front.attach(context)
        return context


class ContextRedis(Redis):
    """A :class:`Redis` bound to one connection, released to its pool when the block ends."""

    def __init__(self, conn: Any, release_cb: Optional[Callable[[Any], None]] = None) -> None:
        super().__init__(conn)
        self._release_callback = release_cb

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._release()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._release()

    def _release(self) -> None:
        if self._release_callback is not None:
            conn, self._pool_or_conn = self._pool_or_conn, None
            self._release_callback(conn)

    def __await__(self) -> Generator[Any, None, ContextRedis]:
        return ContextRedis(self._pool_or_conn)
        yield  # makes this a generator, as __await__ must be


async def create_redis(address: Address, *, db: Optional[int] = None, password: Optional[str] = None,
                       ssl: Optional[SSLOption] = None, encoding: Optional[str] = None,
                       commands_factory: Callable[[Any], Redis] = Redis,
                       parser: Optional[Callable[..., Any]] = None, timeout: Optional[float] = None,
                       connection_cls: Optional[type[RedisConnection]] = None, loop: Any = None,
                       username: Optional[str] = None, name: Optional[str] = None,
                       protocol: Optional[int] = None,
                       client_cache: Optional[ClientCache] = None) -> Redis:
    """Connect to Redis and return ``commands_factory(connection)`` (a :class:`Redis` by default).

    The arguments are those of :func:`~aioredis_cy.create_connection`; ``loop`` is ignored.
    ``client_cache`` (a :class:`~aioredis_cy.ClientCache`) caches reads on this client
    (see README, Client-side caching).
    """
    from ..connection import create_connection

    if client_cache is not None:
        _check_cache(client_cache)
    conn = await create_connection(address, db=db, password=password, ssl=ssl, encoding=encoding,
                                   parser=parser, timeout=timeout, connection_cls=connection_cls,
                                   username=username, name=name, protocol=protocol)
    if client_cache is None:
        return commands_factory(conn)
    try:
        await track_connection(client_cache, conn)
        redis = commands_factory(conn)
        client_cache._bind(redis)
        CachingFront(client_cache, conn).attach(redis)
    except BaseException:
        conn.close()
        raise
    return redis


async def create_redis_pool(address: Address, *, db: Optional[int] = None, password: Optional[str] = None,
                            ssl: Optional[SSLOption] = None, encoding: Optional[str] = None,
                            commands_factory: Callable[[Any], Redis] = Redis, minsize: int = 1,
                            maxsize: int = 10,
                            parser: Optional[Callable[..., Any]] = None, timeout: Optional[float] = None,
                            pool_cls: Optional[type[ConnectionsPool]] = None,
                            connection_cls: Optional[type[RedisConnection]] = None, loop: Any = None,
                            username: Optional[str] = None, name: Optional[str] = None,
                            health_check_interval: Optional[float] = None,
                            protocol: Optional[int] = None,
                            client_cache: Optional[ClientCache] = None) -> Redis:
    """Create a connections pool and return ``commands_factory(pool)`` (a :class:`Redis` by default).

    The arguments are those of :func:`~aioredis_cy.create_pool`; ``timeout`` bounds opening
    each connection; ``loop`` is ignored. ``client_cache`` (a :class:`~aioredis_cy.ClientCache`)
    caches reads on this client, tracked on every connection of the pool (see README,
    Client-side caching).
    """
    from ..pool import create_pool

    if client_cache is not None:
        _check_cache(client_cache)
    pool = await create_pool(address, db=db, password=password, ssl=ssl, encoding=encoding,
                             minsize=minsize, maxsize=maxsize, parser=parser,
                             create_connection_timeout=timeout, pool_cls=pool_cls,
                             connection_cls=connection_cls, username=username, name=name,
                             health_check_interval=health_check_interval, protocol=protocol,
                             client_cache=client_cache)
    redis = commands_factory(pool)
    if client_cache is not None:
        try:
            client_cache._bind(redis)
            CachingFront(client_cache, pool).attach(redis)
        except BaseException:
            pool.close()
            await pool.wait_closed()
            raise
    return redis


def _check_cache(client_cache: Any) -> None:
    """TypeError/ValueError for a ``client_cache=`` that cannot serve a new client."""
    if not isinstance(client_cache, ClientCache):
        raise TypeError(f"client_cache must be a ClientCache, got {type(client_cache).__name__}")
    client_cache._bind(None)
