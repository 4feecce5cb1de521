"""Smoke tests of ``python -m aioredis_cy.bench``: tiny sizes, every client found, no speed checks."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench(*args):
    return subprocess.run([sys.executable, "-m", "aioredis_cy.bench", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=110)


def test_quick_run_of_every_workload(server, tmp_path):
    path = tmp_path / "runs.json"
    result = bench("--quick", "--runs", "2", "--url", server.url, "--json", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "vs best peer" in result.stdout
    assert "f.once run 2/2 aioredis_cy" in result.stderr  # plain progress lines when not a TTY

    document = json.loads(path.read_text())
    assert set(document) == {"meta", "workloads", "runs", "failures", "summary"}
    meta = document["meta"]
    assert meta["runs"] == 2 and meta["quick"] is True
    assert "aioredis_cy" in meta["clients"]
    assert document["failures"] == []

    ids = [workload["id"] for workload in document["workloads"]]
    expected = {"a", "b.set", "b.get", "b.pipeline.set", "b.pipeline.get", "b.multi_exec",
                "c", "d.lrange.bytes", "d.lrange.str", "d.hgetall.bytes",
                "d.hgetall.str", "d.get1m.bytes", "d.get1m.str", "e", "f.once", "f.chunks"}
    assert expected <= set(ids)
    assert ("g.set" in ids) == ("g.set" not in meta["unavailable"])

    for run in document["runs"]:
        assert run["ops"] > 0 and run["wall_s"] > 0 and run["cpu_s"] >= 0
        assert run["run"] in (1, 2)
    summary = {(row["workload"], row["loop"], row["client"]): row for row in document["summary"]}
    for workload in expected - {"f.once", "f.chunks"}:
        for loop in meta["loops"]:
            for client in meta["clients"]:
                row = summary[workload, loop, client]
                assert row["runs"] == 2
                assert row["ops_per_s"]["min"] <= row["ops_per_s"]["median"] <= row["ops_per_s"]["max"]
                assert row["cpu_us_per_op"]["median"] > 0
    readers = {client for (workload, _, client) in summary if workload == "f.chunks"}
    assert {"aioredis_cy", "PyReader"} <= readers
    assert "vs_best_peer" in summary["f.chunks", "-", "aioredis_cy"]


def test_starts_its_own_server():
    result = bench("--quick", "--workloads", "a", "--clients", "aioredis_cy", "--loops", "asyncio")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "a  GET, sequential" in result.stdout


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
