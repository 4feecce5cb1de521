"""Pub/sub over a cluster: classic channels and patterns on one node, shard channels on their slot's owner.

Classic pub/sub is cluster-wide (a PUBLISH reaches the subscribers of every node), so
every ``subscribe``/``psubscribe`` goes to the pub/sub connection of one primary. A shard
channel (``ssubscribe``) is served by the primary of its slot; each node's pool keeps one
pub/sub connection for all the shard channels it serves.

Subscriptions follow the cluster: when a node drops one without being asked (Redis 7 and
Valkey send ``sunsubscribe`` for the shard channels of a slot that moved away) or its
connection is lost (failover, restart), the subscription is made again where it now
belongs, with the caller's :class:`~aioredis_cy.pubsub.Channel` unchanged. Messages
published in between are lost, as pub/sub messages of a lost connection are. When it
cannot be made again within ``max_attempts`` tries, the Channel is closed with a
:class:`RedisClusterError` saying why: it never silently stops.
"""
import asyncio
from typing import Dict, List, Optional, Tuple

from ..abc import AbcChannel
from ..errors import ConnectionClosedError, PoolClosedError, ReplyError
from ..pubsub import Channel
from ..util import _to_bytes
from .errors import MovedError, RedisClusterError, redirect_error
from .keys import slot_of

__all__ = ["ClusterSubscriptions"]

Address = Tuple[str, int]
_LOST = (ConnectionClosedError, PoolClosedError, OSError, asyncio.TimeoutError, RedisClusterError)

# kind -> (subscribe command, unsubscribe command, is_pattern, sharded)
_KINDS = {
    "channel": (b"SUBSCRIBE", b"UNSUBSCRIBE", False, False),
    "pattern": (b"PSUBSCRIBE", b"PUNSUBSCRIBE", True, False),
    "shard": (b"SSUBSCRIBE", b"SUNSUBSCRIBE", False, True),
}
_BY_COMMAND = {command: (kind, command == spec[0]) for kind, spec in _KINDS.items() for command in spec[:2]}


class _Link(AbcChannel):
    """What a node's pub/sub connection holds for one subscription.

    Messages go straight on to the caller's channel (``target``). A close the caller did
    not ask for (the node dropped the subscription, or the connection was lost) makes
    the subscriptions manager subscribe again elsewhere instead.
    """

    __slots__ = ("target", "kind", "manager", "leaving", "addr")

    def __init__(self, target, kind: str, manager: "ClusterSubscriptions") -> None:
        self.target = target
        self.kind = kind
        self.manager = manager
        self.leaving = False               # unsubscribe asked: the next close is final
        self.addr: Optional[Address] = None   # the node it is subscribed on, None while moving

    @property
    def name(self):
        return self.target.name

    @property
    def is_pattern(self):
        return self.target.is_pattern

    @property
    def is_active(self):
        return self.target.is_active

    async def get(self, *, encoding=None, decoder=None):
        return await self.target.get(encoding=encoding, decoder=decoder)

    def put_nowait(self, data):
        return self.target.put_nowait(data)

    def close(self, exc=None):
        self.addr = None
        if self.leaving or self.manager.closed:
            self.manager.forget(self)
            self.target.close(exc)
        else:
            self.manager.follow(self, exc)


class ClusterSubscriptions:
    """Every subscription of one :class:`~aioredis_cy.cluster.Cluster`, by kind and name."""

    def __init__(self, cluster) -> None:
        self._cluster = cluster
        self._links: Dict[str, Dict[bytes, _Link]] = {kind: {} for kind in _KINDS}
        self._following: Dict[_Link, asyncio.Task] = {}

    @property
    def closed(self) -> bool:
        return self._cluster.closed

    def channels(self, *kinds: str) -> dict:
        """The caller's channels of ``kinds`` by name."""
        return {name: link.target for kind in kinds for name, link in self._links[kind].items()}

    @property
    def count(self) -> int:
        return sum(len(links) for links in self._links.values())

    # -- commands -------------------------------------------------------------

    async def execute(self, command, channels) -> list:
        """A subscribe-family command for ``channels``; the confirmations in the callers' order."""
        name = command.upper() if isinstance(command, bytes) else str(command).upper().encode()
        if name not in _BY_COMMAND:
            raise ValueError(f"Pub/Sub command expected, got {command!r}")
        if not channels:
            raise TypeError("No channels/patterns supplied")
        if any(channel is None for channel in channels):
            raise TypeError("Channel names must not be None")
        kind, subscribing = _BY_COMMAND[name]
        if subscribing:
            return await self._subscribe(kind, [self._link_for(kind, channel) for channel in channels])
        names = [_to_bytes(getattr(channel, "name", channel)) for channel in channels]
        return await self._unsubscribe(kind, names)

    def _link_for(self, kind: str, channel) -> _Link:
        is_pattern = _KINDS[kind][2]
        target = channel if isinstance(channel, AbcChannel) else Channel(channel, is_pattern)
        if target.is_pattern != is_pattern:
            raise ValueError(f"channel {target!r} does not match a {kind} subscription")
        link = self._links[kind].get(target.name)
        if link is None or link.leaving:
            link = _Link(target, kind, self)
        return link

    async def _subscribe(self, kind: str, links: List[_Link]) -> list:
        confirmations = await asyncio.gather(*self._send(kind, 0, links))
        return [confirmation for group in confirmations for confirmation in group]

    def _send(self, kind: str, index: int, links: List[_Link]) -> list:
        """Awaitables of the confirmations of ``links`` (subscribe: index 0, unsubscribe: 1).

        Classic channels go in one command per node (the pub/sub node when subscribing,
        the node each is on when unsubscribing); shard channels one command each (a
        refused one then fails alone) to their slot's owner.
        """
        command = _KINDS[kind][index]
        if _KINDS[kind][3]:
            return [self._send_to(slot_of(link.name), command, [link]) for link in links]
        groups: Dict[Optional[Address], List[_Link]] = {}
        for link in links:
            groups.setdefault(None if index == 0 else link.addr, []).append(link)
        return [self._send_to(None, command, group) for group in groups.values()]

    async def _send_to(self, slot: Optional[int], command, links: List[_Link]) -> list:
        """Send on the pub/sub connection of the node for ``slot`` (None: classic), following MOVED."""
        cluster = self._cluster
        subscribing = _BY_COMMAND[command][1]
        for attempt in range(cluster.max_attempts):
            if not subscribing and links[0].addr is not None:
                addr = links[0].addr   # unsubscribe where it is subscribed
            elif slot is None:
                addr = self.classic_addr()
            else:
                addr = cluster.slot_master(slot).addr
            pool = await cluster.create_pool_by_addr(addr)
            try:
                confirmations = await pool.execute_pubsub(command, *links)
            except ReplyError as exc:
                error = redirect_error(exc)
                if not isinstance(error, MovedError) or attempt == cluster.max_attempts - 1:
                    raise error from None if error is not exc else None
                cluster.note_moved(error)
                continue
            for link in links:
                if subscribing and not link.leaving:
                    link.addr = addr
                    self._links[link.kind][link.name] = link
            return confirmations
        raise AssertionError("unreachable")

    async def _unsubscribe(self, kind: str, names: List[bytes]) -> list:
        links = []
        for name in names:
            link = self._links[kind].get(name)
            if link is None:   # not subscribed: the server still confirms, with the count
                link = _Link(Channel(name, _KINDS[kind][2]), kind, self)
            link.leaving = True
            task = self._following.pop(link, None)
            if task is not None:
                task.cancel()
            links.append(link)
        confirmations = await asyncio.gather(*self._send(kind, 1, links))
        for link in links:   # the connection closed those it held; these were between nodes
            self.forget(link)
            link.target.close()
        return [confirmation for group in confirmations for confirmation in group]

    def classic_addr(self) -> Address:
        """The node of classic channels and patterns: the first primary by address."""
        masters = sorted(node.addr for node in self._cluster.get_cluster_state().masters())
        if not masters:
            raise RedisClusterError("the cluster has no primary for pub/sub")
        return masters[0]

    # -- following the cluster --------------------------------------------------

    def forget(self, link: _Link) -> None:
        links = self._links[link.kind]
        if links.get(link.name) is link:
            del links[link.name]

    def follow(self, link: _Link, exc: Optional[BaseException]) -> None:
        """The node dropped ``link`` (or its connection was lost): subscribe again where it belongs."""
        if link not in self._following:
            self._following[link] = asyncio.ensure_future(self._resubscribe(link, exc))

    async def _resubscribe(self, link: _Link, exc: Optional[BaseException]) -> None:
        cluster = self._cluster
        slot = slot_of(link.name) if _KINDS[link.kind][3] else None
        command = _KINDS[link.kind][0]
        try:
            for attempt in range(cluster.max_attempts):
                await asyncio.sleep(cluster.backoff(attempt))
                await asyncio.gather(cluster.schedule_refresh(), return_exceptions=True)
                try:
                    await self._send_to(slot, command, [link])
                    return
                except (ReplyError, *_LOST) as error:
                    exc = error
            link.leaving = True
            self.forget(link)
            link.target.close(RedisClusterError(
                f"the subscription to {link.name!r} was dropped by its node and could not be made again "
                f"in {cluster.max_attempts} attempts: {exc!r}"))
        finally:
            self._following.pop(link, None)

    def close(self) -> None:
        """Stop following (the cluster is closing; the connections close the channels)."""
        for task in self._following.values():
            task.cancel()

    async def wait_closed(self) -> None:
        await asyncio.gather(*self._following.values(), return_exceptions=True)
        for links in self._links.values():
            for link in list(links.values()):
                link.target.close()
            links.clear()
