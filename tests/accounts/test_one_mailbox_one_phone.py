"""One mailbox, one account; one verified phone number, one account (issue #13 item 13).

A full-width domain (buyer@ｅｘａｍｐｌｅ.com) or a soft hyphen in the domain signed up as new accounts whose
mail went to buyer@example.com. Addresses are now stored in one canonical form (NFKC, IDNA, lowercase) and
invisible characters are refused; a phone number verified on one account cannot verify another."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from bidcart.accounts import emails, services, sms
from bidcart.accounts.models import User
from bidcart.core.errors import http_status

from .conftest import AGREED, AGREED_FORM, PASSWORD, last_sms_code

pytestmark = pytest.mark.django_db

SOFT_HYPHEN, ZERO_WIDTH_SPACE, ZERO_WIDTH_JOINER, BOM = "\u00ad", "\u200b", "\u200d", "\ufeff"


def signup_api(api, email):
    return api.post(
        "/api/v1/auth/signup/",
        {"email": email, "display_name": "누군가", "password": PASSWORD, "consents": AGREED},
        format="json",
    )


@pytest.mark.parametrize(
    "twin",
    [
        "buyer@ｅｘａｍｐｌｅ.com",  # full-width domain
        "ｂｕｙｅｒ@example.com",  # full-width local part
        "BUYER@EXAMPLE.COM",
        "buyer@EXAMPLE.com",
        " buyer@example.com ",
        "buyer@example.com.",  # IDNA drops nothing here: a trailing dot is a different (invalid) name
    ],
)
def test_a_second_spelling_of_an_existing_mailbox_cannot_sign_up(api, make_user, twin):
    make_user("buyer@example.com")
    response = signup_api(api, twin)
    assert response.status_code in (400, 409), response.content
    assert response.json()["code"] in ("email_taken", "invalid", "email_invalid")
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "address",
    [
        f"buyer@exam{SOFT_HYPHEN}ple.com",
        f"buy{ZERO_WIDTH_SPACE}er@example.com",
        f"buyer@exa{ZERO_WIDTH_JOINER}mple.com",
        f"{BOM}buyer@example.com",
        "buyer@exam\u2060ple.com",  # word joiner
        "buyer\u3164@example.com",  # Hangul filler
    ],
)
def test_invisible_characters_are_refused_with_a_clear_reason(api, address):
    response = signup_api(api, address)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] in ("email_invisible_characters", "invalid"), body
    assert not User.objects.exists()


def test_the_signup_page_refuses_a_soft_hyphen_and_says_why(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": f"buyer@exam{SOFT_HYPHEN}ple.com",
            "display_name": "누군가",
            "password1": PASSWORD,
            "password2": PASSWORD,
            **AGREED_FORM,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200 or response.status_code == 400
    assert "invisible characters" in response.content.decode()
    assert not User.objects.exists()


def test_the_signup_page_says_a_full_width_twin_is_taken(client, make_user):
    make_user("buyer@example.com")
    response = client.post(
        "/accounts/signup/",
        {
            "email": "buyer@ｅｘａｍｐｌｅ.com",
            "display_name": "누군가",
            "password1": PASSWORD,
            "password2": PASSWORD,
            **AGREED_FORM,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1


def test_addresses_are_stored_canonical_and_found_by_any_spelling(api, make_user):
    assert signup_api(api, "Kim.Min@ＥＸＡＭＰＬＥ.com").status_code == 201
    assert User.objects.get().email == "kim.min@example.com"
    user = make_user("lee@example.com")
    token = api.post("/api/v1/auth/token/", {"email": "LEE@ｅｘａｍｐｌｅ.com", "password": PASSWORD}, format="json")
    assert token.status_code == 200, token.content
    assert User.objects.get_by_natural_key("Lee@Example.COM") == user


def test_international_domains_are_kept_readable_and_one_mailbox():
    assert emails.normalize_email("Kim@테스트.한국") == "kim@테스트.한국"
    assert emails.normalize_email("kim@xn--9t4b11yi5a.xn--3e0b707e") == "kim@테스트.한국"  # the same domain in punycode
    with pytest.raises(emails.InvalidEmail):
        emails.normalize_email("kim@exa mple.com")


def test_the_admin_form_stores_the_canonical_form_too(make_user):
    user = make_user("kim@example.com")
    user.email = "KIM2@ｅｘａｍｐｌｅ.com"
    user.full_clean(exclude=["password"])
    assert user.email == "kim2@example.com"


# --- one verified phone, one account -----------------------------------------------------------------


def test_a_number_verified_on_one_account_cannot_verify_another(make_user):
    first = make_user("a@example.com", phone="+821012345678", phone_verified=True)
    second = make_user("b@example.com", phone="+821012345678")  # typing it is allowed; verifying it is not
    with pytest.raises(services.DomainError) as refused:
        services.request_phone_code(second)
    assert refused.value.code == "phone_taken" and http_status(refused.value) == 409
    assert not sms.outbox  # no text paid for
    second.refresh_from_db()
    assert not second.phone_verified and first.phone_verified


def test_the_api_answers_phone_taken_in_words(make_user, login_api):
    make_user("a@example.com", phone="+821012345678", phone_verified=True)
    second = make_user("b@example.com", phone="+821012345678")
    response = login_api(second).post("/api/v1/me/phone/code/", {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "phone_taken"
    assert "another account" in response.json()["detail"] or "다른 계정" in response.json()["detail"]


def test_whoever_verifies_second_is_refused_even_with_a_right_code(make_user):
    a = make_user("a@example.com", phone="+821012345678")
    b = make_user("b@example.com", phone="+821012345678")
    services.request_phone_code(a)
    code_a = last_sms_code()
    services.request_phone_code(b)
    code_b = last_sms_code()
    services.verify_phone_code(a, code_a)
    with pytest.raises(services.DomainError) as refused:
        services.verify_phone_code(b, code_b)
    assert refused.value.code == "phone_taken"
    b.refresh_from_db()
    assert not b.phone_verified


def test_the_database_holds_the_rule_when_the_service_is_bypassed(make_user):
    make_user("a@example.com", phone="+821012345678", phone_verified=True)
    b = make_user("b@example.com", phone="+821012345678")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=b.pk).update(phone_verified_at=timezone.now())
    make_user("c@example.com", phone="+821099999999", phone_verified=True)  # other numbers are unaffected
    make_user("d@example.com", phone="", phone_verified=True)  # and "no number" is nobody's


@pytest.mark.django_db(transaction=True)
def test_the_migration_brings_existing_rows_under_the_rules():
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0001_initial")])
    old = executor.loader.project_state([("accounts", "0001_initial")]).apps.get_model("accounts", "User")
    now = timezone.now()
    earlier = now - timezone.timedelta(days=3)
    row = dict(password="x", display_name="x", is_active=True, date_joined=now, language="ko")
    first = old.objects.create(email="kept@example.com", phone="+821011112222", phone_verified_at=earlier, **row)
    dupe = old.objects.create(email="dupe@example.com", phone="+821011112222", phone_verified_at=now, **row)
    wide = old.objects.create(email="wide@ｅｘａｍｐｌｅ.com", **row)
    twin = old.objects.create(
        email="kept@ｅｘａｍｐｌｅ.com", **row
    )  # its canonical form is taken: left for an operator
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert User.objects.get(pk=first.pk).phone_verified_at is not None
    assert User.objects.get(pk=dupe.pk).phone_verified_at is None
    assert User.objects.get(pk=wide.pk).email == "wide@example.com"
    assert User.objects.get(pk=twin.pk).email == "kept@ｅｘａｍｐｌｅ.com"
