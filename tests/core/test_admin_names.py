"""The admin speaks Korean to Korean staff: every app and model on its index is named in Korean, with no
English left over and no English plural "s" glued to a Korean word ("허니팟 접근 시도s")."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import make_user

pytestmark = pytest.mark.django_db

HANGUL = re.compile(r"[가-힣]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")  # "IP" (차단된 IP) is how Koreans write it too


def names_on_the_index(client, language: str) -> tuple[list[str], list[str]]:
    staff = make_user(staff=True, language=language, is_superuser=True)
    client.force_login(staff)
    html = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    apps = [name.strip() for name in re.findall(r"<caption>\s*<a [^>]*>([^<]+)</a>", html)]
    models = [
        name.strip() for name in re.findall(r'<th scope="row" id="[^"]+">\s*<a href="[^"]*"[^>]*>([^<]+)</a>', html)
    ]
    return apps, models


def test_the_admin_index_in_korean_names_every_app_and_model_in_korean(client):
    apps, models = names_on_the_index(client, "ko")
    assert len(models) == len(admin.site._registry)  # every registered model was read off the page
    assert len(apps) == len({model._meta.app_label for model in admin.site._registry})
    english = [name for name in apps + models if not HANGUL.search(name) or ENGLISH_WORD.search(name)]
    assert english == []
    assert [name for name in apps + models if re.search(r"[가-힣]s\b", name)] == []
    assert "허니팟 접근 시도" in models and "결제" in models and "입찰" in models and "장바구니" in models


def test_the_admin_index_in_english_keeps_english_plurals(client):
    _apps, models = names_on_the_index(client, "en")
    assert "Honeypot attempts" in models and "Webhook deliveries" in models and "Second chance offers" in models
