"""Transactions and client-side pipelines: WATCH/UNWATCH, ``multi_exec()`` and ``pipeline()``.

A :class:`Pipeline` (or :class:`MultiExec`) buffers the commands called on it; each call
returns a future at once. Nothing is sent before :meth:`Pipeline.execute`, which writes
every command (wrapped in MULTI/EXEC for :class:`MultiExec`) in one go on one connection
and then resolves each future with its converted result.

On a pool, ``await redis.watch(...)`` takes a connection out of the pool and pins it to
the current task: the ``multi_exec()`` created afterwards in that task runs on it, and
EXEC, DISCARD, ``unwatch()`` or the end of the task gives it back.
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
import types
from typing import TYPE_CHECKING, Any, List

from .._buffered import BufferedCommand
from .._protocol import (
    ENCODING_NOT_GIVEN,
    BufferedMethod,
    CommandRecorder,
    all_queued,
    check_sendable,
    convert_each,
    fail_records,
    settle_records,
)
from .._typing import CommandsBase, Key, Reply
from ..abc import AbcPool
from ..errors import MultiExecError, PipelineError, WatchVariableError
from ..util import _NOTSET, pairs_to_dict, reply_is_ok, wait_ok
from .hash import HashCommandsMixin
from .string import StringCommandsMixin

if TYPE_CHECKING:
    # What type checkers see a pipeline offer: every Redis method, which __getattr__ forwards.
    from . import Redis as _PipelineMethods
else:
    _PipelineMethods = object

__all__ = ["TransactionsCommandsMixin", "Pipeline", "MultiExec"]

_QUEUED = (b"QUEUED", "QUEUED")
_EXECUTED = "Pipeline already executed. Create new one."


class _WatchPin:
    """A pool connection held by one task from WATCH until EXEC/DISCARD/UNWATCH or the task's end."""

    __slots__ = ("pool", "conn", "owner", "active")

    def __init__(self, pool, conn, owner) -> None:
        self.pool = pool
        self.conn = conn
        self.owner = owner
        self.active = True
        owner.add_done_callback(self._owner_done)

    def _owner_done(self, _task) -> None:
        self.release()

    def release(self, _fut=None) -> None:
        """Give the connection back to the pool (its next user gets it after an UNWATCH); idempotent."""
        if self.active:
            self.active = False
            self.owner.remove_done_callback(self._owner_done)
            self.pool.release(self.conn)


# Per task: id(pool) -> _WatchPin. Copied into child tasks, hence the owner check.
_watch_pins: contextvars.ContextVar = contextvars.ContextVar("aioredis_cy_watch_pins", default=None)


def _current_pin(pool):
    """The active WATCH pin of the current task on ``pool``, or None."""
    pins = _watch_pins.get()
    if not pins:
        return None
    pin = pins.get(id(pool))
    if pin is None or not pin.active or pin.pool is not pool or pin.owner is not asyncio.current_task():
        return None
    return pin


def _add_pin(pool, conn) -> _WatchPin:
    pin = _WatchPin(pool, conn, asyncio.current_task())
    pins = {key: other for key, other in (_watch_pins.get() or {}).items() if other.active}
    pins[id(pool)] = pin
    _watch_pins.set(pins)
    return pin


async def _watch_pinned(pool, keys):
    pin = _current_pin(pool)
    created = pin is None
    if created:
        pin = _add_pin(pool, await pool.acquire())
    try:
        return await wait_ok(pin.conn.execute(b"WATCH", *keys))
    except Exception:
        if created or pin.conn.closed:
            pin.release()
        raise


async def _unwatch_pinned(pin):
    try:
        return await wait_ok(pin.conn.execute(b"UNWATCH"))
    finally:
        pin.release()


class TransactionsCommandsMixin(CommandsBase):
    """Transaction commands; see https://redis.io/commands/?group=transactions.

    >>> tr = redis.multi_exec()
    >>> fut1 = tr.incr('foo')    # no await: the command is only buffered
    >>> fut2 = tr.incr('bar')
    >>> await tr.execute()
    [1, 1]
    >>> await fut1
    1
    """

    def watch(self, key: Key, *keys: Key) -> Reply[bool]:
        """Watch keys for the next MULTI/EXEC block; await it for True.

        On a pool the first ``watch()`` of a task takes a connection and pins it to
        that task until EXEC/DISCARD (``multi_exec().execute()``), ``unwatch()`` or the
        end of the task, so that the task's next ``multi_exec()`` runs where the keys
        are watched. Tasks never share a pinned connection (child tasks included).
        """
        keys = (key, *keys)
        check_sendable(b"WATCH", keys)
        if isinstance(self._pool_or_conn, AbcPool):
            return _watch_pinned(self._pool_or_conn, keys)
        return wait_ok(self._pool_or_conn.execute(b"WATCH", *keys))

    def unwatch(self) -> Reply[bool]:
        """Forget all watched keys; on a pool, also gives back the task's pinned connection."""
        if isinstance(self._pool_or_conn, AbcPool):
            pin = _current_pin(self._pool_or_conn)
            if pin is not None:
                return _unwatch_pinned(pin)
        return wait_ok(self._pool_or_conn.execute(b"UNWATCH"))

    def multi_exec(self) -> MultiExec:
        """A :class:`MultiExec` buffering commands for one MULTI/EXEC block.

        On a pool it runs on the connection pinned by this task's ``watch()``, if any,
        else on a connection taken for the duration of ``execute()``.
        """
        return _with_cache(MultiExec(self._pool_or_conn, self.__class__), self)

    def pipeline(self) -> Pipeline:
        """A :class:`Pipeline` buffering commands to send together (no MULTI/EXEC).

        Commands sent concurrently are pipelined anyway; this only guarantees that
        they leave together, in order, on one connection.
        """
        return _with_cache(Pipeline(self._pool_or_conn, self.__class__), self)


def _with_cache(pipeline, redis):
    """Let a pipeline of a client with a cache drop what its writes touch (see _cache_client)."""
    pipeline._cache_front = getattr(redis, "_cache_front", None)
    return pipeline


class _CommandBuffer(CommandRecorder):
    """Stands in for the connection under a pipeline: records commands instead of sending them."""

    __slots__ = ("_target",)

    def __init__(self, target, track) -> None:
        super().__init__(track)
        self._target = target

    def execute_pubsub(self, command, *channels):
        """Refused: subscriptions change the connection's mode, they cannot be buffered."""
        raise TypeError("pub/sub commands cannot be pipelined")

    @property
    def encoding(self):
        """The codec of the connection or pool the pipeline will run on."""
        return self._target.encoding

    @property
    def db(self):
        """The database index of the connection or pool the pipeline will run on."""
        return self._target.db

    @property
    def address(self):
        """The address of the connection or pool the pipeline will run on."""
        return self._target.address


def _copy_outcome(source: asyncio.Future, target: asyncio.Future) -> None:
    """Settle ``target`` as ``source`` was settled (unless it is settled already)."""
    if target.done():
        return
    if source.cancelled():
        target.cancel()
        return
    exc = source.exception()
    if exc is None:
        target.set_result(source.result())
    else:
        target.set_exception(exc)


def _outcome_of(future: asyncio.Future):
    """A settled future's result, or its exception (CancelledError if cancelled)."""
    if future.cancelled():
        return asyncio.CancelledError()
    exc = future.exception()
    return future.result() if exc is None else exc


def _converted(converter, value):
    """``converter(value)`` for a successful reply other than QUEUED; its exception if it fails."""
    if converter is None or isinstance(value, BaseException) or value in _QUEUED:
        return value
    try:
        return converter(value)
    except Exception as exc:
        return exc


def _batch_protocol(conn):
    """The protocol that can take a whole batch in one call, or None (e.g. ``execute`` overridden)."""
    protocol = getattr(conn, "_protocol", None)
    if protocol is None or not hasattr(protocol, "execute_batch"):
        return None
    if getattr(conn, "execute", None) != protocol.command:
        return None
    return protocol


def send_commands(conn, records: list):
    """Send the commands of ``records`` (``BufferedCommand``s) on ``conn``.

    Returns ``(done, refused)``: a future of the list of outcomes (converted reply or
    exception) of the commands sent, in order, settled once every reply is in (even if
    the caller stops waiting), and the exception of each refused command by its index
    (None when none was). The protocol encodes the whole batch in one call when it can.
    """
    protocol = _batch_protocol(conn)
    if protocol is None:
        return _send_one_by_one(conn, records)
    return protocol.execute_batch(records)


def _send_one_by_one(conn, records: list):
    """``send_commands`` through ``conn.execute``: for connections that override it."""
    replies, refused = [], {}
    for index, record in enumerate(records):
        kwargs = {} if record.encoding is ENCODING_NOT_GIVEN else {"encoding": record.encoding}
        try:
            replies.append((conn.execute(record.command, *record.args, **kwargs), record.converter))
        except Exception as exc:  # refused before anything of it was written
            refused[index] = exc
    done = asyncio.get_running_loop().create_future()

    def collect(_last=None):
        if not done.done():
            done.set_result([_converted(converter, _outcome_of(reply)) for reply, converter in replies])

    if replies:
        replies[-1][0].add_done_callback(collect)
    else:
        collect()
    return done, refused or None


@types.coroutine
def _resume(coro, step):
    """Carry on, inside a task, a coroutine that suspended on ``step`` while driven by hand."""
    while True:
        try:
            value = yield step
        except BaseException as exc:  # forwarded into the coroutine, cancellation included
            resume, arg = coro.throw, exc
        else:
            resume, arg = coro.send, value
        try:
            step = resume(arg)
        except StopIteration as stop:
            return stop.value


async def _finish(coro, step):
    return await _resume(coro, step)


def _drive(coro, step, future: asyncio.Future) -> None:
    """Resume a result converter whose reply is in; hand it to a task if it still has to wait."""
    if future.done():  # cancelled by its holder
        coro.close()
        return
    try:
        while isinstance(step, asyncio.Future) and step.done():
            step = coro.send(None)
    except StopIteration as stop:
        future.set_result(stop.value)
    except asyncio.CancelledError:
        future.cancel()
    except Exception as exc:
        future.set_exception(exc)
    else:
        asyncio.ensure_future(_finish(coro, step)).add_done_callback(
            functools.partial(_copy_outcome, target=future))


def _track(converters: list, results: list, result):
    """Register what a pipeline's command method returned as one result of the pipeline.

    A coroutine (a reply converter, or an ``async def`` method) is run at once up to
    its first wait, so the commands it sends are buffered now, in call order, and
    its errors raise now; it is resumed (from ``converters``) when the replies are in.
    """
    if asyncio.isfuture(result):
        results.append(result)
        return result
    if not asyncio.iscoroutine(result):
        return result   # not a command (e.g. an iterator): handed back as is
    future = asyncio.get_running_loop().create_future()
    try:
        step = result.send(None)
    except StopIteration as stop:
        future.set_result(stop.value)
    else:
        converters.append((result, step, future))
    results.append(future)
    return future


# Stock command methods that, called with that many positional arguments and no keyword,
# only record one command: (method, command, argc, encoding as they pass it, converter).
_RECORDS_ONLY = {
    "get": (StringCommandsMixin.get, b"GET", 1, _NOTSET, None),
    "set": (StringCommandsMixin.set, b"SET", 2, ENCODING_NOT_GIVEN, reply_is_ok),
    "incr": (StringCommandsMixin.incr, b"INCR", 1, ENCODING_NOT_GIVEN, None),
    "decr": (StringCommandsMixin.decr, b"DECR", 1, ENCODING_NOT_GIVEN, None),
    "hget": (HashCommandsMixin.hget, b"HGET", 2, _NOTSET, None),
    "hgetall": (HashCommandsMixin.hgetall, b"HGETALL", 1, _NOTSET, pairs_to_dict),
}


def _records_directly(redis, buffer, name: str, function) -> bool:
    """True when ``redis.name`` is the stock ``function`` and it reaches ``buffer``'s own methods."""
    return (getattr(type(redis), name, None) is function and name not in vars(redis)
            and redis.execute == buffer.execute and redis._execute_converted == buffer._execute_converted
            and type(buffer).execute is CommandRecorder.execute
            and type(buffer)._execute_converted is CommandRecorder._execute_converted)


class Pipeline(_PipelineMethods):
    """Buffers commands and sends them together on one connection.

    >>> pipe = redis.pipeline()
    >>> fut1 = pipe.incr('foo')
    >>> fut2 = pipe.incr('bar')
    >>> await pipe.execute()
    [1, 1]

    Calling a command checks its arguments at once (TypeError/ValueError) and returns
    a future of its converted result, settled by :meth:`execute`. A pipeline runs once.
    The future is a :class:`~aioredis_cy._buffered.BufferedCommand`: a future in all
    but class, which makes an asyncio future only if something waits on it early.
    """

    error_class = PipelineError
    buffer_class = _CommandBuffer   # what records the commands in place of the connection
    _cache_front = None   # the client's CachingFront, if it has a cache

    def __init__(self, pool_or_connection, commands_factory=lambda conn: conn, *, loop=None):
        self._pool_or_conn = pool_or_connection
        self._converters = []   # (suspended coroutine, what it waits for, result future)
        # (No reference back to the pipeline: it is freed, with its commands, when dropped.)
        self._buffer = self.buffer_class(pool_or_connection, functools.partial(_track, self._converters))
        self._commands = self._buffer.records   # every BufferedCommand, in call order
        self._results = self._buffer.results    # what each command method call returned
        self._outcomes = None   # once settled: (outcome of each command, the exceptions among them)
        self._sent = None       # once sent: the future settled when every reply is in
        self._refused = None    # index in the commands sent -> why it was refused before sending
        self._redis = commands_factory(self._buffer)

    @property
    def _done(self) -> bool:
        return self._buffer.closed

    def _buffered_method(self, name):
        """``__getattr__``: the client's method ``name``, recording into this pipeline."""
        if self._buffer.closed:
            raise AssertionError(_EXECUTED)
        attr = getattr(self._redis, name)
        if not callable(attr):
            return attr
        buffered = BufferedMethod(self._buffer, attr)
        shortcut = _RECORDS_ONLY.get(name)
        if shortcut is not None and _records_directly(self._redis, self._buffer, name, shortcut[0]):
            buffered.records_only(*shortcut[1:])
        setattr(self, name, buffered)   # later look-ups skip __getattr__
        return buffered

    if not TYPE_CHECKING:   # hidden from type checkers, so that a misspelt method is reported
        __getattr__ = _buffered_method

    async def execute(self, *, return_exceptions: bool = False) -> List[Any]:  # type: ignore[override]
        """Send the buffered commands and return their results, in call order.

        Raises :attr:`error_class` with the list of errors if any command failed,
        unless ``return_exceptions`` is true, in which case the exceptions take the
        failed commands' places in the list. Each command's future holds its own
        result or exception either way.
        """
        if self._buffer.closed:
            raise AssertionError(_EXECUTED)
        self._buffer.closed = True
        try:
            if self._commands:
                await self._run()
            else:
                self._nothing_to_send()
            if not self._all_plain():   # else all settled
                pending = [future for future in self._results if not future.done()]
                if pending:
                    await asyncio.wait(pending)
        except asyncio.CancelledError:
            self._abandon()
            raise
        return self._collect(return_exceptions)

    def _nothing_to_send(self) -> None:
        """Hook for an execute() with no command."""

    async def _run(self) -> None:
        conn, release = await self._take_connection()
        front = self._cache_front
        written = front.before_batch(self._commands) if front is not None else None
        try:
            done = self._send(conn)
        except Exception as exc:  # e.g. the connection is closed: nothing is sent
            if release is not None:
                release()
            self._fail_all(exc)
            return
        self._sent = done
        if front is not None:
            done.add_done_callback(functools.partial(front.after_batch, written))
        if release is not None:
            # Given back only once every reply is in: even if execute() is cancelled
            # meanwhile, the connection returns to the pool clean.
            done.add_done_callback(release)
        if not done.done():
            await asyncio.wait((done,))
        self._settle(_outcome_of(done))
        self._convert()

    async def _take_connection(self):
        """The connection to send on and a callback releasing it (None when not from a pool)."""
        if not isinstance(self._pool_or_conn, AbcPool):
            return self._pool_or_conn, None
        pool = self._pool_or_conn
        try:
            conn = await pool.acquire()
        except Exception as exc:
            self._fail_all(exc)
            raise
        return conn, lambda _fut=None: pool.release(conn)

    def _send(self, conn) -> asyncio.Future:
        """Send every buffered command; return the future of their outcomes (set once all are in)."""
        done, self._refused = send_commands(conn, self._commands)
        return done

    def _settle(self, outcomes: list) -> None:
        """Pass each command's outcome (or refusal) on to its future."""
        self._outcomes = settle_records(self._commands, outcomes, self._refused)

    def _convert(self) -> None:
        converters = self._converters[:]
        del self._converters[:]
        for coro, step, future in converters:
            _drive(coro, step, future)

    def _all_plain(self) -> bool:
        """Each call returned the one command it recorded, and nothing else was recorded."""
        return self._buffer.plain and len(self._results) == len(self._commands)

    def _fail_all(self, exc: BaseException) -> None:
        """No connection to run on: every command fails with ``exc`` (raised by execute())."""
        fail_records(self._commands, exc)
        self._convert()
        for future in self._results:
            if future.done() and not future.cancelled():
                future.exception()   # reported by execute(); not worth a second report

    def _abandon(self) -> None:
        """execute() was cancelled: cancel every future not settled yet.

        The replies still on their way are read and dropped by the protocol; a pool
        connection goes back once the last one is in.
        """
        for entry in self._commands:
            entry.cancel()
        self._convert()
        for future in self._results:
            future.cancel()

    def _collect(self, return_exceptions: bool) -> list:
        if self._outcomes is not None and self._all_plain():
            results, errors = self._outcomes
            self._raise_for(errors, return_exceptions)
            return results
        results, errors = [], []
        for future in self._results:
            if future.cancelled():
                outcome = asyncio.CancelledError()
            else:
                outcome = future.exception()
            if outcome is None:
                results.append(future.result())
            else:
                results.append(outcome)
                errors.append(outcome)
        self._raise_for(errors, return_exceptions)
        return results

    def _raise_for(self, errors: list, return_exceptions: bool) -> None:
        if errors and not return_exceptions:
            raise self.error_class(errors)


class MultiExec(Pipeline):
    """Buffers commands for one MULTI/EXEC transaction.

    >>> tr = redis.multi_exec()
    >>> fut1 = tr.incr('foo')
    >>> fut2 = tr.incr('bar')
    >>> await tr.execute()
    [1, 1]

    :meth:`execute` raises :class:`~aioredis_cy.errors.MultiExecError` if any command
    failed and :class:`~aioredis_cy.errors.WatchVariableError` (a MultiExecError) if a
    watched key changed, in which case every command's future holds that error. If a
    command is refused before anything is sent, DISCARD replaces EXEC and every other
    command fails with the same error: a transaction runs whole or not at all.
    """

    error_class = MultiExecError

    def __init__(self, pool_or_connection, commands_factory=lambda conn: conn, *, loop=None):
        super().__init__(pool_or_connection, commands_factory)
        self._pin = _current_pin(pool_or_connection) if isinstance(pool_or_connection, AbcPool) else None
        self._refusal = None
        self._watch_failed = False
        self._queued = None     # the future of the outcomes of MULTI and each queued command

    def _nothing_to_send(self) -> None:
        if self._pin is not None:
            self._pin.release()

    async def _take_connection(self):
        if self._pin is not None and self._pin.active:
            return self._pin.conn, self._pin.release
        return await super()._take_connection()

    def _send(self, conn) -> asyncio.Future:
        """MULTI, the commands, then EXEC (DISCARD if one was refused); the future of EXEC's outcome."""
        multi = BufferedCommand(b"MULTI", (), ENCODING_NOT_GIVEN)
        done, self._refused = send_commands(conn, [multi, *self._commands])
        if self._refused:
            self._refusal = next(iter(self._refused.values()))
        # Leaves with the rest: EXEC's reply comes last, once every other one is in.
        final = conn.execute(b"DISCARD" if self._refusal is not None else b"EXEC")
        self._queued = done
        return final

    def _transaction_error(self, multi, final):
        """Why the transaction as a whole failed, or None if EXEC returned its results."""
        if self._refusal is not None:
            return self._refusal
        for outcome in (multi, final):
            if isinstance(outcome, BaseException):
                return outcome
        if final is None:
            self._watch_failed = True
            return WatchVariableError("WATCH variable has changed")
        return None

    def _settle(self, final) -> None:
        outcomes = self._queued.result()
        if self._refused:   # put the refusals back in their places (MULTI's is first)
            sent = iter(outcomes)
            outcomes = [self._refused[index] if index in self._refused else next(sent)
                        for index in range(len(self._commands) + 1)]
        error = self._transaction_error(outcomes[0], final)
        if error is None and all_queued(outcomes, 1):
            values = convert_each(self._commands, final)
        else:   # refused when queued, or the transaction failed as a whole
            sent = outcomes[1:]
            queued = [entry for entry, outcome in zip(self._commands, sent) if outcome in _QUEUED]
            results = iter(convert_each(queued, final) if error is None else ())
            values = [outcome if outcome not in _QUEUED else error if error is not None else next(results)
                      for outcome in sent]
        self._outcomes = settle_records(self._commands, values, None)

    def _raise_for(self, errors: list, return_exceptions: bool) -> None:
        # As in 1.x, a command sent through ``tr.connection`` is no result, but its error counts.
        for record in self._buffer.direct + self._commands[self._buffer.owned:]:
            if record.done() and not record.cancelled() and record.exception() is not None:
                errors = [*errors, record.exception()]
        if self._watch_failed and not return_exceptions:
            raise WatchVariableError(errors)
        super()._raise_for(errors, return_exceptions)
