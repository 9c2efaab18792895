"""The buyer's saved-cards page (Korean by default): add a card on PortOne's window, see it, delete it."""

from __future__ import annotations

import html
import json
import re

import httpx
import pytest

from bidcart.payments.models import SavedPaymentMethod
from tests.payments.fixtures import pay_in_portone_window

pytestmark = pytest.mark.django_db


def test_a_buyer_adds_and_deletes_a_card_on_the_page(sim, client, buyer):
    client.force_login(buyer)
    page = client.get("/payments/methods/")
    assert page.status_code == 200 and "등록한 카드가 없습니다." in page.content.decode()
    started = client.post("/payments/methods/", {"action": "add", "provider": "portone"})
    text = started.content.decode()
    assert started.status_code == 200 and "카드 등록 창을 여는 중입니다" in text
    params = json.loads(html.unescape(re.search(r'data-params="([^"]*)"', text).group(1)))
    back = html.unescape(re.search(r'data-return="([^"]*)"', text).group(1))
    location = pay_in_portone_window(re.search(r'data-script="([^"]*)"', text).group(1), params)
    assert location.startswith(back)
    landed = client.get(location.removeprefix("http://shop.test"), follow=True)
    text = landed.content.decode()
    assert "카드를 등록했습니다." in text and "BC카드" in text and "0005" in text and "(기본)" in text
    method = SavedPaymentMethod.objects.get(user=buyer)
    deleted = client.post("/payments/methods/", {"action": "delete", "method": method.pk}, follow=True)
    assert "카드를 삭제했습니다." in deleted.content.decode() and "0005" not in deleted.content.decode()


def test_a_page_action_on_nothing_is_a_message_not_an_error(sim, client, buyer):
    client.force_login(buyer)
    for data in (
        {"action": "delete", "method": "x"},
        {"action": "default", "method": "999"},
        {"action": "add", "provider": "x"},
    ):
        r = client.post("/payments/methods/", data, follow=True)
        assert r.status_code == 200


def test_every_provider_that_keeps_cards_is_offered_and_each_registers_through_its_own_page(sim, client, buyer):
    """PortOne V2 through its SDK's card window (requestIssueBillingKey), KakaoPay and PayPal by redirect to
    their pages; back on the shop each is listed with what the provider tells (KakaoPay and PayPal give no digits)."""
    from tests.payments.billing_helpers import portone_v2_window

    client.force_login(buyer)
    page = client.get("/payments/methods/").content.decode()
    for provider in ("portone", "portone_v2", "kakaopay", "paypal"):
        assert f'data-testid="add-method-{provider}"' in page
    for provider in ("portone_v2", "kakaopay", "paypal"):
        started = client.post("/payments/methods/", {"action": "add", "provider": provider})
        if provider == "portone_v2":
            text = started.content.decode()
            params = json.loads(html.unescape(re.search(r'data-params="([^"]*)"', text).group(1)))
            assert params["billingKeyMethod"] == "CARD"
            location = portone_v2_window(
                params, script=html.unescape(re.search(r'data-script="([^"]*)"', text).group(1))
            )
        else:
            assert started.status_code == 302
            location = httpx.post(started["Location"], data={"action": "approve"}, timeout=10).headers["location"]
        landed = client.get(location.removeprefix("http://shop.test"), follow=True)
        assert "카드를 등록했습니다." in landed.content.decode(), provider
    listed = client.get("/payments/methods/").content.decode()
    assert listed.count('data-testid="saved-method"') == 3
    assert "BC카드" in listed and "신한카드" in listed and "PayPal" in listed
    for method in SavedPaymentMethod.objects.filter(user=buyer):
        client.post("/payments/methods/", {"action": "delete", "method": method.pk})
    assert sim.ledger()["paypal_payment_tokens"] == {}
    assert {k["status"] for k in sim.ledger()["portone_billing_keys"].values()} == {"DELETED"}
    assert {s["status"] for s in sim.ledger()["kakaopay_sids"].values()} == {"INACTIVE"}


def test_coming_back_cancelled_from_the_providers_page_saves_nothing(sim, client, buyer):
    client.force_login(buyer)
    for provider in ("kakaopay", "paypal"):
        started = client.post("/payments/methods/", {"action": "add", "provider": provider})
        location = httpx.post(started["Location"], data={"action": "cancel"}, timeout=10).headers["location"]
        landed = client.get(location.removeprefix("http://shop.test"), follow=True).content.decode()
        assert "카드가 등록되지 않았습니다." in landed
    assert not SavedPaymentMethod.objects.filter(user=buyer, state="active").exists()
