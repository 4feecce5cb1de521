"""Progress on stderr, the summary of the runs, the printed table and the JSON file."""
import json
import statistics
import sys
import time
from typing import Any, Dict, List, TextIO

SUBJECT = "aioredis_cy"
REFERENCE = "redis-benchmark"


class Progress:
    """One status line rewritten in place on a terminal; one line per finished run otherwise."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.done = 0
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()

    def _write(self, text: str, final: bool) -> None:
        elapsed = time.monotonic() - self.started
        line = f"[{self.done:>{len(str(self.total))}}/{self.total} {elapsed:5.0f}s] {text}"
        if self.tty:
            self.stream.write("\r\x1b[K" + line + ("\n" if final else ""))
        elif final:
            self.stream.write(line + "\n")
        self.stream.flush()

    def start(self, label: str) -> None:
        self._write(label + " ...", final=False)

    def finish(self, label: str, outcome: str) -> None:
        self.done += 1
        self._write(f"{label}: {outcome}", final=not self.tty or self.done == self.total)

    def skip(self, count: int, reason: str) -> None:
        self.done += count
        self.note(reason)

    def note(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        self.stream.flush()


def _quartiles(values: List[float]) -> List[float]:
    if len(values) < 2:
        return [values[0], values[0]]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return [q1, q3]


def summarize(records: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Per (workload, loop, client), in first-seen order: medians and spreads of ops/s and CPU/op."""
    groups: Dict[tuple, List[Dict[str, Any]]] = {}
    for record in records:
        groups.setdefault((record["workload"], record["loop"], record["client"]), []).append(record)
    rows = []
    for (workload, loop, client), runs in groups.items():
        rates = sorted(run["ops_per_s"] for run in runs)
        cpus = sorted(run["cpu_us_per_op"] for run in runs)
        rows.append({
            "workload": workload, "loop": loop, "client": client, "runs": len(runs),
            "ops_per_s": {"median": statistics.median(rates), "min": rates[0], "max": rates[-1],
                          "iqr": _quartiles(rates)},
            "cpu_us_per_op": {"median": statistics.median(cpus), "min": cpus[0], "max": cpus[-1],
                              "iqr": _quartiles(cpus)},
        })
    _add_ratios(rows)
    return rows


def _add_ratios(rows: List[Dict[str, Any]]) -> None:
    """On each aioredis_cy row: its median ops/s over the best peer's, its CPU/op over the leanest peer's."""
    for row in rows:
        if row["client"] != SUBJECT:
            continue
        peers = [other for other in rows if other["workload"] == row["workload"]
                 and other["loop"] == row["loop"] and other["client"] != SUBJECT]
        if not peers:
            continue
        fastest = max(peers, key=lambda peer: peer["ops_per_s"]["median"])
        leanest = min(peers, key=lambda peer: peer["cpu_us_per_op"]["median"])
        row["vs_best_peer"] = {
            "ops_per_s": row["ops_per_s"]["median"] / fastest["ops_per_s"]["median"],
            "fastest_peer": fastest["client"],
            "cpu_per_op": row["cpu_us_per_op"]["median"] / leanest["cpu_us_per_op"]["median"],
            "leanest_peer": leanest["client"],
        }


def _rate(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    return f"{value:.1f}"


def _us(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:,.0f}"


def format_table(rows: List[Dict[str, Any]], titles: Dict[str, str]) -> str:
    """The summary as a fixed-width text table, one block per workload."""
    header = ("workload", "loop", "client", "ops/s", "min-max", "CPU us/op", "vs best peer (ops/s | CPU)")
    lines = []
    previous: tuple = (None, None)
    for row in rows:
        name = loop = ""
        if row["workload"] != previous[0]:
            name = f"{row['workload']}  {titles.get(row['workload'], '')}"
        if (row["workload"], row["loop"]) != previous:
            loop = row["loop"]
        previous = (row["workload"], row["loop"])
        rate, cpu = row["ops_per_s"], row["cpu_us_per_op"]
        ratio = row.get("vs_best_peer")
        versus = ""
        if ratio:
            versus = (f"{ratio['ops_per_s']:.2f}x {ratio['fastest_peer']} | "
                      f"{ratio['cpu_per_op']:.2f}x {ratio['leanest_peer']}")
        lines.append((name, loop, row["client"], _rate(rate["median"]),
                      f"{_rate(rate['min'])}-{_rate(rate['max'])}", _us(cpu["median"]), versus))
    widths = [max(len(line[column]) for line in [header, *lines]) for column in range(len(header))]
    right = {3, 4, 5}

    def render(cells):
        return "  ".join(cell.rjust(width) if index in right else cell.ljust(width)
                         for index, (cell, width) in enumerate(zip(cells, widths))).rstrip()

    out = [render(header), render(["-" * width for width in widths])]
    for line in lines:
        if line[0] and len(out) > 2:
            out.append("")
        out.append(render(line))
    return "\n".join(out)


# aioredis_cy's SET/GET workloads and the redis-benchmark run with as many commands in flight
REFERENCES = (("b.set", "g.set"), ("b.get", "g.get"), ("b.pipeline.set", "g.set.p1000"),
              ("b.pipeline.get", "g.get.p1000"), ("b.multi_exec", "g.set.p1000"))


def reference_share(rows: List[Dict[str, Any]]) -> List[str]:
    """How close aioredis_cy's pipelined SET/GET (b) gets to redis-benchmark's (g), per loop."""
    shares = []
    for workload, reference_id in REFERENCES:
        reference = [row for row in rows if row["workload"] == reference_id]
        ours = [row for row in rows if row["workload"] == workload and row["client"] == SUBJECT]
        if not reference or not ours:
            continue
        target = reference[0]["ops_per_s"]["median"]
        per_loop = ", ".join(f"{row['loop']} {row['ops_per_s']['median'] / target:.0%}" for row in ours)
        shares.append(f"aioredis_cy {workload} vs redis-benchmark {reference_id}: {per_loop}")
    return shares


def write_json(path: str, meta: Dict[str, Any], workloads: List[Dict[str, Any]],
               records: List[Dict[str, Any]], failures: List[Dict[str, Any]],
               rows: List[Dict[str, Any]]) -> None:
    """Everything measured: the setting, the workloads, every run, the failures and the summary."""
    document = {"meta": meta, "workloads": workloads, "runs": records, "failures": failures, "summary": rows}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1)
        handle.write("\n")
