"""A write that timed out on a busy node is not sent again."""
import asyncio

import pytest


async def test_timed_out_incr_runs_exactly_once(create_redis_cluster):
    redis = await create_redis_cluster(attempt_timeout=0.1)
    key = b"timeout:counter"
    owner = await redis.keys_master(key)
    sleeping = owner.execute(b"DEBUG", b"SLEEP", 0.5)
    with pytest.raises(asyncio.TimeoutError):
        await redis.incr(key)
    assert await sleeping == b"OK"
    assert await redis.get(key) == b"1"
