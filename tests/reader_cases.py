"""Shared data and helpers for the reader tests (contract and fuzz)."""
import math

from aioredis_cy._resp import Reader
from aioredis_cy.errors import AuthError, NoScriptError, ReplyError
from aioredis_cy.parser import PyReader

try:
    import hiredis
except ImportError:  # pragma: no cover - depends on the environment
    hiredis = None

# Readers that implement the full contract; hiredis.Reader is checked on the common part.
OUR_READERS = {"cython": Reader, "python": PyReader}
ALL_READERS = dict(OUR_READERS, **({"hiredis": hiredis.Reader} if hiredis is not None else {}))

INF = float("inf")


class Err:
    """Expected error reply: compares equal to a reply-error instance of that exact class."""

    def __init__(self, cls, message):
        self.cls = cls
        self.message = message

    def __eq__(self, other):
        return type(other) is self.cls and other.args == (self.message,)

    def __hash__(self):  # pragma: no cover - only used as a value
        return hash((self.cls, self.message))

    def __repr__(self):
        return f"Err({self.cls.__name__}, {self.message!r})"


class NaN:
    """Expected NaN double."""

    def __eq__(self, other):
        return isinstance(other, float) and math.isnan(other)

    def __repr__(self):
        return "NaN"


def same(expected, actual):
    """Deep comparison where ``Err``/``NaN`` placeholders match and types must agree
    (bytes vs str, bool vs int, list vs dict), so ``True`` never passes for ``1``."""
    if isinstance(expected, (Err, NaN)):
        return expected == actual
    if isinstance(expected, BaseException):
        return type(expected) is type(actual) and expected.args == actual.args
    if type(expected) is list and isinstance(actual, list):  # hiredis: PushNotification(list)
        return len(expected) == len(actual) and all(same(e, a) for e, a in zip(expected, actual))
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, list):
        return len(expected) == len(actual) and all(same(e, a) for e, a in zip(expected, actual))
    if isinstance(expected, dict):  # same insertion order on both sides
        return len(expected) == len(actual) and all(
            same(ek, ak) and same(ev, av) for (ek, ev), (ak, av) in zip(expected.items(), actual.items())
        )
    if isinstance(expected, float) and math.isnan(expected):
        return math.isnan(actual)
    if isinstance(expected, float) and expected == 0.0:
        return actual == 0.0 and math.copysign(1, expected) == math.copysign(1, actual)
    return expected == actual


def decoded(value, encoding="utf-8"):
    """``value`` as a reader with ``encoding`` returns it: bytes become str, deeply."""
    if isinstance(value, bytes):
        return value.decode(encoding)
    if isinstance(value, list):
        return [decoded(v, encoding) for v in value]
    if isinstance(value, dict):
        return {decoded(k, encoding): decoded(v, encoding) for k, v in value.items()}
    return value


# (wire bytes, expected reply without encoding); every reader agrees on these.
SAMPLES = [
    (b"+OK\r\n", b"OK"),
    (b"+\r\n", b""),
    (b"+hello world\r\n", b"hello world"),
    (b"-ERR unknown command 'foo'\r\n", Err(ReplyError, "ERR unknown command 'foo'")),
    (b"-NOAUTH Authentication required.\r\n", Err(AuthError, "NOAUTH Authentication required.")),
    (b"-NOSCRIPT No matching script.\r\n", Err(NoScriptError, "NOSCRIPT No matching script.")),
    (b"-\r\n", Err(ReplyError, "")),
    (b":0\r\n", 0),
    (b":1\r\n", 1),
    (b":-1\r\n", -1),
    (b":1234567890\r\n", 1234567890),
    (b":9223372036854775807\r\n", 2**63 - 1),
    (b":-9223372036854775808\r\n", -(2**63)),
    (b"$0\r\n\r\n", b""),
    (b"$-1\r\n", None),
    (b"$5\r\nhello\r\n", b"hello"),
    (b"$8\r\na\r\nb\x00c\n\r\r\n", b"a\r\nb\x00c\n\r"),
    (b"$3\r\n\xe2\x82\xac\r\n", b"\xe2\x82\xac"),
    (b"*0\r\n", []),
    (b"*-1\r\n", None),
    (b"*3\r\n:1\r\n$1\r\nx\r\n*1\r\n+y\r\n", [1, b"x", [b"y"]]),
    (b"*2\r\n$-1\r\n*-1\r\n", [None, None]),
    (b"*2\r\n-ERR a\r\n-NOAUTH b\r\n", [Err(ReplyError, "ERR a"), Err(AuthError, "NOAUTH b")]),
    (b"*1\r\n*1\r\n*1\r\n*0\r\n", [[[[]]]]),
    (b"*3\r\n$7\r\nmessage\r\n$3\r\nchn\r\n$4\r\ndata\r\n", [b"message", b"chn", b"data"]),
    # RESP3
    (b"_\r\n", None),
    (b"#t\r\n", True),
    (b"#f\r\n", False),
    (b",1.5\r\n", 1.5),
    (b",-2.25\r\n", -2.25),
    (b",0\r\n", 0.0),
    (b",-0\r\n", -0.0),
    (b",1e+300\r\n", 1e300),
    (b",1.5E-3\r\n", 0.0015),
    (b",inf\r\n", INF),
    (b",-inf\r\n", -INF),
    (b",nan\r\n", NaN()),
    (b"=15\r\ntxt:Some string\r\n", b"Some string"),
    (b"=4\r\nmkd:\r\n", b""),
    (b"%0\r\n", {}),
    (b"%2\r\n+a\r\n:1\r\n$1\r\nb\r\n*1\r\n:2\r\n", {b"a": 1, b"b": [2]}),
    (b"%1\r\n:7\r\n%1\r\n+k\r\n_\r\n", {7: {b"k": None}}),
    (b"~0\r\n", []),
    (b"~3\r\n:1\r\n:2\r\n:1\r\n", [1, 2, 1]),
    (b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\ndata\r\n", [b"message", b"ch", b"data"]),
    (b"*2\r\n%1\r\n:1\r\n~1\r\n_\r\n>1\r\n#t\r\n", [{1: [None]}, [True]]),
    (b"%-1\r\n", None),
    (b"~-1\r\n", None),
]

# Where hiredis 3.5 genuinely differs; our readers return the expected value.
OURS_ONLY_SAMPLES = [
    # hiredis returns big numbers as bytes (b"3492...")
    (b"(3492890328409238509324850943850943825024385\r\n", 3492890328409238509324850943850943825024385),
    (b"(-12\r\n", -12),
    # hiredis raises 'Protocol error, got "!" as reply type byte'
    (b"!21\r\nSYNTAX invalid syntax\r\n", Err(ReplyError, "SYNTAX invalid syntax")),
    (b"!21\r\nNOAUTH authenticate!!\r\n", Err(AuthError, "NOAUTH authenticate!!")),
    # hiredis returns an attribute as a reply of its own (and counts it as an aggregate element,
    # which desynchronises the stream); we drop it and return the value it annotates
    (b"|1\r\n+ttl\r\n:3600\r\n$3\r\nval\r\n", b"val"),
    (b"*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n", [1, 2]),
    (b"|0\r\n:5\r\n", 5),
    # hiredis 3.5 mangles a repeated map key: {b'a': None, b'b': 3}
    (b"%3\r\n+a\r\n:1\r\n+b\r\n:2\r\n+a\r\n:3\r\n", {b"a": 3, b"b": 2}),
]

# Complete but malformed inputs: every reader raises protocolError, and never a value.
MALFORMED = [
    b"?\r\n",
    b"\r\n",
    b"\n",
    b"x",
    b"\x00",
    b"\xff\r\n",
    b" +OK\r\n",
    b"+a\rb\r\n",
    b"-a\rb\r\n",
    b":\r\n",
    b":12a\r\n",
    b":1.5\r\n",
    b": 1\r\n",
    b":+1\r\n",
    b":-\r\n",
    b":-0\r\n",
    b":01\r\n",
    b":9223372036854775808\r\n",
    b":-9223372036854775809\r\n",
    b":1\r\r\n",
    b"$\r\n",
    b"$x\r\n",
    b"$-2\r\n",
    b"$-0\r\n",
    b"$03\r\nabc\r\n",
    b"$+3\r\nabc\r\n",
    b"$ 3\r\nabc\r\n",
    b"$-9223372036854775808\r\n",
    b"*\r\n",
    b"*-2\r\n",
    b"*1x\r\n",
    b"*4294967296\r\n",
    b"*9223372036854775808\r\n",
    b"%4294967296\r\n",
    b"*2\r\n:1\r\n?\r\n",
    b"*1\r\n*1\r\n:x\r\n",
    b"_x\r\n",
    b"_ \r\n",
    b"#\r\n",
    b"#x\r\n",
    b"#tt\r\n",
    b",\r\n",
    b",abc\r\n",
    b",1.5x\r\n",
    b", 1.5\r\n",
    b",+5\r\n",
    b",+inf\r\n",
    b",Infinity\r\n",
    b",1e400\r\n",
    b",0x10\r\n",
    b",1_0\r\n",
    b",.\r\n",
    b",1e\r\n",
    b",-\r\n",
    b"=2\r\nab\r\n",
    b"=5\r\ntxt-x\r\n",
    b"(12a\r\n",
    b"(+5\r\n",
    b"!-1\r\n",  # hiredis: unknown type byte; we: a blob error needs a message
    b"%1\r\n+a\r\n!x\r\n",
]

# Malformed inputs where hiredis returns a value or waits for more; our readers raise.
OURS_ONLY_MALFORMED = [
    # aggregate map keys (hiredis raises TypeError, unhashable, and is broken afterwards)
    b"%1\r\n*2\r\n:1\r\n:2\r\n+v\r\n",
    b"%1\r\n%1\r\n+a\r\n*1\r\n:1\r\n+v\r\n",
    b"|1\r\n~1\r\n:1\r\n:2\r\n:3\r\n",
    b"$3\r\nabcXX",  # hiredis: b'abc' (it does not check the CRLF after a payload)
    b"$3\r\nabc\n\r",  # hiredis: b'abc'
    b"*1\r\n$1\r\nab\r\n",  # hiredis: [b'a'], then garbage
    b"+a\nb\r\n",  # hiredis raises too, but at the second line; we reject the bare LF at once
    b":1\n",  # hiredis: waits forever for a CRLF
    b"*2\r\n:1\n:2\r\n",
    b"$536870913\r\n",  # hiredis: waits for 512 MB + 1 (beyond Redis' proto-max-bulk-len)
    b"$9223372036854775807\r\n",
    b":" + b"1" * 100,  # hiredis: waits; no integer line can be that long
    b"*" + b"9" * 100,
    b"," + b"1" * 400,
    b"(\r\n",  # hiredis: b''
    b"(-\r\n",  # hiredis: b'-'
    b"|-1\r\n:1\r\n",  # hiredis: None, then 1
]
