"""Pipelines and transactions over a cluster: ``RedisCluster.pipeline()`` and ``multi_exec()``.

A :class:`ClusterPipeline` buffers commands like the single-node
:class:`~aioredis_cy.commands.transaction.Pipeline`; ``execute()`` groups them by the node
serving their slot, writes every group at once on a connection of its node (one batch
each, all nodes concurrently), and reads the replies back into the caller's order. Only
the commands answered MOVED, ASK, TRYAGAIN, CLUSTERDOWN or LOADING are sent again
(ASK with ASKING just before, on the same connection); a command whose own keys hash to
several slots fails with :class:`CrossSlotError` and is not sent.

A :class:`ClusterMultiExec` is one MULTI/EXEC block on the primary of one slot: every key
of every buffered command must hash to that slot, else nothing is sent.
"""
import asyncio
import contextlib
import contextvars
from typing import Dict, List, Optional, Set, Tuple

from .._buffered import BufferedCommand
from .._cluster import CROSS_SLOT, NO_KEYS, failed_indices, group_by_owner, keys_slot, record_slots
from .._protocol import ENCODING_NOT_GIVEN, check_sendable, settle_records
from ..commands.transaction import (
    MultiExec,
    Pipeline,
    _CommandBuffer,
    _current_pin,
    _outcome_of,
    _unwatch_pinned,
    _watch_pinned,
    _with_cache,
    send_commands,
)
from ..errors import ReplyError
from ..pool import _SHARED, _route, _route_with_args
from .cluster import Cluster
from .errors import (
    AskError,
    ClusterDownError,
    CrossSlotError,
    MovedError,
    RedisClusterError,
    UncoveredSlotError,
    redirect_error,
)
from .keys import KEY_POSITIONS, normalized, static_keys

__all__ = ["ClusterPipeline", "ClusterMultiExec", "ClusterTransactionsMixin"]

Address = Tuple[str, int]
_ASKING = BufferedCommand(b"ASKING", (), ENCODING_NOT_GIVEN)   # only sent: never settled
_KEYLESS = NO_KEYS    # the "slot" of a command without keys: any primary serves it


class _ClusterCommandBuffer(_CommandBuffer):
    """The recorder under a cluster pipeline: refuses what must reach every primary."""

    __slots__ = ()

    async def all_pools(self):
        raise RedisClusterError(
            "this command runs on every primary and merges their replies: it cannot be buffered "
            "in a cluster pipeline or transaction; call it on the RedisCluster itself")


def _table_positions(command) -> Optional[tuple]:
    """The key positions of ``command`` from the table, or None."""
    return KEY_POSITIONS.get(normalized(command))


async def _record_slots(cluster, records: list) -> Tuple[List[int], Dict[int, BaseException]]:
    """The slot of each record (``_KEYLESS`` without keys) and the refusal of each cross-slot one.

    Commands of the key table are placed by one C pass; the others (numkeys, COMMAND GETKEYS,
    keys of several slots or of a bad type) go through the slow path, which also words the errors.
    """
    slots, undecided = record_slots(records, {}, _table_positions)
    refused: Dict[int, BaseException] = {}
    for index in undecided:
        command, args = records[index].command, records[index].args
        try:
            name = normalized(command)
            positions = KEY_POSITIONS.get(name)
            if positions is not None:   # (a bytearray command, a key of a bad type, or several slots)
                slots[index] = keys_slot(args, *positions)   # NO_KEYS is _KEYLESS
                if slots[index] != CROSS_SLOT:
                    continue
                slots[index] = _KEYLESS
            keys = static_keys(name, args)
            if keys is None:
                keys = await cluster.command_keys(command, args)
            slots[index] = cluster.determine_slot(*keys) if keys else _KEYLESS
        except (CrossSlotError, TypeError, ReplyError) as exc:
            refused[index] = exc
    return slots, refused


def _needs_own_connection(records: list, indices: List[int]) -> bool:
    """True if one of the commands would block or change the state of a shared connection."""
    if {_route(command) for command in {records[index].command for index in indices}} == {_SHARED}:
        return False   # the usual case: one look-up per distinct command
    return any(_route_with_args(records[index].command, records[index].args) != _SHARED for index in indices)


class _NodeBatch:
    """The commands of one round for one node, sent together on one of its connections."""

    __slots__ = ("addr", "indices", "asking")

    def __init__(self, addr: Address, indices: List[int]) -> None:
        self.addr = addr
        self.indices = indices
        self.asking: Set[int] = set()   # the indices to send right after an ASKING

    def _commands(self, records: list) -> Tuple[list, list]:
        """The records to send and, per position, its index (None for an ASKING)."""
        if not self.asking:
            return [records[index] for index in self.indices], self.indices
        batch: list = []
        positions: list = []
        for index in self.indices:
            if index in self.asking:
                batch.append(_ASKING)
                positions.append(None)
            batch.append(records[index])
            positions.append(index)
        return batch, positions

    async def run(self, cluster, records: list, outcomes: list, timeout: Optional[float]) -> None:
        """Send the batch and store each command's outcome at its index."""
        try:
            pool = await cluster.create_pool_by_addr(self.addr)
        except Exception as exc:   # the node cannot be reached: nothing was sent
            for index in self.indices:
                outcomes[index] = exc
            return
        batch, positions = self._commands(records)
        conn = None if _needs_own_connection(records, self.indices) else pool.get_connection(b"PING")[0]
        release = None
        if conn is None:
            try:
                conn = await pool.acquire()
            except Exception as exc:
                for index in self.indices:
                    outcomes[index] = exc
                return
            release = _releaser(pool, conn)
        try:
            done, refused = send_commands(conn, batch)
        except Exception as exc:   # closed meanwhile: nothing of the batch was written
            if release is not None:
                release()
            for index in self.indices:
                outcomes[index] = exc
            return
        if release is not None:
            done.add_done_callback(release)   # back once every reply is in, even if we stop waiting
        if not done.done():
            await asyncio.wait((done,), timeout=timeout)
        if done.done():
            sent = _outcome_of(done)
        else:
            sent = [asyncio.TimeoutError(f"no reply from {self.addr} within {timeout}s")] * len(batch)
        if refused:   # put the refusals in their places
            replies = iter(sent)
            sent = [refused[position] if position in refused else next(replies)
                    for position in range(len(batch))]
        if positions is self.indices:
            for index, outcome in zip(positions, sent):
                outcomes[index] = outcome
        else:
            for at, outcome in zip(positions, sent):
                if at is not None:
                    outcomes[at] = outcome


@contextlib.contextmanager
def _dropping_written(pipeline):
    """With a client cache: drop what the buffered writes touch before sending and once done."""
    front = pipeline._cache_front
    written = front.before_batch(pipeline._commands) if front is not None else None
    try:
        yield
    finally:
        if front is not None:
            front.after_batch(written)


def _releaser(pool, conn):
    def release(_fut=None):
        pool.release(conn)
    return release


class ClusterPipeline(Pipeline):
    """Buffers commands of any slots; :meth:`execute` sends each to its node, all nodes at once.

    >>> pipe = redis.pipeline()
    >>> futs = [pipe.incr(f'counter:{i}') for i in range(1000)]   # spread over every node
    >>> await pipe.execute()
    [1, 1, ...]

    Results come back in call order; errors follow :class:`~aioredis_cy.errors.PipelineError`
    as on one node. Commands whose keys moved are sent again to their new owner only.
    """

    buffer_class = _ClusterCommandBuffer

    async def _run(self) -> None:
        cluster = self._pool_or_conn
        records = self._commands
        try:
            slots, refused = await _record_slots(cluster, records)
        except Exception as exc:
            self._fail_all(exc)
            raise
        outcomes: list = [None] * len(records)
        for index, refusal in refused.items():
            outcomes[index] = refusal
        pending = [index for index in range(len(records)) if index not in refused] if refused else \
            list(range(len(records)))
        with _dropping_written(self):
            await _send_rounds(cluster, records, slots, pending, outcomes)
        self._outcomes = settle_records(records, outcomes, None)
        self._convert()


async def _send_rounds(cluster, records: list, slots: List[int], pending: List[int], outcomes: list) -> None:
    """Send ``pending`` records by node, again for those redirected or told to retry, up to max_attempts."""
    asks: Dict[int, Address] = {}
    attempts = cluster.max_attempts
    for attempt in range(attempts):
        groups, uncovered = group_by_owner(pending, slots, cluster.get_cluster_state().owners(), asks,
                                           cluster.random_master_addr)
        for index in uncovered:
            outcomes[index] = UncoveredSlotError(slots[index])
        if uncovered:
            cluster.schedule_refresh()
        batches = {addr: _NodeBatch(addr, indices) for addr, indices in groups.items()}
        for index, addr in asks.items():   # every index told to ASK is pending again
            batches[addr].asking.add(index)
        asks.clear()
        await asyncio.gather(*(node_batch.run(cluster, records, outcomes, cluster.attempt_timeout)
                               for node_batch in batches.values()))
        pending = []
        wait = False
        last = attempt == attempts - 1
        for node_batch in batches.values():
            for index in failed_indices(node_batch.indices, outcomes):
                outcome = outcomes[index]
                error = redirect_error(outcome)
                outcomes[index] = error
                if isinstance(error, MovedError):
                    cluster.note_moved(error)
                elif isinstance(error, AskError):
                    asks[index] = error.address
                elif isinstance(error, cluster.RETRYABLE):
                    wait = True
                    if isinstance(error, ClusterDownError):
                        cluster.schedule_refresh()
                else:
                    continue
                if not last:
                    pending.append(index)
        if not pending:
            return
        if wait:
            await asyncio.sleep(cluster.backoff(attempt))


class ClusterMultiExec(MultiExec):
    """One MULTI/EXEC block on the primary serving the one slot of all its commands' keys.

    Refused with :class:`CrossSlotError` before anything is sent when the keys span
    several slots, or are not in the slot the task's ``watch()`` pinned. Commands without
    keys may join any transaction. Answered MOVED (the slot moved before the block ran,
    so nothing of it ran), the block is sent again once to the new owner, unless keys
    are watched (the watch was on the old owner: the caller must start over).
    """

    buffer_class = _ClusterCommandBuffer

    def __init__(self, cluster, commands_factory=lambda conn: conn, *, watched=None):
        super().__init__(cluster, commands_factory)
        self._watched = watched   # (slot, pin) of the task's watch() on this cluster, or None

    async def _transaction_slot(self) -> int:
        slots, refused = await _record_slots(self._pool_or_conn, self._commands)
        if refused:
            raise next(iter(refused.values()))
        keyed = {slot for slot in slots if slot != _KEYLESS}
        if self._watched is not None:
            keyed.add(self._watched[0])
        if len(keyed) > 1:
            raise CrossSlotError(
                f"a cluster transaction runs on one slot; its keys (and watched keys) hash to slots "
                f"{sorted(keyed)!r} (use a {{hash tag}})")
        return keyed.pop() if keyed else _KEYLESS

    async def _take_connection(self):
        cluster = self._pool_or_conn
        try:
            slot = await self._transaction_slot()
            if self._watched is not None:
                pin = self._watched[1]
                if not pin.active:
                    raise RedisClusterError("the watched connection was given back (unwatch() or EXEC)")
                return pin.conn, pin.release
            addr = cluster.random_master_addr() if slot == _KEYLESS else cluster.slot_master(slot).addr
            pool = await cluster.create_pool_by_addr(addr)
            conn = await pool.acquire()
        except Exception as exc:
            if self._watched is not None:
                self._watched[1].release()
            self._fail_all(exc)
            raise
        return conn, _releaser(pool, conn)

    def _nothing_to_send(self) -> None:
        if self._watched is not None:
            self._watched[1].release()

    async def _run(self) -> None:
        with _dropping_written(self):
            await self._run_block()

    async def _run_block(self) -> None:
        for attempt in range(2):
            conn, release = await self._take_connection()
            try:
                done = self._send(conn)
            except Exception as exc:   # e.g. the connection is closed: nothing is sent
                release()
                self._fail_all(exc)
                return
            done.add_done_callback(release)
            await asyncio.wait((done,))
            if attempt or self._watched is not None or not self._note_moved():
                break
            done.exception()   # EXECABORT: replaced by the outcome of the block sent again
            self._refused = self._refusal = self._queued = None
        self._sent = done
        self._settle(_outcome_of(done))
        self._convert()

    def _note_moved(self) -> bool:
        """True if the block was refused as a whole because its slot moved (the map is patched)."""
        queued = self._queued
        if self._refusal is not None or not queued.done() or queued.cancelled() or queued.exception():
            return False
        moved = None
        for outcome in queued.result()[1:]:
            error = redirect_error(outcome) if isinstance(outcome, ReplyError) else outcome
            if not isinstance(error, MovedError):
                return False
            moved = error
        if moved is None:
            return False
        self._pool_or_conn.note_moved(moved)
        return True



# Per task: id(cluster) -> (slot, pool) of the task's watch(). The pin itself lives in
# transaction.py's per-task pins, which also check that the task owns it.
_watches: contextvars.ContextVar = contextvars.ContextVar("aioredis_cy_cluster_watches", default=None)


def _current_watch(cluster):
    """``(slot, pin)`` of the current task's active watch() on ``cluster``, or None."""
    watches = _watches.get()
    entry = watches.get(id(cluster)) if watches else None
    if entry is None:
        return None
    pin = _current_pin(entry[1])
    return None if pin is None else (entry[0], pin)


class ClusterTransactionsMixin:
    """``pipeline()``, ``multi_exec()``, ``watch()`` and ``unwatch()`` of :class:`RedisCluster`."""

    def pipeline(self):
        """A :class:`ClusterPipeline`: commands of any slots, sent per node in one go at ``execute()``."""
        return _with_cache(ClusterPipeline(self._pool_or_conn, self.__class__), self)

    def multi_exec(self):
        """A :class:`ClusterMultiExec`: one MULTI/EXEC block on the primary of one slot.

        After ``watch()`` in the same task, it runs on the watching connection and its
        keys must be in the watched slot.
        """
        cluster = self._pool_or_conn
        return _with_cache(ClusterMultiExec(cluster, self.__class__, watched=_current_watch(cluster)), self)

    def watch(self, key, *keys):
        """WATCH keys of one slot on a connection of its primary, pinned to this task.

        The task's next ``multi_exec()`` runs there; its keys must be in the same slot.
        A second ``watch()`` in the task must name keys of that slot too. The connection
        goes back at EXEC/DISCARD, ``unwatch()`` or the end of the task.
        """
        keys = (key, *keys)
        check_sendable(b"WATCH", keys)
        cluster = self._pool_or_conn
        if not isinstance(cluster, Cluster):   # recorded inside a pipeline
            return super().watch(*keys)
        return self._watch_on_owner(cluster, keys)

    async def _watch_on_owner(self, cluster, keys):
        slot = cluster.determine_slot(*keys)
        current = _current_watch(cluster)
        if current is not None and current[0] != slot:
            raise CrossSlotError(
                f"this task already watches keys of slot {current[0]}; keys of slot {slot} cannot join "
                "(one transaction runs on one slot)")
        pool = current[1].pool if current is not None else \
            await cluster.create_pool_by_addr(cluster.slot_master(slot).addr)
        result = await _watch_pinned(pool, keys)
        watches = {key: entry for key, entry in (_watches.get() or {}).items() if _current_pin(entry[1])}
        watches[id(cluster)] = (slot, pool)
        _watches.set(watches)
        return result

    def unwatch(self):
        """Forget the watched keys and give back the task's watching connection."""
        cluster = self._pool_or_conn
        current = _current_watch(cluster) if isinstance(cluster, Cluster) else None
        if current is not None:
            return _unwatch_pinned(current[1])
        return super().unwatch()
