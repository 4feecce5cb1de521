"""aioredis 1.x names and behaviours that 1.x code uses (issues 11, 15 and 16), written as 1.x code would."""
import asyncio
import gc
import logging

import pytest

import aioredis_cy as aioredis
from aioredis_cy import errors
from aioredis_cy.abc import AbcConnection, AbcPool

# -- ReplyError picks the user's subclass ----------------------------------------------------

@pytest.fixture
def user_errors():
    """ReplyError subclasses as a 1.x user defines them; forgotten after the test, so the
    readers' choice in C without user subclasses stays what the other tests exercise."""
    class MyError(aioredis.ReplyError):
        MATCH_REPLY = "ERR my error"

    class MyWrongType(aioredis.ReplyError):
        MATCH_REPLY = ("WRONGTYPE ",)

    class MyNoAuth(aioredis.AuthError):
        MATCH_REPLY = ("NOAUTH ",)

    classes = [MyError, MyWrongType, MyNoAuth]
    del MyError, MyWrongType, MyNoAuth
    yield classes
    classes.clear()
    gc.collect()
    assert not errors._USER_SUBCLASSES


def test_reply_error_picks_user_subclass(user_errors):
    MyError, MyWrongType, MyNoAuth = user_errors
    assert type(aioredis.ReplyError("my error")) is aioredis.ReplyError
    assert type(aioredis.ReplyError("ERR my error")) is MyError
    assert type(aioredis.ReplyError("ERR my error: details")) is MyError
    assert type(aioredis.ReplyError("WRONGTYPE Operation against a key")) is MyWrongType
    assert type(aioredis.ReplyError("NOAUTH Authentication required.")) is MyNoAuth
    assert type(aioredis.AuthError("NOAUTH Authentication required.")) is MyNoAuth
    assert type(aioredis.ReplyError("ERR invalid password")) is aioredis.AuthError
    assert type(aioredis.ReplyError("ERR other")) is aioredis.ReplyError
    assert type(aioredis.ReplyError("READONLY You can't write")) is aioredis.ReadOnlyError
    assert aioredis.ReplyError("ERR my error").args == ("ERR my error",)


async def test_reply_errors_from_server_use_user_subclass(create_connection, user_errors):
    # Every reader: Cython (which otherwise decides in C), PyReader and hiredis.
    MyError, MyWrongType, MyNoAuth = user_errors
    conn = await create_connection()
    await conn.execute("SET", "compat:str", "x")
    with pytest.raises(MyWrongType):
        await conn.execute("LPUSH", "compat:str", "y")
    with pytest.raises(aioredis.ReplyError) as info:
        await conn.execute("NO-SUCH-COMMAND")
    assert type(info.value) is aioredis.ReplyError
    with pytest.raises(aioredis.AuthError) as info:
        await conn.execute("AUTH", "nopass")
    assert type(info.value) is aioredis.AuthError
    assert await conn.execute("PING") == b"PONG"


_MESSAGES = ["ERR x", "ERR", "ERR max number of clients reached", "ERR invalid password",
             "ERR invalid username-password pair or user is disabled.",
             "ERR Client sent AUTH, but no password is set",
             "ERR AUTH <password> called without any password configured for the default user.",
             "ERR i", "ERR m", "NOAUTH Authentication required.", "NOAUTH", "WRONGPASS invalid",
             "READONLY You can't write against a read only replica.", "READONLY", "BUSYGROUP Consumer Group",
             "NOPERM this user", "NOSCRIPT No matching script.", "NOSCRIPT", "WRONGTYPE Operation", "", "X",
             "ERR my error"]


def _reader_types(reader_cls):
    reader = reader_cls(protocolError=errors.ProtocolError, replyError=errors.ReplyError)
    reader.feed(b"".join(b"-%s\r\n" % message.encode() for message in _MESSAGES))
    return [type(reader.gets()) for _ in _MESSAGES]


@pytest.mark.parametrize("with_user_class", [False, True])
def test_reader_choice_is_the_constructors(parser, with_user_class):
    if with_user_class:
        class Unmatched(aioredis.ReplyError):   # forces the walk of the class tree
            MATCH_REPLY = ("NO-SERVER-SENDS-THIS ",)
        assert errors._USER_SUBCLASSES
    expected = [type(aioredis.ReplyError(message)) for message in _MESSAGES]
    assert _reader_types(parser) == expected
    assert expected[:3] == [aioredis.ReplyError, aioredis.ReplyError, aioredis.MaxClientsError]


def test_bare_code_is_no_match():
    # A bare code without the space that MATCH_REPLY prefixes end with is no match.
    assert type(errors.ReplyError("NOAUTH")) is errors.ReplyError
    assert type(errors.ReplyError("READONLY")) is errors.ReadOnlyError


# -- 1.x module names ------------------------------------------------------------------------

def test_encode_command():
    from aioredis_cy.util import encode_command

    assert encode_command(b"SET", "key", 1, 1.5, bytearray(b"v")) == \
        b"*5\r\n$3\r\nSET\r\n$3\r\nkey\r\n$1\r\n1\r\n$3\r\n1.5\r\n$1\r\nv\r\n"
    assert isinstance(encode_command(b"PING"), bytearray)
    buf = bytearray(b"prefix")
    assert encode_command("PING", buf=buf) is buf
    assert buf == b"prefix*1\r\n$4\r\nPING\r\n"
    assert encode_command() == b"*0\r\n"
    assert encode_command("é") == "*1\r\n$2\r\né\r\n".encode()
    for bad in (None, True, object(), [1], {"a": 1}, memoryview(b"x")):
        with pytest.raises(TypeError):
            encode_command("SET", bad)


def test_log_module():
    from aioredis_cy.log import logger, sentinel_logger

    assert isinstance(logger, logging.Logger)
    assert logger.name == "aioredis_cy"
    assert sentinel_logger.parent is logger


def test_parser_reader_is_the_default():
    from aioredis_cy.parser import DEFAULT_PARSER, PyReader, Reader, reader_class

    assert Reader is reader_class(DEFAULT_PARSER)
    reader = Reader()
    reader.feed(b"+OK\r\n")
    assert reader.gets() == b"OK"
    assert PyReader is not None
    with pytest.raises(ImportError):
        from aioredis_cy.parser import NoSuchName  # noqa: F401


def test_readme_top_level_names():
    for name in ("NoPermissionError", "NoScriptError", "BusyGroupError", "ReplyError", "AuthError",
                 "MaxClientsError", "ReadOnlyError", "ConnectionClosedError", "RedisError"):
        assert getattr(aioredis, name) is getattr(errors, name)
        assert name in aioredis.__all__


async def test_top_level_errors_from_server(create_redis):
    redis = await create_redis()
    await redis.delete("compat:stream")
    await redis.xgroup_create("compat:stream", "group", mkstream=True)
    with pytest.raises(aioredis.BusyGroupError):
        await redis.xgroup_create("compat:stream", "group")
    with pytest.raises(aioredis.NoScriptError):
        await redis.evalsha("0" * 40)


# -- addresses -------------------------------------------------------------------------------

async def test_unix_one_slash_uri(create_connection, server):
    conn = await create_connection(f"unix:{server.unix_socket}")
    assert conn.address == server.unix_socket
    assert await conn.execute("PING") == b"PONG"
    conn = await create_connection(f"unix:{server.unix_socket}?db=3")
    assert conn.db == 3
    redis = await aioredis.create_redis_pool(f"unix:{server.unix_socket}", minsize=1)
    try:
        assert await redis.ping() == b"PONG"
    finally:
        redis.close()
        await redis.wait_closed()


@pytest.mark.parametrize("uri", ["unix://host:123/", "unix://host/tmp/sock", "unix:", "unix://"])
async def test_unix_uri_with_host_is_refused(uri, create_connection):
    with pytest.raises(ValueError, match="unix URI"):
        await create_connection(uri)


# -- repr and *_cls checks -------------------------------------------------------------------

async def test_connection_repr(create_connection, server):
    conn = await create_connection(server.tcp_address)
    assert repr(conn) == "<RedisConnection [db:0]>"
    await conn.select(2)
    assert repr(conn) == "<RedisConnection [db:2]>"
    conn = await create_connection(server.unix_socket, db=1)
    assert repr(conn) == "<RedisConnection [db:1]>"


class NotAConnection:
    pass


async def test_bad_connection_cls_and_pool_cls(server):
    # 1.x checked these with assert: AssertionError (also a TypeError here).
    with pytest.raises(AssertionError):
        await aioredis.create_connection(server.tcp_address, connection_cls=NotAConnection)
    with pytest.raises(AssertionError):
        await aioredis.create_pool(server.tcp_address, connection_cls=NotAConnection)
    with pytest.raises(AssertionError):
        await aioredis.create_pool(server.tcp_address, pool_cls=NotAConnection)
    with pytest.raises(AssertionError):
        await aioredis.create_redis_pool(server.tcp_address, pool_cls=dict)
    with pytest.raises(TypeError):
        await aioredis.create_redis(server.tcp_address, connection_cls=NotAConnection)
    assert issubclass(aioredis.RedisConnection, AbcConnection)
    assert issubclass(aioredis.ConnectionsPool, AbcPool)


# -- WAITAOF ---------------------------------------------------------------------------------

async def test_waitaof(redis):
    info = await redis.execute("INFO", "server", encoding="utf-8")
    version = tuple(int(part) for part in info.split("redis_version:")[1].split()[0].split(".")[:2])
    if version >= (7, 2):
        assert await redis.waitaof(0, 0, 100) == [0, 0]
    else:
        with pytest.raises(aioredis.ReplyError, match="unknown command"):
            await redis.waitaof(0, 0, 100)
    for bad in ((-1, 0, 0), (0, -1, 0), (0, 0, -1), (None, 0, 0), (0, "x", 0)):
        with pytest.raises((TypeError, ValueError)):
            redis.waitaof(*bad)


async def test_async_with_redis(server):
    async with await aioredis.create_redis_pool(server.tcp_address) as redis:
        assert await redis.ping() == b"PONG"
    await asyncio.wait_for(redis.wait_closed(), 5)
    assert redis.closed
