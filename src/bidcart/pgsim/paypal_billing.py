"""PayPal vault (Payment Method Tokens v3) and Orders v2 charges with a vaulted payment method.

Wire facts (PayPal's vault_payment_tokens_v3.json, tests/data/specs/paypal-vault_payment_tokens_v3.json;
developer.paypal.com "Save payment methods"):
- `POST /v3/vault/setup-tokens` `{payment_source: {paypal: {usage_type, experience_context: {return_url,
  cancel_url}}}}` → 201 `{id, status: "PAYER_ACTION_REQUIRED", links: [approve → /agreements/approve?
  approval_session_id=…]}`; the buyer approves on PayPal and comes back to
  `return_url?approval_token_id=<setup token>&approval_session_id=…` (cancel: `cancel_url`). With
  `payment_source.card` (`number`, `expiry` YYYY-MM) the token is APPROVED at once; an expired card is
  422 `CARD_EXPIRED`. `PayPal-Request-Id` replays the first answer with 200.
- `POST /v3/vault/payment-tokens` `{payment_source: {token: {id: <setup token>, type: "SETUP_TOKEN"}}}`
  → 201 the payment token `{id, customer: {id}, payment_source: {paypal: {...}} | {card: {brand,
  last_digits, expiry}}}`; a setup token not approved is 422 `SETUP_TOKEN_NOT_APPROVED`, an unknown one
  404. (The published spec's `token.type` enum says only BILLING_AGREEMENT; PayPal's docs and clients
  send SETUP_TOKEN: see tests/contract.py ERRATA.) A setup token vaulted once answers its payment token.
- `GET /v3/vault/payment-tokens/{id}`; `DELETE` → 204; unknown → 404 `INVALID_RESOURCE_ID`.
- Orders v2 with `payment_source.card.vault_id` or `payment_source.paypal.vault_id` (intent CAPTURE): no
  buyer in the loop; the order is answered COMPLETED at once with its capture. A declined card's capture
  is DECLINED with `processor_response` (`response_code` 5120 insufficient funds, 5400 expired card),
  still 201; a declined PayPal wallet is 422 `INSTRUMENT_DECLINED`.
- Webhooks: VAULT.PAYMENT-TOKEN.CREATED / VAULT.PAYMENT-TOKEN.DELETED, PAYMENT.CAPTURE.COMPLETED /
  PAYMENT.CAPTURE.DECLINED.

Scripted outcomes: the test cards of pgsim/cards.py, typed on the approval page (`card_number`,
`expiry`: the wallet's funding card) or sent with a card setup token.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from . import cards, hosted, targets
from .core import read_form, with_query

PROCESSOR = {
    cards.INSUFFICIENT_FUNDS: ("5120", "INSUFFICIENT_FUNDS"),
    cards.EXPIRED_CARD: ("5400", "EXPIRED_CARD"),
    cards.DECLINED: ("0500", "DO_NOT_HONOR"),
}
BRANDS = {"4": "VISA", "5": "MASTERCARD", "3": "AMEX", "6": "DISCOVER"}


class PayPalVault:
    """Mixed into pgsim's PayPal: uses its auth/replay (`_call`), errors, orders, captures and webhooks."""

    def vault_routes(self) -> list[Route]:
        return [
            Route("/paypal/v3/vault/setup-tokens", self.create_setup_token, methods=["POST"]),
            Route("/paypal/v3/vault/setup-tokens/{id}", self.get_setup_token, methods=["GET"]),
            Route("/paypal/v3/vault/payment-tokens", self.create_payment_token, methods=["POST"]),
            Route("/paypal/v3/vault/payment-tokens/{id}", self.payment_token, methods=["GET", "DELETE"]),
            Route("/paypal/agreements/approve", self.approve_vault, methods=["GET", "POST"]),
        ]

    # --- objects -------------------------------------------------------------------------------------
    def _source(self, record: dict) -> dict:
        if record["kind"] == "card":
            return {
                "card": {"brand": record["brand"], "last_digits": record["number"][-4:], "expiry": record["expiry"]}
            }
        if record.get("payer"):
            return {
                "paypal": {
                    "email_address": record["payer"]["email_address"],
                    "account_id": record["payer"]["payer_id"],
                    "name": record["payer"]["name"],
                }
            }
        return {"paypal": {}}

    def setup_token_object(self, record: dict, request: Request) -> dict:
        api = self._api(request)
        links = [{"href": f"{api}/v3/vault/setup-tokens/{record['id']}", "rel": "self", "method": "GET"}]
        if record["status"] == "PAYER_ACTION_REQUIRED":
            links.append(
                {
                    "href": f"{api}/agreements/approve?approval_session_id={record['id']}",
                    "rel": "approve",
                    "method": "GET",
                }
            )
        if record["status"] == "APPROVED":
            links.append({"href": f"{api}/v3/vault/payment-tokens", "rel": "confirm", "method": "POST"})
        body = {
            "id": record["id"],
            "customer": {"id": record["customer_id"]},
            "status": record["status"],
            "payment_source": self._source(record),
            "links": links,
        }
        return body

    def payment_token_object(self, record: dict, request: Request) -> dict:
        api = self._api(request)
        return {
            "id": record["id"],
            "customer": {"id": record["customer_id"]},
            "payment_source": self._source(record),
            "links": [
                {"href": f"{api}/v3/vault/payment-tokens/{record['id']}", "rel": "self", "method": "GET"},
                {"href": f"{api}/v3/vault/payment-tokens/{record['id']}", "rel": "delete", "method": "DELETE"},
            ],
        }

    def _render_vault(self, kind: str, resource_id: str, request: Request) -> dict:
        if kind == "setup_token":
            return self.setup_token_object(self.state.paypal_setup_tokens[resource_id], request)
        return self.payment_token_object(self.state.paypal_payment_tokens[resource_id], request)

    # --- setup tokens ----------------------------------------------------------------------------------
    async def create_setup_token(self, request: Request) -> Response:
        return await self._call(request, self._create_setup_token, "setup_token")

    def _create_setup_token(self, request: Request, body: dict) -> tuple[int, str, str]:
        from .paypal import PayPalError

        source = body.get("payment_source")
        if not isinstance(source, dict) or not (
            isinstance(source.get("card"), dict) or isinstance(source.get("paypal"), dict)
        ):
            raise PayPalError(
                400, "MISSING_REQUIRED_PARAMETER", "A required field / parameter is missing.", "/payment_source"
            )
        customer = body.get("customer") if isinstance(body.get("customer"), dict) else {}
        record: dict[str, Any] = {
            "id": self.state.token("", 17),
            "customer_id": customer.get("id") or self.state.token("", 10).lower(),
            "payment_token": None,
            "payer": None,
            "return_url": None,
            "cancel_url": None,
        }
        if isinstance(source.get("card"), dict):
            card = source["card"]
            number = cards.digits(card.get("number"))
            year, _, month = str(card.get("expiry") or "").partition("-")
            if not cards.valid_number(number) or not (year.isdigit() and month.isdigit() and 1 <= int(month) <= 12):
                raise PayPalError(
                    400,
                    "INVALID_PARAMETER_SYNTAX",
                    "The value of a field does not conform to the expected format.",
                    "/payment_source/card",
                )
            if cards.expired(int(year), int(month), self.state.now()):
                raise PayPalError(422, "CARD_EXPIRED", "The card is expired.", "/payment_source/card/expiry")
            record.update(
                kind="card",
                status="APPROVED",
                number=number,
                expiry=f"{year}-{month}",
                brand=BRANDS.get(number[:1], "VISA"),
            )
        else:
            context = source["paypal"].get("experience_context") or {}
            for key in ("return_url", "cancel_url"):
                if not context.get(key):
                    raise PayPalError(
                        400,
                        "MISSING_REQUIRED_PARAMETER",
                        "A required field / parameter is missing.",
                        f"/payment_source/paypal/experience_context/{key}",
                    )
                if not targets.is_allowed(context[key], self.config, request.scope):
                    raise PayPalError(
                        422,
                        "INVALID_PARAMETER_VALUE",
                        "The value of a field is invalid: the URL's origin is "
                        "not allowed by the simulator (PGSIM_ALLOWED_ORIGINS).",
                        f"/payment_source/paypal/experience_context/{key}",
                    )
            record.update(
                kind="paypal",
                status="PAYER_ACTION_REQUIRED",
                return_url=context["return_url"],
                cancel_url=context["cancel_url"],
                number=cards.DEFAULT_CARD,
            )
        self.state.paypal_setup_tokens[record["id"]] = record
        return 201, "setup_token", record["id"]

    async def get_setup_token(self, request: Request) -> Response:
        def handler(r: Request, _params: dict) -> tuple[int, str, str]:
            return 200, "setup_token", self._setup_token(r.path_params["id"])["id"]

        return await self._call(request, handler)

    def _setup_token(self, token_id: str) -> dict:
        from .paypal import PayPalError

        record = self.state.paypal_setup_tokens.get(token_id)
        if record is None:
            raise PayPalError(404, "INVALID_RESOURCE_ID", "Specified resource ID does not exist.", "id", "path")
        return record

    # --- payment tokens ---------------------------------------------------------------------------------
    async def create_payment_token(self, request: Request) -> Response:
        return await self._call(request, self._create_payment_token, "payment_token")

    def _create_payment_token(self, request: Request, body: dict) -> tuple[int, str, str]:
        from .paypal import PayPalError

        token = (
            (body.get("payment_source") or {}).get("token") if isinstance(body.get("payment_source"), dict) else None
        )
        if not isinstance(token, dict) or not token.get("id"):
            raise PayPalError(
                400, "MISSING_REQUIRED_PARAMETER", "A required field / parameter is missing.", "/payment_source/token"
            )
        if token.get("type") != "SETUP_TOKEN":
            raise PayPalError(
                422,
                "INVALID_PARAMETER_VALUE",
                "pgsim vaults setup tokens only (type SETUP_TOKEN).",
                "/payment_source/token/type",
            )
        setup = self.state.paypal_setup_tokens.get(str(token["id"]))
        if setup is None:
            raise PayPalError(
                404, "INVALID_RESOURCE_ID", "Specified resource ID does not exist.", "/payment_source/token/id"
            )
        if setup["status"] != "APPROVED":
            raise PayPalError(
                422,
                "SETUP_TOKEN_NOT_APPROVED",
                "The setup token has not been approved by the payer.",
                "/payment_source/token/id",
            )
        if setup["payment_token"]:
            return 200, "payment_token", setup["payment_token"]
        record = {k: setup.get(k) for k in ("kind", "customer_id", "number", "expiry", "brand", "payer")}
        record.update(
            id=self.state.token("", 10).lower(),
            decline=cards.charge_outcome(setup["number"]),
            create_time=self.state.now(),
        )
        self.state.paypal_payment_tokens[record["id"]] = record
        setup.update(payment_token=record["id"], status="VAULTED")
        self._send(
            request,
            "VAULT.PAYMENT-TOKEN.CREATED",
            "payment_token",
            self.payment_token_object(record, request),
            "A payment token has been created.",
        )
        return 201, "payment_token", record["id"]

    async def payment_token(self, request: Request) -> Response:
        from .paypal import PayPalError

        def handler(r: Request, _params: dict) -> tuple[int, str, str]:
            record = self.state.paypal_payment_tokens.get(r.path_params["id"])
            if record is None:
                raise PayPalError(404, "INVALID_RESOURCE_ID", "Specified resource ID does not exist.", "id", "path")
            return 200, "payment_token", record["id"]

        if request.method == "GET":
            return await self._call(request, handler)
        answer = await self._call(request, handler)  # auth and existence, as a GET would
        if answer.status_code != 200:
            return answer
        record = self.state.paypal_payment_tokens.pop(request.path_params["id"])
        self._send(
            request,
            "VAULT.PAYMENT-TOKEN.DELETED",
            "payment_token",
            {"id": record["id"]},
            "A payment token has been deleted.",
        )
        self.state.save()
        return Response(status_code=204)

    # --- the buyer approves the vault on PayPal ----------------------------------------------------------
    async def approve_vault(self, request: Request) -> Response:
        setup = self.state.paypal_setup_tokens.get(request.query_params.get("approval_session_id", ""))
        if setup is None or setup["kind"] != "paypal":
            return hosted.message_page(request, "PayPal", "Unknown approval session.", 404)
        if setup["status"] != "PAYER_ACTION_REQUIRED":
            return hosted.message_page(request, "PayPal", f"This setup token is {setup['status']}.", 409)
        if request.method == "GET":
            return hosted.checkout_page(
                request,
                "PayPal: save PayPal for future payments",
                [("Setup token", setup["id"])],
                action_url=str(request.url),
                hidden={"card_number": cards.DEFAULT_CARD, "expiry": cards.DEFAULT_EXPIRY},
                approve_label="Agree and continue (log in as sandbox buyer)",
            )
        form = await read_form(request)
        number = cards.digits(form.get("card_number") or cards.DEFAULT_CARD)
        year, _, month = str(form.get("expiry") or cards.DEFAULT_EXPIRY).partition("-")
        usable = year.isdigit() and month.isdigit() and not cards.expired(int(year), int(month), self.state.now())
        if form.get("action") != "approve" or not usable:
            return RedirectResponse(setup["cancel_url"], status_code=303)
        from .paypal import ACCOUNT_ID_ALPHABET

        payer_id = "".join(secrets.choice(ACCOUNT_ID_ALPHABET) for _ in range(13))
        setup.update(
            status="APPROVED",
            number=number,
            payer={
                "name": {"given_name": "Sandbox", "surname": "Buyer"},
                "email_address": "buyer@pgsim.example",
                "payer_id": payer_id,
            },
        )
        self.state.save()
        return RedirectResponse(
            with_query(setup["return_url"], approval_token_id=setup["id"], approval_session_id=setup["id"]),
            status_code=303,
        )

    # --- Orders v2 with a vault_id ---------------------------------------------------------------------
    def vaulted_source(self, body: dict) -> tuple[str, str] | None:
        """(kind, vault_id) when the order pays with a vaulted payment method."""
        source = body.get("payment_source") if isinstance(body.get("payment_source"), dict) else {}
        for kind in ("card", "paypal"):
            part = source.get(kind)
            if isinstance(part, dict) and part.get("vault_id"):
                return kind, str(part["vault_id"])
        return None

    def charge_vaulted(self, request: Request, order: dict, kind: str, vault_id: str) -> None:
        """Charge a new order with the vaulted method at once: the order ends COMPLETED (its capture
        COMPLETED or DECLINED), or a wallet's decline is refused with INSTRUMENT_DECLINED."""
        from .paypal import PayPalError

        record = self.state.paypal_payment_tokens.get(vault_id)
        if record is None:
            raise PayPalError(
                404, "INVALID_RESOURCE_ID", "Specified resource ID does not exist.", f"/payment_source/{kind}/vault_id"
            )
        if record["kind"] != kind:  # the issue and text of Orders v2's 422 list
            raise PayPalError(
                422,
                "MISMATCHED_VAULT_ID_TO_PAYMENT_SOURCE",
                "The vault_id does not match the payment_source "
                "provided. Please verify that the vault_id token used refers to the matching payment_source "
                "and try again. For example, a PayPal token cannot be passed in the vault_id field in the "
                "payment_source.card object.",
                f"/payment_source/{kind}/vault_id",
            )
        decline = (
            self.sim.take_charge_decline("paypal")
            or record.get("decline")
            or (cards.DECLINED if order["declined"] else None)
        )
        if decline and kind == "paypal":
            self._send(
                request,
                "PAYMENT.CAPTURE.DECLINED",
                "capture",
                {"order_id": order["id"], "status": "DECLINED"},
                "A payment capture was declined",
            )
            # create order's text (with its two spaces) as Orders v2's 422 list gives it
            raise PayPalError(
                422,
                "INSTRUMENT_DECLINED",
                "The instrument presented  was either declined by the processor "
                "or bank, or it can't be used for this payment.",
            )
        now = self.state.now()
        capture_id = self.state.token("", 17)
        capture: dict[str, Any] = {
            "id": capture_id,
            "order_id": order["id"],
            "status": "DECLINED" if decline else "COMPLETED",
            "amount": order["total"],
            "refunded": 0,
            "create_time": now,
            "update_time": now,
        }
        if kind == "card":
            code, name = PROCESSOR[decline] if decline else ("0000", "APPROVED")
            capture["processor_response"] = {"avs_code": "Y", "cvv_code": "X", "response_code": code}
            capture["decline_name"] = name
        self.state.paypal_captures[capture_id] = capture
        order.update(status="COMPLETED", capture_id=capture_id, update_time=now, vault=(kind, vault_id))
        event = "PAYMENT.CAPTURE.DECLINED" if decline else "PAYMENT.CAPTURE.COMPLETED"
        self._send(
            request,
            event,
            "capture",
            self.capture_object(capture_id, request),
            f"A payment capture: {capture['status']}",
        )
