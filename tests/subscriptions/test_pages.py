"""The subscription pages in Korean: the product page offers it, the buyer subscribes with a saved card and
manages it, the seller offers products and sees the schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bidcart.subscriptions import services
from bidcart.subscriptions.models import Subscription
from tests.catalog.factories import make_user
from tests.payments.fixtures import ADDRESS
from tests.subscriptions.helpers import card, offered, subscribe

pytestmark = pytest.mark.django_db


def test_the_product_page_offers_a_subscription_only_when_the_seller_does(client, seller, buyer):
    product = offered(seller, intervals=("2w", "1m"))
    plain = offered(seller, intervals=(), name="일반 상품")
    page = client.get(f"/products/{product.slug}/").content.decode()
    assert "정기배송도 가능: 2주마다, 매월" in page and f"/subscriptions/new/{product.pk}/" in page
    assert "정기배송 신청" not in client.get(f"/products/{plain.slug}/").content.decode()


def test_a_buyer_subscribes_on_the_page_and_skips_pauses_and_cancels(client, sim, seller, buyer):
    product = offered(seller, intervals=("1w",))
    method = card(buyer)
    client.force_login(buyer)
    page = client.get(f"/subscriptions/new/{product.pk}/").content.decode()
    assert "BC카드 ···· 0005" in page and "매주" in page
    first = services.seoul_today() + timedelta(days=2)
    r = client.post(
        f"/subscriptions/new/{product.pk}/",
        {
            "variant": product.variants.get().pk,
            "quantity": 3,
            "interval": "1w",
            "first_date": first.isoformat(),
            "method": method.pk,
            **ADDRESS,
        },
    )
    sub = Subscription.objects.get(user=buyer)
    assert r.status_code == 302 and r["Location"] == f"/subscriptions/{sub.pk}/"
    page = client.get(r["Location"]).content.decode()
    assert "정기배송을 신청했습니다" in page and f"{first:%Y-%m-%d}" in page and "09:00" in page
    assert "약 90,000원" in page  # 3 × 30,000원, shipping free from 50,000원
    client.post(r["Location"], {"action": "skip"})
    assert "다음 배송을 건너뜁니다" in client.get(r["Location"]).content.decode()
    client.post(r["Location"], {"action": "pause"})
    page = client.get(r["Location"]).content.decode()
    assert "일시정지" in page and "다시 시작" in page
    client.post(r["Location"], {"action": "cancel"})
    assert Subscription.objects.get(pk=sub.pk).state == "cancelled"
    assert "해지됨" in client.get("/subscriptions/").content.decode()


def test_a_past_first_date_is_refused_in_words(client, sim, seller, buyer):
    product = offered(seller, intervals=("1w",))
    method = card(buyer)
    client.force_login(buyer)
    r = client.post(
        f"/subscriptions/new/{product.pk}/",
        {
            "variant": product.variants.get().pk,
            "quantity": 1,
            "interval": "1w",
            "method": method.pk,
            "first_date": services.seoul_today().isoformat(),
            **ADDRESS,
        },
    )
    assert r.status_code == 200 and "내일부터 90일 이내의 날짜를 고르세요." in r.content.decode()
    assert not Subscription.objects.exists()


def test_without_a_saved_card_the_page_sends_the_buyer_to_register_one(client, seller, buyer):
    product = offered(seller, intervals=("1w",))
    client.force_login(buyer)
    page = client.get(f"/subscriptions/new/{product.pk}/").content.decode()
    assert "정기배송은 등록한 카드로 결제됩니다." in page and "/payments/methods/" in page


def test_the_seller_offers_intervals_and_sees_who_subscribes(client, sim, seller, buyer):
    product = offered(seller, intervals=())
    client.force_login(seller)
    client.post(f"/subscriptions/selling/{product.pk}/plan/", {"intervals": ["1w", "4w"]})
    assert product.subscription_plan.intervals == ["1w", "4w"]
    subscribe(buyer, product, card(buyer))
    page = client.get("/subscriptions/selling/").content.decode()
    assert "다가오는 배송" in page and ADDRESS["recipient"] in page and "이용 중" in page
    client.force_login(make_user())
    assert client.get("/subscriptions/selling/").status_code == 403
    assert client.get("/subscriptions/1/").status_code == 404


def test_staff_see_subscriptions_and_their_cycles_in_the_admin_with_the_card_as_digits_only(client, sim, seller, buyer):
    from bidcart.subscriptions.models import Cycle

    product = offered(seller, intervals=("1w",))
    method = card(buyer)
    sub = subscribe(buyer, product, method)
    services.skip_next(buyer, sub.pk)
    client.force_login(make_user(staff=True, is_superuser=True))
    listing = client.get("/staff-admin/subscriptions/subscription/").content.decode()
    assert product.name in listing and "BC카드 ···· 0005" in listing
    page = client.get(f"/staff-admin/subscriptions/subscription/{sub.pk}/change/")
    assert page.status_code == 200
    assert "BC카드 ···· 0005" in page.content.decode() and method.reference not in page.content.decode()
    assert "건너뜀" in page.content.decode()  # its cycles
    cycle = Cycle.objects.get(subscription=sub)
    assert client.get(f"/staff-admin/subscriptions/cycle/{cycle.pk}/change/").status_code == 200
    assert client.get("/staff-admin/subscriptions/plan/").status_code == 200
