"""Rate limits on sign-up, login and phone codes, on the API and the pages alike: the call past the limit
is refused (429, `rate_limited`, Retry-After; a message on a page), and another address or user still
gets through. One count serves every entry point of an action."""

import pytest
from django.core import mail

from bidcart.accounts import sms

from .conftest import AGREED, AGREED_FORM, PASSWORD, last_sms_code

pytestmark = pytest.mark.django_db


def signup_api(api, n, ip):
    body = {"email": f"person{n}@example.com", "display_name": f"사람{n}", "password": PASSWORD, "consents": AGREED}
    return api.post("/api/v1/auth/signup/", body, format="json", REMOTE_ADDR=ip)


def signup_page(client, n, ip):
    body = {
        "email": f"page{n}@example.com",
        "display_name": f"사람{n}",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **AGREED_FORM,
    }
    return client.post("/accounts/signup/", body, REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="en")


def assert_rate_limited_api(response):
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "rate_limited" and int(response["Retry-After"]) >= 1
    assert response["Retry-After"] in response.json()["detail"]  # "…다시 시도해 주세요" says how long too


# --- sign-up -------------------------------------------------------------------------------------------


def test_signup_api_refuses_past_the_limit_per_address(api, settings):
    settings.RATE_LIMIT_SIGNUP = "3/h"
    assert [signup_api(api, n, "10.1.0.1").status_code for n in range(3)] == [201, 201, 201]
    refused = signup_api(api, 3, "10.1.0.1")
    assert_rate_limited_api(refused)
    assert 3500 <= int(refused["Retry-After"]) <= 3600
    assert "초 후에 다시 시도해 주세요" in refused.json()["detail"]  # in the site's language (Korean)
    assert len(mail.outbox) == 3  # nothing sent for the refused one
    assert signup_api(api, 4, "10.1.0.2").status_code == 201  # another address


def test_signup_page_and_api_share_one_count(client, api, settings):
    settings.RATE_LIMIT_SIGNUP = "2/h"
    assert signup_page(client, 0, "10.1.1.1").status_code == 302
    assert signup_api(api, 1, "10.1.1.1").status_code == 201
    page = signup_page(client, 2, "10.1.1.1")
    assert page.status_code == 429
    assert 'data-testid="form-errors"' in page.content.decode() and "Too many requests" in page.content.decode()
    assert_rate_limited_api(signup_api(api, 3, "10.1.1.1"))
    assert signup_page(client, 4, "10.1.1.2").status_code == 302


def test_the_address_behind_the_trusted_proxy_is_the_one_counted(api, settings):
    settings.RATE_LIMIT_SIGNUP = "1/h"
    settings.NUM_PROXIES = 1
    via_proxy = {"REMOTE_ADDR": "10.0.0.1"}
    assert (
        api.post(
            "/api/v1/auth/signup/",
            {"email": "a@example.com", "display_name": "a", "password": PASSWORD, "consents": AGREED},
            format="json",
            HTTP_X_FORWARDED_FOR="203.0.113.7",
            **via_proxy,
        ).status_code
        == 201
    )
    assert (
        api.post(
            "/api/v1/auth/signup/",
            {"email": "b@example.com", "display_name": "b", "password": PASSWORD, "consents": AGREED},
            format="json",
            HTTP_X_FORWARDED_FOR="203.0.113.8",
            **via_proxy,
        ).status_code
        == 201
    )
    again = api.post(
        "/api/v1/auth/signup/",
        {"email": "c@example.com", "display_name": "c", "password": PASSWORD, "consents": AGREED},
        format="json",
        HTTP_X_FORWARDED_FOR="203.0.113.7",
        **via_proxy,
    )
    assert_rate_limited_api(again)


# --- login ---------------------------------------------------------------------------------------------


def test_login_api_refuses_past_the_limit_per_address_even_with_the_right_password(api, user, settings):
    settings.RATE_LIMIT_LOGIN = "3/min"
    settings.AXES_FAILURE_LIMIT = 100  # the per-address limit, not the account lockout
    wrong = {"email": user.email, "password": "wrong-password"}
    assert [
        api.post("/api/v1/auth/token/", wrong, format="json", REMOTE_ADDR="10.2.0.1").status_code for _ in range(3)
    ] == [401, 401, 401]
    right = {"email": user.email, "password": PASSWORD}
    refused = api.post("/api/v1/auth/token/", right, format="json", REMOTE_ADDR="10.2.0.1")
    assert_rate_limited_api(refused)
    assert "access" not in refused.json()
    assert api.post("/api/v1/auth/token/", right, format="json", REMOTE_ADDR="10.2.0.2").status_code == 200


def test_login_page_shows_the_message_with_429(client, user, settings):
    settings.RATE_LIMIT_LOGIN = "2/min"
    for _ in range(2):
        assert (
            client.post(
                "/accounts/login/", {"email": user.email, "password": "nope"}, REMOTE_ADDR="10.2.1.1"
            ).status_code
            == 400
        )
    page = client.post(
        "/accounts/login/",
        {"email": user.email, "password": PASSWORD},
        REMOTE_ADDR="10.2.1.1",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code == 429
    assert 'data-testid="login-error"' in page.content.decode() and "Too many requests" in page.content.decode()
    assert "_auth_user_id" not in client.session
    ok = client.post("/accounts/login/", {"email": user.email, "password": PASSWORD}, REMOTE_ADDR="10.2.1.2")
    assert ok.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


def test_the_admin_login_counts_too_and_answers_a_page_not_a_500(client, make_user, settings):
    settings.RATE_LIMIT_LOGIN = "1/min"
    staff = make_user("staff@example.com", is_staff=True, is_superuser=True)
    url = f"/{settings.ADMIN_PATH}login/"
    assert (
        client.post("/accounts/login/", {"email": staff.email, "password": "nope"}, REMOTE_ADDR="10.2.2.1").status_code
        == 400
    )
    page = client.post(
        url, {"username": staff.email, "password": PASSWORD}, REMOTE_ADDR="10.2.2.1", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 429 and int(page["Retry-After"]) >= 1
    assert 'data-testid="rate-limited"' in page.content.decode() and "Too many requests" in page.content.decode()


# --- phone codes ---------------------------------------------------------------------------------------


@pytest.fixture
def phone_users(make_user):
    return [make_user(f"phone{i}@example.com", phone=f"+82101234{i:04d}") for i in range(2)]


def test_phone_codes_are_capped_per_user_on_the_api(login_api, phone_users, settings):
    settings.RATE_LIMIT_OTP = "2/h"
    settings.OTP_RESEND_SECONDS = 0  # the wait between two codes is its own rule (test_phone.py)
    client = login_api(phone_users[0])
    assert [client.post("/api/v1/me/phone/code/").status_code for _ in range(2)] == [202, 202]
    refused = client.post("/api/v1/me/phone/code/")
    assert_rate_limited_api(refused)
    assert len(sms.outbox) == 2
    assert login_api(phone_users[1]).post("/api/v1/me/phone/code/").status_code == 202  # another user


def test_phone_codes_page_and_api_share_the_cap(client, login_api, phone_users, settings):
    settings.RATE_LIMIT_OTP = "2/h"
    settings.OTP_RESEND_SECONDS = 0
    user = phone_users[0]
    assert login_api(user).post("/api/v1/me/phone/code/").status_code == 202
    client.force_login(user)
    assert client.post("/accounts/phone/", {"action": "send"}).status_code == 302
    page = client.post("/accounts/phone/", {"action": "send"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 429
    assert 'data-testid="phone-send-error"' in page.content.decode() and "Too many requests" in page.content.decode()
    code = last_sms_code()  # the codes already sent still work
    assert client.post("/accounts/phone/", {"action": "verify", "code": code}).status_code == 302


# --- emails asked for (verification again, password reset) -----------------------------------------------


def test_one_address_asking_for_emails_to_many_people_is_refused_page_and_api_alike(api, client, settings):
    settings.RATE_LIMIT_EMAIL = "3/h"
    ip = {"REMOTE_ADDR": "10.3.0.1"}
    asked = [
        api.post("/api/v1/auth/password-reset/", {"email": "a@example.com"}, format="json", **ip),
        api.post("/api/v1/auth/resend-verification/", {"email": "b@example.com"}, format="json", **ip),
        client.post("/accounts/password/reset/", {"email": "c@example.com"}, **ip),
    ]
    assert [r.status_code for r in asked] == [202, 202, 302]
    assert_rate_limited_api(api.post("/api/v1/auth/password-reset/", {"email": "d@example.com"}, format="json", **ip))
    page = client.post("/accounts/password/reset/", {"email": "e@example.com"}, HTTP_ACCEPT_LANGUAGE="en", **ip)
    assert page.status_code == 429 and "Too many requests" in page.content.decode()
    other = api.post("/api/v1/auth/password-reset/", {"email": "d@example.com"}, format="json", REMOTE_ADDR="10.3.0.2")
    assert other.status_code == 202  # another client is not held back
