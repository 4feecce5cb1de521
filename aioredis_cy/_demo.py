"""A short tour of the API, run by ``python -m aioredis_cy demo``."""
import asyncio
from typing import Optional

import aioredis_cy

from ._server import LocalServer, ServerNotFound


class DemoError(Exception):
    """An ordinary failure (no server, refused connection) reported as one line."""


async def _tour(url: str) -> None:
    redis = await aioredis_cy.create_redis_pool(url, encoding="utf-8")
    try:
        await redis.set("demo:greeting", "hello")
        print("GET demo:greeting ->", await redis.get("demo:greeting"))
        # Concurrent commands share connections and are pipelined automatically.
        await asyncio.gather(*(redis.incr("demo:counter") for _ in range(1000)))
        print("1000 concurrent INCRs ->", await redis.get("demo:counter"))
        tr = redis.multi_exec()
        tr.rpush("demo:list", "a", "b", "c")
        tr.lrange("demo:list", 0, -1)
        print("MULTI/EXEC ->", await tr.execute())
        (channel,) = await redis.subscribe("demo:news")
        await redis.publish("demo:news", "it works")
        print("pub/sub ->", await channel.get(encoding="utf-8"))
        await redis.unsubscribe("demo:news")
        await redis.delete("demo:greeting", "demo:counter", "demo:list")
    finally:
        redis.close()
        await redis.wait_closed()


async def run_demo(url: Optional[str]) -> int:
    """Run the tour against ``url``, or against an embedded server started for it."""
    server = None
    if url is None:
        try:
            server = LocalServer("demo").start()
        except ServerNotFound as exc:
            raise DemoError(f"{exc}; or pass --url") from None
        except RuntimeError as exc:
            lines = [line for line in str(exc).splitlines() if line.strip()]
            raise DemoError(" ".join(lines[:1] + lines[-1:] if len(lines) > 1 else lines)) from None
        url = server.url
        print(f"started {server.binary} on {url}")
    try:
        await _tour(url)
    except (OSError, asyncio.TimeoutError, aioredis_cy.RedisError) as exc:
        raise DemoError(f"{url}: {exc or type(exc).__name__}") from None
    finally:
        if server is not None:
            server.cleanup()
    return 0
