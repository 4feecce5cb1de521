"""CLUSTER commands: against a plain server (clear error replies), a real one-node cluster,
argument checks, and the reply parsers."""
import asyncio

import pytest

from aioredis_cy.commands.cluster import parse_cluster_info, parse_cluster_nodes, parse_cluster_slots
from aioredis_cy.errors import ReplyError

from .helpers import assert_fails_before_sending, parametrize_bad_calls

ALL_SLOTS = range(16384)
NODE_ID = "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca"


@pytest.fixture
async def cluster(start_server, create_redis):
    """A client of a one-node cluster that owns no slot and no key (fresh node id each test)."""
    node = start_server("cluster", "cluster-enabled yes", "cluster-node-timeout 100")
    client = await create_redis(node.tcp_address, encoding="utf-8")
    await client.flushall()
    assert await client.cluster_reset(hard=True) is True
    return client


async def _wait_cluster_ok(client):
    """Wait (bounded) for the node to call the cluster ok: it holds writes back for a while after start."""
    for _ in range(1000):
        if (await client.cluster_info())["cluster_state"] == "ok":
            return
        await asyncio.sleep(0.01)
    pytest.fail("the cluster did not come up")


# (method, args, kwargs) calls that every reach the server, one per wrapper.
CALLS = [
    ("cluster_add_slots", (1, 2), {}),
    ("cluster_count_failure_reports", (NODE_ID,), {}),
    ("cluster_count_key_in_slots", (1,), {}),
    ("cluster_del_slots", (1,), {}),
    ("cluster_failover", (), {}),
    ("cluster_forget", (NODE_ID,), {}),
    ("cluster_get_keys_in_slots", (1, 10), {"encoding": "utf-8"}),
    ("cluster_info", (), {}),
    ("cluster_meet", ("127.0.0.1", 7000), {}),
    ("cluster_myid", (), {}),
    ("cluster_nodes", (), {}),
    ("cluster_replicate", (NODE_ID,), {}),
    ("cluster_reset", (), {"hard": True}),
    ("cluster_save_config", (), {}),
    ("cluster_set_config_epoch", (1,), {}),
    ("cluster_setslot", (1, "STABLE", None), {}),
    ("cluster_slaves", (NODE_ID,), {}),
    ("cluster_slots", (), {}),
]


@pytest.mark.parametrize("method, args, kwargs", CALLS, ids=[call[0] for call in CALLS])
async def test_plain_server_replies_cluster_disabled(redis, method, args, kwargs):
    with pytest.raises(ReplyError, match="cluster support disabled"):
        await getattr(redis, method)(*args, **kwargs)
    assert await redis.ping() == b"PONG"


async def test_keyslot_on_a_plain_server(redis):
    """Redis 7.x refuses CLUSTER KEYSLOT with cluster mode off; Valkey computes the slot anyway."""
    try:
        slot = await redis.cluster_keyslot("somekey")
    except ReplyError as exc:
        assert "cluster support disabled" in str(exc)
    else:
        assert slot == 11058
        assert await redis.cluster_keyslot("{somekey}.other") == 11058
    assert await redis.ping() == b"PONG"


BAD_CALLS = [
    ("cluster_add_slots", ("1",), {}, TypeError),
    ("cluster_add_slots", (1, 2.0), {}, TypeError),
    ("cluster_add_slots", (True,), {}, TypeError),
    ("cluster_add_slots", (16384,), {}, ValueError),
    ("cluster_del_slots", (-1,), {}, ValueError),
    ("cluster_del_slots", (1, None), {}, TypeError),
    ("cluster_count_key_in_slots", ("1",), {}, TypeError),
    ("cluster_get_keys_in_slots", (1, "10"), {"encoding": None}, TypeError),
    ("cluster_get_keys_in_slots", (20000, 10), {"encoding": None}, ValueError),
    ("cluster_failover", (), {"force": True, "takeover": True}, ValueError),
    ("cluster_meet", ("127.0.0.1", "7000"), {}, TypeError),
    ("cluster_set_config_epoch", ("1",), {}, TypeError),
    ("cluster_setslot", (1, "BOGUS", NODE_ID), {}, ValueError),
    ("cluster_setslot", (1, b"NODE", NODE_ID), {}, ValueError),
    ("cluster_setslot", (1, "NODE", None), {}, ValueError),
    ("cluster_setslot", (1, "STABLE", NODE_ID), {}, ValueError),
    ("cluster_setslot", ("1", "STABLE", None), {}, TypeError),
    ("cluster_keyslot", (None,), {}, TypeError),
]


@parametrize_bad_calls(BAD_CALLS)
async def test_bad_arguments_fail_before_sending(redis, method, args, kwargs, exc):
    await assert_fails_before_sending(redis, method, args, kwargs, exc)


async def test_get_keys_in_slots_requires_encoding_as_in_1_3_1(redis):
    with pytest.raises(TypeError):
        redis.cluster_get_keys_in_slots(1, 10)


async def test_slots_keys_and_info(cluster):
    assert await cluster.cluster_add_slots(*ALL_SLOTS) is True
    info = await cluster.cluster_info()
    assert info["cluster_slots_assigned"] == "16384"
    assert info["cluster_known_nodes"] == "1"
    assert info["cluster_state"] in ("ok", "fail")
    await _wait_cluster_ok(cluster)

    slot = await cluster.cluster_keyslot("somekey")
    assert slot == 11058
    assert await cluster.cluster_keyslot("{somekey}.other") == slot
    assert await cluster.cluster_count_key_in_slots(slot) == 0
    await cluster.set("somekey", "value")
    assert await cluster.cluster_count_key_in_slots(slot) == 1
    assert await cluster.cluster_get_keys_in_slots(slot, 10, encoding="utf-8") == ["somekey"]
    assert await cluster.cluster_get_keys_in_slots(slot, 10, encoding=None) == [b"somekey"]
    assert await cluster.cluster_get_keys_in_slots(0, 10, encoding=None) == []


async def test_nodes_slots_and_replicas(cluster, start_server):
    port = start_server("cluster").port
    assert await cluster.cluster_add_slots(*range(100, 200)) is True
    assert await cluster.cluster_add_slots(300) is True
    myid = await cluster.cluster_myid()
    assert len(myid) == 40

    [node] = await cluster.cluster_nodes()
    assert node["id"] == myid
    assert node["port"] == port
    assert node["cport"] == port + 10000
    assert node["host"] in ("", "127.0.0.1")
    assert {"myself", "master"} <= set(node["flags"])
    assert node["master"] is None
    assert node["link_state"] == "connected"
    assert node["slots"] == ((100, 199), (300, 300))
    assert node["migrations"] == ()

    slots = await cluster.cluster_slots()
    assert set(slots) == {(100, 199), (300, 300)}
    [(host, node_port, node_id)] = slots[(300, 300)]
    assert (node_port, node_id) == (port, myid)

    assert await cluster.cluster_slaves(myid) == []
    assert await cluster.cluster_count_failure_reports(myid) == 0
    assert await cluster.cluster_del_slots(100, 300) is True
    [node] = await cluster.cluster_nodes()
    assert node["slots"] == ((101, 199),)


async def test_setslot_and_config(cluster):
    myid = await cluster.cluster_myid()
    assert await cluster.cluster_set_config_epoch(7) is True
    [node] = await cluster.cluster_nodes()
    assert node["config_epoch"] == 7
    with pytest.raises(ReplyError, match="already non-zero"):
        await cluster.cluster_set_config_epoch(8)

    assert await cluster.cluster_setslot(5, "node", myid) is True
    [node] = await cluster.cluster_nodes()
    assert node["slots"] == ((5, 5),)
    assert await cluster.cluster_setslot(5, "STABLE", None) is True
    with pytest.raises(ReplyError, match="don't know about node"):
        await cluster.cluster_setslot(5, "MIGRATING", NODE_ID)
    with pytest.raises(ReplyError, match="already the owner"):
        await cluster.cluster_setslot(5, "IMPORTING", myid)
    assert await cluster.cluster_save_config() is True
    assert await cluster.cluster_reset() is True
    [node] = await cluster.cluster_nodes()
    assert node["slots"] == ()


async def test_node_management_errors_name_the_problem(cluster):
    myid = await cluster.cluster_myid()
    with pytest.raises(ReplyError, match="Can't replicate myself"):
        await cluster.cluster_replicate(myid)
    with pytest.raises(ReplyError, match="can't forget myself"):
        await cluster.cluster_forget(myid)
    with pytest.raises(ReplyError, match="Invalid node address"):
        await cluster.cluster_meet("not-an-address", 7000)
    for kwargs in ({}, {"force": True}, {"takeover": True}):
        with pytest.raises(ReplyError, match="to a replica"):
            await cluster.cluster_failover(**kwargs)
    assert await cluster.ping() == "PONG"


async def test_cluster_commands_queue_in_multi_exec(cluster):
    tr = cluster.multi_exec()
    info = tr.cluster_info()
    nodes = tr.cluster_nodes()
    reset = tr.cluster_reset()
    await tr.execute()
    assert (await info)["cluster_known_nodes"] == "1"
    assert len(await nodes) == 1
    assert await reset is True


def test_parse_cluster_nodes_reads_every_field():
    text = (
        "07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,host-4.example slave "
        "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected\n"
        "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca ::1:30001@31001 myself,master - 0 0 1 connected "
        "0-5460 5470 [5461->-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f] "
        "[5462-<-824fe116063bc5fcf9f4ffd895bc17aee7731ac3]\n"
        "824fe116063bc5fcf9f4ffd895bc17aee7731ac3 :0@0 handshake,noaddr - 0 0 0 disconnected\n"
    )
    replica, master, handshake = parse_cluster_nodes(text)
    assert replica == {
        "id": "07c37dfeb235213a872192d90877d0cd55635b91",
        "host": "127.0.0.1",
        "port": 30004,
        "cport": 31004,
        "hostname": "host-4.example",
        "flags": ("slave",),
        "master": "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca",
        "ping_sent": 0,
        "pong_recv": 1426238317239,
        "config_epoch": 4,
        "link_state": "connected",
        "slots": (),
        "migrations": (),
    }
    assert (master["host"], master["port"], master["hostname"]) == ("::1", 30001, None)
    assert master["master"] is None
    assert master["slots"] == ((0, 5460), (5470, 5470))
    assert master["migrations"] == (
        {"slot": 5461, "node_id": "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f", "state": "migrating"},
        {"slot": 5462, "node_id": "824fe116063bc5fcf9f4ffd895bc17aee7731ac3", "state": "importing"},
    )
    assert (handshake["host"], handshake["port"], handshake["cport"]) == ("", 0, 0)
    assert handshake["flags"] == ("handshake", "noaddr")
    assert parse_cluster_nodes("") == []


def test_parse_cluster_info_and_slots():
    assert parse_cluster_info("cluster_state:ok\r\ncluster_size:1\r\n\r\n") == {
        "cluster_state": "ok",
        "cluster_size": "1",
    }
    reply = [
        [0, 5460, ["127.0.0.1", 30001, "aaa", []], ["127.0.0.1", 30004, "bbb", []]],
        [5461, 10922, ["127.0.0.1", 30002]],
    ]
    assert parse_cluster_slots(reply) == {
        (0, 5460): [("127.0.0.1", 30001, "aaa"), ("127.0.0.1", 30004, "bbb")],
        (5461, 10922): [("127.0.0.1", 30002, None)],
    }
