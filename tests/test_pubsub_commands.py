"""The pub/sub commands of the Redis client, on a single connection and on a pool."""
import asyncio

import pytest

from aioredis_cy.errors import RedisError
from aioredis_cy.pool import ConnectionsPool
from aioredis_cy.pubsub import Channel, Receiver

from .test_pool import HANG


def on_pool(redis):
    return isinstance(redis._pool_or_conn, ConnectionsPool)


async def test_publish_and_publish_json(redis, create_redis):
    sub = await create_redis()
    (ch,) = await sub.subscribe("cmd:pub")
    assert await redis.publish("cmd:pub", "hello") == 1
    assert await redis.publish_json("cmd:pub", {"a": [1, None]}) == 1
    assert await redis.publish("cmd:nobody", "x") == 0
    assert await asyncio.wait_for(ch.get(), HANG) == b"hello"
    assert await asyncio.wait_for(ch.get_json(), HANG) == {"a": [1, None]}


async def test_subscribe_and_unsubscribe(redis, create_redis):
    pub = await create_redis()
    given = Channel("cmd:b", is_pattern=False)
    a, b = await redis.subscribe("cmd:a", given)
    assert b is given
    assert isinstance(a, Channel) and (a.name, a.is_pattern, a.is_active) == (b"cmd:a", False, True)
    assert dict(redis.channels) == {b"cmd:a": a, b"cmd:b": b}
    assert dict(redis.patterns) == {}
    assert redis.in_pubsub == 2
    await pub.publish("cmd:a", "1")
    await pub.publish("cmd:b", "2")
    assert await asyncio.wait_for(a.get(), HANG) == b"1"
    assert await asyncio.wait_for(b.get(encoding="utf-8"), HANG) == "2"
    assert await redis.unsubscribe("cmd:a", b) == [
        [b"unsubscribe", b"cmd:a", 1], [b"unsubscribe", b"cmd:b", 0]]
    assert not a.is_active and not b.is_active
    assert redis.in_pubsub == 0 and dict(redis.channels) == {}


async def test_registries_answer_to_str_keys(redis, create_redis):
    """1.x code indexes ``pubsub_channels``/``pubsub_patterns`` with the str it subscribed with."""
    pub = await create_redis()
    (ch,) = await redis.subscribe("cmd:str")
    (pattern,) = await redis.psubscribe("cmd:str:*")
    registries = [(redis.channels, redis.patterns)]
    registries.append((redis.connection.pubsub_channels, redis.connection.pubsub_patterns))
    for channels, patterns in registries:
        assert channels["cmd:str"] is ch
        assert channels[b"cmd:str"] is ch
        assert "cmd:str" in channels and "cmd:other" not in channels
        assert patterns.get("cmd:str:*") is pattern
        assert channels.get(None) is None
        assert list(channels) == [b"cmd:str"]
    await pub.publish("cmd:str", "hi")
    assert await asyncio.wait_for(redis.channels["cmd:str"].get(), HANG) == b"hi"
    await redis.unsubscribe("cmd:str")
    await redis.punsubscribe("cmd:str:*")
    assert "cmd:str" not in redis.channels


async def test_raw_subscribe_then_publish_from_another_client(create_connection, redis):
    """The 1.x pattern: subscribe with ``conn.execute``, read via ``pubsub_channels[str]``."""
    conn = await create_connection()
    await conn.execute("subscribe", "cmd:raw")
    ch = conn.pubsub_channels["cmd:raw"]
    assert await redis.publish("cmd:raw", "Hello") == 1
    assert await asyncio.wait_for(ch.wait_message(), HANG) is True
    assert await ch.get() == b"Hello"


async def test_subscribe_twice_returns_the_same_channel(redis):
    (first,) = await redis.subscribe("cmd:twice")
    (again,) = await redis.subscribe("cmd:twice")
    assert again is first
    await redis.unsubscribe("cmd:twice")


async def test_psubscribe_and_punsubscribe(redis, create_redis):
    pub = await create_redis()
    (pattern,) = await redis.psubscribe("cmd:p:*")
    assert pattern.is_pattern and pattern.name == b"cmd:p:*"
    assert dict(redis.patterns) == {b"cmd:p:*": pattern}
    assert redis.in_pubsub == 1
    await pub.publish("cmd:p:1", "x")
    assert await asyncio.wait_for(pattern.get(encoding="utf-8"), HANG) == (b"cmd:p:1", "x")
    assert await redis.punsubscribe("cmd:p:*") == [[b"punsubscribe", b"cmd:p:*", 0]]
    assert not pattern.is_active and redis.in_pubsub == 0


async def test_commands_while_subscribed(redis):
    await redis.subscribe("cmd:mode")
    if on_pool(redis):
        # The pool keeps a connection of its own for pub/sub.
        assert await redis.publish("cmd:mode", "x") == 1
        assert await asyncio.wait_for(redis.channels[b"cmd:mode"].get(), HANG) == b"x"
    elif redis.connection.protocol_version == 3:
        assert await redis.publish("cmd:mode", "x") == 1   # RESP3: commands run while subscribed
    else:
        with pytest.raises(RedisError):
            redis.publish("cmd:mode", "x")
    await redis.unsubscribe("cmd:mode")


async def test_receiver(redis, create_redis):
    pub = await create_redis()
    mpsc = Receiver()
    a, p = mpsc.channel("cmd:rcv"), mpsc.pattern("cmd:rcv:*")
    assert await redis.subscribe(a) == [a]
    assert await redis.psubscribe(p) == [p]
    await pub.publish("cmd:rcv", "1")
    await pub.publish("cmd:rcv:x", "2")
    assert await asyncio.wait_for(mpsc.get(encoding="utf-8"), HANG) == (a, "1")
    assert await asyncio.wait_for(mpsc.get(), HANG) == (p, (b"cmd:rcv:x", b"2"))
    await redis.unsubscribe(a)
    await redis.punsubscribe(p)
    assert not mpsc.is_active


async def test_introspection(redis, create_redis):
    sub = await create_redis()
    before = await redis.pubsub_numpat()
    await sub.subscribe("cmd:intro:1", "cmd:intro:2")
    await sub.psubscribe("cmd:intro:*")
    assert set(await redis.pubsub_channels()) >= {b"cmd:intro:1", b"cmd:intro:2"}
    assert sorted(await redis.pubsub_channels("cmd:intro:*")) == [b"cmd:intro:1", b"cmd:intro:2"]
    assert await redis.pubsub_numsub("cmd:intro:1", "cmd:none") == {b"cmd:intro:1": 1, b"cmd:none": 0}
    assert await redis.pubsub_numsub() == {}
    assert await redis.pubsub_numpat() == before + 1


async def test_sharded_pubsub(redis, create_redis, server):
    if server.version < (7,):
        pytest.skip("sharded pub/sub needs Redis 7")
    sub = await create_redis()
    (ch,) = await sub.ssubscribe("cmd:shard")
    assert ch.name == b"cmd:shard" and not ch.is_pattern
    assert sub.channels[b"cmd:shard"] is ch and sub.in_pubsub == 1
    assert await redis.pubsub_shardchannels() == [b"cmd:shard"]
    assert await redis.pubsub_shardchannels("cmd:*") == [b"cmd:shard"]
    assert await redis.pubsub_shardnumsub("cmd:shard") == {b"cmd:shard": 1}
    assert await redis.spublish("cmd:shard", "hi") == 1
    assert await asyncio.wait_for(ch.get(), HANG) == b"hi"
    assert await sub.sunsubscribe("cmd:shard") == [[b"sunsubscribe", b"cmd:shard", 0]]
    assert not ch.is_active and sub.in_pubsub == 0
