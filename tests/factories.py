"""Builders shared by the tests of every app: users, categories, products, pictures, API clients, and the store
fixtures each test folder's conftest exposes."""

import io
import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from bidcart.accounts.models import User
from bidcart.catalog.models import Category, Product, Variant

PASSWORD = "store-test-password-42"
# a shipping address in Seoul, as a buyer types it at checkout
ADDRESS = {
    "recipient": "김구매",
    "phone": "010-1234-5678",
    "postcode": "06236",
    "address1": "서울 강남구 테헤란로 152",
    "address2": "12층",
}
_seq = itertools.count(1)


def make_user(email=None, *, seller=False, staff=False, language="ko", **extra) -> User:
    email = email or f"user{next(_seq)}@example.com"
    return User.objects.create_user(
        email,
        PASSWORD,
        display_name=extra.pop("display_name", email.split("@")[0]),
        is_seller=seller,
        is_staff=staff,
        is_active=True,
        email_verified_at=timezone.now(),
        language=language,
        **extra,
    )


def make_category(name="Things", slug=None, parent=None) -> Category:
    return Category.objects.create(name=name, slug=slug or f"cat-{next(_seq)}", parent=parent)


def make_product(
    seller=None, category=None, *, name="Product", price=10000, stock=5, variants=None, **extra
) -> Product:
    n = next(_seq)
    seller = seller or make_user(seller=True)
    category = category or make_category()
    product = Product.objects.create(
        seller=seller, category=category, name=name, slug=extra.pop("slug", f"p-{n}"), base_price=price, **extra
    )
    for i, (attributes, vprice, vstock) in enumerate(variants if variants is not None else [({}, price, stock)]):
        Variant.objects.create(
            product=product, sku=f"SKU-{n}-{i}", attributes=attributes, price=vprice, stock=vstock, position=i
        )
    return product


def picture(name="photo.jpg", fmt="JPEG", size=(64, 48), colour=(200, 80, 40)) -> SimpleUploadedFile:
    """An upload holding a real image of that format."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    content_type = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}[fmt]
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


def api_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def store_fixtures():
    """The fixtures every store test folder uses (returned so each conftest can expose them)."""

    @pytest.fixture(autouse=True)
    def _fast_hasher(settings):
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    @pytest.fixture
    def seller(db):
        return make_user("seller1@example.com", seller=True)

    @pytest.fixture
    def buyer(db):
        return make_user("buyer1@example.com")

    @pytest.fixture
    def other(db):
        return make_user("other1@example.com")

    return _fast_hasher, seller, buyer, other
