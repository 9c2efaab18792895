"""The anonymous webhook endpoints can't be used to fill the inbox: a body over WEBHOOK_MAX_BYTES is refused
before anything is stored (at the ASGI door, so against a real server), and an address whose deliveries
keep failing verification is refused (429) before storing more, while a provider's signed deliveries are
all stored, however many come."""

import base64
import hashlib
import hmac
import json
import time
import uuid

import httpx
import pytest
from django.test import Client

from bidcart.payments.models import WebhookDelivery
from tests.livesrv import running_server

KEY = b"bidcart-test-webhook-key-0123456"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
URL = "/payments/webhooks/portone_v2/"


@pytest.fixture
def signed_portone(settings):
    settings.PORTONE_V2 = {
        **settings.PORTONE_V2,
        "webhook_secret": SECRET,
        "base_url": "http://127.0.0.1:9",
        "secret": "api-secret",
        "store_id": "store-test",
    }
    settings.SITE_URL = "http://shop.test"
    settings.PAYMENT_PROVIDERS = ["portone_v2"]
    settings.NUM_PROXIES = 1  # addresses from X-Forwarded-For, as behind the load balancer


def signed_delivery() -> tuple[bytes, dict]:
    """A delivery as PortOne signs it (Standard Webhooks), about a payment this shop doesn't know."""
    body = json.dumps(
        {
            "type": "Transaction.Paid",
            "timestamp": "2026-12-04T05:00:00Z",
            "data": {"paymentId": f"unknown-{uuid.uuid4().hex[:8]}", "transactionId": "tx-1"},
        }
    ).encode()
    msg_id, ts = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
    signature = base64.b64encode(hmac.new(KEY, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    return body, {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": f"v1,{signature}"}


def forged(client, ip):
    return client.post(
        URL,
        data=json.dumps({"type": "Transaction.Paid", "data": {"paymentId": "x"}}),
        content_type="application/json",
        HTTP_X_FORWARDED_FOR=ip,
        HTTP_WEBHOOK_ID="msg_1",
        HTTP_WEBHOOK_TIMESTAMP=str(int(time.time())),
        HTTP_WEBHOOK_SIGNATURE="v1,Zm9yZ2Vk",
    )


@pytest.mark.django_db
def test_an_address_sending_rejected_deliveries_is_refused_before_it_fills_the_inbox(signed_portone, settings):
    settings.RATE_LIMIT_WEBHOOK_REJECTED = "5/min"
    client = Client()
    answers = [forged(client, "203.0.113.50").status_code for _ in range(12)]
    assert answers == [400] * 5 + [429] * 7
    assert WebhookDelivery.objects.filter(remote_ip="203.0.113.50").count() == 5  # the rest were never stored
    assert forged(client, "203.0.113.50")["Retry-After"]

    # the provider's own deliveries, many of them, from its address: every one stored and answered 2xx
    for _ in range(20):
        body, headers = signed_delivery()
        answer = client.post(
            URL,
            data=body,
            content_type="application/json",
            HTTP_X_FORWARDED_FOR="198.51.100.20",
            **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
        )
        assert answer.status_code == 200, answer.content
    assert (
        WebhookDelivery.objects.filter(remote_ip="198.51.100.20").exclude(state=WebhookDelivery.State.REJECTED).count()
        == 20
    )


@pytest.mark.django_db(transaction=True)
def test_an_oversized_webhook_body_is_refused_before_it_is_stored(signed_portone):
    with running_server() as url:
        big = json.dumps({"type": "Transaction.Paid", "data": {"paymentId": "x", "pad": "a" * 200_000}})
        refused = httpx.post(url + URL, content=big, headers={"content-type": "application/json"}, timeout=10)
        assert refused.status_code == 413
        assert WebhookDelivery.objects.count() == 0
        body, headers = signed_delivery()
        stored = httpx.post(
            url + URL, content=body, headers={"content-type": "application/json", **headers}, timeout=10
        )
        assert stored.status_code == 200, stored.text
        assert WebhookDelivery.objects.count() == 1
