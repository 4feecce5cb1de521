"""Small helpers shared by the command test modules."""
import asyncio
import os

import pytest

# AIOREDIS_CY_TEST_PROTOCOL=3 runs the tests again with RESP3: the client factories of the
# fixtures then connect with protocol=3 unless a test asks for another.
TEST_PROTOCOL = int(os.environ.get("AIOREDIS_CY_TEST_PROTOCOL") or 2)
PROTOCOL_DEFAULTS = {"protocol": TEST_PROTOCOL} if TEST_PROTOCOL != 2 else {}


def require(server, *version):
    """Skip the test unless the server is at least ``version`` (e.g. ``require(server, 6, 2)``)."""
    if server.version < version:
        pytest.skip(f"needs Redis {'.'.join(map(str, version))}+")


async def wait_until_blocked(other):
    """Poll (through another client) until some client is blocked on a command."""
    for _ in range(2000):
        if b"blocked_clients:0\r\n" not in await other.execute(b"INFO", b"clients"):
            return
        await asyncio.sleep(0.005)
    raise AssertionError("no client got blocked")


def parametrize_bad_calls(calls):
    """Parametrize ``method, args, kwargs, exc`` over rows of that shape, with ids ``method-i``."""
    ids = [f"{call[0]}-{i}" for i, call in enumerate(calls)]
    return pytest.mark.parametrize("method, args, kwargs, exc", calls, ids=ids)


async def assert_fails_before_sending(redis, method, args, kwargs, exc):
    """``redis.<method>(*args, **kwargs)`` raises ``exc`` and the connection still answers in order."""
    with pytest.raises(exc):
        await getattr(redis, method)(*args, **kwargs)
    assert await redis.ping() == b"PONG"


async def open_replica_pools(redis):
    """Open every replica's pool now: one that could not be opened in time (a loaded machine) would
    make reads fall back to the primary."""
    cluster = redis.connection
    await asyncio.gather(*(cluster.create_pool_by_addr(node.addr)
                           for node in cluster.get_cluster_state().replicas()))
