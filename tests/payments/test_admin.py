"""Staff see a payment's whole event log in the admin and refund from there."""

import httpx
import pytest

from bidcart.payments import services
from bidcart.payments.models import Payment, Refund, Status
from tests.factories import make_user

pytestmark = pytest.mark.django_db
ADMIN = "/staff-admin/payments/payment/"


@pytest.fixture
def paid(sim, buyer, order):
    payment, nxt = services.start_payment(buyer, order, provider="kakaopay", site_url="http://shop.test")
    sim.next_outcome("kakaopay", "approve")
    location = httpx.get(nxt.url, follow_redirects=False, timeout=10).headers["location"]
    services.confirm_payment(payment.merchant_uid, {"pg_token": location.split("pg_token=")[1]})
    payment.refresh_from_db()
    assert payment.status == Status.PAID
    return payment


def test_staff_see_the_event_log_and_refund_part_of_a_payment(client, paid):
    client.force_login(make_user(staff=True, is_superuser=True))
    page = client.get(f"{ADMIN}{paid.pk}/change/").content.decode()
    assert "/online/v1/payment/approve" in page  # every provider call is in the log
    assert "captured" in page.lower()
    assert "bidcart-kakaopay-secret" not in page  # secrets never reach the log

    ask = client.post(ADMIN, {"action": "refund", "_selected_action": [paid.pk]})
    assert ask.status_code == 200 and 'name="reason"' in ask.content.decode()
    done = client.post(
        ADMIN,
        {"action": "refund", "apply": "1", "_selected_action": [paid.pk], "amount": "5000", "reason": "damaged box"},
    )
    assert done.status_code == 302
    refund = Refund.objects.get(payment=paid)
    assert (refund.amount, refund.status, refund.reason) == (5000, Refund.Status.SUCCEEDED, "damaged box")
    assert Payment.objects.get(pk=paid.pk).status == Status.PARTIALLY_REFUNDED


def test_the_payments_admin_is_staff_only(client, paid, buyer):
    client.force_login(buyer)
    assert client.get(f"{ADMIN}{paid.pk}/change/").status_code == 302  # to the admin login
