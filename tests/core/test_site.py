"""Absolute URLs from SITE_URL: one way to build them (#18 item 1), core/site.py."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

import bidcart
from bidcart.core.site import absolute_url
from bidcart.payments import providers
from bidcart.payments.models import Payment
from bidcart.payments.services import urls_for

SOURCE = Path(bidcart.__file__).resolve().parent


def test_an_absolute_url_is_under_site_url_else_under_the_requests_own_address_else_the_bare_path(settings):
    settings.SITE_URL = "https://shop.example.com"
    assert absolute_url("/orders/A1/", base="http://10.0.0.5:8000/") == "https://shop.example.com/orders/A1/"
    settings.SITE_URL = ""
    assert absolute_url("/orders/A1/", base="http://10.0.0.5:8000/") == "http://10.0.0.5:8000/orders/A1/"
    assert absolute_url("/orders/A1/") == "/orders/A1/"


def test_a_payments_return_and_webhook_addresses_follow_the_same_rule(settings):
    payment = Payment(merchant_uid="bc_123", provider="kakaopay")
    settings.SITE_URL = "https://shop.example.com"
    urls = urls_for(payment, "http://10.0.0.5:8000")
    assert urls.approve == "https://shop.example.com/payments/return/bc_123/"
    assert urls.notify == "https://shop.example.com/payments/webhooks/kakaopay/"
    settings.SITE_URL = ""
    assert urls_for(payment, "http://10.0.0.5:8000/").cancel == "http://10.0.0.5:8000/payments/cancel/bc_123/"


def test_the_mounted_simulators_address_follows_the_same_rule_and_pgsim_url_wins(settings):
    settings.KAKAOPAY = {**settings.KAKAOPAY, "base_url": ""}
    settings.PGSIM_URL = ""
    settings.SITE_URL = "https://shop.example.com"
    assert (
        providers.config("kakaopay", site_url="http://10.0.0.5:8000")["base_url"]
        == "https://shop.example.com/pgsim/kakaopay"
    )
    settings.SITE_URL = ""
    assert (
        providers.config("kakaopay", site_url="http://10.0.0.5:8000/")["base_url"]
        == "http://10.0.0.5:8000/pgsim/kakaopay"
    )
    settings.PGSIM_URL = "http://pgsim.internal:9000"
    assert providers.config("kakaopay")["base_url"] == "http://pgsim.internal:9000/kakaopay"
    settings.PGSIM_URL = ""
    with pytest.raises(ImproperlyConfigured, match="SITE_URL"):
        providers.config("kakaopay")


# A read of settings.SITE_URL that builds no URL of this site: asgi's origins the mounted simulator may
# send browsers to.
NOT_A_URL = {"asgi.py"}


def test_site_url_is_read_to_build_a_url_in_core_site_only():
    readers = {
        str(path.relative_to(SOURCE))
        for path in SOURCE.rglob("*.py")
        if re.search(r"settings\.SITE_URL\b", path.read_text())
    }
    assert readers - NOT_A_URL == {"core/site.py"}
