"""PortOne V1 (Iamport): prepare the amount → `IMP.request_pay` in the browser → verify by `imp_uid`.

Wire facts: PAYMENT_PROTOCOLS.md §2. Every answer is the `{code, message, response}` envelope; a business
failure is HTTP 200 with `code != 0`, an unknown payment 404, a bad or expired token 401. Amounts on
the wire are major units (KRW: the same number).

What the services should know:
- start registers the amount (`POST /payments/prepare`): the payment window then refuses any other
  amount for this merchant_uid ("[결제검증]…", the payment ends "failed"). `Next.params` are
  `IMP.request_pay`'s parameters plus `imp_code`, the merchant code for `IMP.init`, which pay.js takes
  out before calling request_pay. `Next.psp` is empty: the imp_uid exists only once the buyer is on the
  payment window.
- confirm(params) takes the return URL's query string `imp_uid`, `merchant_uid`, `imp_success`
  (`error_code`/`error_msg` on failure). Only `imp_uid` is used, as a pointer: the payment is read
  from PortOne, the browser's success flag never counts. Without an imp_uid (the buyer closed the
  window) the payment is found by our merchant_uid.
- An imp_uid that belongs to another merchant_uid is reported as PortOne has it (Snapshot.merchant_uid
  differs, so the services see the mismatch) but with `psp={}`, and cancel/refund never act on a
  record of another merchant_uid: a tampered return must not make us cancel someone else's payment.
- fetch: nothing at PortOne yet → "pending" (merchant_uid None). ready → "pending", or
  "awaiting_deposit" with `vbank` for an issued virtual account. paid → "paid" with
  `refunded = cancel_amount` (a partial refund stays `paid`). cancelled → "paid" with
  `refunded = amount` if it was ever paid, else "cancelled" (a revoked virtual account).
  failed → "failed" with PortOne's fail_reason.
- Several attempts may share one merchant_uid (a window reopened after paying ends "failed", "already
  paid"); when the attempt at hand moved no money, a paid (else a cancelled) attempt of the same
  merchant_uid wins.
- cancel: a virtual account awaiting deposit is revoked (`DELETE /vbanks/{imp_uid}`); a paid payment
  is cancelled in full; anything else has nothing to void. Reports the truth after.
- refund sends `checksum=refundable`: PortOne refuses (code 1) a refund whose idea of the balance is
  stale, so a repeated refund cannot give money back twice. V1 takes no idempotency key.
- Webhooks are unsigned hints `{imp_uid, merchant_uid, status[, cancellation_id]}`; the services
  re-fetch before acting. Allow-listing PortOne's source IPs (52.78.100.19, 52.78.48.223,
  52.78.5.241) is a deployment matter (reverse proxy), not done here.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import parse_qsl, quote

from bidcart.core import money

from .base import Next, Provider, ProviderError, RefundResult, Snapshot, Urls, WebhookNotice, WebhookRejected
from .portone_billing import PortOneV1BillingKeys

if TYPE_CHECKING:
    from ..banks import RefundAccount
    from ..models import Payment

ALREADY_PREPARED = 1  # prepare's business error for a merchant_uid registered before


def _path(value: str) -> str:
    return quote(str(value), safe="")


def _major(amount: int, currency: str) -> int | float:
    """V1 takes amounts in major units: 15000 KRW is 15000, 1050 USD cents is 10.5."""
    text = money.to_decimal_string(amount, currency)
    return int(text) if money.exponent(currency) == 0 else float(text)


def _minor(value: Any, currency: str) -> int:
    return money.from_decimal_string(value or 0, currency)


def _utc_iso(unix_seconds: Any) -> str:
    return datetime.fromtimestamp(int(unix_seconds), tz=timezone.utc).isoformat() if unix_seconds else ""


class PortOneV1(PortOneV1BillingKeys, Provider):
    name = "portone"
    label = "PortOne"
    methods = ("card", "vbank")
    settings_key = "PORTONE"
    options = {
        "base_url": "",  # https://api.iamport.kr
        "imp_key": "",
        "imp_secret": "",
        "merchant_code": "",  # IMP.init(...): "imp" + 8 digits, from PortOne's console
        "pg": "html5_inicis",
        "script_url": "",  # default https://cdn.iamport.kr/v1/iamport.js
        # Inicis closes a virtual account only with the merchant's PG API key (DELETE /vbanks?pg_api_key=).
        "vbank_pg_api_key": "",
        # Staging on a test channel: lookups include its payments (include_sandbox=true); off in production.
        "include_sandbox": "0",
    }
    credentials = ("imp_key", "imp_secret", "merchant_code")
    simulator_path = "iamport"
    simulator_credentials = {"imp_key": "imp_key", "imp_secret": "imp_secret", "vbank_pg_api_key": "iamport_pg_api_key"}
    reference_keys = ("imp_uid",)
    csp = {
        "script-src": ("https://cdn.iamport.kr",),
        "connect-src": ("https://*.iamport.kr",),
        "frame-src": ("https://*.iamport.kr",),
        "form-action": ("https://*.iamport.kr",),
    }

    @classmethod
    def finish_config(cls, conf, *, simulator_base):
        if simulator_base:
            conf["merchant_code"] = conf["merchant_code"] or "imp00000000"
            conf["script_url"] = conf["script_url"] or f"{simulator_base}/v1/iamport.js"
        conf["script_url"] = conf["script_url"] or "https://cdn.iamport.kr/v1/iamport.js"

    _token: str = ""

    # --- the wire ----------------------------------------------------------------------
    def _token_now(self, *, renew: bool = False) -> str:
        """The access token, cached on this instance only (adapters are built per use)."""
        if self._token and not renew:
            return self._token
        answer = self.http.request(
            "POST",
            "/users/getToken",
            safe=True,  # issuing a token changes nothing
            json_body={"imp_key": self.config["imp_key"], "imp_secret": self.config["imp_secret"]},
        )
        data = self._unwrap("getToken", answer)
        if not isinstance(data, dict) or not data.get("access_token"):
            raise ProviderError("PortOne getToken: no access_token", code="bad_response", http_status=answer.status)
        self._token = data["access_token"]
        return self._token

    def _call(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        *,
        safe: bool | None = None,
        missing_ok: bool = False,
        params: dict | None = None,
    ) -> Any:
        """One authenticated call; answers the envelope's `response`, or None for a 404 when
        `missing_ok`. A 401 (token expired meanwhile) is retried once with a new token: PortOne did
        nothing with the refused request, so even an unsafe call may be sent again."""
        for renew in (False, True):
            headers = {"Authorization": f"Bearer {self._token_now(renew=renew)}"}
            answer = self.http.request(method, path, json_body=body, headers=headers, safe=safe, params=params)
            if answer.status != 401:
                break
        if answer.status == 404 and missing_ok and isinstance(answer.data, dict) and "code" in answer.data:
            return None  # PortOne's own "no such payment", not a misrouted request
        return self._unwrap(f"{method} {path}", answer)

    @staticmethod
    def _unwrap(what: str, answer) -> Any:
        data = answer.data if isinstance(answer.data, dict) else None
        message = (data or {}).get("message") or f"HTTP {answer.status}"
        code = (data or {}).get("code")
        if answer.status >= 500:
            raise ProviderError(
                f"PortOne {what}: {message}",
                code=str(code if code is not None else ""),
                http_status=answer.status,
                outcome_unknown=True,
                payload=answer.data,
            )
        if data is None or "code" not in data:
            # Not PortOne's envelope (a proxy's page?): what happened there is unknown.
            raise ProviderError(
                f"PortOne {what}: unreadable answer",
                code="bad_response",
                http_status=answer.status,
                outcome_unknown=answer.status < 400,
                payload=answer.data,
            )
        if answer.status >= 400 or code != 0:
            raise ProviderError(f"PortOne {what}: {message}", code=str(code), http_status=answer.status, payload=data)
        return data.get("response")

    # --- reading a payment --------------------------------------------------------------
    def _by_imp_uid(self, imp_uid: str) -> dict | None:
        return self._call("GET", f"/payments/{_path(imp_uid)}", missing_ok=True, params=self._lookup_params())

    def _by_merchant_uid(self, merchant_uid: str, status: str = "") -> dict | None:
        """The latest attempt for a merchant_uid (PortOne's default sorting: most recently started)."""
        suffix = f"/{status}" if status else ""
        return self._call(
            "GET", f"/payments/find/{_path(merchant_uid)}{suffix}", missing_ok=True, params=self._lookup_params()
        )

    def _lookup_params(self) -> dict | None:
        """A test channel's payments are left out of lookups unless asked for (PORTONE_INCLUDE_SANDBOX)."""
        on = str(self.config.get("include_sandbox", "")).strip().lower() in ("1", "true", "yes", "on")
        return {"include_sandbox": "true"} if on else None

    def _record(self, payment: "Payment", imp_uid: str | None = None) -> dict | None:
        """PortOne's record of this payment: by imp_uid when one is known, else by our merchant_uid.
        An attempt that moved no money gives way to a paid (or cancelled) attempt of the same merchant_uid."""
        record = self._by_imp_uid(imp_uid) if imp_uid else None
        if record is None:
            record = self._by_merchant_uid(payment.merchant_uid)
        if (
            record is not None
            and record.get("merchant_uid") == payment.merchant_uid
            and not self._settled_or_awaiting_deposit(record)
        ):
            for status in ("paid", "cancelled"):
                settled = self._by_merchant_uid(payment.merchant_uid, status)
                if settled is not None:
                    return settled
        return record

    @staticmethod
    def _settled_or_awaiting_deposit(record: dict) -> bool:
        return record.get("status") in ("paid", "cancelled") or _is_issued_vbank(record)

    def _snapshot(self, payment: "Payment", record: dict | None) -> Snapshot:
        if record is None:  # nothing happened at PortOne yet
            return Snapshot(state="pending", amount=payment.provider_amount, currency=payment.provider_currency)
        currency = record.get("currency") or payment.provider_currency
        amount = _minor(record.get("amount"), currency)
        ours = record.get("merchant_uid") == payment.merchant_uid
        common = {
            "amount": amount,
            "currency": currency,
            "merchant_uid": record.get("merchant_uid"),
            "raw": record,
            # never hand the services a reference to another merchant_uid's payment to store
            "psp": {"imp_uid": record["imp_uid"]} if ours and record.get("imp_uid") else {},
        }
        status = record.get("status")
        if status == "paid":
            return Snapshot(state="paid", refunded=_minor(record.get("cancel_amount"), currency), **common)
        if status == "cancelled":
            if record.get("paid_at"):  # paid, then cancelled in full: the money went back
                return Snapshot(state="paid", refunded=amount, **common)
            return Snapshot(state="cancelled", failure=record.get("cancel_reason") or "", **common)
        if status == "failed":
            return Snapshot(state="failed", failure=record.get("fail_reason") or "", **common)
        if _is_issued_vbank(record):
            vbank = {
                "bank": record.get("vbank_name") or "",
                "account": record.get("vbank_num") or "",
                "holder": record.get("vbank_holder") or "",
                "due": _utc_iso(record.get("vbank_date")),
            }
            return Snapshot(state="awaiting_deposit", vbank=vbank, **common)
        # "ready" (buyer on the window) or a status PortOne adds later: not settled, keep asking
        return Snapshot(state="pending", **common)

    # --- the six calls -----------------------------------------------------------------
    def start(self, payment: "Payment", *, urls: Urls, mobile: bool) -> Next:
        self._prepare(payment)
        order, buyer = payment.order, payment.buyer
        amount = _major(payment.provider_amount, payment.provider_currency)
        params = {
            "imp_code": self.config["merchant_code"],  # for IMP.init; not a request_pay parameter
            "pg": self.config["pg"],
            "pay_method": payment.method,
            "merchant_uid": payment.merchant_uid,
            "name": payment.item_name,
            "amount": amount,
            "currency": payment.provider_currency,
            "buyer_email": buyer.email,
            "buyer_name": order.recipient or buyer.display_name,
            "buyer_tel": order.phone,
            "buyer_addr": f"{order.address1} {order.address2}".strip(),
            "buyer_postcode": order.postcode,
            # PortOne recommends it on every device: some PGs redirect even on a PC
            "m_redirect_url": urls.approve,
            "notice_url": urls.notify,
        }
        params = {k: v for k, v in params.items() if v not in (None, "")}
        return Next(type="client", script=self.config["script_url"], params=params, psp={})

    def _prepare(self, payment: "Payment") -> None:
        """Register the amount. Not repeatable blindly (a second prepare answers "already registered"),
        so a lost answer or a repeated start is settled by reading the registration back."""
        amount = _major(payment.provider_amount, payment.provider_currency)
        body = {"merchant_uid": payment.merchant_uid, "amount": amount, "currency": payment.provider_currency}
        try:
            self._call("POST", "/payments/prepare", body, safe=False)
            return
        except ProviderError as exc:
            if not (exc.outcome_unknown or exc.code == str(ALREADY_PREPARED)):
                raise
            first_error = exc
        try:
            prepared = self._call("GET", f"/payments/prepare/{_path(payment.merchant_uid)}", missing_ok=True)
        except ProviderError:
            raise first_error from None
        if prepared is None:
            raise first_error
        if _minor(prepared.get("amount"), payment.provider_currency) != payment.provider_amount:
            raise ProviderError(
                f"PortOne prepare: {payment.merchant_uid} is registered with another amount ({prepared.get('amount')})",
                code="prepared_amount_differs",
                payload=prepared,
            )

    def confirm(self, payment: "Payment", params: Mapping[str, str]) -> Snapshot:
        """`params`: the return URL's query (`imp_uid`, `merchant_uid`, `imp_success`, `error_msg`).
        imp_uid only says where to look; imp_success is ignored."""
        imp_uid = (params.get("imp_uid") or "").strip() or payment.psp.get("imp_uid")
        return self._snapshot(payment, self._record(payment, imp_uid))

    def fetch(self, payment: "Payment") -> Snapshot:
        return self._snapshot(payment, self._record(payment, payment.psp.get("imp_uid")))

    def cancel(self, payment: "Payment", *, reason: str) -> Snapshot:
        record = self._record(payment, payment.psp.get("imp_uid"))
        if record is None or record.get("merchant_uid") != payment.merchant_uid:
            return self._snapshot(payment, record)
        imp_uid = record["imp_uid"]
        if record.get("status") == "ready" and _is_issued_vbank(record):
            # The buyer could still deposit into it: close the account. A refusal (Inicis without
            # PORTONE_VBANK_PG_API_KEY, say) is raised, not swallowed: the services record it and retry.
            key = self.config.get("vbank_pg_api_key")
            self._call("DELETE", f"/vbanks/{_path(imp_uid)}", safe=False, params={"pg_api_key": key} if key else None)
            return self.fetch(payment)
        try:
            if record.get("status") == "paid":
                cancellable = _minor(
                    record.get("amount"), record.get("currency") or payment.provider_currency
                ) - _minor(record.get("cancel_amount"), record.get("currency") or payment.provider_currency)
                self._call(
                    "POST",
                    "/payments/cancel",
                    {
                        "imp_uid": imp_uid,
                        "reason": reason[:200],
                        "checksum": _major(cancellable, record.get("currency") or payment.provider_currency),
                    },
                    safe=False,
                )  # no amount: the whole balance
        except ProviderError as exc:
            if exc.outcome_unknown:
                raise
            # refused (changed meanwhile, say): the truth below tells the services what it is now
        return self.fetch(payment)

    def refund(
        self,
        payment: "Payment",
        *,
        amount: int,
        refundable: int,
        reason: str,
        key: str,
        refund_account: "RefundAccount | None" = None,
    ) -> RefundResult:
        """`key` is not sent (V1 has no idempotency key): `checksum=refundable` stops a repeat."""
        currency = payment.provider_currency
        imp_uid = payment.psp.get("imp_uid")
        record = self._record(payment, imp_uid)
        if record is None or record.get("merchant_uid") != payment.merchant_uid:
            raise ProviderError("PortOne refund: no payment of this merchant_uid at PortOne", code="not_found")
        data = self._call(
            "POST",
            "/payments/cancel",
            {
                "imp_uid": record["imp_uid"],
                "amount": _major(amount, currency),
                "checksum": _major(refundable, currency),
                "reason": reason[:200],
                **(
                    {
                        "refund_holder": refund_account.holder,
                        "refund_bank": refund_account.bank.code,
                        "refund_account": refund_account.number,
                    }
                    if refund_account
                    else {}
                ),
            },
            safe=False,
        )
        history = sorted(data.get("cancel_history") or [], key=lambda c: c.get("cancelled_at") or 0)
        latest = history[-1] if history else {}
        return RefundResult(
            psp_reference=str(latest.get("cancellation_id") or latest.get("pg_tid") or ""),
            refunded_total=_minor(data.get("cancel_amount"), data.get("currency") or currency),
        )

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> WebhookNotice:
        """V1 notifications are unsigned: parse them as a hint (JSON or form, as set in PortOne's
        console). The services re-fetch the payment from PortOne before acting on it."""
        fields = _parse_body(headers, body)
        imp_uid, merchant_uid = fields.get("imp_uid"), fields.get("merchant_uid")
        status, cancellation_id = fields.get("status") or "", fields.get("cancellation_id") or ""
        for value, limit in ((imp_uid, 100), (merchant_uid, 40)):
            if not isinstance(value, str) or not value.strip() or len(value) > limit:
                raise WebhookRejected("PortOne notification without a usable imp_uid and merchant_uid")
        if not isinstance(status, str) or not isinstance(cancellation_id, str):
            raise WebhookRejected("PortOne notification with a malformed status")
        # No event id on the wire: the same delivery twice digests the same, paid then cancelled
        # (or two partial cancels) do not.
        digest = hashlib.sha256(f"{imp_uid}\n{status}\n{cancellation_id}".encode()).hexdigest()[:40]
        return WebhookNotice(
            event_id=f"v1-{digest}", event_type=status, merchant_uid=merchant_uid, psp={"imp_uid": imp_uid}
        )


def _is_issued_vbank(record: dict) -> bool:
    return record.get("status") == "ready" and record.get("pay_method") == "vbank" and bool(record.get("vbank_num"))


def _parse_body(headers: Mapping[str, str], body: bytes) -> dict:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("PortOne notification is not UTF-8") from None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the parser goes
            raise WebhookRejected("PortOne notification is not valid JSON") from None
        if not isinstance(data, dict):
            raise WebhookRejected("PortOne notification is not a JSON object")
        return data
    return dict(parse_qsl(text, keep_blank_values=True))
