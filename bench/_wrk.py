"""GET pages with wrk (Debian's `wrk`, a C load generator): it costs the server's CPUs far less than a
Python client would, so a page's figure is the server's, not the load generator's.

One wrk process per server (connections split between them), one thread each; a Lua script walks the
given paths in turn and prints the figures as JSON when it is done."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %%d, "duration_us": %%d, "errors": %%d, "p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, e.status + e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def ensure_wrk() -> str:
    """wrk's path, installing Debian's package the first time (the bench needs root or a wrk on PATH)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("installing Debian's wrk for the page benchmarks...", flush=True)
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, check=True, capture_output=True)
    return shutil.which("wrk") or "/usr/bin/wrk"


def run_wrk(bases: list[str], paths: list[str], connections: int, seconds: float) -> dict:
    """GET `paths` in turn over `connections` keep-alive connections, split over `bases`, for `seconds`:
    requests per second, p50/p99 in ms (the worst server's), and errors (non-2xx/3xx, socket errors)."""
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "paths.lua"
        script.write_text(SCRIPT % ", ".join(json.dumps(p) for p in paths))
        procs = []
        for i, base in enumerate(bases):
            share = connections // len(bases) + (1 if i < connections % len(bases) else 0)
            if share == 0:
                continue
            procs.append(
                subprocess.Popen(
                    [
                        wrk,
                        "-t1",
                        f"-c{share}",
                        f"-d{max(1, round(seconds))}s",
                        "--timeout",
                        "30s",
                        "-s",
                        str(script),
                        base,
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        results = []
        for proc in procs:
            out, err = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"wrk failed: {err.strip() or out.strip()}")
            results.append(json.loads(out.strip().splitlines()[-1]))
    done = sum(r["requests"] for r in results)
    rps = sum(r["requests"] / (r["duration_us"] / 1e6) for r in results if r["duration_us"])
    return {
        "done": done,
        "rps": rps,
        "p50": max(r["p50_us"] for r in results) / 1000,
        "p99": max(r["p99_us"] for r in results) / 1000,
        "errors": sum(r["errors"] for r in results),
    }
