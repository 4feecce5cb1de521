"""Set commands (``S*``).

``SSCAN`` becomes ``(cursor, [members])`` and ``SMISMEMBER`` a list of bools; other
replies are passed through (membership tests stay 0/1 as in aioredis 1.x).
"""
from __future__ import annotations

from typing import Any, AsyncIterator, List, Optional, Tuple

from .._typing import Arg, CommandsBase, Key, Reply, Value
from ..util import _NOTSET, _ScanIter
from ._checks import _check_int

__all__ = ["SetCommandsMixin"]


def _scan_args(match, count):
    """``[MATCH pattern] [COUNT n]`` for the ``*SCAN`` commands."""
    args = []
    if match is not None:
        args += [b"MATCH", match]
    if count is not None:
        _check_int("count", count, 1)
        args += [b"COUNT", count]
    return args


def _count_arg(count):
    """``[count]``, or ``[]`` when it is None; the server judges its value (as in 1.x)."""
    return [] if count is None else [count]


def _scan_reply(reply):
    """``[cursor, members]`` -> ``(int cursor, members)``."""
    return int(reply[0]), reply[1]


def _bools(reply):
    return [bool(flag) for flag in reply]


class SetCommandsMixin(CommandsBase):
    """Set commands mixin (https://redis.io/commands/#set)."""

    def sadd(self, key: Key, member: Arg, *members: Arg) -> Reply[int]:
        """Add members; returns how many were new."""
        return self.execute(b"SADD", key, member, *members)

    def scard(self, key: Key) -> Reply[int]:
        """Number of members."""
        return self.execute(b"SCARD", key)

    def sismember(self, key: Key, member: Arg) -> Reply[int]:
        """1 if ``member`` is in the set, else 0."""
        return self.execute(b"SISMEMBER", key, member)

    def smismember(self, key: Key, member: Arg, *members: Arg) -> Reply[List[bool]]:
        """Membership of each given member, as a list of bools (Redis 6.2+)."""
        return self._execute_converted(_bools, b"SMISMEMBER", key, member, *members)

    def smembers(self, key: Key, *, encoding: Optional[str] = _NOTSET) -> Reply[List[Value]]:
        """All members, as a list."""
        return self.execute(b"SMEMBERS", key, encoding=encoding)

    def smove(self, sourcekey: Key, destkey: Key, member: Arg) -> Reply[int]:
        """Move ``member`` between sets; returns 1 if moved, 0 if it was not in the source."""
        return self.execute(b"SMOVE", sourcekey, destkey, member)

    def spop(self, key: Key, count: Optional[int] = None, *, encoding: Optional[str] = _NOTSET) -> Reply[Any]:
        """Remove and return a random member (or None); with ``count``, a list of up to
        ``count`` members.

        """
        return self.execute(b"SPOP", key, *_count_arg(count), encoding=encoding)

    def srandmember(self, key: Key, count: Optional[int] = None, *,
                    encoding: Optional[str] = _NOTSET) -> Reply[Any]:
        """A random member (or None); with ``count``, a list of up to ``count`` distinct
        members (a negative ``count`` allows repeats and returns exactly ``-count``).
        """
        return self.execute(b"SRANDMEMBER", key, *_count_arg(count), encoding=encoding)

    def srem(self, key: Key, member: Arg, *members: Arg) -> Reply[int]:
        """Remove members; returns how many were removed."""
        return self.execute(b"SREM", key, member, *members)

    # -- set algebra ---------------------------------------------------------

    def sdiff(self, key: Key, *keys: Key) -> Reply[List[Value]]:
        """Members of the first set that are in none of the others."""
        return self.execute(b"SDIFF", key, *keys)

    def sdiffstore(self, destkey: Key, key: Key, *keys: Key) -> Reply[int]:
        """Store :meth:`sdiff` in ``destkey``; returns its size."""
        return self.execute(b"SDIFFSTORE", destkey, key, *keys)

    def sinter(self, key: Key, *keys: Key) -> Reply[List[Value]]:
        """Members present in every set."""
        return self.execute(b"SINTER", key, *keys)

    def sinterstore(self, destkey: Key, key: Key, *keys: Key) -> Reply[int]:
        """Store :meth:`sinter` in ``destkey``; returns its size."""
        return self.execute(b"SINTERSTORE", destkey, key, *keys)

    def sintercard(self, key: Key, *keys: Key, limit: Optional[int] = None) -> Reply[int]:
        """Size of the intersection; counting stops at ``limit`` if given (0 = no limit)
        (Redis 7.0+).

        :raises TypeError: limit is not int
        :raises ValueError: limit is negative
        """
        args: List[Any] = []
        if limit is not None:
            _check_int("limit", limit, 0)
            args = [b"LIMIT", limit]
        return self.execute(b"SINTERCARD", 1 + len(keys), key, *keys, *args)

    def sunion(self, key: Key, *keys: Key) -> Reply[List[Value]]:
        """Members present in any of the sets."""
        return self.execute(b"SUNION", key, *keys)

    def sunionstore(self, destkey: Key, key: Key, *keys: Key) -> Reply[int]:
        """Store :meth:`sunion` in ``destkey``; returns its size."""
        return self.execute(b"SUNIONSTORE", destkey, key, *keys)

    # -- scanning ------------------------------------------------------------

    def sscan(self, key: Key, cursor: Arg = 0, match: Optional[Arg] = None,
              count: Optional[int] = None) -> Reply[Tuple[int, List[Value]]]:
        """One SSCAN step: ``(next_cursor, [member, ...])``; cursor 0 ends the scan."""
        return self._execute_converted(_scan_reply, b"SSCAN", key, cursor, *_scan_args(match, count))

    def isscan(self, key: Key, *, match: Optional[Arg] = None,
               count: Optional[int] = None) -> AsyncIterator[Value]:
        """Iterate members with ``async for``, scanning on demand."""
        return _ScanIter(lambda cursor: self.sscan(key, cursor, match=match, count=count))
