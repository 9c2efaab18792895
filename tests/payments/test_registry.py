"""#12 item 7: one self-describing unit per provider. The registry, the payment choices, settings, the
simulator's test credentials, the deploy checks and the CSP all come from the adapter classes, so a new
provider is one module and one line in `providers.ADAPTERS`."""

from __future__ import annotations

import dataclasses

import pytest
from django.conf import settings as django_settings

from bidcart.core.deploy_checks import Config, problems
from bidcart.payments import providers
from bidcart.payments.models import Payment, Provider
from bidcart.payments.providers import Next, RefundResult, Snapshot
from bidcart.pgsim.config import SimConfig


def test_every_registered_provider_describes_itself_completely():
    sim_fields = {f.name for f in dataclasses.fields(SimConfig)}
    for name, cls in providers.classes().items():
        assert cls.name == name and cls.label and cls.settings_key and cls.simulator_path and cls.reference_keys
        assert "base_url" in cls.options and set(cls.credentials) <= set(cls.options)
        assert set(cls.simulator_credentials) <= set(cls.options)
        assert set(cls.simulator_credentials.values()) <= sim_fields  # the simulator's test values exist
        assert getattr(django_settings, cls.settings_key).keys() == cls.options.keys()  # settings derived
    assert Provider.choices == providers.choices()  # the model's choices derived


def test_the_csp_allows_exactly_the_offered_providers_origins():
    directives = django_settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    for name in django_settings.PAYMENT_PROVIDERS:
        for directive, origins in providers.adapter_class(name).csp.items():
            assert set(origins) <= set(directives[directive]), (name, directive)
    assert "https://cdn.iamport.kr" in directives["script-src"] and "https://*.paypal.com" in directives["form-action"]


class Acme(providers.Provider):
    """A provider that exists only in this test."""

    name, label = "acme", "Acme Pay"
    settings_key = "ACME"
    options = {"base_url": "", "api_key": ""}
    credentials = ("api_key",)
    simulator_path = "acme"
    simulator_credentials = {"api_key": "kakaopay_secret_key"}
    currencies = frozenset({"KRW"})
    reference_keys = ("acme_id",)
    csp = {"form-action": ("https://pay.acme.test",)}

    def start(self, payment, *, urls, mobile):
        return Next(type="redirect", url="https://pay.acme.test/")

    def fetch(self, payment):
        return Snapshot(state="pending", amount=payment.provider_amount, currency="KRW")

    def cancel(self, payment, *, reason):
        return self.fetch(payment)

    def refund(self, payment, *, amount, refundable, reason, key, refund_account=None):
        return RefundResult("r", amount)


@pytest.fixture
def acme(monkeypatch, settings):
    monkeypatch.setattr(providers, "ADAPTERS", (*providers.ADAPTERS, f"{__name__}.Acme"))
    providers.classes.cache_clear()
    settings.ACME = {"base_url": "", "api_key": ""}
    settings.PAYMENT_PROVIDERS = [*settings.PAYMENT_PROVIDERS, "acme"]
    settings.SITE_URL = "http://shop.test"
    yield Acme
    providers.classes.cache_clear()


def test_a_new_provider_is_one_class_and_one_line(acme):
    assert "acme" in providers.enabled() and ("acme", "Acme Pay") in providers.choices()
    conf = providers.config("acme")  # the simulator's address and test credentials, from the description
    assert (
        conf["simulator"] and conf["base_url"].endswith("/acme") and conf["api_key"] == SimConfig().kakaopay_secret_key
    )
    # the deploy checks know what it needs, by its variable names
    found = problems(
        Config(
            secret_key="k" * 30 + "abcdefghijklmnopqrstuvwxyz",
            allowed_hosts=["shop.example.com"],
            providers={"acme": {"base_url": "https://api.acme.test", "api_key": ""}},
        )
    )
    assert [p.id for p in found] == ["bidcart.E012"] and "ACME_API_KEY" in found[0].fix


@pytest.mark.django_db
def test_the_main_reference_of_a_payment_is_its_providers_own(buyer):
    from tests.payments.fixtures import make_order

    payment = Payment(
        order=make_order(buyer),
        buyer=buyer,
        provider="paypal",
        amount=1,
        currency="KRW",
        provider_amount=1,
        provider_currency="USD",
        psp={"order_id": "5O190127TN364715T", "capture_id": "3C679366HH908993F"},
    )
    from bidcart.payments.services import _main_reference

    assert _main_reference(payment) == "3C679366HH908993F"
    payment.provider, payment.psp = "portone", {"imp_uid": "imp_1234", "order_id": "not-portone's"}
    assert _main_reference(payment) == "imp_1234"
