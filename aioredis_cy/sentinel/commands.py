"""``RedisSentinel``: the SENTINEL commands, and Redis clients for a service's master and replicas."""
from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any, Callable, Dict, List, Optional, Tuple

from .._typing import Address, Arg, SSLOption
from ..commands import Redis
from ..util import wait_convert, wait_ok
from .pool import SentinelPool, create_sentinel_pool

__all__ = ["create_sentinel", "RedisSentinel"]


async def create_sentinel(sentinels: Sequence[Address], *, db: Optional[int] = None,
                          password: Optional[str] = None, encoding: Optional[str] = None, minsize: int = 1,
                          maxsize: int = 10, ssl: Optional[SSLOption] = None,
                          timeout: float = 0.2, loop: Any = None, username: Optional[str] = None,
                          sentinel_password: Optional[str] = None, sentinel_username: Optional[str] = None,
                          sentinel_ssl: Optional[SSLOption] = None,
                          protocol: Optional[int] = None) -> RedisSentinel:
    """Connect to the sentinels and return a :class:`RedisSentinel`.

    ``sentinels`` lists ``(host, port)`` pairs or ``redis://``/``rediss://`` URIs. ``db``,
    ``password``, ``username``, ``encoding``, ``ssl``, ``minsize`` and ``maxsize`` apply to the
    clients of :meth:`RedisSentinel.master_for` and :meth:`RedisSentinel.slave_for`;
    ``sentinel_password``, ``sentinel_username`` and ``sentinel_ssl`` to the connections to
    the sentinels; ``protocol=3`` makes the master and replica clients speak RESP3.
    ``timeout`` bounds each discovery step. ``loop`` is ignored.
    """
    pool = await create_sentinel_pool(sentinels, db=db, password=password, encoding=encoding,
                                      minsize=minsize, maxsize=maxsize, ssl=ssl, timeout=timeout,
                                      username=username, sentinel_password=sentinel_password,
                                      sentinel_username=sentinel_username, sentinel_ssl=sentinel_ssl,
                                      protocol=protocol)
    return RedisSentinel(pool)


class RedisSentinel:
    """Redis Sentinel client: SENTINEL commands, and clients that follow a service's master or replicas."""

    def __init__(self, pool: SentinelPool) -> None:
        self._pool = pool

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._pool!r}>"

    def close(self) -> None:
        """Close every connection: to the sentinels and those of the master/replica clients."""
        self._pool.close()

    async def wait_closed(self) -> None:
        """Wait until every connection is closed."""
        await self._pool.wait_closed()

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._pool.closed

    def master_for(self, name: str) -> Redis:
        """A :class:`~aioredis_cy.Redis` client of ``name``'s master, following failovers."""
        return Redis(self._pool.master_for(name))

    def slave_for(self, name: str) -> Redis:
        """A :class:`~aioredis_cy.Redis` client of one of ``name``'s replicas."""
        return Redis(self._pool.slave_for(name))

    def execute(self, command: Arg, *args: Arg, **kwargs: Any) -> Awaitable[Any]:
        """Send ``SENTINEL <command> <args>`` to a sentinel; returns an awaitable of the reply."""
        return self._pool.execute(b"SENTINEL", command, *args, **kwargs)

    async def ping(self) -> Any:
        """PING a sentinel: ``b'PONG'``."""
        return await self._pool.execute(b"PING")

    def master(self, name: str) -> Awaitable[Dict[str, Any]]:
        """The state of master ``name`` as a dict (numbers as int, ``flags`` as a frozenset)."""
        return wait_convert(self.execute(b"MASTER", name, encoding="utf-8"), _parse_state)

    def master_address(self, name: str) -> Awaitable[Optional[Tuple[str, int]]]:
        """The ``(host, port)`` of master ``name``, or None if the sentinel does not know it."""
        return wait_convert(self.execute(b"get-master-addr-by-name", name, encoding="utf-8"), _parse_address)

    def masters(self) -> Awaitable[Dict[str, Dict[str, Any]]]:
        """The state of every monitored master: a dict of state dicts by master name."""
        return wait_convert(self.execute(b"MASTERS", encoding="utf-8"), _parse_masters)

    def slaves(self, name: str) -> Awaitable[List[Dict[str, Any]]]:
        """The state of each replica of ``name``: a list of dicts."""
        return wait_convert(self.execute(b"SLAVES", name, encoding="utf-8"), _parse_states)

    def sentinels(self, name: str) -> Awaitable[List[Dict[str, Any]]]:
        """The state of each other sentinel monitoring ``name``: a list of dicts."""
        return wait_convert(self.execute(b"SENTINELS", name, encoding="utf-8"), _parse_states)

    def monitor(self, name: str, ip: str, port: int, quorum: int) -> Awaitable[bool]:
        """Start monitoring master ``name`` at ``ip:port`` with the given quorum; True when done."""
        return wait_ok(self.execute(b"MONITOR", name, ip, port, quorum))

    def remove(self, name: str) -> Awaitable[bool]:
        """Stop monitoring master ``name``; True when done."""
        return wait_ok(self.execute(b"REMOVE", name))

    def set(self, name: str, option: str, value: Arg) -> Awaitable[bool]:
        """Change a monitoring option of master ``name`` (e.g. ``quorum``); True when done."""
        return wait_ok(self.execute(b"SET", name, option, value))

    def failover(self, name: str) -> Awaitable[bool]:
        """Fail over master ``name`` now, without asking the other sentinels; True when started."""
        return wait_ok(self.execute(b"FAILOVER", name))

    def check_quorum(self, name: str) -> Awaitable[Any]:
        """Check that the sentinels can reach the quorum and majority to fail ``name`` over.

        Returns the sentinel's OK message; raises ReplyError otherwise.
        """
        return self.execute(b"CKQUORUM", name)


def _frozenset_of_flags(value: str) -> frozenset:
    return frozenset(value.split(","))


# How the values of a state reply are converted, by field (as aioredis 1.3.1 does).
SENTINEL_STATE_TYPES: Dict[str, Callable[[str], Any]] = {
    **dict.fromkeys((
        "can-failover-its-master", "config-epoch", "down-after-milliseconds", "failover-timeout",
        "info-refresh", "last-hello-message", "last-ok-ping-reply", "last-ping-reply", "last-ping-sent",
        "master-link-down-time", "master-port", "num-other-sentinels", "num-slaves", "o-down-time",
        "pending-commands", "link-pending-commands", "link-refcount", "parallel-syncs", "port", "quorum",
        "role-reported-time", "s-down-time", "slave-priority", "slave-repl-offset", "voted-leader-epoch",
    ), int),
    "flags": _frozenset_of_flags,
}


def _parse_state(reply) -> Dict[str, Any]:
    """A flat ``[field, value, ...]`` reply as a dict, values converted where known (else kept)."""
    it = iter(reply)
    state = {}
    for key, value in zip(it, it):
        convert = SENTINEL_STATE_TYPES.get(key)
        if convert is not None:
            try:
                value = convert(value)
            except (TypeError, ValueError):
                pass
        state[key] = value
    return state


def _parse_states(reply):
    return [_parse_state(item) for item in reply]


def _parse_masters(reply):
    return {state["name"]: state for state in _parse_states(reply)}


def _parse_address(reply):
    if reply is None:
        return None
    return reply[0], int(reply[1])
