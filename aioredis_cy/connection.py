"""``create_connection`` and ``RedisConnection``: the Python face of one Redis connection.

The work happens in the Cython protocol (:mod:`aioredis_cy._protocol`); this module
resolves addresses, connects, authenticates and exposes the aioredis 1.x API.
"""
from __future__ import annotations

import asyncio
import codecs
import socket
import ssl as ssl_module
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Dict, List, Optional, Tuple

from ._protocol import RedisProtocol
from ._typing import Address, Arg, SSLOption, Value
from .abc import AbcChannel, AbcConnection
from .errors import ProtocolError, ReplyError
from .parser import honours_not_enough, reader_class
from .pubsub import Channel
from .util import (
    _NOTSET,
    _check_positive_timeout,
    _check_subclass,
    _CoercedKeysView,
    _convert_later,
    parse_url,
    wait_ok,
)

__all__ = ["create_connection", "RedisConnection", "open_connection", "open_unix_connection"]

_SUBSCRIBE_COMMANDS = {
    "SUBSCRIBE": False,
    "UNSUBSCRIBE": False,
    "PSUBSCRIBE": True,
    "PUNSUBSCRIBE": True,
    "SSUBSCRIBE": False,
    "SUNSUBSCRIBE": False,
}


class _NotEnoughData:
    """What readers return from ``gets()`` while no reply is complete."""

    __slots__ = ()


_NOT_ENOUGH = _NotEnoughData()


async def open_connection(host: str, port: int, *, ssl=None, protocol_factory=RedisProtocol,
                          **kwargs) -> Tuple[asyncio.Transport, Any]:
    """Open a TCP connection; returns ``(transport, protocol)``."""
    loop = asyncio.get_running_loop()
    return await loop.create_connection(protocol_factory, host, port, ssl=ssl, **kwargs)


async def open_unix_connection(path: str, *, ssl=None, protocol_factory=RedisProtocol,
                               **kwargs) -> Tuple[asyncio.Transport, Any]:
    """Open a unix socket connection; returns ``(transport, protocol)``."""
    loop = asyncio.get_running_loop()
    return await loop.create_unix_connection(protocol_factory, path, ssl=ssl, **kwargs)


def _protocol_factory(parser, version, native_types):
    """A factory of protocols whose reader is attached (and RESP version and reply types
    set) before the transport connects.

    The server may speak first (``-ERR max number of clients reached`` on accept),
    before the connection object exists.
    """
    def make():
        protocol = RedisProtocol()
        protocol.attach_reader(*_make_reader(parser))
        protocol.set_protocol_version(version, native_types)
        return protocol

    return make


def _merge_uri_options(address: str, settings: dict) -> Address:
    """Resolve a URI into an address, filling ``settings`` from its options.

    A value given both in the URI and as a keyword must agree.
    """
    resolved, options = parse_url(address)
    for name, value in options.items():
        given = settings.get(name)
        if name == "ssl":
            settings["ssl"] = _merge_ssl(given, value)
            continue
        if given is not None and given != value:
            if name == "password":
                raise ValueError("Conflicting password values: one in the URI and another given")
            raise ValueError(f"Conflicting {name} values: {value!r} in the URI and {given!r} given")
        settings[name] = value
    return resolved


def _merge_ssl(given, from_uri):
    """The ssl setting from the ``ssl=`` argument and the URI's (True, False or a dict of TLS options)."""
    if given is None or given is False:
        return from_uri
    if from_uri is False:
        raise ValueError("Conflicting ssl options: ssl=false in the URI but ssl= given")
    if given is True:
        return from_uri
    if isinstance(from_uri, dict):
        raise ValueError("Conflicting ssl options: TLS options in the URI and an SSL context given")
    return given


_VERIFY_MODES = {
    "none": ssl_module.CERT_NONE,
    "optional": ssl_module.CERT_OPTIONAL,
    "required": ssl_module.CERT_REQUIRED,
}


def _ssl_context(ssl):
    """The SSLContext to connect with, or None for plain TCP.

    ``ssl`` is None/False, True (system CAs, host name checked), an ``SSLContext``
    (used as is) or the dict of TLS options :func:`~aioredis_cy.util.parse_url` reads
    from a URI (``ca_certs``, ``cert_reqs``, ``certfile``, ``keyfile``, ``check_hostname``).
    """
    if ssl is None or ssl is False:
        return None
    if ssl is True:
        return ssl_module.create_default_context()
    if not isinstance(ssl, dict):
        return ssl
    context = ssl_module.create_default_context(cafile=ssl.get("ca_certs"))
    verify_mode = _VERIFY_MODES[ssl.get("cert_reqs", "required")]
    context.check_hostname = verify_mode != ssl_module.CERT_NONE and ssl.get("check_hostname", True)
    context.verify_mode = verify_mode
    if "certfile" in ssl:
        context.load_cert_chain(ssl["certfile"], ssl.get("keyfile"))
    return context


def _check_address(address: Any) -> None:
    if isinstance(address, (list, tuple)):
        if len(address) != 2 or not isinstance(address[0], str) or isinstance(address[1], bool) \
                or not isinstance(address[1], int):
            raise ValueError(f"Address must be a (host, port) pair, got {address!r}")
    elif not isinstance(address, str):
        raise TypeError(f"Address must be a (host, port) tuple or a str, got {type(address).__name__}")


def _check_protocol(protocol: Any) -> int:
    """The RESP version asked for: 2 or 3 (None means 2); ValueError for anything else."""
    if protocol is None:
        return 2
    if isinstance(protocol, bool) or not isinstance(protocol, int) or protocol not in (2, 3):
        raise ValueError(f"protocol must be 2 or 3, got {protocol!r}")
    return int(protocol)


def _check_resp3_types(resp3_types: Any, version: int) -> bool:
    """True for ``resp3_types="native"``, False for None or "resp2"; ValueError for anything
    else, or for "native" without protocol=3."""
    if resp3_types is None or resp3_types == "resp2":
        return False
    if resp3_types != "native":
        raise ValueError(f'resp3_types must be "resp2" or "native", got {resp3_types!r}')
    if version != 3:
        raise ValueError('resp3_types="native" needs protocol=3 (RESP3)')
    return True


async def _hello(conn: RedisConnection, protocol: Any, password: Optional[str], username: Optional[str],
                 name: Optional[str]) -> None:
    """The RESP3 handshake: one ``HELLO 3`` carrying AUTH and SETNAME as needed.

    A server without HELLO (Redis < 6) gives a ReplyError naming its version.
    """
    args: List[Any] = [3]
    if password is not None:
        args += [b"AUTH", "default" if username is None else username, password]
    if name is not None:
        args += [b"SETNAME", name]
    try:
        await protocol.hello(args)
    except ReplyError as exc:
        if "unknown command" not in str(exc).lower():
            raise
        version = await _server_version(conn)
        raise ReplyError(f"protocol=3 needs Redis 6 or later (RESP3, the HELLO command); "
                         f"this server ({version}) does not know HELLO") from None


async def _server_version(conn: RedisConnection) -> str:
    """``Redis x.y.z`` from INFO server, or ``version unknown``."""
    try:
        info = await conn.execute(b"INFO", b"server")
    except ReplyError:
        return "version unknown"
    if isinstance(info, bytes):
        info = info.decode("utf-8", "replace")
    for line in str(info).splitlines():
        if line.startswith("redis_version:"):
            return f"Redis {line.partition(':')[2].strip()}"
    return "version unknown"


async def create_connection(address: Address, *, db: Optional[int] = None, password: Optional[str] = None,
                            ssl: Optional[SSLOption] = None,
                            encoding: Optional[str] = None, parser: Optional[Callable[..., Any]] = None,
                            loop: Any = None, timeout: Optional[float] = None,
                            connection_cls: Optional[type[RedisConnection]] = None,
                            username: Optional[str] = None, name: Optional[str] = None,
                            protocol: Optional[int] = None,
                            resp3_types: Optional[str] = None) -> RedisConnection:
    """Connect to Redis and return a ``RedisConnection`` (or ``connection_cls``) instance.

    ``address`` is a ``(host, port)`` pair, a unix socket path or a ``redis://``,
    ``rediss://`` or ``unix://`` URI. ``ssl`` is an ``ssl.SSLContext``, or True for the
    system's CAs with host name checking; a ``rediss://`` URI may set TLS options instead
    (see :func:`~aioredis_cy.util.parse_url`). ``username`` (with ``password``) logs in as an
    ACL user. ``timeout`` bounds connecting and the AUTH/SELECT handshake
    (``asyncio.TimeoutError``). ``name`` is sent as ``CLIENT SETNAME`` once connected.
    ``protocol=3`` (or ``?protocol=3`` in the URI; None means 2) speaks RESP3, Redis 6+:
    the handshake is one ``HELLO 3`` carrying AUTH and SETNAME, replies keep their RESP2
    shapes and pushes go to the pub/sub channels or to
    :meth:`RedisConnection.set_push_handler` (see README, RESP3). With
    ``resp3_types="native"`` (protocol=3 only) replies keep the RESP3 types instead: maps
    as dicts, doubles as floats, booleans as bools; for code that calls ``execute()``
    itself (the command methods of :class:`~aioredis_cy.Redis` refuse such a connection).
    ``loop`` is accepted for compatibility and ignored.
    """
    if connection_cls is None:
        connection_cls = RedisConnection
    else:
        _check_subclass("connection_cls", connection_cls, AbcConnection)
    _check_address(address)
    settings: Dict[str, Any] = {"db": db, "password": password, "encoding": encoding, "timeout": timeout,
                "ssl": ssl, "username": username, "protocol": protocol}
    if isinstance(address, str):
        address = _merge_uri_options(address, settings)
    version = _check_protocol(settings["protocol"])
    native_types = _check_resp3_types(resp3_types, version)
    db = settings["db"]
    if db is not None and (isinstance(db, bool) or not isinstance(db, int) or db < 0):
        raise ValueError(f"db must be a non-negative int, got {db!r}")
    _check_positive_timeout(settings["timeout"])
    if settings["encoding"] is not None:
        codecs.lookup(settings["encoding"])
    ssl = _ssl_context(settings["ssl"])

    factory = _protocol_factory(parser, version, native_types)

    async def connect():
        if isinstance(address, str):
            transport, protocol = await open_unix_connection(address, ssl=ssl, protocol_factory=factory)
            resolved = address
        else:
            host, port = address
            server_hostname = host if ssl else None
            transport, protocol = await open_connection(host, port, ssl=ssl, server_hostname=server_hostname,
                                                        protocol_factory=factory)
            peer = transport.get_extra_info("peername")
            resolved = tuple(peer[:2]) if peer else (host, port)
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = connection_cls(transport, protocol, address=resolved, encoding=settings["encoding"],
                              parser=parser)
        try:
            if version == 3:
                await _hello(conn, protocol, settings["password"], settings["username"], name)
            elif settings["password"] is not None:
                await conn.auth(settings["password"], username=settings["username"])
            if db:
                await conn.select(db)
            if isinstance(protocol.close_exc, ReplyError):
                raise protocol.close_exc   # the server refused the connection (e.g. MaxClientsError)
            if name is not None and version == 2:
                await conn.execute(b"CLIENT", b"SETNAME", name)
        except BaseException:
            conn.close()
            # Not a TLS close_notify exchange: the socket is closed now, even if the loop stops next.
            transport.abort()
            raise
        return conn

    return await asyncio.wait_for(connect(), settings["timeout"])


def _make_reader(parser):
    """Instantiate a reader class with the errors this library raises; returns the reader
    and what its ``gets()`` returns when no reply is complete."""
    reader_cls = reader_class() if parser is None else parser
    if honours_not_enough(reader_cls):
        try:
            reader = reader_cls(protocolError=ProtocolError, replyError=ReplyError, notEnoughData=_NOT_ENOUGH)
            return reader, _NOT_ENOUGH
        except TypeError:  # hiredis < 2 has no notEnoughData
            pass
    # Any other class is made as aioredis 1.x makes it, and its False means "no reply yet".
    return reader_cls(protocolError=ProtocolError, replyError=ReplyError), False


class RedisConnection(AbcConnection):
    """One Redis connection; commands sent concurrently are pipelined automatically."""

    def __init__(self, transport: Any, protocol: RedisProtocol, *, address: Any,
                 encoding: Optional[str] = None, parser: Optional[Callable[..., Any]] = None,
                 loop: Any = None) -> None:
        if not protocol.has_reader:
            protocol.attach_reader(*_make_reader(parser))
        protocol.set_subscribe_handler(self.execute_pubsub)
        protocol.set_default_encoding(encoding, _NOTSET)
        if type(self).execute is RedisConnection.execute:
            # The same method in C, one Python frame less per command; subclasses
            # that override execute() keep theirs.
            self.execute = protocol.command  # type: ignore[method-assign]
            self._execute_converted = protocol.command_converted  # type: ignore[method-assign, assignment]
        self._transport = transport
        self._protocol = protocol
        self._address = address
        self._encoding = encoding
        self._pubsub_channels_view = _CoercedKeysView(protocol.channels)
        self._pubsub_patterns_view = _CoercedKeysView(protocol.patterns)

    def __repr__(self) -> str:
        return f"<RedisConnection [db:{self.db}]>"   # as in aioredis 1.x, which tests and logs match on

    def execute(self, command: Arg, *args: Arg, encoding: Optional[str] = _NOTSET) -> asyncio.Future[Any]:
        """Send a command and return a future of its reply.

        Not a coroutine: the command is buffered at once and leaves with everything
        else sent in this loop iteration. ``encoding`` overrides the connection's
        codec for this reply (None returns bytes).
        """
        if encoding is _NOTSET:
            encoding = self._encoding
        return self._protocol.execute(command, args, encoding)

    def _execute_converted(self, converter: Callable[[Any], Any], command: Arg, *args: Arg,
                           **kwargs: Any) -> Awaitable[Any]:
        """``execute`` whose future gets ``converter(reply)``: how command methods send.

        Bound to the protocol's C method unless ``execute`` is overridden, in which
        case the conversion is chained on what the override returns.
        """
        return _convert_later(self.execute(command, *args, **kwargs), converter)

    def execute_pubsub(self, command: Arg, *channels: Any) -> Awaitable[List[Any]]:
        """Send a (p|s)(un)subscribe command; await it for the list of confirmations.

        ``channels`` are names or :class:`~aioredis_cy.pubsub.Channel` objects.
        """
        name = command.decode() if isinstance(command, (bytes, bytearray)) else command
        if not isinstance(name, str) or name.upper() not in _SUBSCRIBE_COMMANDS:
            raise ValueError(f"Pub/Sub command expected, got {command!r}")
        is_pattern = _SUBSCRIBE_COMMANDS[name.upper()]
        if not channels:
            raise TypeError("No channels/patterns supplied")
        if any(channel is None for channel in channels):
            raise TypeError("Channel names must not be None")
        targets = [
            channel if isinstance(channel, AbcChannel) else Channel(channel, is_pattern)
            for channel in channels
        ]
        if any(channel.is_pattern != is_pattern for channel in targets):
            raise ValueError(f"Not all channels {targets!r} match command {command!r}")
        futures = self._protocol.execute_subscribe(command, targets)
        return asyncio.gather(*futures)

    async def monitor(self, *, encoding: Optional[str] = _NOTSET) -> AsyncIterator[Value]:
        """Take the connection over with MONITOR: ``async for line in conn.monitor()``.

        Yields each command the server runs, as the server formats it (decoded with the
        connection's encoding unless ``encoding`` is given). Needs a connection with
        nothing in flight; it serves nothing else afterwards and is closed when the
        iteration ends.
        """
        if encoding is _NOTSET:
            encoding = self._encoding
        lines = Channel(b"MONITOR", False)
        try:
            if self._protocol.pending:
                await self.execute(b"PING")   # the replies still due come first
            await self._protocol.start_monitor(lines)
            async for line in lines.iter(encoding=encoding):
                yield line
        finally:
            self.close()

    def reset(self) -> asyncio.Future[bool]:
        """Send RESET; await it for True.

        When the server's reply arrives the connection's state follows it: ``db`` is 0,
        no transaction is open and every subscribed channel is closed (as on
        unsubscribe). As with RESET itself, the connection is logged in as the default
        user again (re-``auth`` if that user needs a password). Not in MONITOR mode.
        """
        return self._protocol.reset()

    def close(self) -> None:
        """Close the connection; pending commands fail with ConnectionForcedCloseError."""
        self._protocol.close()

    async def wait_closed(self) -> None:
        """Wait until the connection is closed."""
        await self._protocol.wait_closed()

    def select(self, db: int) -> Awaitable[bool]:
        """Switch to database ``db``; await it for True."""
        if isinstance(db, bool) or not isinstance(db, int):
            raise TypeError(f"DB must be of int type, not {db!r}")
        if db < 0:
            raise ValueError(f"DB must be greater or equal 0, got {db!r}")
        return wait_ok(self.execute(b"SELECT", db))

    def auth(self, password: str, *, username: Optional[str] = None) -> Awaitable[bool]:
        """Authenticate (as ``username`` when given, for ACL users); await it for True."""
        if username is None:
            return wait_ok(self.execute(b"AUTH", password))
        return wait_ok(self.execute(b"AUTH", username, password))

    def set_push_handler(self, handler: Optional[Callable[[List[Any]], Any]]) -> None:
        """Call ``handler(frame)`` with each RESP3 push that is not pub/sub (None: drop them).

        ``frame`` is a list of raw (bytes) elements, e.g. ``[b"invalidate", [b"key"]]``;
        the call is synchronous, in stream order with the replies. What it raises is
        logged (logger ``aioredis_cy``) and ignored.
        """
        self._protocol.set_push_handler(handler)

    def _set_lost_handler(self, handler: Optional[Callable[[], Any]]) -> None:
        """Call ``handler()`` once, synchronously, when the server closes its side or the
        connection is closed or lost: before its pending commands fail, so nothing learns of
        the loss before it."""
        self._protocol.set_lost_handler(handler)

    @property
    def protocol_version(self) -> int:
        """The RESP version spoken: 2, or 3 after the HELLO 3 handshake."""
        return self._protocol.protocol_version

    @property
    def resp3_types(self) -> str:
        """``"native"`` when RESP3 replies keep their own types, else ``"resp2"`` (the shapes
        RESP2 gives)."""
        return "native" if self._protocol.native_types else "resp2"

    @property
    def address(self) -> Any:
        """The server address: ``(host, port)`` as resolved, or the unix socket path."""
        return self._address

    @property
    def db(self) -> int:
        """The selected database index."""
        return self._protocol.db

    @property
    def encoding(self) -> Optional[str]:
        """The codec used to decode replies, or None."""
        return self._encoding

    @property
    def closed(self) -> bool:
        """True once the connection is closed or lost."""
        return self._protocol.closed

    @property
    def in_transaction(self) -> bool:
        """True between MULTI and EXEC/DISCARD."""
        return self._protocol.in_transaction

    @property
    def watching(self) -> bool:
        """True while a WATCH is active: from its OK until UNWATCH, EXEC, DISCARD or loss."""
        return self._protocol.watching

    @property
    def pubsub_channels(self) -> Mapping[Any, Channel]:
        """Read-only mapping of subscribed channel names (bytes; str looks up too) to channels."""
        return self._pubsub_channels_view

    @property
    def pubsub_patterns(self) -> Mapping[Any, Channel]:
        """Read-only mapping of subscribed patterns (bytes; str looks up too) to channels."""
        return self._pubsub_patterns_view

    @property
    def pending(self) -> int:
        """How many replies are still awaited (including those of cancelled commands)."""
        return self._protocol.pending

    @property
    def in_pubsub(self) -> int:
        """The number of subscribed channels and patterns; 0 outside pub/sub mode."""
        return self._protocol.in_pubsub
