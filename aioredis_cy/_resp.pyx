# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The RESP2/RESP3 reply reader: hiredis.Reader's interface, a C state machine inside.

Input is copied once into a buffer the reader owns; replies are built straight from it.
The parse position and the stack of open aggregates survive between calls, so a reply
that arrives in pieces is parsed exactly once, however it is split. Nothing recurses:
nesting lives on an explicit stack, limited to ``RESP_MAX_DEPTH`` levels. Big bulk
strings that are not buffered yet are copied straight into their final ``bytes`` object
as they arrive.

Behaviour beyond (or unlike) hiredis, on purpose:

* a protocol error is raised for anything malformed, including a bulk payload not
  followed by CRLF and absurd lengths (bulk > 512 MB, aggregate > 2**32 - 1);
* a failed decode (or a failing ``replyError`` call) is raised after the whole reply is
  consumed, leaving the reader at the next reply;
* ``(`` big numbers become ``int``; ``!`` blob errors become ``replyError`` instances;
* ``|`` attributes are parsed and dropped (the value they annotate is returned in their place);
* nesting deeper than ``RESP_MAX_DEPTH`` (1024, as hiredis) and inline lines (``+ - (``)
  longer than ``RESP_MAX_LINE`` (4 MiB) are protocol errors;
* a map key that is an aggregate (array, set, map) is a protocol error, as in hiredis;
* ``len()`` counts unconsumed bytes only; ``feed`` refuses ``str``.
"""
import codecs

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.conversion cimport PyOS_string_to_double
from cpython.dict cimport PyDict_New, PyDict_SetItem
from cpython.list cimport PyList_Append, PyList_New, PyList_SET_ITEM
from cpython.long cimport PyLong_FromLongLong
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.object cimport PyObject
from cpython.pyport cimport PY_SSIZE_T_MAX
from cpython.ref cimport Py_DECREF, Py_INCREF, Py_XDECREF
from libc.math cimport isfinite
from libc.string cimport memchr, memcmp, memcpy, memmove

from aioredis_cy.errors import _BY_CODE as _ERROR_BY_CODE
from aioredis_cy.errors import _USER_SUBCLASSES as _USER_REPLY_ERRORS
from aioredis_cy.errors import ProtocolError, ReadOnlyError, ReplyError, _reply_error_class
from aioredis_cy.parser import PushFrame


cdef extern from "Python.h":
    # The raw forms return NULL with an exception set instead of raising (no try block needed).
    PyObject *PyUnicode_DecodeUTF8_raw "PyUnicode_DecodeUTF8" (
        const char *s, Py_ssize_t size, const char *errors)
    PyObject *PyUnicode_Decode_raw "PyUnicode_Decode" (
        const char *s, Py_ssize_t size, const char *encoding, const char *errors)
    void PyErr_Clear()
    object PyUnicode_DecodeUTF8(const char *s, Py_ssize_t size, const char *errors)
    object PyUnicode_Decode(const char *s, Py_ssize_t size, const char *encoding, const char *errors)
    void PyObject_GC_Track(void *op)
    void PyObject_GC_UnTrack(void *op)
    int PyObject_GC_IsTracked(PyObject *op)
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    object PyMemoryView_FromMemory(char *mem, Py_ssize_t size, int flags)
    int PyBUF_WRITE
    void *PyUnicode_DATA(object text)


cdef inline bint is_ascii(const char *s, Py_ssize_t n) noexcept nogil:
    """True when none of the ``n`` bytes at ``s`` has its high bit set."""
    cdef Py_ssize_t i = 0
    cdef unsigned long long word
    while i + 8 <= n:
        memcpy(&word, s + i, 8)
        if word & 0x8080808080808080ULL:
            return False
        i += 8
    while i < n:
        if <unsigned char>s[i] & 0x80:
            return False
        i += 1
    return True


cdef enum:
    RESP_MAX_BULK = 512 * 1024 * 1024     # Redis' proto-max-bulk-len default
    RESP_FILL_MIN = 64 * 1024             # unbuffered $ payloads from this size ...
    RESP_FILL_MAX = 32 * 1024 * 1024      # ... to this one are filled in place (allocated upfront)
    RESP_PREALLOC_MIN = 16                # lists this short are always preallocated
    RESP_DEFAULT_MAXBUF = 16 * 1024       # hiredis' REDIS_READER_MAX_BUF
    RESP_INITIAL_CAP = 16 * 1024
    RESP_READ_SIZE = 64 * 1024            # get_buffer_c offers at least half of this much room
    RESP_RELEASE_FLOOR = 1024 * 1024      # an empty buffer above this (and maxbuf) is freed at once
    RESP_MAX_NUM_LINE = 64                # longest possible integer/length line, with slack
    RESP_MAX_DOUBLE = 326                 # hiredis' limit for a double's text
    RESP_ASCII_COPY_MAX = 256             # UTF-8 text up to this size is checked for ASCII and copied
    RESP_MAX_DEPTH = 1024                 # open aggregates at once (hiredis' limit); deeper: protocol error
    RESP_MAX_LINE = 4 * 1024 * 1024       # longest + - ( line content; longer: protocol error

cdef long long RESP_MAX_AGGREGATE = 0xFFFFFFFF   # hiredis' REDIS_READER_MAX_ARRAY_ELEMENTS

cdef object INF = float("inf")
cdef object NEG_INF = float("-inf")
cdef bytes STATUS_OK = b"OK"   # shared: the status replies a pipeline reads by the thousand
cdef bytes STATUS_QUEUED = b"QUEUED"
cdef object NAN = float("nan")
cdef dict _CODECS = {}
MAX_DEPTH = RESP_MAX_DEPTH
MAX_LINE = RESP_MAX_LINE
cdef str TOO_DEEP = f"Protocol error, reply nesting deeper than {RESP_MAX_DEPTH} levels"
cdef str LINE_TOO_LONG = f"Protocol error, line longer than {RESP_MAX_LINE} bytes"


cdef inline int parse_ll(const char *s, Py_ssize_t n, long long *out) noexcept nogil:
    """Strict decimal long long: 0 | -?[1-9][0-9]*, in range. 0 on success, -1 if malformed."""
    cdef bint neg = False
    cdef unsigned long long v = 0
    cdef unsigned int c
    cdef Py_ssize_t i = 0
    if n <= 0:
        return -1
    if s[0] == c'-':
        neg = True
        i = 1
    if n - i > 19 or n - i < 1:
        return -1
    if s[i] == c'0':
        if n == 1:
            out[0] = 0
            return 0
        return -1
    while i < n:
        c = <unsigned int>(<unsigned char>s[i]) - 48u
        if c > 9u:
            return -1
        v = v * 10u + c
        i += 1
    if neg:
        if v > 9223372036854775808ULL:
            return -1
        out[0] = -<long long>(v - 1u) - 1
    else:
        if v > 9223372036854775807ULL:
            return -1
        out[0] = <long long>v
    return 0


cdef inline bint is_type_byte(char t) noexcept nogil:
    return (t == c'$' or t == c':' or t == c'+' or t == c'-' or t == c'*' or t == c'%'
            or t == c'~' or t == c'>' or t == c'|' or t == c'_' or t == c'#' or t == c','
            or t == c'(' or t == c'=' or t == c'!')


cdef inline bint ascii_ieq(const char *s, Py_ssize_t n, const char *lit) noexcept nogil:
    """Case-insensitive comparison of s[:n] with the NUL-terminated lower-case ``lit``."""
    cdef Py_ssize_t i = 0
    cdef char c
    while i < n:
        if lit[i] == 0:
            return False
        c = s[i]
        if c >= c'A' and c <= c'Z':
            c = c + 32
        if c != lit[i]:
            return False
        i += 1
    return lit[n] == 0


cdef inline bint double_syntax_ok(const char *s, Py_ssize_t n) noexcept nogil:
    """-?digits[.digits][(e|E)[+-]digits] with at least one mantissa digit."""
    cdef Py_ssize_t i = 0, digits = 0, exp_digits = 0
    if i < n and s[i] == c'-':
        i += 1
    while i < n and c'0' <= s[i] <= c'9':
        i += 1
        digits += 1
    if i < n and s[i] == c'.':
        i += 1
        while i < n and c'0' <= s[i] <= c'9':
            i += 1
            digits += 1
    if digits == 0:
        return False
    if i < n and (s[i] == c'e' or s[i] == c'E'):
        i += 1
        if i < n and (s[i] == c'+' or s[i] == c'-'):
            i += 1
        while i < n and c'0' <= s[i] <= c'9':
            i += 1
            exp_digits += 1
        if exp_digits == 0:
            return False
    return i == n


cdef str type_byte_message(char t):
    rep = repr(bytes([<unsigned char>t]))
    rep = rep[2:len(rep) - 1].replace("\\'", "'")
    return f'Protocol error, got "{rep}" as reply type byte'


cdef tuple codec_info(object encoding):
    """(DecodeKind, codec name as bytes) for an encoding name; validated once, then cached."""
    if encoding is None:
        return (DEC_NONE, None)
    if not isinstance(encoding, str):
        raise TypeError(f"encoding must be a str or None, not {type(encoding).__name__}")
    info = _CODECS.get(encoding)
    if info is None:
        name = codecs.lookup(encoding).name
        if name == "utf-8":
            info = (DEC_UTF8, b"utf-8")
        else:
            info = (DEC_OTHER, encoding.encode("utf-8"))
        if len(_CODECS) < 256:
            _CODECS[encoding] = info
    return info


cdef inline bint starts_with(const char *s, Py_ssize_t n, const char *prefix, Py_ssize_t k) noexcept:
    return n >= k and memcmp(s, prefix, k) == 0


cdef object reply_error_class(const char *s, Py_ssize_t n, str message):
    """The class ``ReplyError(message)`` picks, deciding the common cases in C."""
    cdef Py_ssize_t code_len = 0
    if starts_with(s, n, b"ERR ", 4):
        # Only a few "ERR ..." messages map to a subclass; they start as below.
        if n > 4 and (s[4] == c'm' or s[4] == c'i' or s[4] == c'C' or s[4] == c'A'):
            return _reply_error_class(message) or ReplyError
        return ReplyError
    while code_len < n and s[code_len] != c' ':
        code_len += 1
    klass = _ERROR_BY_CODE.get(message[:code_len], ReplyError)
    if code_len == n and klass is not ReadOnlyError:
        return ReplyError   # a MATCH_REPLY prefix ends with the space after the code
    return klass


cdef object make_exception(const char *s, Py_ssize_t n, str message):
    """What ``ReplyError(message)`` returns; while only the built-in subclasses exist, the
    choice is made here, without the Python-level ``__new__``."""
    if _USER_REPLY_ERRORS:
        return ReplyError(message)   # user subclasses: 1.x's walk of the class tree
    klass = reply_error_class(s, n, message)
    if klass is ReplyError:
        return BaseException.__new__(klass, message)
    return klass(message)


cdef class Reader:
    """Reader(protocolError=ProtocolError, replyError=ReplyError, encoding=None, errors=None,
    notEnoughData=False)

    A RESP2/RESP3 reply parser with hiredis.Reader's interface. Feed it bytes with
    ``feed()``; ``gets()`` returns the next complete reply or ``notEnoughData``.
    """

    def __cinit__(self, *args, **kwargs):
        self.protocol_error = ProtocolError
        self.reply_error = ReplyError
        self.not_enough = False
        self.maxbuf = RESP_DEFAULT_MAXBUF
        self.state = RS_TYPE
        self.dec_next = DEC_NONE
        self.dec_cur = DEC_NONE

    def __init__(self, protocolError=ProtocolError, replyError=ReplyError, encoding=None,
                 errors=None, notEnoughData=False):
        if not callable(protocolError) or not callable(replyError):
            raise TypeError("Expected a callable")
        self.set_encoding(encoding, errors)
        self.protocol_error = protocolError
        self.reply_error = replyError
        self.not_enough = notEnoughData

    def __dealloc__(self):
        cdef Py_ssize_t i
        for i in range(self.depth):
            Py_XDECREF(self.stack[i].container)
            Py_XDECREF(self.stack[i].key)
        self.depth = 0
        PyMem_Free(self.stack)
        self.stack = NULL
        PyMem_Free(self.buf)
        self.buf = NULL

    # ------------------------------------------------------------------ Python API

    def feed(self, data, Py_ssize_t offset=0, Py_ssize_t length=-1):
        """Append ``data[offset:offset + length]`` (any contiguous buffer) to the input."""
        cdef Py_buffer view
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            if length == -1:
                length = view.len - offset
            if offset < 0 or length < 0:
                raise ValueError("negative input")
            if offset > view.len or length > view.len - offset:
                raise ValueError("input is larger than buffer size")
            self.feed_c(<const char *>view.buf + offset, length)
        finally:
            PyBuffer_Release(&view)

    def get_buffer(self):
        """A writable memoryview to read the next input into; then call ``buffer_updated``.

        The asyncio.BufferedProtocol way to feed (no copy). The view is only valid
        until the next call of any other method.
        """
        return self.get_buffer_c()

    def buffer_updated(self, Py_ssize_t nbytes):
        """Take the first ``nbytes`` written to the last ``get_buffer()`` view as input."""
        self.buffer_updated_c(nbytes)

    def gets(self, shouldDecode=True):
        """The next complete reply, or ``notEnoughData`` if none is buffered.

        A push frame comes as a :class:`~aioredis_cy.parser.PushFrame` (a list).
        """
        cdef DecodeKind saved
        if shouldDecode:
            reply = self.parse_one()
        else:
            saved = self.dec_next
            self.dec_next = DEC_NONE
            try:
                reply = self.parse_one()
            finally:
                self.dec_next = saved
        if self.is_push and type(reply) is list:
            return PushFrame(reply)
        return reply

    def set_resp2_shapes(self, enabled):
        """With ``enabled``, RESP3 replies come in the shapes RESP2 gives the same commands.

        Maps are flat ``[key, value, ...]`` lists, doubles and big numbers the text the
        server sent (bytes, or str when decoding), booleans 1 and 0; sets are lists and
        verbatim strings their text in either mode.
        """
        self.resp2_shapes = bool(enabled)

    def set_encoding(self, encoding=None, errors=None):
        """Decode strings of the following replies with ``encoding`` (None: keep bytes)."""
        info = codec_info(encoding)
        if errors is not None:
            if not isinstance(errors, str):
                raise TypeError(f"errors must be a str or None, not {type(errors).__name__}")
            codecs.lookup_error(errors)
            self.errors_b = errors.encode("utf-8")
            self.errors_c = <const char *>self.errors_b
        else:
            self.errors_b = None
            self.errors_c = NULL
        self.errors = errors
        self.encoding = encoding
        self.dec_next = info[0]
        self.enc_next = info[1]

    def setmaxbuf(self, maxbuf):
        """An empty input buffer bigger than ``maxbuf`` bytes is released (0: never; None: default)."""
        cdef Py_ssize_t value
        if maxbuf is None:
            self.maxbuf = RESP_DEFAULT_MAXBUF
            return
        value = maxbuf
        if value < 0:
            raise ValueError("maxbuf value out of range")
        self.maxbuf = value

    def getmaxbuf(self):
        return self.maxbuf

    def len(self):
        """Bytes fed and not consumed yet."""
        return self.end - self.pos

    def has_data(self):
        return self.end > self.pos

    # ------------------------------------------------------------------ C API

    cdef int set_decoding(self, object encoding) except -1:
        if encoding is self.encoding:
            return 0
        info = codec_info(encoding)
        self.encoding = encoding
        self.dec_next = info[0]
        self.enc_next = info[1]
        return 0

    cdef int feed_c(self, const char *data, Py_ssize_t length) except -1:
        cdef Py_ssize_t k
        if self.busy:
            raise RuntimeError("Reader.feed() called while the reader is parsing")
        if length <= 0 or self.state == RS_FAILED:
            return 0
        if self.pos == self.end:
            if self.state == RS_FILL:
                # Nothing buffered: the bytes go straight into the big bulk string.
                k = self.payload_len - self.fill_done
                if k > length:
                    k = length
                memcpy(self._fill_ptr() + self.fill_done, data, k)
                self._filled(k)
                data += k
                length -= k
                if length == 0:
                    return 0
            self.pos = 0
            self.end = 0
            if self.maxbuf != 0 and self.buf_cap > self.maxbuf and length <= self.buf_cap // 4:
                PyMem_Free(self.buf)
                self.buf = NULL
                self.buf_cap = 0
        if length > self.buf_cap - self.end:
            self._reserve(length)
        memcpy(self.buf + self.end, data, length)
        self.end += length
        return 0

    cdef object get_buffer_c(self):
        """A writable view where the next bytes of the stream can be read to, in place.

        While a big bulk string is being filled and nothing else is buffered, that is
        the rest of the string itself (no copy at all); otherwise the free end of the
        input buffer, at least RESP_READ_SIZE long. Good until buffer_updated_c.
        """
        if self.busy:
            raise RuntimeError("Reader.get_buffer() called while the reader is parsing")
        if self._fills_in_place():
            return PyMemoryView_FromMemory(self._fill_ptr() + self.fill_done,
                                           self.payload_len - self.fill_done, PyBUF_WRITE)
        if self.pos == self.end:
            self.pos = 0
            self.end = 0
        if self.buf_cap - self.end < RESP_READ_SIZE // 2:
            self._reserve(RESP_READ_SIZE)
        return PyMemoryView_FromMemory(self.buf + self.end, self.buf_cap - self.end, PyBUF_WRITE)

    cdef int buffer_updated_c(self, Py_ssize_t nbytes) except -1:
        """``nbytes`` were written at the start of the view get_buffer_c returned last."""
        if nbytes <= 0:
            return 0
        if self._fills_in_place():   # (nothing changed since get_buffer_c decided the same)
            if nbytes > self.payload_len - self.fill_done:
                raise ValueError("more bytes than the buffer holds")
            return self._filled(nbytes)
        if nbytes > self.buf_cap - self.end:
            raise ValueError("more bytes than the buffer holds")
        self.end += nbytes
        return 0

    cdef object parse_one(self):
        if self.busy:
            raise RuntimeError("Reader.gets() called while the reader is parsing")
        cdef bint done = False
        self.busy = True
        try:
            obj = self._parse()
            done = True
            return obj
        finally:  # (cheaper than an except clause on the normal path)
            self.busy = False
            if not done:
                if self.raising:
                    self.raising = False  # a deferred error: the reply is consumed, all is well
                elif self.state != RS_FAILED:
                    # Interrupted halfway (MemoryError, KeyboardInterrupt...): the state is lost.
                    self._lose_state("Reader state lost: an exception interrupted parsing")

    # ------------------------------------------------------------------ the state machine

    cdef object _parse(self):
        cdef:
            const char *p
            const char *s
            const char *nl
            Py_ssize_t avail, n, k, hdr
            long long v = 0
            char t
            object obj
            Frame *f

        if self.state == RS_FAILED:
            raise self.protocol_error(self.failure)
        if self.depth == 0 and self.state == RS_TYPE:
            # A new reply starts: it is decoded as requested now, until it is complete.
            self.dec_cur = self.dec_next
            self.is_push = False
            if self.dec_cur == DEC_OTHER:
                self.enc_cur = self.enc_next

        while True:
            if self.state == RS_TYPE:
                if self.depth != 0:
                    f = &self.stack[self.depth - 1]
                    if f.prealloc and f.expected - f.filled > 1:
                        self._fill_bulks(f)
                avail = self.end - self.pos
                if avail <= 0:
                    return self._need_more()
                p = self.buf + self.pos
                t = p[0]
                nl = <const char *>memchr(p + self.line_scanned, c'\n',
                                          <size_t>(avail - self.line_scanned))
                if nl == NULL:
                    self.line_scanned = avail
                    self._check_partial_line(t, avail)
                    return self._need_more()
                self.line_scanned = 0
                if nl == p or (nl - 1)[0] != c'\r':
                    if not is_type_byte(t):
                        self._fail(type_byte_message(t))
                    self._fail(f"Protocol error, line of a {chr(t)!r} reply not terminated by CRLF")
                s = p + 1
                n = (nl - 1) - s
                hdr = (nl + 1) - self.buf
                if n > RESP_MAX_LINE:
                    self._fail(LINE_TOO_LONG)

                if t == c'$':
                    if parse_ll(s, n, &v) < 0:
                        self._fail("Bad bulk string length")
                    if v < 0:
                        if v != -1:
                            self._fail("Bulk string length out of range")
                        obj = None
                        self.pos = hdr
                    elif v > RESP_MAX_BULK:
                        self._fail(f"Bulk string length {v} out of range (maximum {RESP_MAX_BULK})")
                    elif self.end - hdr >= v + 2:
                        s = self.buf + hdr
                        if s[v] != c'\r' or s[v + 1] != c'\n':
                            self._fail("Bad bulk string terminator, expected CRLF")
                        if self.dec_cur == DEC_NONE:
                            obj = PyBytes_FromStringAndSize(s, v)
                        else:
                            obj = self._decode(s, v)
                        self.pos = hdr + v + 2
                    else:
                        if RESP_FILL_MIN <= v <= RESP_FILL_MAX:
                            self._start_fill(v)
                        else:
                            self.state = RS_PAYLOAD
                        self.pos = hdr
                        self.payload_type = t
                        self.payload_len = v
                        continue
                elif t == c':':
                    if parse_ll(s, n, &v) < 0:
                        self._fail("Bad integer value")
                    obj = PyLong_FromLongLong(v)
                    self.pos = hdr
                elif t == c'+':
                    if memchr(s, c'\r', <size_t>n) != NULL:
                        self._fail("Bad simple string value")
                    obj = self._simple_str(s, n)
                    self.pos = hdr
                elif t == c'*' or t == c'%' or t == c'~' or t == c'>' or t == c'|':
                    if parse_ll(s, n, &v) < 0:
                        self._fail("Bad multi-bulk length")
                    if v < 0:
                        if v != -1 or t == c'|':
                            self._fail("Multi-bulk length out of range")
                        obj = None
                        self.pos = hdr
                    elif v > RESP_MAX_AGGREGATE or v > PY_SSIZE_T_MAX // 4:
                        self._fail(f"Multi-bulk length {v} out of range")
                    else:
                        if t == c'>' and self.depth == 0:
                            self.is_push = True
                            if self.raw_pushes:
                                # Out of band: not decoded as the reply the protocol expects next asks.
                                self.dec_cur = DEC_NONE
                        if t == c'%' and self.resp2_shapes:
                            t = c'*'
                            v *= 2
                        if v == 0:
                            self.pos = hdr
                            if t == c'|':
                                continue
                            obj = {} if t == c'%' else []
                        else:
                            self._push(t, v)
                            self.pos = hdr
                            continue
                elif t == c'-':
                    if memchr(s, c'\r', <size_t>n) != NULL:
                        self._fail("Bad simple string value")
                    obj = self._make_error(s, n)
                    self.pos = hdr
                elif t == c'=' or t == c'!':
                    if parse_ll(s, n, &v) < 0:
                        self._fail("Bad bulk string length")
                    if v < 0:
                        if v != -1 or t == c'!':
                            self._fail("Bulk string length out of range")
                        obj = None
                        self.pos = hdr
                    elif v > RESP_MAX_BULK:
                        self._fail(f"Bulk string length {v} out of range (maximum {RESP_MAX_BULK})")
                    else:
                        self.pos = hdr
                        self.payload_type = t
                        self.payload_len = v
                        self.state = RS_PAYLOAD
                        continue
                elif t == c'_':
                    if n != 0:
                        self._fail("Bad nil value")
                    obj = None
                    self.pos = hdr
                elif t == c'#':
                    if n != 1:
                        self._fail("Bad bool value")
                    if s[0] == c't' or s[0] == c'T':
                        obj = 1 if self.resp2_shapes else True
                    elif s[0] == c'f' or s[0] == c'F':
                        obj = 0 if self.resp2_shapes else False
                    else:
                        self._fail("Bad bool value")
                    self.pos = hdr
                elif t == c',':
                    obj = self._make_double(s, n)
                    self.pos = hdr
                elif t == c'(':
                    obj = self._make_bignum(s, n)
                    self.pos = hdr
                else:
                    self._fail(type_byte_message(t))

            elif self.state == RS_PAYLOAD:
                n = self.payload_len
                if self.end - self.pos < n + 2:
                    return self._need_more()
                s = self.buf + self.pos
                if s[n] != c'\r' or s[n + 1] != c'\n':
                    self._fail("Bad bulk string terminator, expected CRLF")
                obj = self._make_payload(self.payload_type, s, n)
                self.pos += n + 2
                self.state = RS_TYPE

            else:  # RS_FILL
                k = self.payload_len - self.fill_done
                if k > self.end - self.pos:
                    k = self.end - self.pos
                if k > 0:
                    memcpy(self._fill_ptr() + self.fill_done, self.buf + self.pos, k)
                    self._filled(k)
                    self.pos += k
                if self.fill_done < self.payload_len or self.end - self.pos < 2:
                    return self._need_more()
                s = self.buf + self.pos
                if s[0] != c'\r' or s[1] != c'\n':
                    self._fail("Bad bulk string terminator, expected CRLF")
                obj = self.fill_obj
                if self.dec_cur != DEC_NONE and not self.fill_text:
                    obj = self._decode(PyBytes_AS_STRING(self.fill_obj), self.payload_len)
                self.fill_obj = None
                self.pos += 2
                self.state = RS_TYPE

            # Hand the value to the innermost open aggregate; close every aggregate it completes.
            while True:
                if self.depth == 0:
                    if self.pos == self.end or self.deferred is not None:
                        return self._complete(obj)
                    return obj
                f = &self.stack[self.depth - 1]
                if f.kind == FK_LIST:
                    if f.prealloc:
                        Py_INCREF(obj)
                        PyList_SET_ITEM(<list>f.container, f.filled, obj)
                    else:
                        PyList_Append(<list>f.container, obj)
                elif f.filled & 1:
                    self._map_set(f, obj)
                else:
                    if type(obj) is list or type(obj) is dict:
                        self._fail("Protocol error, a map key is an aggregate")
                    Py_INCREF(obj)
                    f.key = <PyObject *>obj
                f.filled += 1
                if f.filled < f.expected:
                    break
                obj = <object>f.container
                Py_DECREF(obj)
                f.container = NULL
                self.depth -= 1
                if f.prealloc and not PyObject_GC_IsTracked(<PyObject *>obj):
                    PyObject_GC_Track(<PyObject *>obj)
                if f.kind == FK_ATTR:
                    break  # dropped: the value it annotates follows and takes its place

    cdef bint _fills_in_place(self) noexcept:
        """Whether the next input goes straight into the big bulk string being filled."""
        return self.pos == self.end and self.state == RS_FILL and self.fill_done < self.payload_len

    cdef int _start_fill(self, Py_ssize_t length) except -1:
        """Enter RS_FILL for a bulk string of ``length`` bytes, allocated at its final size.

        When it is to be decoded as UTF-8 it starts as the str itself, which is right as
        long as the text is ASCII (``_filled`` checks); otherwise it is bytes, decoded at
        the end.
        """
        if self.dec_cur == DEC_UTF8:
            self.fill_obj = PyUnicode_New(length, 127)
            self.fill_text = True
        else:
            self.fill_obj = PyBytes_FromStringAndSize(NULL, length)
            self.fill_text = False
        self.fill_done = 0
        self.state = RS_FILL
        return 0

    cdef char *_fill_ptr(self) noexcept:
        if self.fill_text:
            return <char *>PyUnicode_DATA(self.fill_obj)
        return PyBytes_AS_STRING(self.fill_obj)

    cdef int _filled(self, Py_ssize_t k) except -1:
        """``k`` more bytes were written at ``fill_done``; a str meeting a non-ASCII byte turns to bytes."""
        cdef object raw
        if self.fill_text and not is_ascii(self._fill_ptr() + self.fill_done, k):
            raw = PyBytes_FromStringAndSize(NULL, self.payload_len)
            memcpy(PyBytes_AS_STRING(raw), self._fill_ptr(), self.fill_done + k)
            self.fill_obj = raw
            self.fill_text = False
        self.fill_done += k
        return 0

    cdef int _fill_bulks(self, Frame *f) except -1:
        """Fast path for arrays of bulk strings (LRANGE, HGETALL, MGET ...).

        Puts complete, well-formed ``$`` elements straight into the preallocated list
        ``f``, all but its last one. Anything else (another type, nil, a partial or
        malformed element) stops it, and the general parser takes over from there.
        """
        cdef const char *p
        cdef Py_ssize_t avail, i, v, hdr
        cdef unsigned int c
        cdef object obj
        while f.expected - f.filled > 1:
            p = self.buf + self.pos
            avail = self.end - self.pos
            if avail < 4 or p[0] != c'$':
                return 0
            v = 0
            i = 1
            while i < avail and i <= 10:
                c = <unsigned int>(<unsigned char>p[i]) - 48u
                if c > 9u:
                    break
                v = v * 10 + c
                i += 1
            if i == 1 or i > 10 or (p[1] == c'0' and i > 2) or v > RESP_MAX_BULK:
                return 0
            hdr = i + 2
            if avail - hdr < v + 2 or p[i] != c'\r' or p[i + 1] != c'\n':
                return 0
            if p[hdr + v] != c'\r' or p[hdr + v + 1] != c'\n':
                return 0
            if self.dec_cur == DEC_NONE:
                obj = PyBytes_FromStringAndSize(p + hdr, v)
            else:
                obj = self._decode(p + hdr, v)
            Py_INCREF(obj)
            PyList_SET_ITEM(<list>f.container, f.filled, obj)
            f.filled += 1
            self.pos += hdr + v + 2
            self.line_scanned = 0
        return 0

    cdef object _need_more(self):
        if self.pos == self.end:
            self._release_if_empty()
        return self.not_enough

    cdef object _complete(self, object obj):
        if self.pos == self.end:
            self._release_if_empty()
        if self.deferred is not None:
            exc = self.deferred
            self.deferred = None
            self.raising = True
            raise exc
        return obj

    cdef int _release_if_empty(self) except -1:
        self.pos = 0
        self.end = 0
        if self.maxbuf != 0 and self.buf_cap > self.maxbuf and self.buf_cap > RESP_RELEASE_FLOOR:
            PyMem_Free(self.buf)
            self.buf = NULL
            self.buf_cap = 0
        return 0

    cdef int _reserve(self, Py_ssize_t length) except -1:
        cdef Py_ssize_t keep = self.end - self.pos
        cdef Py_ssize_t cap
        cdef char *newbuf
        if self.pos > 0:
            memmove(self.buf, self.buf + self.pos, keep)
            self.pos = 0
            self.end = keep
        if keep > PY_SSIZE_T_MAX - length:
            raise MemoryError()
        if keep + length <= self.buf_cap:
            return 0
        cap = self.buf_cap * 2 if self.buf_cap <= PY_SSIZE_T_MAX // 2 else PY_SSIZE_T_MAX
        if cap < keep + length:
            cap = keep + length
        if cap < RESP_INITIAL_CAP:
            cap = RESP_INITIAL_CAP
        if self.state == RS_PAYLOAD and cap < self.payload_len + 2 and self.payload_len <= RESP_FILL_MAX:
            cap = self.payload_len + 2  # room for the whole awaited payload at once
        newbuf = <char *>PyMem_Realloc(self.buf, <size_t>cap)
        if newbuf == NULL:
            raise MemoryError()
        self.buf = newbuf
        self.buf_cap = cap
        return 0

    cdef int _fail(self, str message) except -1:
        """Raise a protocol error; the reader stays failed and drops its state and input."""
        self._lose_state(message)
        raise self.protocol_error(message)

    cdef int _lose_state(self, str message) except -1:
        """Enter the failed state: every later parse raises a protocol error with ``message``."""
        self.state = RS_FAILED
        self.failure = message
        self._clear_stack()
        self.fill_obj = None
        self.deferred = None
        PyMem_Free(self.buf)
        self.buf = NULL
        self.buf_cap = 0
        self.pos = 0
        self.end = 0
        self.line_scanned = 0
        return 0

    cdef int _check_partial_line(self, char t, Py_ssize_t avail) except -1:
        """Reject a line that cannot become valid however it continues."""
        if not is_type_byte(t):
            self._fail(type_byte_message(t))
        if t == c'+' or t == c'-' or t == c'(':
            if avail - 1 > RESP_MAX_LINE + 1:   # (the type byte; a CR may end it)
                self._fail(LINE_TOO_LONG)
            return 0
        if t == c',':
            if avail > RESP_MAX_DOUBLE + 3:
                self._fail("Double value is too large")
        elif avail > RESP_MAX_NUM_LINE:
            self._fail(f"Protocol error, {chr(t)!r} line too long")
        return 0

    cdef int _push(self, char t, Py_ssize_t n) except -1:
        cdef Frame *f
        cdef Py_ssize_t cap
        cdef object container
        if self.depth >= RESP_MAX_DEPTH:
            self._fail(TOO_DEEP)
        if self.depth == self.stack_cap:
            cap = self.stack_cap * 2 if self.stack_cap else 16
            f = <Frame *>PyMem_Realloc(self.stack, <size_t>cap * sizeof(Frame))
            if f == NULL:
                raise MemoryError()
            self.stack = f
            self.stack_cap = cap
        f = &self.stack[self.depth]
        if t == c'%' or t == c'|':
            container = PyDict_New()
            f.kind = FK_MAP if t == c'%' else FK_ATTR
            f.expected = 2 * n
            f.prealloc = False
        else:
            f.kind = FK_LIST
            f.expected = n
            # Preallocated only when the input can hold it (every element takes 3 bytes or
            # more), so a huge announced length costs nothing until its data arrives.
            if n <= RESP_PREALLOC_MIN or n <= (self.end - self.pos) // 3:
                container = PyList_New(n)
                # Hidden from the GC (and gc.get_objects) until every slot is filled.
                PyObject_GC_UnTrack(<PyObject *>container)
                f.prealloc = True
            else:
                container = []
                f.prealloc = False
        Py_INCREF(container)
        f.container = <PyObject *>container
        f.key = NULL
        f.filled = 0
        self.depth += 1
        return 0

    cdef int _map_set(self, Frame *f, object value) except -1:
        key = <object>f.key
        Py_XDECREF(f.key)
        f.key = NULL
        try:
            PyDict_SetItem(<dict>f.container, key, value)
        except Exception as exc:
            self._defer(exc)
        return 0

    cdef int _clear_stack(self) except -1:
        cdef Py_ssize_t i
        cdef Py_ssize_t depth = self.depth
        self.depth = 0
        for i in range(depth):
            Py_XDECREF(self.stack[i].container)
            Py_XDECREF(self.stack[i].key)
            self.stack[i].container = NULL
            self.stack[i].key = NULL
        return 0

    # ------------------------------------------------------------------ value builders

    cdef object _simple_str(self, const char *s, Py_ssize_t n):
        """A simple string reply: the statuses of pipelines and transactions as shared bytes."""
        if self.dec_cur == DEC_NONE:
            if n == 2 and s[0] == c'O' and s[1] == c'K':
                return STATUS_OK
            if n == 6 and memcmp(s, b"QUEUED", 6) == 0:
                return STATUS_QUEUED
        return self._make_str(s, n)

    cdef object _make_str(self, const char *s, Py_ssize_t n):
        if self.dec_cur == DEC_NONE:
            return PyBytes_FromStringAndSize(s, n)
        return self._decode(s, n)

    cdef object _decode(self, const char *s, Py_ssize_t n):
        cdef PyObject *raw
        cdef object text
        if self.dec_cur == DEC_UTF8 and n <= RESP_ASCII_COPY_MAX and is_ascii(s, n):
            # Short ASCII text (most keys and values): a plain copy, no codec machinery.
            text = PyUnicode_New(n, 127)
            memcpy(PyUnicode_DATA(text), s, n)
            return text
        if self.dec_cur == DEC_UTF8:
            raw = PyUnicode_DecodeUTF8_raw(s, n, self.errors_c)
        else:
            raw = PyUnicode_Decode_raw(s, n, <const char *>self.enc_cur, self.errors_c)
        if raw != NULL:
            obj = <object>raw  # takes a new reference ...
            Py_DECREF(obj)     # ... so drop the one the call returned
            return obj
        # Rare: decode again where the exception can be caught and kept for the reply's end.
        PyErr_Clear()
        try:
            if self.dec_cur == DEC_UTF8:
                return PyUnicode_DecodeUTF8(s, n, self.errors_c)
            return PyUnicode_Decode(s, n, <const char *>self.enc_cur, self.errors_c)
        except Exception as exc:
            return self._defer(exc)

    cdef object _make_error(self, const char *s, Py_ssize_t n):
        message = PyUnicode_DecodeUTF8(s, n, "replace")
        if self.reply_error is ReplyError:
            # What ReplyError(message) returns, without running its __new__ in Python.
            return make_exception(s, n, message)
        try:
            return self.reply_error(message)
        except Exception as exc:
            return self._defer(exc)

    cdef object _make_payload(self, char t, const char *s, Py_ssize_t n):
        if t == c'$':
            return self._make_str(s, n)
        if t == c'=':
            if n < 4 or s[3] != c':':
                self._fail("Verbatim string 4 bytes of content type are missing or incorrectly encoded.")
            return self._make_str(s + 4, n - 4)
        return self._make_error(s, n)

    cdef object _make_double(self, const char *s, Py_ssize_t n):
        """A float; with ``resp2_shapes``, the validated text (what RESP2 sends as a bulk string)."""
        cdef char tmp[RESP_MAX_DOUBLE + 1]
        cdef char *endp = NULL
        cdef double d
        if n == 3 or n == 4:
            if ascii_ieq(s, n, "inf"):
                return self._make_str(s, n) if self.resp2_shapes else INF
            if ascii_ieq(s, n, "-inf"):
                return self._make_str(s, n) if self.resp2_shapes else NEG_INF
            if ascii_ieq(s, n, "nan") or ascii_ieq(s, n, "-nan"):
                return self._make_str(s, n) if self.resp2_shapes else NAN
        if n > RESP_MAX_DOUBLE:
            self._fail("Double value is too large")
        if not double_syntax_ok(s, n):
            self._fail("Bad double value")
        memcpy(tmp, s, n)
        tmp[n] = 0
        d = PyOS_string_to_double(tmp, &endp, NULL)
        if endp != tmp + n or not isfinite(d):
            self._fail("Bad double value")
        if self.resp2_shapes:
            return self._make_str(s, n)
        return d

    cdef object _make_bignum(self, const char *s, Py_ssize_t n):
        cdef Py_ssize_t i = 1 if n > 0 and s[0] == c'-' else 0
        if i >= n:
            self._fail("Bad bignum value")
        while i < n:
            if s[i] < c'0' or s[i] > c'9':
                self._fail("Bad bignum value")
            i += 1
        if self.resp2_shapes:
            return self._make_str(s, n)
        try:
            return int(PyBytes_FromStringAndSize(s, n))
        except Exception as exc:  # e.g. beyond sys.get_int_max_str_digits()
            return self._defer(exc)

    cdef object _defer(self, object exc):
        """Remember the first build error of this reply; it is raised once the reply is read."""
        if self.deferred is None:
            self.deferred = exc
        return None
