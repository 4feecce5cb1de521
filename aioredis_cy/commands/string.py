"""String and bit commands (``GET``, ``SET``, ``INCR*``, ``BIT*``, ``LCS``, ...).

Replies are passed through as they come (bytes, int or None; str when an encoding
applies) except where aioredis 1.x converted them: status replies become ``True``,
``INCRBYFLOAT`` a ``float`` and ``SETNX`` a ``bool``.
"""
from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from typing import Any, List, Literal, Optional, Sequence, Union, overload

from .._typing import Arg, CommandsBase, Key, Reply, Value
from ..util import _NOTSET, reply_is_ok
from ._checks import _check_int, _check_number, _option

__all__ = ["StringCommandsMixin"]

# The protocol word of each expiry option of SET and GETEX. Flags stand alone;
# the others take an integer argument.
_EXPIRY = {
    "expire": b"EX",
    "pexpire": b"PX",
    "ex": b"EX",
    "px": b"PX",
    "exat": b"EXAT",
    "pxat": b"PXAT",
    "keepttl": b"KEEPTTL",
    "persist": b"PERSIST",
}
_EXPIRY_FLAGS = frozenset(("keepttl", "persist"))

# BITFIELD sub-commands and how many words each one takes (its name included).
_BITFIELD_ARITY = {"GET": 3, "SET": 4, "INCRBY": 4, "OVERFLOW": 2}
_BITFIELD_OVERFLOW = frozenset(("WRAP", "SAT", "FAIL"))


def _expiry_args(**options):
    """Arguments for the one expiry option given (None = not given); ValueError for several."""
    given = [(name, value) for name, value in options.items() if value is not None]
    if len(given) > 1:
        names = ", ".join(name for name, _ in given)
        raise ValueError(f"expiry options are mutually exclusive, got {names}")
    if not given:
        return []
    name, value = given[0]
    if name in _EXPIRY_FLAGS:
        return [_EXPIRY[name]]
    _check_int(name, value)
    return [_EXPIRY[name], value]


def _check_int_as_1x(name, value):
    """TypeError unless ``value`` is an int, worded as 1.x words it (code matches on it)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be of type int, got {value!r}")


def _word(value):
    """A bytes/str protocol word, upper-cased as str (None when it is neither)."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.upper() if isinstance(value, str) else None


def _bitfield_args(operations, allowed):
    """Flatten BITFIELD operation tuples after checking their names and lengths."""
    if not operations:
        raise TypeError("at least one operation is required")
    args = []
    for operation in operations:
        if not isinstance(operation, (tuple, list)) or not operation:
            raise TypeError(f"each operation must be a non-empty tuple, got {operation!r}")
        name = _word(operation[0])
        if name not in allowed:
            raise ValueError(f"invalid operation {operation[0]!r}, expected one of {', '.join(allowed)}")
        if len(operation) != _BITFIELD_ARITY[name]:
            raise TypeError(f"{name} takes {_BITFIELD_ARITY[name] - 1} arguments, got {operation!r}")
        if name == "OVERFLOW" and _word(operation[1]) not in _BITFIELD_OVERFLOW:
            raise ValueError(f"invalid OVERFLOW behaviour {operation[1]!r}, expected WRAP, SAT or FAIL")
        args.extend(operation)
    return args


def _check_bit(name, value):
    if isinstance(value, bool) or value not in (0, 1) or not isinstance(value, int):
        raise ValueError(f"{name} argument must be either 1 or 0, got {value!r}")


def _lcs_idx(reply):
    """``[b'matches', [[[s1, e1], [s2, e2](, len)], ...], b'len', n]`` -> ``(matches, n)``.

    Each match becomes ``((s1, e1), (s2, e2))``, plus its length when WITHMATCHLEN was asked.
    """
    matches = [(tuple(match[0]), tuple(match[1]), *match[2:]) for match in reply[1]]
    return matches, reply[3]


class StringCommandsMixin(CommandsBase):
    """String commands mixin (https://redis.io/commands/#string)."""

    SET_IF_NOT_EXIST = "SET_IF_NOT_EXIST"  # NX
    SET_IF_EXIST = "SET_IF_EXIST"  # XX

    # -- reading and writing values ----------------------------------------

    def append(self, key: Key, value: Arg) -> Reply[int]:
        """Append ``value`` to the string at ``key``; returns the new length."""
        return self.execute(b"APPEND", key, value)

    def get(self, key: Key, *, encoding: Optional[str] = _NOTSET) -> Reply[Optional[Value]]:
        """The value of ``key``, or None."""
        return self.execute(b"GET", key, encoding=encoding)

    def getdel(self, key: Key, *, encoding: Optional[str] = _NOTSET) -> Reply[Optional[Value]]:
        """Return the value of ``key`` (or None) and delete the key (Redis 6.2+)."""
        return self.execute(b"GETDEL", key, encoding=encoding)

    def getex(self, key: Key, *, ex: Optional[int] = None, px: Optional[int] = None,
              exat: Optional[int] = None, pxat: Optional[int] = None, persist: bool = False,
              encoding: Optional[str] = _NOTSET) -> Reply[Optional[Value]]:
        """Return the value of ``key`` (or None) and change its expiry (Redis 6.2+).

        At most one of ``ex`` (seconds), ``px`` (milliseconds), ``exat`` (unix time in
        seconds), ``pxat`` (unix time in milliseconds) and ``persist`` (drop the expiry).

        :raises TypeError: a time is not int
        :raises ValueError: more than one option given
        """
        args = _expiry_args(ex=ex, px=px, exat=exat, pxat=pxat, persist=persist or None)
        return self.execute(b"GETEX", key, *args, encoding=encoding)

    def getrange(self, key: Key, start: int, end: int, *, encoding: Optional[str] = _NOTSET) -> Reply[Value]:
        """The substring between byte offsets ``start`` and ``end`` (both inclusive).

        :raises TypeError: start or end is not int
        """
        _check_int("start", start)
        _check_int("end", end)
        return self.execute(b"GETRANGE", key, start, end, encoding=encoding)

    def getset(self, key: Key, value: Arg, *, encoding: Optional[str] = _NOTSET) -> Reply[Optional[Value]]:
        """Set ``key`` to ``value``, returning the old value (or None)."""
        return self.execute(b"GETSET", key, value, encoding=encoding)

    def mget(self, key: Key, *keys: Key, encoding: Optional[str] = _NOTSET) -> Reply[List[Optional[Value]]]:
        """Values of all the given keys, as a list (None for a missing key)."""
        return self.execute(b"MGET", key, *keys, encoding=encoding)

    def mset(self, *args: Any) -> Reply[bool]:
        """Set several keys: ``mset(k1, v1, k2, v2, ...)`` or ``mset({k1: v1, ...})``.

        :raises TypeError: no arguments, a single argument that is not a mapping, or an odd count
        :raises ValueError: an empty mapping
        """
        if not args:
            raise TypeError("mset needs a mapping or key/value pairs")
        if len(args) == 1:
            if not isinstance(args[0], Mapping):
                raise TypeError("a single argument must be a mapping")
            if not args[0]:
                raise ValueError("the mapping is empty: nothing to set")
            args = tuple(chain.from_iterable(args[0].items()))
        elif len(args) % 2 != 0:
            raise TypeError("length of pairs must be even number")
        return self._execute_converted(reply_is_ok, b"MSET", *args)

    def msetnx(self, key: Key, value: Arg, *pairs: Arg) -> Reply[int]:
        """Set several keys only if none of them exists; returns 1 if set, 0 if not.

        :raises TypeError: pairs has an odd length
        """
        if len(pairs) % 2 != 0:
            raise TypeError("length of pairs must be even number")
        return self.execute(b"MSETNX", key, value, *pairs)

    # ``get=True`` returns the old value instead of a bool.
    @overload
    def set(self, key: Key, value: Arg, *, expire: float = ..., pexpire: int = ...,
            exist: Optional[str] = ..., get: Literal[False] = ..., keepttl: bool = ...,
            exat: Optional[int] = ..., pxat: Optional[int] = ...,
            encoding: Optional[str] = ...) -> Reply[bool]: ...

    @overload
    def set(self, key: Key, value: Arg, *, expire: float = ..., pexpire: int = ...,
            exist: Optional[str] = ..., get: Literal[True], keepttl: bool = ...,
            exat: Optional[int] = ..., pxat: Optional[int] = ...,
            encoding: Optional[str] = ...) -> Reply[Optional[Value]]: ...

    @overload
    def set(self, key: Key, value: Arg, *, expire: float = ..., pexpire: int = ...,
            exist: Optional[str] = ..., get: bool, keepttl: bool = ...,
            exat: Optional[int] = ..., pxat: Optional[int] = ...,
            encoding: Optional[str] = ...) -> Reply[Union[bool, Value, None]]: ...

    def set(
        self,
        key: Key,
        value: Arg,
        *,
        expire: float = 0,
        pexpire: int = 0,
        exist: Optional[str] = None,
        get: bool = False,
        keepttl: bool = False,
        exat: Optional[int] = None,
        pxat: Optional[int] = None,
        encoding: Optional[str] = _NOTSET,
    ) -> Reply[Union[bool, Value, None]]:
        """Set ``key`` to ``value``; returns True, or False when ``exist`` stopped it.

        ``expire``/``pexpire`` set a time to live in seconds/milliseconds (0 = none),
        ``exat``/``pxat`` an absolute unix time in seconds/milliseconds and ``keepttl``
        keeps the current one (at most one of these). ``exist`` is ``SET_IF_EXIST`` (XX)
        or ``SET_IF_NOT_EXIST`` (NX). With ``get`` the reply is the old value (or None)
        instead of a bool, decoded with ``encoding``.

        :raises TypeError: a time is not int
        :raises ValueError: several expiry options, or an unknown ``exist``
        """
        if not (expire or pexpire or exist or get or keepttl) and exat is None and pxat is None:
            # The common case, fast; OK needs no decoding.
            return self._execute_converted(reply_is_ok, b"SET", key, value)
        args = _expiry_args(
            expire=expire or None,
            pexpire=pexpire or None,
            exat=exat,
            pxat=pxat,
            keepttl=keepttl or None,
        )
        if exist is not None:
            args.append(_option(_SET_EXIST, "exist", exist))
        if get:
            return self.execute(b"SET", key, value, *args, b"GET", encoding=encoding)
        return self._execute_converted(reply_is_ok, b"SET", key, value, *args, encoding=encoding)

    def setex(self, key: Key, seconds: float, value: Arg) -> Reply[bool]:
        """Set ``key`` with a time to live; a float ``seconds`` goes through :meth:`psetex`.

        :raises TypeError: seconds is neither int nor float
        """
        if isinstance(seconds, float):
            return self.psetex(key, int(seconds * 1000), value)
        _check_int("seconds", seconds)
        return self._execute_converted(reply_is_ok, b"SETEX", key, seconds, value)

    def psetex(self, key: Key, milliseconds: int, value: Arg) -> Reply[bool]:
        """Set ``key`` with a time to live in milliseconds.

        :raises TypeError: milliseconds is not int
        """
        _check_int("milliseconds", milliseconds)
        return self._execute_converted(reply_is_ok, b"PSETEX", key, milliseconds, value)

    def setnx(self, key: Key, value: Arg) -> Reply[bool]:
        """Set ``key`` only if it does not exist; returns whether it was set."""
        return self._execute_converted(bool, b"SETNX", key, value)

    def setrange(self, key: Key, offset: int, value: Arg) -> Reply[int]:
        """Overwrite the string at ``key`` from byte ``offset``; returns the new length.

        :raises TypeError: offset is not int
        :raises ValueError: offset is negative
        """
        _check_int("offset", offset, 0)
        return self.execute(b"SETRANGE", key, offset, value)

    def strlen(self, key: Key) -> Reply[int]:
        """Length of the string at ``key`` (0 if missing)."""
        return self.execute(b"STRLEN", key)

    def lcs(self, key1: Key, key2: Key, *, length: bool = False, idx: bool = False,
            minmatchlen: Optional[int] = None, withmatchlen: bool = False,
            encoding: Optional[str] = _NOTSET) -> Reply[Any]:
        """Longest common subsequence of two strings (Redis 7.0+).

        Returns the subsequence itself; with ``length`` only its length; with ``idx`` a
        ``(matches, length)`` tuple where each match is ``((start1, end1), (start2, end2))``
        (byte ranges in ``key1`` and ``key2``, longest first), extended with the match
        length when ``withmatchlen`` is set. ``minmatchlen`` drops shorter matches.

        :raises ValueError: both length and idx, or idx options without idx
        """
        if length and idx:
            raise ValueError("length and idx are mutually exclusive (idx includes the length)")
        if not idx:
            if minmatchlen is not None or withmatchlen:
                raise ValueError("minmatchlen and withmatchlen need idx")
            args: List[Arg] = [b"LEN"] if length else []
            return self.execute(b"LCS", key1, key2, *args, encoding=encoding)
        args = [b"IDX"]
        if minmatchlen is not None:
            _check_int("minmatchlen", minmatchlen, 0)
            args += [b"MINMATCHLEN", minmatchlen]
        if withmatchlen:
            args.append(b"WITHMATCHLEN")
        return self._execute_converted(_lcs_idx, b"LCS", key1, key2, *args, encoding=encoding)

    # -- counters ------------------------------------------------------------

    def incr(self, key: Key) -> Reply[int]:
        """Add 1 to the integer at ``key``; returns the new value."""
        return self.execute(b"INCR", key)

    def incrby(self, key: Key, increment: int) -> Reply[int]:
        """Add ``increment`` to the integer at ``key``; returns the new value.

        :raises TypeError: increment is not int
        """
        _check_int_as_1x("increment", increment)
        return self.execute(b"INCRBY", key, increment)

    def incrbyfloat(self, key: Key, increment: float) -> Reply[float]:
        """Add ``increment`` to the number at ``key``; returns the new value as a float.

        :raises TypeError: increment is not int or float (1.x refused int too)
        """
        _check_number("increment", increment)
        return self._execute_converted(float, b"INCRBYFLOAT", key, increment)

    def decr(self, key: Key) -> Reply[int]:
        """Subtract 1 from the integer at ``key``; returns the new value."""
        return self.execute(b"DECR", key)

    def decrby(self, key: Key, decrement: int) -> Reply[int]:
        """Subtract ``decrement`` from the integer at ``key``; returns the new value.

        :raises TypeError: decrement is not int
        """
        _check_int_as_1x("decrement", decrement)
        return self.execute(b"DECRBY", key, decrement)

    # -- bits ----------------------------------------------------------------

    def bitcount(self, key: Key, start: Optional[int] = None, end: Optional[int] = None) -> Reply[int]:
        """Number of set bits, optionally between byte offsets ``start`` and ``end``.

        :raises TypeError: only one of start and end given, or not int
        """
        if (start is None) != (end is None):
            raise TypeError("both start and stop must be specified")
        args: List[Any] = []
        if start is not None:
            _check_int("start", start)
            _check_int("end", end)
            args = [start, end]
        return self.execute(b"BITCOUNT", key, *args)

    def bitpos(self, key: Key, bit: int, start: Optional[int] = None,
               end: Optional[int] = None) -> Reply[int]:
        """Position of the first bit equal to ``bit``, optionally within a byte range
        (``end`` alone searches from byte 0).

        :raises ValueError: bit is not 0 or 1
        :raises TypeError: start or end is not int
        """
        _check_bit("bit", bit)
        if start is None and end is not None:
            start = 0
        args = []
        for name, value in (("start", start), ("end", end)):
            if value is not None:
                _check_int(name, value)
                args.append(value)
        return self.execute(b"BITPOS", key, bit, *args)

    def getbit(self, key: Key, offset: int) -> Reply[int]:
        """The bit at ``offset`` (0 past the end of the string).

        :raises TypeError: offset is not int
        :raises ValueError: offset is negative
        """
        _check_int("offset", offset, 0)
        return self.execute(b"GETBIT", key, offset)

    def setbit(self, key: Key, offset: int, value: int) -> Reply[int]:
        """Set or clear the bit at ``offset``; returns the previous bit.

        :raises TypeError: offset is not int
        :raises ValueError: offset is negative or value is not 0 or 1
        """
        _check_int("offset", offset, 0)
        _check_bit("value", value)
        return self.execute(b"SETBIT", key, offset, value)

    def bitop_and(self, dest: Key, key: Key, *keys: Key) -> Reply[int]:
        """Store the bitwise AND of the strings in ``dest``; returns its length."""
        return self.execute(b"BITOP", b"AND", dest, key, *keys)

    def bitop_or(self, dest: Key, key: Key, *keys: Key) -> Reply[int]:
        """Store the bitwise OR of the strings in ``dest``; returns its length."""
        return self.execute(b"BITOP", b"OR", dest, key, *keys)

    def bitop_xor(self, dest: Key, key: Key, *keys: Key) -> Reply[int]:
        """Store the bitwise XOR of the strings in ``dest``; returns its length."""
        return self.execute(b"BITOP", b"XOR", dest, key, *keys)

    def bitop_not(self, dest: Key, key: Key) -> Reply[int]:
        """Store the bitwise NOT of the string at ``key`` in ``dest``; returns its length."""
        return self.execute(b"BITOP", b"NOT", dest, key)

    def bitfield(self, key: Key, *operations: Sequence[Any]) -> Reply[List[Optional[int]]]:
        """Run BITFIELD sub-commands on ``key``; returns a list with one reply per
        GET/SET/INCRBY (None where ``OVERFLOW FAIL`` stopped an update).

        Each operation is a tuple of protocol words: ``("GET", "u8", 0)``,
        ``("SET", "i5", "#1", 10)``, ``("INCRBY", "u4", 100, 1)``, ``("OVERFLOW", "SAT")``.

        :raises TypeError: no operation, or one with the wrong number of words
        :raises ValueError: an unknown operation or overflow behaviour
        """
        return self.execute(b"BITFIELD", key, *_bitfield_args(operations, _BITFIELD_ARITY))

    def bitfield_ro(self, key: Key, *operations: Sequence[Any]) -> Reply[List[Optional[int]]]:
        """Read-only :meth:`bitfield` (only ``GET`` operations), allowed on replicas (Redis 6.0+)."""
        return self.execute(b"BITFIELD_RO", key, *_bitfield_args(operations, ("GET",)))


_SET_EXIST = {
    StringCommandsMixin.SET_IF_EXIST: b"XX",
    StringCommandsMixin.SET_IF_NOT_EXIST: b"NX",
}
