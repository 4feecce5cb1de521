"""The pure-Python RESP reader and the choice of the default reader class.

:class:`PyReader` has the same contract as the Cython :class:`aioredis_cy._resp.Reader`
(and hiredis.Reader's interface): ``feed()`` bytes in, ``gets()`` replies out. It keeps
its parse position and the stack of open aggregates between calls, so a reply arriving
in pieces is parsed once. Nothing recurses; nesting is limited to :data:`MAX_DEPTH` levels
and inline lines (``+ - (``) to :data:`MAX_LINE` bytes, as in the Cython reader.

:func:`reader_class` maps a parser name (``"cython"``, ``"python"``, ``"hiredis"``) to
a reader class; :data:`DEFAULT_PARSER` is the name chosen when the package was built, and
``Reader`` (aioredis 1.x's name) is that default class.
"""
import codecs
import operator
import re
import sys

from .errors import ProtocolError, ReplyError

try:
    from ._build_config import DEFAULT_PARSER
except ImportError:  # not built by setup.py (e.g. a source checkout): the compiled reader
    DEFAULT_PARSER = "cython"

# Reader is provided by __getattr__.
__all__ = [  # noqa: F822
    "Reader", "PyReader", "PushFrame", "DEFAULT_PARSER", "PARSERS", "MAX_DEPTH", "MAX_LINE", "reader_class"]

PARSERS = ("cython", "python", "hiredis")


def reader_class(name: str = DEFAULT_PARSER) -> type:
    """The reader class for a parser name: ``"cython"``, ``"python"`` or ``"hiredis"``."""
    if name == "cython":
        from ._resp import Reader

        return Reader
    if name == "python":
        return PyReader
    if name == "hiredis":
        try:
            import hiredis
        except ImportError as exc:
            raise ImportError(
                "the 'hiredis' parser was requested but the hiredis package is not installed; "
                "install it (pip install hiredis) or use the 'cython' or 'python' parser"
            ) from exc
        return hiredis.Reader
    raise ValueError(f"unknown parser {name!r}; expected one of {', '.join(PARSERS)}")


def __getattr__(name: str):
    # ``Reader``, 1.x's name for the default reader class, looked up when first used so
    # that importing this module never needs hiredis.
    if name == "Reader":
        return reader_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def honours_not_enough(reader_cls) -> bool:
    """Whether ``gets()`` of ``reader_cls`` returns its ``notEnoughData`` argument when it
    needs more input: our readers and hiredis.Reader do. Other classes are treated as
    aioredis 1.x treats them: ``False`` means "no reply yet"."""
    from ._resp import Reader

    if isinstance(reader_cls, type) and issubclass(reader_cls, (Reader, PyReader)):
        return True
    hiredis = sys.modules.get("hiredis")
    return hiredis is not None and reader_cls is getattr(hiredis, "Reader", None)


MAX_BULK = 512 * 1024 * 1024  # Redis' proto-max-bulk-len default
MAX_AGGREGATE = 0xFFFFFFFF  # hiredis' limit on aggregate lengths
MAX_NUM_LINE = 64  # longest possible integer/length line, with slack
MAX_DOUBLE = 326  # hiredis' limit for a double's text
DEFAULT_MAXBUF = 16 * 1024
MAX_DEPTH = 1024  # open aggregates at once (hiredis' limit); deeper: protocol error
MAX_LINE = 4 * 1024 * 1024  # longest + - ( line content; longer: protocol error
_TOO_DEEP = f"Protocol error, reply nesting deeper than {MAX_DEPTH} levels"
_LINE_TOO_LONG = f"Protocol error, line longer than {MAX_LINE} bytes"

_TYPE_BYTES = frozenset(b"$:+-*%~>|_#,(=!")
_AGGREGATES = frozenset(b"*%~>|")
_UNBOUNDED_LINES = frozenset(b"+-(")
_DOUBLE_RE = re.compile(rb"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BIGNUM_RE = re.compile(rb"-?[0-9]+")
_SPECIAL_DOUBLES = {b"inf": float("inf"), b"-inf": float("-inf"), b"nan": float("nan"), b"-nan": float("nan")}
_ONE_BYTE = [bytes([i]) for i in range(256)]
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

# Parser states and frame kinds.
_TYPE, _PAYLOAD, _FAILED = 0, 1, 2
_LIST, _MAP, _ATTR = 0, 1, 2

_DOLLAR, _COLON, _PLUS, _MINUS, _STAR, _PERCENT = b"$:+-*%"
_UNDERSCORE, _HASH, _COMMA, _LPAREN, _EQUALS, _BANG, _PIPE, _RANGLE = b"_#,(=!|>"
_CR = 13


def _to_int(line):
    """Strict decimal 64-bit integer (0 | -?[1-9][0-9]*), or None if malformed."""
    if line.isdigit():
        if line[0] == 48 and len(line) > 1:
            return None
    elif not (line[:1] == b"-" and line[1:].isdigit() and line[1] != 48):
        return None
    if len(line) > 20:
        return None
    value = int(line)
    if value < _INT64_MIN or value > _INT64_MAX:
        return None
    return value


def _codec(encoding, errors, check_name=True):
    """Validated (encoding, errors) for decoding, or None to keep bytes; with ``check_name``
    false an unknown encoding is only found when something is decoded."""
    if encoding is not None and not isinstance(encoding, str):
        raise TypeError(f"encoding must be a str or None, not {type(encoding).__name__}")
    if errors is not None and not isinstance(errors, str):
        raise TypeError(f"errors must be a str or None, not {type(errors).__name__}")
    if encoding is not None and check_name:
        codecs.lookup(encoding)
    if errors is not None:
        codecs.lookup_error(errors)
    return None if encoding is None else (encoding, errors or "strict")


class PushFrame(list):
    """A RESP3 push frame (``>``) as the readers' ``gets()`` returns it: a list.

    hiredis.Reader returns pushes as its own list subclass, ``hiredis.PushNotification``.
    """

    __slots__ = ()


class _Frame:
    """One open aggregate on the parse stack."""

    __slots__ = ("kind", "container", "remaining", "key", "has_key")

    def __init__(self, kind, container, remaining):
        self.kind = kind
        self.container = container
        self.remaining = remaining
        self.key = None
        self.has_key = False


class PyReader:
    """Pure-Python RESP2/RESP3 reader with hiredis.Reader's interface.

    Same contract as :class:`aioredis_cy._resp.Reader` (error replies are returned as
    ``replyError(message)`` instances, malformed input raises ``protocolError``) except for
    decoding, where it behaves as aioredis 1.x's PyReader: a string that does not decode
    stays bytes, and an unknown encoding raises ``LookupError`` from ``gets()`` once the
    reply is consumed (not from the constructor or ``set_encoding``).
    """

    def __init__(
        self,
        protocolError=ProtocolError,
        replyError=ReplyError,
        encoding=None,
        *,
        errors=None,
        notEnoughData=False,
    ):
        if not callable(protocolError) or not callable(replyError):
            raise TypeError("Expected a callable")
        self._protocol_error = protocolError
        self._reply_error = replyError
        self._not_enough = notEnoughData
        self._buf = bytearray()
        self._pos = 0
        self._scanned = 0  # bytes after _pos known to hold no b"\n"
        self._maxbuf = DEFAULT_MAXBUF
        self._state = _TYPE
        self._stack = []
        self._payload_type = 0
        self._payload_len = 0
        self._failure = None
        self._deferred = None
        self._raising = False
        self._encoding = None
        self._errors = None
        self._codec_next = None
        self._codec = None
        self._resp2_shapes = False
        # (as in aioredis 1.x, an unknown encoding given here is raised by gets())
        self._codec_next = _codec(encoding, errors, check_name=False)
        self._encoding = encoding
        self._errors = errors

    # ------------------------------------------------------------------ public API

    def feed(self, data, o=0, l=-1):  # noqa: E741 (aioredis 1.x names)
        """Append ``data[o:o + l]`` (any contiguous buffer; ``l=-1``: to the end) to the input."""
        offset = operator.index(o)
        length = operator.index(l)
        if isinstance(data, str):
            raise TypeError("a bytes-like object is required, not 'str'")
        with memoryview(data) as view:
            if not view.c_contiguous:
                raise BufferError("the buffer fed to the reader must be contiguous")
            size = view.nbytes
            if length == -1:
                length = size - offset
            if offset < 0 or length < 0:
                raise ValueError("negative input")
            if offset + length > size:
                raise ValueError("input is larger than buffer size")
            if self._state == _FAILED or length == 0:
                return
            if self._pos:
                del self._buf[: self._pos]  # cheap for a bytearray: it moves its start
                self._pos = 0
            if view.ndim != 1 or view.itemsize != 1:
                view = view.cast("B")
            if offset == 0 and length == size:
                self._buf += view
            else:
                self._buf += view[offset : offset + length]

    def gets(self, shouldDecode=True):
        """The next complete reply, or ``notEnoughData`` if none is buffered."""
        if self._state == _FAILED:
            raise self._protocol_error(self._failure)
        if not self._stack and self._state == _TYPE:
            self._codec = self._codec_next if shouldDecode else None
        try:
            return self._parse()
        except BaseException as exc:
            if self._raising:
                self._raising = False  # a deferred error: the reply is consumed, all is well
            elif self._state != _FAILED:
                # Interrupted halfway (MemoryError, KeyboardInterrupt...): the state is lost.
                self._lose_state(f"Reader state lost: {type(exc).__name__} interrupted parsing")
            raise

    def _parse(self):
        buf = self._buf
        while True:
            if self._state == _TYPE:
                pos = self._pos
                avail = len(buf) - pos
                if avail <= 0:
                    return self._need_more()
                t = buf[pos]
                nl = buf.find(b"\n", pos + self._scanned)
                if nl < 0:
                    self._scanned = avail
                    self._check_partial_line(t, avail)
                    return self._need_more()
                self._scanned = 0
                if nl == pos or buf[nl - 1] != _CR:
                    if t not in _TYPE_BYTES:
                        self._fail(self._type_message(t))
                    self._fail(f"Protocol error, line of a {chr(t)!r} reply not terminated by CRLF")
                hdr = nl + 1
                if nl - pos - 2 > MAX_LINE:
                    self._fail(_LINE_TOO_LONG)
                if t == _DOLLAR or t == _EQUALS or t == _BANG:
                    n = _to_int(buf[pos + 1 : nl - 1])
                    if n is None:
                        self._fail("Bad bulk string length")
                    if n < 0:
                        if n != -1 or t == _BANG:
                            self._fail("Bulk string length out of range")
                        obj = None
                        self._pos = hdr
                    elif n > MAX_BULK:
                        self._fail(f"Bulk string length {n} out of range (maximum {MAX_BULK})")
                    elif t == _DOLLAR and len(buf) - hdr >= n + 2:
                        # Fast path: a plain bulk string already complete in the buffer.
                        if buf[hdr + n] != _CR or buf[hdr + n + 1] != 10:
                            self._fail("Bad bulk string terminator, expected CRLF")
                        obj = self._make_str(hdr, hdr + n)
                        self._pos = hdr + n + 2
                    else:
                        self._pos = hdr
                        self._payload_type = t
                        self._payload_len = n
                        self._state = _PAYLOAD
                        continue
                elif t == _COLON:
                    obj = _to_int(buf[pos + 1 : nl - 1])
                    if obj is None:
                        self._fail("Bad integer value")
                    self._pos = hdr
                elif t == _PLUS:
                    if buf.find(b"\r", pos + 1, nl - 1) >= 0:
                        self._fail("Bad simple string value")
                    obj = self._make_str(pos + 1, nl - 1)
                    self._pos = hdr
                elif t in _AGGREGATES:
                    n = _to_int(buf[pos + 1 : nl - 1])
                    if n is None:
                        self._fail("Bad multi-bulk length")
                    self._pos = hdr
                    if n < 0:
                        if n != -1 or t == _PIPE:
                            self._fail("Multi-bulk length out of range")
                        obj = None
                    elif n > MAX_AGGREGATE:
                        self._fail(f"Multi-bulk length {n} out of range")
                    else:
                        container = []
                        if t == _RANGLE and not self._stack:
                            container = PushFrame()
                        elif t == _PERCENT and self._resp2_shapes:
                            t = _STAR
                            n *= 2
                        if n == 0:
                            if t == _PIPE:
                                continue
                            obj = {} if t == _PERCENT else container
                        else:
                            if len(self._stack) >= MAX_DEPTH:
                                self._fail(_TOO_DEEP)
                            if t == _PERCENT:
                                self._stack.append(_Frame(_MAP, {}, 2 * n))
                            elif t == _PIPE:
                                self._stack.append(_Frame(_ATTR, {}, 2 * n))
                            else:
                                self._stack.append(_Frame(_LIST, container, n))
                            continue
                elif t == _MINUS:
                    if buf.find(b"\r", pos + 1, nl - 1) >= 0:
                        self._fail("Bad simple string value")
                    obj = self._make_error(pos + 1, nl - 1)
                    self._pos = hdr
                elif t == _UNDERSCORE:
                    if nl - 1 != pos + 1:
                        self._fail("Bad nil value")
                    obj = None
                    self._pos = hdr
                elif t == _HASH:
                    line = buf[pos + 1 : nl - 1]
                    if line == b"t" or line == b"T":
                        obj = 1 if self._resp2_shapes else True
                    elif line == b"f" or line == b"F":
                        obj = 0 if self._resp2_shapes else False
                    else:
                        self._fail("Bad bool value")
                    self._pos = hdr
                elif t == _COMMA:
                    obj = self._make_double(bytes(buf[pos + 1 : nl - 1]))
                    if self._resp2_shapes:
                        obj = self._make_str(pos + 1, nl - 1)
                    self._pos = hdr
                elif t == _LPAREN:
                    line = bytes(buf[pos + 1 : nl - 1])
                    if _BIGNUM_RE.fullmatch(line) is None:
                        self._fail("Bad bignum value")
                    if self._resp2_shapes:
                        obj = self._make_str(pos + 1, nl - 1)
                    else:
                        try:
                            obj = int(line)
                        except Exception as exc:  # e.g. beyond sys.get_int_max_str_digits()
                            obj = self._defer(exc)
                    self._pos = hdr
                else:
                    self._fail(self._type_message(t))
            else:  # _PAYLOAD: the header of a $ = ! value is consumed
                pos = self._pos
                n = self._payload_len
                if len(buf) - pos < n + 2:
                    return self._need_more()
                if buf[pos + n] != _CR or buf[pos + n + 1] != 10:
                    self._fail("Bad bulk string terminator, expected CRLF")
                t = self._payload_type
                if t == _DOLLAR:
                    obj = self._make_str(pos, pos + n)
                elif t == _EQUALS:
                    if n < 4 or buf[pos + 3] != 58:
                        self._fail(
                            "Verbatim string 4 bytes of content type are missing or incorrectly encoded."
                        )
                    obj = self._make_str(pos + 4, pos + n)
                else:
                    obj = self._make_error(pos, pos + n)
                self._pos = pos + n + 2
                self._state = _TYPE

            # Hand the value to the innermost open aggregate; close every one it completes.
            stack = self._stack
            while True:
                if not stack:
                    return self._complete(obj)
                frame = stack[-1]
                if frame.kind == _LIST:
                    frame.container.append(obj)
                elif frame.has_key:
                    try:
                        frame.container[frame.key] = obj
                    except Exception as exc:
                        self._defer(exc)
                    frame.key = None
                    frame.has_key = False
                else:
                    if type(obj) is list or type(obj) is dict:
                        self._fail("Protocol error, a map key is an aggregate")
                    frame.key = obj
                    frame.has_key = True
                frame.remaining -= 1
                if frame.remaining:
                    break
                stack.pop()
                if frame.kind == _ATTR:
                    break  # dropped: the value it annotates follows and takes its place
                obj = frame.container

    def set_encoding(self, encoding=None, errors=None):
        """Decode strings of the following replies with ``encoding`` (None: keep bytes)."""
        self._codec_next = _codec(encoding, errors)
        self._encoding = encoding
        self._errors = errors

    def set_resp2_shapes(self, enabled):
        """With ``enabled``, RESP3 replies come in the shapes RESP2 gives the same commands
        (as :meth:`aioredis_cy._resp.Reader.set_resp2_shapes`)."""
        self._resp2_shapes = bool(enabled)

    def setmaxbuf(self, size):
        """An empty input buffer bigger than ``size`` bytes is released (0: never; None: default)."""
        maxbuf = size
        if maxbuf is None:
            self._maxbuf = DEFAULT_MAXBUF
            return
        maxbuf = operator.index(maxbuf)
        if maxbuf > sys.maxsize:
            raise OverflowError("maxbuf value too large")
        if maxbuf < 0:
            raise ValueError("maxbuf value out of range")
        self._maxbuf = maxbuf

    def getmaxbuf(self):
        return self._maxbuf

    def len(self):
        """Bytes fed and not consumed yet."""
        return len(self._buf) - self._pos

    def has_data(self):
        return len(self._buf) > self._pos

    # ------------------------------------------------------------------ internals

    def _need_more(self):
        if self._pos and self._pos == len(self._buf):
            self._release()
        return self._not_enough

    def _complete(self, obj):
        if self._pos == len(self._buf):
            self._release()
        if self._deferred is not None:
            exc, self._deferred = self._deferred, None
            self._raising = True
            raise exc
        return obj

    def _release(self):
        # Everything is consumed: drop it (a big emptied bytearray shrinks its allocation).
        del self._buf[:]
        self._pos = 0

    def _fail(self, message):
        self._lose_state(message)
        raise self._protocol_error(message)

    def _lose_state(self, message):
        self._state = _FAILED
        self._failure = message
        self._stack.clear()
        self._deferred = None
        self._buf = bytearray()
        self._pos = 0

    def _check_partial_line(self, t, avail):
        """Reject a line that cannot become valid however it continues."""
        if t not in _TYPE_BYTES:
            self._fail(self._type_message(t))
        if t in _UNBOUNDED_LINES:
            if avail - 1 > MAX_LINE + 1:  # (the type byte; a CR may end it)
                self._fail(_LINE_TOO_LONG)
            return
        if t == _COMMA:
            if avail > MAX_DOUBLE + 3:
                self._fail("Double value is too large")
        elif avail > MAX_NUM_LINE:
            self._fail(f"Protocol error, {chr(t)!r} line too long")

    @staticmethod
    def _type_message(t):
        rep = repr(bytes([t]))[2:-1].replace("\\'", "'")
        return f'Protocol error, got "{rep}" as reply type byte'

    def _defer(self, exc):
        if self._deferred is None:
            self._deferred = exc
        return None

    def _make_str(self, start, stop):
        codec = self._codec
        if codec is None:
            if stop - start == 1:  # shared one-byte objects, as the C readers return
                return _ONE_BYTE[self._buf[start]]
            return bytes(self._buf[start:stop])
        raw = self._buf[start:stop]
        try:
            return raw.decode(*codec)
        except UnicodeDecodeError:
            return bytes(raw)  # as aioredis 1.x's PyReader: what does not decode stays bytes
        except Exception as exc:  # e.g. LookupError for an unknown codec, once the reply is read
            return self._defer(exc)

    def _make_error(self, start, stop):
        message = self._buf[start:stop].decode("utf-8", "replace")
        try:
            return self._reply_error(message)
        except Exception as exc:
            return self._defer(exc)

    def _make_double(self, line):
        special = _SPECIAL_DOUBLES.get(line.lower()) if len(line) in (3, 4) else None
        if special is not None:
            return special
        if len(line) > MAX_DOUBLE:
            self._fail("Double value is too large")
        if _DOUBLE_RE.fullmatch(line) is None:
            self._fail("Bad double value")
        value = float(line)
        if value in (_SPECIAL_DOUBLES[b"inf"], _SPECIAL_DOUBLES[b"-inf"]):
            self._fail("Bad double value")
        return value
