"""Generic (keyspace) commands: deleting, expiring, renaming, moving, scanning and sorting keys."""
from __future__ import annotations

from typing import Any, AsyncIterator, List, Optional, Sequence, Tuple, Union

from .._typing import Arg, CommandsBase, Key, Reply, Value
from ..util import _NOTSET, _ScanIter, reply_is_ok
from ._checks import _check_int

__all__ = ["GenericCommandsMixin"]


def _expire_options(nx: bool, xx: bool, gt: bool, lt: bool) -> list:
    """The NX/XX/GT/LT tokens of the EXPIRE family (Redis 7), checking the combination."""
    if not (nx or xx or gt or lt):
        return []   # the common case, without building the tokens
    if nx and (xx or gt or lt):
        raise ValueError("nx cannot be combined with xx, gt or lt")
    if gt and lt:
        raise ValueError("gt and lt are mutually exclusive")
    flags = ((nx, b"NX"), (xx, b"XX"), (gt, b"GT"), (lt, b"LT"))
    return [token for wanted, token in flags if wanted]


def _check_migrate(host, dest_db, timeout) -> None:
    if not isinstance(host, str):
        raise TypeError(f"host argument must be str, got {type(host).__name__}")
    if not host:
        raise ValueError("Got empty host")
    _check_int("dest_db", dest_db, 0)
    _check_int("timeout", timeout, 0)


def _migrate_flags(copy: bool, replace: bool) -> list:
    return [token for wanted, token in ((copy, b"COPY"), (replace, b"REPLACE")) if wanted]


def _scan_reply(reply):
    cursor, keys = reply
    return int(cursor), keys


def _sort_order(asc):
    """The SORT order word: a str/bytes ``asc`` is sent as given (1.x code passes ``b"DESC"``)."""
    if isinstance(asc, (str, bytes)):
        return asc
    return b"ASC" if asc else b"DESC"


class GenericCommandsMixin(CommandsBase):
    """Generic commands; see https://redis.io/commands/?group=generic."""

    def copy(self, source: Key, destination: Key, *, db: Optional[int] = None,
             replace: bool = False) -> Reply[bool]:
        """Copy ``source`` to ``destination`` (in database ``db`` if given); True if copied (Redis 6.2)."""
        args = []
        if db is not None:
            _check_int("db", db, 0)
            args += [b"DB", db]
        if replace:
            args.append(b"REPLACE")
        return self._execute_converted(bool, b"COPY", source, destination, *args)

    def delete(self, key: Key, *keys: Key) -> Reply[int]:
        """Delete keys; returns how many existed."""
        return self.execute(b"DEL", key, *keys)

    def dump(self, key: Key) -> Reply[Optional[bytes]]:
        """Serialize the value at ``key`` (bytes, never decoded: the payload is binary)."""
        return self.execute(b"DUMP", key, encoding=None)

    def exists(self, key: Key, *keys: Key) -> Reply[int]:
        """Count how many of the keys exist (a key given twice counts twice)."""
        return self.execute(b"EXISTS", key, *keys)

    def expire(self, key: Key, timeout: float, *, nx: bool = False, xx: bool = False, gt: bool = False,
               lt: bool = False) -> Reply[bool]:
        """Set a timeout on ``key`` in seconds; True if it was set.

        A float ``timeout`` is sent as milliseconds with PEXPIRE. ``nx``/``xx``/``gt``/``lt``
        (Redis 7) set it only if the key has no timeout / has one / the new one is
        greater / smaller.
        """
        if isinstance(timeout, float):
            return self.pexpire(key, int(timeout * 1000), nx=nx, xx=xx, gt=gt, lt=lt)
        _check_int("timeout", timeout)
        options = _expire_options(nx, xx, gt, lt)
        return self._execute_converted(bool, b"EXPIRE", key, timeout, *options)

    def expireat(self, key: Key, timestamp: float, *, nx: bool = False, xx: bool = False, gt: bool = False,
                 lt: bool = False) -> Reply[bool]:
        """Expire ``key`` at a UNIX time in seconds (a float goes through PEXPIREAT); True if set."""
        if isinstance(timestamp, float):
            return self.pexpireat(key, int(timestamp * 1000), nx=nx, xx=xx, gt=gt, lt=lt)
        _check_int("timestamp", timestamp)
        options = _expire_options(nx, xx, gt, lt)
        return self._execute_converted(bool, b"EXPIREAT", key, timestamp, *options)

    def expiretime(self, key: Key) -> Reply[int]:
        """The UNIX time in seconds at which ``key`` expires; -1 without expiry, -2 if missing (Redis 7)."""
        return self.execute(b"EXPIRETIME", key)

    def keys(self, pattern: Arg, *, encoding: Optional[str] = _NOTSET) -> Reply[List[Value]]:
        """All keys matching ``pattern``."""
        return self.execute(b"KEYS", pattern, encoding=encoding)

    def migrate(self, host: str, port: int, key: Key, dest_db: int, timeout: int, *, copy: bool = False,
                replace: bool = False) -> Reply[bool]:
        """Atomically move ``key`` to another Redis instance; True if moved, False if no such key."""
        _check_migrate(host, dest_db, timeout)
        flags = _migrate_flags(copy, replace)
        return self._execute_converted(reply_is_ok, b"MIGRATE", host, port, key, dest_db, timeout, *flags)

    def migrate_keys(self, host: str, port: int, keys: Sequence[Key], dest_db: int, timeout: int, *,
                     copy: bool = False, replace: bool = False) -> Reply[bool]:
        """Atomically move the keys (a list or tuple) to another Redis instance.

        True if moved, False if none of them existed.
        """
        _check_migrate(host, dest_db, timeout)
        if not isinstance(keys, (list, tuple)):
            raise TypeError(f"keys argument must be list or tuple, got {type(keys).__name__}")
        if not keys:
            raise ValueError("keys must not be empty")
        flags = _migrate_flags(copy, replace)
        return self._execute_converted(
            reply_is_ok, b"MIGRATE", host, port, "", dest_db, timeout, *flags, b"KEYS", *keys)

    def move(self, key: Key, db: int) -> Reply[bool]:
        """Move ``key`` to database ``db``; True if moved."""
        _check_int("db", db, 0)
        return self._execute_converted(bool, b"MOVE", key, db)

    def object_encoding(self, key: Key) -> Reply[Optional[str]]:
        """The internal representation of the value at ``key`` as str (None if missing)."""
        return self.execute(b"OBJECT", b"ENCODING", key, encoding="utf-8")

    def object_freq(self, key: Key) -> Reply[int]:
        """The access frequency counter of ``key`` (needs an LFU ``maxmemory-policy``)."""
        return self.execute(b"OBJECT", b"FREQ", key)

    def object_idletime(self, key: Key) -> Reply[Optional[int]]:
        """Seconds since ``key`` was last read or written (None if missing)."""
        return self.execute(b"OBJECT", b"IDLETIME", key)

    def object_refcount(self, key: Key) -> Reply[Optional[int]]:
        """The reference count of the value at ``key`` (None if missing)."""
        return self.execute(b"OBJECT", b"REFCOUNT", key)

    def persist(self, key: Key) -> Reply[bool]:
        """Remove the timeout of ``key``; True if it had one."""
        return self._execute_converted(bool, b"PERSIST", key)

    def pexpire(self, key: Key, timeout: int, *, nx: bool = False, xx: bool = False, gt: bool = False,
                lt: bool = False) -> Reply[bool]:
        """Set a timeout on ``key`` in milliseconds (an int); True if set. Options as :meth:`expire`."""
        _check_int("timeout", timeout)
        options = _expire_options(nx, xx, gt, lt)
        return self._execute_converted(bool, b"PEXPIRE", key, timeout, *options)

    def pexpireat(self, key: Key, timestamp: int, *, nx: bool = False, xx: bool = False, gt: bool = False,
                  lt: bool = False) -> Reply[bool]:
        """Expire ``key`` at a UNIX time in milliseconds (an int); True if set. Options as :meth:`expire`."""
        _check_int("timestamp", timestamp)
        options = _expire_options(nx, xx, gt, lt)
        return self._execute_converted(bool, b"PEXPIREAT", key, timestamp, *options)

    def pexpiretime(self, key: Key) -> Reply[int]:
        """The UNIX time in milliseconds at which ``key`` expires; -1 or -2 as :meth:`expiretime`."""
        return self.execute(b"PEXPIRETIME", key)

    def pttl(self, key: Key) -> Reply[int]:
        """Time to live of ``key`` in milliseconds; -1 without expiry, -2 if missing."""
        return self.execute(b"PTTL", key)

    def randomkey(self, *, encoding: Optional[str] = _NOTSET) -> Reply[Optional[Value]]:
        """A random key of the database, or None if it is empty."""
        return self.execute(b"RANDOMKEY", encoding=encoding)

    def rename(self, key: Key, newkey: Key) -> Reply[bool]:
        """Rename ``key`` to ``newkey`` (ValueError if they are equal); True when done."""
        if key == newkey:
            raise ValueError("key and newkey are the same")
        return self._execute_converted(reply_is_ok, b"RENAME", key, newkey)

    def renamenx(self, key: Key, newkey: Key) -> Reply[bool]:
        """Rename ``key`` to ``newkey`` only if ``newkey`` does not exist; True if renamed."""
        if key == newkey:
            raise ValueError("key and newkey are the same")
        return self._execute_converted(bool, b"RENAMENX", key, newkey)

    def restore(self, key: Key, ttl: int, value: bytes) -> Reply[Value]:
        """Create ``key`` from a :meth:`dump` payload, expiring in ``ttl`` ms (0: never); replies OK."""
        return self.execute(b"RESTORE", key, ttl, value)

    def scan(self, cursor: Arg = 0, match: Optional[Arg] = None,
             count: Optional[int] = None) -> Reply[Tuple[int, List[Value]]]:
        """One step of iterating the keyspace: ``(next_cursor, keys)``; done when the cursor is 0.

        >>> cur = b'0'
        >>> while cur:
        ...     cur, keys = await redis.scan(cur, match='user:*')
        """
        args = []
        if match is not None:
            args += [b"MATCH", match]
        if count is not None:
            args += [b"COUNT", count]
        return self._execute_converted(_scan_reply, b"SCAN", cursor, *args)

    def iscan(self, *, match: Optional[Arg] = None, count: Optional[int] = None) -> AsyncIterator[Value]:
        """Iterate the keyspace with ``async for``, scanning page by page."""
        return _ScanIter(lambda cursor: self.scan(cursor, match=match, count=count))

    def sort(self, key: Key, *get_patterns: Arg, by: Optional[Arg] = None, offset: Optional[int] = None,
             count: Optional[int] = None, asc: Optional[Union[bool, str, bytes]] = None, alpha: bool = False,
             store: Optional[Arg] = None) -> Reply[Any]:
        """Sort a list, set or sorted set; with ``store`` the result is saved there and its length returned.

        ``offset`` and ``count`` (LIMIT) apply only when both are given; ``asc=False`` sorts
        descending.
        """
        args = []
        if by is not None:
            args += [b"BY", by]
        if offset is not None and count is not None:
            args += [b"LIMIT", offset, count]
        for pattern in get_patterns:
            args += [b"GET", pattern]
        if asc is not None:
            args.append(_sort_order(asc))
        if alpha:
            args.append(b"ALPHA")
        if store is not None:
            args += [b"STORE", store]
        return self.execute(b"SORT", key, *args)

    def touch(self, key: Key, *keys: Key) -> Reply[int]:
        """Update the last access time of keys; returns how many exist."""
        return self.execute(b"TOUCH", key, *keys)

    def ttl(self, key: Key) -> Reply[int]:
        """Time to live of ``key`` in seconds; -1 without expiry, -2 if missing."""
        return self.execute(b"TTL", key)

    def type(self, key: Key) -> Reply[Value]:
        """The type of the value at ``key`` (``b'string'``, ``b'list'``, ...; ``b'none'`` if missing)."""
        return self.execute(b"TYPE", key)

    def unlink(self, key: Key, *keys: Key) -> Reply[int]:
        """Delete keys, reclaiming memory in the background; returns how many existed."""
        return self.execute(b"UNLINK", key, *keys)

    def wait(self, numslaves: int, timeout: int) -> Reply[int]:
        """Wait until ``numslaves`` replicas acknowledged this connection's writes, or ``timeout`` ms.

        Returns the number of replicas that did.
        """
        _check_int("numslaves", numslaves, 0)
        _check_int("timeout", timeout, 0)
        return self.execute(b"WAIT", numslaves, timeout)

    def waitaof(self, numlocal: int, numreplicas: int, timeout: int) -> Reply[List[int]]:
        """Wait until this connection's writes are fsynced to the AOF of the server itself
        (``numlocal``, 0 or 1) and of ``numreplicas`` replicas, or ``timeout`` ms (Redis 7.2+).

        Returns ``[local, replicas]``: how many did.
        """
        _check_int("numlocal", numlocal, 0)
        _check_int("numreplicas", numreplicas, 0)
        _check_int("timeout", timeout, 0)
        return self.execute(b"WAITAOF", numlocal, numreplicas, timeout)
