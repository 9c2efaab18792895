"""`paypal-server-sdk` against pgsim by overriding the environment's base URI."""

from __future__ import annotations

import httpx
import pytest
from apimatic_core.exceptions.auth_validation_exception import AuthValidationException
from paypalserversdk.configuration import Environment, Server
from paypalserversdk.exceptions.error_exception import ErrorException
from paypalserversdk.exceptions.o_auth_provider_exception import OAuthProviderException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.models.amount_with_breakdown import AmountWithBreakdown
from paypalserversdk.models.checkout_payment_intent import CheckoutPaymentIntent
from paypalserversdk.models.money import Money
from paypalserversdk.models.order_request import OrderRequest
from paypalserversdk.models.purchase_unit_request import PurchaseUnitRequest
from paypalserversdk.models.refund_request import RefundRequest
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient


def make_client(pgsim, secret="bidcart-paypal-secret"):
    client = PaypalServersdkClient(
        client_credentials_auth_credentials=ClientCredentialsAuthCredentials(
            o_auth_client_id="bidcart-paypal-client", o_auth_client_secret=secret
        ),
        environment=Environment.SANDBOX,
    )
    client.config.environments = {Environment.SANDBOX: {Server.DEFAULT: f"{pgsim}/paypal"}}
    return client


def new_order(client, value="25.00", **headers):
    body = OrderRequest(
        intent=CheckoutPaymentIntent.CAPTURE,
        purchase_units=[PurchaseUnitRequest(amount=AmountWithBreakdown(currency_code="USD", value=value))],
    )
    return client.orders.create_order({"body": body, "prefer": "return=representation", **headers})


def approve(order):
    href = next(link.href for link in order.links if link.rel == "approve")
    assert httpx.post(href, data={"action": "approve"}).status_code == 200  # no return_url: a "thank you" page


def test_create_capture_refund(pgsim, receiver):
    client = make_client(pgsim)
    created = new_order(client, paypal_request_id="sdk-create-1")
    assert created.status_code == 201 and created.body.status == "CREATED"
    replay = new_order(client, paypal_request_id="sdk-create-1")
    assert replay.status_code == 200 and replay.body.id == created.body.id
    approve(created.body)
    captured = client.orders.capture_order({"id": created.body.id, "prefer": "return=representation"})
    assert captured.status_code == 201 and captured.body.status == "COMPLETED"
    capture = captured.body.purchase_units[0].payments.captures[0]
    assert capture.status == "COMPLETED" and capture.amount.value == "25.00"

    refund = client.payments.refund_captured_payment(
        {
            "capture_id": capture.id,
            "body": RefundRequest(amount=Money(currency_code="USD", value="5.00")),
            "prefer": "return=representation",
        }
    )
    assert refund.status_code == 201 and refund.body.status == "COMPLETED" and refund.body.amount.value == "5.00"
    got = client.payments.get_captured_payment({"capture_id": capture.id})
    assert got.body.status == "PARTIALLY_REFUNDED"
    rest = client.payments.refund_captured_payment({"capture_id": capture.id, "body": RefundRequest()})
    assert rest.status_code == 201
    assert client.payments.get_captured_payment({"capture_id": capture.id}).body.status == "REFUNDED"
    shown = client.orders.get_order({"id": created.body.id})
    assert shown.body.status == "COMPLETED"
    mine = receiver.wait_for(
        "/paypal",
        count=4,
        where=lambda body: created.body.id in str(body["resource"]) or capture.id in str(body["resource"]),
    )
    assert [d["json"]["event_type"] for d in mine] == [
        "CHECKOUT.ORDER.APPROVED",
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.REFUNDED",
        "PAYMENT.CAPTURE.REFUNDED",
    ]


def test_error_handling(pgsim):
    client = make_client(pgsim)
    order = new_order(client)
    with pytest.raises(ErrorException) as not_approved:
        client.orders.capture_order({"id": order.body.id})
    err = not_approved.value
    assert err.response_code == 422 and err.name == "UNPROCESSABLE_ENTITY" and err.debug_id
    assert err.details[0].issue == "ORDER_NOT_APPROVED"
    with pytest.raises(ErrorException) as missing:
        client.orders.get_order({"id": "NOSUCHORDER"})
    assert missing.value.response_code == 404 and missing.value.details[0].issue == "INVALID_RESOURCE_ID"
    with pytest.raises(ErrorException) as bad_amount:
        new_order(client, value="1.005")
    assert bad_amount.value.details[0].issue == "DECIMAL_PRECISION"
    bad = make_client(pgsim, secret="wrong")
    with pytest.raises(OAuthProviderException) as auth:
        bad.auth_managers["Oauth2"].fetch_token()
    assert auth.value.response_code == 401 and auth.value.error == "invalid_client"
    # without a token the SDK refuses to call the API at all
    with pytest.raises(AuthValidationException):
        new_order(bad)


def test_vault_a_card_charge_it_and_delete_it(pgsim):
    """Payment Method Tokens v3 (setup token → payment token) and Orders v2 with `payment_source.card.vault_id`."""
    from paypalserversdk.models.card_request import CardRequest
    from paypalserversdk.models.card_vault_response import CardVaultResponse  # noqa: F401 - the SDK has the vault models
    from paypalserversdk.models.order_request import OrderRequest as Order
    from paypalserversdk.models.payment_source import PaymentSource
    from paypalserversdk.models.payment_token_request import PaymentTokenRequest
    from paypalserversdk.models.payment_token_request_payment_source import PaymentTokenRequestPaymentSource
    from paypalserversdk.models.setup_token_request import SetupTokenRequest
    from paypalserversdk.models.setup_token_request_card import SetupTokenRequestCard
    from paypalserversdk.models.setup_token_request_payment_source import SetupTokenRequestPaymentSource
    from paypalserversdk.models.vault_token_request import VaultTokenRequest
    from paypalserversdk.models.vault_token_request_type import VaultTokenRequestType

    client = make_client(pgsim)
    setup = client.vault.create_setup_token(
        {
            "body": SetupTokenRequest(
                payment_source=SetupTokenRequestPaymentSource(
                    card=SetupTokenRequestCard(number="4111111111111111", expiry="2099-12", name="Kim Buyer")
                )
            ),
            "paypal_request_id": "sdk-setup-1",
        }
    ).body
    assert setup.status == "APPROVED"
    token = client.vault.create_payment_token(
        {
            "body": PaymentTokenRequest(
                payment_source=PaymentTokenRequestPaymentSource(
                    token=VaultTokenRequest(id=setup.id, mtype=VaultTokenRequestType.SETUP_TOKEN)
                )
            ),
            "paypal_request_id": "sdk-vault-1",
        }
    ).body
    assert token.payment_source.card.last_digits == "1111"
    assert client.vault.get_payment_token(token.id).body.id == token.id

    order = client.orders.create_order(
        {
            "body": Order(
                intent=CheckoutPaymentIntent.CAPTURE,
                purchase_units=[PurchaseUnitRequest(amount=AmountWithBreakdown(currency_code="USD", value="9.90"))],
                payment_source=PaymentSource(card=CardRequest(vault_id=token.id)),
            ),
            "prefer": "return=representation",
            "paypal_request_id": "sdk-bill-1",
        }
    ).body
    assert order.status == "COMPLETED"
    assert order.purchase_units[0].payments.captures[0].status == "COMPLETED"

    assert client.vault.delete_payment_token(token.id).status_code == 204
    with pytest.raises(ErrorException):
        client.vault.get_payment_token(token.id)
