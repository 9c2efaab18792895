"""Phone verification by SMS code: 6 digits, hashed, 3-minute expiry, 5 tries, throttled resend."""

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone

from bidcart.accounts import services, sms
from bidcart.accounts.models import PhoneCode
from bidcart.core.errors import http_status

from .conftest import last_sms_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone_user(make_user):
    return make_user(phone="+821012345678", language="ko")


def test_code_is_six_digits_sent_in_users_language_and_stored_hashed(phone_user):
    phone_code = services.request_phone_code(phone_user)
    assert sms.outbox[-1]["to"] == "+821012345678"
    assert "인증번호" in sms.outbox[-1]["text"]
    code = last_sms_code()
    assert len(code) == 6 and code.isdigit()
    assert code not in phone_code.code_hash and len(phone_code.code_hash) == 64
    assert (
        (phone_code.expires_at - phone_code.created_at)
        == timedelta(seconds=settings.OTP_TTL_SECONDS)
        == timedelta(minutes=3)
    )
    services.verify_phone_code(phone_user, code)
    phone_user.refresh_from_db()
    assert phone_user.phone_verified


def test_code_works_only_once(phone_user):
    services.request_phone_code(phone_user)
    code = last_sms_code()
    services.verify_phone_code(phone_user, code)
    with pytest.raises(services.DomainError) as err:
        services.verify_phone_code(phone_user, code)
    assert err.value.code == "otp_missing"


def test_expired_code_is_refused(phone_user):
    phone_code = services.request_phone_code(phone_user)
    code = last_sms_code()
    later = phone_code.expires_at + timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        with pytest.raises(services.DomainError) as err:
            services.verify_phone_code(phone_user, code)
    assert err.value.code == "otp_expired"
    phone_user.refresh_from_db()
    assert not phone_user.phone_verified


def test_five_wrong_tries_kill_the_code(phone_user):
    services.request_phone_code(phone_user)
    code = last_sms_code()
    wrong = "000000" if code != "000000" else "111111"
    codes = []
    for _ in range(settings.OTP_MAX_ATTEMPTS):
        with pytest.raises(services.DomainError) as err:
            services.verify_phone_code(phone_user, wrong)
        codes.append(err.value.code)
    assert codes == ["otp_invalid"] * 4 + ["otp_too_many_attempts"]
    assert PhoneCode.objects.get().attempts == 5  # every try was counted even though each raised
    with pytest.raises(services.DomainError) as err:
        services.verify_phone_code(phone_user, code)  # even the right code is dead now
    assert err.value.code == "otp_too_many_attempts" and http_status(err.value) == 429
    phone_user.refresh_from_db()
    assert not phone_user.phone_verified


def test_resend_is_throttled_then_a_new_code_replaces_the_old(phone_user):
    first = services.request_phone_code(phone_user)
    old_code = last_sms_code()
    with pytest.raises(services.DomainError) as err:
        services.request_phone_code(phone_user)
    assert err.value.code == "otp_throttled" and http_status(err.value) == 429
    assert f"{settings.OTP_RESEND_SECONDS} seconds" in err.value.detail or "초" in err.value.detail
    assert len(sms.outbox) == 1
    # move the first code back in time past the resend window
    PhoneCode.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.OTP_RESEND_SECONDS + 1)
    )
    services.request_phone_code(phone_user)
    new_code = last_sms_code()
    if new_code != old_code:
        with pytest.raises(services.DomainError):
            services.verify_phone_code(phone_user, old_code)
    services.verify_phone_code(phone_user, new_code)
    phone_user.refresh_from_db()
    assert phone_user.phone_verified


def test_changing_phone_voids_pending_code(phone_user):
    services.request_phone_code(phone_user)
    code = last_sms_code()
    user = services.update_profile(phone_user, phone="+821099998888")
    with pytest.raises(services.DomainError) as err:
        services.verify_phone_code(user, code)
    assert err.value.code == "otp_missing"


def test_request_without_phone_or_already_verified(make_user):
    with pytest.raises(services.DomainError) as err:
        services.request_phone_code(make_user("nophone@example.com"))
    assert err.value.code == "phone_missing"
    with pytest.raises(services.DomainError) as err:
        services.request_phone_code(make_user("done@example.com", phone="+821011112222", phone_verified=True))
    assert err.value.code == "phone_already_verified"


def test_sms_failure_is_a_clear_503_and_does_not_block_retry(phone_user, settings):
    settings.SMS_BACKEND = "tests.accounts.test_phone.BrokenSMSBackend"
    with pytest.raises(services.DomainError) as err:
        services.request_phone_code(phone_user)
    assert err.value.code == "sms_unavailable" and http_status(err.value) == 503
    assert not PhoneCode.objects.exists()
    settings.SMS_BACKEND = "bidcart.accounts.sms.ConsoleSMSBackend"
    services.request_phone_code(phone_user)  # not throttled by the failed attempt


class BrokenSMSBackend(sms.BaseSMSBackend):
    def send(self, to, text):
        raise sms.SMSError("provider down")


# --- pages -----------------------------------------------------------------------------------------


def test_phone_pages_request_and_verify(client, phone_user):
    client.force_login(phone_user)
    page = client.get("/accounts/phone/")
    assert 'data-testid="phone-send-form"' in page.content.decode()
    sent = client.post("/accounts/phone/", {"action": "send"}, follow=True)
    assert "010-1234-5678" in sent.content.decode()
    throttled = client.post("/accounts/phone/", {"action": "send"}, HTTP_ACCEPT_LANGUAGE="en")
    assert throttled.status_code == 429 and "Please wait" in throttled.content.decode()
    assert 'data-testid="phone-send-error"' in throttled.content.decode()
    wrong_code = "000000" if last_sms_code() != "000000" else "111111"
    wrong = client.post("/accounts/phone/", {"action": "verify", "code": wrong_code}, HTTP_ACCEPT_LANGUAGE="en")
    assert wrong.status_code == 400 and 'data-testid="form-errors"' in wrong.content.decode()
    assert "4 tries left" in wrong.content.decode()
    malformed = client.post("/accounts/phone/", {"action": "verify", "code": "12ab"})
    assert malformed.status_code == 400 and 'data-testid="error-code"' in malformed.content.decode()
    ok = client.post("/accounts/phone/", {"action": "verify", "code": last_sms_code()})
    assert ok.status_code == 302 and ok.url == "/accounts/profile/"
    assert 'data-testid="phone-verified"' in client.get("/accounts/profile/").content.decode()


def test_phone_page_without_phone_points_to_profile(client, user):
    client.force_login(user)
    assert 'data-testid="phone-missing"' in client.get("/accounts/phone/").content.decode()
    response = client.post("/accounts/phone/", {"action": "send"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Add a phone number to your profile first." in response.content.decode()
    assert not sms.outbox


# --- API -------------------------------------------------------------------------------------------


def test_phone_api_flow(login_api, phone_user):
    client = login_api(phone_user)
    sent = client.post("/api/v1/me/phone/code/")
    assert sent.status_code == 202 and sent.json()["resend_after_seconds"] == settings.OTP_RESEND_SECONDS
    throttled = client.post("/api/v1/me/phone/code/")
    assert throttled.status_code == 429 and throttled.json()["code"] == "otp_throttled"
    assert client.post("/api/v1/me/phone/code/", {"phone": "+821000000000"}, format="json").status_code == 400
    bad = client.post("/api/v1/me/phone/verify/", {"code": "12345"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    extra = client.post("/api/v1/me/phone/verify/", {"code": "123456", "user": 1}, format="json")
    assert extra.status_code == 400 and extra.json()["errors"]["user"][0]["code"] == "unknown_field"
    wrong_code = "000000" if last_sms_code() != "000000" else "111111"
    wrong = client.post("/api/v1/me/phone/verify/", {"code": wrong_code}, format="json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "otp_invalid"
    ok = client.post("/api/v1/me/phone/verify/", {"code": last_sms_code()}, format="json")
    assert ok.status_code == 200 and ok.json()["phone_verified"] is True


def test_phone_api_expired(login_api, phone_user):
    client = login_api(phone_user)
    client.post("/api/v1/me/phone/code/")
    PhoneCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post("/api/v1/me/phone/verify/", {"code": last_sms_code()}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "otp_expired"


def test_console_backend_prints_the_message(capsys):
    sms.ConsoleSMSBackend().send("+821012345678", "hello 123456")
    assert "[sms] to +821012345678: hello 123456" in capsys.readouterr().out
    assert sms.outbox[-1] == {"to": "+821012345678", "text": "hello 123456"}
