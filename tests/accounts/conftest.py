import re

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from bidcart.accounts import sms
from bidcart.accounts.models import User

PASSWORD = "correct-horse-battery-9"
# the required sign-up consents (이용약관 동의), agreed: as the API takes them and as the page's checkboxes post them
AGREED = {"terms": True, "privacy": True, "age": True}
AGREED_FORM = {"consent_terms": "on", "consent_privacy": "on", "consent_age": "on"}


@pytest.fixture(autouse=True)
def _fresh_sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def make_user(db):
    def make(email="kim@example.com", *, password=PASSWORD, active=True, phone="", phone_verified=False, **extra):
        now = timezone.now()
        return User.objects.create_user(
            email,
            password,
            display_name=extra.pop("display_name", email.split("@")[0]),
            is_active=active,
            email_verified_at=now if active else None,
            phone=phone,
            phone_verified_at=now if phone_verified else None,
            **extra,
        )

    return make


@pytest.fixture
def user(make_user):
    return make_user()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def login_api(api):
    """An API client carrying a bearer token for the given user."""

    def login(user, password=PASSWORD):
        client = APIClient()
        response = client.post("/api/v1/auth/token/", {"email": user.email, "password": password}, format="json")
        assert response.status_code == 200, response.content
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
        client.tokens = response.json()
        return client

    return login


def last_link(pattern=r"https?://\S+/accounts/verify-email/[^/\s]+/[^/\s]+/"):
    """The link of the given kind in the newest email (text part)."""
    assert mail.outbox, "no email was sent"
    match = re.search(pattern, mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(0)


def uid_token(link):
    parts = link.rstrip("/").split("/")
    return parts[-2], parts[-1]


def last_sms_code():
    assert sms.outbox, "no SMS was sent"
    return re.search(r"\b(\d{6})\b", sms.outbox[-1]["text"]).group(1)
