"""Lua scripts, the Script helper and Redis 7 functions, on a single connection and on a pool."""
import asyncio
import hashlib

import pytest

from aioredis_cy.commands.scripting import Script
from aioredis_cy.errors import NoScriptError, ReplyError

LIBRARY = """#!lua name=aiotest
redis.register_function('echo_arg', function(keys, args) return args[1] end)
redis.register_function{function_name='get_key', flags={'no-writes'},
                        callback=function(keys, args) return redis.call('GET', keys[1]) end}
"""
LIBRARY_V2 = LIBRARY.replace("return args[1]", "return 'v2'")
SPIN_LIBRARY = """#!lua name=spin
redis.register_function{function_name='spin', flags={'no-writes'},
                        callback=function(keys, args) while true do end end}
"""
MISSING_SHA = "f" * 40


@pytest.fixture
async def functions(redis):
    """The client, with no function library before and after the test."""
    await redis.function_flush()
    yield redis
    await redis.function_flush()


# -- EVAL and the script cache -------------------------------------------------


async def test_eval(redis):
    assert await redis.eval("return 42") == 42
    assert await redis.eval("return {KEYS[1], ARGV[1], ARGV[2]}", ["k"], ["a", 2]) == [b"k", b"a", b"2"]
    assert await redis.eval("return {KEYS[1], KEYS[2]}", ("x", "y")) == [b"x", b"y"]
    assert await redis.eval("return ARGV[1]", args=["caf\xe9"], encoding="utf-8") == "caf\xe9"
    assert await redis.eval("return redis.call('SET', KEYS[1], ARGV[1])", ["k"], ["v"]) == b"OK"
    assert await redis.get("k") == b"v"
    assert await redis.eval("return nil") is None
    with pytest.raises(ReplyError):
        await redis.eval("return redis.call('INCR', KEYS[1])", ["k"])
    with pytest.raises(ReplyError):
        await redis.eval("this is not lua")


async def test_eval_ro(redis):
    await redis.set("k", "v")
    assert await redis.eval_ro("return redis.call('GET', KEYS[1])", ["k"]) == b"v"
    with pytest.raises(ReplyError):
        await redis.eval_ro("return redis.call('SET', KEYS[1], 'x')", ["k"])
    sha = await redis.script_load("return redis.call('GET', KEYS[1])")
    assert await redis.evalsha_ro(sha, ["k"], encoding="utf-8") == "v"


@pytest.mark.parametrize("method", ["eval", "eval_ro", "evalsha", "evalsha_ro", "fcall", "fcall_ro"])
@pytest.mark.parametrize("keys, args", [("k", []), ([], "a"), (None, []), ([], None), (["k", None], []),
                                        ([], [object()])])
async def test_bad_keys_and_args(redis, method, keys, args):
    with pytest.raises(TypeError):
        getattr(redis, method)("return 1", keys, args)
    assert await redis.ping() == b"PONG"


async def test_script_cache(redis):
    source = "return ARGV[1] .. ARGV[1]"
    sha = await redis.script_load(source)
    assert sha == hashlib.sha1(source.encode()).hexdigest().encode()
    assert await redis.evalsha(sha, [], ["ab"]) == b"abab"
    assert await redis.evalsha(sha.decode(), args=["x"]) == b"xx"
    assert await redis.script_exists(sha, MISSING_SHA) == [1, 0]
    assert await redis.script_flush() is True
    assert await redis.script_exists(sha) == [0]
    with pytest.raises(NoScriptError):
        await redis.evalsha(sha)
    with pytest.raises(NoScriptError):
        await redis.evalsha_ro(sha)
    with pytest.raises(ReplyError):
        await redis.script_load("not lua at all")


async def test_script_kill_with_nothing_running(redis):
    with pytest.raises(ReplyError, match="NOTBUSY"):
        await redis.script_kill()
    with pytest.raises(ReplyError, match="NOTBUSY"):
        await redis.function_kill()


async def _kill_when_busy(kill):
    """Call ``kill()`` until there is something running to kill."""
    for _ in range(1000):
        try:
            return await kill()
        except ReplyError as exc:
            if "NOTBUSY" not in str(exc):
                raise
        await asyncio.sleep(0.01)
    raise AssertionError("nothing ever ran")


async def test_script_kill_and_function_kill(start_server, create_redis):
    node = start_server("scripting-busy", "busy-reply-threshold 10")
    runner = await create_redis(node.tcp_address)
    killer = await create_redis(node.tcp_address)

    running = asyncio.ensure_future(runner.eval("while true do end"))
    assert await _kill_when_busy(killer.script_kill) is True
    with pytest.raises(ReplyError, match="killed"):
        await running

    await killer.function_load(SPIN_LIBRARY, replace=True)
    running = asyncio.ensure_future(runner.fcall_ro("spin"))
    assert await _kill_when_busy(killer.function_kill) is True
    with pytest.raises(ReplyError, match="killed"):
        await running
    assert await killer.function_delete("spin") is True
    assert await runner.ping() == b"PONG"


# -- the Script helper ---------------------------------------------------------


async def test_script_helper(redis):
    incr_by = redis.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    assert isinstance(incr_by, Script)
    await redis.script_flush()
    assert await incr_by(keys=["n"], args=[5]) == 5   # NOSCRIPT: sent in full, now cached
    assert await redis.script_exists(incr_by.sha) == [1]
    assert await incr_by(["n"], [2]) == 7               # by digest
    assert await redis.get("n") == b"7"


async def test_script_helper_digest_and_options(redis, create_redis):
    source = b"return {KEYS[1], ARGV[1]}"
    script = Script(redis, source)
    assert script.sha == hashlib.sha1(source).hexdigest()
    assert (await redis.script_load(source)).decode() == script.sha
    assert await script(["k"], ["v"], encoding="utf-8") == ["k", "v"]
    other = await create_redis(encoding="utf-8")
    assert await script(["k"], ["v"], client=other) == ["k", "v"]
    assert "Script" in repr(script)
    with pytest.raises(TypeError):
        Script(redis, 42)


async def test_script_helper_errors_propagate(redis):
    broken = redis.register_script("return redis.call('NOSUCH')")
    with pytest.raises(ReplyError):
        await broken()
    with pytest.raises(TypeError):
        await broken(keys="not a list")
    assert await redis.ping() == b"PONG"


# -- functions -------------------------------------------------------------------


async def test_function_load_and_call(functions):
    redis = functions
    assert await redis.function_load(LIBRARY) == b"aiotest"
    with pytest.raises(ReplyError, match="already exists"):
        await redis.function_load(LIBRARY)
    assert await redis.fcall("echo_arg", [], ["hello"]) == b"hello"
    assert await redis.fcall("echo_arg", args=["caf\xe9"], encoding="utf-8") == "caf\xe9"
    await redis.set("k", "v")
    assert await redis.fcall_ro("get_key", ["k"]) == b"v"
    with pytest.raises(ReplyError):
        await redis.fcall_ro("echo_arg", [], ["x"])   # not flagged no-writes
    assert await redis.function_load(LIBRARY_V2, replace=True) == b"aiotest"
    assert await redis.fcall("echo_arg", [], ["hello"]) == b"v2"
    with pytest.raises(ReplyError):
        await redis.fcall("no_such_function")


async def test_function_list_and_stats(functions):
    redis = functions
    assert await redis.function_list() == []
    await redis.function_load(LIBRARY)
    (library,) = await redis.function_list()
    assert library["library_name"] == b"aiotest"
    assert library["engine"] == b"LUA"
    assert "library_code" not in library
    functions_by_name = {function["name"]: function for function in library["functions"]}
    assert functions_by_name == {
        b"echo_arg": {"name": b"echo_arg", "description": None, "flags": []},
        b"get_key": {"name": b"get_key", "description": None, "flags": [b"no-writes"]},
    }
    (library,) = await redis.function_list("aio*", with_code=True, encoding="utf-8")
    assert library["library_name"] == "aiotest"
    assert library["library_code"] == LIBRARY
    assert await redis.function_list("other*") == []

    stats = await redis.function_stats()
    assert stats == {
        "running_script": None,
        "engines": {"LUA": {"libraries_count": 1, "functions_count": 2}},
    }


async def test_function_dump_restore_delete_flush(functions, create_redis):
    redis = functions
    await redis.function_load(LIBRARY)
    payload = await redis.function_dump()
    assert isinstance(payload, bytes)
    decoding = await create_redis(encoding="utf-8")
    assert await decoding.function_dump() == payload   # binary: never decoded
    assert await redis.function_delete("aiotest") is True
    with pytest.raises(ReplyError):
        await redis.function_delete("aiotest")
    assert await redis.function_restore(payload) is True
    with pytest.raises(ReplyError):
        await redis.function_restore(payload)   # APPEND: name clash
    assert await redis.function_restore(payload, policy="replace") is True
    assert await redis.function_restore(payload, policy="FLUSH") is True
    assert await redis.fcall("echo_arg", [], ["x"]) == b"x"
    assert await redis.function_flush(async_op=True) is True
    assert await redis.function_list() == []
    with pytest.raises(ValueError):
        redis.function_restore(payload, policy="MERGE")
    with pytest.raises(ValueError):
        redis.function_restore(payload, policy=1)
    assert await redis.ping() == b"PONG"


# -- inside MULTI/EXEC and pipelines ---------------------------------------------


@pytest.mark.parametrize("batch", ["multi_exec", "pipeline"])
async def test_scripting_batch(functions, batch):
    redis = functions
    source = "return ARGV[1]"
    sha = hashlib.sha1(source.encode()).hexdigest()
    tr = getattr(redis, batch)()
    futures = [
        tr.script_load(source),
        tr.eval("return {KEYS[1], 7}", ["k"]),
        tr.evalsha(sha, [], ["x"], encoding="utf-8"),
        tr.evalsha_ro(sha, [], ["y"]),
        tr.script_exists(sha, MISSING_SHA),
        tr.function_load(LIBRARY),
        tr.fcall("echo_arg", [], ["f"]),
        tr.function_list(encoding="utf-8"),
        tr.function_stats(),
        tr.function_delete("aiotest"),
    ]
    results = await tr.execute()
    assert results[:7] == [sha.encode(), [b"k", 7], "x", b"y", [1, 0], b"aiotest", b"f"]
    assert results[7][0]["library_name"] == "aiotest"
    assert results[8]["engines"]["LUA"]["functions_count"] == 2
    assert results[9] is True
    assert [future.result() for future in futures] == results
