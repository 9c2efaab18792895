"""django-axes lockout on the page login, the real admin login and the token endpoint."""

import pytest
from django.conf import settings

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT


def test_page_login_locks_after_five_failures(client, user):
    for _ in range(LIMIT):
        response = client.post("/accounts/login/", {"email": user.email, "password": "wrong"})
        assert response.status_code in (400, 429)
    locked = client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert 'data-testid="locked-out"' in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_login_locks_after_five_failures(client, make_user):
    admin = make_user("boss@example.com", is_staff=True, is_superuser=True)
    url = f"/{settings.ADMIN_PATH}login/"
    for _ in range(LIMIT):
        assert client.post(url, {"username": admin.email, "password": "wrong"}).status_code in (200, 429)
    locked = client.post(url, {"username": admin.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_admin_login_works_before_lockout(client, make_user):
    admin = make_user("boss@example.com", is_staff=True, is_superuser=True)
    response = client.post(f"/{settings.ADMIN_PATH}login/", {"username": admin.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(f"/{settings.ADMIN_PATH}").status_code == 200


def test_token_endpoint_locks_after_five_failures(api, user):
    for _ in range(LIMIT):
        response = api.post("/api/v1/auth/token/", {"email": user.email, "password": "wrong"}, format="json")
        assert response.status_code in (401, 429)
    locked = api.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert "access" not in locked.json()


def test_success_resets_the_count(api, user):
    for _ in range(LIMIT - 1):
        api.post("/api/v1/auth/token/", {"email": user.email, "password": "wrong"}, format="json")
    assert (
        api.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json").status_code == 200
    )
    for _ in range(LIMIT - 1):
        api.post("/api/v1/auth/token/", {"email": user.email, "password": "wrong"}, format="json")
    assert (
        api.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json").status_code == 200
    )


def test_lockout_is_per_account_not_global(api, make_user):
    victim = make_user("victim@example.com")
    other = make_user("other@example.com")
    for _ in range(LIMIT):
        api.post("/api/v1/auth/token/", {"email": victim.email, "password": "wrong"}, format="json")
    assert (
        api.post("/api/v1/auth/token/", {"email": other.email, "password": PASSWORD}, format="json").status_code == 200
    )
