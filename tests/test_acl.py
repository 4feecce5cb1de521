"""ACL users (Redis 6+): ``username=`` and ``redis://user:password@host`` for every factory, and ``auth()``.

The server's default user needs no password; ``app`` may only touch ``app:*`` keys and
not run dangerous commands; ``reader`` may only read; ``odd`` has a password with URI
delimiters in it. Refusals are NoPermissionError (NOPERM) or AuthError, and the
connection stays usable after either.
"""
from urllib.parse import quote

import pytest

import aioredis_cy
from aioredis_cy import AuthError, Channel, ReplyError
from aioredis_cy.errors import NoPermissionError

ODD_PASSWORD = "p@ss:w/rd?#%"


@pytest.fixture(scope="module")
def acl_server(start_server):
    return start_server(
        "acl-users",
        "user app on >apppw ~app:* +@all -@dangerous",
        "user reader on >readpw ~* +@read +@connection +acl|whoami",
        f"user odd on >{ODD_PASSWORD} ~* +@all",
        "user listener on >listenpw ~* resetchannels &news:* +@all",
    )


def acl_uri(server, user, password, path=""):
    return f"redis://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{server.port}{path}"


async def check_app_permissions(execute):
    """``execute`` runs as ``app``: its keys work, other keys and dangerous commands raise NOPERM."""
    assert await execute("SET", "app:key", "v") in (b"OK", True)
    with pytest.raises(NoPermissionError) as info:
        await execute("SET", "other:key", "v")
    assert isinstance(info.value, ReplyError)
    assert str(info.value).startswith("NOPERM")
    with pytest.raises(NoPermissionError):
        await execute("KEYS", "*")
    with pytest.raises(NoPermissionError):
        await execute("FLUSHALL")
    assert await execute("GET", "app:key") == b"v"   # still usable


async def test_connection_as_user(create_connection, acl_server):
    conn = await create_connection(acl_server.tcp_address, username="app", password="apppw")
    assert await conn.execute("ACL", "WHOAMI") == b"app"
    await check_app_permissions(conn.execute)


async def test_uri_user(create_connection, acl_server):
    conn = await create_connection(acl_uri(acl_server, "app", "apppw", "/1"))
    assert await conn.execute("ACL", "WHOAMI") == b"app"
    assert conn.db == 1
    odd = await create_connection(acl_uri(acl_server, "odd", ODD_PASSWORD))
    assert await odd.execute("ACL", "WHOAMI") == b"odd"


async def test_uri_and_keyword_must_agree(acl_server):
    with pytest.raises(ValueError, match="username"):
        await aioredis_cy.create_connection(acl_uri(acl_server, "app", "apppw"), username="reader")


@pytest.mark.parametrize("username, password", [("app", "wrong"), ("nobody", "apppw")])
async def test_wrong_password(acl_server, username, password):
    with pytest.raises(AuthError, match="WRONGPASS"):
        await aioredis_cy.create_connection(acl_server.tcp_address, username=username, password=password)
    with pytest.raises(AuthError):
        await aioredis_cy.create_pool(acl_uri(acl_server, username, password))
    with pytest.raises(AuthError):
        await aioredis_cy.create_redis_pool(acl_server.tcp_address, username=username, password=password)


async def test_auth_command(create_connection, acl_server):
    conn = await create_connection(acl_server.tcp_address)
    with pytest.raises(AuthError):
        await conn.auth("wrong", username="app")
    assert await conn.execute("ACL", "WHOAMI") == b"default"   # still usable, still the default user
    assert await conn.auth("apppw", username="app") is True
    await check_app_permissions(conn.execute)


async def test_pool_as_user(create_pool, acl_server):
    pool = await create_pool(acl_server.tcp_address, username="app", password="apppw", minsize=2)
    await check_app_permissions(pool.execute)
    await pool.auth("readpw", username="reader")
    with pytest.raises(NoPermissionError):
        await pool.execute("SET", "app:key", "w")
    assert await pool.execute("GET", "app:key") == b"v"
    async with pool.get() as conn:   # a new or reused connection: the reader either way
        assert await conn.execute("ACL", "WHOAMI") == b"reader"


async def test_redis_clients(create_redis, create_redis_pool, acl_server):
    redis = await create_redis(acl_uri(acl_server, "app", "apppw"))
    assert await redis.acl_whoami() == b"app"
    await check_app_permissions(redis.execute)

    pooled = await create_redis_pool(acl_server.tcp_address, username="reader", password="readpw",
                                     encoding="utf-8")
    assert await pooled.get("app:key") == "v"
    with pytest.raises(NoPermissionError):
        await pooled.set("app:key", "w")
    await pooled.auth("apppw", username="app")
    assert await pooled.set("app:key", "w") is True

    single = await create_redis(acl_server.tcp_address)
    with pytest.raises(AuthError):
        await single.auth("wrong", username="reader")
    assert await single.auth("readpw", username="reader") is True
    assert await single.acl_whoami() == b"reader"


@pytest.mark.parametrize("command, allowed, refused", [
    ("SUBSCRIBE", ["news:a", "news:b"], ["news:a", "gossip:a", "news:b"]),
    ("PSUBSCRIBE", ["news:*"], ["news:*", "gossip:*"]),   # a pattern must be one the ACL names
])
async def test_subscribe_refused_as_a_whole_keeps_replies_in_order(create_connection, acl_server,
                                                                   command, allowed, refused):
    """NOPERM for one of several channels is one error reply for the whole command:
    every channel of it fails, and the replies after it still reach their own callers."""
    conn = await create_connection(acl_server.tcp_address, username="listener", password="listenpw")
    is_pattern = command == "PSUBSCRIBE"
    with pytest.raises(NoPermissionError):
        await conn.execute_pubsub(command, *[Channel(name, is_pattern) for name in refused])
    assert not conn.in_pubsub
    assert await conn.execute("ECHO", "after") == b"after"
    channels = [Channel(name, is_pattern) for name in allowed]
    await conn.execute_pubsub(command, *channels)
    publisher = await create_connection(acl_server.tcp_address)
    assert await publisher.execute("PUBLISH", "news:a", "hello") == 1
    assert await channels[0].get() in (b"hello", (b"news:a", b"hello"))
