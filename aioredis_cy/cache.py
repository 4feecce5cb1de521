"""``ClientCache``: the store of server-assisted client-side caching.

The server tracks the keys each connection reads (``CLIENT TRACKING ON``, RESP3) and
pushes ``invalidate`` frames when they change; the cache keeps the raw replies of
read-only single-key commands until then. This module owns the store: entries with
their LRU order, size and age limits, the index from a Redis key to its entries, the
marks of reads on their way, and the counters. How commands reach it is the job of
:mod:`aioredis_cy._cache_client`.

Correctness rests on the marks. A read that misses leaves a mark (its fill) before
the command is sent; an invalidation of the key (or of everything) drops the marks;
the reply is stored, inside the protocol's reply dispatch, only if its own mark is
still there. So an invalidation that overtakes a reply always wins.
"""
import math
import sys
import time
from collections import OrderedDict
from typing import Any, Dict, Optional, Set, Tuple

from ._cachehit import CacheCore, Entry

__all__ = ["ClientCache"]

_MODES = ("default", "broadcast")
# What the bookkeeping of one entry costs besides its key and reply (object, LRU link, index).
_ENTRY_OVERHEAD = 256
# Keys longer than this are never cached (writes then only check arguments up to this size).
MAX_KEY_BYTES = 1024
_clock = time.monotonic   # the entries' clock (a module global, so that tests can move it)


_Key = bytes   # a Redis key (the annotations of ClientCache, which has a ``bytes`` property)


class _Missing:
    __slots__ = ()


MISSING: Any = _Missing()


class Fill:
    """A cacheable read on its way: its pending mark, and the converter that stores its reply.

    The protocol calls it with the raw reply inside its reply dispatch; it stores the
    reply if the mark is still there, then returns what the caller asked for (decoded
    with ``encoding``, passed through ``converter``).
    """

    __slots__ = ("cache", "ckey", "key", "owner", "encoding", "converter")

    def __init__(self, cache: "ClientCache", ckey: tuple, key: bytes, owner, encoding, converter) -> None:
        self.cache = cache
        self.ckey = ckey
        self.key = key
        self.owner = owner
        self.encoding = encoding
        self.converter = converter

    def __call__(self, raw):
        self.cache._store(self, raw)
        return self.uncached(raw)

    def uncached(self, raw):
        """What the caller asked for, not stored (the reply came from elsewhere than the mark's
        connection: a cluster read that was redirected)."""
        value = copy_reply(raw, self.encoding)
        if self.converter is not None:
            return self.converter(value)
        return value


def copy_reply(raw, encoding: Optional[str]):
    """A fresh copy of a stored reply, every bulk string decoded with ``encoding`` (if not None).

    Decodes as a connection does (aioredis 1.x: every bytes in nested replies); the
    stored value is never handed out, so callers may change what they get.
    """
    if type(raw) is bytes:
        return raw if encoding is None else raw.decode(encoding)
    if type(raw) is list:
        return [copy_reply(item, encoding) for item in raw]
    if type(raw) is dict:
        return {copy_reply(key, encoding): copy_reply(value, encoding) for key, value in raw.items()}
    if type(raw) is set:
        return {copy_reply(item, encoding) for item in raw}
    return raw


_BYTES_SIZE = sys.getsizeof(b"")
_TUPLE_SIZE = sys.getsizeof(())
_POINTER_SIZE = 8


def _size_of(value) -> int:
    """An estimate of the memory ``value`` holds, its items included (cached replies nest a few
    levels at most)."""
    kind = type(value)
    if kind is bytes:
        return _BYTES_SIZE + len(value)
    if kind is tuple:   # a cache key: a name and encoded arguments
        size = _TUPLE_SIZE + _POINTER_SIZE * len(value)
        for item in value:
            size += _BYTES_SIZE + len(item)
        return size
    size = sys.getsizeof(value)
    if kind is list or kind is set:
        for item in value:
            size += _size_of(item)
    elif kind is dict:
        for key, item in value.items():
            size += _size_of(key) + _size_of(item)
    return size


def _check_limit(name: str, value, *, allow_none: bool = False, number: bool = False) -> None:
    if value is None and allow_none:
        return
    kinds = (int, float) if number else (int,)
    if isinstance(value, bool) or not isinstance(value, kinds):
        wanted = "a number" if number else "an int"
        raise TypeError(f"{name} must be {wanted}{' or None' if allow_none else ''}, got {value!r}")
    if not value > 0 or (number and not math.isfinite(value)):
        raise ValueError(f"{name} must be positive, got {value!r}")


def _prefix_bytes(prefix) -> bytes:
    if isinstance(prefix, str):
        return prefix.encode("utf-8")
    if isinstance(prefix, bytes):
        return prefix
    raise TypeError(f"prefixes must be str or bytes, got {type(prefix).__name__}")


class ClientCache(CacheCore):
    """A client-side cache of read-only commands, kept right by the server's invalidations.

    Pass it as ``client_cache=`` to :func:`~aioredis_cy.create_redis` or
    :func:`~aioredis_cy.create_redis_pool` (with ``protocol=3``); one cache serves one client.

    ``max_entries`` and ``max_bytes`` bound the store (least recently used entries go
    first; ``bytes`` is an estimate of the memory the keys, replies and bookkeeping
    take); ``ttl`` (seconds, or None) bounds how long an entry may live, a safety net
    besides invalidation. ``mode="default"`` has the server track the keys each
    connection reads; ``mode="broadcast"`` has it announce every change to keys that
    start with one of ``prefixes`` (all keys if none are given), and only such keys
    are cached.
    """

    def __init__(self, max_entries: int = 10_000, max_bytes: int = 64 * 1024 * 1024,
                 ttl: Optional[float] = 300.0, mode: str = "default", prefixes=()) -> None:
        _check_limit("max_entries", max_entries)
        _check_limit("max_bytes", max_bytes)
        _check_limit("ttl", ttl, allow_none=True, number=True)
        if not isinstance(mode, str):
            raise TypeError(f"mode must be a str, got {type(mode).__name__}")
        if mode not in _MODES:
            raise ValueError(f"mode must be 'default' or 'broadcast', got {mode!r}")
        if isinstance(prefixes, (str, bytes)):
            raise TypeError("prefixes must be a sequence of str or bytes, not a single str or bytes")
        prefixes = tuple(_prefix_bytes(prefix) for prefix in prefixes)
        if prefixes and mode != "broadcast":
            raise ValueError("prefixes are only for mode='broadcast'")
        for index, prefix in enumerate(prefixes):
            for other in prefixes[index + 1:]:
                if prefix.startswith(other) or other.startswith(prefix):
                    raise ValueError(f"prefixes must not overlap: {prefix!r} and {other!r}")
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._ttl = ttl
        self._mode = mode
        self._prefixes = prefixes
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()   # in LRU order, oldest first
        self._by_key: Dict[_Key, Set[tuple]] = {}    # Redis key -> the cache keys of its entries
        self._pending: Dict[_Key, Dict[tuple, Fill]] = {}   # Redis key -> cache key -> latest fill
        self._trackers: Dict[Any, Any] = {}   # connection -> its tracker (see _cache_client)
        self._bytes = 0
        self._misses = 0
        self._invalidations = 0
        self._evictions = 0
        self._client: Any = None   # the client it serves (one at a time)

    def __repr__(self) -> str:
        return (f"<ClientCache mode={self._mode} entries={len(self._entries)}/{self._max_entries} "
                f"bytes={self._bytes}/{self._max_bytes}>")

    def __len__(self) -> int:
        return len(self._entries)

    # -- settings and counters ----------------------------------------------------

    @property
    def max_entries(self) -> int:
        """The most entries kept."""
        return self._max_entries

    @property
    def max_bytes(self) -> int:
        """The most (estimated) bytes kept."""
        return self._max_bytes

    @property
    def ttl(self) -> Optional[float]:
        """The longest an entry lives, in seconds (None: until invalidated or evicted)."""
        return self._ttl

    @property
    def mode(self) -> str:
        """``'default'`` or ``'broadcast'``."""
        return self._mode

    @property
    def prefixes(self) -> Tuple[bytes, ...]:
        """The key prefixes of broadcast mode (empty: every key)."""
        return self._prefixes

    @property
    def hits(self) -> int:
        """Reads answered from the cache."""
        return self._hits

    @property
    def misses(self) -> int:
        """Cacheable reads sent to the server."""
        return self._misses

    @property
    def invalidations(self) -> int:
        """Entries dropped because their key changed (server push, own write, flush) or their
        connection was lost."""
        return self._invalidations

    @property
    def evictions(self) -> int:
        """Entries dropped for room (entry or byte limit) or age (ttl)."""
        return self._evictions

    @property
    def entries(self) -> int:
        """Entries stored now."""
        return len(self._entries)

    @property
    def bytes(self) -> int:
        """Estimated bytes stored now."""
        return self._bytes

    def stats(self) -> Dict[str, int]:
        """The counters at this moment: hits, misses, invalidations, evictions, entries, bytes."""
        return {"hits": self._hits, "misses": self._misses, "invalidations": self._invalidations,
                "evictions": self._evictions, "entries": len(self._entries), "bytes": self._bytes}

    def clear(self) -> None:
        """Drop every entry; reads on their way are not stored either (counters are kept)."""
        self._pending.clear()
        self._entries.clear()
        self._by_key.clear()
        for tracker in self._trackers.values():
            tracker.filled.clear()
        self._bytes = 0

    def invalidate(self, key) -> None:
        """Drop the entries of the Redis key ``key`` (str or bytes) and the reads of it on their way."""
        self._invalidate_key(_prefix_bytes(key))

    # -- what the client side calls ---------------------------------------------------

    def _bind(self, client) -> None:
        """Serve ``client`` from now on (None: only check that a new client may be served).

        A cache serves one client at a time: ValueError while the one it serves is open.
        Taken over from a closed client, it starts empty.
        """
        previous = self._client
        if previous is not None and previous is not client:
            if not previous.closed:
                raise ValueError("this ClientCache is already used by another client: make one per client")
            self.clear()
        if client is not None:
            self._client = client

    def _accepts(self, key: _Key) -> bool:
        """Whether entries of the Redis key ``key`` may be stored (broadcast mode: its prefixes)."""
        if len(key) > MAX_KEY_BYTES:
            return False
        if self._mode != "broadcast" or not self._prefixes:
            return True
        return key.startswith(self._prefixes)

    def _tracking_args(self) -> tuple:
        """The arguments of the CLIENT command that turns tracking on for a connection."""
        if self._mode != "broadcast":
            return (b"TRACKING", b"ON")
        args = [b"TRACKING", b"ON", b"BCAST"]
        for prefix in self._prefixes:
            args += [b"PREFIX", prefix]
        return tuple(args)

    def _lookup(self, ckey: tuple):
        """The raw reply stored for ``ckey`` (counted as a hit), or MISSING."""
        entry = self._entries.get(ckey)
        if entry is None:
            return MISSING
        if entry.expires < _clock():
            self._remove(ckey, entry)
            self._evictions += 1
            return MISSING
        self._entries.move_to_end(ckey)
        self._hits += 1
        return entry.value

    def _begin_fill(self, ckey: tuple, key: _Key, owner, encoding, converter) -> Fill:
        """Mark a read of ``ckey`` as on its way (on ``owner``'s connection); returns its converter."""
        pending = self._pending
        marks = pending.get(key)
        if marks is None:
            if len(pending) >= self._max_entries:
                pending.clear()   # marks of reads that failed pile up: dropping them only costs stores
            marks = pending[key] = {}
        fill = marks[ckey] = Fill(self, ckey, key, owner, encoding, converter)
        self._misses += 1
        return fill

    def _store(self, fill: Fill, raw) -> None:
        """Store a read's reply if its mark is still there (no invalidation, no later read since)."""
        marks = self._pending.get(fill.key)
        ckey = fill.ckey
        if marks is not None and marks.get(ckey) is fill:
            del marks[ckey]
            if not marks:
                del self._pending[fill.key]
            if fill.owner.open:
                self._put(ckey, fill.key, raw, fill.owner)
            return
        entry = self._entries.get(ckey)
        if entry is not None and entry.value != raw:
            # Two reads of one key crossed on different connections and disagree: which
            # one is older is unknown, so neither is kept.
            self._remove(ckey, entry)
            self._invalidations += 1

    def _put(self, ckey: tuple, key: _Key, raw, owner) -> None:
        size = _ENTRY_OVERHEAD + _size_of(ckey) + _size_of(raw)
        old = self._entries.pop(ckey, None)
        if old is not None:
            self._unlink(ckey, old)
        if size > self._max_bytes:
            return
        expires = math.inf if self._ttl is None else _clock() + self._ttl
        self._entries[ckey] = Entry(raw, size, expires, owner, key)
        ckeys = self._by_key.get(key)
        if ckeys is None:
            ckeys = self._by_key[key] = set()
        ckeys.add(ckey)
        owner.filled.add(ckey)
        self._bytes += size
        entries = self._entries
        while len(entries) > self._max_entries or self._bytes > self._max_bytes:
            oldest, entry = entries.popitem(last=False)
            self._unlink(oldest, entry)
            self._evictions += 1

    def _remove(self, ckey: tuple, entry: Entry) -> None:
        del self._entries[ckey]
        self._unlink(ckey, entry)

    def _unlink(self, ckey: tuple, entry: Entry) -> None:
        """Forget an entry already taken out of ``_entries``: its size, index and owner links."""
        self._bytes -= entry.size
        ckeys = self._by_key.get(entry.key)
        if ckeys is not None:
            ckeys.discard(ckey)
            if not ckeys:
                del self._by_key[entry.key]
        entry.owner.filled.discard(ckey)

    def _invalidate_key(self, key: _Key) -> None:
        """The key changed: drop its entries and the marks of its reads on their way."""
        self._pending.pop(key, None)
        ckeys = self._by_key.pop(key, None)
        if ckeys:
            entries = self._entries
            for ckey in ckeys:
                entry = entries.pop(ckey)
                self._bytes -= entry.size
                entry.owner.filled.discard(ckey)
            self._invalidations += len(ckeys)

    def _invalidate_matching(self, test) -> None:
        """Drop the entries, and the marks of reads on their way, of every Redis key for which
        ``test(key)`` is true (a cluster's keys of slots that moved)."""
        for key in [key for key in self._by_key if test(key)]:
            self._invalidate_key(key)
        for key in [key for key in self._pending if test(key)]:
            del self._pending[key]

    def _invalidate_all(self) -> None:
        """Everything may have changed (flush, database switch, null invalidation)."""
        self._invalidations += len(self._entries)
        self.clear()

    def _drop_owned(self, owner) -> None:
        """``owner``'s connection is gone, and with it the tracking of what it read: drop its entries."""
        entries = self._entries
        for ckey in list(owner.filled):
            entry = entries.get(ckey)
            if entry is not None and entry.owner is owner:
                self._remove(ckey, entry)
                self._invalidations += 1
        owner.filled.clear()
