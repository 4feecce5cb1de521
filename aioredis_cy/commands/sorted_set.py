"""Sorted set commands (``Z*``, ``BZ*``).

Scores in replies are converted the way aioredis 1.x did: an integral score
comes back as ``int``, any other as ``float`` (``inf`` included), and
``WITHSCORES`` replies become lists of ``(member, score)`` tuples.
"""
from __future__ import annotations

from typing import Any, AsyncIterator, List, Literal, Optional, Tuple, Union, overload

from .._typing import Arg, CommandsBase, Key, Reply, ScoredValues, Value
from ..util import _NOTSET, _ScanIter, wait_convert
from ._checks import _check_int, _check_number, _check_timeout, _is_number, _option

__all__ = ["SortedSetCommandsMixin", "int_or_float", "optional_int_or_float", "pairs_int_or_float"]


def int_or_float(value):
    """A score reply as ``int`` when it is integral, ``float`` otherwise."""
    if isinstance(value, (int, float)):
        return value
    try:
        return int(value)
    except ValueError:
        return float(value)


def optional_int_or_float(value):
    """Like :func:`int_or_float`, keeping ``None`` (missing member)."""
    return None if value is None else int_or_float(value)


def pairs_int_or_float(value):
    """``[m1, s1, m2, s2, ...]`` -> ``[(m1, s1), (m2, s2), ...]`` with converted scores."""
    it = iter(value)
    return [(member, int_or_float(score)) for member, score in zip(it, it)]


def _scores_list(value):
    return [optional_int_or_float(score) for score in value]


def _scan_reply(value):
    return int(value[0]), pairs_int_or_float(value[1])


def _mpop_reply(value):
    """``[key, [[member, score], ...]]`` -> ``(key, [(member, score), ...])``; None stays None."""
    if value is None:
        return None
    key, items = value
    return key, [(member, int_or_float(score)) for member, score in items]


def _limit(offset, count):
    """``LIMIT offset count`` arguments; both or neither must be given."""
    if (offset is None) != (count is None):
        raise TypeError("offset and count must both be specified")
    if offset is None:
        return []
    _check_int("offset", offset)
    _check_int("count", count)
    return [b"LIMIT", offset, count]


def _score_bound(value, exclusive):
    return f"({value}" if exclusive else value


def _lex_bound(name, value, inclusive):
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes):
        raise TypeError(f"{name} argument must be bytes or str, got {value!r}")
    if value in (b"-", b"+"):
        return value
    return (b"[" if inclusive else b"(") + value


def _lex_range(min, max, include_min, include_max):
    return _lex_bound("min", min, include_min), _lex_bound("max", max, include_max)


def _with_scores(fut, withscores):
    return wait_convert(fut, pairs_int_or_float) if withscores else fut


class SortedSetCommandsMixin(CommandsBase):
    """Sorted set commands mixin (https://redis.io/commands/#sorted-set)."""

    ZSET_EXCLUDE_MIN = "ZSET_EXCLUDE_MIN"
    ZSET_EXCLUDE_MAX = "ZSET_EXCLUDE_MAX"
    ZSET_EXCLUDE_BOTH = "ZSET_EXCLUDE_BOTH"

    ZSET_AGGREGATE_SUM = "ZSET_AGGREGATE_SUM"
    ZSET_AGGREGATE_MIN = "ZSET_AGGREGATE_MIN"
    ZSET_AGGREGATE_MAX = "ZSET_AGGREGATE_MAX"

    ZSET_IF_NOT_EXIST = "ZSET_IF_NOT_EXIST"  # NX
    ZSET_IF_EXIST = "ZSET_IF_EXIST"  # XX

    # -- blocking pops ---------------------------------------------------

    def bzpopmax(self, key: Key, *keys: Key, timeout: float = 0,
                 encoding: Optional[str] = _NOTSET) -> Reply[Optional[List[Value]]]:
        """Pop the highest-scored member of the first non-empty set, blocking up to
        ``timeout`` seconds (0 = forever).

        Returns ``[key, member, score]`` as raw replies, or None on timeout.
        """
        _check_timeout(timeout)
        return self.execute(b"BZPOPMAX", key, *keys, timeout, encoding=encoding)

    def bzpopmin(self, key: Key, *keys: Key, timeout: float = 0,
                 encoding: Optional[str] = _NOTSET) -> Reply[Optional[List[Value]]]:
        """Pop the lowest-scored member of the first non-empty set, blocking up to
        ``timeout`` seconds (0 = forever).

        Returns ``[key, member, score]`` as raw replies, or None on timeout.
        """
        _check_timeout(timeout)
        return self.execute(b"BZPOPMIN", key, *keys, timeout, encoding=encoding)

    def bzmpop(self, key: Key, *keys: Key, timeout: float = 0, where: str = "MIN",
               count: Optional[int] = None,
               encoding: Optional[str] = _NOTSET) -> Reply[Optional[Tuple[Value, List[Tuple[Value, float]]]]]:
        """Blocking :meth:`zmpop` (Redis 7.0+): wait up to ``timeout`` seconds (0 = forever).

        Returns ``(key, [(member, score), ...])``, or None on timeout.
        """
        _check_timeout(timeout)
        args = _mpop_args(key, keys, where, count)
        return self._execute_converted(_mpop_reply, b"BZMPOP", timeout, *args, encoding=encoding)

    def zmpop(self, key: Key, *keys: Key, where: str = "MIN", count: Optional[int] = None,
              encoding: Optional[str] = _NOTSET) -> Reply[Optional[Tuple[Value, List[Tuple[Value, float]]]]]:
        """Pop up to ``count`` (default 1) members from the first non-empty sorted set (Redis 7.0+).

        ``where`` is ``"MIN"`` (lowest scores) or ``"MAX"``.
        Returns ``(key, [(member, score), ...])``, or None when every set is empty.
        """
        args = _mpop_args(key, keys, where, count)
        return self._execute_converted(_mpop_reply, b"ZMPOP", *args, encoding=encoding)

    # -- adding and counting ---------------------------------------------

    def zadd(self, key: Key, score: float, member: Arg, *pairs: Union[float, Arg],
             exist: Optional[str] = None, changed: bool = False, incr: bool = False, gt: bool = False,
             lt: bool = False) -> Reply[Any]:
        """Add members with scores (``score, member, score, member, ...``) or update their scores.

        ``exist`` is ``ZSET_IF_EXIST`` (XX) or ``ZSET_IF_NOT_EXIST`` (NX); ``gt``/``lt``
        (Redis 6.2+) only update when the new score is greater/less; ``changed`` counts updated members
        too; ``incr`` increments the single given member and returns its new score as the
        raw reply (None when the condition stopped it), as aioredis 1.x did.

        :raises TypeError: a score is not int or float, or pairs is odd
        :raises ValueError: incompatible options
        """
        _check_number("score", score)
        if len(pairs) % 2 != 0:
            raise TypeError("length of pairs must be even number")
        if not all(_is_number(s) for s in pairs[::2]):
            raise TypeError("all scores must be int or float")
        args = []
        if exist is not None:
            args.append(_option(_EXIST, "exist", exist))
        if gt and lt:
            raise ValueError("gt and lt are mutually exclusive")
        if (gt or lt) and exist == self.ZSET_IF_NOT_EXIST:
            raise ValueError("gt/lt cannot be combined with ZSET_IF_NOT_EXIST")
        if gt:
            args.append(b"GT")
        if lt:
            args.append(b"LT")
        if changed:
            args.append(b"CH")
        if incr:
            if pairs:
                raise ValueError("only one score-element pair can be specified in this mode")
            args.append(b"INCR")
        return self.execute(b"ZADD", key, *args, score, member, *pairs)

    def zcard(self, key: Key) -> Reply[int]:
        """Number of members in a sorted set."""
        return self.execute(b"ZCARD", key)

    def zcount(self, key: Key, min: float = float("-inf"), max: float = float("inf"), *,
               exclude: Optional[str] = None) -> Reply[int]:
        """Count members with scores between ``min`` and ``max``.

        :raises TypeError: min or max is not int or float
        :raises ValueError: min is greater than max
        """
        args = _score_range(min, max, exclude)
        if min > max:
            raise ValueError("min could not be greater than max")
        return self.execute(b"ZCOUNT", key, *args)

    def zincrby(self, key: Key, increment: float, member: Arg) -> Reply[float]:
        """Increment a member's score; returns the new score (int or float)."""
        _check_number("increment", increment)
        return self._execute_converted(int_or_float, b"ZINCRBY", key, increment, member)

    def zlexcount(self, key: Key, min: Arg = b"-", max: Arg = b"+", include_min: bool = True,
                  include_max: bool = True) -> Reply[int]:
        """Count members between two lexicographical bounds."""
        return self.execute(b"ZLEXCOUNT", key, *_lex_range(min, max, include_min, include_max))

    def zscore(self, key: Key, member: Arg) -> Reply[Optional[float]]:
        """A member's score (int or float), or None."""
        return self._execute_converted(optional_int_or_float, b"ZSCORE", key, member)

    def zmscore(self, key: Key, member: Arg, *members: Arg) -> Reply[List[Optional[float]]]:
        """Scores of several members as a list, None for a missing one (Redis 6.2+)."""
        return self._execute_converted(_scores_list, b"ZMSCORE", key, member, *members)

    def zrank(self, key: Key, member: Arg) -> Reply[Optional[int]]:
        """Index of a member, scores ordered low to high (None if missing)."""
        return self.execute(b"ZRANK", key, member)

    def zrevrank(self, key: Key, member: Arg) -> Reply[Optional[int]]:
        """Index of a member, scores ordered high to low (None if missing)."""
        return self.execute(b"ZREVRANK", key, member)

    # -- ranges ----------------------------------------------------------

    # ``withscores=True`` gives ``(member, score)`` pairs.
    @overload
    def zrange(self, key: Key, start: int = ..., stop: int = ..., withscores: Literal[False] = ...,
               encoding: Optional[str] = ...) -> Reply[List[Value]]: ...

    @overload
    def zrange(self, key: Key, start: int, stop: int, withscores: Literal[True],
               encoding: Optional[str] = ...) -> Reply[ScoredValues]: ...

    @overload
    def zrange(self, key: Key, start: int = ..., stop: int = ..., *, withscores: Literal[True],
               encoding: Optional[str] = ...) -> Reply[ScoredValues]: ...

    @overload
    def zrange(self, key: Key, start: int = ..., stop: int = ..., withscores: bool = ...,
               encoding: Optional[str] = ...) -> Reply[List[Any]]: ...

    def zrange(self, key: Key, start: int = 0, stop: int = -1, withscores: bool = False,
               encoding: Optional[str] = _NOTSET) -> Reply[List[Any]]:
        """Members by index, low to high; ``withscores`` gives ``(member, score)`` tuples."""
        return self._index_range(b"ZRANGE", key, start, stop, withscores, encoding)

    # ``withscores=True`` gives ``(member, score)`` pairs.
    @overload
    def zrevrange(self, key: Key, start: int, stop: int, withscores: Literal[False] = ...,
                  encoding: Optional[str] = ...) -> Reply[List[Value]]: ...

    @overload
    def zrevrange(self, key: Key, start: int, stop: int, withscores: Literal[True],
                  encoding: Optional[str] = ...) -> Reply[ScoredValues]: ...

    @overload
    def zrevrange(self, key: Key, start: int, stop: int, *, withscores: Literal[True],
                  encoding: Optional[str] = ...) -> Reply[ScoredValues]: ...

    @overload
    def zrevrange(self, key: Key, start: int, stop: int, withscores: bool = ...,
                  encoding: Optional[str] = ...) -> Reply[List[Any]]: ...

    def zrevrange(self, key: Key, start: int, stop: int, withscores: bool = False,
                  encoding: Optional[str] = _NOTSET) -> Reply[List[Any]]:
        """Members by index, high to low; ``withscores`` gives ``(member, score)`` tuples."""
        return self._index_range(b"ZREVRANGE", key, start, stop, withscores, encoding)

    def zrangebyscore(
        self,
        key: Key,
        min: float = float("-inf"),
        max: float = float("inf"),
        withscores: bool = False,
        offset: Optional[int] = None,
        count: Optional[int] = None,
        *,
        exclude: Optional[str] = None,
        encoding: Optional[str] = _NOTSET,
    ) -> Reply[List[Any]]:
        """Members with scores between ``min`` and ``max``, low to high.

        ``exclude`` makes a bound exclusive (``ZSET_EXCLUDE_MIN/MAX/BOTH``);
        ``offset`` and ``count`` (both or neither) page through the result.
        """
        min, max = _score_range(min, max, exclude)
        args = _range_extra(withscores, offset, count)
        fut = self.execute(b"ZRANGEBYSCORE", key, min, max, *args, encoding=encoding)
        return _with_scores(fut, withscores)

    def zrevrangebyscore(
        self,
        key: Key,
        max: float = float("inf"),
        min: float = float("-inf"),
        *,
        exclude: Optional[str] = None,
        withscores: bool = False,
        offset: Optional[int] = None,
        count: Optional[int] = None,
        encoding: Optional[str] = _NOTSET,
    ) -> Reply[List[Any]]:
        """Members with scores between ``max`` and ``min``, high to low (see :meth:`zrangebyscore`)."""
        min, max = _score_range(min, max, exclude)
        args = _range_extra(withscores, offset, count)
        fut = self.execute(b"ZREVRANGEBYSCORE", key, max, min, *args, encoding=encoding)
        return _with_scores(fut, withscores)

    def zrangebylex(
        self,
        key: Key,
        min: Arg = b"-",
        max: Arg = b"+",
        include_min: bool = True,
        include_max: bool = True,
        offset: Optional[int] = None,
        count: Optional[int] = None,
        encoding: Optional[str] = _NOTSET,
    ) -> Reply[List[Value]]:
        """Members between two lexicographical bounds (``b'-'``/``b'+'`` = unbounded)."""
        min, max = _lex_range(min, max, include_min, include_max)
        return self.execute(b"ZRANGEBYLEX", key, min, max, *_limit(offset, count), encoding=encoding)

    def zrevrangebylex(
        self,
        key: Key,
        min: Arg = b"-",
        max: Arg = b"+",
        include_min: bool = True,
        include_max: bool = True,
        offset: Optional[int] = None,
        count: Optional[int] = None,
        encoding: Optional[str] = _NOTSET,
    ) -> Reply[List[Value]]:
        """Members between two lexicographical bounds, from high to low."""
        min, max = _lex_range(min, max, include_min, include_max)
        return self.execute(b"ZREVRANGEBYLEX", key, max, min, *_limit(offset, count), encoding=encoding)

    def zrangestore(
        self,
        destkey: Key,
        key: Key,
        start: Arg = 0,
        stop: Arg = -1,
        *,
        byscore: bool = False,
        bylex: bool = False,
        rev: bool = False,
        exclude: Optional[str] = None,
        offset: Optional[int] = None,
        count: Optional[int] = None,
    ) -> Reply[int]:
        """Store a range of ``key`` into ``destkey``; returns the stored count (Redis 6.2+).

        By default ``start``/``stop`` are indexes. With ``byscore`` they are scores, with
        ``bylex`` lexicographical bounds (inclusive, ``b'-'``/``b'+'`` unbounded); both
        honour ``exclude`` (``ZSET_EXCLUDE_*``) and ``offset``/``count``. With ``rev`` the
        order is high to low and ``start`` is the upper bound, as in Redis.
        """
        if byscore and bylex:
            raise ValueError("byscore and bylex are mutually exclusive")
        if byscore or bylex:
            low, high = (stop, start) if rev else (start, stop)
            if byscore:
                low, high = _score_range(low, high, exclude)
                args = [b"BYSCORE"]
            else:
                excl_min, excl_max = _option(_EXCLUDE, "exclude", exclude)
                low, high = _lex_range(low, high, not excl_min, not excl_max)
                args = [b"BYLEX"]
            start, stop = (high, low) if rev else (low, high)
        else:
            _check_int("start", start)
            _check_int("stop", stop)
            if exclude is not None or offset is not None or count is not None:
                raise ValueError("exclude, offset and count need byscore or bylex")
            args = []
        if rev:
            args.append(b"REV")
        args.extend(_limit(offset, count))
        return self.execute(b"ZRANGESTORE", destkey, key, start, stop, *args)

    def zrandmember(self, key: Key, count: Optional[int] = None, *, withscores: bool = False,
                    encoding: Optional[str] = _NOTSET) -> Reply[Any]:
        """Random members (Redis 6.2+).

        Without ``count``: one member, or None if the key is missing. With ``count``: a
        list (negative ``count`` allows repeats); ``withscores`` gives ``(member, score)``
        tuples.
        """
        if count is None:
            if withscores:
                raise ValueError("withscores needs count")
            return self.execute(b"ZRANDMEMBER", key, encoding=encoding)
        _check_int("count", count)
        args = [b"WITHSCORES"] if withscores else []
        return _with_scores(self.execute(b"ZRANDMEMBER", key, count, *args, encoding=encoding), withscores)

    # -- removal ---------------------------------------------------------

    def zrem(self, key: Key, member: Arg, *members: Arg) -> Reply[int]:
        """Remove members; returns how many were removed."""
        return self.execute(b"ZREM", key, member, *members)

    def zremrangebylex(self, key: Key, min: Arg = b"-", max: Arg = b"+", include_min: bool = True,
                       include_max: bool = True) -> Reply[int]:
        """Remove members between two lexicographical bounds."""
        return self.execute(b"ZREMRANGEBYLEX", key, *_lex_range(min, max, include_min, include_max))

    def zremrangebyrank(self, key: Key, start: int, stop: int) -> Reply[int]:
        """Remove members by index range."""
        _check_int("start", start)
        _check_int("stop", stop)
        return self.execute(b"ZREMRANGEBYRANK", key, start, stop)

    def zremrangebyscore(self, key: Key, min: float = float("-inf"), max: float = float("inf"), *,
                         exclude: Optional[str] = None) -> Reply[int]:
        """Remove members with scores between ``min`` and ``max``."""
        return self.execute(b"ZREMRANGEBYSCORE", key, *_score_range(min, max, exclude))

    def zpopmin(self, key: Key, count: Optional[int] = None, *,
                encoding: Optional[str] = _NOTSET) -> Reply[List[Value]]:
        """Pop up to ``count`` lowest-scored members; flat raw ``[member, score, ...]`` reply."""
        return self._pop(b"ZPOPMIN", key, count, encoding)

    def zpopmax(self, key: Key, count: Optional[int] = None, *,
                encoding: Optional[str] = _NOTSET) -> Reply[List[Value]]:
        """Pop up to ``count`` highest-scored members; flat raw ``[member, score, ...]`` reply."""
        return self._pop(b"ZPOPMAX", key, count, encoding)

    # -- set algebra -----------------------------------------------------

    def zinterstore(self, destkey: Key, key: Union[Key, Tuple[Key, float]],
                    *keys: Union[Key, Tuple[Key, float]], with_weights: bool = False,
                    aggregate: Optional[str] = None) -> Reply[int]:
        """Store the intersection of sorted sets in ``destkey``; returns its size.

        With ``with_weights`` every key is a ``(key, weight)`` pair. ``aggregate`` is one
        of ``ZSET_AGGREGATE_SUM/MIN/MAX``.
        """
        args = _combine_args((key,) + keys, with_weights, aggregate)
        return self.execute(b"ZINTERSTORE", destkey, *args)

    def zunionstore(self, destkey: Key, key: Union[Key, Tuple[Key, float]],
                    *keys: Union[Key, Tuple[Key, float]], with_weights: bool = False,
                    aggregate: Optional[str] = None) -> Reply[int]:
        """Store the union of sorted sets in ``destkey`` (options as :meth:`zinterstore`)."""
        args = _combine_args((key,) + keys, with_weights, aggregate)
        return self.execute(b"ZUNIONSTORE", destkey, *args)

    def zinter(self, key: Union[Key, Tuple[Key, float]], *keys: Union[Key, Tuple[Key, float]],
               with_weights: bool = False, aggregate: Optional[str] = None, withscores: bool = False,
               encoding: Optional[str] = _NOTSET) -> Reply[List[Any]]:
        """Intersection of sorted sets (Redis 6.2+; options as :meth:`zinterstore`);
        ``withscores`` gives ``(member, score)`` tuples."""
        return self._combine(b"ZINTER", (key,) + keys, with_weights, aggregate, withscores, encoding)

    def zunion(self, key: Union[Key, Tuple[Key, float]], *keys: Union[Key, Tuple[Key, float]],
               with_weights: bool = False, aggregate: Optional[str] = None, withscores: bool = False,
               encoding: Optional[str] = _NOTSET) -> Reply[List[Any]]:
        """Union of sorted sets (Redis 6.2+; options as :meth:`zinterstore`);
        ``withscores`` gives ``(member, score)`` tuples."""
        return self._combine(b"ZUNION", (key,) + keys, with_weights, aggregate, withscores, encoding)

    def zdiff(self, key: Key, *keys: Key, withscores: bool = False,
              encoding: Optional[str] = _NOTSET) -> Reply[List[Any]]:
        """Members of the first set missing from the others (Redis 6.2+); ``withscores``
        gives ``(member, score)`` tuples."""
        return self._combine(b"ZDIFF", (key,) + keys, False, None, withscores, encoding)

    def zdiffstore(self, destkey: Key, key: Key, *keys: Key) -> Reply[int]:
        """Store :meth:`zdiff` in ``destkey``; returns its size (Redis 6.2+)."""
        return self.execute(b"ZDIFFSTORE", destkey, 1 + len(keys), key, *keys)

    def zintercard(self, key: Key, *keys: Key, limit: Optional[int] = None) -> Reply[int]:
        """Size of the intersection; counting stops at ``limit`` if given (0 = no limit)
        (Redis 7.0+)."""
        args: List[Any] = []
        if limit is not None:
            _check_int("limit", limit, 0)
            args = [b"LIMIT", limit]
        return self.execute(b"ZINTERCARD", 1 + len(keys), key, *keys, *args)

    # -- scanning --------------------------------------------------------

    def zscan(self, key: Key, cursor: Arg = 0, match: Optional[Arg] = None,
              count: Optional[int] = None) -> Reply[Tuple[int, List[Tuple[Value, float]]]]:
        """One ZSCAN step: ``(next_cursor, [(member, score), ...])``."""
        args = []
        if match is not None:
            args += [b"MATCH", match]
        if count is not None:
            args += [b"COUNT", count]
        return self._execute_converted(_scan_reply, b"ZSCAN", key, cursor, *args)

    def izscan(self, key: Key, *, match: Optional[Arg] = None,
               count: Optional[int] = None) -> AsyncIterator[Tuple[Value, float]]:
        """Iterate ``(member, score)`` pairs with ``async for``, scanning on demand."""
        return _ScanIter(lambda cursor: self.zscan(key, cursor, match=match, count=count))

    # -- shared plumbing -------------------------------------------------

    def _index_range(self, command, key, start, stop, withscores, encoding):
        _check_int("start", start)
        _check_int("stop", stop)
        args = [b"WITHSCORES"] if withscores else []
        return _with_scores(self.execute(command, key, start, stop, *args, encoding=encoding), withscores)

    def _pop(self, command, key, count, encoding):
        args = []
        if count is not None:
            _check_int("count", count)
            args = [count]
        return self.execute(command, key, *args, encoding=encoding)

    def _combine(self, command, keys, with_weights, aggregate, withscores, encoding):
        args = _combine_args(keys, with_weights, aggregate)
        if withscores:
            args.append(b"WITHSCORES")
        return _with_scores(self.execute(command, *args, encoding=encoding), withscores)


_M = SortedSetCommandsMixin
_EXIST = {_M.ZSET_IF_EXIST: b"XX", _M.ZSET_IF_NOT_EXIST: b"NX"}
_AGGREGATE = {_M.ZSET_AGGREGATE_SUM: b"SUM", _M.ZSET_AGGREGATE_MIN: b"MIN", _M.ZSET_AGGREGATE_MAX: b"MAX"}
_EXCLUDE = {
    None: (False, False),
    _M.ZSET_EXCLUDE_MIN: (True, False),
    _M.ZSET_EXCLUDE_MAX: (False, True),
    _M.ZSET_EXCLUDE_BOTH: (True, True),
}
_WHERE = {"MIN": b"MIN", "MAX": b"MAX", "min": b"MIN", "max": b"MAX"}
del _M


def _score_range(min, max, exclude):
    """Validated ``(min, max)`` arguments, ``(``-prefixed where ``exclude`` says so."""
    _check_number("min", min)
    _check_number("max", max)
    excl_min, excl_max = _option(_EXCLUDE, "exclude", exclude)
    return _score_bound(min, excl_min), _score_bound(max, excl_max)


def _range_extra(withscores, offset, count):
    args = [b"WITHSCORES"] if withscores else []
    return args + _limit(offset, count)


def _combine_args(keys, with_weights, aggregate):
    """``numkeys key... [WEIGHTS w...] [AGGREGATE x]`` for ZINTER/ZUNION(STORE) and ZDIFF."""
    if with_weights:
        if not all(isinstance(item, (list, tuple)) and len(item) == 2 for item in keys):
            raise TypeError("All key arguments must be (key, weight) tuples")
        names = [name for name, _ in keys]
        weights = [weight for _, weight in keys]
        if not all(_is_number(weight) for weight in weights):
            raise TypeError("weights must be int or float")
        args = [len(keys), *names, b"WEIGHTS", *weights]
    else:
        args = [len(keys), *keys]
    if aggregate is not None:
        args += [b"AGGREGATE", _option(_AGGREGATE, "aggregate", aggregate)]
    return args


def _mpop_args(key, keys, where, count):
    """``numkeys key... MIN|MAX [COUNT n]`` for ZMPOP and BZMPOP."""
    args = [1 + len(keys), key, *keys, _option(_WHERE, "where", where)]
    if count is not None:
        _check_int("count", count, 1)
        args += [b"COUNT", count]
    return args
