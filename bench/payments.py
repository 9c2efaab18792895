"""Payment benchmark: whole payment flows through the shop's API and pages against the payment simulator,
webhook deliveries through the shop's inbox, and the simulator alone as the ceiling.

    .venv/bin/python bench/payments.py [--flows 100] [--concurrency 8] [--providers kakaopay,portone]
                                       [--base-url URL[,URL…]] [--json FILE]

A fresh data folder (SQLite) unless DATABASE_URL / REDIS_URL are set. Starts `bidcart run --no-seed` on
127.0.0.1 with the simulator mounted at /pgsim — or, with --base-url, uses servers already running on that
database with their own simulator (the services-up stack: PGSIM_URL), buyers spread round-robin — and
measures:

1. payment flows per second, per provider, with N buyers at once, each flow what a buyer's browser does:
   add to cart (API) → place the order (API) → start the payment (API; the shop registers it at the
   provider) → approve on the provider's page (pgsim) → come back to the shop's return page (the shop
   confirms with the provider and the order is paid). p50/p99 per whole flow, and per step;
2. webhook deliveries per second through `POST /payments/webhooks/portone/`: PortOne V1's "paid" notice for
   each PortOne payment of (1), N at a time, as PortOne sends them (pgsim's own outbox sends one at a
   time, so the flows leave out the notice URL and this bench delivers them instead). Each is stored,
   checked against the provider (a fetch at pgsim) and recorded once;
3. the ceiling: KakaoPay's three steps (ready → approve on the page → approve) at pgsim alone, no shop,
   same concurrency.

A script, not a test: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
from _server import (
    add_target_args,
    base_urls,
    bench_env,
    figure,
    free_port,
    percentile,
    process_cpu_seconds,
    start_server,
    stop_server,
    write_figures,
)

HERE = Path(__file__).resolve()
ADDRESS = {
    "recipient": "김벤치",
    "phone": "010-1234-5678",
    "postcode": "06236",
    "address1": "서울 강남구 테헤란로 152",
    "address2": "12층",
}
STEPS = ("cart", "order", "start", "provider page", "return")
LABELS = {"kakaopay": "KakaoPay", "portone": "PortOne V1"}


# --- the Django side, run as a subprocess: python bench/payments.py --setup BUYERS ----------------------


def django_setup(buyers: int) -> None:
    import django

    django.setup()
    from django.utils import timezone

    from bidcart.accounts.jwt import token_pair
    from bidcart.accounts.models import User
    from bidcart.cart.models import CartItem
    from bidcart.catalog.models import Category, Product, Variant

    now = timezone.now()

    def user(email, **extra):
        return User.objects.filter(email=email).first() or User.objects.create_user(
            email, "bench-password-1", display_name=email.split("@")[0], is_active=True, email_verified_at=now, **extra
        )

    seller = user("bench-shopkeeper@example.com", is_seller=True)
    category, _ = Category.objects.get_or_create(slug="benchpay", defaults={"name": "bench payments"})
    product, _ = Product.objects.get_or_create(
        slug="benchpay",
        defaults={
            "seller": seller,
            "category": category,
            "name": "벤치 결제 상품 bench payment product",
            "base_price": 12_000,
        },
    )
    variant, _ = Variant.objects.get_or_create(product=product, sku="BENCH-PAY", defaults={"price": 12_000})
    Variant.objects.filter(pk=variant.pk).update(stock=10_000_000)  # never the limit
    people = [user(f"bench-payer{i}@example.com") for i in range(buyers)]
    CartItem.objects.filter(cart__user__in=people).delete()  # what an interrupted run left behind
    print(json.dumps({"variant": variant.pk, "tokens": [token_pair(p)["access"] for p in people]}))


# --- the bench ----------------------------------------------------------------------------------------


def portone_checkout(script: str, params: dict) -> tuple[str, dict]:
    """What PortOne V1's browser SDK posts to its payment window, less the notice URL (step 2 delivers the
    notices itself)."""
    return script.replace("/v1/iamport.js", "/checkout"), {k: str(v) for k, v in params.items() if k != "notice_url"}


async def one_flow(shop: httpx.AsyncClient, token: str, variant: int, provider: str) -> dict:
    """One buyer's whole payment; answers the step times, the merchant_uid and, for PortOne, its notice."""
    auth = {"Authorization": f"Bearer {token}"}
    times = {}

    async def step(name, call, expect):
        t0 = time.perf_counter()
        response = await call
        times[name] = time.perf_counter() - t0
        if response.status_code != expect:
            raise RuntimeError(f"{name}: HTTP {response.status_code} {response.text[:200]}")
        return response

    await step("cart", shop.post("/api/v1/cart/items/", json={"variant": variant, "quantity": 1}, headers=auth), 201)
    number = (
        await step("order", shop.post("/api/v1/orders/", json={"shipping_address": ADDRESS}, headers=auth), 201)
    ).json()["number"]
    started = (
        await step(
            "start", shop.post(f"/api/v1/orders/{number}/payments/", json={"provider": provider}, headers=auth), 201
        )
    ).json()
    nxt = started["next"]
    if nxt["type"] == "redirect":  # KakaoPay: the shop sent the buyer to the provider's page
        url, form = nxt["url"], {"action": "approve"}
    else:  # PortOne V1: the browser SDK opens the payment window with these parameters
        url, form = portone_checkout(nxt["script"], nxt["params"])
        form["action"] = "approve"
    page = await step("provider page", shop.post(url, data=form), 303)
    back = page.headers["location"]
    await step("return", shop.get(back), 302)
    paid = await shop.get(f"/api/v1/payments/{started['merchant_uid']}/", headers=auth)  # not timed
    if paid.json().get("status") != "paid":
        raise RuntimeError(f"payment {started['merchant_uid']} is {paid.json().get('status')} after the return")
    query = dict(parse_qsl(urlsplit(back).query))
    notice = (
        {"imp_uid": query["imp_uid"], "merchant_uid": started["merchant_uid"], "status": "paid"}
        if provider == "portone"
        else None
    )
    return {"times": times, "notice": notice, "sim": url.split("/kakaopay/")[0] if provider == "kakaopay" else None}


async def flows(bases: list[str], tokens: list[str], variant: int, provider: str, count: int, concurrency: int) -> dict:
    """`count` flows, `concurrency` buyers at once (each buyer one flow at a time: one cart per buyer)."""
    clients = [httpx.AsyncClient(base_url=base, timeout=60) for base in bases]
    done, errors, notices, sims = [], [], [], set()
    left = count
    try:

        async def buyer(i):
            nonlocal left
            while left > 0:
                left -= 1
                t0 = time.perf_counter()
                try:
                    result = await one_flow(clients[i % len(clients)], tokens[i], variant, provider)
                except (httpx.HTTPError, RuntimeError, KeyError, ValueError) as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                result["total"] = time.perf_counter() - t0
                done.append(result)
                if result["notice"]:
                    notices.append(result["notice"])
                if result["sim"]:
                    sims.add(result["sim"])

        started = time.perf_counter()
        await asyncio.gather(*(buyer(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    totals = [r["total"] for r in done]
    return {
        "provider": provider,
        "done": len(done),
        "errors": errors,
        "per_s": len(done) / elapsed if elapsed else 0,
        "p50": percentile(totals, 0.5),
        "p99": percentile(totals, 0.99),
        "notices": notices,
        "sims": sims,
        "steps": {s: percentile([r["times"][s] for r in done], 0.5) for s in STEPS},
    }


async def webhooks(bases: list[str], notices: list[dict], concurrency: int) -> dict:
    """Each notice once, `concurrency` at a time, as PortOne delivers them."""
    clients = [httpx.AsyncClient(base_url=base, timeout=60) for base in bases]
    queue = list(notices)
    latencies, states = [], {}
    try:

        async def sender(i):
            while queue:
                notice = queue.pop()
                t0 = time.perf_counter()
                try:
                    response = await clients[i % len(clients)].post(
                        "/payments/webhooks/portone/",
                        content=json.dumps(notice),
                        headers={"content-type": "application/json", "user-agent": "bench-webhooks"},
                    )
                    state = response.json().get("state") or response.json().get("code") or str(response.status_code)
                except (httpx.HTTPError, ValueError) as exc:
                    state = type(exc).__name__
                latencies.append(time.perf_counter() - t0)
                states[state] = states.get(state, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(sender(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    processed = states.get("processed", 0)
    return {
        "sent": len(latencies),
        "states": states,
        "per_s": processed / elapsed if elapsed else 0,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
    }


async def sim_ceiling(sim: str, shop: str, count: int, concurrency: int) -> dict:
    """KakaoPay's three steps at the simulator alone: ready (server), approve on the page (browser),
    approve (server) — what each flow of (1) asks of the provider, without the shop."""
    from bidcart.pgsim.config import SimConfig

    config = SimConfig()
    # The simulator sends browsers back only to the shop's origins (PGSIM_ALLOWED_ORIGINS), as the real ones
    # send them only to the registered domain: return URLs name a web server even when pgsim runs alone.
    auth = {"Authorization": f"SECRET_KEY {config.kakaopay_secret_key}"}
    latencies, errors = [], []
    left = count
    async with httpx.AsyncClient(base_url=sim, timeout=60) as client:

        async def buyer(i):
            nonlocal left
            while left > 0:
                left -= 1
                order = f"bench-ceiling-{i}-{left}"
                t0 = time.perf_counter()
                try:
                    ready = (
                        await client.post(
                            "/kakaopay/online/v1/payment/ready",
                            headers=auth,
                            json={
                                "cid": config.kakaopay_cid,
                                "partner_order_id": order,
                                "partner_user_id": str(i),
                                "item_name": "bench",
                                "quantity": 1,
                                "total_amount": 15_000,
                                "tax_free_amount": 0,
                                "approval_url": f"{shop}/ok",
                                "cancel_url": f"{shop}/cancel",
                                "fail_url": f"{shop}/fail",
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
                            "partner_user_id": str(i),
                            "pg_token": pg_token,
                            "total_amount": 15_000,
                        },
                    )
                    approved.raise_for_status()
                except (httpx.HTTPError, KeyError, ValueError) as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(buyer(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "per_s": len(latencies) / elapsed if elapsed else 0,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=100, help="payment flows per provider")
    parser.add_argument("--concurrency", type=int, default=8, help="buyers paying at once (and webhooks in flight)")
    parser.add_argument("--providers", default="kakaopay,portone", help="comma-separated: kakaopay, portone")
    add_target_args(parser)
    args = parser.parse_args()
    providers = [p.strip() for p in args.providers.split(",") if p.strip()]
    unknown = set(providers) - set(LABELS)
    if unknown:
        parser.error(f"unknown provider(s): {', '.join(sorted(unknown))}")
    bases = base_urls(args)
    started_here = not bases

    data_dir = tempfile.mkdtemp(prefix="bidcart-bench-payments-")
    env = bench_env(
        data_dir, running=not started_here, PGSIM_MOUNT="1"
    )  # `bidcart run` with DEBUG off mounts it only when asked
    proc = None
    results, hooks, ceiling = [], None, None
    try:
        print(f"data folder {data_dir}", flush=True)
        if started_here:
            subprocess.run(
                [sys.executable, "-m", "bidcart.cli", "manage", "migrate", "--verbosity", "0"], env=env, check=True
            )
        out = subprocess.run(
            [sys.executable, str(HERE), "--setup", str(args.concurrency)],
            env=env,
            check=True,
            text=True,
            stdout=subprocess.PIPE,
        ).stdout
        setup = json.loads(out.strip().splitlines()[-1])
        if started_here:  # the simulator mounted at /pgsim, as `bidcart run` serves it
            port = free_port()
            proc = start_server(env, port, Path(data_dir) / "server.log", ready=(200, 503))
            bases = [f"http://127.0.0.1:{port}"]
        for provider in providers:
            cpu_before = process_cpu_seconds(proc.pid) if proc else None
            result = asyncio.run(
                flows(bases, setup["tokens"], setup["variant"], provider, args.flows, args.concurrency)
            )
            if proc and result["done"]:  # the server's own CPU per paid flow (shop and its mounted simulator)
                result["cpu_ms"] = (process_cpu_seconds(proc.pid) - cpu_before) * 1000 / result["done"]
            results.append(result)
            print(
                f"  {LABELS[provider]}: {result['done']} flows, {result['per_s']:.1f}/s, {len(result['errors'])} "
                f"errors",
                flush=True,
            )
            for error in result["errors"][:3]:
                print(f"    {error}", flush=True)
        notices = [n for r in results for n in r["notices"]]
        if notices:
            hooks = asyncio.run(webhooks(bases, notices, args.concurrency))
            print(f"  webhooks: {hooks['sent']} sent, {hooks['per_s']:.1f} processed/s ({hooks['states']})", flush=True)
        sims = {s for r in results for s in r["sims"]}
        if sims:
            cpu_before = process_cpu_seconds(proc.pid) if proc else None
            ceiling = asyncio.run(sim_ceiling(sorted(sims)[0], bases[0], args.flows, args.concurrency))
            done = ceiling["per_s"] and args.flows - len(ceiling["errors"])
            if proc and done:
                ceiling["cpu_ms"] = (process_cpu_seconds(proc.pid) - cpu_before) * 1000 / done
            print(f"  pgsim alone: {ceiling['per_s']:.1f} KakaoPay flows/s", flush=True)
            for error in ceiling["errors"][:3]:
                print(f"    {error}", flush=True)
    finally:
        if proc is not None:
            stop_server(proc)
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(data_dir, ignore_errors=True)

    database = env.get("DATABASE_URL", "").split(":")[0] or "sqlite"
    print()
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()} ({platform.system()} "
        f"{platform.machine()}), "
        f"database {database}, cache {'redis' if env.get('REDIS_URL') else 'locmem'}; "
        + (
            "one uvicorn worker (bidcart run, pgsim mounted)"
            if started_here
            else f"{len(bases)} server(s) at {', '.join(bases)}"
        )
    )
    print(f"{args.flows} flows per provider, {args.concurrency} buyers at once")
    header = f"{'':<32} {'per s':>7} {'p50 ms':>7} {'p99 ms':>7}  notes"
    print(header)
    print("-" * len(header))
    figures = []
    for r in results:
        steps = ", ".join(f"{s} {ms:.0f}" for s, ms in r["steps"].items())
        errors = f"; {len(r['errors'])} errors" if r["errors"] else ""
        if r.get("cpu_ms"):
            errors += f"; server CPU {r['cpu_ms']:.1f} ms per flow"
        print(
            f"{LABELS[r['provider']] + ' flow':<32} {r['per_s']:>7.1f} {r['p50']:>7.1f} {r['p99']:>7.1f}  p50 by "
            f"step (ms): {steps}{errors}"
        )
        sim_rate = ceiling["per_s"] if ceiling and r["provider"] == "kakaopay" else None
        figures.append(
            figure(
                f"payments: {LABELS[r['provider']]} flow @ {args.concurrency} buyers",
                r["per_s"],
                "flows/s",
                p50=r["p50"],
                p99=r["p99"],
                ceiling=sim_rate,
                note=f"{r['done']} paid{errors}; p50 ms by step: {steps}",
            )
        )
    if hooks:
        states = ", ".join(f"{k} {v}" for k, v in sorted(hooks["states"].items()))
        print(
            f"{'webhook deliveries (PortOne V1)':<32} {hooks['per_s']:>7.1f} {hooks['p50']:>7.1f} "
            f"{hooks['p99']:>7.1f}  {states}"
        )
        figures.append(
            figure(
                f"payments: webhook deliveries @ {args.concurrency} in flight",
                hooks["per_s"],
                "processed/s",
                p50=hooks["p50"],
                p99=hooks["p99"],
                note=states,
            )
        )
    if ceiling:
        print(
            f"{'pgsim alone (KakaoPay steps)':<32} {ceiling['per_s']:>7.1f} {ceiling['p50']:>7.1f} "
            f"{ceiling['p99']:>7.1f}"
            f"  the ceiling of the KakaoPay flow{'; %d errors' % len(ceiling['errors']) if ceiling['errors'] else ''}"
            + (f"; server CPU {ceiling['cpu_ms']:.1f} ms per flow" if ceiling.get("cpu_ms") else "")
        )
    write_figures(args.json, "payments", figures, servers=bases, flows=args.flows, concurrency=args.concurrency)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--setup":
        django_setup(int(sys.argv[2]))
    else:
        main()
