"""Stream commands (``X*``), Redis 5.0+.

Entries come back as ``(message_id, OrderedDict(fields))`` tuples; XREAD and
XREADGROUP flatten their per-stream reply into ``(stream, message_id, fields)``
tuples; XINFO replies become dicts.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .._typing import Arg, CommandsBase, Key, Reply, Value
from ..util import pairs_to_dict, reply_is_ok, wait_convert
from ._checks import _check_int

__all__ = [
    "StreamCommandsMixin",
    "fields_to_dict",
    "parse_messages",
    "parse_messages_by_stream",
    "parse_lists_to_dicts",
]


def fields_to_dict(fields, type_=OrderedDict):
    """``[k1, v1, k2, v2, ...]`` -> ``type_`` mapping (an OrderedDict by default)."""
    it = iter(fields)
    return type_(zip(it, it))


def parse_messages(messages):
    """``[[id, [k, v, ...]], ...]`` -> ``[(id, OrderedDict), ...]``.

    Entries that no longer exist (None, or an id with None fields, as XCLAIM and
    XREADGROUP report deleted entries) are left out.
    """
    if messages is None:
        return []
    return [
        (message[0], fields_to_dict(message[1]))
        for message in messages
        if message is not None and message[1] is not None
    ]


def parse_messages_by_stream(messages_by_stream):
    """``[[stream, [[id, [k, v, ...]], ...]], ...]`` -> ``[(stream, id, OrderedDict), ...]``.

    A None reply (XREAD timed out) gives an empty list.
    """
    if messages_by_stream is None:
        return []
    return [
        (stream, message_id, fields)
        for stream, messages in messages_by_stream
        for message_id, fields in parse_messages(messages)
    ]


def parse_lists_to_dicts(lists):
    """``[[k, v, ...], ...]`` -> ``[dict, ...]``."""
    return [fields_to_dict(item, type_=dict) for item in lists]


def _join_lines(lines):
    return ("\n" if lines and isinstance(lines[0], str) else b"\n").join(lines)


def _autoclaim_reply(value, justid):
    """``[next_id, entries, deleted_ids]`` -> ``(next_id, entries, deleted_ids)``.

    Redis 6.2 sends no deleted ids; an empty list stands in for them.
    """
    next_id, entries = value[0], value[1]
    deleted = value[2] if len(value) > 2 else []
    return next_id, (entries if justid else parse_messages(entries)), deleted


def _trim_args(max_len, exact_len, min_id, limit):
    """``MAXLEN|MINID [=|~] threshold [LIMIT n]`` for XADD and XTRIM."""
    if max_len is not None and min_id is not None:
        raise ValueError("max_len and min_id are mutually exclusive")
    if max_len is None and min_id is None:
        if limit is not None:
            raise ValueError("limit needs max_len or min_id")
        return []
    if max_len is not None:
        _check_int("max_len", max_len, 0)
        args = [b"MAXLEN", max_len]
    else:
        args = [b"MINID", min_id]
    if not exact_len:
        args.insert(1, b"~")
    if limit is not None:
        if exact_len:
            raise ValueError("limit needs approximate trimming (exact_len=False)")
        _check_int("limit", limit, 0)
        args += [b"LIMIT", limit]
    return args


def _count_args(count):
    if count is None:
        return []
    _check_int("count", count)
    return [b"COUNT", count]


def _xread_args(streams, timeout, count, latest_ids, no_ack=False):
    """``[COUNT n] [BLOCK ms] [NOACK] STREAMS key... id...`` for XREAD and XREADGROUP.

    ``timeout=None`` means no BLOCK (return at once); a falsy ``count`` means no limit.
    """
    if isinstance(streams, (str, bytes)) or not isinstance(streams, (list, tuple)):
        raise TypeError(f"streams argument must be a list of stream names, got {streams!r}")
    if not streams:
        raise ValueError("streams argument must not be empty")
    if latest_ids is None:
        latest_ids = ["$"] * len(streams)
    elif isinstance(latest_ids, (str, bytes)) or not isinstance(latest_ids, (list, tuple)):
        raise TypeError(f"latest_ids argument must be a list of ids, got {latest_ids!r}")
    if len(streams) != len(latest_ids):
        raise ValueError("The streams and latest_ids parameters must be of the same length")
    args = []
    if count:
        args += _count_args(count)
    if timeout is not None:
        _check_int("timeout", timeout, 0)
        args += [b"BLOCK", timeout]
    if no_ack:
        args.append(b"NOACK")
    return [*args, b"STREAMS", *streams, *latest_ids]


class StreamCommandsMixin(CommandsBase):
    """Stream commands mixin (https://redis.io/commands/#stream)."""

    def xadd(
        self,
        stream: Key,
        fields: Mapping[Key, Arg],
        message_id: Arg = b"*",
        max_len: Optional[int] = None,
        exact_len: bool = False,
        *,
        min_id: Optional[Arg] = None,
        limit: Optional[int] = None,
        no_mkstream: bool = False,
    ) -> Reply[Value]:
        """Append an entry with ``fields`` (a mapping); returns its id.

        Trims the stream to ``max_len`` entries or drops ids below ``min_id``
        (approximately unless ``exact_len``; ``limit`` caps the evictions). With
        ``no_mkstream`` a missing stream is not created and None is returned.
        ``min_id``, ``limit`` and ``no_mkstream`` need Redis 6.2+.
        """
        if not isinstance(fields, Mapping):
            raise TypeError(f"fields argument must be a mapping, got {fields!r}")
        if not fields:
            raise ValueError("fields argument must not be empty")
        args: List[Any] = [b"NOMKSTREAM"] if no_mkstream else []
        args += _trim_args(max_len, exact_len, min_id, limit)
        args.append(message_id)
        for item in fields.items():
            args.extend(item)
        return self.execute(b"XADD", stream, *args)

    def xrange(self, stream: Key, start: Arg = "-", stop: Arg = "+",
               count: Optional[int] = None) -> Reply[List[Tuple[Value, Dict[Value, Value]]]]:
        """Entries with ids from ``start`` to ``stop``: ``[(id, OrderedDict), ...]``."""
        fut = self.execute(b"XRANGE", stream, start, stop, *_count_args(count))
        return wait_convert(fut, parse_messages)

    def xrevrange(self, stream: Key, start: Arg = "+", stop: Arg = "-",
                  count: Optional[int] = None) -> Reply[List[Tuple[Value, Dict[Value, Value]]]]:
        """Entries from ``start`` down to ``stop``, newest first (shape as :meth:`xrange`)."""
        fut = self.execute(b"XREVRANGE", stream, start, stop, *_count_args(count))
        return wait_convert(fut, parse_messages)

    def xread(
        self, streams: Sequence[Key], timeout: Optional[float] = 0, count: Optional[int] = None,
        latest_ids: Optional[Sequence[Arg]] = None,
    ) -> Reply[List[Tuple[Value, Value, Dict[Value, Value]]]]:
        """Read entries after ``latest_ids`` (default ``$``: only new ones) from ``streams``.

        Blocks up to ``timeout`` milliseconds (0 = forever, None = don't block).
        Returns ``[(stream, id, OrderedDict), ...]``, empty on timeout.

        :raises ValueError: streams and latest_ids differ in length
        """
        args = _xread_args(streams, timeout, count, latest_ids)
        return self._execute_converted(parse_messages_by_stream, b"XREAD", *args)

    def xread_group(
        self, group_name: Arg, consumer_name: Arg, streams: Sequence[Key], timeout: Optional[float] = 0,
        count: Optional[int] = None, latest_ids: Optional[Sequence[Arg]] = None, no_ack: bool = False,
    ) -> Reply[List[Tuple[Value, Value, Dict[Value, Value]]]]:
        """:meth:`xread` as ``consumer_name`` of ``group_name``; ``'>'`` as latest id
        means entries never delivered to the group. ``no_ack`` skips the pending list.

        :raises ValueError: streams and latest_ids differ in length
        """
        args = _xread_args(streams, timeout, count, latest_ids, no_ack)
        fut = self.execute(b"XREADGROUP", b"GROUP", group_name, consumer_name, *args)
        return wait_convert(fut, parse_messages_by_stream)

    def xgroup_create(self, stream: Key, group_name: Arg, latest_id: Arg = "$",
                      mkstream: bool = False) -> Reply[bool]:
        """Create a consumer group (BusyGroupError if it exists); True on success."""
        args = [b"MKSTREAM"] if mkstream else []
        return self._execute_converted(
            reply_is_ok, b"XGROUP", b"CREATE", stream, group_name, latest_id, *args)

    def xgroup_setid(self, stream: Key, group_name: Arg, latest_id: Arg = "$") -> Reply[bool]:
        """Set a group's last delivered id; True on success."""
        return self._execute_converted(reply_is_ok, b"XGROUP", b"SETID", stream, group_name, latest_id)

    def xgroup_destroy(self, stream: Key, group_name: Arg) -> Reply[bool]:
        """Delete a consumer group; True if it existed."""
        return self._execute_converted(bool, b"XGROUP", b"DESTROY", stream, group_name)

    def xgroup_createconsumer(self, stream: Key, group_name: Arg, consumer_name: Arg) -> Reply[int]:
        """Create a consumer in a group (Redis 6.2+); 1 if created, 0 if it existed."""
        return self.execute(b"XGROUP", b"CREATECONSUMER", stream, group_name, consumer_name)

    def xgroup_delconsumer(self, stream: Key, group_name: Arg, consumer_name: Arg) -> Reply[int]:
        """Delete a consumer from a group; returns how many pending entries it had."""
        fut = self.execute(b"XGROUP", b"DELCONSUMER", stream, group_name, consumer_name)
        return wait_convert(fut, int)

    def xpending(self, stream: Key, group_name: Arg, start: Optional[Arg] = None, stop: Optional[Arg] = None,
                 count: Optional[int] = None, consumer: Optional[Arg] = None, *,
                 idle: Optional[int] = None) -> Reply[List[Any]]:
        """Pending entries of a group, as the raw reply.

        Without ``start``/``stop``/``count``: the summary ``[count, min_id, max_id,
        [[consumer, count], ...]]``. With all three: ``[[id, consumer, idle_ms,
        deliveries], ...]``, optionally for one ``consumer`` and entries idle at least
        ``idle`` milliseconds (Redis 6.2+).

        :raises ValueError: start/stop/count only partly given
        """
        given = [value is not None for value in (start, stop, count)]
        if any(given) and not all(given):
            raise ValueError("Either specify non or all of the start/stop/count arguments")
        if not any(given):
            if consumer is not None or idle is not None:
                raise ValueError("consumer and idle need start, stop and count")
            return self.execute(b"XPENDING", stream, group_name)
        _check_int("count", count)
        args: List[Any] = []
        if idle is not None:
            _check_int("idle", idle, 0)
            args = [b"IDLE", idle]
        args += [start, stop, count]
        if consumer is not None:
            args.append(consumer)
        return self.execute(b"XPENDING", stream, group_name, *args)

    def xclaim(self, stream: Key, group_name: Arg, consumer_name: Arg, min_idle_time: int, id: Arg,
               *ids: Arg) -> Reply[List[Tuple[Value, Dict[Value, Value]]]]:
        """Take over pending entries idle at least ``min_idle_time`` ms; returns them as
        ``[(id, OrderedDict), ...]``."""
        _check_int("min_idle_time", min_idle_time, 0)
        fut = self.execute(b"XCLAIM", stream, group_name, consumer_name, min_idle_time, id, *ids)
        return wait_convert(fut, parse_messages)

    def xautoclaim(
        self, stream: Key, group_name: Arg, consumer_name: Arg, min_idle_time: int, start: Arg = "0-0",
        count: Optional[int] = None, *, justid: bool = False,
    ) -> Reply[Tuple[Value, List[Any], List[Value]]]:
        """Claim pending entries idle at least ``min_idle_time`` ms, scanning from ``start``
        (Redis 6.2+).

        Returns ``(next_start_id, entries, deleted_ids)``: entries as
        ``[(id, OrderedDict), ...]`` (plain ids with ``justid``), and the ids of entries
        that no longer exist and were dropped from the pending list (Redis 7+).
        """
        _check_int("min_idle_time", min_idle_time, 0)
        args = _count_args(count)
        if justid:
            args.append(b"JUSTID")
        fut = self.execute(b"XAUTOCLAIM", stream, group_name, consumer_name, min_idle_time, start, *args)
        return wait_convert(fut, _autoclaim_reply, justid=justid)

    def xack(self, stream: Key, group_name: Arg, id: Arg, *ids: Arg) -> Reply[int]:
        """Acknowledge entries; returns how many were pending."""
        return self.execute(b"XACK", stream, group_name, id, *ids)

    def xdel(self, stream: Key, id: Arg) -> Reply[int]:
        """Delete an entry; returns 1 if it existed, else 0."""
        return self.execute(b"XDEL", stream, id)

    def xtrim(self, stream: Key, max_len: Optional[int], exact_len: bool = False, *,
              min_id: Optional[Arg] = None, limit: Optional[int] = None) -> Reply[int]:
        """Trim to ``max_len`` entries, or (``max_len=None``) drop ids below ``min_id``;
        approximately unless ``exact_len``, ``limit`` capping the evictions. Returns the
        number evicted. ``min_id`` and ``limit`` need Redis 6.2+."""
        if max_len is None and min_id is None:
            raise ValueError("give max_len or min_id")
        return self.execute(b"XTRIM", stream, *_trim_args(max_len, exact_len, min_id, limit))

    def xlen(self, stream: Key) -> Reply[int]:
        """Number of entries in a stream."""
        return self.execute(b"XLEN", stream)

    def xinfo(self, stream: Key) -> Reply[Dict[Value, Any]]:
        """Same as :meth:`xinfo_stream`."""
        return self.xinfo_stream(stream)

    def xinfo_consumers(self, stream: Key, group_name: Arg) -> Reply[List[Dict[Value, Any]]]:
        """Consumers of a group, one dict each."""
        return self._execute_converted(parse_lists_to_dicts, b"XINFO", b"CONSUMERS", stream, group_name)

    def xinfo_groups(self, stream: Key) -> Reply[List[Dict[Value, Any]]]:
        """Consumer groups of a stream, one dict each."""
        return self._execute_converted(parse_lists_to_dicts, b"XINFO", b"GROUPS", stream)

    def xinfo_stream(self, stream: Key) -> Reply[Dict[Value, Any]]:
        """Stream information as a dict (``first-entry``/``last-entry`` stay raw)."""
        return self._execute_converted(pairs_to_dict, b"XINFO", b"STREAM", stream)

    def xinfo_help(self) -> Reply[Value]:
        """XINFO's help text, lines joined with newlines."""
        return self._execute_converted(_join_lines, b"XINFO", b"HELP")
