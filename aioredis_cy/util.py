"""Small helpers shared by the layers: reply converters, scan iterators, URI parsing."""
import asyncio
import functools
import re
from collections.abc import Mapping
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple, TypeVar, Union
from urllib.parse import parse_qsl, unquote, urlparse

from ._protocol import pairs_to_dict, reply_is_ok

__all__ = [
    "encode_command",
    "decode",
    "wait_ok",
    "wait_convert",
    "wait_make_dict",
    "coerced_keys_dict",
    "parse_url",
    "get_event_loop",
]


_T = TypeVar("_T")

class _NotSet:
    """Marker for 'argument not given' where None is a meaningful value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "_NOTSET"

    def __reduce__(self) -> str:
        return "_NOTSET"


_NOTSET: Any = _NotSet()

_QUEUED = (b"QUEUED", "QUEUED")


def get_event_loop() -> asyncio.AbstractEventLoop:
    """The running loop; never the deprecated implicit ``get_event_loop()``."""
    return asyncio.get_running_loop()


# The argument types encode_command takes (exactly these, as in 1.x), and their bytes.
_ARG_TO_BYTES: Dict[type, Callable[[Any], Union[bytes, bytearray]]] = {
    bytes: lambda value: value,
    bytearray: lambda value: value,
    str: lambda value: value.encode("utf-8"),
    int: lambda value: b"%d" % value,
    float: lambda value: repr(value).encode("ascii"),
}


def encode_command(*args: Any, buf: Optional[bytearray] = None) -> bytearray:
    """The RESP array of bulk strings for ``args``, appended to ``buf`` (a new bytearray by default).

    Arguments must be bytes, bytearray, str (sent as UTF-8), int or float; anything else
    raises TypeError. The connections encode in C; this is aioredis 1.x's public helper,
    for code that prepares commands itself.
    """
    if buf is None:
        buf = bytearray()
    buf += b"*%d\r\n" % len(args)
    for arg in args:
        to_bytes = _ARG_TO_BYTES.get(type(arg))
        if to_bytes is None:
            raise TypeError(f"Argument {arg!r} expected to be of bytearray, bytes, float, int, or str type")
        value = to_bytes(arg)
        buf += b"$%d\r\n" % len(value)
        buf += value
        buf += b"\r\n"
    return buf


def decode(obj: Any, encoding: str, errors: str = "strict") -> Any:
    """Decode bytes, recursively through lists, leaving other values (and errors) as they are."""
    if isinstance(obj, bytes):
        return obj.decode(encoding, errors)
    if isinstance(obj, list):
        return [decode(item, encoding, errors) for item in obj]
    return obj


def _to_bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value).encode("ascii")
    raise TypeError(f"cannot encode {type(value).__name__!r} as a key")


def _settle_converted(result: asyncio.Future, convert: Callable, source: asyncio.Future) -> None:
    """Done-callback of a reply future: settle ``result`` with the converted reply."""
    if source.cancelled():
        if not result.done():
            result.cancel()
        return
    exc = source.exception()   # also marks a failure nobody waits for as seen
    if result.done():
        return
    if exc is not None:
        result.set_exception(exc)
        return
    reply = source.result()
    if reply in _QUEUED:
        result.set_result(reply)
        return
    try:
        converted = convert(reply)
    except Exception as error:
        result.set_exception(error)
    else:
        result.set_result(converted)


async def _await_converted(awaitable: Awaitable, convert: Callable):
    reply = await awaitable
    if reply in _QUEUED:
        return reply
    return convert(reply)


def _convert_later(fut: Awaitable, convert: Callable) -> Awaitable:
    """An awaitable of ``convert(reply)`` chained on ``fut``, which keeps its own conversion.

    For a future, a new future settled by a done-callback (so ``gather`` needs no task
    per command); for any other awaitable, a coroutine.
    """
    if isinstance(fut, asyncio.Future):
        result = fut.get_loop().create_future()
        fut.add_done_callback(functools.partial(_settle_converted, result, convert))
        return result
    return _await_converted(fut, convert)


def wait_ok(fut: Awaitable[Any]) -> Awaitable[bool]:
    """Await it for True when the reply is OK (QUEUED passes through inside transactions)."""
    return _convert_later(fut, reply_is_ok)


def wait_convert(fut: Awaitable[Any], type_: Callable[..., _T], **kwargs: Any) -> Awaitable[_T]:
    """Await it for ``type_(reply, **kwargs)`` (QUEUED passes through inside transactions).

    Applied to what a command method returned, it adds to that method's own conversion.
    """
    return _convert_later(fut, functools.partial(type_, **kwargs) if kwargs else type_)


def wait_make_dict(fut: Awaitable[Any]) -> Awaitable[Dict[Any, Any]]:
    """Await it for a dict made of a flat ``[k1, v1, k2, v2, ...]`` reply."""
    return _convert_later(fut, pairs_to_dict)


class coerced_keys_dict(dict):
    """A dict with bytes keys that also answers to str/int keys."""

    def __getitem__(self, key):
        return dict.__getitem__(self, _to_bytes(key))

    def __contains__(self, key):
        try:
            return dict.__contains__(self, _to_bytes(key))
        except TypeError:
            return False

    def get(self, key, default=None):
        try:
            return dict.get(self, _to_bytes(key), default)
        except TypeError:
            return default


class _CoercedKeysView(Mapping):
    """Read-only view of a bytes-keyed dict that also answers to str keys (1.x's pub/sub dicts)."""

    __slots__ = ("_data",)

    def __init__(self, data: dict) -> None:
        self._data = data

    def __getitem__(self, key):
        try:
            return self._data[_to_bytes(key)]
        except TypeError:
            raise KeyError(key) from None

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"


class _ScanIter:
    """Async iterator over a SCAN-family command, fetching pages on demand."""

    __slots__ = ("_scan", "_cursor", "_items")

    def __init__(self, scan: Callable[[Any], Awaitable[Tuple[int, list]]]) -> None:
        self._scan = scan
        self._cursor: Any = b"0"
        self._items: list = []

    def __aiter__(self) -> "_ScanIter":
        return self

    async def __anext__(self) -> Any:
        while not self._items and self._cursor:
            self._cursor, items = await self._scan(self._cursor)
            self._items = list(items)
            self._items.reverse()
        if not self._items:
            raise StopAsyncIteration
        return self._items.pop()


_URL_FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _parse_db(value: str) -> int:
    try:
        db = int(value)
    except ValueError:
        raise ValueError(f"Invalid database index: {value!r}") from None
    if db < 0:
        raise ValueError(f"Invalid database index: {db}")
    return db


def _parse_timeout(value: str) -> float:
    try:
        timeout = float(value)
    except ValueError:
        raise ValueError(f"Invalid timeout: {value!r}") from None
    if timeout <= 0:
        raise ValueError(f"Timeout must be greater than 0: {timeout}")
    return timeout


def _parse_flag(name: str, value: str) -> bool:
    try:
        return _URL_FLAGS[value.lower()]
    except KeyError:
        raise ValueError(f"Invalid {name} value: {value!r}") from None


def _parse_protocol(value: str) -> int:
    if value not in ("2", "3"):
        raise ValueError(f"Invalid protocol: {value!r} (use 2 or 3)")
    return int(value)


_QUERY_PARSERS: Dict[str, Callable[[str], Any]] = {
    "db": _parse_db,
    "password": str,
    "username": str,
    "encoding": str,
    "timeout": _parse_timeout,
    "ssl": lambda value: _parse_flag("ssl", value),
    "protocol": _parse_protocol,
}

_CERT_REQS = ("none", "optional", "required")


def _parse_cert_reqs(value: str) -> str:
    if value.lower() not in _CERT_REQS:
        raise ValueError(f"Invalid ssl_cert_reqs value {value!r}: use none, optional or required")
    return value.lower()


def _parse_path(name: str, value: str) -> str:
    if not value:
        raise ValueError(f"{name} needs a file path")
    return value


# TLS options of a URI, by query name; parse_url gathers them under options["ssl"],
# keyed by the name without the ssl_ prefix.
_TLS_PARSERS: Dict[str, Callable[[str], Any]] = {
    "ssl_cert_reqs": _parse_cert_reqs,
    "ssl_ca_certs": lambda value: _parse_path("ssl_ca_certs", value),
    "ssl_certfile": lambda value: _parse_path("ssl_certfile", value),
    "ssl_keyfile": lambda value: _parse_path("ssl_keyfile", value),
    "ssl_check_hostname": lambda value: _parse_flag("ssl_check_hostname", value),
}


def _check_tls_options(tls: Dict[str, Any]) -> None:
    """Reject TLS option combinations that cannot make a working context."""
    if "keyfile" in tls and "certfile" not in tls:
        raise ValueError("ssl_keyfile needs ssl_certfile")
    if tls.get("cert_reqs") == "none" and tls.get("check_hostname"):
        raise ValueError("ssl_check_hostname=true needs certificate checking (ssl_cert_reqs is none)")


_SECRET_OPTIONS = frozenset(("password",))
_QUERY_SECRET = re.compile(r"([?&;]password=)[^&;]*", re.IGNORECASE)


def _mask_uri(url: str) -> str:
    """``url`` with its passwords (in the user info and the query) replaced by ``***``.

    For messages and reprs: works on the raw text, so a malformed URI (an unencoded
    ``#``, ``/`` or ``?`` in the password) is masked too, up to its last ``@``.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, sep, rest = url.partition(":")
        if not sep or scheme.lower() != "unix":
            return url
    at = rest.rfind("@")
    if at >= 0:
        user, colon, _ = rest[:at].partition(":")
        rest = (f"{user}:***" if colon else "***") + rest[at:]
    return scheme + sep + _QUERY_SECRET.sub(r"\1***", rest)


def _set_option(options: dict, name: str, value) -> None:
    if name in options and options[name] != value:
        if name in _SECRET_OPTIONS:
            raise ValueError(f"Conflicting {name} values in URI")
        raise ValueError(f"Conflicting {name} values in URI: {options[name]!r} and {value!r}")
    options[name] = value


def _check_userinfo(parsed, scheme: str) -> None:
    """Refuse a URI whose password was cut by an unencoded ``/``, ``?`` or ``#``.

    The rest of such a password lands in the path, query or fragment, and would show
    in the error about that part; nothing of it is echoed here.
    """
    if scheme == "unix" or "@" in parsed.netloc:
        return
    if "@" in parsed.path or "@" in parsed.fragment or "@" in parsed.query.partition("=")[0]:
        raise ValueError("Invalid URI: percent-encode '/', '?' and '#' in the password "
                         "(as %2F, %3F and %23)")


def parse_url(url: str) -> Tuple[Union[str, Tuple[str, int]], Dict[str, Any]]:
    """Split a Redis address string into ``(address, options)``.

    Accepts ``redis://[[user]:password@]host[:port][/db][?db=&password=&encoding=&timeout=&ssl=&protocol=]``,
    ``rediss://`` (TLS), ``unix:///path?db=`` or ``unix:/path?db=`` and a plain unix
    socket path. The options dict holds only what the URI sets. Error messages never
    show a password (see :func:`_mask_uri`).

    TLS connections (``rediss://`` or ``ssl=true``) take these query options:
    ``ssl_cert_reqs=none|optional|required`` (check the server's certificate; default
    required), ``ssl_ca_certs=path`` (trust these CAs instead of the system's),
    ``ssl_certfile=path`` and ``ssl_keyfile=path`` (client certificate and key),
    ``ssl_check_hostname=true|false`` (match the certificate to the host; default true
    unless ``ssl_cert_reqs=none``). With any of them, ``options["ssl"]`` is a dict of the
    given ones without the ``ssl_`` prefix (``{"ca_certs": path, ...}``) instead of True.
    """
    if not isinstance(url, str):
        raise TypeError(f"URI must be a str, got {type(url).__name__}")
    if "://" not in url and not url[:5].lower() == "unix:":
        return url, {}
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"Unsupported URI scheme {parsed.scheme!r}: use redis://, rediss:// or unix://")
    _check_userinfo(parsed, scheme)
    if parsed.fragment:
        raise ValueError("URI must not have a fragment (percent-encode '#' as %23)")
    options: Dict[str, Any] = {}
    tls: Dict[str, Any] = {}
    query = parse_qsl(parsed.query, keep_blank_values=True)
    for name, value in query:
        if name in _TLS_PARSERS:
            _set_option(tls, name[4:], _TLS_PARSERS[name](value))
        elif name in _QUERY_PARSERS:
            _set_option(options, name, _QUERY_PARSERS[name](value))
        elif any(known == "password" for known, _ in query):
            # Maybe the rest of a password with an unencoded '&': not echoed.
            raise ValueError("Unknown URI option (percent-encode '&' in the password as %26)")
        else:
            raise ValueError(f"Unknown URI option {name!r}")
    if parsed.username:
        _set_option(options, "username", unquote(parsed.username))
    if parsed.password is not None:
        _set_option(options, "password", unquote(parsed.password))
    if scheme == "rediss":
        if options.get("ssl") is False:
            raise ValueError("rediss:// URI with ssl=false is contradictory")
        options["ssl"] = True
    if tls:
        if not options.get("ssl"):
            raise ValueError("TLS options (ssl_*) need a rediss:// URI or ssl=true")
        _check_tls_options(tls)
        options["ssl"] = tls
    if scheme == "unix":
        if parsed.netloc.rpartition("@")[2]:
            raise ValueError(f"unix URI must not name a host: use unix:///path or unix:/path, got "
                             f"{_mask_uri(url)!r}")
        if not parsed.path:
            raise ValueError(f"unix URI needs a socket path: {_mask_uri(url)!r}")
        return unquote(parsed.path), options
    path = parsed.path.strip("/")
    if path:
        _set_option(options, "db", _parse_db(path))
    try:
        port = parsed.port
    except ValueError:
        raise ValueError(f"Invalid port in URI {_mask_uri(url)!r}: use an integer 0-65535") from None
    host = parsed.hostname or "localhost"
    return (host, port or 6379), options


class _NotASubclassError(TypeError, AssertionError):
    """A ``*_cls`` argument that is not a subclass of what it must be.

    Also an AssertionError: aioredis 1.x checked these with ``assert``.
    """


def _check_subclass(name: str, value, base: type) -> None:
    if not (isinstance(value, type) and issubclass(value, base)):
        raise _NotASubclassError(f"{name} must be a subclass of {base.__name__}, got {value!r}")


def _check_positive_timeout(timeout: Optional[float], name: str = "timeout") -> None:
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(f"{name} must be a number greater than 0 or None, got {timeout!r}")
