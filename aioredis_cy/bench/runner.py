"""Runs the workloads, interleaving the contenders run by run, and records every run."""
from typing import Any, Dict, List, Sequence, Tuple

from .report import Progress
from .workloads import Contender, Env, Workload


def _rotated(contenders: List[Contender], shift: int) -> List[Contender]:
    """Round-robin order for one run; the start moves each run so no one always goes first."""
    shift %= len(contenders)
    return contenders[shift:] + contenders[:shift]


def run_workloads(env: Env, workloads: Sequence[Workload], runs: int) -> Tuple[List[Dict[str, Any]],
                                                                               List[Dict[str, Any]]]:
    """Per workload: set up once, then run 1 of every contender, run 2 of every contender, ...

    Returns the records of the runs and the failures; a contender that fails is
    not run again in that workload.
    """
    plan = [(workload, workload.contenders(env)) for workload in workloads]
    progress = Progress(sum(len(contenders) for _, contenders in plan) * runs)
    records: List[Dict[str, Any]] = []
    failures: List[Dict[str, Any]] = []
    for workload, contenders in plan:
        progress.note(f"{workload.id}: {workload.title} (set-up)")
        try:
            data = workload.prepare(env)
        except Exception as exc:
            error = f"set-up failed: {type(exc).__name__}: {exc}"
            failures.append({"workload": workload.id, "client": "*", "loop": "*", "run": 0, "error": error})
            progress.skip(len(contenders) * runs, f"{workload.id}: {error}")
            continue
        failed = set()
        for run in range(1, runs + 1):
            for contender in _rotated(contenders, run - 1):
                key = (contender.client, contender.loop)
                label = f"{workload.id} run {run}/{runs} {contender.client} {contender.loop}"
                if key in failed:
                    progress.finish(label, "skipped (failed before)")
                    continue
                progress.start(label)
                try:
                    sample = contender.measure(data)
                except Exception as exc:
                    failed.add(key)
                    error = f"{type(exc).__name__}: {exc}"
                    failures.append({"workload": workload.id, "client": contender.client,
                                     "loop": contender.loop, "run": run, "error": error})
                    progress.finish(label, f"FAILED {error}")
                    continue
                record = {"workload": workload.id, "client": contender.client, "loop": contender.loop,
                          "run": run, "ops": sample.ops, "wall_s": sample.wall, "cpu_s": sample.cpu,
                          "ops_per_s": sample.ops / sample.wall,
                          "cpu_us_per_op": sample.cpu / sample.ops * 1e6}
                records.append(record)
                progress.finish(label, f"{record['ops_per_s']:,.0f} ops/s, "
                                       f"{record['cpu_us_per_op']:.2f} us CPU/op")
    return records, failures
