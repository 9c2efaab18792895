"""Outgoing webhooks: an outbox of deliveries, signing, retries with back-off.

A delivery is created by a provider module (`Outbox.enqueue`) and attempted by a
background task that is started lazily from a request handler (the app does not rely on
ASGI lifespan, which a Mount does not forward). Every attempt is logged in
`state.attempts`. The control API can drop, delay, duplicate or reorder deliveries.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
import zlib
from typing import Any

import httpx

from .core import Sim


def standard_webhooks_signature(secret: str, msg_id: str, timestamp: str, body: str) -> str:
    """Standard Webhooks (PortOne V2): HMAC-SHA256 over `id.timestamp.body`, key from whsec_."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def paypal_signature(secret: str, transmission_id: str, time_: str, webhook_id: str, body: str) -> str:
    """PayPal signs `transmission_id|time|webhook_id|crc32(body)`. PayPal uses RSA with a
    certificate on a PayPal domain; offline verification can never succeed against a
    simulator anyway, so pgsim uses HMAC-SHA256 and answers through the verify API."""
    crc = zlib.crc32(body.encode()) & 0xFFFFFFFF
    signed = f"{transmission_id}|{time_}|{webhook_id}|{crc}"
    return base64.b64encode(hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()).decode()


class Outbox:
    def __init__(self, sim: Sim):
        self.sim = sim
        self._task: asyncio.Task | None = None
        self._wake: asyncio.Event | None = None
        self._held: list[str] = []  # delivery ids held back for a reorder
        # Ids of deliveries that may be pending: the loop looks at these, not at every delivery ever
        # made (dropped lazily once no longer pending), so its cost does not grow with the ledger.
        self._pending_ids: set[str] = {i for i, d in sim.state.webhooks.items() if d["state"] == "pending"}

    # --- creating deliveries --------------------------------------------------------
    def enqueue(self, provider: str, url: str | None, event: dict, event_id: str, base_url: str = "") -> list[dict]:
        """Record a delivery of `event` (and a duplicate if asked). Returns the records."""
        controls = self.sim.webhook_controls
        state = self.sim.state
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        copies = 2 if self._consume("duplicate") else 1
        records = []
        for copy in range(copies):
            delivery = {
                "id": state.token("DLV", 16),
                "provider": provider,
                "event_id": event_id,
                "url": url,
                "base_url": base_url,
                "body": body,
                "created_at": state.now(),
                "next_at": state.now() + float(controls.get("delay") or 0),
                "attempts": 0,
                "state": "pending",
                "duplicate_of": records[0]["id"] if copy else None,
                "transmissions": [],
            }
            if not url:
                delivery["state"] = "no_target"  # nothing configured: kept for the ledger
            elif copy == 0 and self._consume("drop"):
                delivery["state"] = "dropped"
            elif self._consume_reorder():
                delivery["state"] = "held"
                self._held.append(delivery["id"])
            state.webhooks[delivery["id"]] = delivery
            if delivery["state"] == "pending":
                self._pending_ids.add(delivery["id"])
            records.append(delivery)
        self._release_held_if_full()
        state.save()
        if self._wake is not None:
            self._wake.set()
        return records

    def _consume(self, key: str) -> bool:
        """Counters: `drop: 2` drops the next two deliveries; `True` means every one."""
        value = self.sim.webhook_controls.get(key)
        if not value:
            return False
        if value is not True:
            self.sim.webhook_controls[key] = value - 1
        return True

    def _consume_reorder(self) -> bool:
        return bool(self.sim.webhook_controls.get("reorder"))

    def _release_held_if_full(self) -> None:
        """`reorder: N` holds N deliveries, then releases them newest first."""
        size = self.sim.webhook_controls.get("reorder")
        if size and len(self._held) >= int(size):
            self.release_held()
            self.sim.webhook_controls["reorder"] = 0

    def release_held(self) -> None:
        now = self.sim.state.now()
        for i, delivery_id in enumerate(reversed(self._held)):
            delivery = self.sim.state.webhooks.get(delivery_id)
            if delivery and delivery["state"] == "held":
                delivery["state"] = "pending"
                self._pending_ids.add(delivery_id)
                # Strictly increasing due times keep the reversed order on the wire.
                delivery["next_at"] = now + i * 0.001
        self._held.clear()

    # --- sending ----------------------------------------------------------------------
    def _pending(self) -> list[dict]:
        webhooks = self.sim.state.webhooks
        live = []
        for delivery_id in list(self._pending_ids):
            delivery = dict.get(webhooks, delivery_id)  # a look, not a change: not marked for saving
            if delivery is None or delivery["state"] != "pending":
                self._pending_ids.discard(delivery_id)
            else:
                live.append(delivery)
        return live

    def ensure_worker(self) -> None:
        """Start the delivery loop in the running event loop if it is not running there."""
        loop = asyncio.get_running_loop()
        if self._task is not None and not self._task.done() and self._task.get_loop() is loop:
            return
        self._wake = asyncio.Event()
        self._task = loop.create_task(self._run(), name="pgsim-webhooks")

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, RuntimeError):
                pass
        self._task = None

    async def _run(self) -> None:
        while True:
            await self.deliver_due()
            pending = [d["next_at"] for d in self._pending()]
            wait = 1.0 if not pending else max(0.0, min(min(pending) - self.sim.state.now(), 1.0))
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except asyncio.TimeoutError:
                pass

    async def deliver_due(self, force: bool = False) -> list[dict]:
        """Attempt every pending delivery that is due (all pending ones when `force`)."""
        now = self.sim.state.now()
        due = sorted((d for d in self._pending() if force or d["next_at"] <= now), key=lambda d: d["next_at"])
        results = []
        for delivery in due:
            if delivery["state"] == "pending":  # another caller may have sent it meanwhile
                self.sim.state.webhooks.touch(delivery["id"])
                delivery["state"] = "sending"
                results.append(await self.attempt(delivery))
        return results

    def headers_for(self, delivery: dict) -> dict[str, str]:
        headers = {"content-type": "application/json", "user-agent": "pgsim-webhooks"}
        now = self.sim.state.now()
        if delivery["provider"] == "portone":
            timestamp = str(int(now))
            headers["webhook-id"] = delivery["event_id"]
            headers["webhook-timestamp"] = timestamp
            headers["webhook-signature"] = standard_webhooks_signature(
                self.sim.portone_webhook_secret, delivery["event_id"], timestamp, delivery["body"]
            )
        elif delivery["provider"] == "paypal":
            config = self.sim.config
            transmission_id = str(uuid.uuid4())  # PayPal's look like 69cd13f0-d67a-11e5-baa3-778b53f4ae55
            time_ = self.sim.state.rfc3339(now)
            sig = paypal_signature(
                self.sim.paypal_webhook_secret, transmission_id, time_, config.paypal_webhook_id, delivery["body"]
            )
            headers.update(
                {
                    "paypal-transmission-id": transmission_id,
                    "paypal-transmission-time": time_,
                    "paypal-transmission-sig": sig,
                    "paypal-cert-url": f"{delivery.get('base_url', '')}/paypal/v1/notifications/certs/pgsim",
                    "paypal-auth-algo": "SHA256withRSA",
                }
            )
            delivery["transmissions"].append({"id": transmission_id, "time": time_, "sig": sig})
        return headers

    async def attempt(self, delivery: dict) -> dict:
        state = self.sim.state
        state.webhooks.touch(delivery["id"])
        headers = self.headers_for(delivery)
        delivery["attempts"] += 1
        record: dict[str, Any] = {
            "delivery_id": delivery["id"],
            "provider": delivery["provider"],
            "event_id": delivery["event_id"],
            "attempt": delivery["attempts"],
            "url": delivery["url"],
            "at": state.now(),
            "headers": headers,
        }
        started = time.monotonic()
        try:
            async with httpx.AsyncClient(
                transport=self.sim.config.webhook_transport, timeout=self.sim.config.webhook_timeout
            ) as client:
                response = await client.post(delivery["url"], content=delivery["body"].encode(), headers=headers)
            record["status_code"] = response.status_code
            ok = 200 <= response.status_code < 300
        except httpx.HTTPError as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
            ok = False
        record["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        state.attempts.append(record)
        backoff = self.retry_schedule(delivery["provider"])
        if ok:
            delivery["state"] = "delivered"
        elif delivery["attempts"] <= len(backoff):
            delivery["state"] = "pending"
            self._pending_ids.add(delivery["id"])
            delivery["next_at"] = state.now() + backoff[delivery["attempts"] - 1]
        else:
            delivery["state"] = "failed"
        state.save()
        return record

    def retry_schedule(self, provider: str) -> tuple[float, ...]:
        """PortOne V2 and PayPal retry a failed delivery at growing intervals (minutes to hours); PortOne
        V1 sends a notification once and again only when asked (its console's resend: `resend`)."""
        config = self.sim.config
        if provider == "iamport" and not config.iamport_webhook_retry:
            return ()
        return config.webhook_backoff

    def resend(self, delivery_id: str) -> dict | None:
        """Send a delivery again now (a failed or delivered one), as the providers' consoles allow."""
        delivery = self.sim.state.webhooks.get(delivery_id)
        if delivery is None or delivery["state"] not in ("failed", "delivered"):
            return None
        delivery.update(state="pending", next_at=self.sim.state.now())
        self._pending_ids.add(delivery_id)
        self.sim.state.save()
        if self._wake is not None:
            self._wake.set()
        return delivery

    def verify_paypal(self, payload: dict) -> bool:
        """SUCCESS only for a transmission pgsim really sent, with every field intact."""
        config = self.sim.config
        if payload.get("webhook_id") != config.paypal_webhook_id:
            return False
        for delivery in self.sim.state.webhooks.values():
            if delivery["provider"] != "paypal":
                continue
            for tx in delivery["transmissions"]:
                if tx["id"] != payload.get("transmission_id"):
                    continue
                return (
                    hmac.compare_digest(tx["sig"], str(payload.get("transmission_sig", "")))
                    and tx["time"] == payload.get("transmission_time")
                    and payload.get("webhook_event") == json.loads(delivery["body"])
                )
        return False
