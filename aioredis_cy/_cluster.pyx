# cython: language_level=3
"""The cluster client's per-command work in C.

``Router.execute`` is the fast path: the slot of the command's keys, the pool of the
node serving it, the command handed to that pool at once, and a ``Relay`` that passes
the pool's reply on to the caller's future. Anything unusual (an unknown command, a
slot without a pool, a redirect or a lost connection in the reply) is handed to the
Python ``Cluster``, which owns the slow path.
"""
import asyncio

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

from aioredis_cy._buffered cimport BufferedCommand
from aioredis_cy._crc16 cimport buffer_slot
from aioredis_cy._protocol cimport CoreProtocol, ReplySink

from aioredis_cy.connection import RedisConnection
from aioredis_cy.errors import PoolClosedError, ReplyError
from aioredis_cy.util import _NOTSET

cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object text, Py_ssize_t *size) except NULL
    bint PyBytes_CheckExact(object obj)
    bint PyUnicode_CheckExact(object obj)
    bint PyUnicode_Check(object obj)
    bint PyBytes_Check(object obj)
    bint PyLong_Check(object obj)
    bint PyFloat_Check(object obj)
    bint PyBool_Check(object obj)
    bint PyByteArray_Check(object obj)
    bint PyMemoryView_Check(object obj)
    object PyObject_Call(object callable, object args, object kwargs)

cdef object Future = asyncio.Future
cdef object _PLAIN_EXECUTE = RedisConnection.execute

cdef enum SlotResult:
    # keys_slot() results other than a slot.
    SLOT_NO_KEYS = -1
    SLOT_CROSS = -2
    SLOT_BAD_KEY = -3   # (record_slots only: a key keys_slot refuses)

NO_KEYS = SLOT_NO_KEYS
CROSS_SLOT = SLOT_CROSS


cdef int object_slot(object key) except -1:
    """The slot of one key, encoded as the protocol would send it."""
    cdef const char *data
    cdef Py_ssize_t size
    cdef Py_buffer view
    cdef int slot
    if PyBytes_Check(key):
        data = PyBytes_AS_STRING(key)
        size = PyBytes_GET_SIZE(key)
    elif PyUnicode_Check(key):
        data = PyUnicode_AsUTF8AndSize(key, &size)
    elif PyLong_Check(key) and not PyBool_Check(key):
        return object_slot(str(int(key)))
    elif PyFloat_Check(key):
        return object_slot(repr(float(key)))
    elif PyByteArray_Check(key) or PyMemoryView_Check(key):
        PyObject_GetBuffer(key, &view, PyBUF_SIMPLE)
        slot = buffer_slot(<const unsigned char *>view.buf, view.len)
        PyBuffer_Release(&view)
        return slot
    else:
        raise TypeError(f"bad key type {type(key).__name__}: bytes, str, int, float, bytearray or "
                        "memoryview expected")
    return buffer_slot(<const unsigned char *>data, size)


cdef inline dict keywords(object encoding):
    """The keywords of a command given ``encoding`` (or not) for the pool's ``execute``."""
    return {} if encoding is _NOTSET else {"encoding": encoding}


def slot_of(key):
    """The cluster slot of one key (bytes, str, int, float or a bytes-like object)."""
    return object_slot(key)


cpdef int keys_slot(tuple args, Py_ssize_t first, Py_ssize_t last, Py_ssize_t step) except -3:
    """The one slot of the keys ``args[first], args[first + step], ...`` up to ``args[last]``.

    ``last`` -1 means the last argument, -2 the one before it. Returns NO_KEYS when
    there is no key, CROSS_SLOT when the keys hash to different slots.
    """
    cdef Py_ssize_t n = len(args), stop, i
    cdef int slot = SLOT_NO_KEYS, other
    if last == -1:
        stop = n
    elif last == -2:
        stop = n - 1
    else:
        stop = min(last + 1, n)
    i = first
    while i < stop:   # (a range() with a variable step would iterate in Python)
        other = object_slot(args[i])
        if slot == SLOT_NO_KEYS:
            slot = other
        elif other != slot:
            return SLOT_CROSS
        i += step
    return slot


cdef int records_slot(tuple args, tuple spec) noexcept:
    """keys_slot for one record, SLOT_BAD_KEY where it would raise (the caller's slow path words it)."""
    try:
        return keys_slot(args, spec[0], spec[1], spec[2])
    except Exception:
        return SLOT_BAD_KEY


def record_slots(list records, dict positions, object positions_of):
    """``(slots, undecided)`` of a pipeline's buffered commands, in one C pass.

    ``slots[i]`` is the slot of ``records[i]`` (NO_KEYS without keys) for a command
    whose key positions ``positions_of(command)`` knows (cached in ``positions`` per
    command object); ``undecided`` lists the others (unknown commands, keys that
    hash to several slots or cannot be hashed), whose slots stay NO_KEYS for the
    caller to settle.
    """
    cdef list slots = [SLOT_NO_KEYS] * len(records)
    cdef list undecided = []
    cdef BufferedCommand record
    cdef object spec
    cdef Py_ssize_t index
    cdef int slot
    for index in range(len(records)):
        if type(records[index]) is not BufferedCommand:
            undecided.append(index)
            continue
        record = <BufferedCommand>records[index]
        if PyBytes_CheckExact(record.command) or PyUnicode_CheckExact(record.command):
            spec = positions.get(record.command, False)   # (False: not looked up yet)
            if spec is False:
                spec = positions[record.command] = positions_of(record.command)
        else:
            spec = None
        if spec is None:
            undecided.append(index)
            continue
        slot = records_slot(record.args, <tuple?>spec)
        if slot == SLOT_CROSS or slot == SLOT_BAD_KEY:
            undecided.append(index)
        else:
            slots[index] = slot
    return slots, undecided


def group_by_owner(list pending, list slots, list owners, dict asks, object any_master):
    """``(groups, uncovered)``: the record indices of ``pending`` by the address they go to.

    That is ``asks[index]`` for a command told to ASK there, else the address of
    its slot's primary ``owners[slot]``, else for a keyless one (slot NO_KEYS) the first
    address grouped so far or ``any_master()``. ``groups`` is ``{addr: [index, ...]}`` in
    first-seen order; ``uncovered`` lists the indices whose slot has no primary.
    """
    cdef dict groups = {}
    cdef list uncovered = []
    cdef list group
    cdef int slot
    keyless_addr = None
    for index in pending:
        addr = asks.get(index) if asks else None
        if addr is None:
            slot = slots[index]
            if slot == SLOT_NO_KEYS:
                if keyless_addr is None:
                    keyless_addr = next(iter(groups), None) or any_master()
                addr = keyless_addr
            else:
                owner = owners[slot]
                if owner is None:
                    uncovered.append(index)
                    continue
                addr = owner.addr
        group = groups.get(addr)
        if group is None:
            group = groups[addr] = []
        group.append(index)
    return groups, uncovered


def failed_indices(list indices, list outcomes):
    """The indices among ``indices`` whose outcome is a ReplyError (a redirect, maybe)."""
    return [index for index in indices if isinstance(outcomes[index], ReplyError)]


cdef class Route:
    """Where one command's keys are, and how it may be treated."""

    cdef readonly Py_ssize_t first, last, step
    cdef readonly bint read_only     # never writes: may be re-sent, may go to a replica
    cdef readonly bint blocking      # holds a connection: cancelling the caller cancels the send

    def __init__(self, Py_ssize_t first, Py_ssize_t last, Py_ssize_t step, bint read_only, bint blocking):
        self.first = first
        self.last = last
        self.step = step
        self.read_only = read_only
        self.blocking = blocking

    def __repr__(self):
        return (f"<Route keys={self.first}:{self.last}:{self.step} read_only={self.read_only} "
                f"blocking={self.blocking}>")


# Not tracked by the garbage collector (thousands are in flight at a time): the only
# cycles through a Relay (its timer, its source future's callback) are broken when
# the command completes or expires.
@cython.no_gc
@cython.freelist(256)
cdef class Relay(ReplySink):
    """One command in flight: what was sent, and the caller's future its outcome goes to.

    The protocol's sink, or the done-callback of the pool's future. A reply goes to the
    caller; an exception goes to the cluster's ``_on_error`` (which follows redirects or
    fails the caller). A caller that has stopped waiting gets nothing.
    """

    cdef readonly object target, converter, command, encoding
    cdef readonly tuple args
    cdef readonly int slot
    cdef readonly Route route
    cdef Router router
    cdef public object timer
    cdef public object source

    @property
    def kwargs(self):
        """The keywords the command was given (``encoding``, if it was)."""
        return keywords(self.encoding)

    # As the protocol's sink (see CoreProtocol.send_into): settled as the reply is read.

    cdef bint finished(self) except -1:
        return self.target.done()

    cdef int settle(self, object reply, bint failed) except -1:
        if failed:
            self.set_exception(reply)
        else:
            self.target.set_result(reply)
        return 0

    def done(self):
        return self.target.done()

    def set_result(self, reply):
        self.target.set_result(reply)

    def set_exception(self, exc):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.router.cluster._on_error(self, exc)

    # As the done-callback of the pool's future, when the command went through pool.execute().

    def __call__(self, source):
        cdef object target = self.target
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.source = None
        try:
            exc = source.exception()
        except asyncio.CancelledError as cancelled:
            exc = cancelled
        if target.done():
            return
        if exc is None:
            target.set_result(source.result())
        else:
            self.router.cluster._on_error(self, exc)

    def expire(self):
        """The attempt took too long: the caller gets TimeoutError (the reply, if any, is dropped)."""
        self.timer = None
        self.router.cluster._on_timeout(self)

    def stop_on_cancel(self, target):
        """Done-callback of the caller's future for a blocking command: a cancelled wait stops it."""
        source = self.source
        if target.cancelled() and source is not None:
            source.cancel()


@cython.final   # its cdef methods are plain C calls the compiler may inline
cdef class Router:
    """Slot -> pool tables and the fast path of ``Cluster.execute``.

    The cluster fills ``slot_pools`` (the primary's pool per slot, or None),
    ``replica_pools`` (a tuple of replica pools per slot, with ``read_from_replicas``)
    and ``master_pools`` (for keyless commands), and ``routes`` (command as given ->
    Route) through ``cluster._learn``.
    """

    cdef readonly object cluster
    cdef public bint closed
    cdef public list slot_pools
    cdef public list replica_pools
    cdef public list master_pools
    cdef public object attempt_timeout
    cdef readonly dict routes
    cdef object loop
    cdef dict future_kwargs
    cdef bint replica_reads
    cdef size_t counter

    def __init__(self, cluster, bint replica_reads, attempt_timeout):
        self.cluster = cluster
        self.closed = False
        self.slot_pools = [None] * 16384
        self.replica_pools = [None] * 16384
        self.master_pools = []
        self.routes = {}
        self.replica_reads = replica_reads
        self.attempt_timeout = attempt_timeout
        self.counter = 0

    def bind_loop(self, loop):
        """Make callers' futures on ``loop`` (plain asyncio futures are made without a method call)."""
        self.loop = loop
        probe = loop.create_future()
        self.future_kwargs = {"loop": loop} if type(probe) is Future else None
        probe.cancel()

    cdef object new_future(self):
        if self.future_kwargs is not None:
            return PyObject_Call(Future, (), self.future_kwargs)
        return self.loop.create_future()

    def execute(self, command, *args, encoding=_NOTSET):
        """Send ``command`` to the node serving its keys; a future of the reply."""
        return self.send(None, command, args, encoding)

    def execute_converted(self, converter, command, *args, encoding=_NOTSET):
        """``execute`` whose future gets ``converter(reply)``."""
        return self.send(converter, command, args, encoding)

    cpdef object pick(self, Route route, int slot):
        """The pool for a command of ``route`` on ``slot`` (NO_KEYS: any primary), or None."""
        cdef list pools
        cdef object replicas
        if slot == SLOT_NO_KEYS:
            pools = self.master_pools
            if not pools:
                return None
            self.counter += 1
            return pools[self.counter % len(pools)]
        if self.replica_reads and route.read_only:
            replicas = self.replica_pools[slot]
            if replicas:
                self.counter += 1
                return (<tuple>replicas)[self.counter % len(<tuple>replicas)]
        return self.slot_pools[slot]

    cdef inline Relay new_relay(self, object converter, object command, tuple args, object encoding, int slot,
                                Route route):
        """A Relay for one command (its target future is made by whoever sends it)."""
        cdef Relay relay = Relay.__new__(Relay)
        relay.converter = converter
        relay.command = command
        relay.args = args
        relay.encoding = encoding
        relay.slot = slot
        relay.route = route
        relay.router = self
        return relay

    cdef object send(self, object converter, object command, tuple args, object encoding):
        cdef Route route
        cdef int slot
        cdef Relay relay
        cdef dict kwargs
        if self.closed:
            return self.cluster._closed_error()
        try:
            route = self.routes.get(command)
        except TypeError:   # unhashable command (bytearray)
            route = None
        if route is None:
            route = self.cluster._learn(command)
            if route is None:
                return self.cluster._send_slowly(converter, command, args, keywords(encoding))
        slot = keys_slot(args, route.first, route.last, route.step) if route.first >= 0 else SLOT_NO_KEYS
        if slot == SLOT_CROSS:
            return self.cluster._cross_slot(command, args)
        pool = self.pick(route, slot)
        if pool is None:
            return self.cluster._send_slowly(converter, command, args, keywords(encoding))
        relay = self.new_relay(converter, command, args, encoding, slot, route)
        if route.blocking or not self.send_direct(pool, relay, args, encoding):
            kwargs = keywords(encoding)
            try:
                if converter is None:
                    source = PyObject_Call(pool.execute, (command,) + args, kwargs)
                else:
                    source = PyObject_Call(pool._execute_converted, (converter, command) + args, kwargs)
            except PoolClosedError:   # its node left the cluster a moment ago; nothing was sent
                return self.cluster._send_slowly(converter, command, args, kwargs)
            if not isinstance(source, Future):
                source = asyncio.ensure_future(source)
            relay.target = self.new_future()
            source.add_done_callback(relay)
            if route.blocking:
                relay.source = source
                relay.target.add_done_callback(relay.stop_on_cancel)
            elif self.attempt_timeout is not None:
                relay.source = source
        if self.attempt_timeout is not None:
            relay.timer = self.loop.call_later(self.attempt_timeout, relay.expire)
        return relay.target

    def send_on(self, conn, converter, command, tuple args, int slot, Route route):
        """Send a command of ``slot`` on ``conn``, a free connection of the pool serving it, with
        the redirects, retries and timeout of ``execute``; replies are not decoded (encoding None).

        The future of the reply, or None when ``conn`` cannot take the command (nothing was sent).
        The client cache reads this way, so that the connection that read a key is known.
        """
        cdef Relay relay
        if self.closed:
            return self.cluster._closed_error()
        relay = self.new_relay(converter, command, args, None, slot, route)
        if not self.queue_on(conn, relay, args, None):
            return None
        if self.attempt_timeout is not None:
            relay.timer = self.loop.call_later(self.attempt_timeout, relay.expire)
        return relay.target

    cdef bint send_direct(self, object pool, Relay relay, tuple args, object encoding) except -1:
        """Queue the command on the pool's next shared connection with ``relay`` as its sink.

        False when that is not possible (no free connection, a command that is not
        plain): nothing was sent, use the pool. This is what ``ConnectionsPool.execute``
        does for a shared command, minus the future that would only be chained on.
        """
        free = pool._free
        cdef Py_ssize_t count = len(free)
        if count == 0:
            return False
        if count > 1:   # round robin, as the pool's rotate() would (minus the method call)
            self.counter += 1
            return self.queue_on(free[self.counter % count], relay, args, encoding)
        return self.queue_on(free[0], relay, args, encoding)

    cdef inline bint queue_on(self, object conn, Relay relay, tuple args, object encoding) except -1:
        """Queue the command on ``conn`` with ``relay`` as its sink; False (nothing sent) when the
        connection is not a plain one or is closed."""
        cdef CoreProtocol protocol
        candidate = getattr(conn, "_protocol", None)
        if not isinstance(candidate, CoreProtocol) or type(conn).execute is not _PLAIN_EXECUTE:
            return False
        protocol = <CoreProtocol>candidate
        if protocol.transport is None or protocol.closing:   # nothing is written: the pool replaces it
            return False
        relay.target = self.new_future()
        return protocol.send_into(relay, relay.converter, relay.command, args, encoding)
