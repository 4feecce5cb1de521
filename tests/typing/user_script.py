"""A script written as an aioredis 1.x user writes one; ``mypy --strict`` must accept it."""
import asyncio
from typing import List, Optional, Union

import aioredis_cy as aioredis
from aioredis_cy.pubsub import Receiver
from aioredis_cy.util import wait_convert


async def strings(redis: aioredis.Redis) -> None:
    await redis.set("key", "value", expire=10)
    value: Optional[Union[bytes, str]] = await redis.get("key")
    raw = await redis.get("key", encoding=None)
    if isinstance(raw, bytes):
        print(raw.decode())
    counter: int = await redis.incr("counter")
    total: float = await redis.incrbyfloat("total", 1.5)
    await asyncio.gather(*(redis.incr("counter") for _ in range(10)))
    print(value, counter, total, await redis.mget("key", "missing"))


async def collections(redis: aioredis.Redis) -> None:
    await redis.hmset_dict("hash", {"field": "value"})
    fields = await redis.hgetall("hash")
    for name, field_value in fields.items():
        print(name, field_value)
    length: int = await redis.rpush("list", "a", "b", 3, 4.5)
    await redis.sadd("set", "member")
    members = await redis.smembers("set")
    await redis.zadd("zset", 1, "one", 2.5, "two")
    ranked: List[Union[bytes, str]] = await redis.zrange("zset")
    for member, member_score in await redis.zrange("zset", 0, -1, withscores=True):
        print(member, member_score + 1)
    created: bool = await redis.set("lock", "me", exist=redis.SET_IF_NOT_EXIST, pexpire=100)
    previous = await redis.set("key", "new", get=True)
    print(ranked, created, previous)
    score = await redis.zscore("zset", "one")
    if score is not None:
        print(score + 1)
    async for key in redis.iscan(match="k*"):
        print(key)
    popped = await redis.blpop("list", timeout=1)
    print(length, members, popped)


async def more_commands(redis: aioredis.Redis) -> None:
    await redis.execute("SET", "raw", b"bytes")
    entry_id = await redis.xadd("stream", {"field": "value"})
    for stream, message_id, fields in await redis.xread(["stream"], timeout=10, latest_ids=[entry_id]):
        print(stream, message_id, dict(fields))
    print(await redis.eval("return redis.call('GET', KEYS[1])", keys=["raw"]))
    positions = await redis.geopos("places", "home")
    for point in positions:
        if point is not None:
            print(point.longitude + point.latitude)
    print(await redis.ttl("raw") > 0, await redis.exists("raw", "other"))
    size: int = await wait_convert(redis.execute("STRLEN", "raw"), int)
    print(size)
    cursor, keys = await redis.scan(match="k*")
    print(cursor, keys)


async def transactions(redis: aioredis.Redis) -> None:
    tr = redis.multi_exec()
    first = tr.incr("a")
    tr.set("b", 2)
    try:
        results = await tr.execute()
    except aioredis.MultiExecError as exc:
        results = [exc]
    print(results, await first)
    pipe = redis.pipeline()
    pipe.get("a")
    print(await pipe.execute(return_exceptions=True))
    await redis.watch("a")
    await redis.unwatch()


async def pubsub(redis: aioredis.Redis, sub: aioredis.Redis) -> None:
    channel, = await sub.subscribe("news")
    await redis.publish("news", "hello")
    while await channel.wait_message():
        message = await channel.get(encoding="utf-8")
        print(channel.name, message)
        break
    async for item in channel.iter(encoding="utf-8"):
        print(item)
    receiver = Receiver()
    await sub.subscribe(receiver.channel("more"))
    async for source, payload in receiver.iter():
        print(source.name, payload)
        break
    await sub.unsubscribe("news")


async def low_level() -> None:
    conn = await aioredis.create_connection(("localhost", 6379), encoding="utf-8")
    reply = await conn.execute("GET", "key")
    print(reply, conn.closed, conn.db)
    print(await aioredis.Redis(conn).dbsize())
    conn.close()
    await conn.wait_closed()
    pool = await aioredis.create_pool("redis://localhost", minsize=1, maxsize=4)
    with await pool as pooled:
        await pooled.execute("PING")
    async with pool.get() as pooled:
        await pooled.execute("PING")
    print(pool.size, pool.freesize)
    pool.close()
    await pool.wait_closed()


async def sentinel() -> None:
    sentinel = await aioredis.create_sentinel([("localhost", 26379)], timeout=1)
    master: aioredis.Redis = sentinel.master_for("mymaster")
    await master.set("key", "value")
    print(await sentinel.master_address("mymaster"))
    sentinel.close()
    await sentinel.wait_closed()


def check_reply(reply: object) -> None:
    if reply is None:
        raise aioredis.ReplyError("ERR no reply")


async def main() -> None:
    redis = await aioredis.create_redis_pool("redis://localhost", encoding="utf-8")
    sub = await aioredis.create_redis("redis://localhost")
    try:
        await strings(redis)
        await collections(redis)
        await more_commands(redis)
        await transactions(redis)
        await pubsub(redis, sub)
        with await redis as conn:
            await conn.ping()
        info = await redis.info()
        print(info["server"]["redis_version"])
    except aioredis.ReplyError as exc:
        print("error:", exc)
        check_reply(None)
    finally:
        redis.close()
        await redis.wait_closed()
        sub.close()
        await sub.wait_closed()
    async with await aioredis.create_redis_pool("redis://localhost", minsize=2) as client:
        await client.ping()
    await low_level()
    await sentinel()


if __name__ == "__main__":
    asyncio.run(main())
