"""bench/payments.py still runs end to end (a smoke run: one flow per provider; no timing is asserted)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_payment_benchmark_pays_through_the_shop_and_the_simulator(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    out = tmp_path / "figures.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "payments.py"), "--flows", "1", "--concurrency", "1", "--json", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    figures = {f["figure"]: f for f in json.loads(out.read_text())["figures"]}
    kakaopay = figures["payments: KakaoPay flow @ 1 buyers"]
    portone = figures["payments: PortOne V1 flow @ 1 buyers"]
    hooks = figures["payments: webhook deliveries @ 1 in flight"]
    assert kakaopay["note"].startswith("1 paid;") and portone["note"].startswith("1 paid;")
    assert hooks["note"] == "processed 1"  # PortOne's notice was stored, checked at pgsim and recorded
    assert kakaopay["value"] > 0 and kakaopay["ceiling"] > 0
