"""Pub/sub commands: publishing, (un)subscribing and the ``PUBSUB`` introspection commands.

``subscribe``/``psubscribe``/``ssubscribe`` return the :class:`~aioredis_cy.pubsub.Channel`
objects that receive the messages. On a pool they all go through the pool's one
dedicated pub/sub connection.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional

from .._typing import Arg, ChannelArg, CommandsBase, Reply, Value
from ..util import _to_bytes, pairs_to_dict

if TYPE_CHECKING:
    from ..pubsub import Channel

__all__ = ["PubSubCommandsMixin"]


async def _subscribed_channels(confirmations, conn, registry: str):
    """Await the confirmations and return the subscribed channel objects, in order.

    The registry (``pubsub_channels`` or ``pubsub_patterns``) is read only afterwards:
    on a pool the pub/sub connection may not exist before the command is sent.
    """
    replies = await confirmations
    channels = getattr(conn, registry)
    return [channels[_to_bytes(name)] for _kind, name, _count in replies]


class PubSubCommandsMixin(CommandsBase):
    """Pub/sub commands; see https://redis.io/commands/?group=pubsub."""

    def publish(self, channel: Arg, message: Arg) -> Reply[int]:
        """Post ``message`` to ``channel``; the reply is the number of receivers."""
        return self.execute(b"PUBLISH", channel, message)

    def publish_json(self, channel: Arg, obj: Any) -> Reply[int]:
        """Post ``obj`` encoded as JSON to ``channel``."""
        return self.publish(channel, json.dumps(obj))

    def spublish(self, shardchannel: Arg, message: Arg) -> Reply[int]:
        """Post ``message`` to the shard channel ``shardchannel`` (Redis 7)."""
        return self.execute(b"SPUBLISH", shardchannel, message)

    def subscribe(self, channel: ChannelArg, *channels: ChannelArg) -> Reply[List[Channel]]:
        """Subscribe to channels (names or Channel objects); returns the list of Channels."""
        return self._subscribe(b"SUBSCRIBE", "pubsub_channels", channel, channels)

    def unsubscribe(self, channel: ChannelArg, *channels: ChannelArg) -> Reply[List[Any]]:
        """Unsubscribe from channels; returns the server's confirmations."""
        return self._pool_or_conn.execute_pubsub(b"UNSUBSCRIBE", channel, *channels)

    def psubscribe(self, pattern: ChannelArg,
                   *patterns: ChannelArg) -> Reply[List[Channel]]:
        """Subscribe to patterns; returns the list of pattern Channels (``is_pattern`` True)."""
        return self._subscribe(b"PSUBSCRIBE", "pubsub_patterns", pattern, patterns)

    def punsubscribe(self, pattern: ChannelArg, *patterns: ChannelArg) -> Reply[List[Any]]:
        """Unsubscribe from patterns; returns the server's confirmations."""
        return self._pool_or_conn.execute_pubsub(b"PUNSUBSCRIBE", pattern, *patterns)

    def ssubscribe(self, shardchannel: ChannelArg,
                   *shardchannels: ChannelArg) -> Reply[List[Channel]]:
        """Subscribe to shard channels (Redis 7); returns the list of Channels.

        They are listed in ``channels`` along with the plain ones.
        """
        return self._subscribe(b"SSUBSCRIBE", "pubsub_channels", shardchannel, shardchannels)

    def sunsubscribe(self, shardchannel: ChannelArg,
                     *shardchannels: ChannelArg) -> Reply[List[Any]]:
        """Unsubscribe from shard channels (Redis 7); returns the server's confirmations."""
        return self._pool_or_conn.execute_pubsub(b"SUNSUBSCRIBE", shardchannel, *shardchannels)

    def _subscribe(self, command, registry, first, rest):
        conn = self._pool_or_conn
        return _subscribed_channels(conn.execute_pubsub(command, first, *rest), conn, registry)

    def pubsub_channels(self, pattern: Optional[Arg] = None) -> Reply[List[Value]]:
        """The active channels (with at least one subscriber), optionally matching ``pattern``."""
        if pattern is None:
            return self.execute(b"PUBSUB", b"CHANNELS")
        return self.execute(b"PUBSUB", b"CHANNELS", pattern)

    def pubsub_numsub(self, *channels: Arg) -> Reply[Dict[Value, int]]:
        """Dict of channel name -> number of subscribers, for the given channels."""
        return self._execute_converted(pairs_to_dict, b"PUBSUB", b"NUMSUB", *channels)

    def pubsub_numpat(self) -> Reply[int]:
        """The number of pattern subscriptions (of all clients)."""
        return self.execute(b"PUBSUB", b"NUMPAT")

    def pubsub_shardchannels(self, pattern: Optional[Arg] = None) -> Reply[List[Value]]:
        """The active shard channels, optionally matching ``pattern`` (Redis 7)."""
        if pattern is None:
            return self.execute(b"PUBSUB", b"SHARDCHANNELS")
        return self.execute(b"PUBSUB", b"SHARDCHANNELS", pattern)

    def pubsub_shardnumsub(self, *shardchannels: Arg) -> Reply[Dict[Value, int]]:
        """Dict of shard channel name -> number of subscribers (Redis 7)."""
        return self._execute_converted(pairs_to_dict, b"PUBSUB", b"SHARDNUMSUB", *shardchannels)

    @property
    def channels(self) -> Mapping[bytes, Channel]:
        """Read-only dict of the subscribed channels (and shard channels) by name."""
        return self._pool_or_conn.pubsub_channels

    @property
    def patterns(self) -> Mapping[bytes, Channel]:
        """Read-only dict of the subscribed patterns."""
        return self._pool_or_conn.pubsub_patterns

    @property
    def in_pubsub(self) -> int:
        """The number of subscriptions; 0 when not in pub/sub mode."""
        return self._pool_or_conn.in_pubsub
