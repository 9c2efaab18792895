"""One verified phone number, one account, when several accounts verify the same number at the same moment
on PostgreSQL (issue #13 item 13): each passes the service's "verified elsewhere?" read before any of
them writes, so only the database's partial unique constraint can decide. Exactly one account ends up
verified; every other one is told phone_taken, and its code stays unused."""

import re

import pytest
from django.utils import timezone

from bidcart.accounts import services, sms
from bidcart.accounts.models import PhoneCode, User
from bidcart.core.errors import DomainError
from tests.services.test_store_concurrency import race_on_own_connections

RACERS = 8
NUMBER = "+821055556666"


@pytest.mark.django_db(transaction=True)
def test_accounts_verifying_one_number_at_once_leave_exactly_one_verified():
    sms.outbox.clear()
    users, codes = [], {}
    for i in range(RACERS):
        user = User.objects.create_user(
            f"phone{i}@example.com",
            "pw-123456789",
            display_name=f"p{i}",
            is_active=True,
            email_verified_at=timezone.now(),
            phone=NUMBER,
        )
        services.request_phone_code(user)
        codes[user.pk] = re.search(r"\b(\d{6})\b", sms.outbox[-1]["text"]).group(1)
        users.append(user)
    outcomes = []

    def verify(user):
        def run():
            try:
                services.verify_phone_code(user, codes[user.pk])
                outcomes.append("verified")
            except DomainError as error:
                outcomes.append(error.code)

        return run

    _pids, errors = race_on_own_connections([verify(u) for u in users])
    assert not errors, errors  # no IntegrityError (a 500) escaped the service
    assert sorted(outcomes) == ["phone_taken"] * (RACERS - 1) + ["verified"]
    assert User.objects.filter(phone=NUMBER, phone_verified_at__isnull=False).count() == 1
    assert PhoneCode.objects.filter(phone=NUMBER, used_at__isnull=False).count() == 1
