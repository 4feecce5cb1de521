"""Mistakes ``mypy --strict`` must report; each marked line ends with the error code expected there.

``unused-awaitable`` (a bare ``redis.set(...)`` statement without ``await``) is not part of
``--strict``; projects turn it on as this file does.
"""
# mypy: enable-error-code="unused-awaitable"
import aioredis_cy as aioredis


async def main() -> None:
    redis = await aioredis.create_redis_pool("redis://localhost", encoding="utf-8")
    await redis.sett("key", "value")  # E: attr-defined
    length: int = redis.strlen("key")  # E: assignment
    redis.set("key", "value")  # E: unused-awaitable
    await redis.expire("key", "10")  # E: arg-type
    await redis.lpush("key", None)  # E: arg-type
    await redis.set("key", None)  # E: call-overload
    await redis.get("key", encodng="utf-8")  # E: call-arg
    await redis.set("key", "value", expires=10)  # E: call-overload
    (await redis.incr("counter")).decode()  # E: attr-defined
    tr = redis.multi_exec()
    tr.incrr("counter")  # E: attr-defined
    await tr.execute()
    pending = aioredis.create_redis_pool("redis://localhost")
    await pending.get("key")  # E: attr-defined
    conn = await aioredis.create_connection(("localhost", "6379"))  # E: arg-type
    await conn.execute("GET", None)  # E: arg-type
    await redis.execute("SET", "key", None)  # E: arg-type
    print(length)
