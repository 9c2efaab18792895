"""pgsim's persistence cost as its ledger grows: KakaoPay flows (ready, approve on the hosted page,
approve) against a simulator with a state file already holding N payments.

    .venv/bin/python bench/pgsim_state.py [--sizes 0,2000,10000] [--flows 60]

In process (httpx's ASGI transport, no sockets, one client): what is measured is the simulator's own
work per flow, most of it writing its state. Prints one row per size; no figure is asserted anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from urllib.parse import parse_qsl, urlsplit

import httpx

from bidcart.pgsim.app import create_app
from bidcart.pgsim.config import SimConfig

SHOP = "http://shop.bench"


def preload(app, n: int) -> None:
    """N approved KakaoPay payments written in one go, as if earlier flows had left them."""
    state = app.sim.state
    now = state.now()
    for i in range(n):
        tid = state.token("T", 19)
        state.kakaopay[tid] = {
            "tid": tid,
            "cid": "TC0ONETIME",
            "api": "online",
            "status": "SUCCESS_PAYMENT",
            "partner_order_id": f"pre-{i}",
            "partner_user_id": "u",
            "item_name": "preloaded",
            "item_code": None,
            "quantity": 1,
            "amount": {"total": 15000, "tax_free": 0, "vat": 1364, "point": 0, "discount": 0, "green_deposit": 0},
            "canceled_amount": {"total": 0, "tax_free": 0, "vat": 0, "point": 0, "discount": 0, "green_deposit": 0},
            "approval_url": f"{SHOP}/ok",
            "cancel_url": f"{SHOP}/cancel",
            "fail_url": f"{SHOP}/fail",
            "payment_method_type": "CARD",
            "pg_token": state.token("", 20).lower(),
            "created_at": now,
            "approved_at": now,
            "canceled_at": None,
            "actions": [
                {"aid": state.token("A", 19), "approved_at": now, "amount": 15000, "payment_action_type": "PAYMENT"}
            ],
        }
    state.save()


async def flows(app, count: int) -> float:
    config = app.sim.config
    auth = {"Authorization": f"SECRET_KEY {config.kakaopay_secret_key}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pgsim.bench") as client:
        started = time.perf_counter()
        for i in range(count):
            order = f"bench-{i}"
            ready = (
                await client.post(
                    "/kakaopay/online/v1/payment/ready",
                    headers=auth,
                    json={
                        "cid": config.kakaopay_cid,
                        "partner_order_id": order,
                        "partner_user_id": "u",
                        "item_name": "bench",
                        "quantity": 1,
                        "total_amount": 15000,
                        "tax_free_amount": 0,
                        "approval_url": f"{SHOP}/ok",
                        "cancel_url": f"{SHOP}/cancel",
                        "fail_url": f"{SHOP}/fail",
                    },
                )
            ).json()
            page = await client.post(ready["next_redirect_pc_url"], data={"action": "approve"})
            pg_token = dict(parse_qsl(urlsplit(page.headers["location"]).query))["pg_token"]
            approved = await client.post(
                "/kakaopay/online/v1/payment/approve",
                headers=auth,
                json={
                    "cid": config.kakaopay_cid,
                    "tid": ready["tid"],
                    "partner_order_id": order,
                    "partner_user_id": "u",
                    "pg_token": pg_token,
                },
            )
            approved.raise_for_status()
        elapsed = time.perf_counter() - started
    await app.sim.outbox.stop()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="0,2000,10000", help="payments already in the state file")
    parser.add_argument("--flows", type=int, default=60)
    args = parser.parse_args()
    print(f"pgsim state: KakaoPay flows/s in process, {args.flows} flows per row")
    print(f"{'payments held':>14} | {'flows/s':>8} | {'ms/flow':>8} | state file")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "pgsim-state")
            app = create_app(SimConfig(state_file=path, allowed_origins=(SHOP,)))
            preload(app, size)
            rate = asyncio.run(flows(app, args.flows))
            size_mb = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p)) / 1e6
            print(f"{size:>14} | {rate:>8.1f} | {1000 / rate:>8.2f} | {size_mb:.1f} MB", flush=True)


if __name__ == "__main__":
    main()
