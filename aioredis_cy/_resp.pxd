# The contract of the RESP reader: what it stores and the C-level entry points.
#
# The protocol (``_protocol.pyx``) cimports ``Reader`` and calls ``get_buffer_c``/``buffer_updated_c``,
# ``set_decoding`` and ``parse_one`` directly; every other user goes through the
# hiredis-compatible Python methods (``feed``, ``gets``, ``set_encoding``, ``setmaxbuf``/``getmaxbuf``,
# ``len``, ``has_data``) and ``get_buffer``/``buffer_updated``.
from cpython.object cimport PyObject


cdef enum ReaderState:
    # What the next byte at ``pos`` is.
    RS_TYPE = 0       # the type byte of a new value (its line ends with CRLF)
    RS_PAYLOAD = 1    # the payload of a $ = ! value whose header is consumed; waits in the buffer
    RS_FILL = 2       # the payload of a big $ value, copied (or read) straight into ``fill_obj``
    RS_FAILED = 3     # a protocol error was raised; every later parse raises it again


cdef enum FrameKind:
    FK_LIST = 0       # * ~ > : a list, preallocated (``prealloc``) or appended to
    FK_MAP = 1        # % : a dict; even elements are keys, odd ones values
    FK_ATTR = 2       # | : parsed like a map and dropped; it does not count in its parent


cdef enum DecodeKind:
    DEC_NONE = 0      # strings stay bytes
    DEC_UTF8 = 1      # PyUnicode_DecodeUTF8
    DEC_OTHER = 2     # PyUnicode_Decode with the codec name


ctypedef struct Frame:
    # One open aggregate on the explicit parse stack (no C recursion, any depth).
    PyObject *container     # owned reference: the list or dict being filled
    PyObject *key           # owned reference: a map key waiting for its value, or NULL
    Py_ssize_t expected     # elements to read (2 * pairs for maps and attributes)
    Py_ssize_t filled       # elements read so far
    FrameKind kind
    bint prealloc           # list made with PyList_New(expected), GC-untracked until complete


cdef class Reader:
    cdef:
        # Input buffer: bytes [pos, end) of buf are fed and not consumed yet.
        char *buf
        Py_ssize_t buf_cap
        Py_ssize_t pos
        Py_ssize_t end
        Py_ssize_t line_scanned   # bytes after pos known to hold no '\n' (partial line)
        Py_ssize_t maxbuf         # an empty buffer bigger than this is released (0: never)

        # Parse state kept across calls, so a reply arriving in pieces is parsed once.
        ReaderState state
        Frame *stack
        Py_ssize_t depth
        Py_ssize_t stack_cap
        char payload_type         # b'$', b'=' or b'!' in RS_PAYLOAD / RS_FILL
        Py_ssize_t payload_len
        object fill_obj           # RS_FILL: the bytes (or, when ``fill_text``, ASCII str) being filled
        Py_ssize_t fill_done
        bint fill_text            # fill_obj is the decoded str itself, as long as the text is ASCII
        bint busy                 # guards against re-entrant feed/parse from callbacks
        bint raising              # _complete is raising a deferred error (the state is fine)

        # Reply construction.
        object protocol_error
        object reply_error
        object not_enough
        object failure            # the protocol error message once RS_FAILED
        object deferred           # first exception while building the current reply

        # Decoding: *_next applies from the next reply on, *_cur to the reply being parsed.
        object encoding           # the str given to set_encoding / set_decoding, or None
        object errors             # the error handler name, or None for 'strict'
        DecodeKind dec_next
        DecodeKind dec_cur
        bytes enc_next
        bytes enc_cur
        bytes errors_b
        const char *errors_c      # NULL means 'strict'

        # RESP3: how replies are shaped, and what the last one was.
        bint resp2_shapes         # maps as flat lists, doubles/big numbers as their text, booleans as 1/0
        readonly bint is_push     # the last complete reply was a > push frame
        bint raw_pushes           # push frames are never decoded (set by the protocol)

    # C-level API used by the protocol.
    cdef object get_buffer_c(self)
    cdef int buffer_updated_c(self, Py_ssize_t nbytes) except -1
    cdef object parse_one(self)
    cdef int set_decoding(self, object encoding) except -1

    # Internals.
    cdef int feed_c(self, const char *data, Py_ssize_t length) except -1
    cdef object _parse(self)
    cdef int _fill_bulks(self, Frame *f) except -1
    cdef bint _fills_in_place(self) noexcept
    cdef int _start_fill(self, Py_ssize_t length) except -1
    cdef char *_fill_ptr(self) noexcept
    cdef int _filled(self, Py_ssize_t k) except -1
    cdef object _need_more(self)
    cdef object _complete(self, object obj)
    cdef int _reserve(self, Py_ssize_t length) except -1
    cdef int _release_if_empty(self) except -1
    cdef int _fail(self, str message) except -1
    cdef int _lose_state(self, str message) except -1
    cdef int _check_partial_line(self, char t, Py_ssize_t avail) except -1
    cdef int _push(self, char t, Py_ssize_t n) except -1
    cdef int _map_set(self, Frame *f, object value) except -1
    cdef int _clear_stack(self) except -1
    cdef object _simple_str(self, const char *s, Py_ssize_t n)
    cdef object _make_str(self, const char *s, Py_ssize_t n)
    cdef object _decode(self, const char *s, Py_ssize_t n)
    cdef object _make_error(self, const char *s, Py_ssize_t n)
    cdef object _make_payload(self, char t, const char *s, Py_ssize_t n)
    cdef object _make_double(self, const char *s, Py_ssize_t n)
    cdef object _make_bignum(self, const char *s, Py_ssize_t n)
    cdef object _defer(self, object exc)
