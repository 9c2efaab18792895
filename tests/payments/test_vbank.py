"""Virtual accounts (가상계좌) as the real PortOne requires them, against the simulator that refuses what
PortOne refuses: a deposited account is refunded to the buyer's own bank account (in part and in full);
an unpaid account is closed at the provider when its order no longer wants it, and a refused close is
recorded and tried again."""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings

from bidcart.orders import services as orders
from bidcart.orders.models import Status as OrderStatus
from bidcart.payments import providers, services
from bidcart.payments.models import Payment, PaymentEvent, Refund, Status
from bidcart.payments.providers import ProviderError
from tests.factories import api_for, make_user

from .test_flows import back_to_shop, start, through_window

pytestmark = pytest.mark.django_db

ACCOUNT = {"bank": "SHINHAN", "number": "110-123-456789", "holder": "홍환불"}


@pytest.fixture
def browser(client, buyer):
    client.force_login(buyer)
    return client


@pytest.fixture
def staff(db):
    return make_user(email="staff@example.com", staff=True)


def issue(buyer, order, browser, provider) -> Payment:
    started = start(buyer, order, provider, method="vbank")
    back_to_shop(browser, through_window(started))
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    assert payment.status == Status.AWAITING_DEPOSIT
    return payment


def deposit(sim, payment, provider) -> None:
    sim.deposit(
        **({"imp_uid": payment.psp["imp_uid"]} if provider == "portone" else {"paymentId": payment.merchant_uid})
    )
    django_settings.PAYMENT_RECONCILE_AFTER_MINUTES = 0
    services.reconcile()
    payment.refresh_from_db()
    assert payment.status == Status.PAID


def refund(staff, payment, amount, **extra):
    return api_for(staff).post(
        f"/api/v1/payments/{payment.merchant_uid}/refunds/",
        {"amount": amount, "reason": "단순 변심", **extra},
        format="json",
    )


@pytest.mark.parametrize("provider", ["portone", "portone_v2"])
def test_a_deposited_virtual_account_is_refunded_to_the_buyers_account_in_part_then_in_full(
    sim, buyer, order, browser, staff, provider, settings
):
    payment = issue(buyer, order, browser, provider)
    deposit(sim, payment, provider)

    # PortOne itself refuses to give a deposit back without the buyer's account ...
    adapter = providers.get(provider)
    with pytest.raises(ProviderError) as refused:
        adapter.refund(payment, amount=1000, refundable=28000, reason="test", key="no-account")
    assert "refund" in refused.value.message.lower() or "환불" in refused.value.message
    # ... so the shop asks for it before calling, and checks it
    missing = refund(staff, payment, 10000)
    assert missing.status_code == 400 and missing.json()["code"] == "refund_account_required"
    wrong_bank = refund(staff, payment, 10000, refund_account={**ACCOUNT, "bank": "NOWHERE"})
    assert wrong_bank.status_code == 400 and wrong_bank.json()["code"] == "refund_account_invalid"
    letters = refund(staff, payment, 10000, refund_account={**ACCOUNT, "number": "110-ABC"})
    assert letters.status_code == 400 and letters.json()["code"] == "refund_account_invalid"
    assert not Refund.objects.filter(payment=payment).exists()

    part = refund(staff, payment, 10000, refund_account=ACCOUNT)
    assert part.status_code == 201, part.content
    payment.refresh_from_db()
    assert payment.status == Status.PARTIALLY_REFUNDED and payment.totals()["refunded"] == 10000
    rest = refund(staff, payment, 18000, refund_account=ACCOUNT)
    assert rest.status_code == 201, rest.content
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Status.REFUNDED and order.status == OrderStatus.REFUNDED
    assert adapter.fetch(payment).refunded == 28000  # the provider agrees

    # the account number is kept nowhere: not in the log, not on the refunds
    logged = json.dumps(
        [[e.message, e.payload] for e in PaymentEvent.objects.filter(payment=payment)], ensure_ascii=False
    )
    assert "123456789" not in logged and "110-123" not in logged and "홍환불" not in logged
    stored = json.dumps(list(Refund.objects.filter(payment=payment).values()), default=str, ensure_ascii=False)
    assert "123456789" not in stored


def test_a_card_payment_needs_no_refund_account(sim, buyer, order, browser, staff):
    started = start(buyer, order, "portone_v2")
    back_to_shop(browser, through_window(started))
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    assert refund(staff, payment, 1000).status_code == 201


@pytest.mark.parametrize("provider", ["portone", "portone_v2"])
def test_an_unpaid_virtual_account_is_closed_at_the_provider_when_its_order_is_cancelled(
    sim, buyer, order, browser, provider, settings
):
    payment = issue(buyer, order, browser, provider)
    orders.cancel_by_buyer(buyer, order)

    settings.PAYMENT_RECONCILE_AFTER_MINUTES = 0
    services.reconcile()
    payment.refresh_from_db()
    assert payment.status not in (Status.AWAITING_DEPOSIT, Status.PAID) and not payment.cancel_owed
    assert providers.get(provider).fetch(payment).state == "cancelled"  # closed at the provider
    with pytest.raises(Exception):  # nobody can deposit into it any more
        sim.deposit(
            **({"imp_uid": payment.psp["imp_uid"]} if provider == "portone" else {"paymentId": payment.merchant_uid})
        )


def test_portone_v2_closes_only_an_account_waiting_for_a_deposit(sim, buyer, order, browser):
    payment = issue(buyer, order, browser, "portone_v2")
    adapter = providers.get("portone_v2")
    assert adapter._call("POST", f"/payments/{payment.merchant_uid}/virtual-account/close", {})["closedAt"]
    with pytest.raises(ProviderError) as again:
        adapter._call("POST", f"/payments/{payment.merchant_uid}/virtual-account/close", {})
    assert again.value.http_status == 409 and again.value.code == "PAYMENT_NOT_WAITING_FOR_DEPOSIT"


def test_an_inicis_account_close_refused_for_want_of_the_pg_api_key_is_recorded_and_retried(
    sim, buyer, order, browser, settings
):
    settings.PORTONE = {**settings.PORTONE, "pg": "html5_inicis", "vbank_pg_api_key": "not-inicis-key"}
    payment = issue(buyer, order, browser, "portone")
    orders.cancel_by_buyer(buyer, order)
    settings.PAYMENT_RECONCILE_AFTER_MINUTES = 0

    services.reconcile()
    payment.refresh_from_db()
    assert payment.cancel_owed  # not swallowed: owed, and the sweep will try again
    assert payment.events.filter(type=PaymentEvent.Type.ERROR, message__contains="pg_api_key").exists()
    assert providers.get("portone").fetch(payment).state == "awaiting_deposit"  # still open at PortOne

    settings.PORTONE = {**settings.PORTONE, "vbank_pg_api_key": ""}  # the simulator's own key
    services.reconcile()
    payment.refresh_from_db()
    assert not payment.cancel_owed
    assert providers.get("portone").fetch(payment).state == "cancelled"
    logged = json.dumps([e.payload for e in payment.events.all()])
    assert "not-inicis-key" not in logged and "bidcart-inicis-api-key" not in logged  # redacted from the log


def test_v1_lookups_include_a_test_channels_payments_when_set(sim, buyer, order, browser, settings):
    settings.PORTONE = {**settings.PORTONE, "include_sandbox": "1"}
    payment = issue(buyer, order, browser, "portone")
    providers.get("portone", on_call=lambda call: calls.append(call)).fetch(payment)
    assert calls and all(c.request == {"include_sandbox": "true"} for c in calls if c.method == "GET")
    settings.PORTONE = {**settings.PORTONE, "include_sandbox": "0"}
    calls.clear()
    providers.get("portone", on_call=lambda call: calls.append(call)).fetch(payment)
    assert all(c.request is None for c in calls if c.method == "GET")


calls: list = []


@pytest.mark.parametrize("provider", ["portone", "portone_v2"])
def test_the_buyer_sees_and_is_emailed_the_deposit_details_in_korea_time_and_a_dead_account_as_closed(
    sim, buyer, order, browser, provider, settings, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.core import mail
    from django.utils.dateparse import parse_datetime

    with django_capture_on_commit_callbacks(execute=True):
        payment = issue(buyer, order, browser, provider)
    due_kst = (parse_datetime(payment.vbank["due"]) + timedelta(hours=9)).strftime("%Y-%m-%d %H:%M")

    page = browser.get(f"/orders/{order.number}/").content.decode()
    assert "KB국민은행" in page and payment.vbank["account"] in page  # the bank's Korean name, not KOOKMIN/004
    assert "KOOKMIN" not in page
    assert "28,000" in page and due_kst in page and "한국 시간" in page

    [email] = [m for m in mail.outbox if order.number in m.subject]
    assert "입금" in email.subject
    assert payment.vbank["account"] in email.body and "KB국민은행" in email.body and due_kst in email.body

    orders.cancel_by_buyer(buyer, order)
    settings.PAYMENT_RECONCILE_AFTER_MINUTES = 0
    services.reconcile()
    page = browser.get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="vbank-closed"' in page and 'data-testid="vbank-account"' not in page


@pytest.mark.parametrize("provider", ["portone", "portone_v2"])
def test_the_buyer_gives_the_refund_account_on_the_order_page_and_it_is_kept_only_until_the_refund(
    sim, buyer, order, browser, staff, provider
):
    payment = issue(buyer, order, browser, provider)
    assert (
        'data-testid="refund-account"' not in browser.get(f"/orders/{order.number}/").content.decode()
    )  # not paid yet
    deposit(sim, payment, provider)
    page = browser.get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="refund-account"' in page and "환불받을 계좌" in page and "신한은행" in page
    assert 'data-testid="vbank-closed"' not in page  # paid: neither open nor "closed, do not deposit"

    bad = browser.post(
        f"/payments/refund-account/{payment.merchant_uid}/",
        {"bank": "SHINHAN", "number": "12", "holder": "홍환불"},
        follow=True,
    )
    assert "6~16자리" in bad.content.decode()
    payment.refresh_from_db()
    assert payment.refund_account == {}

    saved = browser.post(
        f"/payments/refund-account/{payment.merchant_uid}/",
        {"bank": "SHINHAN", "number": "110-123-456789", "holder": "홍환불"},
        follow=True,
    )
    html = saved.content.decode()
    assert "이 계좌로 환불해 드립니다" in html and "****6789" in html and "110123456789" not in html
    payment.refresh_from_db()
    assert payment.refund_account == {"bank": "SHINHAN", "number": "110123456789", "holder": "홍환불"}

    # staff refund without typing it: the buyer's account is used; kept while money is left, gone after
    assert refund(staff, payment, 8000).status_code == 201
    payment.refresh_from_db()
    assert payment.refund_account and payment.status == Status.PARTIALLY_REFUNDED
    assert refund(staff, payment, 20000).status_code == 201
    payment.refresh_from_db()
    assert payment.status == Status.REFUNDED and payment.refund_account == {}
    logged = json.dumps([[e.message, e.payload] for e in payment.events.all()], ensure_ascii=False)
    assert "123456789" not in logged


def test_the_refund_account_api_is_the_buyers_own(sim, buyer, order, browser):
    payment = issue(buyer, order, browser, "portone_v2")
    url = f"/api/v1/payments/{payment.merchant_uid}/refund-account/"
    assert api_for(make_user()).put(url, ACCOUNT, format="json").status_code == 404
    answer = api_for(buyer).put(url, ACCOUNT, format="json")
    assert answer.status_code == 200 and answer.json() == {
        "bank": "SHINHAN",
        "number_last4": "6789",
        "holder": "홍환불",
    }
    invalid = api_for(buyer).put(url, {**ACCOUNT, "bank": "NOWHERE"}, format="json")
    assert invalid.status_code == 400 and invalid.json()["code"] == "refund_account_invalid"

    card_order = make_order_for(buyer)
    started = start(buyer, card_order, "portone_v2")
    card = api_for(buyer).put(f"/api/v1/payments/{started['merchant_uid']}/refund-account/", ACCOUNT, format="json")
    assert card.status_code == 409 and card.json()["code"] == "refund_account_unneeded"


@pytest.mark.parametrize("who", ["another buyer", "staff"])
def test_someone_elses_payment_is_refused_as_not_found_alike_by_the_api_and_the_order_page(
    sim, buyer, order, browser, client, staff, who
):
    payment = issue(buyer, order, browser, "portone_v2")
    deposit(sim, payment, "portone_v2")
    stranger = staff if who == "staff" else make_user()
    events = payment.events.count()
    api = api_for(stranger)

    confirm = api.post(f"/api/v1/payments/{payment.merchant_uid}/confirm/", {"params": {}}, format="json")
    account = api.put(f"/api/v1/payments/{payment.merchant_uid}/refund-account/", ACCOUNT, format="json")
    client.force_login(stranger)
    page = client.post(f"/payments/refund-account/{payment.merchant_uid}/", ACCOUNT)

    assert [(r.status_code, r.json()["code"]) for r in (confirm, account)] == [(404, "not_found")] * 2
    assert page.status_code == 404
    payment.refresh_from_db()
    assert (
        payment.refund_account == {} and payment.events.count() == events
    )  # nothing asked of the provider, nothing kept


def make_order_for(user):
    from .fixtures import make_order

    return make_order(user)


def test_an_open_account_is_closed_and_shown_closed_once_the_order_is_paid_another_way(
    sim, buyer, order, browser, settings
):
    vbank = issue(buyer, order, browser, "portone_v2")
    card = start(buyer, order, "portone_v2")
    back_to_shop(browser, through_window(card))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID

    settings.PAYMENT_RECONCILE_AFTER_MINUTES = 0
    services.reconcile()
    vbank.refresh_from_db()
    assert vbank.status not in (Status.AWAITING_DEPOSIT, Status.PAID) and not vbank.cancel_owed
    assert providers.get("portone_v2").fetch(vbank).state == "cancelled"  # nobody can pay twice
    page = browser.get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="vbank-closed"' in page and 'data-testid="vbank-account"' not in page
