"""No password appears in a repr, a log line or an exception message (issue 10, Secrets).

Every error path reachable with a password is tried with a unique marker password; the
marker must not show in ``str``/``repr`` of the exception and of every exception it chains
to (``__cause__``, ``__context__``), nor in any log record, nor in a repr.
"""
import logging

import pytest

import aioredis_cy
from aioredis_cy._server import free_port
from aioredis_cy.sentinel import SentinelPool, create_sentinel
from aioredis_cy.util import parse_url

MARKER = "Zq9MarkerSecret7x"


def _chain(exc):
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def assert_no_marker(exc=None, caplog=None, *objects):
    for error in _chain(exc):
        assert MARKER not in str(error), repr(error)
        assert MARKER not in repr(error)
        for arg in error.args:
            assert MARKER not in repr(arg)
    if caplog is not None:
        for record in caplog.records:
            assert MARKER not in record.getMessage()
    for obj in objects:
        assert MARKER not in repr(obj)


@pytest.fixture
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.mark.parametrize("uri", [
    f"redis://:{MARKER}@localhost:bad/0",              # bad port
    f"redis://:{MARKER}@localhost:99999",              # port out of range
    f"redis://:{MARKER[:5]}#{MARKER[5:]}@localhost",   # unencoded '#'
    f"redis://:{MARKER[:5]}/{MARKER[5:]}@localhost/0",  # unencoded '/'
    f"redis://:{MARKER[:5]}?{MARKER[5:]}@localhost",   # unencoded '?'
    f"redis://:{MARKER}@localhost?password=other",     # two passwords
    f"redis://:other@localhost?password={MARKER}",
    f"redis://localhost?password={MARKER[:5]}&{MARKER[5:]}=1",  # unencoded '&'
    f"redis://localhost?password={MARKER[:5]}#{MARKER[5:]}",
    f"redis://:{MARKER}@localhost/notadb",
    f"redis://:{MARKER}@localhost?db=x",
    f"redis://:{MARKER}@localhost?ssl_keyfile=/k.pem&ssl=true",
    f"unix://:{MARKER}@host:123/tmp/sock",
    f"http://:{MARKER}@localhost",
])
def test_bad_uris(uri):
    with pytest.raises((ValueError, TypeError)) as info:
        parse_url(uri)
    assert_no_marker(info.value)


@pytest.mark.parametrize("factory", ["create_connection", "create_pool", "create_redis", "create_redis_pool"])
async def test_bad_uri_through_factories(factory, debug_logs):
    with pytest.raises(ValueError) as info:
        await getattr(aioredis_cy, factory)(f"redis://:{MARKER}@localhost:bad")
    assert_no_marker(info.value, debug_logs)


@pytest.mark.parametrize("factory", ["create_connection", "create_pool", "create_redis", "create_redis_pool"])
async def test_conflicting_passwords(factory, server, debug_logs):
    for uri, given in ((f"redis://:{MARKER}@127.0.0.1:{server.port}", "other"),
                       (f"redis://:other@127.0.0.1:{server.port}", MARKER)):
        with pytest.raises(ValueError, match="Conflicting password") as info:
            await getattr(aioredis_cy, factory)(uri, password=given)
        assert_no_marker(info.value, debug_logs)


@pytest.fixture(scope="module")
def auth_server(start_server):
    return start_server("secrets-auth", "requirepass rightpw", "user app on >apppw ~* +@all")


@pytest.mark.parametrize("factory", ["create_connection", "create_pool", "create_redis", "create_redis_pool"])
@pytest.mark.parametrize("username", [None, "app", "nobody"])
async def test_wrong_password(factory, username, auth_server, server, debug_logs, parser):
    kwargs = {"parser": parser} if factory in ("create_connection", "create_pool") else {}
    for address in (auth_server.tcp_address, server.tcp_address, auth_server.unix_socket,
                    f"redis://{username or ''}:{MARKER}@127.0.0.1:{auth_server.port}"):
        password = None if isinstance(address, str) and "://" in address else MARKER
        with pytest.raises(aioredis_cy.ReplyError) as info:
            await getattr(aioredis_cy, factory)(address, password=password, username=username, **kwargs)
        assert_no_marker(info.value, debug_logs)


async def test_auth_command_failure(create_redis, auth_server):
    redis = await create_redis(auth_server.tcp_address, password="rightpw")
    for username in (None, "app"):
        with pytest.raises(aioredis_cy.AuthError) as info:
            await redis.auth(MARKER, username=username)
        assert_no_marker(info.value)
    assert_no_marker(None, None, redis, redis.connection)


async def test_reprs_after_connecting(create_redis_pool, create_connection, auth_server):
    uri = f"redis://:rightpw@127.0.0.1:{auth_server.port}"
    pool = await create_redis_pool(uri)
    conn = await create_connection(auth_server.tcp_address, password="rightpw")
    # 'rightpw' stands in for the marker here: a right password is needed to get this far.
    for obj in (pool, pool.connection, conn):
        assert "rightpw" not in repr(obj)


def test_sentinel_pool_repr():
    pool = SentinelPool([f"redis://:{MARKER}@localhost:26379", ("localhost", 26380)], password=MARKER,
                        sentinel_password=MARKER, minsize=1, maxsize=2, timeout=1)
    assert "redis://:***@localhost:26379" in repr(pool)
    assert_no_marker(None, None, pool)


async def test_create_sentinel_failures(auth_server, debug_logs):
    unused_port = free_port()
    sentinels = [f"redis://:{MARKER}@127.0.0.1:{unused_port}",           # nothing listens
                 f"redis://:{MARKER}@127.0.0.1:{auth_server.port}",  # wrong password
                 f"redis://:{MARKER}@localhost:bad"]                       # bad URI
    with pytest.raises(aioredis_cy.RedisError) as info:
        await create_sentinel(sentinels, password=MARKER, sentinel_password=MARKER, timeout=2)
    assert "redis://:***@127.0.0.1" in str(info.value)
    assert any("Could not connect to sentinel 'redis://:***@" in r.getMessage() for r in debug_logs.records)
    assert_no_marker(info.value, debug_logs)
