"""The low-level cluster client: slot map, one shared pool per node, redirects and retries.

The request path: ``execute`` is the C ``Router`` (see ``_cluster.pyx``), which hands
the command to the pool of the node serving its slot at once and returns a future.
Only a command the router cannot place, or whose reply is a redirect, a retryable
error or a lost connection, comes back here, to :meth:`Cluster._attempts`.

Topology: the slot map is loaded at start and refreshed in the background
(:meth:`Cluster.schedule_refresh`): after a MOVED (which patches its slot at once),
a CLUSTERDOWN, a lost connection, or every ``state_reload_interval``. Refreshes run
one at a time, at most every REFRESH_MIN_INTERVAL seconds plus jitter; each asks
REFRESH_NODES nodes at once and keeps the view with the highest epoch. Pools of
nodes still in the cluster are kept; pools of nodes that left are closed.
"""
import asyncio
import logging
import random
import time
import types
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from .._cluster import CROSS_SLOT, NO_KEYS, Route, Router, keys_slot
from .._crc16 import SLOTS
from ..cache import ClientCache, Fill
from ..commands import _check_cache
from ..commands.transaction import _copy_outcome
from ..connection import _check_protocol
from ..errors import AuthError, ConnectionClosedError, PoolClosedError, ReplyError
from ..util import parse_url
from .command_info import ServerCommands
from .errors import (
    AskError,
    ClusterClosedError,
    ClusterDownError,
    ClusterStateError,
    CrossSlotError,
    LoadingError,
    MovedError,
    TryAgainError,
    UncoveredSlotError,
    redirect_error,
)
from .keys import BLOCKING, KEY_POSITIONS, KEYLESS, READ_ONLY, keys_at, normalized, slot_of, static_keys
from .pools import NodePools
from .pubsub import ClusterSubscriptions
from .state import ClusterNode, ClusterState, parse_cluster_slots

__all__ = ["Cluster", "create_cluster"]

logger = logging.getLogger("aioredis_cy.cluster")

Address = Tuple[str, int]
# The gap between two topology refreshes, and the random part added to it.
REFRESH_MIN_INTERVAL = 0.1
REFRESH_JITTER = 0.05
# How many nodes a refresh asks at once (the highest epoch wins).
REFRESH_NODES = 3
# Seconds to open a connection to a node when ``connect_timeout`` is not given.
CONNECT_TIMEOUT = 1.0
# Command spellings whose Route is remembered (beyond it, looked up each time).
ROUTES_LIMIT = 4096
_RETRYABLE = (TryAgainError, ClusterDownError, LoadingError)
# Failures after the command may have been written: only a read-only one is sent again.
_MAYBE_SENT = (ConnectionClosedError, asyncio.TimeoutError, asyncio.CancelledError)
# Failures before anything was written (no pool, no connection): any command may be sent again.
_NOT_SENT = (PoolClosedError, OSError)
_LOST = _MAYBE_SENT + _NOT_SENT


def _resendable(error: BaseException, read_only: bool) -> bool:
    """After this lost-connection error, may the command be sent again?"""
    if isinstance(error, _MAYBE_SENT):   # (TimeoutError is an OSError on Python 3.11+)
        return read_only
    return isinstance(error, _NOT_SENT)


def _startup_address(node) -> Tuple[Address, Dict[str, Any]]:
    if isinstance(node, str):
        address, options = parse_url(node)
        if not isinstance(address, tuple):
            raise ValueError(f"cluster startup node must be host:port, got {node!r}")
        return address, options
    host, port = node
    return (str(host), int(port)), {}


def _moved_slots(old: ClusterState, new: ClusterState) -> set:
    """The slots whose primary differs between two states."""
    def addr(node):
        return None if node is None else node.addr
    return {slot for slot, before, after in zip(range(SLOTS), old.owners(), new.owners())
            if addr(before) != addr(after)}


def _check_delay(name: str, value) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")


def _send(pool, converter, command, args, kwargs):
    if converter is None:
        return pool.execute(command, *args, **kwargs)
    return pool._execute_converted(converter, command, *args, **kwargs)


async def _asking_on(conn, converter, command, args, kwargs):
    asking = conn.execute(b"ASKING")
    reply = _send(conn, converter, command, args, kwargs)
    try:
        await asking
    except ReplyError:
        pass   # the command's own reply says what happened
    return await reply


def _cancel_with(task: asyncio.Future, target: asyncio.Future) -> None:
    if target.cancelled():
        task.cancel()


class Cluster:
    """Routes each command to the node serving its keys' slot and follows the cluster's changes.

    Made by :func:`create_cluster`; :class:`~aioredis_cy.RedisCluster` wraps one.
    ``protocol=3`` (or ``?protocol=3`` in a startup URI) makes every node connection speak
    RESP3. With ``client_cache`` (a :class:`~aioredis_cy.ClientCache`, needs ``protocol=3``)
    every connection turns tracking on as it opens and the entries of slots that change
    owner are dropped; reads are cached through :func:`create_redis_cluster`'s client.
    """

    def __init__(self, startup_nodes: Sequence[Union[str, Tuple[str, int]]], *,
                 retry_min_delay: Optional[float] = None, retry_max_delay: Optional[float] = None,
                 max_attempts: Optional[int] = None, attempt_timeout: Optional[float] = None,
                 state_reload_interval: Optional[float] = None, follow_cluster: Optional[bool] = None,
                 idle_connection_timeout: Optional[float] = None, username: Optional[str] = None,
                 password: Optional[str] = None, encoding: Optional[str] = None,
                 pool_minsize: Optional[int] = None, pool_maxsize: Optional[int] = None,
                 connect_timeout: Optional[float] = None, ssl=None,
                 read_from_replicas: bool = False, protocol: Optional[int] = None,
                 client_cache: Optional[ClientCache] = None) -> None:
        if not startup_nodes:
            raise ValueError("startup_nodes must name at least one cluster node")
        for name, value in (("retry_min_delay", retry_min_delay), ("retry_max_delay", retry_max_delay),
                            ("attempt_timeout", attempt_timeout),
                            ("state_reload_interval", state_reload_interval),
                            ("idle_connection_timeout", idle_connection_timeout),
                            ("connect_timeout", connect_timeout)):
            _check_delay(name, value)
        if max_attempts is not None and max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts!r}")
        self._startup: List[Address] = []
        uri_options: Dict[str, Any] = {}
        for node in startup_nodes:
            address, options = _startup_address(node)
            self._startup.append(address)
            uri_options.update(options)
        self._retry_min_delay = 0.05 if retry_min_delay is None else retry_min_delay
        max_delay = 2.0 if retry_max_delay is None else retry_max_delay
        self._retry_max_delay = max(self._retry_min_delay, max_delay)
        self._max_attempts = 10 if max_attempts is None else max_attempts
        self._attempt_timeout = attempt_timeout
        self._state_reload_interval = state_reload_interval
        self._follow_cluster = bool(follow_cluster)
        self._read_from_replicas = bool(read_from_replicas)
        pool_options: Dict[str, Any] = {
            "username": username if username is not None else uri_options.get("username"),
            "password": password if password is not None else uri_options.get("password"),
            "encoding": encoding if encoding is not None else uri_options.get("encoding"),
            "ssl": ssl if ssl is not None else uri_options.get("ssl"),
            "minsize": 1 if pool_minsize is None else pool_minsize,
            "maxsize": 10 if pool_maxsize is None else pool_maxsize,
            "create_connection_timeout": CONNECT_TIMEOUT if connect_timeout is None else connect_timeout,
            "protocol": _check_protocol(protocol if protocol is not None else uri_options.get("protocol")),
        }
        if client_cache is not None:
            _check_cache(client_cache)
            if pool_options["protocol"] != 3:
                raise ValueError("client_cache needs protocol=3 (RESP3): the server pushes its invalidations "
                                 "on the connection that read the key")
            pool_options["client_cache"] = client_cache
        self._client_cache = client_cache
        self._encoding: Optional[str] = pool_options["encoding"]
        # With replica reads every connection sends READONLY: harmless on a primary, and a
        # node keeps its pool when a failover swaps its role.
        self._pools = NodePools(pool_options, read_only=self._read_from_replicas)
        self._pools.on_open = self._pool_opened
        self._router = Router(self, self._read_from_replicas, attempt_timeout)
        if type(self).execute is Cluster.execute:
            # The C fast path, with no Python frame in between (Redis binds these too).
            self.execute = self._router.execute  # type: ignore[method-assign]
            self._execute_converted = self._router.execute_converted  # type: ignore[method-assign]
        self._state: Optional[ClusterState] = None
        self._refresh_task: Optional[asyncio.Task] = None
        self._reload_task: Optional[asyncio.Task] = None
        self._last_refresh = 0.0
        self._closed = False
        self.refresh_count = 0
        self._subscriptions = ClusterSubscriptions(self)
        self._server_commands = ServerCommands(self._on_any_primary)

    def __repr__(self) -> str:
        return f"<Cluster startup={self._startup} state={self._state!r}>"

    # -- properties used by Redis -------------------------------------------

    @property
    def db(self) -> int:
        return 0

    @property
    def encoding(self) -> Optional[str]:
        return self._encoding

    @property
    def address(self) -> Address:
        return self._startup[0]

    @property
    def closed(self) -> bool:
        return self._closed

    in_transaction = False

    # -- topology -----------------------------------------------------------

    def get_cluster_state(self) -> ClusterState:
        """The current view of the cluster."""
        if self._state is None:
            raise ClusterStateError("cluster state is not loaded")
        return self._state

    def slot_master(self, slot: int) -> ClusterNode:
        """The primary serving ``slot``; UncoveredSlotError if none does."""
        node = self.get_cluster_state().slot_master(slot)
        if node is None:
            raise UncoveredSlotError(slot)
        return node

    def determine_slot(self, *keys) -> int:
        """The one slot of ``keys``; CrossSlotError if they hash to several."""
        slot = keys_slot(keys, 0, -1, 1)
        if slot == CROSS_SLOT:
            raise self._cross_slot_error(keys)
        if slot == NO_KEYS:
            raise ValueError("determine_slot needs at least one key")
        return slot

    @staticmethod
    def _cross_slot_error(keys) -> CrossSlotError:
        first = slot_of(keys[0])
        other = next(key for key in keys if slot_of(key) != first)
        return CrossSlotError(
            f"keys {[keys[0], other]!r} hash to different slots; an atomic command needs one slot "
            "(use a {hash tag} or the *_nonatomic methods)")

    async def create_pool_by_addr(self, addr: Address):
        """The pool of the node at ``addr`` (opened on first use and kept)."""
        return await self._pools.open((str(addr[0]), int(addr[1])))

    def _pool_opened(self, addr: Address, pool) -> None:
        if self._state is not None and self._state.has_addr(addr):
            self._fill_router()

    def _fill_router(self) -> None:
        """Point the router's slot tables at the pools of the current state's nodes."""
        state = self._state
        assert state is not None
        pools: Dict[Address, Any] = {}
        for node in state.nodes:
            pool = self._pools.get(node.addr)
            if pool is not None:
                pools[node.addr] = pool
        router = self._router
        router.slot_pools = [None if node is None else pools.get(node.addr) for node in state.owners()]
        router.master_pools = [pools[node.addr] for node in state.masters() if node.addr in pools]
        if self._read_from_replicas:
            by_master = {node.addr: tuple(pools[r.addr] for r in state.master_replicas(node.addr)
                                          if r.addr in pools)
                         for node in state.masters()}
            router.replica_pools = [None if node is None else by_master.get(node.addr)
                                    for node in state.owners()]

    async def _read_view(self, addr: Address) -> ClusterState:
        pool = await self.create_pool_by_addr(addr)
        info, slots = await asyncio.gather(
            pool.execute(b"CLUSTER", b"INFO", encoding="utf-8"), pool.execute(b"CLUSTER", b"SLOTS"))
        epoch = 0
        for line in info.splitlines():
            if line.startswith("cluster_current_epoch:"):
                epoch = int(line.split(":", 1)[1])
        return parse_cluster_slots(slots, addr, epoch)

    def _candidates(self) -> List[Address]:
        """Nodes to ask for the slot map: known primaries (shuffled), their replicas, the startup nodes."""
        candidates: List[Address] = []
        if self._state is not None:
            masters = [node.addr for node in self._state.masters()]
            random.shuffle(masters)
            candidates += masters
            candidates += [node.addr for node in self._state.replicas() if node.addr not in candidates]
        candidates += [addr for addr in self._startup if addr not in candidates]
        return candidates

    async def _load_state(self) -> None:
        """Ask REFRESH_NODES nodes at a time for their view until one answers; keep the highest epoch."""
        candidates = self._candidates()
        best: Optional[ClusterState] = None
        errors: List[BaseException] = []
        for start in range(0, len(candidates), REFRESH_NODES):
            views = await asyncio.gather(*(self._read_view(addr)
                                           for addr in candidates[start:start + REFRESH_NODES]),
                                         return_exceptions=True)
            for view in views:
                if isinstance(view, BaseException):
                    if not isinstance(view, Exception):
                        raise view
                    errors.append(view)
                elif view.slot_ranges and (best is None or view.epoch > best.epoch):
                    best = view
            if best is not None:
                break
        if best is None:
            if errors and all(isinstance(error, AuthError) for error in errors):
                raise errors[0]   # the credentials are wrong: say so, not "no slot map"
            raise ClusterStateError(f"no cluster node gave a usable slot map: {errors!r}")
        await self._apply_state(best)

    async def _apply_state(self, state: ClusterState) -> None:
        """Make ``state`` current: open pools of new nodes, close those of nodes that left."""
        wanted = [node.addr for node in (state.nodes if self._read_from_replicas else state.masters())]
        missing = [addr for addr in wanted if self._pools.get(addr) is None]
        await asyncio.gather(*(self.create_pool_by_addr(addr) for addr in missing), return_exceptions=True)
        if self._closed:
            return
        if self._client_cache is not None and self._state is not None:
            self._drop_cached(_moved_slots(self._state, state))
        self._state = state
        self.refresh_count += 1
        self._last_refresh = time.monotonic()
        dropped = self._pools.keep_only({node.addr for node in state.nodes} | set(self._startup))
        if dropped:
            logger.info("cluster nodes left: %s", dropped)
        self._fill_router()

    def _drop_cached(self, slots) -> None:
        """Slots changed owner: the cached entries of their keys were tracked by the old one."""
        cache = self._client_cache
        if cache is not None and slots:
            cache._invalidate_matching(lambda key: slot_of(key) in slots)

    def schedule_refresh(self) -> "asyncio.Task":
        """Start a background refresh unless one is running (rate-limited, with jitter)."""
        task = self._refresh_task
        if task is None or task.done():
            task = self._refresh_task = asyncio.ensure_future(self._refresh())
        return task

    async def _refresh(self) -> None:
        wait = self._last_refresh + REFRESH_MIN_INTERVAL - time.monotonic()
        await asyncio.sleep(max(0.0, wait) + random.uniform(0, REFRESH_JITTER))
        try:
            await self._load_state()
        except ClusterStateError as exc:
            logger.warning("cluster refresh failed: %s", exc)   # the next failure schedules another

    async def _reload_periodically(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.schedule_refresh()

    async def _start(self) -> None:
        self._router.bind_loop(asyncio.get_running_loop())
        if self._client_cache is not None:
            self._client_cache._bind(self)
        await self._load_state()
        if self._state_reload_interval:
            self._reload_task = asyncio.ensure_future(self._reload_periodically(self._state_reload_interval))

    def note_moved(self, error: MovedError) -> None:
        """Patch the slot map after a MOVED reply and schedule a refresh (unless already patched)."""
        state = self.get_cluster_state()
        current = state.slot_master(error.slot)
        if current is not None and current.addr == error.address:
            return
        state.move_slot(error.slot, error.address)
        self._drop_cached({error.slot})
        self._router.slot_pools[error.slot] = self._pools.get(error.address)
        if self._read_from_replicas:
            self._router.replica_pools[error.slot] = None
        self.schedule_refresh()

    # -- commands: the router's calls back into Python ------------------------

    def execute(self, command, *args, **kwargs):
        """Send a command to the node that serves its keys; returns a future of the reply.

        (An instance of Cluster itself has this replaced by the C router's ``execute``.)
        """
        return self._router.execute(command, *args, **kwargs)

    def _execute_converted(self, converter, command, *args, **kwargs):
        """``execute`` whose future gets ``converter(reply)``: how command methods send."""
        return self._router.execute_converted(converter, command, *args, **kwargs)

    def _closed_error(self):
        raise ClusterClosedError("cluster is closed")

    def _cross_slot(self, command, args):
        name = normalized(command)
        keys = static_keys(name, args)
        if keys is None:
            spec = self._server_commands.cached(name)
            assert spec is not None   # the router had a Route for it
            keys = keys_at(args, spec.first, spec.last, spec.step)
        raise self._cross_slot_error(keys)

    def _learn(self, command) -> Optional[Route]:
        """The Route of a command not seen yet (None: its keys must be asked for each time)."""
        try:
            name = normalized(command)
        except TypeError:
            return None
        spec = KEY_POSITIONS.get(name)
        if spec is not None:
            first, last, step = spec
            route = Route(first, last, step, name in READ_ONLY, name in BLOCKING)
        elif name in KEYLESS:
            route = Route(-1, 0, 1, name in READ_ONLY, name in BLOCKING)
        else:
            learned = self._server_commands.cached(name)
            if learned is None or learned.movable:
                return None
            route = Route(learned.first, learned.last, learned.step, learned.read_only, learned.blocking)
        try:
            if len(self._router.routes) < ROUTES_LIMIT:
                self._router.routes[command] = route
        except TypeError:   # unhashable spelling
            pass
        return route

    def _send_slowly(self, converter, command, args, kwargs):
        """The slow path from the start: a future settled by a task of its own."""
        name = normalized(command)
        return self._spawn(self._loop_future(), self._attempts(converter, command, args, kwargs, name))

    def _loop_future(self) -> asyncio.Future:
        return asyncio.get_running_loop().create_future()

    def _spawn(self, target: asyncio.Future, coro) -> asyncio.Future:
        task = asyncio.ensure_future(coro)
        task.add_done_callback(lambda done: _copy_outcome(done, target))
        target.add_done_callback(lambda done: _cancel_with(task, done))
        return target

    def _on_error(self, relay, exc: BaseException) -> None:
        """A fast-path command failed: follow a redirect or retry it, or fail its caller."""
        error = redirect_error(exc) if isinstance(exc, ReplyError) else exc
        retry = isinstance(error, (MovedError, AskError, *_RETRYABLE)) or _resendable(
            error, relay.route.read_only)
        if isinstance(error, _LOST):
            self.schedule_refresh()
        if not retry or self._max_attempts < 2:
            relay.target.set_exception(error)
            return
        name = normalized(relay.command)
        converter = relay.converter
        if type(converter) is Fill:   # a cached read is stored only as the connection it was sent on read it
            converter = converter.uncached
        self._spawn(relay.target, self._attempts(converter, relay.command, relay.args, relay.kwargs,
                                                 name, error=error, slot=relay.slot))

    def _on_timeout(self, relay) -> None:
        """A fast-path command took longer than attempt_timeout."""
        source = relay.source
        relay.source = None
        if relay.target.done():
            return
        if source is not None:
            source.cancel()   # the protocol keeps its place in line and drops the reply
        self._on_error(relay, asyncio.TimeoutError())

    async def _keys_of(self, name: bytes, command, args: Sequence) -> Sequence:
        keys = static_keys(name, args)
        if keys is not None:
            return keys
        spec = await self._server_commands.spec(name)
        return await self._server_commands.keys(spec, command, args)

    async def _on_any_primary(self, *command):
        pool = await self.create_pool_by_addr(self._random_master().addr)
        return await pool.execute(*command)

    def _read_only(self, name: bytes) -> bool:
        if name in READ_ONLY:
            return True
        learned = self._server_commands.cached(name)
        return learned is not None and learned.read_only

    def _random_master(self) -> ClusterNode:
        masters = self.get_cluster_state().masters()
        if not masters:
            raise ClusterStateError("the cluster has no primary serving slots")
        return random.choice(masters)

    async def _attempts(self, converter, command, args, kwargs, name: bytes, *,
                        error: Optional[BaseException] = None, slot: int = NO_KEYS):
        """Send until a reply that is not a redirect, within max_attempts (the first may be done)."""
        if error is None:
            keys = await self._keys_of(name, command, args)
            slot = self.determine_slot(*keys) if keys else NO_KEYS
        read_only = self._read_only(name)
        # A read that lost its replica (or could not reach it) is read from the primary.
        replica_read = read_only and not isinstance(error, _LOST)
        ask_addr: Optional[Address] = None
        attempt = 0 if error is None else 1
        while True:
            if error is not None:
                if attempt >= self._max_attempts:
                    raise error
                if isinstance(error, MovedError):
                    self.note_moved(error)
                elif isinstance(error, AskError):
                    ask_addr = error.address
                elif isinstance(error, _RETRYABLE):
                    if isinstance(error, ClusterDownError):
                        self.schedule_refresh()
                    await asyncio.sleep(self._backoff(attempt))
                elif _resendable(error, read_only):
                    replica_read = False
                    self.schedule_refresh()
                    await asyncio.sleep(self._backoff(attempt))
                else:
                    raise error
            attempt += 1
            try:
                if ask_addr is not None:
                    pool = await self.create_pool_by_addr(ask_addr)
                    ask_addr = None
                    return await self._timed(self._asking(pool, converter, command, args, kwargs))
                pool = await self.create_pool_by_addr(self._addr_for(slot, replica_read))
                return await self._timed(_send(pool, converter, command, args, kwargs))
            except ReplyError as exc:
                error = redirect_error(exc)
                if not isinstance(error, (MovedError, AskError, *_RETRYABLE)):
                    raise error from None if error is not exc else None
            except (ConnectionClosedError, asyncio.TimeoutError, *_NOT_SENT) as exc:
                error = exc   # (a CancelledError here is our caller's: it goes up)

    def _addr_for(self, slot: int, replica_read: bool) -> Address:
        if slot == NO_KEYS:
            return self._random_master().addr
        node = self._node_for(slot)
        if replica_read and self._read_from_replicas:
            replicas = self.get_cluster_state().master_replicas(node.addr)
            if replicas:
                return random.choice(replicas).addr
        return node.addr

    def _node_for(self, slot: int) -> ClusterNode:
        node = self.get_cluster_state().slot_master(slot)
        if node is None:
            self.schedule_refresh()
            raise UncoveredSlotError(slot)
        return node

    def _backoff(self, attempt: int) -> float:
        delay = min(self._retry_max_delay, self._retry_min_delay * (2 ** attempt))
        return random.uniform(delay / 2, delay)

    def _timed(self, awaitable):
        if self._attempt_timeout is None:
            return awaitable
        return asyncio.wait_for(awaitable, self._attempt_timeout)

    async def _asking(self, pool, converter, command, args, kwargs):
        """ASKING and the command back to back on one connection (nothing can come between)."""
        conn, _ = pool.get_connection(command, args)
        if conn is not None:
            return await _asking_on(conn, converter, command, args, kwargs)
        conn = await pool.acquire()
        try:
            return await _asking_on(conn, converter, command, args, kwargs)
        finally:
            pool.release(conn)

    def execute_pubsub(self, command, *channels):
        """A subscribe-family command; an awaitable of the confirmations (see cluster/pubsub.py)."""
        return self._subscriptions.execute(command, channels)

    @property
    def pubsub_channels(self):
        """Read-only dict of the subscribed channels and shard channels by name."""
        return types.MappingProxyType(self._subscriptions.channels("channel", "shard"))

    @property
    def sharded_pubsub_channels(self):
        """Read-only dict of the subscribed shard channels by name."""
        return types.MappingProxyType(self._subscriptions.channels("shard"))

    @property
    def pubsub_patterns(self):
        """Read-only dict of the subscribed patterns by name."""
        return types.MappingProxyType(self._subscriptions.channels("pattern"))

    @property
    def in_pubsub(self) -> int:
        """The number of subscriptions."""
        return self._subscriptions.count

    async def all_pools(self) -> List[Any]:
        """The pools of every primary."""
        return [await self.create_pool_by_addr(node.addr) for node in self.get_cluster_state().masters()]

    # -- hooks for pipelines, transactions and fan-out commands (pipeline.py, fanout.py) --

    RETRYABLE = _RETRYABLE

    @property
    def max_attempts(self) -> int:
        return self._max_attempts

    @property
    def attempt_timeout(self) -> Optional[float]:
        return self._attempt_timeout

    def backoff(self, attempt: int) -> float:
        """How long to wait before attempt ``attempt + 1``."""
        return self._backoff(attempt)

    def random_master_addr(self) -> Address:
        """The address of a random primary (for commands without keys)."""
        return self._random_master().addr

    async def command_keys(self, command, args) -> Sequence:
        """The keys among ``args`` of ``command`` (asked from the server when not in the table)."""
        return await self._keys_of(normalized(command), command, args)

    # -- closing ------------------------------------------------------------

    def close(self) -> None:
        """Close every node's pool and stop the background refreshes."""
        if self._closed:
            return
        self._closed = True
        self._router.closed = True
        self._subscriptions.close()
        for task in (self._refresh_task, self._reload_task):
            if task is not None:
                task.cancel()
        self._pools.close()

    async def wait_closed(self) -> None:
        """Wait until every pool is closed."""
        for task in (self._refresh_task, self._reload_task):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
        await self._pools.wait_closed()
        await self._subscriptions.wait_closed()


async def create_cluster(startup_nodes: Sequence[Any], **options: Any) -> Cluster:
    """Connect to a cluster (see :class:`Cluster` for the keywords) and load its slot map."""
    cluster = Cluster(startup_nodes, **options)
    try:
        await cluster._start()
    except BaseException:
        cluster.close()
        await cluster.wait_closed()
        raise
    return cluster
