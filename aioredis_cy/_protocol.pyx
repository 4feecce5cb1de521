# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The asyncio protocol: encodes commands, matches replies to their futures in order.

Its job ends at "this reply belongs to this future". Everything it tracks besides
the FIFO is what the reply stream itself changes: the selected db, MULTI/EXEC
bookkeeping and pub/sub subscriptions.
"""
import asyncio
import codecs

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.float cimport PyFloat_Check
from cpython.long cimport PyLong_AsLongLongAndOverflow, PyLong_Check
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.unicode cimport PyUnicode_Check, PyUnicode_CheckExact
from libc.string cimport memcmp, memcpy

from aioredis_cy._buffered cimport BufferedCommand, buffered_command
from aioredis_cy._resp cimport Reader

from aioredis_cy.log import logger as _logger
from aioredis_cy.errors import (
    ConnectionClosedError,
    ConnectionForcedCloseError,
    ProtocolError,
    RedisError,
    ReplyError,
)

cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object text, Py_ssize_t *size) except NULL
    bint PyBytes_Check(object obj)
    bint PyBytes_CheckExact(object obj)
    object PyObject_Call(object callable, object args, object kwargs)
    dict _PyDict_NewPresized(Py_ssize_t minused)
    bint PyByteArray_Check(object obj)
    bint PyMemoryView_Check(object obj)
    bint PyBool_Check(object obj)
    bint PyExceptionInstance_Check(object obj)
    bint PyList_CheckExact(object obj)
    bint PyList_Check(object obj)
    bint PyDict_Check(object obj)


# Output larger than this is written at once instead of waiting for the flush, so the
# server starts on the first commands of a big burst while the rest are being encoded
# (8 KiB measured best for 1,000 small commands in flight: +30% throughput, same CPU).
cdef Py_ssize_t EAGER_WRITE_SIZE = 8 * 1024
cdef Py_ssize_t INITIAL_OUTPUT_SIZE = 16 * 1024
# Where reads go for a reader other than the Cython one (which has its own buffer).
cdef Py_ssize_t SCRATCH_SIZE = 64 * 1024

cdef object _OK_REPLIES = (b"OK", "OK")
cdef object _NO_ENCODING_GIVEN = object()
ENCODING_NOT_GIVEN = _NO_ENCODING_GIVEN   # what a CommandRecorder record holds when no encoding was given
cdef object _QUEUED_REPLIES = (b"QUEUED", "QUEUED")

cdef object Future = asyncio.Future


# The per-call encodings seen valid so far: a dict look-up per command instead of a codec search.
cdef dict _CHECKED_ENCODINGS = {}


cdef int check_encoding(object encoding) except -1:
    """TypeError/LookupError unless ``encoding`` names a text codec (checked before anything is sent)."""
    if PyUnicode_CheckExact(encoding) and encoding in _CHECKED_ENCODINGS:
        return 0
    if not PyUnicode_Check(encoding):
        raise TypeError(f"encoding must be a str or None, got {type(encoding).__name__}")
    if not codecs.lookup(encoding)._is_text_encoding:
        raise LookupError(f"{encoding!r} is not a text encoding")
    if len(_CHECKED_ENCODINGS) < 256:
        _CHECKED_ENCODINGS[str(encoding)] = True
    return 0


cdef object convert_later(object awaitable, object converter):
    from aioredis_cy.util import _convert_later   # the rare path (util imports this module)
    return _convert_later(awaitable, converter)


cdef inline bint is_ok(object reply):
    if PyBytes_CheckExact(reply):
        return PyBytes_GET_SIZE(reply) == 2 and memcmp(PyBytes_AS_STRING(reply), b"OK", 2) == 0
    return reply in _OK_REPLIES


cdef inline bint is_queued(object reply):
    if PyBytes_CheckExact(reply):
        return PyBytes_GET_SIZE(reply) == 6 and memcmp(PyBytes_AS_STRING(reply), b"QUEUED", 6) == 0
    return reply in _QUEUED_REPLIES


def reply_is_ok(reply):
    """The ``wait_ok`` converter: True when the reply is OK."""
    return is_ok(reply)


cdef object REPLY_IS_OK = reply_is_ok


cdef inline object convert(object converter, object reply):
    """``converter(reply)`` for a successful reply (QUEUED passes as it is), or its exception.

    ``reply_is_ok`` (SET's, and many more) runs here in C.
    """
    if is_queued(reply):
        return reply
    if converter is REPLY_IS_OK:
        return is_ok(reply)
    try:
        return converter(reply)
    except Exception as exc:
        return exc


def pairs_to_dict(reply):
    """The ``wait_make_dict`` converter: ``[k1, v1, k2, v2, ...]`` as ``{k1: v1, k2: v2, ...}``.

    A dict (a RESP3 map) is returned as it is.
    """
    cdef dict result
    cdef Py_ssize_t i, n
    if isinstance(reply, dict):
        return reply
    if not PyList_CheckExact(reply):
        pairs = iter(reply)
        return dict(zip(pairs, pairs))
    n = len(<list>reply)
    result = _PyDict_NewPresized(n // 2)   # no rehashing while it fills
    for i in range(0, n - 1, 2):
        result[(<list>reply)[i]] = (<list>reply)[i + 1]
    return result


@cython.freelist(1024)
@cython.no_gc
cdef class Waiter:
    """One FIFO slot (see the .pxd).

    Not tracked by the garbage collector (one tracked allocation less per command): a
    Waiter is only referenced from its protocol's FIFO, which connection_lost empties,
    so it cannot keep a cycle of garbage alive.
    """


cdef inline bint is_sendable(object arg):
    """True for the argument types ``OutputBuffer.write_bulk`` encodes."""
    if PyBytes_Check(arg) or PyUnicode_Check(arg) or PyFloat_Check(arg):
        return True
    if PyLong_Check(arg):
        return not PyBool_Check(arg)
    return PyByteArray_Check(arg) or PyMemoryView_Check(arg)


cdef int check_command(object command, tuple args) except -1:
    if not (PyBytes_Check(command) or PyUnicode_Check(command) or PyByteArray_Check(command)
            or PyMemoryView_Check(command)):
        raise TypeError(f"command must be str or bytes, got {type(command).__name__}")
    for arg in args:
        if not is_sendable(arg):
            raise TypeError(
                f"{command!r}: argument {arg!r} expected to be of bytearray, bytes, float, int, "
                f"memoryview or str type, got {type(arg).__name__}"
            )
    return 0


def check_sendable(command, args):
    """TypeError for a command or an argument that the connection would refuse to encode."""
    check_command(command, tuple(args))


cdef object _EXECUTED = "Pipeline already executed. Create new one."


cdef class CommandRecorder:
    """Takes a connection's place under a pipeline: records each command instead of sending it.

    Each command becomes a ``BufferedCommand`` (in ``records``): the future the call
    returns, of the running loop, holding what to send; its ``encoding`` is as given (a
    default marker if not). Arguments are checked at once.

    It also keeps what the pipeline's methods (``BufferedMethod``) returned, in call
    order, in ``results``: the command each recorded, as a rule, else what
    ``track(results, value)`` returned (the pipeline's own handling). Commands recorded
    outside of a method (through ``.connection``) are collected in ``direct``.
    """

    def __init__(self, track):
        self.records = []
        self.results = []
        self.direct = []
        self.owned = 0
        self.closed = False
        self.plain = True
        self.loop = None
        self.track = track

    cdef BufferedCommand record(self, object command, tuple args, object encoding, object converter):
        cdef BufferedCommand buffered
        check_command(command, args)
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        buffered = buffered_command(self.loop, command, args, encoding, converter)
        self.records.append(buffered)
        return buffered

    def execute(self, command, *args, encoding=_NO_ENCODING_GIVEN):
        """Record the command; return its future."""
        return self.record(command, args, encoding, None)

    def _execute_converted(self, converter, command, *args, encoding=_NO_ENCODING_GIVEN):
        """``execute`` whose future gets ``converter(reply)`` (QUEUED and errors pass through)."""
        return self.record(command, args, encoding, converter)

    cdef object call(self, object method, tuple args, dict kwargs, BufferedMethod shortcut):
        """Call a command method of the pipeline; register and return what it returned.

        With a ``shortcut`` (see ``BufferedMethod.records_only``) the command is recorded
        as the method would record it, without running the method. As in 1.x, the error
        of a call that fails goes into the future it returns.
        """
        cdef Py_ssize_t count
        cdef BufferedCommand failed
        if self.closed:
            raise AssertionError(_EXECUTED)
        count = len(self.records)
        if count != self.owned:   # recorded through ``.connection`` since the last call
            self.direct.extend(self.records[self.owned:])
        try:
            if shortcut is not None:
                result = self.record(shortcut.command, args, shortcut.encoding, shortcut.converter)
            else:
                result = PyObject_Call(method, args, kwargs)
        except Exception as exc:
            if self.loop is None:
                self.loop = asyncio.get_running_loop()
            failed = buffered_command(self.loop, None, (), None, None)
            failed.settle(exc)
            result = failed
        self.owned = len(self.records)
        if self.owned > count and self.records[self.owned - 1] is result:   # the usual case
            self.results.append(result)
            return result
        self.plain = False
        return self.track(self.results, result)


@cython.final
cdef class BufferedMethod:
    """A command method of a pipeline's client, called through ``CommandRecorder.call``."""

    def __init__(self, CommandRecorder recorder, method):
        self.recorder = recorder
        self.method = method

    def records_only(self, command, Py_ssize_t argc, encoding, converter):
        """Declare that the method, called with ``argc`` positional arguments and no keyword,
        only records ``command`` with them (with ``encoding`` and ``converter``): such calls
        then record it directly, in C, and the others still run the method."""
        self.command = command
        self.argc = argc
        self.encoding = encoding
        self.converter = converter

    def __call__(self, *args, **kwargs):
        if self.command is not None and not kwargs and len(args) == self.argc:
            return self.recorder.call(self.method, args, None, self)
        return self.recorder.call(self.method, args, kwargs, None)

    @property
    def __wrapped__(self):
        return self.method

    def __getattr__(self, name):
        # ``__name__``, ``__qualname__``, ...: the method's, as functools.wraps would copy them.
        return getattr(self.method, name)

    def __repr__(self):
        return f"<buffered {self.method!r}>"


def settle_records(list records, list outcomes, dict refused):
    """Settle each ``BufferedCommand`` with its outcome (the next of ``outcomes`` unless refused).

    Returns ``(outcomes in call order, the exceptions among them)``; a command its holder
    cancelled counts as a CancelledError. The exceptions count as retrieved: execute()
    reports them.
    """
    cdef list merged = [], errors = []
    cdef Py_ssize_t index, sent = 0
    cdef BufferedCommand record
    for index in range(len(records)):
        record = <BufferedCommand>records[index]
        if refused is not None and index in refused:
            outcome = refused[index]
        else:
            outcome = outcomes[sent]
            sent += 1
        outcome = record.settle(outcome)
        merged.append(outcome)
        if PyExceptionInstance_Check(outcome):
            errors.append(outcome)
    return merged, errors


def fail_records(list records, exc):
    """Settle every ``BufferedCommand`` not settled yet with ``exc``."""
    cdef BufferedCommand record
    for record in records:
        record.settle(exc)


def all_queued(list outcomes, Py_ssize_t start):
    """True when every outcome from index ``start`` on is the QUEUED status."""
    cdef Py_ssize_t index
    for index in range(start, len(outcomes)):
        if not is_queued(outcomes[index]):
            return False
    return True


def convert_each(list records, list values):
    """Each value with its record's converter applied; exceptions and QUEUED pass as they are.

    A converter that fails gives its exception in place of the value.
    """
    cdef list converted = []
    for item, value in zip(records, values):
        converter = (<BufferedCommand>item).converter
        if converter is not None and not PyExceptionInstance_Check(value):
            value = convert(converter, value)
        converted.append(value)
    return converted


cdef class ReplySink:
    """Stands in for a reply's future where the protocol would call its methods from Python.

    ``resolve`` asks ``finished()`` (the future's ``done()``) and then calls ``settle``
    with the reply, converted, or its exception. Elsewhere (a lost connection, a
    cancellation) a sink is treated as a future, so a subclass has those methods too.
    """

    cdef bint finished(self) except -1:
        raise NotImplementedError

    cdef int settle(self, object reply, bint failed) except -1:
        raise NotImplementedError


cdef class BatchReplies(ReplySink):
    """Stands in for the futures of a batch's commands: collects their outcomes in order.

    The protocol resolves it once per reply as it would a future (an outcome is the
    reply, converted, or its exception); the last one settles ``future`` with the list.
    A cancelled batch keeps collecting, so its replies are read and dropped in order.
    """

    def done(self):
        return False

    def set_result(self, reply):
        self.add(reply)

    def set_exception(self, exc):
        self.add(exc)

    cdef bint finished(self) except -1:
        return False

    cdef int settle(self, object reply, bint failed) except -1:
        return self.add(reply)

    cdef int add(self, object outcome) except -1:
        self.outcomes.append(outcome)
        if len(self.outcomes) == self.expected and not self.future.done():
            self.future.set_result(self.outcomes)
        return 0


cdef Py_ssize_t format_int(char *buf, long long value) noexcept:
    """Write the decimal form of ``value`` at ``buf``; return its length (at most 20)."""
    cdef char tmp[24]
    cdef Py_ssize_t n = 0, i
    cdef unsigned long long magnitude
    if value < 0:
        magnitude = <unsigned long long>(-(value + 1)) + 1
    else:
        magnitude = <unsigned long long>value
    while True:
        tmp[n] = <char>(48 + magnitude % 10)
        n += 1
        magnitude //= 10
        if magnitude == 0:
            break
    i = 0
    if value < 0:
        buf[0] = b'-'
        i = 1
    while n:
        n -= 1
        buf[i] = tmp[n]
        i += 1
    return i


cdef class OutputBuffer:
    """A growable C buffer of encoded commands."""

    def __cinit__(self):
        self.data = <char *>PyMem_Malloc(INITIAL_OUTPUT_SIZE)
        if self.data is NULL:
            raise MemoryError()
        self.capacity = INITIAL_OUTPUT_SIZE
        self.length = 0

    def __dealloc__(self):
        PyMem_Free(self.data)

    cdef int reserve(self, Py_ssize_t extra) except -1:
        cdef Py_ssize_t needed = self.length + extra
        cdef Py_ssize_t new_capacity = self.capacity
        cdef char *new_data
        if needed <= self.capacity:
            return 0
        while new_capacity < needed:
            new_capacity *= 2
        new_data = <char *>PyMem_Realloc(self.data, new_capacity)
        if new_data is NULL:
            raise MemoryError()
        self.data = new_data
        self.capacity = new_capacity
        return 0

    cdef int write(self, const char *src, Py_ssize_t n) except -1:
        self.reserve(n)
        memcpy(self.data + self.length, src, n)
        self.length += n
        return 0

    cdef int write_header(self, char kind, Py_ssize_t count) except -1:
        """Write ``*count\\r\\n`` or ``$count\\r\\n``."""
        cdef char *pos
        self.reserve(24)
        pos = self.data + self.length
        pos[0] = kind
        pos += 1
        pos += format_int(pos, count)
        pos[0] = b'\r'
        pos[1] = b'\n'
        self.length = (pos + 2) - self.data
        return 0

    cdef int write_bulk(self, object arg) except -1:
        """Append one argument as a RESP bulk string; TypeError for unsupported types."""
        cdef const char *src
        cdef Py_ssize_t size
        cdef long long number
        cdef int overflow = 0
        cdef char digits[24]
        cdef Py_buffer view
        if PyBytes_Check(arg):
            src = PyBytes_AS_STRING(arg)
            size = PyBytes_GET_SIZE(arg)
        elif PyUnicode_Check(arg):
            src = PyUnicode_AsUTF8AndSize(arg, &size)
        elif PyLong_Check(arg) and not PyBool_Check(arg):
            number = PyLong_AsLongLongAndOverflow(arg, &overflow)
            if overflow:
                return self.write_bulk(str(int(arg)))
            size = format_int(digits, number)
            src = digits
        elif PyFloat_Check(arg):
            return self.write_bulk(repr(float(arg)))
        elif PyByteArray_Check(arg) or PyMemoryView_Check(arg):
            try:
                PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE)
            except BufferError as exc:
                raise TypeError(f"Argument {arg!r} is not a contiguous buffer") from exc
            try:
                self.write_header(b'$', view.len)
                self.reserve(view.len + 2)
                memcpy(self.data + self.length, view.buf, view.len)
                self.length += view.len
                self.write(b"\r\n", 2)
            finally:
                PyBuffer_Release(&view)
            return 0
        elif arg is None:
            raise TypeError("None is not a valid command argument: use b'' or an explicit value")
        else:
            raise TypeError(
                f"Argument {arg!r} expected to be of bytearray, bytes, float, int, "
                f"memoryview or str type, got {type(arg).__name__}"
            )
        self.write_header(b'$', size)
        self.reserve(size + 2)
        memcpy(self.data + self.length, src, size)
        self.length += size
        self.data[self.length] = b'\r'
        self.data[self.length + 1] = b'\n'
        self.length += 2
        return 0

    cdef bytes take(self):
        """Return the buffered bytes and empty the buffer."""
        cdef bytes chunk = PyBytes_FromStringAndSize(self.data, self.length)
        self.length = 0
        return chunk


cdef inline bint same_word(const char *name, Py_ssize_t n, const char *upper) noexcept:
    """Case-insensitive ASCII comparison of ``name`` with the upper-case ``upper``."""
    cdef Py_ssize_t i
    cdef char c
    for i in range(n):
        c = name[i]
        if b'a' <= c <= b'z':
            c -= 32
        if c != upper[i]:
            return False
    return True


cdef bint is_word(object value, const char *upper):
    """True when ``value`` (str or bytes) is the upper-case ASCII word ``upper``, in any case."""
    cdef bytes word
    if PyUnicode_Check(value):
        value = (<str>value).encode("utf-8", "replace")
    elif not PyBytes_Check(value):
        return False
    word = <bytes>value
    return PyBytes_GET_SIZE(word) == len(upper) and same_word(PyBytes_AS_STRING(word), len(upper), upper)


cdef inline object command_name(object command, const char **name, Py_ssize_t *n):
    """Point ``name``/``n`` at a command's name; returns the object that holds those
    bytes (keep it while they are read). TypeError for what cannot name a command."""
    if PyByteArray_Check(command) or PyMemoryView_Check(command):
        command = bytes(command)
    if PyBytes_Check(command):
        name[0] = PyBytes_AS_STRING(command)
        n[0] = PyBytes_GET_SIZE(command)
    elif PyUnicode_Check(command):
        name[0] = PyUnicode_AsUTF8AndSize(command, n)
    elif command is None:
        raise TypeError("command must not be None")
    else:
        raise TypeError(f"command must be str or bytes, got {type(command).__name__}")
    return command


cdef CommandKind classify(object command) except? KIND_PLAIN:
    """The kind of a command from its name, without building an upper-cased copy."""
    cdef const char *name
    cdef Py_ssize_t n
    cdef object _holder = command_name(command, &name, &n)   # keeps name alive
    if n == 4:
        if same_word(name, 4, b"PING"):
            return KIND_PING
        if same_word(name, 4, b"EXEC"):
            return KIND_EXEC
        if same_word(name, 4, b"QUIT"):
            return KIND_QUIT
    elif n == 5:
        if same_word(name, 5, b"MULTI"):
            return KIND_MULTI
        if same_word(name, 5, b"WATCH"):
            return KIND_WATCH
        if same_word(name, 5, b"RESET"):
            return KIND_RESET
        if same_word(name, 5, b"HELLO"):
            return KIND_REFUSED
    elif n == 6:
        if same_word(name, 6, b"SELECT"):
            return KIND_SELECT
        if same_word(name, 6, b"CLIENT"):
            return KIND_CLIENT
    elif n == 7:
        if same_word(name, 7, b"DISCARD"):
            return KIND_DISCARD
        if same_word(name, 7, b"UNWATCH"):
            return KIND_UNWATCH
        if same_word(name, 7, b"MONITOR"):
            return KIND_REFUSED
    elif n == 9:
        if same_word(name, 9, b"SUBSCRIBE"):
            return KIND_PUBSUB_CMD
    elif n == 10:
        if same_word(name, 10, b"PSUBSCRIBE") or same_word(name, 10, b"SSUBSCRIBE"):
            return KIND_PUBSUB_CMD
    elif n == 11:
        if same_word(name, 11, b"UNSUBSCRIBE"):
            return KIND_PUBSUB_CMD
    elif n == 12:
        if same_word(name, 12, b"PUNSUBSCRIBE") or same_word(name, 12, b"SUNSUBSCRIBE"):
            return KIND_PUBSUB_CMD
    return KIND_PLAIN


cdef ReplyShape resp3_shape(object command) except? SHAPE_AS_IS:
    """What a command's RESP3 reply needs to take its RESP2 shape (see ``reshape``)."""
    cdef const char *name
    cdef Py_ssize_t n
    cdef object _holder = command_name(command, &name, &n)   # keeps name alive
    if n == 5 and same_word(name, 5, b"XREAD"):
        return SHAPE_PAIR_LIST
    if n == 10 and same_word(name, 10, b"XREADGROUP"):
        return SHAPE_PAIR_LIST
    if n < 5 or not (name[0] == b'Z' or name[0] == b'z' or name[0] == b'H' or name[0] == b'h'):
        return SHAPE_AS_IS
    if n == 6 and (same_word(name, 6, b"ZRANGE") or same_word(name, 6, b"ZUNION")
                   or same_word(name, 6, b"ZINTER")):
        return SHAPE_FLAT_PAIRS
    if n == 5 and same_word(name, 5, b"ZDIFF"):
        return SHAPE_FLAT_PAIRS
    if n == 7 and (same_word(name, 7, b"ZPOPMIN") or same_word(name, 7, b"ZPOPMAX")):
        return SHAPE_FLAT_PAIRS
    if n == 9 and same_word(name, 9, b"ZREVRANGE"):
        return SHAPE_FLAT_PAIRS
    if n == 11 and same_word(name, 11, b"ZRANDMEMBER"):
        return SHAPE_FLAT_PAIRS
    if n == 10 and same_word(name, 10, b"HRANDFIELD"):
        return SHAPE_FLAT_PAIRS
    if n == 13 and same_word(name, 13, b"ZRANGEBYSCORE"):
        return SHAPE_FLAT_PAIRS
    if n == 16 and same_word(name, 16, b"ZREVRANGEBYSCORE"):
        return SHAPE_FLAT_PAIRS
    return SHAPE_AS_IS


cdef object reshape(object reply, ReplyShape shape):
    """A RESP3 reply (maps already flat) in the shape RESP2 gives its command."""
    cdef list flat
    cdef Py_ssize_t i, n
    if not PyList_CheckExact(reply):
        return reply
    n = len(<list>reply)
    if shape == SHAPE_FLAT_PAIRS:
        if n == 0 or not PyList_CheckExact((<list>reply)[0]):
            return reply   # no WITHSCORES / WITHVALUES: already flat
        flat = []
        for pair in <list>reply:
            flat.extend(pair)
        return flat
    return [[(<list>reply)[i], (<list>reply)[i + 1]] for i in range(0, n - 1, 2)]


cdef object decode_reply(object reply, object encoding):
    """Decode bytes in a reply tree (used with readers that do not decode themselves).

    Lists are decoded in place (maps, in native RESP3 replies, are rebuilt with decoded
    keys), walked with an explicit stack: no recursion however deep the reply nests, and
    each element is visited once.
    """
    cdef list todo, items
    cdef Py_ssize_t i
    if PyBytes_Check(reply):
        return (<bytes>reply).decode(encoding)
    todo = []
    reply = decoded_item(reply, encoding, todo)
    while todo:
        container = todo.pop()
        if PyList_CheckExact(container):
            items = <list>container
            for i in range(len(items)):
                items[i] = decoded_item(items[i], encoding, todo)
        else:
            for key, item in (<dict>container).items():
                (<dict>container)[key] = decoded_item(item, encoding, todo)
    return reply


cdef inline object decoded_item(object item, object encoding, list todo):
    """``item`` decoded if it is bytes; a list or map (its copy with decoded keys) goes on ``todo``."""
    if PyBytes_Check(item):
        return (<bytes>item).decode(encoding)
    if PyDict_Check(item):
        item = decoded_keys(<dict>item, encoding)
    elif not PyList_CheckExact(item):
        return item
    todo.append(item)
    return item


cdef dict decoded_keys(dict mapping, object encoding):
    """A copy of ``mapping`` with its bytes keys decoded (its values still to decode)."""
    return {(<bytes>key).decode(encoding) if PyBytes_Check(key) else key: value
            for key, value in mapping.items()}


cdef object double_text(double value):
    """A double as RESP2 sends it: its shortest text, without a trailing ``.0``."""
    text = repr(value).encode()
    if text.endswith(b".0"):
        return text[:len(text) - 2]
    return text


cdef inline object scalar_shape(object value):
    if PyBool_Check(value):
        return 1 if value else 0
    if PyFloat_Check(value):
        return double_text(value)
    return value


cdef object resp2_shape(object reply):
    """A RESP3 reply built by a reader other than ours, in the shape RESP2 gives the command.

    Maps become flat ``[key, value, ...]`` lists, doubles their text (bytes), booleans
    1 and 0. Lists are changed in place, walked with an explicit stack.
    """
    cdef list todo, items
    cdef Py_ssize_t i
    if PyDict_Check(reply):
        reply = flat_pairs(<dict>reply)
    elif not PyList_Check(reply):
        return scalar_shape(reply)
    todo = [reply]
    while todo:
        items = <list>todo.pop()
        for i in range(len(items)):
            item = items[i]
            if PyList_Check(item):
                todo.append(item)
            elif PyDict_Check(item):
                item = flat_pairs(<dict>item)
                items[i] = item
                todo.append(item)
            elif PyBool_Check(item) or PyFloat_Check(item):
                items[i] = scalar_shape(item)
    return reply


cdef list flat_pairs(dict mapping):
    cdef list flat = []
    for key, value in mapping.items():
        flat.append(scalar_shape(key))
        flat.append(value)
    return flat


# Pub/sub message kinds, as the server sends them in the first array element.
cdef bytes PS_MESSAGE = b"message"
cdef bytes PS_PMESSAGE = b"pmessage"
cdef bytes PS_SMESSAGE = b"smessage"
cdef bytes PS_PONG = b"pong"
cdef frozenset PS_CONFIRMATIONS = frozenset([
    b"subscribe", b"unsubscribe", b"psubscribe", b"punsubscribe", b"ssubscribe", b"sunsubscribe",
])
cdef frozenset PS_PATTERN_KINDS = frozenset([b"psubscribe", b"punsubscribe"])
cdef frozenset PS_SHARD_KINDS = frozenset([b"ssubscribe", b"sunsubscribe"])
cdef frozenset PS_ADD_KINDS = frozenset([b"subscribe", b"psubscribe", b"ssubscribe"])


cdef class CoreProtocol:
    """State and logic of the protocol; ``RedisProtocol`` adds the asyncio base class."""

    def __init__(self):
        self.loop = asyncio.get_running_loop()
        self.transport = None
        self.out = OutputBuffer()
        self.flush_scheduled = False
        self.writing_paused = False
        self.closing = False
        self.close_exc = None
        # A loop whose create_future() makes plain asyncio futures lets new_future()
        # build them directly: no method call, no keyword dict per future.
        self.closed_waiter = self.loop.create_future()
        self.future_kwargs = {"loop": self.loop} if type(self.closed_waiter) is Future else None
        self.waiters = []
        self.head = 0
        self.fast_reader = None
        self.reader = None
        self.scratch = None
        self.not_enough = False
        self.encoding = None
        self.db = 0
        self.transaction = None
        self.watching = False
        self.pubsub_channels = {}
        self.pubsub_patterns = {}
        self.in_pubsub = 0
        self.subscribe_handler = None
        self.full_queues = set()
        self.monitor_queue = None
        self.reading_paused = False
        self.unset_marker = None
        self.protocol_version = 2
        self.resp3 = False
        self.resp2_shapes = False
        self.normalise = False
        self.push_handler = None
        self.lost_handler = None

    # -- setup -------------------------------------------------------------

    def attach_reader(self, reader, not_enough):
        """Use ``reader`` (any object with hiredis.Reader's feed/gets) for replies.

        ``not_enough`` is the value its ``gets()`` returns when no reply is complete.
        """
        self.reader = reader
        self.not_enough = not_enough
        self.fast_reader = reader if isinstance(reader, Reader) else None

    def set_protocol_version(self, int version, bint native_types=False):
        """Speak RESP ``version`` (2 or 3) from the first reply on; set before connecting.

        Under 3, replies keep the shapes RESP2 gives (see ``Reader.set_resp2_shapes``):
        our readers shape them as they parse, other readers' replies are reshaped here.
        With ``native_types`` (3 only) they come as the reader builds them: maps as
        dicts, doubles as floats, booleans as bools.
        """
        if version != 2 and version != 3:
            raise ValueError(f"protocol must be 2 or 3, got {version!r}")
        if native_types and version != 3:
            raise ValueError("native reply types need protocol=3 (RESP3)")
        self.protocol_version = version
        self.resp3 = version == 3
        self.resp2_shapes = self.resp3 and not native_types
        self.normalise = False
        if self.fast_reader is not None:
            self.fast_reader.raw_pushes = self.resp3
        set_shapes = getattr(self.reader, "set_resp2_shapes", None)
        if set_shapes is not None:
            set_shapes(self.resp2_shapes)
        elif self.resp2_shapes:
            self.normalise = True

    @property
    def native_types(self):
        """True when RESP3 replies keep their own types (see ``set_protocol_version``)."""
        return self.resp3 and not self.resp2_shapes

    def set_push_handler(self, handler):
        """Call ``handler(frame)`` with each RESP3 push that is not pub/sub (None: drop them).

        ``frame`` is the push as a list of raw (bytes) elements, e.g.
        ``[b"invalidate", [b"key"]]``. It is called synchronously while replies are
        dispatched, in stream order with them; what it raises is logged and ignored.
        """
        if handler is not None and not callable(handler):
            raise TypeError(f"push handler must be callable or None, got {type(handler).__name__}")
        self.push_handler = handler

    def set_lost_handler(self, handler):
        """Call ``handler()`` once when the server closes its side or the connection is closed
        or lost, before its pending commands fail (None: no handler). What it raises is
        logged and ignored.
        """
        if handler is not None and not callable(handler):
            raise TypeError(f"lost handler must be callable or None, got {type(handler).__name__}")
        self.lost_handler = handler

    def hello(self, args):
        """Send ``HELLO *args`` (the handshake's; execute() refuses HELLO); the future of its reply."""
        return self.queue_command(b"HELLO", tuple(args), None, KIND_PLAIN, None, None)

    @property
    def has_reader(self):
        """True once a reader is attached (by the protocol factory or the connection)."""
        return self.reader is not None

    def set_default_encoding(self, encoding, unset_marker):
        """``command()`` decodes with ``encoding`` when called with ``unset_marker`` (the default)."""
        if encoding is not None:
            check_encoding(encoding)
        self.encoding = encoding
        self.unset_marker = unset_marker

    def command(self, command, *args, encoding=_NO_ENCODING_GIVEN):
        """``RedisConnection.execute`` in C: ``execute`` with the default encoding applied."""
        if encoding is _NO_ENCODING_GIVEN or encoding is self.unset_marker:
            encoding = self.encoding
        return self.execute(command, args, encoding)

    def command_converted(self, converter, command, *args, encoding=_NO_ENCODING_GIVEN):
        """``command`` whose future gets ``converter(reply)``: the command methods' path."""
        if encoding is _NO_ENCODING_GIVEN or encoding is self.unset_marker:
            encoding = self.encoding
        return self.send(command, args, encoding, converter)

    def set_subscribe_handler(self, handler):
        """Where ``execute`` sends subscribe-family commands (the connection's execute_pubsub)."""
        self.subscribe_handler = handler

    # -- asyncio.Protocol --------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        if self.transport is not None:
            self.transport.close()   # releases it at once, even after a TLS failure
        self.transport = None
        if self.close_exc is None:
            if self.closing:
                self.close_exc = ConnectionForcedCloseError()
            elif exc is None:
                self.close_exc = ConnectionClosedError("Connection closed by server")
            else:
                self.close_exc = ConnectionClosedError(f"Connection lost: {exc}")
        self.fail_all(self.close_exc)
        if not self.closed_waiter.done():
            self.closed_waiter.set_result(None)

    def pause_writing(self):
        self.writing_paused = True

    def resume_writing(self):
        self.writing_paused = False
        if self.out.length:
            self.schedule_flush()

    # asyncio.BufferedProtocol: the transport reads straight into the reader's buffer (or
    # into a big bulk string being filled), which saves a bytes object and a copy per read.

    def get_buffer(self, sizehint):
        if self.fast_reader is not None:
            return self.fast_reader.get_buffer_c()
        if self.scratch is None:
            self.scratch = bytearray(SCRATCH_SIZE)
        return self.scratch

    def buffer_updated(self, Py_ssize_t nbytes):
        try:
            if self.fast_reader is not None:
                self.fast_reader.buffer_updated_c(nbytes)
            else:
                self.reader.feed(self.scratch, 0, nbytes)
            self.process_replies()
        except ProtocolError as exc:
            self.abort(exc)
        except Exception as exc:
            self.abort(ProtocolError(f"Failed to process a reply: {exc!r}"))

    def eof_received(self):
        self.tell_lost()   # the server closed its side: nothing it sends is on its way any more
        return False

    # -- commands ----------------------------------------------------------

    cpdef object execute(self, object command, tuple args, object encoding):
        """Encode a command into the output buffer and return the future of its reply."""
        return self.send(command, args, encoding, None)

    cpdef object execute_converted(self, object converter, object command, tuple args, object encoding):
        """``execute`` whose future gets ``converter(reply)`` (QUEUED and errors pass through)."""
        return self.send(command, args, encoding, converter)

    cdef object send(self, object command, tuple args, object encoding, object converter):
        cdef CommandKind kind = classify(command)
        cdef object arg = None
        if encoding is not None and encoding is not self.encoding:
            check_encoding(encoding)
        if self.monitor_queue is not None:
            raise RedisError("Connection in MONITOR mode: it only streams the server's commands")
        if kind == KIND_PLAIN:
            if self.in_pubsub and not self.resp3:
                raise RedisError("Connection in SUBSCRIBE mode")
            return self.queue_command(command, args, encoding, KIND_PLAIN, None, converter)
        if kind == KIND_PUBSUB_CMD:
            if converter is not None:
                return convert_later(self.subscribe_handler(command, *args), converter)
            return self.subscribe_handler(command, *args)
        if kind == KIND_CLIENT:
            if not (args and is_word(args[0], b"REPLY")):
                return self.queue_command(command, args, encoding, KIND_PLAIN, None, converter)
            kind = KIND_REFUSED
        if kind == KIND_REFUSED or kind == KIND_RESET:
            raise RedisError(
                f"{command!r} changes how the server replies and would desync this connection's "
                "replies: it is refused through execute() (see README, Guarantees)")
        if self.in_pubsub and not self.resp3 and kind != KIND_PING and kind != KIND_QUIT:
            raise RedisError("Connection in SUBSCRIBE mode")
        if kind == KIND_SELECT and len(args) == 1:
            arg = args[0]
        elif kind == KIND_EXEC:
            encoding = None   # the replies are decoded per queued command instead
        return self.queue_command(command, args, encoding, kind, arg, converter)

    def start_monitor(self, queue):
        """Send MONITOR: from its OK on, every line the server sends goes to ``queue``.

        Only on a connection with nothing else in flight; the connection serves
        nothing else afterwards (close it to stop).
        """
        if self.pending or self.in_pubsub or self.transaction is not None or self.monitor_queue is not None:
            raise RedisError("MONITOR needs a connection of its own, with nothing in flight")
        future = self.queue_command(b"MONITOR", (), None, KIND_PLAIN, None, None)
        self.monitor_queue = queue
        return future

    def reset(self):
        """Send RESET; its future gets True once the server replied ``+RESET``.

        The reply makes the connection's state match the server's again: db 0, no
        transaction, no subscriptions (every channel closed, as on unsubscribe).
        Allowed in pub/sub mode and inside MULTI (the server runs RESET at once),
        not in MONITOR mode.
        """
        if self.monitor_queue is not None:
            raise RedisError("Connection in MONITOR mode: it only streams the server's commands")
        return self.queue_command(b"RESET", (), None, KIND_RESET, None, None)

    def execute_subscribe(self, command, list channels):
        """Send a subscribe-family command for ``channels`` (Channel objects).

        Returns one future per channel, each resolved with the server's confirmation.
        """
        if classify(command) != KIND_PUBSUB_CMD:
            raise ValueError(f"Pub/Sub command expected, got {command!r}")
        cdef int group
        names = tuple([channel.name for channel in channels])
        self.check_open()
        start = self.out.length
        try:
            self.out.write_header(b'*', len(names) + 1)
            self.out.write_bulk(command)
            for name in names:
                self.out.write_bulk(name)
        except BaseException:
            self.out.length = start
            raise
        futures = []
        group = len(channels)
        for channel in channels:
            future = self.new_future()
            self.push_waiter(future, None, KIND_SUBSCRIBE, channel, None).group = group
            group -= 1
            futures.append(future)
        self.schedule_flush()
        return futures

    def execute_batch(self, list records):
        """Send the commands of ``records`` (``BufferedCommand``s) in one go.

        Each is encoded as ``execute`` would, with the default encoding unless it was
        given one. Returns ``(future, refused)``: the future of the list of outcomes
        (reply, converted unless QUEUED, or its exception) of the commands sent, in
        order, and a dict of the exception of each command refused before any byte of it
        was written, by its index in ``records`` (None when none was).
        """
        cdef BatchReplies batch = BatchReplies.__new__(BatchReplies)
        cdef Py_ssize_t start, index = 0
        cdef CommandKind kind
        cdef object arg, encoding
        cdef dict refused = None
        cdef BufferedCommand item
        cdef object command
        cdef tuple args
        cdef Waiter waiter
        self.check_open()
        batch.outcomes = []
        batch.expected = 0
        batch.future = self.new_future()
        for item in records:
            command = item.command
            args = item.args
            encoding = item.encoding
            if encoding is _NO_ENCODING_GIVEN or encoding is self.unset_marker:
                encoding = self.encoding
            start = self.out.length
            try:
                if encoding is not None and encoding is not self.encoding:
                    check_encoding(encoding)
                kind = classify(command)
                arg = None
                if kind == KIND_PUBSUB_CMD:
                    raise TypeError("pub/sub commands cannot be pipelined")
                if kind == KIND_CLIENT:
                    kind = KIND_REFUSED if args and is_word(args[0], b"REPLY") else KIND_PLAIN
                if kind == KIND_REFUSED or kind == KIND_RESET:
                    raise RedisError(f"{command!r} changes how the server replies: it cannot be pipelined")
                if self.in_pubsub and not self.resp3 and kind != KIND_PING and kind != KIND_QUIT:
                    raise RedisError("Connection in SUBSCRIBE mode")
                if kind == KIND_SELECT and len(args) == 1:
                    arg = args[0]
                elif kind == KIND_EXEC:
                    encoding = None
                self.out.write_header(b'*', len(args) + 1)
                self.out.write_bulk(command)
                for value in args:
                    self.out.write_bulk(value)
            except Exception as exc:
                self.out.length = start   # nothing of a refused command is sent
                if refused is None:
                    refused = {}
                refused[index] = exc
            else:
                waiter = self.push_waiter(batch, encoding, kind, arg, item.converter)
                if self.resp2_shapes:
                    waiter.shape = resp3_shape(command)
                batch.expected += 1
                if self.out.length >= EAGER_WRITE_SIZE and not self.writing_paused:
                    self.flush()
            index += 1
        if batch.expected == 0:
            batch.future.set_result(batch.outcomes)
        else:
            self.schedule_flush()
        return batch.future, refused

    cdef object queue_command(self, object command, tuple args, object encoding,
                              CommandKind kind, object arg, object converter):
        return self.queue_into(None, command, args, encoding, kind, arg, converter)

    cdef bint send_into(self, object sink, object converter, object command, tuple args,
                        object encoding) except -1:
        """Send a plain command whose reply settles ``sink`` instead of a new future.

        ``sink`` is treated as the protocol treats a future (``done()``, then
        ``set_result(reply)`` or ``set_exception(exc)``, called as the reply is read).
        ``encoding`` as for ``command``. Returns False, sending nothing, for a command
        that is not plain or a connection in pub/sub or MONITOR mode.
        """
        if encoding is _NO_ENCODING_GIVEN or encoding is self.unset_marker:
            encoding = self.encoding
        elif encoding is not None and encoding is not self.encoding:
            check_encoding(encoding)
        if self.in_pubsub or self.monitor_queue is not None or classify(command) != KIND_PLAIN:
            return False
        self.queue_into(sink, command, args, encoding, KIND_PLAIN, None, converter)
        return True

    cdef object queue_into(self, object sink, object command, tuple args, object encoding,
                           CommandKind kind, object arg, object converter):
        """Encode the command and queue ``sink`` (a new future if None) for its reply; returns it."""
        cdef Py_ssize_t start = self.out.length
        cdef object future
        cdef Waiter waiter
        self.check_open()
        try:
            self.out.write_header(b'*', len(args) + 1)
            self.out.write_bulk(command)
            for item in args:
                self.out.write_bulk(item)
        except BaseException:
            self.out.length = start   # nothing of a failed command is ever sent
            raise
        future = self.new_future() if sink is None else sink
        waiter = self.push_waiter(future, encoding, kind, arg, converter)
        if self.resp2_shapes:
            waiter.shape = resp3_shape(command)
        if self.out.length >= EAGER_WRITE_SIZE and not self.writing_paused:
            self.flush()
        else:
            self.schedule_flush()
        return future

    cdef object new_future(self):
        """A future of this protocol's loop, as its ``create_future()`` would make it."""
        if self.future_kwargs is not None:
            return PyObject_Call(Future, (), self.future_kwargs)   # Future(loop=self.loop), no new dict
        return self.loop.create_future()

    cdef int check_open(self) except -1:
        """Raise ConnectionClosedError if no command can be sent."""
        if self.transport is None or self.closing:
            if isinstance(self.close_exc, ReplyError):
                # The server refused the connection (e.g. MaxClientsError): say so again.
                raise type(self.close_exc)(*self.close_exc.args)
            if self.close_exc is not None:
                raise ConnectionClosedError(f"Connection closed: {self.close_exc}")
            raise ConnectionClosedError("Connection closed or corrupted")
        return 0

    cdef Waiter push_waiter(self, object future, object encoding, CommandKind kind,
                            object arg, object converter):
        cdef Waiter waiter = Waiter.__new__(Waiter)
        waiter.future = future
        waiter.encoding = encoding
        waiter.kind = kind
        waiter.arg = arg
        waiter.converter = converter
        waiter.shape = SHAPE_AS_IS
        self.waiters.append(waiter)
        return waiter

    cdef Waiter pop_waiter(self):
        """The oldest pending waiter, or None."""
        cdef Waiter waiter
        cdef Py_ssize_t count = len(self.waiters)
        if self.head >= count:
            return None
        waiter = <Waiter>self.waiters[self.head]
        self.waiters[self.head] = None
        self.head += 1
        if self.head == count:
            del self.waiters[:]
            self.head = 0
        elif self.head >= 4096 and self.head * 2 >= count:
            del self.waiters[:self.head]
            self.head = 0
        return waiter

    @property
    def pending(self):
        """How many replies are still expected."""
        return len(self.waiters) - self.head

    cdef int schedule_flush(self) except -1:
        if not self.flush_scheduled and not self.writing_paused:
            self.flush_scheduled = True
            self.loop.call_soon(self.flush)
        return 0

    def flush(self):
        """Write everything buffered in one ``transport.write``."""
        self.flush_scheduled = False
        if self.writing_paused or self.transport is None or not self.out.length:
            return
        self.transport.write(self.out.take())

    # -- replies -----------------------------------------------------------

    cdef object next_reply(self):
        """Parse the next complete reply, or return ``self.not_enough``."""
        cdef Waiter head
        cdef object encoding = None
        if self.fast_reader is None:
            return self.reader.gets()
        if (not self.in_pubsub or self.resp3) and self.head < len(self.waiters):
            head = <Waiter>self.waiters[self.head]
            encoding = head.encoding
        self.fast_reader.set_decoding(encoding)
        return self.fast_reader.parse_one()

    cdef int process_replies(self) except -1:
        cdef object reply
        cdef Waiter waiter
        while True:
            try:
                reply = self.next_reply()
            except UnicodeError as exc:
                # The reader consumed the whole reply before failing to decode it.
                waiter = self.pop_waiter()
                if waiter is None:
                    raise ProtocolError("Undecodable reply with no pending command") from exc
                if not waiter.future.done():
                    waiter.future.set_exception(exc)
                continue
            if reply is self.not_enough:
                return 0
            if self.resp3:
                if self.fast_reader is not None:
                    if self.fast_reader.is_push:
                        self.dispatch_push(reply)
                        continue
                elif PyList_Check(reply) and not PyList_CheckExact(reply):
                    # (PyReader's PushFrame, hiredis' PushNotification)
                    self.dispatch_push(list(reply))
                    continue
            self.dispatch(reply)

    cdef int dispatch(self, object reply) except -1:
        cdef Waiter head
        if PyList_CheckExact(reply) and not self.resp3 and len(<list>reply) >= 2 \
                and PyBytes_Check((<list>reply)[0]):
            if self.in_pubsub:
                return self.dispatch_pubsub(<list>reply)
            if self.head < len(self.waiters):
                head = <Waiter>self.waiters[self.head]
                if head.kind == KIND_SUBSCRIBE:
                    return self.dispatch_pubsub(<list>reply)
        if PyExceptionInstance_Check(reply) and self.head < len(self.waiters):
            head = <Waiter>self.waiters[self.head]
            if head.kind == KIND_SUBSCRIBE:
                return self.fail_subscribe(reply, head.group)
        head = self.pop_waiter()
        if head is None:
            if self.monitor_queue is not None and not PyExceptionInstance_Check(reply):
                return self.deliver(self.monitor_queue, reply)
            if PyExceptionInstance_Check(reply):
                # An error nobody asked for is the server's reason for closing
                # (e.g. "max number of clients reached", sent on accept).
                self.abort(reply)
                return 0
            raise ProtocolError(f"Got a reply with no pending command: {reply!r:.100}")
        return self.resolve(head, reply)

    cdef int resolve(self, Waiter waiter, object reply) except -1:
        cdef bint failed = PyExceptionInstance_Check(reply)
        cdef CommandKind kind = waiter.kind
        cdef object future = waiter.future
        cdef bint sink
        if self.normalise and not failed:
            reply = resp2_shape(reply)
        if waiter.shape != SHAPE_AS_IS and not failed:
            reply = reshape(reply, waiter.shape)
        if not failed and waiter.encoding is not None and self.fast_reader is None:
            try:
                reply = decode_reply(reply, waiter.encoding)
            except UnicodeError as exc:
                reply = exc
                failed = True
        if kind == KIND_EXEC:
            if self.transaction is not None:
                self.watching = False   # the server unwatches at EXEC, run or aborted
            reply = self.finish_transaction(reply)
            failed = PyExceptionInstance_Check(reply)
        elif kind == KIND_RESET:
            if not failed:
                if reply != b"RESET":
                    raise ProtocolError(f"Unexpected reply to RESET: {reply!r:.100}")
                self.apply_reset()
                reply = True
        elif kind == KIND_MULTI:
            if not failed and self.transaction is None:
                self.transaction = []
        elif kind == KIND_DISCARD:
            if not failed:
                self.transaction = None
                self.watching = False
        elif kind == KIND_WATCH:
            if not failed and is_ok(reply):
                self.watching = True
        elif self.transaction is not None:
            # Whatever the server queued gets its place in the EXEC reply.
            if not failed and is_queued(reply):
                self.transaction.append(waiter)
                if kind == KIND_UNWATCH:
                    self.watching = False   # EXEC or DISCARD follows, and either unwatches
        elif kind == KIND_UNWATCH:
            if not failed:
                self.watching = False
        elif kind == KIND_SELECT and not failed and is_ok(reply):
            self.db = waiter.arg
        sink = isinstance(future, ReplySink)   # (a batch, a cluster command): no Python-level calls
        if (<ReplySink>future).finished() if sink else future.done():
            return 0
        if waiter.converter is not None and not failed:
            reply = convert(waiter.converter, reply)
            failed = PyExceptionInstance_Check(reply)
        if sink:
            return (<ReplySink>future).settle(reply, failed)
        if failed:
            future.set_exception(reply)
        else:
            future.set_result(reply)
        return 0

    cdef object finish_transaction(self, object reply):
        """The EXEC reply with each element decoded as its queued command asked."""
        cdef list queued = self.transaction
        cdef Waiter waiter
        cdef list results
        self.transaction = None
        if queued is None or PyExceptionInstance_Check(reply) or reply is None:
            return reply
        if not PyList_CheckExact(reply) or len(<list>reply) != len(queued):
            return ProtocolError(f"EXEC reply does not match the queued commands: {reply!r:.100}")
        results = []
        for waiter, item in zip(queued, <list>reply):
            if not PyExceptionInstance_Check(item):
                if waiter.shape != SHAPE_AS_IS:
                    item = reshape(item, waiter.shape)
                if waiter.encoding is not None:
                    try:
                        item = decode_reply(item, waiter.encoding)
                    except UnicodeError as exc:
                        item = exc
                if waiter.kind == KIND_SELECT and is_ok(item):
                    self.db = waiter.arg
            results.append(item)
        return results

    cdef int fail_subscribe(self, object error, int group) except -1:
        """The server refused a subscribe-family command as a whole (one error, e.g.
        NOPERM or CROSSSLOT) where it would have confirmed each channel: every waiter
        of that command gets the error."""
        cdef Waiter waiter
        while group > 0:
            waiter = self.pop_waiter()
            if not waiter.future.done():
                waiter.future.set_exception(error)
            group -= 1
        return 0

    cdef int dispatch_pubsub(self, list reply) except -1:
        cdef bytes kind = reply[0]
        cdef Waiter waiter
        cdef object channel
        cdef Py_ssize_t size = len(reply)
        if size != (4 if kind == PS_PMESSAGE else 2 if kind == PS_PONG else 3):
            # (checked first: the elements below are read without bounds checks)
            raise ProtocolError(f"Malformed pub/sub reply: {reply!r:.100}")
        if kind == PS_MESSAGE or kind == PS_SMESSAGE:
            channel = self.pubsub_channels.get(reply[1])
            if channel is not None:
                self.deliver(channel, reply[2])
            return 0
        if kind == PS_PMESSAGE:
            channel = self.pubsub_patterns.get(reply[1])
            if channel is not None:
                self.deliver(channel, (reply[2], reply[3]))
            return 0
        if kind in PS_CONFIRMATIONS:
            channel = None
            if self.head < len(self.waiters) and (<Waiter>self.waiters[self.head]).kind == KIND_SUBSCRIBE:
                waiter = self.pop_waiter()
                channel = waiter.arg
                self.track_subscription(reply, channel)
                if not waiter.future.done():
                    waiter.future.set_result(reply)
            else:
                self.track_subscription(reply, None)
            return 0
        if kind == PS_PONG:
            waiter = self.pop_waiter()
            if waiter is None:
                raise ProtocolError("Got PONG with no pending PING")
            pong = reply[1] or b"PONG"
            if waiter.encoding is not None and self.fast_reader is not None and PyBytes_Check(pong):
                # (the fast reader does not decode in pub/sub mode; resolve decodes for the others)
                pong = decode_reply(pong, waiter.encoding)
            return self.resolve(waiter, pong)
        raise ProtocolError(f"Unexpected reply in pub/sub mode: {reply!r:.100}")

    cdef int dispatch_push(self, object frame) except -1:
        """Route a RESP3 push: pub/sub ones to their channels, any other to the push handler."""
        kind = (<list>frame)[0] if len(<list>frame) else None
        if PyBytes_Check(kind) and (kind == PS_MESSAGE or kind == PS_PMESSAGE or kind == PS_SMESSAGE
                                    or kind in PS_CONFIRMATIONS):
            return self.dispatch_pubsub(<list>frame)
        handler = self.push_handler
        if handler is None:
            _logger.debug("RESP3 push dropped (no push handler): %.100r", frame)
            return 0
        try:
            handler(frame)
        except Exception:
            _logger.exception("The push handler failed on a RESP3 push")
        return 0

    cdef int deliver(self, object channel, object message) except -1:
        """Queue a pub/sub message; stop reading while a queue is past its bound.

        ``put_nowait`` returns the queue that is now full (ours do; other channels
        return None). Paused, the server's client-output-buffer-limit applies to us.
        """
        cdef object full = channel.put_nowait(message)
        if full is None:
            return 0
        full._hold(self)
        self.full_queues.add(full)
        if not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()
        return 0

    def queue_drained(self, queue):
        """A full queue drained below half its bound (or closed): read again if none is left full."""
        self.full_queues.discard(queue)
        if self.reading_paused and not self.full_queues:
            self.reading_paused = False
            if self.transport is not None and not self.closing:
                self.transport.resume_reading()

    cdef int track_subscription(self, list reply, object channel) except -1:
        """Update the channel maps and the subscription count from a confirmation."""
        cdef bytes kind = reply[0]
        cdef object name = reply[1]
        cdef dict registry = self.pubsub_patterns if kind in PS_PATTERN_KINDS else self.pubsub_channels
        cdef object existing
        if kind in PS_ADD_KINDS:
            if channel is not None and name not in registry:
                registry[name] = channel
        else:
            existing = registry.pop(name, None)
            if existing is not None:
                existing.close()
        self.in_pubsub = len(self.pubsub_channels) + len(self.pubsub_patterns)
        return 0

    cdef int apply_reset(self) except -1:
        """The server reset the connection: forget its db, transaction, WATCH and subscriptions.

        RESET also brings the server back to RESP2: so does the protocol.
        """
        cdef list channels = list(self.pubsub_channels.values()) + list(self.pubsub_patterns.values())
        self.db = 0
        self.transaction = None
        self.watching = False
        self.pubsub_channels.clear()
        self.pubsub_patterns.clear()
        self.in_pubsub = 0
        if self.resp3:
            self.set_protocol_version(2)
        for channel in channels:
            channel.close()
        return 0

    # -- closing -----------------------------------------------------------

    cdef int fail_all(self, object exc) except -1:
        """Tell the lost handler, fail every pending waiter with ``exc`` and close every channel."""
        cdef Waiter waiter
        self.tell_lost()
        while True:
            waiter = self.pop_waiter()
            if waiter is None:
                break
            if not waiter.future.done():
                waiter.future.set_exception(exc)
        self.transaction = None
        self.watching = False
        channels = list(self.pubsub_channels.values()) + list(self.pubsub_patterns.values())
        self.pubsub_channels.clear()
        self.pubsub_patterns.clear()
        self.in_pubsub = 0
        if self.monitor_queue is not None:
            channels.append(self.monitor_queue)
        for channel in channels:
            channel.close(exc)
        return 0

    cdef int tell_lost(self) except -1:
        """Call the lost handler, the first time only."""
        handler = self.lost_handler
        if handler is not None:
            self.lost_handler = None
            try:
                handler()
            except Exception:
                _logger.exception("The lost-connection handler failed")
        return 0

    def abort(self, exc):
        """Close the connection because the reply stream cannot be trusted any more."""
        if self.close_exc is None:
            self.close_exc = exc
        self.fail_all(exc)
        if self.transport is not None:
            self.transport.abort()

    def close(self):
        """Close the connection; pending commands fail with ConnectionForcedCloseError."""
        if self.closing:
            return
        self.closing = True
        if self.close_exc is None:
            self.close_exc = ConnectionForcedCloseError()
        self.fail_all(self.close_exc)
        if self.transport is not None:
            self.transport.close()
        elif not self.closed_waiter.done():
            self.closed_waiter.set_result(None)

    async def wait_closed(self):
        """Wait until the transport is gone."""
        await asyncio.shield(self.closed_waiter)

    @property
    def closed(self):
        """True once closed or lost."""
        return self.closing or self.transport is None

    @property
    def in_transaction(self):
        """True between a successful MULTI and the reply to EXEC or DISCARD."""
        return self.transaction is not None

    @property
    def channels(self):
        """The subscribed channels by name (the live dict)."""
        return self.pubsub_channels

    @property
    def patterns(self):
        """The subscribed patterns by pattern (the live dict)."""
        return self.pubsub_patterns


class RedisProtocol(CoreProtocol, asyncio.BufferedProtocol):
    """The Redis protocol as an ``asyncio.BufferedProtocol``."""
