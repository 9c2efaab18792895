"""Payment pages: choose how to pay an order, the provider's return / cancel / fail landings, and the
webhook inbox. Thin: they parse, call a service, render."""

import json
import logging
import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from bidcart.core import ratelimit
from bidcart.core.domain import DomainError, NotFound
from bidcart.core.http import client_ip
from bidcart.orders import selectors as order_selectors
from bidcart.orders import services as orders
from bidcart.orders.forms import AddressForm

from . import outcomes, providers, selectors, services
from .models import CAPTURED, Provider, Status, WebhookDelivery

logger = logging.getLogger(__name__)

MOBILE_HINTS = ("Mobi", "Android", "iPhone", "iPad")


def is_mobile(request) -> bool:
    agent = request.META.get("HTTP_USER_AGENT", "")
    return any(hint in agent for hint in MOBILE_HINTS)


def site_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@login_required
@require_http_methods(["GET", "POST"])
def pay(request, number):
    """Pick a provider (and for PortOne a card or a bank deposit); an auction win asks for the address
    first. POST starts the payment and sends the buyer on: a redirect, or the provider's browser SDK."""
    order = order_selectors.user_order(request.user, number)
    if order is None:
        raise Http404
    address_form = AddressForm(
        request.POST if request.POST.get("step") == "address" else None,
        initial=order_selectors.address_initial(request.user),
    )
    if request.method == "POST" and request.POST.get("step") == "address":
        if address_form.is_valid():
            try:
                orders.set_shipping_address(request.user, order, address_form.cleaned_data)
            except DomainError as error:
                messages.error(request, error.detail)
            return redirect("payments:pay", number)
    elif request.method == "POST":
        # the radio value "provider:method" (choose.js copies it into the two fields when it runs)
        picked_provider, _sep, picked_method = request.POST.get("pay", "").partition(":")
        provider = request.POST.get("provider") or picked_provider
        method = request.POST.get("method") if request.POST.get("provider") else (picked_method or "card")
        try:
            payment, nxt = services.start_payment(
                request.user,
                order,
                provider=provider,
                method=method,
                mobile=is_mobile(request),
                site_url=site_url(request),
            )
        except DomainError as error:
            messages.error(request, error.detail)
            return redirect("payments:pay", number)
        if nxt.type == "redirect":
            return redirect(nxt.url)
        return render(
            request,
            "payments/client.html",
            {
                "order": order,
                "payment": payment,
                "script": nxt.script,
                "params_json": json.dumps(nxt.params),
                "urls": services.urls_for(payment, site_url(request)),
            },
        )
    return render(
        request,
        "payments/pay.html",
        {
            "order": order,
            "address_form": address_form,
            "choices": selectors.choices(order),
            "payments": selectors.order_payments(order),
        },
        status=400 if address_form.errors else 200,
    )


def _landing(request, payment, *, fallback_message: str, abandoned: bool = False):
    """Where the buyer lands after the provider: the order page with what happened, in the buyer's words
    (`outcomes`; the provider's own text stays in the event log)."""
    if payment.status in CAPTURED and payment.buyer_message:  # paid for an order that could no longer take it
        messages.warning(request, payment.buyer_message)
    elif payment.status in (Status.PAID,):
        messages.success(request, _("Payment complete. Thank you!"))
    elif payment.status == Status.AWAITING_DEPOSIT:
        messages.info(request, _("Your virtual account is ready: deposit the amount before the deadline."))
    elif payment.status in (Status.PENDING, Status.CREATED):
        if abandoned:  # the buyer left the provider's page; the provider may still finish it, so it stays open
            messages.info(request, fallback_message)
        else:
            messages.info(
                request, _("We are confirming your payment with the provider; this page will show it shortly.")
            )
    else:
        messages.error(request, payment.buyer_message or fallback_message)
    return redirect("orders:detail", payment.order.number) if request.user.is_authenticated else redirect("web:home")


def return_(request, merchant_uid):
    try:
        payment = services.confirm_payment(merchant_uid, request.GET.dict(), source="return")
    except DomainError:
        raise Http404 from None
    return _landing(request, payment, fallback_message=_("The payment did not go through."))


def cancel(request, merchant_uid):
    return _abandoned(request, merchant_uid, failed=False)


def fail(request, merchant_uid):
    return _abandoned(request, merchant_uid, failed=True)


def _abandoned(request, merchant_uid, *, failed: bool):
    """The provider's page sent the buyer back without paying: cancelled, or failed."""
    try:
        payment = services.abandon_payment(merchant_uid, failed=failed)
    except DomainError:
        raise Http404 from None
    fallback = outcomes.FAILED if failed else outcomes.CANCELLED
    return _landing(request, payment, fallback_message=str(fallback), abandoned=True)


@login_required
@require_POST
def refund_account(request, merchant_uid):
    """The buyer's account for refunding a bank-deposit payment (the order page's form)."""
    try:
        services.set_refund_account(
            request.user,
            merchant_uid,
            bank=request.POST.get("bank", ""),
            number=request.POST.get("number", ""),
            holder=request.POST.get("holder", ""),
        )
    except NotFound:  # not a payment of this buyer: the service decides, as for the API
        raise Http404 from None
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("We will refund to this account."))
    return redirect("orders:detail", number=selectors.payment_order_number(merchant_uid))


@csrf_exempt
@require_POST
def webhook(request, provider):
    """The inbox: store the raw delivery, then verify and process it. Non-2xx makes the provider retry."""
    if provider not in providers.enabled():
        return JsonResponse({"code": "not_found", "detail": "no such provider"}, status=404)
    # An address whose deliveries keep failing verification is refused before it can fill the inbox; the
    # providers' own deliveries never fail it, so all of them are stored (size: core/bodylimit.py).
    ip = client_ip(request)
    wait = ratelimit.over("webhook_rejected", ip)
    if wait:
        response = JsonResponse({"code": "rate_limited", "detail": "Too many rejected deliveries."}, status=429)
        response["Retry-After"] = str(math.ceil(wait))
        return response
    headers = {k: v for k, v in request.headers.items() if k.lower() not in ("cookie", "authorization")}
    delivery = services.receive_webhook(provider, headers=headers, body=request.body, remote_ip=ip)
    try:
        state = services.process_webhook(delivery)
    except Exception:  # noqa: BLE001 - answered 503 so the provider delivers again; the inbox keeps it
        logger.exception("webhook %s from %s failed", delivery.pk, provider)
        return JsonResponse({"code": "retry", "detail": "processing failed; deliver again"}, status=503)
    if state == WebhookDelivery.State.REJECTED:
        try:
            ratelimit.hit("webhook_rejected", ip)
        except ratelimit.RateLimited:
            pass  # counted; the next delivery from this address is refused before it is stored
        return JsonResponse({"code": "rejected", "detail": delivery.error}, status=400)
    return JsonResponse({"code": "ok", "state": state})


# --- saved payment methods (billing keys) --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def methods(request):
    """The buyer's saved cards: list, add (on the provider's page), make default, delete."""
    from . import billing

    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "add":
                method, nxt = billing.start_saving_method(
                    request.user, provider=request.POST.get("provider", ""), site_url=site_url(request)
                )
                if nxt.type == "redirect":
                    return redirect(nxt.url)
                back = billing.method_return_url(method, site_url(request))
                return render(
                    request,
                    "payments/method_client.html",
                    {"method": method, "script": nxt.script, "params_json": json.dumps(nxt.params), "back": back},
                )
            method_id = _method_id(request.POST.get("method"))
            if action == "default":
                billing.set_default_method(request.user, method_id)
                messages.success(request, _("Default card changed."))
            elif action == "delete":
                billing.delete_saved_method(request.user, method_id)
                messages.success(request, _("Card deleted."))
        except DomainError as error:
            messages.error(request, error.detail)
        return redirect("payments:methods")
    return render(
        request,
        "payments/methods.html",
        {
            "methods": selectors.saved_methods(request.user).filter(state="active"),
            # every provider that keeps cards, whichever one the pay page's 카드 uses
            "providers": [{"provider": name, "label": Provider(name).label} for name in billing.billing_providers()],
        },
    )


def _method_id(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound(_("No such payment method."), code="not_found") from None


@login_required
def method_return(request, pk):
    """Back from the provider's card registration: the key is read from the provider, never the query."""
    from . import billing

    try:
        billing.confirm_saved_method(request.user, pk, params=request.GET.dict())
    except DomainError as error:
        if error.code == "not_found":
            raise Http404 from None
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Card registered."))
    return redirect("payments:methods")
