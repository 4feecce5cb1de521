"""Server commands against real servers; destructive ones on dedicated servers."""
import asyncio
import itertools
from pathlib import Path

import pytest

from aioredis_cy.commands.server import MasterInfo, SlaveInfo, parse_info, parse_role
from aioredis_cy.errors import ConnectionClosedError, ReplyError

from .helpers import assert_fails_before_sending, parametrize_bad_calls

ADMIN_CONFIG = ("enable-debug-command yes",)
_fresh = itertools.count()


@pytest.fixture
async def admin(start_server, create_redis):
    """A client of a dedicated server where DEBUG, CONFIG SET and friends are fair game."""
    return await create_redis(start_server("server-admin", *ADMIN_CONFIG).tcp_address)


@pytest.fixture
def fresh_server(start_server):
    """Factory for a server of its own (for commands that end the server)."""

    def factory(*config_lines):
        return start_server(f"server-fresh-{next(_fresh)}", *config_lines)

    return factory


async def _process_exit_code(node):
    return await asyncio.get_running_loop().run_in_executor(None, node.process.wait, 30)


async def _background_jobs_done(client):
    """Wait (bounded) until no BGSAVE / AOF rewrite is running or scheduled."""
    busy_fields = ("rdb_bgsave_in_progress", "aof_rewrite_in_progress", "aof_rewrite_scheduled")
    for _ in range(3000):
        persistence = (await client.info("persistence"))["persistence"]
        if all(persistence.get(field, "0") == "0" for field in busy_fields):
            return
        await asyncio.sleep(0.01)
    pytest.fail("background save did not finish")


# --- introspection on the shared server ---------------------------------------------------------


async def test_dbsize_and_flushdb(redis):
    assert await redis.dbsize() == 0
    await redis.set("key", "value")
    await redis.set("other", "value")
    assert await redis.dbsize() == 2
    assert await redis.flushdb() is True
    assert await redis.dbsize() == 0
    await redis.set("key", "value")
    assert await redis.flushdb(async_op=True) is True
    assert await redis.dbsize() == 0


async def test_info_default_and_sections(redis):
    info = await redis.info()
    assert {"server", "clients", "memory", "persistence", "stats", "replication", "keyspace"} <= set(info)
    assert isinstance(info["server"]["redis_version"], str)
    assert info["server"]["tcp_port"].isdigit()

    await redis.set("key", "value")
    keyspace = await redis.info("keyspace")
    assert list(keyspace) == ["keyspace"]
    assert keyspace["keyspace"]["db0"]["keys"] == "1"
    assert "connected_clients" in (await redis.info(b"clients"))["clients"]
    assert await redis.info("nosuchsection") == {}


async def test_info_everything_parses_redis7_fields(redis):
    with pytest.raises(ReplyError):
        await redis.execute(b"NOSUCHCOMMAND")
    await redis.set("key", "value")
    await redis.get("key")
    info = await redis.info("everything")
    assert {"server", "commandstats", "errorstats", "keyspace"} <= set(info)
    get_stats = info["commandstats"]["cmdstat_get"]
    assert isinstance(get_stats, dict)
    assert int(get_stats["calls"]) >= 1
    assert {"calls", "usec", "usec_per_call"} <= set(get_stats)
    assert info["errorstats"]["errorstat_ERR"].startswith("count=")
    for section in info.values():
        assert all(isinstance(value, (str, dict)) for value in section.values())


async def test_client_names(create_redis):
    redis = await create_redis()
    assert await redis.client_getname() is None
    assert await redis.client_setname("TestClient") is True
    assert await redis.client_getname() == b"TestClient"
    assert await redis.client_getname(encoding="utf-8") == "TestClient"
    with pytest.raises(ReplyError):
        await redis.client_setname("with space")
    assert await redis.client_getname(encoding="utf-8") == "TestClient"


async def test_client_list_and_info(create_redis):
    redis = await create_redis()
    await redis.client_setname("a=b")
    my_id = await redis.client_id()
    assert isinstance(my_id, int)

    clients = await redis.client_list()
    assert isinstance(clients, list)
    [me] = [client for client in clients if client.id == str(my_id)]
    assert me.name == "a=b"
    assert me.cmd == "client|list"
    assert me.db == "0"
    assert "qbuf_free" in me._fields
    assert all(isinstance(value, str) for value in me)

    info = await redis.client_info()
    assert info.id == str(my_id)
    assert info.name == "a=b"
    assert info.cmd == "client|info"
    assert info._fields == me._fields


async def test_command_family(redis):
    commands = await redis.command()
    names = {entry[0] for entry in commands}
    assert {"get", "set", "client"} <= names
    assert await redis.command_count() == len(commands)
    assert await redis.command_getkeys("set", "key", "value") == ["key"]
    assert await redis.command_getkeys("mset", "k1", "v1", "k2", "v2", encoding=None) == [b"k1", b"k2"]
    get_info, set_info = await redis.command_info("get", "set")
    assert (get_info[0], set_info[0]) == ("get", "set")
    with pytest.raises(ReplyError):
        await redis.command_getkeys("nosuchcommand", "x")


async def test_config_get(redis, server):
    assert await redis.config_get("port") == {"port": str(server.port)}
    everything = await redis.config_get()
    assert everything["port"] == str(server.port)
    assert len(everything) > 50
    assert await redis.config_get("unknown_parameter") == {}


async def test_times_and_role(redis):
    now = await redis.time()
    assert isinstance(now, float)
    assert now > 1_600_000_000
    assert isinstance(await redis.lastsave(), int)
    role = await redis.role()
    assert isinstance(role, MasterInfo)
    assert role.role == "master"
    assert isinstance(role.replication_offset, int)
    assert isinstance(role.slaves, list)


async def test_slowlog_read(redis):
    assert isinstance(await redis.slowlog_len(), int)
    assert isinstance(await redis.slowlog_get(), list)
    assert len(await redis.slowlog_get(1)) <= 1


async def test_memory_usage(redis):
    await redis.set("key", "x" * 1000)
    assert await redis.memory_usage("key") >= 1000
    assert await redis.memory_usage("key", samples=0) >= 1000
    assert await redis.memory_usage("missing") is None


async def test_lolwut(redis):
    art = await redis.lolwut()
    assert isinstance(art, str)
    assert "ver." in art
    assert "ver." in await redis.lolwut(5)


async def test_acl(redis):
    name = "aioredis_cy_test_user"
    assert await redis.acl_whoami() == b"default"
    assert await redis.acl_setuser(name, "on", ">secret", "~k*", "+get") is True
    try:
        assert name.encode() in await redis.acl_users()
        assert any(line.startswith(b"user " + name.encode()) for line in await redis.acl_list())
        user = await redis.acl_getuser(name)
        assert "on" in user["flags"]
        assert "+get" in user["commands"]
        assert "~k*" in user["keys"]
        assert isinstance(user.get("selectors", []), list)
        assert await redis.acl_getuser("aioredis_cy_no_such_user") is None
        assert b"keyspace" in await redis.acl_cat()
        assert b"get" in await redis.acl_cat("string")
    finally:
        assert await redis.acl_deluser(name, "aioredis_cy_no_such_user") == 1
    with pytest.raises(ReplyError):
        await redis.acl_setuser(name, "not-a-rule")


async def test_acl_getuser_selectors(redis):
    name = "aioredis_cy_selector_user"
    await redis.acl_setuser(name, "on", "nopass", "(~sel* +set)")
    try:
        user = await redis.acl_getuser(name)
        [selector] = user["selectors"]
        assert selector["keys"] == "~sel*"
        assert "+set" in selector["commands"]
    finally:
        await redis.acl_deluser(name)


async def test_conversions_inside_multi_exec_and_pipeline(redis, server):
    tr = redis.multi_exec()
    info = tr.info("server")
    now = tr.time()
    config = tr.config_get("port")
    clients = tr.client_list()
    role = tr.role()
    await tr.execute()
    assert "redis_version" in (await info)["server"]
    assert isinstance(await now, float)
    assert await config == {"port": str(server.port)}
    assert len(await clients) >= 1
    assert (await role).role == "master"

    pipe = redis.pipeline()
    info = pipe.info("clients")
    flushed = pipe.flushdb()
    await pipe.execute()
    assert "connected_clients" in (await info)["clients"]
    assert await flushed is True


# --- argument checks: fail before sending, the connection keeps working ---------------------------

BAD_CALLS = [
    ("client_pause", ("100",), {}, TypeError),
    ("client_pause", (2.0,), {}, TypeError),
    ("client_pause", (-1,), {}, ValueError),
    ("client_kill", (), {}, TypeError),
    ("client_kill", (), {"client_id": "1"}, TypeError),
    ("client_kill", (), {"maxage": -1}, ValueError),
    ("client_kill", (), {"skipme": "yes"}, TypeError),
    ("client_no_evict", ("on",), {}, TypeError),
    ("config_get", (b"port",), {}, TypeError),
    ("config_set", (100, "databases"), {}, TypeError),
    ("config_set", ("maxmemory", None), {}, TypeError),
    ("debug_sleep", ("1",), {}, TypeError),
    ("debug_sleep", (-1,), {}, ValueError),
    ("info", ("",), {}, ValueError),
    ("info", (1,), {}, TypeError),
    ("info", (None,), {}, TypeError),
    ("lolwut", ("5",), {}, TypeError),
    ("memory_usage", ("key",), {"samples": -1}, ValueError),
    ("memory_usage", ("key",), {"samples": "5"}, TypeError),
    ("shutdown", ("SAVE",), {}, ValueError),
    ("shutdown", ([],), {}, ValueError),
    ("slaveof", ("127.0.0.1",), {}, ValueError),
    ("slaveof", (None, 6379), {}, ValueError),
    ("slaveof", ("127.0.0.1", "6379"), {}, TypeError),
    ("replicaof", ("127.0.0.1",), {}, ValueError),
    ("slowlog_get", ("10",), {}, TypeError),
    ("client_reply", (), {}, NotImplementedError),
    ("sync", (), {}, NotImplementedError),
]


@parametrize_bad_calls(BAD_CALLS)
async def test_bad_arguments_fail_before_sending(redis, method, args, kwargs, exc):
    await assert_fails_before_sending(redis, method, args, kwargs, exc)


# --- dedicated servers ----------------------------------------------------------------------------


async def test_debug_commands(admin):
    await admin.set("key", "value")
    description = await admin.debug_object("key")
    assert description.startswith(b"Value at:")
    assert b"encoding:embstr" in description
    with pytest.raises(ReplyError, match="no such key"):
        await admin.debug_object("missing")
    assert await admin.debug_sleep(0) is True
    assert await admin.debug_sleep(0.001) is True


async def test_debug_disabled_on_default_server(redis):
    with pytest.raises(ReplyError, match="DEBUG"):
        await redis.debug_object("key")


async def test_config_set_rewrite_resetstat(admin):
    assert await admin.config_set("maxmemory-samples", 7) is True
    assert await admin.config_get("maxmemory-samples") == {"maxmemory-samples": "7"}
    assert await admin.config_rewrite() is True
    assert await admin.config_set("maxmemory-samples", "5") is True
    with pytest.raises(ReplyError, match="(?i)unknown option|unsupported"):
        await admin.config_set("no-such-option", "1")
    with pytest.raises(ReplyError):
        await admin.config_set("databases", 100)
    assert await admin.config_resetstat() is True
    stats = (await admin.info("stats"))["stats"]
    assert int(stats["total_commands_processed"]) < 10


async def test_flushall(admin, start_server, create_redis):
    other_db = await create_redis(start_server("server-admin", *ADMIN_CONFIG).tcp_address, db=1)
    await admin.set("key", "value")
    await other_db.set("key", "value")
    assert await admin.flushall() is True
    assert (await admin.dbsize(), await other_db.dbsize()) == (0, 0)
    await other_db.set("key", "value")
    assert await admin.flushall(async_op=True) is True
    assert await other_db.dbsize() == 0


async def test_slowlog_reset_and_get(admin):
    assert await admin.config_set("slowlog-log-slower-than", 0) is True
    try:
        assert await admin.slowlog_reset() is True
        await admin.set("slow", "value")
        await admin.get("slow")
        assert await admin.slowlog_len() >= 2
        entries = await admin.slowlog_get()
        assert [b"set", b"slow", b"value"] in [[arg.lower() for arg in entry[3]] for entry in entries]
        assert len(await admin.slowlog_get(1)) == 1
    finally:
        await admin.config_set("slowlog-log-slower-than", 10000)


async def test_client_pause_unpause_no_evict(admin):
    assert await admin.client_pause(1) is True
    assert await admin.ping() == b"PONG"
    assert await admin.client_unpause() is True
    assert await admin.client_no_evict(True) is True
    assert await admin.client_no_evict(False) is True


async def test_client_kill(admin, start_server, create_redis):
    address = start_server("server-admin", *ADMIN_CONFIG).tcp_address
    victim = await create_redis(address, encoding="utf-8")
    assert await admin.client_kill(client_id=await victim.client_id()) == 1
    with pytest.raises(ConnectionClosedError):
        await victim.ping()

    victim = await create_redis(address, encoding="utf-8")
    victim_addr = (await victim.client_info()).addr
    assert await admin.client_kill(client_type="pubsub", skipme=True) == 0
    assert await admin.client_kill(addr=victim_addr, skipme=False) == 1
    with pytest.raises(ConnectionClosedError):
        await victim.ping()
    with pytest.raises(ReplyError):
        await admin.client_kill(user="aioredis_cy_no_such_user")
    assert await admin.ping() == b"PONG"


async def test_persistence(start_server, create_redis):
    node = start_server("server-persistence")
    redis = await create_redis(node.tcp_address)
    await _background_jobs_done(redis)
    before = await redis.lastsave()
    await redis.set("key", "value")
    assert await redis.save() == b"OK"
    assert (Path(node.dir) / "dump.rdb").exists()
    assert await redis.lastsave() >= before
    assert await redis.bgsave() is True
    assert await redis.bgrewriteaof() is True
    await _background_jobs_done(redis)


async def test_replication(start_server, create_redis):
    master_node = start_server("server-repl-master")
    replica = await create_redis(start_server("server-repl-replica").tcp_address, encoding="utf-8")
    assert await replica.replicaof("127.0.0.1", master_node.port) is True
    role = await replica.role()
    assert isinstance(role, SlaveInfo)
    assert (role.role, role.master_ip, role.master_port) == ("slave", "127.0.0.1", master_node.port)
    assert isinstance(role.received, int)
    assert await replica.slaveof(None) == "OK"
    assert (await replica.role()).role == "master"
    assert await replica.slaveof("127.0.0.1", master_node.port) == "OK"
    assert (await replica.role()).role == "slave"
    assert await replica.replicaof(None) is True
    assert isinstance(await replica.role(), MasterInfo)


@pytest.mark.parametrize("save", [None, "SHUTDOWN_SAVE", "SHUTDOWN_NOSAVE"])
async def test_shutdown(fresh_server, create_redis, save):
    node = fresh_server()
    redis = await create_redis(node.tcp_address)
    await redis.set("key", "value")
    mode = save and getattr(redis, save)
    with pytest.raises(ConnectionClosedError):
        await redis.shutdown(mode)
    assert await _process_exit_code(node) == 0
    assert (Path(node.dir) / "dump.rdb").exists() == (save == "SHUTDOWN_SAVE")


async def test_debug_segfault(fresh_server, create_redis):
    node = fresh_server(*ADMIN_CONFIG, "crash-log-enabled no", "crash-memcheck-enabled no")
    redis = await create_redis(node.tcp_address)
    with pytest.raises(ConnectionClosedError):
        await redis.debug_segfault("ignored")
    assert await _process_exit_code(node) != 0


# --- reply parsers ---------------------------------------------------------------------------------

REDIS7_INFO = "\r\n".join(
    [
        "# Server",
        "redis_version:7.2.4",
        "executable:/usr/bin/redis-server",
        "config_file:C:\\redis\\redis.conf",
        "os:Linux 6.1.0 x86_64",
        "",
        "# Modules",
        "module:name=search,ver=20809,api=1,filters=0,usedby=[],using=[ReJSON],options=[]",
        "",
        "# Commandstats",
        "cmdstat_get:calls=3,usec=12,usec_per_call=4.00,rejected_calls=0,failed_calls=0",
        "cmdstat_client|list:calls=1,usec=30,usec_per_call=30.00,rejected_calls=0,failed_calls=0",
        "",
        "# Errorstats",
        "errorstat_ERR:count=2",
        "",
        "# Latencystats",
        "latency_percentiles_usec_get:p50=1.003,p99=2.007,p99.9=2.007",
        "",
        "# Keyspace",
        "db0:keys=1,expires=0,avg_ttl=0,subexpiry=0",
        "db3:keys=10,expires=2,avg_ttl=3000",
        "",
        "# Odd",
        "a line without a colon",
        "list:a,b,c",
        "mixed:a=1,b",
        "equals:x=a=b,y=2",
        "",
    ]
)


def test_parse_info_handles_redis7_sections():
    info = parse_info(REDIS7_INFO)
    sections = ["server", "modules", "commandstats", "errorstats", "latencystats", "keyspace", "odd"]
    assert list(info) == sections
    assert info["server"]["executable"] == "/usr/bin/redis-server"
    assert info["server"]["config_file"] == "C:\\redis\\redis.conf"
    assert info["modules"]["module"]["using"] == "[ReJSON]"
    assert info["commandstats"]["cmdstat_client|list"]["usec_per_call"] == "30.00"
    assert info["errorstats"]["errorstat_ERR"] == "count=2"
    assert info["latencystats"]["latency_percentiles_usec_get"]["p99.9"] == "2.007"
    assert info["keyspace"] == {
        "db0": {"keys": "1", "expires": "0", "avg_ttl": "0", "subexpiry": "0"},
        "db3": {"keys": "10", "expires": "2", "avg_ttl": "3000"},
    }
    assert info["odd"] == {
        "a line without a colon": "",
        "list": "a,b,c",
        "mixed": "a=1,b",
        "equals": {"x": "a=b", "y": "2"},
    }


def test_parse_info_edge_cases():
    assert parse_info("") == {}
    assert parse_info("\r\n") == {}
    assert parse_info("# Keyspace\r\n") == {"keyspace": {}}
    assert parse_info("loose:1\r\n# S\r\nk:v\r\n") == {"": {"loose": "1"}, "s": {"k": "v"}}


def test_parse_role_shapes():
    master = parse_role(["master", 3129659, [["127.0.0.1", "9001", "3129242"], ["::1", "9002", "3129543"]]])
    assert master == ("master", 3129659, [("127.0.0.1", 9001, 3129242), ("::1", 9002, 3129543)])
    assert master.slaves[0].ack_offset == 3129242
    replica = parse_role(["slave", "127.0.0.1", 9000, "connected", 3167038])
    assert replica._asdict() == {
        "role": "slave",
        "master_ip": "127.0.0.1",
        "master_port": 9000,
        "state": "connected",
        "received": 3167038,
    }
    assert parse_role(["sentinel", ["resque-master", "html-fragments-master"]]).masters == [
        "resque-master",
        "html-fragments-master",
    ]
    assert parse_role(["unknown", 1]) == ["unknown", 1]
