"""List commands (``L*``, ``R*``, ``BL*``, ``BR*``).

Replies are passed through (``LTRIM`` becomes ``True``) except ``LMPOP``/``BLMPOP``,
which become ``(key, [elements])`` tuples. Blocking commands take their ``timeout``
in seconds (0 = forever, floats allowed) and reply None when it expires; a pool
runs them on a connection of their own.
"""
from __future__ import annotations

from typing import Any, List, Optional, Tuple

from .._typing import Arg, CommandsBase, Key, Reply, Value
from ..util import _NOTSET, reply_is_ok
from ._checks import _check_int, _check_timeout
from .string import _word

__all__ = ["ListCommandsMixin"]

_DIRECTIONS = ("LEFT", "RIGHT")


def _direction(name, value):
    """``b'LEFT'``/``b'RIGHT'`` for a str/bytes direction in any case; ValueError otherwise."""
    word = _word(value)
    if word in _DIRECTIONS:
        return word.encode("ascii")
    raise ValueError(f"{name} argument must be 'LEFT' or 'RIGHT', got {value!r}")


def _mpop_args(key, keys, where, count):
    """``numkeys key... LEFT|RIGHT [COUNT n]`` for LMPOP and BLMPOP."""
    args = [1 + len(keys), key, *keys, _direction("where", where)]
    if count is not None:
        _check_int("count", count, 1)
        args += [b"COUNT", count]
    return args


def _mpop_reply(reply):
    """``[key, [elements]]`` -> ``(key, [elements])``; None (nothing popped) stays None."""
    return None if reply is None else (reply[0], reply[1])



def _pop_count(count):
    """``[count]`` for LPOP/RPOP (not in 1.x, so checked here), or ``[]`` when it is None."""
    if count is None:
        return []
    _check_int("count", count, 0)
    return [count]

class ListCommandsMixin(CommandsBase):
    """List commands mixin (https://redis.io/commands/#list)."""

    # -- blocking pops ---------------------------------------------------------

    def blpop(self, key: Key, *keys: Key, timeout: float = 0,
              encoding: Optional[str] = _NOTSET) -> Reply[Optional[List[Value]]]:
        """Pop the first element of the first non-empty list, waiting up to ``timeout``.

        Returns ``[key, element]``, or None on timeout.

        :raises TypeError: timeout is not a number
        :raises ValueError: timeout is negative
        """
        _check_timeout(timeout)
        return self.execute(b"BLPOP", key, *keys, timeout, encoding=encoding)

    def brpop(self, key: Key, *keys: Key, timeout: float = 0,
              encoding: Optional[str] = _NOTSET) -> Reply[Optional[List[Value]]]:
        """Pop the last element of the first non-empty list, waiting up to ``timeout``.

        Returns ``[key, element]``, or None on timeout.

        :raises TypeError: timeout is not a number
        :raises ValueError: timeout is negative
        """
        _check_timeout(timeout)
        return self.execute(b"BRPOP", key, *keys, timeout, encoding=encoding)

    def brpoplpush(self, sourcekey: Key, destkey: Key, timeout: float = 0,
                   encoding: Optional[str] = _NOTSET) -> Reply[Optional[Value]]:
        """Blocking :meth:`rpoplpush`: the moved element, or None on timeout.

        :raises TypeError: timeout is not a number
        :raises ValueError: timeout is negative
        """
        _check_timeout(timeout)
        return self.execute(b"BRPOPLPUSH", sourcekey, destkey, timeout, encoding=encoding)

    def blmove(self, sourcekey: Key, destkey: Key, wherefrom: str, whereto: str, timeout: float = 0, *,
               encoding: Optional[str] = _NOTSET) -> Reply[Optional[Value]]:
        """Blocking :meth:`lmove` (Redis 6.2+): the moved element, or None on timeout.

        :raises TypeError: timeout is not a number
        :raises ValueError: timeout is negative, or a direction is not LEFT/RIGHT
        """
        args = (_direction("wherefrom", wherefrom), _direction("whereto", whereto))
        _check_timeout(timeout)
        return self.execute(b"BLMOVE", sourcekey, destkey, *args, timeout, encoding=encoding)

    def blmpop(self, key: Key, *keys: Key, timeout: float = 0, where: str = "LEFT",
               count: Optional[int] = None,
               encoding: Optional[str] = _NOTSET) -> Reply[Optional[Tuple[Value, List[Value]]]]:
        """Blocking :meth:`lmpop` (Redis 7.0+): ``(key, [elements])``, or None on timeout.

        :raises TypeError: timeout or count is not a number
        :raises ValueError: timeout is negative, count below 1, or where is not LEFT/RIGHT
        """
        _check_timeout(timeout)
        args = _mpop_args(key, keys, where, count)
        return self._execute_converted(_mpop_reply, b"BLMPOP", timeout, *args, encoding=encoding)

    # -- pushing, popping, moving ------------------------------------------------

    def lpush(self, key: Key, value: Arg, *values: Arg) -> Reply[int]:
        """Insert values at the head; returns the new length."""
        return self.execute(b"LPUSH", key, value, *values)

    def lpushx(self, key: Key, value: Arg) -> Reply[int]:
        """:meth:`lpush` only if the list exists; returns the new length (0 if missing)."""
        return self.execute(b"LPUSHX", key, value)

    def rpush(self, key: Key, value: Arg, *values: Arg) -> Reply[int]:
        """Append values at the tail; returns the new length."""
        return self.execute(b"RPUSH", key, value, *values)

    def rpushx(self, key: Key, value: Arg) -> Reply[int]:
        """:meth:`rpush` only if the list exists; returns the new length (0 if missing)."""
        return self.execute(b"RPUSHX", key, value)

    def lpop(self, key: Key, *, count: Optional[int] = None, encoding: Optional[str] = _NOTSET) -> Reply[Any]:
        """Remove and return the first element (or None).

        With ``count`` (Redis 6.2+): a list of up to ``count`` elements, or None if the
        key is missing.

        :raises TypeError: count is not int
        :raises ValueError: count is negative
        """
        return self.execute(b"LPOP", key, *_pop_count(count), encoding=encoding)

    def rpop(self, key: Key, *, count: Optional[int] = None, encoding: Optional[str] = _NOTSET) -> Reply[Any]:
        """Remove and return the last element (or None); ``count`` as in :meth:`lpop`."""
        return self.execute(b"RPOP", key, *_pop_count(count), encoding=encoding)

    def rpoplpush(self, sourcekey: Key, destkey: Key, *,
                  encoding: Optional[str] = _NOTSET) -> Reply[Optional[Value]]:
        """Move the last element of ``sourcekey`` to the head of ``destkey``; returns it (or None)."""
        return self.execute(b"RPOPLPUSH", sourcekey, destkey, encoding=encoding)

    def lmove(self, sourcekey: Key, destkey: Key, wherefrom: str, whereto: str, *,
              encoding: Optional[str] = _NOTSET) -> Reply[Optional[Value]]:
        """Move an element from the ``wherefrom`` end of ``sourcekey`` to the ``whereto``
        end of ``destkey`` (each ``'LEFT'`` or ``'RIGHT'``) (Redis 6.2+).

        Returns the moved element, or None if the source is empty.

        :raises ValueError: a direction is not LEFT/RIGHT
        """
        args = (_direction("wherefrom", wherefrom), _direction("whereto", whereto))
        return self.execute(b"LMOVE", sourcekey, destkey, *args, encoding=encoding)

    def lmpop(self, key: Key, *keys: Key, where: str = "LEFT", count: Optional[int] = None,
              encoding: Optional[str] = _NOTSET) -> Reply[Optional[Tuple[Value, List[Value]]]]:
        """Pop up to ``count`` (default 1) elements from the ``where`` end (``'LEFT'`` or
        ``'RIGHT'``) of the first non-empty list (Redis 7.0+).

        Returns ``(key, [elements])``, or None when every list is empty.

        :raises TypeError: count is not int
        :raises ValueError: count below 1, or where is not LEFT/RIGHT
        """
        args = _mpop_args(key, keys, where, count)
        return self._execute_converted(_mpop_reply, b"LMPOP", *args, encoding=encoding)

    # -- reading and editing -------------------------------------------------------

    def lindex(self, key: Key, index: int, *, encoding: Optional[str] = _NOTSET) -> Reply[Optional[Value]]:
        """The element at ``index`` (negative counts from the tail), or None.

        :raises TypeError: index is not int
        """
        _check_int("index", index)
        return self.execute(b"LINDEX", key, index, encoding=encoding)

    def linsert(self, key: Key, pivot: Arg, value: Arg, before: bool = False) -> Reply[int]:
        """Insert ``value`` after (or, with ``before``, before) the first ``pivot``.

        Returns the new length, -1 if ``pivot`` was not found, 0 if the key is missing.
        """
        where = b"BEFORE" if before else b"AFTER"
        return self.execute(b"LINSERT", key, where, pivot, value)

    def llen(self, key: Key) -> Reply[int]:
        """Length of the list (0 if missing)."""
        return self.execute(b"LLEN", key)

    def lpos(self, key: Key, element: Arg, *, rank: Optional[int] = None, count: Optional[int] = None,
             maxlen: Optional[int] = None) -> Reply[Any]:
        """Index of ``element`` in the list, or None (Redis 6.2+).

        ``rank`` picks the n-th match (negative: searching from the tail); with ``count``
        the reply is a list of up to ``count`` indexes (0 = all); ``maxlen`` limits how
        many elements are compared.

        :raises TypeError: rank, count or maxlen is not int
        :raises ValueError: rank is 0, count or maxlen is negative
        """
        args: List[Any] = []
        if rank is not None:
            _check_int("rank", rank)
            if rank == 0:
                raise ValueError("rank must not be 0: 1 is the first match, -1 the last")
            args += [b"RANK", rank]
        if count is not None:
            _check_int("count", count, 0)
            args += [b"COUNT", count]
        if maxlen is not None:
            _check_int("maxlen", maxlen, 0)
            args += [b"MAXLEN", maxlen]
        return self.execute(b"LPOS", key, element, *args)

    def lrange(self, key: Key, start: int, stop: int, *,
               encoding: Optional[str] = _NOTSET) -> Reply[List[Value]]:
        """Elements from index ``start`` to ``stop`` (both inclusive, negative from the tail).

        :raises TypeError: start or stop is not int
        """
        _check_int("start", start)
        _check_int("stop", stop)
        return self.execute(b"LRANGE", key, start, stop, encoding=encoding)

    def lrem(self, key: Key, count: int, value: Arg) -> Reply[int]:
        """Remove ``count`` occurrences of ``value`` (from the tail if negative, all if 0);
        returns how many were removed.

        :raises TypeError: count is not int
        """
        _check_int("count", count)
        return self.execute(b"LREM", key, count, value)

    def lset(self, key: Key, index: int, value: Arg) -> Reply[Value]:
        """Set the element at ``index``; the raw ``OK`` reply, as in aioredis 1.x.

        :raises TypeError: index is not int
        """
        _check_int("index", index)
        return self.execute(b"LSET", key, index, value)

    def ltrim(self, key: Key, start: int, stop: int) -> Reply[bool]:
        """Keep only the elements from ``start`` to ``stop``; returns True.

        :raises TypeError: start or stop is not int
        """
        _check_int("start", start)
        _check_int("stop", stop)
        return self._execute_converted(reply_is_ok, b"LTRIM", key, start, stop)
