"""How a client uses its :class:`~aioredis_cy.ClientCache`: which commands are cached, what
invalidates, and the per-connection tracking.

A :class:`~aioredis_cy.Redis` with a cache sends through a :class:`CachingFront` instead of
its connection's (or pool's) ``execute``:

* a cacheable read (:data:`CACHEABLE`) is answered from the cache with an already
  completed future, or sent with a :class:`~aioredis_cy.cache.Fill` as its converter,
  on a connection whose tracking is on (the fill stores the reply in the protocol's
  reply dispatch, if no invalidation came first);
* any other command, unless known to write nothing (:data:`_READ_ONLY`), drops the
  entries of every argument that is a cached key when it is sent and again when its
  reply arrives: the caller's next read sees its write even if the server's
  invalidation is still on its way on another connection of the pool;
* FLUSHALL, FLUSHDB, SWAPDB, SELECT and RESET drop everything, at send and at reply.

Each connection opened for a cached client turns tracking on (``CLIENT TRACKING ON``,
or ``... BCAST PREFIX ...``) and gets a :class:`Tracker` as its push handler; when the
connection closes or is lost, the entries it filled are dropped at once, in the
connection's own loss handling (nobody will tell us about them any more).
"""
import asyncio
import codecs
import contextlib
import contextvars
import functools
from typing import Dict, Optional, Tuple

from ._cachehit import KIND_READ, HitPath, cache_key, encoded_arg
from .abc import AbcPool
from .cache import MAX_KEY_BYTES, MISSING, ClientCache, copy_reply
from .util import _NOTSET, _convert_later

__all__ = ["CachingFront", "Tracker", "track_connection", "cache_disabled", "CACHEABLE"]

# Read-only commands of one key (the first argument) whose reply only changes when the key does.
CACHEABLE = frozenset((
    "GET", "GETRANGE", "SUBSTR", "STRLEN", "GETBIT", "BITCOUNT", "BITPOS",
    "HGET", "HGETALL", "HMGET", "HLEN", "HEXISTS", "HSTRLEN", "HKEYS", "HVALS",
    "SMEMBERS", "SISMEMBER", "SMISMEMBER", "SCARD",
    "LRANGE", "LLEN", "LINDEX", "LPOS",
    "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZRANGEBYLEX", "ZREVRANGEBYLEX",
    "ZSCORE", "ZMSCORE", "ZCARD", "ZRANK", "ZREVRANK", "ZCOUNT", "ZLEXCOUNT",
    "XLEN", "XRANGE", "XREVRANGE", "GEOPOS", "GEODIST", "GEOHASH",
    "EXISTS", "TYPE",
))
# Commands after which nothing cached can be trusted.
_FLUSHING = frozenset(("FLUSHALL", "FLUSHDB", "SWAPDB", "SELECT", "RESET"))
# Commands known to change no key: sent as they are (anything else may write its arguments).
_READ_ONLY = frozenset((
    "PING", "ECHO", "MGET", "SCAN", "HSCAN", "SSCAN", "ZSCAN", "KEYS", "RANDOMKEY", "DBSIZE",
    "INFO", "TIME", "LASTSAVE", "ROLE", "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "OBJECT",
    "DUMP", "SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER", "SINTER", "SUNION", "SDIFF", "ZUNION",
    "ZINTER", "ZDIFF", "XINFO", "XPENDING", "PFCOUNT", "PUBLISH", "SPUBLISH", "AUTH", "CLIENT",
    "CONFIG", "COMMAND", "SLOWLOG", "MEMORY", "WATCH", "UNWATCH", "SUBSCRIBE", "PSUBSCRIBE",
    "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "QUIT",
))

_READ = KIND_READ
_WRITE, _FLUSH, _PASS, _MULTI, _EXEC = range(1, 6)
# Kind and canonical name of each command spelling seen so far (bounded).
_kinds: Dict[object, Tuple[int, bytes]] = {}
_KINDS_LIMIT = 4096
_checked_encodings: set = set()

# Set by ``Redis.cache_disabled()`` for the current task (and tasks it starts).
_disabled: contextvars.ContextVar = contextvars.ContextVar("aioredis_cy_cache_disabled", default=False)


@contextlib.contextmanager
def cache_disabled():
    """Inside the block, the current task's reads go to the server and are not stored."""
    token = _disabled.set(True)
    try:
        yield
    finally:
        _disabled.reset(token)


def _kind_of(command) -> Tuple[int, bytes]:
    try:
        found = _kinds.get(command)
    except TypeError:   # unhashable (bytearray): never cached, treated as a write
        found = None
        command = bytes(command)
    if found is not None:
        return found
    if isinstance(command, (bytes, bytearray, memoryview)):
        name = bytes(command).decode("latin-1").upper()
    elif isinstance(command, str):
        name = command.upper()
    else:
        return _PASS, b""   # the connection refuses it
    if name in CACHEABLE:
        kind = _READ
    elif name in _FLUSHING:
        kind = _FLUSH
    elif name == "MULTI":
        kind = _MULTI
    elif name in ("EXEC", "DISCARD"):
        kind = _EXEC
    elif name in _READ_ONLY:
        kind = _PASS
    else:
        kind = _WRITE
    found = (kind, name.encode("latin-1"))
    if len(_kinds) < _KINDS_LIMIT and isinstance(command, (bytes, str)):
        _kinds[command] = found
    return found


def _check_encoding(encoding) -> None:
    """TypeError/LookupError unless ``encoding`` is None or names a text codec (as the connection checks)."""
    if encoding is None or (type(encoding) is str and encoding in _checked_encodings):
        return
    if not isinstance(encoding, str):
        raise TypeError(f"encoding must be a str or None, got {type(encoding).__name__}")
    if not codecs.lookup(encoding)._is_text_encoding:
        raise LookupError(f"{encoding!r} is not a text encoding")
    if len(_checked_encodings) < 256:
        _checked_encodings.add(encoding)


def _written_keys(args) -> list:
    """The arguments of a write that may be cached keys."""
    keys = []
    for arg in args:
        arg = encoded_arg(arg)
        if arg is not None and len(arg) <= MAX_KEY_BYTES:
            keys.append(arg)
    return keys


def _after_write(cache: ClientCache, keys: list, converter, reply):
    """Converter of a write: its keys are dropped again once the server has run it."""
    invalidate = cache._invalidate_key
    for key in keys:
        invalidate(key)
    if converter is not None:
        return converter(reply)
    return reply


def _after_flush(cache: ClientCache, converter, reply):
    cache._invalidate_all()
    if converter is not None:
        return converter(reply)
    return reply


class CachingFront(HitPath):
    """Stands between a :class:`~aioredis_cy.Redis` and its connection or pool (see the module doc).

    ``execute``/``execute_converted`` (in C, :class:`~aioredis_cy._cachehit.HitPath`) answer
    fresh hits themselves and call :meth:`send` for everything else.
    """

    __slots__ = ("target", "is_pool", "multi_keys")

    def __init__(self, cache: ClientCache, target) -> None:
        super().__init__(cache, cache._entries, _kinds, _checked_encodings, _disabled,
                         asyncio.get_running_loop(), target.encoding, copy_reply)
        self.target = target
        self.is_pool = isinstance(target, AbcPool)
        self.multi_keys: list = []   # what the writes queued since a MULTI (single connection) touch

    def attach(self, redis) -> None:
        """Make ``redis`` send its commands through this front.

        ValueError for a client class that overrides ``execute``: the cache would bypass it.
        """
        from .commands import Redis
        from .commands.string import StringCommandsMixin

        if type(redis).execute is not Redis.execute:
            raise ValueError(f"client_cache needs a commands_factory that keeps Redis.execute; "
                             f"{type(redis).__name__} overrides it")
        redis.execute = self.execute
        redis._execute_converted = self.execute_converted
        redis._cache_front = self
        if type(redis).get is StringCommandsMixin.get:
            redis.get = self.get   # the hottest read, straight into C

    def send(self, converter, command, args: tuple, encoding):
        """Send one command the C hit path did not answer (the complete logic, hits included)."""
        try:
            kind, name = _kinds[command]
        except (KeyError, TypeError):
            kind, name = _kind_of(command)
        if kind == _READ:
            if encoding is not _NOTSET:
                _check_encoding(encoding)
            if not self.in_multi and not _disabled.get():
                ckey = cache_key(name, args)
                if ckey is not None:
                    raw = self.cache._lookup(ckey)
                    if raw is not MISSING:
                        return self.completed(raw, self.encoding if encoding is _NOTSET else encoding,
                                              converter)
                    return self.fill(ckey, converter, command, args, encoding)
        elif kind == _WRITE:
            keys = _written_keys(args)
            self.invalidate(keys)
            if self.in_multi:
                self.multi_keys += keys
            converter = functools.partial(_after_write, self.cache, keys, converter)
        elif kind == _FLUSH:
            self.cache._invalidate_all()
            converter = functools.partial(_after_flush, self.cache, converter)
        elif kind == _MULTI:
            if not self.is_pool:
                self.in_multi = True
        elif kind == _EXEC and not self.is_pool:
            keys, self.multi_keys, self.in_multi = self.multi_keys, [], False
            self.invalidate(keys)
            converter = functools.partial(_after_write, self.cache, keys, converter)
        return self.forward(self.target, converter, command, args, encoding)

    @staticmethod
    def forward(target, converter, command, args: tuple, encoding):
        kwargs = {} if encoding is _NOTSET else {"encoding": encoding}
        if converter is None:
            return target.execute(command, *args, **kwargs)
        return target._execute_converted(converter, command, *args, **kwargs)

    def select(self, db):
        """``select`` of the connection or pool: nothing cached holds for another database."""
        self.cache._invalidate_all()
        return _convert_later(self.target.select(db), functools.partial(_after_flush, self.cache, None))

    def invalidate(self, keys: list) -> None:
        invalidate = self.cache._invalidate_key
        for key in keys:
            invalidate(key)

    def fill(self, ckey: tuple, converter, command, args: tuple, encoding):
        """Send a read that missed on a tracked connection, its fill as the converter."""
        cache = self.cache
        key = ckey[1]
        if self.is_pool:
            conn, _address = self.target.get_connection(command, args)
        else:
            conn = self.target
        tracker = cache._trackers.get(conn) if conn is not None else None
        if tracker is None or not cache._accepts(key):
            if conn is None:
                conn = self.target   # the pool waits for a free connection itself
            return self.forward(conn, converter, command, args, encoding)
        if encoding is _NOTSET:
            encoding = self.encoding
        fill = cache._begin_fill(ckey, key, tracker, encoding, converter)
        return conn._execute_converted(fill, command, *args, encoding=None)

    def before_batch(self, records: list) -> Optional[list]:
        """A pipeline is about to send ``records`` (BufferedCommand objects): drop what its writes
        touch (returns those keys; None if it flushes everything)."""
        keys: list = []
        for record in records:
            kind, _name = _kind_of(record.command)
            if kind == _FLUSH:
                self.cache._invalidate_all()
                return None
            if kind in (_WRITE, _EXEC):
                keys += _written_keys(record.args)
        self.invalidate(keys)
        return keys

    def after_batch(self, keys: Optional[list], _done=None) -> None:
        """The pipeline's replies are in: drop what its writes touched again."""
        if keys is None:
            self.cache._invalidate_all()
        else:
            self.invalidate(keys)


class Tracker:
    """One tracked connection: its push handler, and the cache keys of the entries it filled."""

    __slots__ = ("cache", "conn", "filled", "open")

    def __init__(self, cache: ClientCache, conn) -> None:
        self.cache = cache
        self.conn = conn
        self.filled: set = set()
        self.open = True

    def on_push(self, frame) -> None:
        """The protocol's push handler: ``[b"invalidate", [key, ...]]`` or ``[b"invalidate", None]``."""
        if not frame or frame[0] not in (b"invalidate", "invalidate"):
            return
        keys = frame[1] if len(frame) > 1 else None
        cache = self.cache
        if keys is None:
            cache._invalidate_all()
            return
        for key in keys:
            if isinstance(key, str):
                key = key.encode("utf-8")
            cache._invalidate_key(key)

    def lost(self) -> None:
        """The connection closed (called by it, before its pending commands fail): what it
        filled can no longer be trusted."""
        self.open = False
        self.cache._trackers.pop(self.conn, None)
        self.cache._drop_owned(self)


async def track_connection(cache: ClientCache, conn) -> None:
    """Turn tracking on for ``conn`` and route its invalidations to ``cache``.

    ValueError unless ``conn`` speaks RESP3: under RESP2 the server would accept the
    tracking and send the invalidations nowhere.
    """
    if getattr(conn, "protocol_version", 2) != 3:
        raise ValueError("client_cache needs protocol=3 (RESP3): the server pushes its invalidations "
                         "on the connection that read the key")
    tracker = Tracker(cache, conn)
    conn.set_push_handler(tracker.on_push)
    conn._set_lost_handler(tracker.lost)
    await conn.execute(b"CLIENT", *cache._tracking_args())
    if tracker.open:
        cache._trackers[conn] = tracker
