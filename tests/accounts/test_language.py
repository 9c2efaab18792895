import pytest

from bidcart.accounts.models import User

pytestmark = pytest.mark.django_db


def test_the_language_switch_is_kept_for_a_logged_in_users_emails(client):
    user = User.objects.create_user("lee@example.com", "pw-long-enough-1", display_name="lee", is_active=True)
    client.force_login(user)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    user.refresh_from_db()
    assert user.language == "en"
    assert "Shop, bid and pay" in client.get("/").content.decode()


def test_a_visitor_switches_language_by_cookie_only(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.cookies["django_language"].value == "en"
    korean = client.post("/i18n/setlang/", {"language": "ko", "next": "/"})
    assert korean.cookies["django_language"].value == "ko"
    assert "쇼핑, 입찰, 결제 — 제대로." in client.get("/").content.decode()


def test_an_unknown_language_changes_nothing(client):
    user = User.objects.create_user("park@example.com", "pw-long-enough-1", display_name="park", is_active=True)
    client.force_login(user)
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    user.refresh_from_db()
    assert user.language == "ko"
