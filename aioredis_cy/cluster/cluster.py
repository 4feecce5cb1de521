"""The low-level cluster client: slot map, one shared pool per node, redirects and retries."""
import asyncio
import functools
import random
import time
import types
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ..errors import ConnectionClosedError, PoolClosedError, ReplyError
from ..pool import create_pool
from ..util import parse_url
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
from .keys import READ_ONLY, normalized, slot_of, static_keys
from .pubsub import ClusterSubscriptions
from .state import ClusterNode, ClusterState, parse_cluster_slots

__all__ = ["Cluster", "create_cluster"]

Address = Tuple[str, int]
# The gap between two topology refreshes, and the random part added to it.
REFRESH_MIN_INTERVAL = 0.1
REFRESH_JITTER = 0.05
# How many nodes a refresh asks (the highest epoch wins).
REFRESH_NODES = 3
_RETRYABLE = (TryAgainError, ClusterDownError, LoadingError)
_LOST = (ConnectionClosedError, PoolClosedError, OSError, asyncio.TimeoutError)


def _startup_address(node) -> Tuple[Address, Dict[str, Any]]:
    if isinstance(node, str):
        address, options = parse_url(node)
        if not isinstance(address, tuple):
            raise ValueError(f"cluster startup node must be host:port, got {node!r}")
        return address, options
    host, port = node
    return (str(host), int(port)), {}


def _check_delay(name: str, value) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")


async def _asking_on(conn, command, args, kwargs):
    asking = conn.execute(b"ASKING")
    reply = conn.execute(command, *args, **kwargs)
    await asking
    return await reply


class Cluster:
    """Routes each command to the node serving its keys' slot and follows the cluster's changes.

    Made by :func:`create_cluster`; :class:`~aioredis_cy.RedisCluster` wraps one.
    """

    def __init__(self, startup_nodes: Sequence[Union[str, Tuple[str, int]]], *,
                 retry_min_delay: Optional[float] = None, retry_max_delay: Optional[float] = None,
                 max_attempts: Optional[int] = None, attempt_timeout: Optional[float] = None,
                 state_reload_interval: Optional[float] = None, follow_cluster: Optional[bool] = None,
                 idle_connection_timeout: Optional[float] = None, username: Optional[str] = None,
                 password: Optional[str] = None, encoding: Optional[str] = None,
                 pool_minsize: Optional[int] = None, pool_maxsize: Optional[int] = None,
                 connect_timeout: Optional[float] = None, ssl=None,
                 read_from_replicas: bool = False) -> None:
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
        self._read_from_replicas = read_from_replicas
        self._pool_options: Dict[str, Any] = {
            "username": username if username is not None else uri_options.get("username"),
            "password": password if password is not None else uri_options.get("password"),
            "encoding": encoding if encoding is not None else uri_options.get("encoding"),
            "ssl": ssl if ssl is not None else uri_options.get("ssl"),
            "minsize": 1 if pool_minsize is None else pool_minsize,
            "maxsize": 10 if pool_maxsize is None else pool_maxsize,
            "create_connection_timeout": connect_timeout,
        }
        self._encoding: Optional[str] = self._pool_options["encoding"]
        self._pools: Dict[Address, Any] = {}
        self._creating: Dict[Address, asyncio.Future] = {}
        self._state: Optional[ClusterState] = None
        self._refresh_task: Optional[asyncio.Task] = None
        self._reload_task: Optional[asyncio.Task] = None
        self._last_refresh = 0.0
        self._closed = False
        self.refresh_count = 0
        self._subscriptions = ClusterSubscriptions(self)

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
        slot = slot_of(keys[0])
        for key in keys[1:]:
            if slot_of(key) != slot:
                raise CrossSlotError(
                    f"keys {[keys[0], key]!r} hash to different slots; an atomic command needs one slot "
                    "(use a {hash tag} or the *_nonatomic methods)")
        return slot

    async def create_pool_by_addr(self, addr: Address):
        """The pool of the node at ``addr`` (opened on first use and kept)."""
        addr = (str(addr[0]), int(addr[1]))
        pool = self._pools.get(addr)
        if pool is not None and not pool.closed:
            return pool
        if self._closed:
            raise ClusterClosedError("cluster is closed")
        creating = self._creating.get(addr)
        if creating is None:
            creating = asyncio.ensure_future(create_pool(addr, **self._pool_options))
            self._creating[addr] = creating
            creating.add_done_callback(functools.partial(self._pool_created, addr))
        return await asyncio.shield(creating)

    def _pool_created(self, addr: Address, fut: asyncio.Future) -> None:
        if self._creating.get(addr) is fut:
            del self._creating[addr]
        if fut.cancelled() or fut.exception() is not None:
            return
        pool = fut.result()
        if self._closed:
            pool.close()
        else:
            self._pools[addr] = pool

    async def _load_state(self) -> None:
        """Ask up to REFRESH_NODES nodes for CLUSTER SLOTS; keep the view with the highest epoch."""
        candidates: List[Address] = []
        if self._state is not None:
            candidates += [node.addr for node in self._state.masters()]
        candidates += [addr for addr in self._startup if addr not in candidates]
        best: Optional[ClusterState] = None
        errors: List[BaseException] = []
        asked = 0
        for addr in candidates:
            if asked >= REFRESH_NODES:
                break
            try:
                pool = await self.create_pool_by_addr(addr)
                info, slots = await asyncio.gather(
                    pool.execute(b"CLUSTER", b"INFO", encoding="utf-8"), pool.execute(b"CLUSTER", b"SLOTS"))
            except (ReplyError, *_LOST) as exc:
                errors.append(exc)
                continue
            asked += 1
            epoch = 0
            for line in info.splitlines():
                if line.startswith("cluster_current_epoch:"):
                    epoch = int(line.split(":", 1)[1])
            state = parse_cluster_slots(slots, addr, epoch)
            if state.slot_ranges and (best is None or state.epoch > best.epoch):
                best = state
        if best is None:
            raise ClusterStateError(f"no cluster node gave a usable slot map: {errors!r}")
        self._state = best
        self.refresh_count += 1
        self._last_refresh = time.monotonic()
        known = {node.addr for node in best.nodes} | set(self._startup)
        for addr in [addr for addr in self._pools if addr not in known]:
            self._pools.pop(addr).close()

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
        except ClusterStateError:
            pass   # the next redirect or failed attempt schedules another

    async def _reload_periodically(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.schedule_refresh()

    async def _start(self) -> None:
        await self._load_state()
        if self._state_reload_interval:
            self._reload_task = asyncio.ensure_future(self._reload_periodically(self._state_reload_interval))

    # -- commands -----------------------------------------------------------

    def execute(self, command, *args, **kwargs):
        """Send a command to the node that serves its keys; returns an awaitable of the reply."""
        if self._closed:
            raise ClusterClosedError("cluster is closed")
        return self._execute(command, args, kwargs)

    async def _keys_of(self, name: bytes, command, args: Sequence) -> Sequence:
        keys = static_keys(name, args)
        if keys is not None:
            return keys
        pool = await self.create_pool_by_addr(self._random_master().addr)
        try:
            return await pool.execute(b"COMMAND", b"GETKEYS", command, *args)
        except ReplyError as exc:
            if "no key arguments" in str(exc):
                return ()
            raise

    def _random_master(self) -> ClusterNode:
        masters = self.get_cluster_state().masters()
        if not masters:
            raise ClusterStateError("the cluster has no primary serving slots")
        return random.choice(masters)

    async def _execute(self, command, args, kwargs):
        name = normalized(command)
        keys = await self._keys_of(name, command, args)
        slot = self.determine_slot(*keys) if keys else None
        read_only = name in READ_ONLY
        ask_addr: Optional[Address] = None
        last_error: Optional[BaseException] = None
        for attempt in range(self._max_attempts):
            if ask_addr is not None:
                addr = ask_addr
            elif slot is None:
                addr = self._random_master().addr
            else:
                addr = self._node_for(slot).addr
            pool = await self.create_pool_by_addr(addr)
            try:
                if ask_addr is not None:
                    ask_addr = None
                    return await self._timed(self._asking(pool, command, args, kwargs))
                return await self._timed(pool.execute(command, *args, **kwargs))
            except ReplyError as exc:
                error = redirect_error(exc)
                if isinstance(error, MovedError):
                    self._state.move_slot(error.slot, error.address)   # type: ignore[union-attr]
                    self.schedule_refresh()
                elif isinstance(error, AskError):
                    ask_addr = error.address
                elif isinstance(error, _RETRYABLE):
                    if isinstance(error, ClusterDownError):
                        self.schedule_refresh()
                    await asyncio.sleep(self._backoff(attempt))
                else:
                    raise error from None if error is not exc else None
                last_error = error
            except _LOST as exc:
                # Possibly executed: only a read-only command may be sent again.
                if not read_only:
                    raise
                last_error = exc
                self.schedule_refresh()
                await asyncio.sleep(self._backoff(attempt))
        assert last_error is not None
        raise last_error

    def _node_for(self, slot: int) -> ClusterNode:
        # read_from_replicas is accepted but reads stay on primaries until replica
        # connections send READONLY (issue 14).
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

    async def _asking(self, pool, command, args, kwargs):
        """ASKING and the command back to back on one connection (nothing can come between)."""
        conn, _ = pool.get_connection(command, args)
        if conn is not None:
            return await _asking_on(conn, command, args, kwargs)
        conn = await pool.acquire()
        try:
            return await _asking_on(conn, command, args, kwargs)
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
        """The keys among ``args`` of ``command`` (asked with COMMAND GETKEYS when not in the table)."""
        return await self._keys_of(normalized(command), command, args)

    def note_moved(self, error: MovedError) -> None:
        """Patch the slot map after a MOVED reply and schedule a refresh."""
        self.get_cluster_state().move_slot(error.slot, error.address)
        self.schedule_refresh()

    # -- closing ------------------------------------------------------------

    def close(self) -> None:
        """Close every node's pool and stop the background refreshes."""
        if self._closed:
            return
        self._closed = True
        self._subscriptions.close()
        for task in (self._refresh_task, self._reload_task):
            if task is not None:
                task.cancel()
        for pool in self._pools.values():
            pool.close()

    async def wait_closed(self) -> None:
        """Wait until every pool is closed."""
        for task in (self._refresh_task, self._reload_task):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
        for fut in list(self._creating.values()):
            await asyncio.gather(fut, return_exceptions=True)
        for pool in list(self._pools.values()):
            pool.close()
            await pool.wait_closed()
        await self._subscriptions.wait_closed()


async def create_cluster(startup_nodes, **options) -> Cluster:
    """Connect to a cluster (see :class:`Cluster` for the keywords) and load its slot map."""
    cluster = Cluster(startup_nodes, **options)
    try:
        await cluster._start()
    except BaseException:
        cluster.close()
        await cluster.wait_closed()
        raise
    return cluster
