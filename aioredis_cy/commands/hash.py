"""Hash commands (``H*``).

``HGETALL`` becomes a dict, ``HSCAN`` and ``HRANDFIELD ... WITHVALUES`` lists of
``(field, value)`` tuples, ``HEXISTS`` a bool and ``HINCRBYFLOAT`` a float; other
replies are passed through.
"""
from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

from .._typing import Arg, CommandsBase, Key, Reply, Value
from ..util import _NOTSET, _ScanIter, pairs_to_dict, reply_is_ok
from ._checks import _check_int
from .set import _scan_args

__all__ = ["HashCommandsMixin"]


def _pairs(flat):
    """``[f1, v1, f2, v2, ...]`` -> ``[(f1, v1), (f2, v2), ...]``."""
    it = iter(flat)
    return list(zip(it, it))


def _scan_pairs(reply):
    """``[cursor, [f1, v1, ...]]`` -> ``(int cursor, [(f1, v1), ...])``."""
    return int(reply[0]), _pairs(reply[1])


class HashCommandsMixin(CommandsBase):
    """Hash commands mixin (https://redis.io/commands/#hash)."""

    def hdel(self, key: Key, field: Arg, *fields: Arg) -> Reply[int]:
        """Delete fields; returns how many existed."""
        return self.execute(b"HDEL", key, field, *fields)

    def hexists(self, key: Key, field: Arg) -> Reply[bool]:
        """Whether ``field`` exists in the hash."""
        return self._execute_converted(bool, b"HEXISTS", key, field)

    def hget(self, key: Key, field: Arg, *, encoding: Optional[str] = _NOTSET) -> Reply[Optional[Value]]:
        """The value of ``field``, or None."""
        return self.execute(b"HGET", key, field, encoding=encoding)

    def hgetall(self, key: Key, *, encoding: Optional[str] = _NOTSET) -> Reply[Dict[Value, Value]]:
        """All fields and values as a dict (empty if the key is missing)."""
        return self._execute_converted(pairs_to_dict, b"HGETALL", key, encoding=encoding)

    def hincrby(self, key: Key, field: Arg, increment: int = 1) -> Reply[int]:
        """Add ``increment`` to the integer in ``field``; returns the new value.

        The server judges ``increment`` (a float gets its ReplyError, as in 1.x).
        """
        return self.execute(b"HINCRBY", key, field, increment)

    def hincrbyfloat(self, key: Key, field: Arg, increment: float = 1.0) -> Reply[float]:
        """Add ``increment`` to the number in ``field``; returns the new value as a float."""
        return self._execute_converted(float, b"HINCRBYFLOAT", key, field, increment)

    def hkeys(self, key: Key, *, encoding: Optional[str] = _NOTSET) -> Reply[List[Value]]:
        """All field names, as a list."""
        return self.execute(b"HKEYS", key, encoding=encoding)

    def hlen(self, key: Key) -> Reply[int]:
        """Number of fields in the hash."""
        return self.execute(b"HLEN", key)

    def hmget(self, key: Key, field: Arg, *fields: Arg,
              encoding: Optional[str] = _NOTSET) -> Reply[List[Optional[Value]]]:
        """Values of the given fields, as a list (None for a missing field)."""
        return self.execute(b"HMGET", key, field, *fields, encoding=encoding)

    def hmset(self, key: Key, field: Arg, value: Arg, *pairs: Arg) -> Reply[bool]:
        """Set several fields (``field, value, field, value, ...``); returns True.

        :raises TypeError: pairs has an odd length
        """
        if len(pairs) % 2 != 0:
            raise TypeError("length of pairs must be even number")
        return self._execute_converted(reply_is_ok, b"HMSET", key, field, value, *pairs)

    def hmset_dict(self, key: Key, *args: Mapping[Key, Arg], **kwargs: Arg) -> Reply[bool]:
        """Set several fields from a mapping and/or keyword arguments; returns True.

        ``hmset_dict(key, {"a": 1}, b=2)``: a keyword argument wins over the same
        field in the mapping.

        :raises TypeError: nothing given, more than one positional argument, or not a mapping
        :raises ValueError: only an empty mapping given
        """
        if not args and not kwargs:
            raise TypeError("args or kwargs must be specified")
        if len(args) > 1:
            raise TypeError("only one positional argument (a mapping) is allowed")
        mapping = args[0] if args else {}
        if not isinstance(mapping, Mapping):
            raise TypeError(f"args[0] must be a mapping, got {type(mapping).__name__}")
        if not mapping and not kwargs:
            raise ValueError("args[0] is an empty mapping: nothing to set")
        pairs = chain.from_iterable(chain(mapping.items(), kwargs.items()))
        return self._execute_converted(reply_is_ok, b"HMSET", key, *pairs)

    def hset(self, key: Key, field: Arg, value: Arg) -> Reply[int]:
        """Set ``field`` to ``value``; returns 1 if the field is new, 0 if it was updated."""
        return self.execute(b"HSET", key, field, value)

    def hsetnx(self, key: Key, field: Arg, value: Arg) -> Reply[int]:
        """Set ``field`` only if it does not exist; returns 1 if set, 0 if not."""
        return self.execute(b"HSETNX", key, field, value)

    def hstrlen(self, key: Key, field: Arg) -> Reply[int]:
        """Length of the value of ``field`` (0 if missing)."""
        return self.execute(b"HSTRLEN", key, field)

    def hvals(self, key: Key, *, encoding: Optional[str] = _NOTSET) -> Reply[List[Value]]:
        """All values, as a list."""
        return self.execute(b"HVALS", key, encoding=encoding)

    def hrandfield(self, key: Key, count: Optional[int] = None, *, withvalues: bool = False,
                   encoding: Optional[str] = _NOTSET) -> Reply[Any]:
        """Random fields (Redis 6.2+).

        Without ``count``: one field, or None if the key is missing. With ``count``: a
        list of up to ``count`` distinct fields (a negative ``count`` allows repeats and
        returns exactly ``-count``); ``withvalues`` gives ``(field, value)`` tuples.

        :raises TypeError: count is not int
        :raises ValueError: withvalues without count
        """
        if count is None:
            if withvalues:
                raise ValueError("withvalues needs count")
            return self.execute(b"HRANDFIELD", key, encoding=encoding)
        _check_int("count", count)
        if not withvalues:
            return self.execute(b"HRANDFIELD", key, count, encoding=encoding)
        return self._execute_converted(_pairs, b"HRANDFIELD", key, count, b"WITHVALUES", encoding=encoding)

    def hscan(self, key: Key, cursor: Arg = 0, match: Optional[Arg] = None,
              count: Optional[int] = None) -> Reply[Tuple[int, List[Tuple[Value, Value]]]]:
        """One HSCAN step: ``(next_cursor, [(field, value), ...])``; cursor 0 ends the scan."""
        return self._execute_converted(_scan_pairs, b"HSCAN", key, cursor, *_scan_args(match, count))

    def ihscan(self, key: Key, *, match: Optional[Arg] = None,
               count: Optional[int] = None) -> AsyncIterator[Tuple[Value, Value]]:
        """Iterate ``(field, value)`` pairs with ``async for``, scanning on demand."""
        return _ScanIter(lambda cursor: self.hscan(key, cursor, match=match, count=count))
