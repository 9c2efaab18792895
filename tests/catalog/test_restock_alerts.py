"""재입고 알림 (notify me when a sold-out option is back) and removing from the wishlist."""

import pytest
from django.core import mail
from django.test import Client

from bidcart.catalog import services, tasks
from bidcart.catalog.models import RestockAlert, Variant, WishlistItem
from tests.factories import api_for, make_product
from tests.openapi import assert_documented

pytestmark = pytest.mark.django_db


@pytest.fixture
def tee(seller):
    return make_product(seller, name="Tee", slug="tee", variants=[({"size": "M"}, 19000, 0), ({"size": "L"}, 21000, 5)])


def sold_out(product):
    return product.variants.get(stock=0)


def test_a_sold_out_option_offers_the_alert_and_remembers_it(tee, buyer):
    client = Client()
    client.force_login(buyer)
    page = client.get("/products/tee/").content.decode()
    assert f'data-testid="restock-{sold_out(tee).pk}"' in page and "재입고 알림 신청" in page
    in_stock = tee.variants.get(stock=5)
    assert f'data-testid="restock-{in_stock.pk}"' not in page  # nothing to wait for
    client.post("/products/tee/restock-alert/", {"option": sold_out(tee).pk})
    page = client.get("/products/tee/").content.decode()
    assert 'data-testid="restock-waiting"' in page and 'data-testid="restock-ask"' not in page
    client.post("/products/tee/restock-alert/", {"option": sold_out(tee).pk})  # asking twice keeps one
    assert RestockAlert.objects.filter(user=buyer).count() == 1
    for bad in ("x", "²", "99999999999999999999", str(in_stock.pk)):
        assert client.post("/products/tee/restock-alert/", {"option": bad}).status_code == 302
    assert RestockAlert.objects.filter(user=buyer).count() == 1


def test_one_email_when_stock_returns_then_never_again(tee, buyer, other, seller):
    variant = sold_out(tee)
    asked = api_for(buyer).post("/api/v1/restock-alerts/", {"variant": variant.pk}, format="json")
    assert asked.status_code == 201
    assert_documented(asked, "POST", "/api/v1/restock-alerts/")
    services.ask_restock_alert(other, variant)
    tasks.send_restock_alerts()
    assert mail.outbox == []  # still sold out
    services.set_stock(seller, variant, stock=3)
    tasks.send_restock_alerts()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([buyer.email, other.email])
    assert "Tee" in mail.outbox[0].subject and "재입고" in mail.outbox[0].subject
    assert "/products/tee/" in mail.outbox[0].body
    tasks.send_restock_alerts()
    services.set_stock(seller, variant, stock=0)
    services.set_stock(seller, variant, stock=2)
    tasks.send_restock_alerts()
    assert len(mail.outbox) == 2  # once per alert


def test_the_api_refuses_an_option_in_stock_and_bad_ids(tee, buyer):
    in_stock = tee.variants.get(stock=5)
    response = api_for(buyer).post("/api/v1/restock-alerts/", {"variant": in_stock.pk}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "in_stock"
    assert api_for(buyer).post("/api/v1/restock-alerts/", {"variant": 10**20}, format="json").status_code == 400
    assert api_for().post("/api/v1/restock-alerts/", {"variant": sold_out(tee).pk}, format="json").status_code in (
        401,
        403,
    )
    assert not RestockAlert.objects.exists()


def test_the_wishlist_page_removes_an_item_and_a_double_click_never_re_adds_it(tee, buyer):
    services.add_to_wishlist(buyer, tee)
    client = Client()
    client.force_login(buyer)
    page = client.get("/wishlist/").content.decode()
    assert 'data-testid="wishlist-remove"' in page and "Tee" in page
    for _click in range(2):
        response = client.post("/products/tee/wishlist/", {"action": "remove", "next": "/wishlist/"})
        assert response.status_code == 302 and response["Location"] == "/wishlist/"
    assert not WishlistItem.objects.filter(user=buyer).exists()
    assert "Tee" not in client.get("/wishlist/").content.decode()
    assert Variant.objects.filter(product=tee).count() == 2
