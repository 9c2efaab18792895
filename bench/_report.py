"""bench/run_all's table: the figures the benches wrote (`--json`), as one markdown table with the machine
it came from.

    python bench/_report.py OUT.md FIGURES.json... [--note TEXT]...

Prints the table and writes it to OUT.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
from datetime import datetime, timezone
from pathlib import Path


def number(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def ratio(value, ceiling) -> str:
    if not ceiling or value is None:
        return "–"
    return f"{value / ceiling:.0%}"


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        total_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {total_kb / 1024 / 1024:.1f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} CPUs{f' ({cpu})' if cpu else ''}{memory}, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}"
    )


def table(runs: list[dict]) -> list[str]:
    lines = [
        "| figure | value | p50 ms | p99 ms | raw ceiling | of the ceiling | notes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        for f in run["figures"]:
            lines.append(
                f"| {f['figure']} | {number(f['value'])} {f['unit']} | {number(f['p50'])} | {number(f['p99'])} "
                f"| {number(f['ceiling'])} | {ratio(f['value'], f['ceiling'])} | {f['note']} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("figures", nargs="+")
    parser.add_argument("--note", action="append", default=[], help="a line under the table (repeatable)")
    args = parser.parse_args()
    runs = [json.loads(Path(p).read_text()) for p in args.figures if Path(p).exists()]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# bench/run_all, {when}", "", f"Machine: {machine()}.", "", *table(runs), ""]
    lines += [f"{note}  " for note in args.note]
    text = "\n".join(lines).rstrip() + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
