"""KakaoPay single payment (단건 결제): ready → the buyer's KakaoPay page → approve with `pg_token`.

Both API generations, chosen by `config["api"]` (PAYMENT_PROTOCOLS.md §1.2):
- "new":    `POST /online/v1/payment/{op}`, JSON, `Authorization: SECRET_KEY <secret_key>`,
            errors `{error_code, error_message, extras}`;
- "legacy": `POST /v1/payment/{op}`, form body, `Authorization: KakaoAK <admin_key>`,
            errors `{code, msg, extras}`.

What the services should know:
- The `tid` is returned in `Next.psp` and read back from `payment.psp["tid"]`; approve runs at most
  once (KakaoPay has no idempotency key), so a 5xx or timeout on approve is `outcome_unknown`.
- A declined approve (-780) is an answer, not an error: confirm reports state "failed".
  Other approve errors raise `ProviderError(code="<KakaoPay code>")`, e.g. "-702" approved already,
  "-701" the buyer has not finished, "-703" the tid expired; then `fetch` tells the truth.
- `Snapshot.approved` stays False: even after the buyer approved on the page (AUTH_PASSWORD) only the
  browser's return carries the `pg_token` approve needs, so the server cannot finish it alone.
- fetch reports money that was captured as "paid" whatever was given back since: a fully refunded
  payment (CANCEL_PAYMENT after an approve) is "paid" with `refunded == amount`. "cancelled" only
  ever means no money moved.
- KakaoPay cannot void an unapproved tid: `cancel` before approve only reports the truth (usually
  "pending"); the tid lapses to QUIT_PAYMENT ("failed") 15 minutes after ready. The services must
  not approve a payment they cancelled.
- The refund `key` is not sent (KakaoPay takes none); `cancel_available_amount=refundable` makes a
  stale or repeated refund fail (-781) instead of giving money back twice.
- No webhooks: parse_webhook keeps the base behaviour (rejects).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from .base import Next, Provider, ProviderError, RefundResult, Snapshot, Urls
from .kakaopay_billing import KakaoPayBillingKeys

if TYPE_CHECKING:
    from ..models import Payment

# Order-lookup statuses (PAYMENT_PROTOCOLS.md §1.5) in bidcart's words.
PENDING = {"READY", "SEND_TMS", "OPEN_PAYMENT", "SELECT_METHOD", "ARS_WAITING", "AUTH_PASSWORD"}
CAPTURED = {"SUCCESS_PAYMENT", "PART_CANCEL_PAYMENT", "CANCEL_PAYMENT"}
FAILED = {
    "FAIL_AUTH_PASSWORD": "the buyer's authentication failed",
    "QUIT_PAYMENT": "the buyer left KakaoPay's page, or the payment expired",
    "FAIL_PAYMENT": "the approval failed",
}
DECLINED = "-780"


class KakaoPay(KakaoPayBillingKeys, Provider):
    name = "kakaopay"
    label = "KakaoPay"
    methods = ("card",)
    completes_on_its_own = False  # nothing is charged until the shop calls approve
    settings_key = "KAKAOPAY"
    options = {
        "base_url": "",  # https://open-api.kakaopay.com (legacy: https://kapi.kakao.com)
        "api": "new",  # "new" (SECRET_KEY, JSON) or "legacy" (KakaoAK, form)
        "secret_key": "",  # new API
        "admin_key": "",  # legacy API
        "cid": "TC0ONETIME",  # KakaoPay's test merchant; the real one comes with the contract
        "subscription_cid": "TCSUBSCRIP",  # 정기결제 (saved cards): KakaoPay's test subscription merchant
    }
    simulator_path = "kakaopay"
    simulator_credentials = {"secret_key": "kakaopay_secret_key", "admin_key": "kakaopay_admin_key"}
    currencies = frozenset({"KRW"})
    reference_keys = ("aid", "tid")
    csp = {"frame-src": ("https://*.kakao.com",), "form-action": ("https://*.kakao.com", "https://*.kakaopay.com")}

    @classmethod
    def missing_credentials(cls, conf):
        # one key, the one its API generation signs with
        key = "admin_key" if conf.get("api") == "legacy" else "secret_key"
        return [] if conf.get(key) else [f"KAKAOPAY_{key.upper()}"]

    @classmethod
    def config_problems(cls, conf):
        if conf.get("api") not in ("new", "legacy"):
            return [f"KAKAOPAY_API={conf.get('api')!r} is neither 'new' nor 'legacy'."]
        return []

    # --- the wire ----------------------------------------------------------------------
    def _call(self, op: str, fields: dict[str, Any], *, safe: bool = False) -> dict:
        """POST one API operation in the configured generation; answer the body or raise."""
        body = {"cid": self.config["cid"], **fields}
        if self.config["api"] == "legacy":
            answer = self.http.request(
                "POST",
                f"/v1/payment/{op}",
                form=body,
                safe=safe,
                headers={"Authorization": f"KakaoAK {self.config['admin_key']}"},
            )
        else:
            answer = self.http.request(
                "POST",
                f"/online/v1/payment/{op}",
                json_body=body,
                safe=safe,
                headers={"Authorization": f"SECRET_KEY {self.config['secret_key']}"},
            )
        data = answer.data if isinstance(answer.data, dict) else {}
        code = data.get("error_code", data.get("code", ""))  # new / legacy error shape
        if answer.status >= 500:
            raise ProviderError(
                f"KakaoPay {op}: HTTP {answer.status}",
                code=str(code),
                http_status=answer.status,
                outcome_unknown=True,
                payload=answer.data,
            )
        if answer.status >= 400:
            message = data.get("error_message") or data.get("msg") or f"HTTP {answer.status}"
            extras = data.get("extras") or {}
            if extras.get("method_result_message"):
                message = f"{message} ({extras['method_result_message']})"
            raise ProviderError(
                f"KakaoPay {op}: {message}", code=str(code), http_status=answer.status, payload=answer.data
            )
        if not data:
            # A 2xx we cannot read: whatever it did at KakaoPay is unknown.
            raise ProviderError(
                f"KakaoPay {op}: unreadable answer",
                code="bad_response",
                http_status=answer.status,
                outcome_unknown=True,
                payload=answer.data,
            )
        return data

    @staticmethod
    def _tid(payment: "Payment") -> str:
        tid = (payment.psp or {}).get("tid")
        if not tid:
            raise ProviderError("KakaoPay: the payment has no tid (never started)", code="no_tid")
        return tid

    @staticmethod
    def _order_fields(payment: "Payment") -> dict:
        """What KakaoPay is told of the order, for a payment on its page (ready) and a charge of an sid."""
        return {
            "partner_order_id": payment.merchant_uid,
            "partner_user_id": str(payment.buyer_id),
            "item_name": payment.item_name,
            "quantity": 1,
            "total_amount": payment.provider_amount,
            "tax_free_amount": 0,
        }

    # --- the six calls -----------------------------------------------------------------
    def start(self, payment: "Payment", *, urls: Urls, mobile: bool) -> Next:
        data = self._call(
            "ready",
            {
                **self._order_fields(payment),
                "approval_url": urls.approve,
                "cancel_url": urls.cancel,
                "fail_url": urls.fail,
            },
        )
        url = data["next_redirect_mobile_url"] if mobile else data["next_redirect_pc_url"]
        return Next(type="redirect", url=url, psp={"tid": data["tid"]})

    def confirm(self, payment: "Payment", params: Mapping[str, str]) -> Snapshot:
        """`params` is the approval_url's query string: `pg_token` is all KakaoPay adds."""
        pg_token = params.get("pg_token")
        if not pg_token:
            raise ProviderError("KakaoPay: the return carries no pg_token", code="no_pg_token")
        tid = self._tid(payment)
        try:
            data = self._call(
                "approve",
                {
                    "tid": tid,
                    "partner_order_id": payment.merchant_uid,
                    "partner_user_id": str(payment.buyer_id),
                    "pg_token": pg_token,
                    # KakaoPay refuses an approve whose total differs from ready's
                    "total_amount": payment.provider_amount,
                },
            )
        except ProviderError as exc:
            if exc.code != DECLINED:
                raise
            # The card or account refused: a final answer, nothing was charged.
            return Snapshot(
                state="failed",
                amount=payment.provider_amount,
                currency="KRW",
                psp={"tid": tid},
                failure=exc.message,
                raw=exc.payload or {},
            )
        return Snapshot(
            state="paid",
            amount=int(data["amount"]["total"]),
            currency="KRW",
            merchant_uid=data.get("partner_order_id"),
            psp={"tid": data.get("tid", tid), "aid": data["aid"]},
            raw=data,
        )

    def fetch(self, payment: "Payment") -> Snapshot:
        tid = self._tid(payment)
        data = self._call("order", {"tid": tid}, safe=True)  # a lookup: safe to repeat
        status = data.get("status")
        amount = int(data["amount"]["total"])
        refunded = int((data.get("canceled_amount") or {}).get("total") or 0)
        psp = {"tid": tid}
        paid_with = [a for a in data.get("payment_action_details") or [] if a.get("payment_action_type") == "PAYMENT"]
        if paid_with:
            psp["aid"] = paid_with[0]["aid"]
        common = {
            "amount": amount,
            "currency": "KRW",
            "merchant_uid": data.get("partner_order_id"),
            "psp": psp,
            "raw": data,
        }
        if status in PENDING:
            return Snapshot(state="pending", **common)
        if status in CAPTURED:
            if status == "CANCEL_PAYMENT" and not (data.get("approved_at") or paid_with):
                return Snapshot(state="cancelled", **common)  # never approved: no money moved
            return Snapshot(state="paid", refunded=refunded, **common)
        if status in FAILED:
            return Snapshot(state="failed", failure=f"{FAILED[status]} ({status})", **common)
        raise ProviderError(f"KakaoPay: unexpected status {status!r}", code="unexpected_status", payload=data)

    def cancel(self, payment: "Payment", *, reason: str) -> Snapshot:
        """Before approve there is nothing to void (the tid lapses by itself): report the truth.
        After it, give back everything still cancellable."""
        now = self.fetch(payment)
        left = now.amount - now.refunded
        if now.state != "paid" or left <= 0:
            return now
        self.refund(payment, amount=left, refundable=left, reason=reason, key="")
        return self.fetch(payment)

    def refund(
        self, payment: "Payment", *, amount: int, refundable: int, reason: str, key: str, refund_account=None
    ) -> RefundResult:  # card money goes back to the card: no account
        fields: dict[str, Any] = {
            "tid": self._tid(payment),
            "cancel_amount": amount,
            "cancel_tax_free_amount": 0,
            # KakaoPay's optimistic-concurrency check: what we believe is left, this refund included
            "cancel_available_amount": refundable,
        }
        if reason:
            fields["payload"] = reason[:200]
        data = self._call("cancel", fields)
        return RefundResult(psp_reference=data["aid"], refunded_total=int(data["canceled_amount"]["total"]))
