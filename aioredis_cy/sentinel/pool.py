"""``SentinelPool``: finds a service's master and replicas through Redis Sentinel and follows failovers.

``master_for(service)`` and ``slave_for(service)`` return a :class:`ManagedPool`, a
:class:`~aioredis_cy.pool.ConnectionsPool` whose address comes from the sentinels:

* Its first connection asks the sentinels, in turn, for the service's master (SENTINEL
  MASTER) or replicas (SENTINEL SLAVES), skipping servers flagged down or disconnected;
  a replica is picked at random among the healthy ones. Every new connection then checks
  with ROLE that the server has the expected role (unless the ACL user may not run ROLE).
* The pool subscribes to each sentinel's ``+switch-master`` and ``+odown`` events. When
  the master moves or is objectively down, the master pool forgets its address and closes
  its connections to it: commands still waiting there fail with
  :class:`~aioredis_cy.errors.ConnectionForcedCloseError`, and the next command asks the
  sentinels again. A replica pool does the same when its replica is promoted.
* A ``READONLY`` reply on a master pool (the server was demoted) has the same effect, and a
  server that can no longer be reached is looked up again before a new connection fails.

Lookups give up with :class:`~aioredis_cy.errors.MasterNotFoundError` or
:class:`~aioredis_cy.errors.SlaveNotFoundError` when no sentinel knows a usable server, and
:class:`~aioredis_cy.errors.MasterReplyError`/:class:`~aioredis_cy.errors.SlaveReplyError`
(``args``: message and the server's error) when the server refuses the connection, e.g. a
wrong password. Every step is bounded by the pool's ``timeout`` (``discover_timeout``).
"""
from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, Dict, List, NamedTuple, Optional, Tuple, Type

from .._typing import Address, Arg, SSLOption
from ..connection import _check_address, _check_protocol, create_connection
from ..errors import (
    ConnectionClosedError,
    MasterNotFoundError,
    MasterReplyError,
    NoPermissionError,
    PoolClosedError,
    ReadOnlyError,
    RedisError,
    ReplyError,
    SlaveNotFoundError,
    SlaveReplyError,
)
from ..log import sentinel_logger as logger
from ..pool import ConnectionsPool, _check_size, create_pool
from ..pubsub import Receiver
from ..util import _check_positive_timeout, _mask_uri

__all__ = ["create_sentinel_pool", "SentinelPool", "ManagedPool"]

# Sentinel flags of a server that must not be used.
_BAD_FLAGS = frozenset(("s_down", "o_down", "disconnected"))
# The sentinel events a SentinelPool follows.
_EVENTS = ("+switch-master", "+odown")
# Seconds between attempts to subscribe again to a sentinel whose connection was lost.
_RESUBSCRIBE_DELAY = 1.0
# Failures meaning "this server cannot be reached now".
_UNREACHABLE = (OSError, asyncio.TimeoutError, ConnectionClosedError)


class _Role(NamedTuple):
    """What a lookup is for, and the errors it raises."""

    name: str
    not_found: Type[RedisError]
    reply_error: Type[RedisError]


_MASTER = _Role("master", MasterNotFoundError, MasterReplyError)
_SLAVE = _Role("slave", SlaveNotFoundError, SlaveReplyError)


class DiscoverError(Exception):
    """A sentinel knows no usable server for a service (internal to discovery)."""


class BadState(DiscoverError):
    """The sentinel flags the server as down or disconnected."""


class UnknownService(DiscoverError):
    """The sentinel does not monitor the service."""


class RoleMismatch(DiscoverError):
    """The server does not have the role the sentinel reported."""


def _shown(address) -> str:
    """A sentinel address for messages and logs, its password masked."""
    return repr(_mask_uri(address) if isinstance(address, str) else address)


def _pairs(reply) -> Dict[str, Any]:
    it = iter(reply)
    return dict(zip(it, it))


def _usable(state: Dict[str, Any]) -> bool:
    return not _BAD_FLAGS.intersection(state["flags"].split(","))


def _address_of(state: Dict[str, Any]) -> Tuple[str, int]:
    return state["ip"], int(state["port"])


async def create_sentinel_pool(sentinels: Sequence[Address], *, db: Optional[int] = None,
                               password: Optional[str] = None, encoding: Optional[str] = None,
                               minsize: int = 1, maxsize: int = 10, ssl: Optional[SSLOption] = None,
                               parser: Optional[Callable[..., Any]] = None, timeout: float = 0.2,
                               loop: Any = None, username: Optional[str] = None,
                               sentinel_password: Optional[str] = None,
                               sentinel_username: Optional[str] = None,
                               sentinel_ssl: Optional[SSLOption] = None,
                               protocol: Optional[int] = None) -> SentinelPool:
    """Create a :class:`SentinelPool` and connect it to the sentinels (see :meth:`SentinelPool.discover`).

    ``sentinels`` lists ``(host, port)`` pairs or ``redis://``/``rediss://`` URIs.
    ``db``, ``password``, ``username``, ``encoding``, ``ssl``, ``minsize`` and ``maxsize``
    apply to the connections to masters and replicas; ``sentinel_password``,
    ``sentinel_username`` and ``sentinel_ssl`` to the connections to the sentinels.
    ``protocol=3`` makes the master and replica connections speak RESP3 (the sentinel
    connections stay on RESP2). ``timeout`` bounds each discovery step. ``loop`` is
    accepted for compatibility and ignored.
    """
    pool = SentinelPool(sentinels, db=db, password=password, ssl=ssl, encoding=encoding, parser=parser,
                        minsize=minsize, maxsize=maxsize, timeout=timeout, username=username,
                        sentinel_password=sentinel_password, sentinel_username=sentinel_username,
                        sentinel_ssl=sentinel_ssl, protocol=protocol)
    try:
        await pool.discover()
    except BaseException:
        pool.close()
        await pool.wait_closed()
        raise
    return pool


class SentinelPool:
    """Connections to the sentinels, and a :class:`ManagedPool` per service master or replica asked for.

    See the module docstring for how the managed pools find their servers and follow failovers.
    """

    def __init__(self, sentinels, *, db=None, password=None, ssl=None, encoding=None, parser=None,
                 minsize, maxsize, timeout, loop=None, username=None, sentinel_password=None,
                 sentinel_username=None, sentinel_ssl=None, protocol=None) -> None:
        if not isinstance(sentinels, (list, tuple)):
            raise TypeError(f"sentinels must be a list or tuple of addresses, got {type(sentinels).__name__}")
        if not sentinels:
            raise ValueError("sentinels must not be empty")
        for address in sentinels:
            _check_address(address)
        _check_size("minsize", minsize, 0)
        _check_size("maxsize", maxsize, 1)
        if minsize > maxsize:
            raise ValueError(f"minsize ({minsize}) must not be greater than maxsize ({maxsize})")
        _check_positive_timeout(timeout)
        self._sentinels = list(dict.fromkeys(
            address if isinstance(address, str) else tuple(address) for address in sentinels))
        self._timeout = timeout
        self._redis_settings = {"db": db, "password": password, "username": username, "ssl": ssl,
                                "encoding": encoding, "parser": parser,
                                "protocol": _check_protocol(protocol)}
        self._sentinel_settings = {"password": sentinel_password, "username": sentinel_username,
                                   "ssl": sentinel_ssl, "parser": parser}
        self._minsize = minsize
        self._maxsize = maxsize
        self._pools: List[ConnectionsPool] = []   # one per reachable sentinel
        self._masters: Dict[str, ManagedPool] = {}
        self._slaves: Dict[str, ManagedPool] = {}
        self._listeners: List[asyncio.Future] = []
        self._closed = False
        self._close_waiters: List[asyncio.Future] = []

    def __repr__(self) -> str:
        shown = ", ".join(map(_shown, self._sentinels))
        return f"<{type(self).__name__} sentinels:[{shown}], connected:{len(self._pools)}>"

    @property
    def discover_timeout(self) -> Optional[float]:
        """Seconds allowed for each sentinel query, connection and role check during discovery."""
        return self._timeout

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    # -- services ----------------------------------------------------------------

    def master_for(self, service: str) -> ManagedPool:
        """The pool of connections to ``service``'s master (the same one until it is closed)."""
        return self._managed(self._masters, service, _MASTER)

    def slave_for(self, service: str) -> ManagedPool:
        """The pool of connections to one of ``service``'s replicas (the same one until it is closed)."""
        return self._managed(self._slaves, service, _SLAVE)

    def _managed(self, pools: Dict[str, ManagedPool], service, role: _Role) -> ManagedPool:
        if self._closed:
            raise PoolClosedError("Sentinel pool is closed")
        if isinstance(service, bytes):
            service = service.decode()   # the events name services as str
        pool = pools.get(service)
        if pool is None or pool.closed:
            pool = pools[service] = ManagedPool(
                self, service, role is _MASTER, minsize=self._minsize, maxsize=self._maxsize,
                **self._redis_settings)
        return pool

    async def discover_master(self, service, timeout):
        """Ask the sentinels for ``service``'s master; return a new connection to it, its role checked.

        Raises MasterNotFoundError when no sentinel knows a usable master, MasterReplyError
        when the master refuses the connection.
        """
        return await self._discover_connection(service, _MASTER, timeout)

    async def discover_slave(self, service, timeout, **kwargs):
        """Ask the sentinels for ``service``'s replicas; return a new connection to one, its role checked.

        Raises SlaveNotFoundError or SlaveReplyError. ``kwargs`` are accepted for compatibility.
        """
        return await self._discover_connection(service, _SLAVE, timeout)

    async def _discover_connection(self, service, role: _Role, timeout):
        address = await self._find_address(service, role, timeout)
        return await self._connect_service(service, role, partial(
            create_connection, address, timeout=timeout, **self._redis_settings))

    async def _find_address(self, service, role: _Role, timeout) -> Tuple[str, int]:
        """The address of a usable server of ``service``, from the first sentinel that knows one."""
        ask = self._master_address if role is _MASTER else self._slave_address
        for pool in self._sentinel_pools():
            try:
                return await asyncio.wait_for(ask(pool, service), timeout)
            except (DiscoverError, PoolClosedError, *_UNREACHABLE) as exc:
                logger.debug("Sentinel %s has no %s for %s: %r", _shown(pool.address), role.name, service,
                             exc)
            except ReplyError as exc:
                if "No such master" not in str(exc):
                    raise role.reply_error(f"Service {service} error", exc) from exc
                logger.debug("Sentinel %s does not know %s", _shown(pool.address), service)
        raise role.not_found(f"No {role.name} found for {service}")

    async def _master_address(self, pool, service) -> Tuple[str, int]:
        state = _pairs(await pool.execute(b"SENTINEL", b"MASTER", service, encoding="utf-8"))
        if not state:
            raise UnknownService(service)
        if not _usable(state):
            raise BadState(state)
        return _address_of(state)

    async def _slave_address(self, pool, service) -> Tuple[str, int]:
        replies = await pool.execute(b"SENTINEL", b"SLAVES", service, encoding="utf-8")
        usable = [_address_of(state) for state in map(_pairs, replies)
                  if _usable(state) and state.get("master-link-status", "ok") == "ok"]
        if not usable:
            raise BadState(f"no usable replica of {service}")
        return random.choice(usable)

    async def _connect_service(self, service, role: _Role, open_connection):
        """Await ``open_connection()`` and check the server's role, raising ``role``'s errors."""
        try:
            conn = await open_connection()
            try:
                await asyncio.wait_for(self._verify_service_role(conn, role.name), self._timeout)
            except BaseException:
                conn.close()
                raise
        except ReplyError as exc:
            raise role.reply_error(f"Service {service} error", exc) from exc
        except (DiscoverError, *_UNREACHABLE) as exc:
            raise role.not_found(f"No {role.name} found for {service}: {exc!r}") from exc
        return conn

    async def _verify_service_role(self, conn, role: str) -> None:
        try:
            reply = await conn.execute(b"ROLE", encoding="utf-8")
        except NoPermissionError:
            return   # an ACL user without ROLE: trust the sentinels
        if reply[0] != role:
            raise RoleMismatch(reply)

    # -- sentinel commands -----------------------------------------------------------

    def execute(self, command: Arg, *args: Arg, **kwargs: Any) -> Awaitable[Any]:
        """Send a command to a sentinel; returns an awaitable of the reply.

        Sentinels with an open connection are tried first; the next one is tried while
        a sentinel cannot be reached.
        """
        if self._closed:
            raise PoolClosedError("Sentinel pool is closed")
        return self._execute(command, args, kwargs)

    async def _execute(self, command, args, kwargs):
        pools = self._sentinel_pools()
        if not pools:
            raise RedisError("Not connected to any sentinel (see discover())")
        for pool in pools[:-1]:
            try:
                return await pool.execute(command, *args, **kwargs)
            except (OSError, asyncio.TimeoutError) as exc:   # could not connect: nothing was sent
                logger.debug("Sentinel %s unreachable: %r", _shown(pool.address), exc)
        return await pools[-1].execute(command, *args, **kwargs)

    def _sentinel_pools(self) -> List[ConnectionsPool]:
        """The sentinel pools, those with a free connection first."""
        return sorted(self._pools, key=lambda pool: pool.freesize == 0)

    # -- connecting to the sentinels and following their events ------------------------

    async def discover(self, timeout: Optional[float] = None) -> None:
        """Connect to the sentinels reachable within ``timeout`` (``discover_timeout`` by default).

        Replaces the sentinel connections made by an earlier call and subscribes to each
        sentinel's failover events. Raises RedisError if no sentinel can be reached.
        """
        if self._closed:
            raise PoolClosedError("Sentinel pool is closed")
        if timeout is None:
            timeout = self.discover_timeout
        tasks = [asyncio.ensure_future(self._connect_sentinel(address, timeout))
                 for address in self._sentinels]
        try:
            results = await asyncio.gather(*tasks)
        except BaseException:   # cancelled: close what got connected
            for result in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(result, tuple):
                    result[0].close()
            raise
        connected = [result for result in results if isinstance(result, tuple)]
        if self._closed:
            for pool, _ in connected:
                pool.close()
            raise PoolClosedError("Sentinel pool is closed")
        if not connected:
            errors = [result for result in results if isinstance(result, BaseException)]
            shown = ", ".join(map(_shown, self._sentinels))
            raise RedisError(f"Could not connect to any sentinel of [{shown}]: {errors!r}") from errors[-1]
        old_pools, self._pools = self._pools, [pool for pool, _ in connected]
        for pool in old_pools:
            pool.close()   # their listeners end with PoolClosedError
        self._listeners = [task for task in self._listeners if not task.done()]
        self._listeners += [asyncio.ensure_future(self._listen(pool, receiver))
                            for pool, receiver in connected]
        await asyncio.gather(*[pool.wait_closed() for pool in old_pools])

    async def _connect_sentinel(self, address, timeout):
        """``(pool, receiver)`` for a sentinel that answers the subscription to its events, or the error."""
        try:
            pool = await create_pool(address, minsize=1, maxsize=2, create_connection_timeout=timeout,
                                     **self._sentinel_settings)
        except Exception as exc:
            logger.debug("Could not connect to sentinel %s: %r", _shown(address), exc)
            return exc
        try:
            return pool, await self._subscribe(pool)
        except BaseException as exc:
            pool.close()
            if not isinstance(exc, Exception):
                raise
            logger.debug("Could not subscribe to sentinel %s: %r", _shown(address), exc)
            return exc

    @staticmethod
    async def _subscribe(pool) -> Receiver:
        receiver = Receiver()
        await pool.execute_pubsub(b"SUBSCRIBE", *[receiver.channel(name) for name in _EVENTS])
        return receiver

    async def _listen(self, pool, receiver: Optional[Receiver]) -> None:
        """Apply a sentinel's events; subscribe again (after a pause) when its connection is lost."""
        while True:
            while receiver is not None and await receiver.wait_message():
                channel, data = await receiver.get(encoding="utf-8")
                self._on_event(channel.name.decode(), data)
            await asyncio.sleep(_RESUBSCRIBE_DELAY)
            try:
                receiver = await self._subscribe(pool)
            except PoolClosedError:
                return
            except Exception as exc:
                logger.debug("Could not subscribe to sentinel %s: %r", _shown(pool.address), exc)
                receiver = None

    def _on_event(self, event: str, data: str) -> None:
        logger.debug("Sentinel event %s %s", event, data)
        parts = data.split()
        try:
            if event == "+switch-master" and len(parts) >= 5:
                service, old, new = parts[0], (parts[1], int(parts[2])), (parts[3], int(parts[4]))
                self._stop_using(self._masters, service, old, f"master moved to {new}")
                self._stop_using(self._slaves, service, new, "replica promoted to master")
            elif event == "+odown" and len(parts) >= 4 and parts[0] == "master":
                self._stop_using(self._masters, parts[1], (parts[2], int(parts[3])), "master is down")
        except ValueError:
            logger.warning("Unexpected sentinel event %s %r", event, data)

    @staticmethod
    def _stop_using(pools: Dict[str, ManagedPool], service: str, address, reason: str) -> None:
        pool = pools.get(service)
        if pool is not None and pool.address == address:
            pool._switch(reason)

    # -- closing -------------------------------------------------------------------------

    def close(self) -> None:
        """Close all connections, to the sentinels and to the services' servers."""
        if self._closed:
            return
        self._closed = True
        for task in self._listeners:
            task.cancel()
        for pool in self._all_pools():
            pool.close()
        waiters, self._close_waiters = self._close_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_closed(self) -> None:
        """Wait until :meth:`close` was called and every connection is closed."""
        if not self._closed:
            waiter = asyncio.get_running_loop().create_future()
            self._close_waiters.append(waiter)
            await waiter
        await asyncio.gather(*self._listeners, return_exceptions=True)
        await asyncio.gather(*[pool.wait_closed() for pool in self._all_pools()])

    def _all_pools(self) -> List[ConnectionsPool]:
        return [*self._pools, *self._masters.values(), *self._slaves.values()]


class ManagedPool(ConnectionsPool):
    """A pool of connections to a service's master (or one of its replicas), found through Sentinel.

    ``address`` is None until the sentinels have been asked. See the module docstring.
    """

    def __init__(self, sentinel: SentinelPool, service, is_master: bool, db=None, password=None,
                 encoding=None, parser=None, *, minsize, maxsize, ssl=None, loop=None, username=None,
                 protocol=None) -> None:
        super().__init__(None, db, password, encoding, minsize=minsize, maxsize=maxsize, ssl=ssl,
                         parser=parser, create_connection_timeout=sentinel.discover_timeout,
                         username=username, protocol=protocol)
        self._sentinel = sentinel
        self._service = service
        self._is_master = is_master
        self._role = _MASTER if is_master else _SLAVE
        self._discovery: Optional[asyncio.Future] = None
        # Bumped whenever the pool stops using a server: older lookups and replies are stale.
        self._generation = 0

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._role.name} of {self._service!r} at {self._address!r}>"

    def execute(self, command, *args, **kw):
        """Send a command (see :meth:`ConnectionsPool.execute`); on a master, a READONLY reply
        makes the pool look for the master again."""
        result = super().execute(command, *args, **kw)
        if not self._is_master:
            return result
        if asyncio.isfuture(result):
            result.add_done_callback(partial(self._check_reply, self._generation))
            return result
        return self._checked(result, self._generation)

    def _check_reply(self, generation: int, fut: asyncio.Future) -> None:
        if not fut.cancelled() and isinstance(fut.exception(), ReadOnlyError):
            self._readonly(generation)

    async def _checked(self, awaitable, generation: int):
        try:
            return await awaitable
        except ReadOnlyError:
            self._readonly(generation)
            raise

    def _readonly(self, generation: int) -> None:
        if generation == self._generation:
            self._switch("READONLY reply: the server is a replica now")

    def _switch(self, reason: str) -> None:
        """Stop using the current server: forget its address and close every connection to it."""
        logger.info("%s of %s at %r: %s; looking for it again", self._role.name, self._service,
                    self._address, reason)
        self._generation += 1
        self._address = None
        self._discovery = None
        for conn in list(self._conns):
            conn.close()

    async def _open_connection(self):
        """A new connection to the service's server, asking the sentinels where it is when needed."""
        connect = partial(self._sentinel._connect_service, self._service, self._role,
                          super()._open_connection)
        address = self._address
        if address is not None:
            try:
                return await connect()
            except (MasterNotFoundError, SlaveNotFoundError):
                # Gone or demoted: look it up again.
                if self._address == address:
                    self._address = None
        await self._discover()
        return await connect()

    async def _discover(self) -> None:
        """Set the address from the sentinels; concurrent callers share one lookup."""
        while self._address is None:
            if self._closed:
                raise PoolClosedError("Pool is closed")
            task = self._discovery
            if task is None:
                task = self._discovery = asyncio.ensure_future(self._sentinel._find_address(
                    self._service, self._role, self._sentinel.discover_timeout))
                task.add_done_callback(partial(self._discovered, self._generation))
            # Counted as a connection being opened, so concurrent callers respect maxsize.
            self._creating += 1
            try:
                await asyncio.wait((task,))
            except BaseException:
                self._wake_waiter()
                raise
            finally:
                self._creating -= 1
                self._check_closed()
            if self._closed:
                raise PoolClosedError("Pool is closed")
            error = None if task.cancelled() else task.exception()
            if error is not None:
                self._wake_waiter()
                raise error

    def _discovered(self, generation: int, task: asyncio.Future) -> None:
        if self._discovery is task:
            self._discovery = None
        if task.cancelled() or task.exception() is not None:
            return
        if generation == self._generation and not self._closed:
            self._address = task.result()
            logger.debug("Discovered new address %r for %s", self._address, self._service)

    def close(self) -> None:
        """Close all connections and stop looking for the server."""
        if self._discovery is not None:
            self._discovery.cancel()
        super().close()
