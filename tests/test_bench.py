"""Smoke tests of ``python -m aioredis_cy.bench``: tiny sizes, every client found, no speed checks.

The peers come with the ``bench`` extra; the ones not installed are listed as not
run, with the reason, and every one that is installed runs every workload it can.
"""
import asyncio
import dataclasses
import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from aioredis_cy.bench.clients import CLIENT_NAMES, find_clients
from aioredis_cy.bench.workloads import PREFIX, QUICK, SMALL_VALUE, Env, _tasks_over_keys, all_workloads

ROOT = Path(__file__).resolve().parent.parent


def bench(*args, timeout=110):
    return subprocess.run([sys.executable, "-m", "aioredis_cy.bench", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.timeout(240)  # with every peer installed: coredis alone needs ~170 us of CPU per command
def test_quick_run_of_every_workload(server, tmp_path):
    path = tmp_path / "runs.json"
    result = bench("--quick", "--runs", "2", "--url", server.url, "--json", str(path), timeout=230)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "vs best peer" in result.stdout
    assert "f.once run 2/2 aioredis_cy" in result.stderr  # plain progress lines when not a TTY

    document = json.loads(path.read_text())
    assert set(document) == {"meta", "workloads", "runs", "failures", "summary"}
    meta = document["meta"]
    assert meta["runs"] == 2 and meta["quick"] is True
    assert "aioredis_cy" in meta["clients"]
    assert set(meta["clients"]) | set(meta["unavailable"]) >= set(CLIENT_NAMES)
    assert all(meta["unavailable"].values())
    assert document["failures"] == []

    ids = [workload["id"] for workload in document["workloads"]]
    expected = {"a", "b.set", "b.get", "b.mixed", "b.pipeline.set", "b.pipeline.get", "b.pipeline.mixed",
                "b.multi_exec", "c", "d.lrange.bytes", "d.lrange.str", "d.hgetall.bytes",
                "d.hgetall.str", "d.get1m.bytes", "d.get1m.str", "e", "f.once", "f.chunks"}
    assert expected <= set(ids)
    for reference in ("g.set", "g.get", "g.set.p1000", "g.get.p1000"):
        assert (reference in ids) == (reference not in meta["unavailable"])

    for run in document["runs"]:
        assert run["ops"] > 0 and run["wall_s"] > 0 and run["cpu_s"] >= 0
        assert run["run"] in (1, 2)
    summary = {(row["workload"], row["loop"], row["client"]): row for row in document["summary"]}
    skipped = meta["skipped"]
    for workload in expected - {"f.once", "f.chunks"}:
        for loop in meta["loops"]:
            for client in meta["clients"]:
                if client in skipped.get(workload, {}):
                    assert (workload, loop, client) not in summary
                    continue
                row = summary[workload, loop, client]
                assert row["runs"] == 2
                assert row["ops_per_s"]["min"] <= row["ops_per_s"]["median"] <= row["ops_per_s"]["max"]
                assert row["cpu_us_per_op"]["median"] > 0
    readers = {client for (workload, _, client) in summary if workload == "f.chunks"}
    assert {"aioredis_cy", "PyReader"} <= readers
    assert "vs_best_peer" in summary["f.chunks", "-", "aioredis_cy"]


def test_a_client_lacking_an_option_is_left_out_of_its_workloads_with_the_reason():
    (spec,), _ = find_clients(["aioredis_cy"])
    bytes_only = dataclasses.replace(spec, name="bytes-only", lacks={"decode": "no decoding"})
    env = Env("redis://localhost", [spec, bytes_only], {"asyncio": asyncio.new_event_loop}, QUICK, None)
    workloads = {workload.id: workload for workload in all_workloads()}
    for decoded in ("d.lrange.str", "d.hgetall.str", "d.get1m.str"):
        assert workloads[decoded].skipped(env) == {"bytes-only": "no decoding"}
        assert [c.client for c in workloads[decoded].contenders(env)] == ["aioredis_cy"]
    for other in ("a", "b.mixed", "b.pipeline.mixed", "d.lrange.bytes", "e"):
        assert workloads[other].skipped(env) == {}
        assert [c.client for c in workloads[other].contenders(env)] == ["aioredis_cy", "bytes-only"]


def test_a_missing_peer_is_reported_with_the_reason(monkeypatch):
    for module in ("aioredis", "redis", "coredis", "glide"):
        monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    found, missing = find_clients(CLIENT_NAMES)
    assert [spec.name for spec in found] == ["aioredis_cy"]
    assert set(missing) == set(CLIENT_NAMES) - {"aioredis_cy"}
    assert all("Error: " in reason for reason in missing.values())
    assert "pip install valkey-glide" in missing["valkey-glide"]


def test_starts_its_own_server_and_scales_the_sizes(tmp_path):
    path = tmp_path / "runs.json"
    result = bench("--quick", "--scale", "0.5", "--workloads", "a", "--clients", "aioredis_cy", "--loops",
                   "asyncio", "--json", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "a  GET, sequential" in result.stdout
    document = json.loads(path.read_text())
    assert document["meta"]["scale"] == 0.5
    assert document["meta"]["sizes"]["sequential"] == QUICK.sequential // 2
    assert [run["ops"] for run in document["runs"]] == [QUICK.sequential // 2]


def test_rejects_an_unknown_workload():
    result = bench("--workloads", "z")
    assert result.returncode == 2
    assert "unknown workload z" in result.stderr


def test_cluster_workloads_start_their_own_cluster(tmp_path):
    path = tmp_path / "runs.json"
    result = bench("--quick", "--workloads", "cluster", "--clients", "aioredis_cy", "--loops", "asyncio",
                   "--json", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(path.read_text())
    assert document["failures"] == []
    assert len(document["meta"]["cluster"]) == 6
    ran = {run["workload"] for run in document["runs"]}
    assert ran == {"cluster.set", "cluster.get", "cluster.c", "cluster.pipeline"}


def test_cluster_workloads_need_a_cluster_with_url(server):
    result = bench("--quick", "--url", server.url, "--workloads", "cluster.get", "--clients", "aioredis_cy",
                   "--loops", "asyncio")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cluster.get: not run: no cluster" in result.stdout


CLUSTER_PEERS = ("redis-py", "coredis", "valkey-glide")


@pytest.mark.parametrize("name", CLUSTER_PEERS)
@pytest.mark.filterwarnings("ignore:Unclosed <MemoryObject:ResourceWarning")  # coredis 6.9's cluster client
async def test_a_cluster_peer_reaches_every_primary_from_one_startup_node(name, redis_cluster_servers):
    found, missing = find_clients([name])
    if not found:
        assert "Error: " in missing[name]
        pytest.skip(f"{name} not installed: {missing[name]}")
    cluster = redis_cluster_servers
    primaries = cluster.primaries()
    before = [cluster.commandstats(node) for node in primaries]
    keys = [f"{PREFIX}peer:{index}" for index in range(300)]
    client = found[0].create()
    await client.open_cluster(cluster.addresses[:1])
    try:
        await client.batch([("set", [(key, SMALL_VALUE) for key in keys])])
        await client.pipeline([("get", [(key,) for key in keys])], False)
        await _tasks_over_keys(client, keys)
        assert await client.command("get")(keys[-1]) == SMALL_VALUE
    finally:
        await client.close()
        gc.collect()  # what the client left unclosed warns here, in its own test
    for node, stats in zip(primaries, before):
        after = cluster.commandstats(node)
        assert after.get("set", 0) - stats.get("set", 0) >= 50, node.name  # about 100 each
        assert after.get("get", 0) - stats.get("get", 0) >= 100, node.name


def test_a_missing_cluster_peer_is_listed_not_run(monkeypatch):
    for module in ("coredis", "glide"):
        monkeypatch.setitem(sys.modules, module, None)
    found, missing = find_clients(["aioredis_cy", "coredis", "valkey-glide"])
    env = Env("redis://localhost", found, {"asyncio": asyncio.new_event_loop}, QUICK, None, [("x", 1)])
    cluster = [workload for workload in all_workloads() if workload.id.startswith("cluster.")]
    assert cluster and all([c.client for c in w.contenders(env)] == ["aioredis_cy"] for w in cluster)
    assert set(missing) == {"coredis", "valkey-glide"}
    assert "Error: import of coredis halted" in missing["coredis"]
    assert "pip install valkey-glide" in missing["valkey-glide"]
