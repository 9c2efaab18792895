"""Log in / out, password reset and change, profile edits: pages and API."""

import re

import pytest
from django.core import mail
from rest_framework.test import APIClient

from bidcart.accounts.models import User

from .conftest import PASSWORD, uid_token

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-secret-42"
RESET_LINK = r"https?://\S+/accounts/password/reset/[^/\s]+/[^/\s]+/"


def reset_link():
    return re.search(RESET_LINK, mail.outbox[-1].body).group(0)


def test_login_page_logs_in_and_redirects_to_next(client, user):
    page = client.get("/accounts/login/")
    assert 'data-testid="login-form"' in page.content.decode()
    response = client.post(
        "/accounts/login/", {"email": "KIM@example.com", "password": PASSWORD, "next": "/accounts/profile/"}
    )
    assert response.status_code == 302 and response.url == "/accounts/profile/"
    assert client.get("/accounts/profile/").status_code == 200


def test_login_page_refuses_wrong_password_and_open_redirect(client, user):
    wrong = client.post("/accounts/login/", {"email": user.email, "password": "nope"}, HTTP_ACCEPT_LANGUAGE="en")
    assert wrong.status_code == 400
    assert 'data-testid="login-error"' in wrong.content.decode()
    assert "The email or password is not correct." in wrong.content.decode()
    evil = client.post("/accounts/login/", {"email": user.email, "password": PASSWORD, "next": "https://evil.example/"})
    assert evil.status_code == 302 and evil.url == "/"


def test_logout_is_post_only(client, user):
    client.force_login(user)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/accounts/profile/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/accounts/profile/").status_code == 302  # back to the login page


def test_profile_requires_login(client):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/?next=")


def test_profile_edit_changes_name_language_and_new_phone_needs_verification(client, make_user):
    user = make_user(phone="+821011112222", phone_verified=True)
    client.force_login(user)
    page = client.get("/accounts/profile/")
    assert 'data-testid="phone-verified"' in page.content.decode()
    same_phone = client.post(
        "/accounts/profile/", {"display_name": "Kim 2", "phone": "010-1111-2222", "language": "ko"}
    )
    assert same_phone.url == "/accounts/profile/"
    user.refresh_from_db()
    assert user.display_name == "Kim 2" and user.phone_verified_at is not None
    response = client.post("/accounts/profile/", {"display_name": "Kim", "phone": "010-3333-4444", "language": "en"})
    assert response.status_code == 302 and response.url == "/accounts/phone/"
    assert response.cookies["django_language"].value == "en"
    user.refresh_from_db()
    assert str(user.phone) == "+821033334444" and user.phone_verified_at is None and user.language == "en"
    page = client.get("/accounts/profile/")
    assert "Your profile was saved." in page.content.decode()  # now in English
    assert 'data-testid="verify-phone-link"' in page.content.decode()


def test_profile_edit_rejects_bad_phone(client, user):
    client.force_login(user)
    response = client.post("/accounts/profile/", {"display_name": "Kim", "phone": "12", "language": "ko"})
    assert response.status_code == 400 and 'data-testid="error-phone"' in response.content.decode()


def test_password_change_page(client, user):
    client.force_login(user)
    wrong = client.post(
        "/accounts/password/change/",
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 400 and 'data-testid="error-old_password"' in wrong.content.decode()
    ok = client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert ok.status_code == 302 and ok.url == "/accounts/profile/"
    assert client.get("/accounts/profile/").status_code == 200  # still logged in
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_reset_pages_full_flow_single_use(client, make_user):
    user = make_user(language="en")
    response = client.post("/accounts/password/reset/", {"email": "kim@example.com"})
    assert response.status_code == 302 and response.url == "/accounts/password/reset/done/"
    assert mail.outbox[0].subject == "[bidcart] Reset your password"
    assert mail.outbox[0].alternatives[0][1] == "text/html"
    link = reset_link()
    form = client.get(link, follow=True)
    assert 'data-testid="password-reset-confirm-form"' in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done.url == "/accounts/password/reset/complete/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    again = client.get(link, follow=True)
    assert 'data-testid="password-reset-invalid"' in again.content.decode()


def test_password_reset_for_unknown_or_inactive_address_sends_nothing(client, make_user):
    make_user("sleepy@example.com", active=False)
    for email in ("nobody@example.com", "sleepy@example.com"):
        assert client.post("/accounts/password/reset/", {"email": email}).status_code == 302
    assert not mail.outbox


# --- API -------------------------------------------------------------------------------------------


def test_token_refresh_logout_blacklists(api, user):
    pair = api.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json").json()
    refreshed = api.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert refreshed.status_code == 200 and "access" in refreshed.json()
    rotated = refreshed.json()["refresh"]
    # rotation blacklists the old refresh token
    assert api.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").status_code == 401
    out = api.post("/api/v1/auth/logout/", {"refresh": rotated}, format="json")
    assert out.status_code == 200
    after = api.post("/api/v1/auth/token/refresh/", {"refresh": rotated}, format="json")
    assert after.status_code == 401 and after.json()["code"] == "token_not_valid"
    bad = api.post("/api/v1/auth/logout/", {"refresh": "garbage"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "token_invalid"


def test_token_errors(api, user):
    wrong = api.post("/api/v1/auth/token/", {"email": user.email, "password": "nope"}, format="json")
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
    extra = api.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD, "otp": "1"}, format="json")
    assert extra.status_code == 400 and extra.json()["errors"]["otp"][0]["code"] == "unknown_field"
    missing = api.post("/api/v1/auth/token/", {"email": user.email}, format="json")
    assert missing.status_code == 400 and "password" in missing.json()["errors"]
    refresh_extra = api.post("/api/v1/auth/token/refresh/", {"refresh": "x", "access": "y"}, format="json")
    assert refresh_extra.status_code == 400 and refresh_extra.json()["code"] == "invalid"


def test_malformed_json_and_wrong_types_are_400(api, user, login_api):
    broken = api.post("/api/v1/auth/token/", data='{"email": "kim@', content_type="application/json")
    assert broken.status_code == 400 and broken.json()["code"] == "parse_error"
    listed = api.post("/api/v1/auth/signup/", data="[1, 2]", content_type="application/json")
    assert listed.status_code == 400
    client = login_api(user)
    typed = client.patch("/api/v1/me/", {"display_name": ["a", "b"]}, format="json")
    assert typed.status_code == 400 and "display_name" in typed.json()["errors"]
    broken_patch = client.patch("/api/v1/me/", data="{nope", content_type="application/json")
    assert broken_patch.status_code == 400


def test_me_get_and_patch(login_api, make_user):
    user = make_user(phone="+821011112222", phone_verified=True, is_seller=True)
    client = login_api(user)
    me = client.get("/api/v1/me/").json()
    assert me["email"] == "kim@example.com" and me["is_seller"] is True
    assert me["phone"] == "+821011112222" and me["phone_verified"] is True and me["email_verified"] is True
    changed = client.patch(
        "/api/v1/me/", {"display_name": "새 이름", "phone": "010-5555-6666", "language": "en"}, format="json"
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["display_name"] == "새 이름" and body["phone"] == "+821055556666"
    assert body["phone_verified"] is False and body["language"] == "en"
    for field, value in (("email", "x@example.com"), ("is_seller", False), ("is_staff", True)):
        refused = client.patch("/api/v1/me/", {field: value}, format="json")
        assert refused.status_code == 400 and refused.json()["errors"][field][0]["code"] == "unknown_field"
    user.refresh_from_db()
    assert user.email == "kim@example.com" and user.is_seller and not user.is_staff
    assert client.patch("/api/v1/me/", {"language": "fr"}, format="json").status_code == 400
    assert client.patch("/api/v1/me/", {"phone": "123"}, format="json").status_code == 400
    assert client.patch("/api/v1/me/", {"display_name": "  "}, format="json").status_code == 400


def test_me_requires_authentication(api):
    response = api.get("/api/v1/me/")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    assert api.post("/api/v1/me/phone/code/").status_code == 401
    assert api.post("/api/v1/me/password/", {}, format="json").status_code == 401


def test_a_user_never_sees_or_changes_another_users_data(login_api, make_user):
    alice = make_user("alice@example.com", phone="+821011110000")
    bob = make_user("bob@example.com", phone="+821022220000")
    as_alice = login_api(alice)
    me = as_alice.get("/api/v1/me/").json()
    assert me["email"] == "alice@example.com" and "bob" not in str(me)
    as_alice.patch("/api/v1/me/", {"display_name": "Alice!"}, format="json")
    assert as_alice.patch("/api/v1/me/", {"id": bob.pk}, format="json").status_code == 400
    bob.refresh_from_db()
    assert bob.display_name == "bob"
    # Bob's refresh token can't be logged out into Alice's session, and Alice's codes aren't Bob's
    as_bob = login_api(bob)
    as_alice.post("/api/v1/me/phone/code/")
    as_bob.post("/api/v1/me/phone/code/")
    from .conftest import last_sms_code

    bob_code = last_sms_code()
    assert as_alice.post("/api/v1/me/phone/verify/", {"code": bob_code}, format="json").status_code in (400,)
    alice.refresh_from_db()
    assert alice.phone_verified_at is None


def test_api_password_change_revokes_old_tokens(login_api, user, api):
    client = login_api(user)
    old_refresh = client.tokens["refresh"]
    wrong = client.post("/api/v1/me/password/", {"old_password": "nope", "new_password": NEW_PASSWORD}, format="json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "password_incorrect"
    weak = client.post("/api/v1/me/password/", {"old_password": PASSWORD, "new_password": "kim"}, format="json")
    assert weak.status_code == 400 and "new_password" in weak.json()["errors"]
    ok = client.post("/api/v1/me/password/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json")
    assert ok.status_code == 200 and set(ok.json()) == {"access", "refresh"}
    assert api.post("/api/v1/auth/token/refresh/", {"refresh": old_refresh}, format="json").status_code == 401
    assert api.post("/api/v1/auth/token/refresh/", {"refresh": ok.json()["refresh"]}, format="json").status_code == 200
    assert (
        api.post("/api/v1/auth/token/", {"email": user.email, "password": NEW_PASSWORD}, format="json").status_code
        == 200
    )


def test_access_tokens_issued_before_a_password_change_are_refused_at_once(login_api, user, api, client):
    phone, laptop = login_api(user), login_api(user)  # two devices
    assert laptop.get("/api/v1/me/").status_code == 200
    ok = phone.post("/api/v1/me/password/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json")
    assert ok.status_code == 200
    # the laptop's access token would have stayed valid for 5 more minutes
    refused = laptop.get("/api/v1/me/")
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"
    assert phone.get("/api/v1/me/").status_code == 401  # the changing device's old token too
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {ok.json()['access']}")
    assert fresh.get("/api/v1/me/").status_code == 200  # the pair the change answered with works
    # a reset through the web pages (not the API) revokes them as well
    fresh_user = User.objects.get(pk=user.pk)
    fresh_user.set_password("yet-another-Pass-99")
    fresh_user.save()
    assert fresh.get("/api/v1/me/").status_code == 401


def test_api_password_reset_and_confirm(api, make_user):
    user = make_user(language="ko")
    for email in ("kim@example.com", "nobody@example.com"):
        response = api.post("/api/v1/auth/password-reset/", {"email": email}, format="json")
        assert response.status_code == 202
    assert len(mail.outbox) == 1 and "비밀번호" in mail.outbox[0].subject
    uid, token = uid_token(reset_link())
    weak = api.post(
        "/api/v1/auth/password-reset/confirm/", {"uid": uid, "token": token, "new_password": "1234"}, format="json"
    )
    assert weak.status_code == 400 and "new_password" in weak.json()["errors"]
    ok = api.post(
        "/api/v1/auth/password-reset/confirm/",
        {"uid": uid, "token": token, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert ok.status_code == 200
    reused = api.post(
        "/api/v1/auth/password-reset/confirm/",
        {"uid": uid, "token": token, "new_password": "yet-another-pass-77"},
        format="json",
    )
    assert reused.status_code == 400 and reused.json()["code"] == "token_invalid"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    bogus = api.post(
        "/api/v1/auth/password-reset/confirm/", {"uid": "!!", "token": "x", "new_password": NEW_PASSWORD}, format="json"
    )
    assert bogus.status_code == 400 and bogus.json()["code"] == "token_invalid"


def test_schema_generates(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/me/",
        "/api/v1/me/phone/verify/",
        "/api/v1/auth/password-reset/confirm/",
    ):
        assert path in text


def test_expired_password_reset_link_is_refused(api, user):
    from datetime import datetime, timedelta
    from unittest import mock

    from django.conf import settings
    from django.contrib.auth.tokens import (
        PasswordResetTokenGenerator,
        default_token_generator,
    )
    from django.utils.http import urlsafe_base64_encode

    long_ago = datetime.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
    with mock.patch.object(PasswordResetTokenGenerator, "_now", return_value=long_ago):
        token = default_token_generator.make_token(user)
    uid = urlsafe_base64_encode(str(user.pk).encode())
    response = api.post(
        "/api/v1/auth/password-reset/confirm/",
        {"uid": uid, "token": token, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 400 and response.json()["code"] == "token_invalid"
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_reset_api_is_throttled_per_address(api, user):
    assert api.post("/api/v1/auth/password-reset/", {"email": user.email}, format="json").status_code == 202
    again = api.post("/api/v1/auth/password-reset/", {"email": user.email}, format="json")
    assert again.status_code == 429 and again.json()["code"] == "throttled"
    assert len(mail.outbox) == 1
