"""``create_pool`` and ``ConnectionsPool``: many connections behind the connection API.

How commands are routed by :meth:`ConnectionsPool.execute`:

* Plain commands are sent on a free connection *without taking it*: concurrent
  callers share (pipeline on) the free connections, which are used in turn.
* Blocking commands (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP, BZPOPMIN, BZPOPMAX,
  BZMPOP, XREAD/XREADGROUP with BLOCK, WAIT, WAITAOF) run on a connection taken
  for them alone, so they never stall other traffic. If such a command is cancelled
  (or times out) before its reply, its connection is closed rather than reused.
* Subscribe-family commands go to the pool's one pub/sub connection (see
  :meth:`ConnectionsPool.execute_pubsub`).
* MULTI, EXEC, DISCARD, WATCH and SELECT raise :class:`~aioredis_cy.errors.RedisError`:
  on a shared connection they would leak into other callers' commands. Use
  ``with await pool as conn`` (or ``Redis.multi_exec()``) for transactions and
  :meth:`ConnectionsPool.select` to change the database.

:meth:`ConnectionsPool.release` sends UNWATCH on a connection that is still watching
(the protocol tracks WATCH, UNWATCH, EXEC and DISCARD replies) and puts it back at once:
the UNWATCH goes ahead of the next user's commands on that connection, so a WATCH
forgotten by an earlier user cannot spoil a transaction. A connection given
back with :meth:`ConnectionsPool.release` is closed and dropped, never reused, when it
is closed, in a transaction, in pub/sub mode, on another database than the pool's, or
still waiting for replies to commands sent since it was acquired. Dead connections are
dropped as soon as they close and new ones are made on demand, so the pool recovers
from a server restart by itself.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Deque, Dict, List, NoReturn, Optional, Set, Tuple

from ._cache_client import track_connection
from ._typing import Address, Arg, SSLOption
from .abc import AbcConnection, AbcPool
from .connection import _check_protocol, _check_resp3_types, _merge_uri_options, create_connection
from .errors import ConnectionClosedError, MaxClientsError, PoolClosedError, RedisError, ReplyError
from .util import _check_positive_timeout, _check_subclass, _CoercedKeysView, _convert_later

if TYPE_CHECKING:
    from .cache import ClientCache
    from .connection import RedisConnection
    from .pubsub import Channel

__all__ = ["create_pool", "ConnectionsPool"]

logger = logging.getLogger("aioredis_cy")

# How ConnectionsPool.execute routes a command.
_SHARED = 0      # any free connection, not taken
_BLOCKING = 1    # a connection taken for this command alone
_XREAD = 2       # _BLOCKING when the arguments hold BLOCK, else _SHARED
_PUBSUB = 3      # the pub/sub connection
_REFUSED = 4     # would change the state of a shared connection

_ROUTES = {
    **dict.fromkeys(("BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX",
                     "BZMPOP", "WAIT", "WAITAOF"), _BLOCKING),
    **dict.fromkeys(("XREAD", "XREADGROUP"), _XREAD),
    **dict.fromkeys(("SUBSCRIBE", "UNSUBSCRIBE", "PSUBSCRIBE", "PUNSUBSCRIBE", "SSUBSCRIBE",
                     "SUNSUBSCRIBE"), _PUBSUB),
    **dict.fromkeys(("MULTI", "EXEC", "DISCARD", "WATCH", "SELECT"), _REFUSED),
}

# Routes by command as given (str or bytes, any case), filled as commands are seen.
_route_cache: Dict[Any, int] = {}
_ROUTE_CACHE_LIMIT = 4096


def _normalized(word) -> str:
    if isinstance(word, (bytes, bytearray, memoryview)):
        return bytes(word).decode("latin-1").upper()
    if isinstance(word, str):
        return word.upper()
    return ""


def _route(command) -> int:
    """How to route ``command``; one dict look-up once a spelling has been seen."""
    try:
        route = _route_cache.get(command)
    except TypeError:  # unhashable, e.g. bytearray
        return _ROUTES.get(_normalized(command), _SHARED)
    if route is None:
        route = _ROUTES.get(_normalized(command), _SHARED)
        if len(_route_cache) < _ROUTE_CACHE_LIMIT:
            _route_cache[command] = route
    return route


def _xread_route(args) -> int:
    """XREAD/XREADGROUP block only with the BLOCK option."""
    return _BLOCKING if any(_normalized(arg) == "BLOCK" for arg in args) else _SHARED


def _route_with_args(command, args) -> int:
    route = _route(command)
    return _xread_route(args) if route == _XREAD else route


def _check_size(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _pending_replies(conn) -> int:
    """How many replies ``conn`` still waits for (0 for connection classes that cannot tell)."""
    return getattr(conn, "pending", 0)


def _ignore_result(fut: asyncio.Future) -> None:
    if not fut.cancelled():
        fut.exception()


def _refused(reply: asyncio.Future) -> bool:
    """True if the server answered ``reply`` with an error (the command had no effect)."""
    return reply.done() and not reply.cancelled() and isinstance(reply.exception(), ReplyError)


async def _checked(conn) -> None:
    """PING a new connection: a server at maxclients answers with MaxClientsError.

    Other error replies (NOAUTH, say) still show that the server took the connection.
    """
    try:
        await conn.execute(b"PING")
    except ReplyError as exc:
        if isinstance(exc, MaxClientsError):
            conn.close()
            raise
    except BaseException:
        conn.close()
        raise


async def _tracked(conn: Any, cache: ClientCache) -> None:
    """Turn tracking on for a new connection of a pool with a client cache."""
    try:
        await track_connection(cache, conn)
    except BaseException:
        conn.close()
        raise


def _close_after(conn, earlier: Optional[asyncio.Future]) -> None:
    """Close ``conn`` now, or once ``earlier`` (the last reply owed to others) is done."""
    if earlier is None or earlier.done():
        conn.close()
    else:
        earlier.add_done_callback(lambda fut: _close_when_done(conn, fut))


def _close_when_done(conn, fut: asyncio.Future) -> None:
    _ignore_result(fut)
    conn.close()


async def create_pool(address: Address, *, db: Optional[int] = None, password: Optional[str] = None,
                      ssl: Optional[SSLOption] = None,
                      encoding: Optional[str] = None, minsize: int = 1, maxsize: int = 10,
                      parser: Optional[Callable[..., Any]] = None, loop: Any = None,
                      create_connection_timeout: Optional[float] = None,
                      pool_cls: Optional[type[ConnectionsPool]] = None,
                      connection_cls: Optional[type[RedisConnection]] = None, username: Optional[str] = None,
                      name: Optional[str] = None,
                      health_check_interval: Optional[float] = None,
                      protocol: Optional[int] = None,
                      client_cache: Optional[ClientCache] = None,
                      resp3_types: Optional[str] = None) -> ConnectionsPool:
    """Create a pool (``pool_cls``, ConnectionsPool by default) and open ``minsize`` connections.

    ``address`` is a ``(host, port)`` pair, a unix socket path or a URI whose options
    (db, password, username, encoding, timeout, ssl) must agree with the keywords given.
    ``name`` is sent as ``CLIENT SETNAME`` on every connection the pool opens; with
    ``health_check_interval`` (seconds), a connection idle that long is PINGed before
    it is handed out or used, and dropped if the PING fails. ``protocol=3`` makes every
    connection speak RESP3 (see :func:`~aioredis_cy.create_connection`, also for
    ``resp3_types``).
    With ``client_cache`` (a :class:`~aioredis_cy.ClientCache`), every connection turns
    server-assisted tracking on as it opens and routes its invalidations to the cache;
    reads are only cached through :func:`~aioredis_cy.create_redis_pool`'s client.
    ``loop`` is accepted for compatibility and ignored.
    """
    if pool_cls is None:
        pool_cls = ConnectionsPool
    else:
        _check_subclass("pool_cls", pool_cls, AbcPool)
    if isinstance(address, str):
        settings: Dict[str, Any] = {"db": db, "password": password, "username": username,
                                    "encoding": encoding, "timeout": create_connection_timeout, "ssl": ssl,
                                    "protocol": protocol}
        address = _merge_uri_options(address, settings)
        db, password, username, encoding, ssl, protocol = (settings[name] for name in (
            "db", "password", "username", "encoding", "ssl", "protocol"))
        create_connection_timeout = settings["timeout"]
    extra: Dict[str, Any] = {name_: value for name_, value in (
        ("username", username), ("name", name), ("health_check_interval", health_check_interval),
        ("protocol", protocol), ("client_cache", client_cache), ("resp3_types", resp3_types))
        if value is not None}
    pool = pool_cls(address, db, password, encoding, minsize=minsize, maxsize=maxsize, ssl=ssl, parser=parser,
                    create_connection_timeout=create_connection_timeout, connection_cls=connection_cls,
                    **extra)
    try:
        await pool._fill_free()
    except BaseException:
        pool.close()
        await pool.wait_closed()
        raise
    return pool


class ConnectionsPool(AbcPool):
    """A pool of Redis connections that is itself used like a connection.

    See the module docstring for how commands are routed and how released
    connections are checked.
    """

    def __init__(self, address: Optional[Address], db: Optional[int] = None, password: Optional[str] = None,
                 encoding: Optional[str] = None, *, minsize: int, maxsize: int,
                 ssl: Optional[SSLOption] = None,
                 parser: Optional[Callable[..., Any]] = None,
                 create_connection_timeout: Optional[float] = None,
                 connection_cls: Optional[type[RedisConnection]] = None, loop: Any = None,
                 username: Optional[str] = None, name: Optional[str] = None,
                 health_check_interval: Optional[float] = None, protocol: Optional[int] = None,
                 client_cache: Optional[ClientCache] = None, resp3_types: Optional[str] = None) -> None:
        _check_size("minsize", minsize, 0)
        _check_size("maxsize", maxsize, 1)
        if minsize > maxsize:
            raise ValueError(f"minsize ({minsize}) must not be greater than maxsize ({maxsize})")
        _check_positive_timeout(create_connection_timeout, "create_connection_timeout")
        if connection_cls is not None:
            _check_subclass("connection_cls", connection_cls, AbcConnection)
        self._address = address
        self._db = db or 0
        self._password = password
        self._username = username
        self._ssl = ssl
        self._encoding = encoding
        self._parser_class = parser
        self._minsize = minsize
        self._maxsize = maxsize
        self._create_connection_timeout = create_connection_timeout
        self._connection_cls = connection_cls
        self._name = name
        self._protocol_version = _check_protocol(protocol)
        self._resp3_types = "native" if _check_resp3_types(resp3_types, self._protocol_version) else "resp2"
        _check_positive_timeout(health_check_interval, "health_check_interval")
        self._health_check_interval = health_check_interval
        self._client_cache = client_cache
        # When each free connection was last put back (only with a health check interval).
        self._free_since: Dict[Any, float] = {}
        # Every open connection of the pool; each is also in exactly one of: _free,
        # _used, _releasing, _pubsub_conn (until it closes and its watcher drops it).
        self._conns: Set[Any] = set()
        # Dropped by the pool (no longer counted), not closed yet.
        self._closing: Set[Any] = set()
        self._free: Deque[Any] = deque()
        self._used: Set[Any] = set()
        # Released, waiting for the replies that came before their acquire() (see release()).
        self._releasing: Set[Any] = set()
        # Per connection taken while others' replies were on their way, a PING sent at
        # acquire(): replies after its reply are the taker's.
        self._fences: Dict[Any, asyncio.Future] = {}
        self._pubsub_conn: Optional[Any] = None
        self._creating = 0
        self._watchers: Dict[Any, asyncio.Future] = {}
        # acquire() calls waiting at maxsize: each gets a connection, or None to retry.
        self._waiters: Deque[asyncio.Future] = deque()
        self._closed = False
        self._close_waiters: List[asyncio.Future] = []

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} [db:{self.db}, size:[{self.minsize}:{self.maxsize}], "
                f"free:{self.freesize}]>")

    @property
    def minsize(self) -> int:
        """Minimum pool size."""
        return self._minsize

    @property
    def maxsize(self) -> int:
        """Maximum pool size."""
        return self._maxsize

    @property
    def size(self) -> int:
        """Current pool size: open connections plus the ones being opened."""
        return len(self._conns) + self._creating

    @property
    def freesize(self) -> int:
        """Current number of free connections."""
        return len(self._free)

    @property
    def address(self) -> Any:
        """The server address the pool connects to."""
        return self._address

    @property
    def db(self) -> int:
        """Currently selected db index."""
        return self._db

    @property
    def encoding(self) -> Optional[str]:
        """Current set codec or None."""
        return self._encoding

    @property
    def resp3_types(self) -> str:
        """The reply types of the pool's connections: ``"resp2"`` shapes or ``"native"``."""
        return self._resp3_types

    @property
    def closed(self) -> bool:
        """True if pool is closed."""
        return self._closed

    # -- commands ------------------------------------------------------------

    def execute(self, command: Arg, *args: Arg, **kw: Any) -> Awaitable[Any]:
        """Send a command; returns a future (or coroutine) of its reply.

        Plain commands go on a free connection shared with other callers; blocking
        ones on a connection of their own. When no connection is free, the result is a
        coroutine that waits for one.
        """
        try:
            route = _route_cache[command]
        except (KeyError, TypeError):
            route = _route(command)
        if route == _XREAD:
            route = _xread_route(args)
        if route == _SHARED:
            free = self._free
            if free:
                conn = free[0]
                free.rotate(-1)
                try:
                    return conn.execute(command, *args, **kw)
                except RedisError:
                    pass   # closed or in pub/sub mode, and nothing was sent: pick another below
            conn = self._next_shared()
            if conn is not None:
                return conn.execute(command, *args, **kw)
            return self._execute_later(command, args, kw, exclusive=False)
        if route == _PUBSUB:
            return self.execute_pubsub(command, *args)
        if route == _REFUSED:
            raise RedisError(
                f"{_normalized(command)} would change the state of a shared pool connection: take one "
                "with 'with await pool as conn' (or use multi_exec() / pool.select())")
        return self._execute_later(command, args, kw, exclusive=True)

    def _execute_later(self, command, args, kw, *, exclusive: bool) -> asyncio.Future:
        """A future of the reply, sent once a connection is at hand, awaited or not."""
        task = asyncio.ensure_future(self._wait_execute(command, args, kw, exclusive=exclusive))
        task.add_done_callback(_ignore_result)   # a caller that went away needs no log line
        return task

    def _execute_converted(self, converter: Callable[[Any], Any], command: Arg, *args: Arg,
                           **kw: Any) -> Awaitable[Any]:
        """``execute`` whose result is ``converter(reply)``: how command methods send.

        A shared command on a free connection hands the converter to that connection's
        protocol with the command; any other route chains the conversion on ``execute``.
        """
        free = self._free
        if free and _route_cache.get(command) == _SHARED:
            conn = free[0]
            if not (conn.closed or conn.in_pubsub):
                free.rotate(-1)
                return conn._execute_converted(converter, command, *args, **kw)
        return _convert_later(self.execute(command, *args, **kw), converter)

    def execute_pubsub(self, command: Arg, *channels: Any) -> Awaitable[List[Any]]:
        """Send a subscribe-family command on the pool's pub/sub connection.

        The first call dedicates a connection to pub/sub; it stays so (even with no
        subscription left) until it closes. There is no automatic reconnect: when it
        is lost, its channels are closed, and the next call sets up a new connection.
        Returns an awaitable of the list of confirmations.
        """
        conn = self._pubsub_connection()
        if conn is not None:
            return conn.execute_pubsub(command, *channels)
        return self._wait_execute_pubsub(command, channels)

    def get_connection(self, command: Arg, args: Sequence[Any] = ()) -> Tuple[Optional[RedisConnection], Any]:
        """Return ``(connection, address)``: a free connection to send ``command`` on.

        The connection is not taken from the pool. For subscribe-family commands it is
        the pub/sub connection. The connection is None when none is free, and always
        for commands that need a connection of their own (use :meth:`acquire`).
        """
        route = _route_with_args(command, args)
        if route == _SHARED:
            conn = self._next_shared()
        elif route == _PUBSUB:
            conn = self._pubsub_connection()
        else:
            conn = None
        if conn is None:
            return None, self._address
        return conn, conn.address

    def _next_shared(self):
        """The next usable free connection (round robin), left in the pool; or None."""
        free = self._free
        for _ in range(len(free)):
            conn = free[0]
            free.rotate(-1)
            if not (conn.closed or conn.in_pubsub):
                return conn
        return None

    def _pubsub_connection(self):
        """The open pub/sub connection, making one of a free connection if needed; or None."""
        conn = self._pubsub_conn
        if conn is not None and not conn.closed:
            return conn
        conn = self._pop_free()
        if conn is not None:
            self._pubsub_conn = conn
        return conn

    async def _wait_execute(self, command, args, kw, *, exclusive: bool):
        conn = await self._take_connection()
        try:
            # Replies other callers still wait for on this connection: it is closed
            # on cancel only once they have arrived.
            earlier = conn.execute(b"PING") if exclusive and _pending_replies(conn) else None
            fut = conn.execute(command, *args, **kw)
        except BaseException:
            self._give_back(conn)
            raise
        if not exclusive:
            # A quick reply is due: others may pipeline behind it at once.
            self._give_back(conn)
            return await fut
        try:
            reply = await fut
        except asyncio.CancelledError:
            # Still blocked on the server: never reused, and closed only once the replies
            # owed to others on it are in (closing it now would fail their commands).
            self._used.discard(conn)
            self._releasing.discard(conn)
            self._drop(conn, after=earlier)
            raise
        except BaseException:
            self._finish_release(conn)
            raise
        self._finish_release(conn)
        return reply

    async def _wait_execute_pubsub(self, command, channels):
        conn = await self._take_connection()
        current = self._pubsub_conn
        if current is not None and not current.closed:
            self._give_back(conn)   # another caller set one up meanwhile
            conn = current
        else:
            self._used.discard(conn)
            self._pubsub_conn = conn
        return await conn.execute_pubsub(command, *channels)

    # -- pool-wide settings ----------------------------------------------------

    async def select(self, db: int) -> bool:
        """Switch the pool to database ``db``.

        Free connections switch now (commands sent after this call run on ``db``);
        connections in use are dropped when released; new ones open on ``db``.
        """
        if isinstance(db, bool) or not isinstance(db, int):
            raise TypeError(f"DB must be of int type, not {db!r}")
        if db < 0:
            raise ValueError(f"DB must be greater or equal 0, got {db!r}")
        conns = [conn for conn in self._free if not conn.closed]
        taken = None
        if not conns:
            taken = await self._take_connection()
            conns = [taken]
        replies = [conn.execute(b"SELECT", db) for conn in conns]
        try:
            for outcome in await asyncio.gather(*replies, return_exceptions=True):
                if isinstance(outcome, BaseException):
                    raise outcome
        except BaseException:
            # All or nothing: a connection that switched, or may yet, is dropped.
            for conn, reply in zip(conns, replies):
                if _refused(reply) and conn.db == self._db:
                    if conn is taken:
                        self._give_back(conn)
                else:
                    self._used.discard(conn)
                    self._drop(conn)
            raise
        self._db = db
        if taken is not None:
            self._give_back(taken)
        for conn in list(self._free):
            if conn.db != db:   # opened while the SELECTs were on their way
                self._drop(conn)
        return True

    async def auth(self, password: str, *, username: Optional[str] = None) -> None:
        """Authenticate the free connections; new ones will too (``username`` for ACL users)."""
        await self._on_free_connections(lambda conn: conn.auth(password, username=username))
        self._password = password
        self._username = username

    async def _on_free_connections(self, send) -> None:
        """Call ``send(conn)`` on every free connection (one taken if none is) and await all."""
        conns = [conn for conn in self._free if not conn.closed]
        if conns:
            await asyncio.gather(*[send(conn) for conn in conns])
            return
        conn = await self._take_connection()
        try:
            await send(conn)
        finally:
            self._give_back(conn)

    @property
    def in_pubsub(self) -> int:
        """The number of subscriptions of the pub/sub connection (0 if there is none)."""
        conn = self._pubsub_conn
        if conn is not None and not conn.closed:
            return conn.in_pubsub
        return 0

    @property
    def pubsub_channels(self) -> Mapping[Any, Channel]:
        """Read-only dict of the pub/sub connection's channels."""
        conn = self._pubsub_conn
        if conn is not None and not conn.closed:
            return conn.pubsub_channels
        return _CoercedKeysView({})

    @property
    def pubsub_patterns(self) -> Mapping[Any, Channel]:
        """Read-only dict of the pub/sub connection's patterns."""
        conn = self._pubsub_conn
        if conn is not None and not conn.closed:
            return conn.pubsub_patterns
        return _CoercedKeysView({})

    # -- taking and giving back connections ------------------------------------

    async def acquire(self, command: Optional[Arg] = None, args: Sequence[Any] = ()) -> RedisConnection:
        """Take a connection for exclusive use; give it back with :meth:`release`.

        Opens a connection if none is free and the pool is below ``maxsize``, else
        waits for one. ``command`` and ``args`` are accepted for compatibility.
        Raises PoolClosedError if the pool is closed.

        If replies to commands other callers sent on the connection while it was free
        are still on their way, a PING goes first: its reply marks where this user's
        replies begin (see :meth:`release`).
        """
        while True:
            conn = await self._take_connection()
            if conn.closed:
                self._give_back(conn)   # lost while being handed over: drop it, take another
                continue
            if not _pending_replies(conn):
                return conn
            try:
                fence = conn.execute(b"PING")
            except ConnectionClosedError:
                self._give_back(conn)   # lost while being handed over: drop it, take another
                continue
            fence.add_done_callback(_ignore_result)
            self._fences[conn] = fence
            return conn

    async def _take_connection(self):
        """A free or new connection, put in ``_used``; waits at maxsize."""
        while True:
            if self._closed:
                raise PoolClosedError("Pool is closed")
            await self._fill_free()
            conn = self._pop_free()
            if conn is not None:
                self._used.add(conn)
                if self._health_check_interval is not None and not await self._healthy(conn):
                    continue
                return conn
            if self.size < self._maxsize:
                conn = await self._open_connection()
                self._used.add(conn)
                return conn
            conn = await self._wait_for_connection()
            if conn is not None:
                return conn

    async def _healthy(self, conn) -> bool:
        """PING a taken connection that has been free longer than the health check interval.

        A connection that fails is dropped (and False returned).
        """
        now = asyncio.get_running_loop().time()
        interval = self._health_check_interval
        if interval is None or now - self._free_since.pop(conn, now) < interval:
            return True
        try:
            await conn.execute(b"PING")
            return True
        except RedisError:
            self._used.discard(conn)
            self._drop(conn)
            return False
        except BaseException:
            self._give_back(conn)
            raise

    def release(self, conn: AbcConnection) -> None:
        """Give back a connection taken with :meth:`acquire` (not a coroutine).

        Dropped (closed) instead if it is closed, in a transaction, in pub/sub mode,
        on another db than the pool, or waiting for replies to commands sent since
        :meth:`acquire`. Replies to earlier commands (sent by other callers while the
        connection was free) do not count: if they are still on their way, the
        connection goes back once they have arrived.
        """
        if conn not in self._used:
            raise ValueError(f"{conn!r} was not acquired from this pool")
        self._used.discard(conn)
        fence = self._fences.pop(conn, None)
        if fence is None or fence.done():
            self._finish_release(conn)
        else:
            self._releasing.add(conn)
            fence.add_done_callback(lambda _: self._finish_release(conn))

    def _finish_release(self, conn) -> None:
        """Put a taken connection back, or drop it if it must not be reused.

        A WATCH left active is undone by an UNWATCH sent now, ahead of anything the
        next user sends on the connection.
        """
        self._used.discard(conn)
        self._releasing.discard(conn)
        reason = self._unclean(conn)
        if reason is None and getattr(conn, "watching", False):
            try:
                conn.execute(b"UNWATCH").add_done_callback(_ignore_result)
            except ConnectionClosedError:
                reason = "closed"
        if reason is None:
            self._give_back(conn)
            return
        if not conn.closed:
            logger.warning("Connection %r is %s, closing it.", conn, reason)
        self._drop(conn)

    def _unclean(self, conn) -> Optional[str]:
        """Why ``conn`` must not be reused, or None."""
        if self._closed or conn.closed:
            return "closed"
        if conn.in_transaction:
            return "in transaction"
        if conn.in_pubsub:
            return "in subscribe mode"
        if conn.db != self._db:
            return f"on db {conn.db} instead of {self._db}"
        if _pending_replies(conn):
            return "waiting for replies"
        return None

    def _give_back(self, conn) -> None:
        """Hand a connection to the first waiter, or put it back among the free ones."""
        self._used.discard(conn)
        if self._closed or conn.closed:
            self._drop(conn)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._used.add(conn)
                waiter.set_result(conn)
                return
        self._append_free(conn)

    def _append_free(self, conn) -> None:
        if self._health_check_interval is not None:
            self._free_since[conn] = asyncio.get_running_loop().time()
        self._free.append(conn)

    def _pop_free(self):
        """Take a usable free connection out of the pool, or return None."""
        conn = self._next_shared()
        if conn is not None:
            self._free.remove(conn)
        return conn

    async def _wait_for_connection(self):
        """Wait at maxsize: a handed-over connection, or None when a place may have freed up."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                conn = waiter.result()   # woken, then cancelled: pass it on
                if conn is None:
                    self._wake_waiter()
                else:
                    self._give_back(conn)
            else:
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass
            raise

    def _wake_waiter(self) -> None:
        """Tell the first waiter that a place may be free (it retries)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    # -- opening, watching and dropping connections ----------------------------

    async def _fill_free(self) -> None:
        """Open connections until the pool holds ``minsize``."""
        while self.size < self._minsize:
            conn = await self._open_connection()
            self._append_free(conn)

    async def _open_connection(self):
        self._creating += 1
        try:
            conn = await create_connection(
                self._address, db=self._db, password=self._password, ssl=self._ssl,
                encoding=self._encoding, parser=self._parser_class,
                timeout=self._create_connection_timeout, connection_cls=self._connection_cls,
                username=self._username, name=self._name, protocol=self._protocol_version,
                resp3_types=self._resp3_types)
            if self._password is None and not self._db and self._name is None and self._protocol_version == 2:
                await _checked(conn)   # no handshake reply told us the server took it
            if self._client_cache is not None:
                await _tracked(conn, self._client_cache)
        except BaseException:
            self._creating -= 1
            self._wake_waiter()
            self._check_closed()
            raise
        self._creating -= 1
        self._conns.add(conn)
        watcher = asyncio.ensure_future(conn.wait_closed())
        watcher.add_done_callback(lambda fut: self._forget(conn, fut))
        self._watchers[conn] = watcher
        if self._closed:
            conn.close()
            raise PoolClosedError("Pool is closed")
        return conn

    def _drop(self, conn, after: Optional[asyncio.Future] = None) -> None:
        """Close a connection that is no longer wanted (once ``after`` is done, if given);
        it stops counting at once."""
        try:
            self._free.remove(conn)
        except ValueError:
            pass
        if conn in self._conns:
            self._conns.discard(conn)
            self._closing.add(conn)   # until its watcher sees it closed
        _close_after(conn, after)

    def _forget(self, conn, watcher: asyncio.Future) -> None:
        """Called when a connection has closed: it no longer counts, a place is free."""
        _ignore_result(watcher)
        self._watchers.pop(conn, None)
        self._fences.pop(conn, None)
        self._free_since.pop(conn, None)
        self._conns.discard(conn)
        self._closing.discard(conn)
        try:
            self._free.remove(conn)
        except ValueError:
            pass
        if conn is self._pubsub_conn:
            self._pubsub_conn = None
        self._wake_waiter()
        self._check_closed()

    # -- closing -----------------------------------------------------------------

    async def clear(self) -> None:
        """Close and remove all free connections (commands pending on them fail)."""
        conns = list(self._free)
        for conn in conns:
            self._drop(conn)
        await asyncio.gather(*[conn.wait_closed() for conn in conns])

    def close(self) -> None:
        """Close all connections, free and in use, and mark the pool closed."""
        if self._closed:
            return
        self._closed = True
        self._free.clear()
        for conn in list(self._conns):
            conn.close()
        while self._waiters:
            self._wake_waiter()
        self._check_closed()

    async def wait_closed(self) -> None:
        """Wait until the pool is closed and all its connections are."""
        if self._is_shut():
            return
        waiter = asyncio.get_running_loop().create_future()
        self._close_waiters.append(waiter)
        await waiter

    def _is_shut(self) -> bool:
        return self._closed and not self._conns and not self._closing and not self._creating

    def _check_closed(self) -> None:
        if self._is_shut():
            waiters, self._close_waiters = self._close_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    # -- context managers --------------------------------------------------------

    def __enter__(self) -> NoReturn:
        raise RuntimeError("'await' should be used as a context manager expression")

    def __exit__(self, *args: object) -> None:
        pass  # pragma: no cover

    def __await__(self) -> Generator[Any, None, _PooledConnection]:
        # ``with await pool as conn:``
        conn = yield from self.acquire().__await__()
        return _PooledConnection(self, conn)

    def get(self) -> _PooledConnection:
        """Async context manager taking a connection: ``async with pool.get() as conn``."""
        return _PooledConnection(self)


class _PooledConnection:
    """A connection taken from a pool and released on exit (``with`` and ``async with``)."""

    __slots__ = ("_pool", "_conn")

    def __init__(self, pool: ConnectionsPool, conn: Optional[RedisConnection] = None) -> None:
        self._pool = pool
        self._conn: Any = conn   # None until taken (``async with``); ``with await pool`` passes it

    def __enter__(self) -> RedisConnection:
        return self._conn

    def __exit__(self, *exc_info: object) -> None:
        self._release()

    async def __aenter__(self) -> RedisConnection:
        self._conn = await self._pool.acquire()
        return self._conn

    async def __aexit__(self, *exc_info: object) -> None:
        self._release()

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._pool.release(conn)
