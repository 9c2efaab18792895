"""Control API for tests (`/_control/...`), off unless `SimConfig.control` is true.

- `GET  /_control/`               credentials, webhook secrets, base URLs, current knobs
- `GET  /_control/ledger`         the simulator's whole state (payments, tokens, deliveries)
- `POST /_control/reset`          forget everything (state, faults, outcomes, webhook knobs)
- `POST /_control/next-outcome`   `{"provider", "outcome": approve|cancel|fail|amount, "amount"?}`
- `POST /_control/faults`         `{"path", "latency_ms"?, "status"?, "error_rate"?, "timeout"?, "count"?}`
- `DELETE /_control/faults`       remove all fault rules
- `POST /_control/webhooks`       `{"drop"?, "delay"?, "duplicate"?, "reorder"?}`
- `GET  /_control/webhooks`       deliveries and every attempt
- `POST /_control/webhooks/flush` attempt every pending delivery now (release held ones)
- `POST /_control/webhooks/resend` `{"delivery_id"}`: send a failed or delivered one again (V1 retries only so)
- `POST /_control/vbank/deposit`  `{"imp_uid"}` or `{"merchant_uid"}` (V1), `{"paymentId"}` (V2)
- `POST /_control/clock`          `{"advance": seconds}` moves the simulator's clock
"""

from __future__ import annotations

import asyncio
import json
import random

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .cards import CHARGE_DECLINES
from .core import OUTCOMES, PROVIDERS, Sim, base_url


def _json_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class Control:
    def __init__(self, sim: Sim, iamport, portone):
        self.sim = sim
        self.iamport = iamport
        self.portone = portone

    def routes(self) -> list[Route]:
        return [
            Route("/_control/", self.overview, methods=["GET"]),
            Route("/_control/ledger", self.ledger, methods=["GET"]),
            Route("/_control/reset", self.reset, methods=["POST"]),
            Route("/_control/next-outcome", self.next_outcome, methods=["POST"]),
            Route("/_control/faults", self.faults, methods=["GET", "POST", "DELETE"]),
            Route("/_control/webhooks", self.webhooks, methods=["GET", "POST"]),
            Route("/_control/webhooks/flush", self.flush, methods=["POST"]),
            Route("/_control/webhooks/resend", self.resend, methods=["POST"]),
            Route("/_control/vbank/deposit", self.deposit, methods=["POST"]),
            Route("/_control/clock", self.clock, methods=["POST"]),
        ]

    async def _body(self, request: Request) -> dict:
        raw = await request.body()
        data = json.loads(raw) if raw.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        return data

    async def overview(self, request: Request) -> Response:
        c, base = self.sim.config, base_url(request)
        return JSONResponse(
            {
                "base_urls": {p: f"{base}/{p}" for p in PROVIDERS},
                "kakaopay": {
                    "secret_key": c.kakaopay_secret_key,
                    "admin_key": c.kakaopay_admin_key,
                    "cid": c.kakaopay_cid,
                },
                "iamport": {"imp_key": c.imp_key, "imp_secret": c.imp_secret, "webhook_url": c.iamport_webhook_url},
                "portone": {
                    "api_secret": c.portone_secret,
                    "store_id": c.portone_store_id,
                    "webhook_secret": self.sim.portone_webhook_secret,
                    "webhook_url": c.portone_webhook_url,
                },
                "paypal": {
                    "client_id": c.paypal_client_id,
                    "client_secret": c.paypal_client_secret,
                    "webhook_id": c.paypal_webhook_id,
                    "webhook_url": c.paypal_webhook_url,
                },
                "faults": self.sim.faults,
                "next_outcomes": self.sim.next_outcomes,
                "webhook_controls": self.sim.webhook_controls,
                "webhook_backoff": list(c.webhook_backoff),
            }
        )

    async def ledger(self, request: Request) -> Response:
        return JSONResponse(self.sim.state.to_dict())

    async def reset(self, request: Request) -> Response:
        self.sim.state.reset()
        self.sim.faults.clear()
        self.sim.next_outcomes.clear()
        self.sim.webhook_controls.clear()
        self.sim.outbox.release_held()
        return JSONResponse({"reset": True})

    async def next_outcome(self, request: Request) -> Response:
        try:
            data = await self._body(request)
        except ValueError as exc:
            return _json_error(400, str(exc))
        if data.get("provider") not in PROVIDERS or data.get("outcome") not in OUTCOMES + CHARGE_DECLINES:
            return _json_error(400, f"provider must be one of {PROVIDERS}, outcome one of {OUTCOMES + CHARGE_DECLINES}")
        if data["outcome"] in CHARGE_DECLINES:  # the next billing-key charge, not the next page
            queue = self.sim.next_outcomes.setdefault(f"{data['provider']}:charge", [])
            queue.append({"outcome": data["outcome"]})
            return JSONResponse({"queued": queue})
        if data["outcome"] == "amount" and data.get("amount") in (None, ""):
            return _json_error(400, "outcome 'amount' needs an amount")
        entry = {"outcome": data["outcome"], "amount": data.get("amount")}
        self.sim.next_outcomes.setdefault(data["provider"], []).append(entry)
        return JSONResponse({"queued": self.sim.next_outcomes[data["provider"]]})

    async def faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.sim.faults.clear()
        elif request.method == "POST":
            try:
                data = await self._body(request)
                rule = {
                    "path": str(data.get("path") or "/"),
                    "method": (data.get("method") or "").upper() or None,
                    "latency_ms": float(data.get("latency_ms") or 0),
                    "status": int(data["status"]) if data.get("status") else None,
                    "error_rate": float(data.get("error_rate", 1.0)),
                    "timeout": bool(data.get("timeout")),
                    # the request is carried out and its answer lost: what the shop sees when a
                    # connection drops after the provider charged
                    "lose_answer": bool(data.get("lose_answer")),
                    "count": int(data["count"]) if data.get("count") is not None else None,
                }
            except (ValueError, TypeError) as exc:
                return _json_error(400, f"invalid fault: {exc}")
            if rule["status"] is not None and not 400 <= rule["status"] <= 599:
                return _json_error(400, "status must be 4xx or 5xx")
            self.sim.faults.append(rule)
        return JSONResponse({"faults": self.sim.faults})

    async def webhooks(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                data = await self._body(request)
            except ValueError as exc:
                return _json_error(400, str(exc))
            for key in ("drop", "duplicate"):  # true = every delivery, N = the next N
                if key in data:
                    self.sim.webhook_controls[key] = data[key] if isinstance(data[key], bool) else int(data[key])
            if "delay" in data:
                self.sim.webhook_controls["delay"] = float(data["delay"])
            if "reorder" in data:
                self.sim.webhook_controls["reorder"] = int(data["reorder"])
            return JSONResponse({"webhook_controls": self.sim.webhook_controls})
        state = self.sim.state
        return JSONResponse({"deliveries": list(state.webhooks.values()), "attempts": state.attempts})

    async def flush(self, request: Request) -> Response:
        self.sim.outbox.release_held()
        results = await self.sim.outbox.deliver_due(force=True)
        return JSONResponse({"attempts": results})

    async def resend(self, request: Request) -> Response:
        try:
            data = await self._body(request)
        except ValueError as exc:
            return _json_error(400, str(exc))
        delivery = self.sim.outbox.resend(str(data.get("delivery_id") or ""))
        if delivery is None:
            return _json_error(404, "no failed or delivered delivery with that delivery_id")
        return JSONResponse({"delivery": delivery})

    async def deposit(self, request: Request) -> Response:
        try:
            data = await self._body(request)
        except ValueError as exc:
            return _json_error(400, str(exc))
        state = self.sim.state
        if data.get("paymentId"):
            payment = state.portone_payments.get(data["paymentId"])
            ok = (
                payment is not None
                and payment["method"]["type"] == "PaymentMethodVirtualAccount"
                and self.portone.deposit(request, payment)
            )
        else:
            payment = state.iamport_payments.get(data.get("imp_uid") or "")
            if payment is None and data.get("merchant_uid"):
                payment = next(
                    (
                        p
                        for p in state.iamport_payments.values()
                        if p["merchant_uid"] == data["merchant_uid"]
                        and p["pay_method"] == "vbank"
                        and p["status"] == "ready"
                    ),
                    None,
                )
            ok = payment is not None and self.iamport.deposit(request, payment)
        if not ok:
            return _json_error(409 if payment else 404, "no virtual account awaiting a deposit")
        return JSONResponse({"deposited": True, "status": payment["status"]})

    async def clock(self, request: Request) -> Response:
        try:
            data = await self._body(request)
            self.sim.state.clock_offset += float(data.get("advance", 0))
        except (ValueError, TypeError) as exc:
            return _json_error(400, str(exc))
        self.sim.state.save()
        return JSONResponse({"clock_offset": self.sim.state.clock_offset, "now": self.sim.state.now()})


def provider_of(path: str) -> str:
    first = path.strip("/").split("/", 1)[0]
    return first if first in PROVIDERS else ""


def fault_body(provider: str, status: int, message: str, sim: Sim) -> dict:
    """An injected failure in the shape of the provider whose endpoint was hit."""
    if provider == "kakaopay":
        return {"error_code": -9798, "error_message": message}
    if provider == "iamport":
        return {"code": -1, "message": message, "response": None}
    if provider == "portone":
        return {"type": "INTERNAL_SERVER_ERROR" if status >= 500 else "INVALID_REQUEST", "message": message}
    if provider == "paypal":
        return {
            "name": "INTERNAL_SERVER_ERROR" if status >= 500 else "INVALID_REQUEST",
            "message": message,
            "debug_id": sim.state.hex(13),
        }
    return {"error": message}


async def apply_faults(sim: Sim, path: str, method: str) -> tuple[int, dict, bool] | None:
    """Run the first matching fault rule: sleep for latency, then maybe fail.

    Returns (status, body, after) to answer instead of the real handler's answer — with `after`, the
    handler runs first and its answer is thrown away (lose_answer) — or None to go on.
    """
    for rule in sim.faults:
        if not path.startswith(rule["path"]) or (rule["method"] and rule["method"] != method):
            continue
        if rule["count"] == 0:
            continue
        if rule["latency_ms"]:
            await asyncio.sleep(rule["latency_ms"] / 1000)
        failing = rule["timeout"] or rule["status"] or rule.get("lose_answer")
        if not failing or random.random() >= rule["error_rate"]:
            return None
        if rule["count"] is not None:
            rule["count"] -= 1
        provider = provider_of(path)
        if rule.get("lose_answer"):
            return 504, fault_body(provider, 504, "pgsim: the answer was lost", sim), True
        if rule["timeout"]:
            await asyncio.sleep(sim.config.fault_timeout)  # hold the request past the client's timeout
            return 504, fault_body(provider, 504, "pgsim: injected timeout", sim), False
        status = rule["status"]
        return status, fault_body(provider, status, f"pgsim: injected {status}", sim), False
    return None
