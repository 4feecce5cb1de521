"""Server commands: introspection, configuration, persistence, replication, clients and ACL."""
from __future__ import annotations

from collections import namedtuple
from functools import lru_cache
from typing import Any, Dict, List, NoReturn, Optional, Tuple

from .._protocol import pairs_to_dict
from .._typing import Arg, CommandsBase, Key, Reply, Value
from ..util import _NOTSET, reply_is_ok
from ._checks import _check_int, _check_timeout

__all__ = [
    "ServerCommandsMixin",
    "MasterInfo",
    "MasterSlaveInfo",
    "SlaveInfo",
    "SentinelInfo",
    "parse_info",
    "parse_role",
    "to_time",
    "to_tuples",
]

MasterInfo = namedtuple("MasterInfo", "role replication_offset slaves")
MasterSlaveInfo = namedtuple("MasterSlaveInfo", "ip port ack_offset")
SlaveInfo = namedtuple("SlaveInfo", "role master_ip master_port state received")
SentinelInfo = namedtuple("SentinelInfo", "role masters")

_ON_OFF = {True: b"ON", False: b"OFF"}
_YES_NO = {True: b"yes", False: b"no"}


def _check_bool(value, name):
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be bool, got {type(value).__name__}")


def _accepted(reply):
    """A status reply (``OK``, ``Background saving started``, ...) means the server took the request."""
    return True


class ServerCommandsMixin(CommandsBase):
    """Server commands mixin.

    For commands details see: http://redis.io/commands/#server
    """

    SHUTDOWN_SAVE = "SHUTDOWN_SAVE"
    SHUTDOWN_NOSAVE = "SHUTDOWN_NOSAVE"

    def bgrewriteaof(self) -> Reply[bool]:
        """Asynchronously rewrite the append-only file; True once the server has started or scheduled it."""
        return self._execute_converted(_accepted, b"BGREWRITEAOF")

    def bgsave(self) -> Reply[bool]:
        """Asynchronously save the dataset to disk; True once the server has started or scheduled it."""
        return self._execute_converted(_accepted, b"BGSAVE")

    def client_getname(self, encoding: Optional[str] = _NOTSET) -> Reply[Optional[Value]]:
        """Get the current connection name (None when unnamed)."""
        return self.execute(b"CLIENT", b"GETNAME", encoding=encoding)

    def client_id(self) -> Reply[int]:
        """Return the unique id of the current connection."""
        return self.execute(b"CLIENT", b"ID")

    def client_info(self) -> Reply[Any]:
        """Describe the current connection as one ``ClientInfo`` named tuple (the fields of CLIENT LIST)."""
        return self._execute_converted(_to_client_info, b"CLIENT", b"INFO", encoding="utf-8")

    def client_kill(
        self, *, addr: Optional[str] = None, laddr: Optional[str] = None, client_id: Optional[int] = None,
        client_type: Optional[str] = None, user: Optional[str] = None, skipme: Optional[bool] = None,
        maxage: Optional[int] = None,
    ) -> Reply[int]:
        """Kill the client connections matching every given filter; returns how many were closed.

        ``client_type`` is one of ``normal``, ``master``, ``replica``, ``pubsub``;
        ``skipme`` is a bool; ``client_id`` and ``maxage`` are ints.

        :raises TypeError: if no filter is given or a filter has the wrong type
        """
        for name, value in (("client_id", client_id), ("maxage", maxage)):
            if value is not None:
                _check_int(name, value, 0)
        skip = None
        if skipme is not None:
            _check_bool(skipme, "skipme")
            skip = _YES_NO[skipme]
        filters = (
            (b"ADDR", addr), (b"LADDR", laddr), (b"ID", client_id), (b"TYPE", client_type),
            (b"USER", user), (b"SKIPME", skip), (b"MAXAGE", maxage),
        )
        args: List[Any] = [item for pair in filters if pair[1] is not None for item in pair]
        if not args:
            raise TypeError("client_kill() needs at least one filter: addr, laddr, client_id, ...")
        return self.execute(b"CLIENT", b"KILL", *args)

    def client_list(self) -> Reply[List[Any]]:
        """Get the list of client connections as ``ClientInfo`` named tuples.

        Field names are those of CLIENT LIST with ``-`` replaced by ``_``; values are str.
        """
        return self._execute_converted(to_tuples, b"CLIENT", b"LIST", encoding="utf-8")

    def client_no_evict(self, enabled: bool) -> Reply[bool]:
        """Protect (True) or stop protecting (False) the current connection from client eviction."""
        _check_bool(enabled, "enabled")
        return self._execute_converted(reply_is_ok, b"CLIENT", b"NO-EVICT", _ON_OFF[enabled])

    def client_pause(self, timeout: int) -> Reply[bool]:
        """Stop processing commands from clients for *timeout* milliseconds.

        The pause covers this connection too (and, on Redis 7.0, a later CLIENT UNPAUSE).

        :raises TypeError: if timeout is not int
        :raises ValueError: if timeout is less than 0
        """
        _check_int("timeout", timeout, 0)
        return self._execute_converted(reply_is_ok, b"CLIENT", b"PAUSE", timeout)

    def client_reply(self) -> NoReturn:
        """Not supported: CLIENT REPLY OFF/SKIP would leave requests without replies.

        Replies are matched to requests in order, so suppressing some of them would hand
        every later reply to the wrong caller.
        """
        raise NotImplementedError("CLIENT REPLY would break request/reply matching on a shared connection")

    def client_setname(self, name: Arg) -> Reply[bool]:
        """Set the current connection name."""
        return self._execute_converted(reply_is_ok, b"CLIENT", b"SETNAME", name)

    def client_unpause(self) -> Reply[bool]:
        """Resume processing of clients paused by :meth:`client_pause`."""
        return self._execute_converted(reply_is_ok, b"CLIENT", b"UNPAUSE")

    def command(self) -> Reply[List[Any]]:
        """Get array of Redis commands (decoded as utf-8, unconverted)."""
        return self.execute(b"COMMAND", encoding="utf-8")

    def command_count(self) -> Reply[int]:
        """Get total number of Redis commands."""
        return self.execute(b"COMMAND", b"COUNT")

    def command_getkeys(self, command: Arg, *args: Arg,
                        encoding: Optional[str] = "utf-8") -> Reply[List[Value]]:
        """Extract keys given a full Redis command."""
        return self.execute(b"COMMAND", b"GETKEYS", command, *args, encoding=encoding)

    def command_info(self, command: Arg, *commands: Arg) -> Reply[List[Any]]:
        """Get array of specific Redis command details."""
        return self.execute(b"COMMAND", b"INFO", command, *commands, encoding="utf-8")

    def config_get(self, parameter: str = "*") -> Reply[Dict[str, str]]:
        """Get the value of a configuration parameter(s) as a ``{name: value}`` dict of str.

        If called without argument will return all parameters.

        :raises TypeError: if parameter is not str
        """
        _check_parameter(parameter)
        return self._execute_converted(pairs_to_dict, b"CONFIG", b"GET", parameter, encoding="utf-8")

    def config_resetstat(self) -> Reply[bool]:
        """Reset the stats returned by INFO."""
        return self._execute_converted(reply_is_ok, b"CONFIG", b"RESETSTAT")

    def config_rewrite(self) -> Reply[bool]:
        """Rewrite the configuration file with the in memory configuration."""
        return self._execute_converted(reply_is_ok, b"CONFIG", b"REWRITE")

    def config_set(self, parameter: str, value: Arg) -> Reply[bool]:
        """Set a configuration parameter to the given value.

        :raises TypeError: if parameter is not str
        """
        _check_parameter(parameter)
        return self._execute_converted(reply_is_ok, b"CONFIG", b"SET", parameter, value)

    def dbsize(self) -> Reply[int]:
        """Return the number of keys in the selected database."""
        return self.execute(b"DBSIZE")

    def debug_object(self, key: Key) -> Reply[Value]:
        """Get debugging information about a key."""
        return self.execute(b"DEBUG", b"OBJECT", key)

    def debug_segfault(self, key: Any) -> Reply[Any]:
        """Make the server crash (``key`` is ignored; kept for compatibility)."""
        return self.execute(b"DEBUG", b"SEGFAULT")

    def debug_sleep(self, timeout: float) -> Reply[bool]:
        """Suspend connection for timeout seconds.

        :raises TypeError: if timeout is not a number
        :raises ValueError: if timeout is negative
        """
        _check_timeout(timeout)
        return self._execute_converted(reply_is_ok, b"DEBUG", b"SLEEP", timeout)

    def flushall(self, async_op: bool = False) -> Reply[bool]:
        """Remove all keys from all databases; ``async_op`` frees them in a background thread."""
        return self._execute_converted(reply_is_ok, b"FLUSHALL", *_async_flag(async_op))

    def flushdb(self, async_op: bool = False) -> Reply[bool]:
        """Remove all keys from the current database; ``async_op`` frees them in a background thread."""
        return self._execute_converted(reply_is_ok, b"FLUSHDB", *_async_flag(async_op))

    def info(self, section: str = "default") -> Reply[Dict[str, Dict[str, Any]]]:
        """Get information and statistics about the server.

        Returns ``{section: {field: value}}`` with lower-case section names and str values;
        ``k1=v1,k2=v2`` values (keyspace, commandstats, ...) become dicts of str.
        If called without argument will return default set of sections.
        For available sections, see http://redis.io/commands/INFO

        :raises TypeError: if section is not str or bytes
        :raises ValueError: if section is empty
        """
        if not isinstance(section, (str, bytes)):
            raise TypeError(f"section must be str, got {type(section).__name__}")
        if not section:
            raise ValueError("invalid section")
        return self._execute_converted(parse_info, b"INFO", section, encoding="utf-8")

    def lastsave(self) -> Reply[int]:
        """Get the UNIX time stamp of the last successful save to disk."""
        return self.execute(b"LASTSAVE")

    def lolwut(self, version: Optional[int] = None) -> Reply[str]:
        """Return the server version and a piece of generative art (str)."""
        args: Tuple[Any, ...] = ()
        if version is not None:
            _check_int("version", version, 0)
            args = (b"VERSION", version)
        return self.execute(b"LOLWUT", *args, encoding="utf-8")

    def memory_usage(self, key: Key, *, samples: Optional[int] = None) -> Reply[Optional[int]]:
        """Bytes a key and its value take in memory (None if the key does not exist).

        ``samples`` is how many nested values to sample (0 means all of them).
        """
        args: Tuple[Any, ...] = ()
        if samples is not None:
            _check_int("samples", samples, 0)
            args = (b"SAMPLES", samples)
        return self.execute(b"MEMORY", b"USAGE", key, *args)

    def role(self) -> Reply[Any]:
        """Return the role of the server instance.

        Returns ``MasterInfo``, ``SlaveInfo`` or ``SentinelInfo`` named tuples.
        For fields information see http://redis.io/commands/role#output-format
        """
        return self._execute_converted(parse_role, b"ROLE", encoding="utf-8")

    def save(self) -> Reply[Value]:
        """Synchronously save the dataset to disk (returns the server's ``OK``)."""
        return self.execute(b"SAVE")

    def shutdown(self, save: Optional[str] = None) -> Reply[Any]:
        """Synchronously save the dataset to disk and then shut down the server.

        ``save`` is None (the server's configured behaviour), ``SHUTDOWN_SAVE`` or ``SHUTDOWN_NOSAVE``.

        :raises ValueError: for any other ``save`` value
        """
        modifiers = {None: (), self.SHUTDOWN_SAVE: (b"SAVE",), self.SHUTDOWN_NOSAVE: (b"NOSAVE",)}
        try:
            args = modifiers[save]
        except (KeyError, TypeError):
            raise ValueError(f"save must be None, SHUTDOWN_SAVE or SHUTDOWN_NOSAVE, got {save!r}") from None
        return self.execute(b"SHUTDOWN", *args)

    def slaveof(self, host: Optional[str], port: Optional[int] = None) -> Reply[Value]:
        """Make the server a slave of another instance, or promote it as master.

        Calling ``slaveof(None)`` will send ``SLAVEOF NO ONE``.
        """
        return self.execute(b"SLAVEOF", *_replication_source(host, port))

    def replicaof(self, host: Optional[str], port: Optional[int] = None) -> Reply[bool]:
        """Make the server a replica of ``host:port``; ``replicaof(None)`` promotes it to master."""
        return self._execute_converted(_accepted, b"REPLICAOF", *_replication_source(host, port))

    def slowlog_get(self, length: Optional[int] = None) -> Reply[List[Any]]:
        """Returns the Redis slow queries log.

        :raises TypeError: if length is not int or None
        """
        if length is None:
            return self.execute(b"SLOWLOG", b"GET")
        _check_int("length", length)
        return self.execute(b"SLOWLOG", b"GET", length)

    def slowlog_len(self) -> Reply[int]:
        """Returns length of Redis slow queries log."""
        return self.execute(b"SLOWLOG", b"LEN")

    def slowlog_reset(self) -> Reply[bool]:
        """Resets Redis slow queries log."""
        return self._execute_converted(reply_is_ok, b"SLOWLOG", b"RESET")

    def sync(self) -> NoReturn:
        """Not supported: SYNC makes the server stream a snapshot and then every write to this connection."""
        raise NotImplementedError("SYNC is the replication handshake and cannot share a command connection")

    def time(self) -> Reply[float]:
        """Return current server time as a float of seconds since the epoch."""
        return self._execute_converted(to_time, b"TIME")

    def acl_cat(self, category: Optional[str] = None) -> Reply[List[Value]]:
        """List the ACL categories, or the commands in one category."""
        args = () if category is None else (category,)
        return self.execute(b"ACL", b"CAT", *args)

    def acl_deluser(self, username: str, *usernames: str) -> Reply[int]:
        """Delete ACL users; returns how many existed."""
        return self.execute(b"ACL", b"DELUSER", username, *usernames)

    def acl_getuser(self, username: str) -> Reply[Optional[Dict[str, Any]]]:
        """Describe an ACL user as a dict of str keys (None if there is no such user).

        Values are as the server sends them, decoded as utf-8; ``selectors`` is a list of dicts.
        """
        return self._execute_converted(_to_acl_user, b"ACL", b"GETUSER", username, encoding="utf-8")

    def acl_list(self) -> Reply[List[Value]]:
        """Return the ACL rules of every user, one line per user."""
        return self.execute(b"ACL", b"LIST")

    def acl_setuser(self, username: str, *rules: str) -> Reply[bool]:
        """Create or modify an ACL user by applying ``rules`` such as ``"on"``, ``">pass"``, ``"+get"``."""
        return self._execute_converted(reply_is_ok, b"ACL", b"SETUSER", username, *rules)

    def acl_users(self) -> Reply[List[Value]]:
        """List the names of the ACL users."""
        return self.execute(b"ACL", b"USERS")

    def acl_whoami(self) -> Reply[Value]:
        """Return the user name the current connection is authenticated as."""
        return self.execute(b"ACL", b"WHOAMI")


def _check_parameter(parameter):
    if not isinstance(parameter, str):
        raise TypeError(f"parameter must be str, got {type(parameter).__name__}")


def _async_flag(async_op):
    return (b"ASYNC",) if async_op else ()


def _replication_source(host, port):
    """Arguments of SLAVEOF/REPLICAOF: ``NO ONE`` for ``(None, None)``, else host and port."""
    if host is None and port is None:
        return (b"NO", b"ONE")
    if host is None or port is None:
        raise ValueError("give both host and port, or neither to promote the server to master")
    _check_int("port", port, 0)
    return (host, port)


def to_time(obj):
    """``[seconds, microseconds]`` to float seconds."""
    return int(obj[0]) + int(obj[1]) * 1e-6


@lru_cache(maxsize=16)
def _client_info_type(fields):
    return namedtuple("ClientInfo", fields, rename=True)


def _client_fields(line):
    pairs = (item.partition("=") for item in line.split(" ") if item)
    return {key.replace("-", "_"): value for key, _, value in pairs}


def _to_client_info(line):
    fields = _client_fields(line)
    return _client_info_type(tuple(fields))(*fields.values())


def to_tuples(value):
    """CLIENT LIST text to a list of ``ClientInfo`` named tuples (one class per set of fields)."""
    return [_to_client_info(line) for line in value.splitlines() if line]


def _info_value(value):
    """``a=1,b=2`` to a dict when it has several ``=`` pairs (as aioredis 1.3.1 does), else the str."""
    if "," in value and "=" in value:
        items = [item.partition("=") for item in value.split(",")]
        if all(sep for _, sep, _ in items):
            return {key: val for key, _, val in items}
    return value


def parse_info(info):
    """INFO text to ``{section: {field: value}}``.

    Section names are lower-case; values stay str except multi-pair values, which become
    dicts. Fields before the first ``# Section`` header go under ``""``; a line without
    ``:`` maps to ``""``; blank lines are skipped.
    """
    result = {}
    section = None
    for line in info.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            section = result.setdefault(line[1:].strip().lower(), {})
            continue
        if section is None:
            section = result.setdefault("", {})
        key, _, value = line.partition(":")
        section[key] = _info_value(value)
    return result


def parse_role(role):
    """ROLE reply to ``MasterInfo``, ``SlaveInfo`` or ``SentinelInfo`` (unknown roles pass unchanged)."""
    kind = role[0]
    if kind == "master":
        slaves = [MasterSlaveInfo(ip, int(port), int(offset)) for ip, port, offset in role[2]]
        return MasterInfo(kind, int(role[1]), slaves)
    if kind == "slave":
        return SlaveInfo(kind, role[1], int(role[2]), role[3], int(role[4]))
    if kind == "sentinel":
        return SentinelInfo(kind, role[1])
    return role


def _to_acl_user(reply):
    if reply is None:
        return None
    user = pairs_to_dict(reply)
    if "selectors" in user:
        user["selectors"] = [pairs_to_dict(selector) for selector in user["selectors"]]
    return user
