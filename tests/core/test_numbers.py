"""Property tests for core.numbers, the one home for reading amounts, quantities and ids (issue #13 item 12).

Hypothesis throws what an attacker would at every parser the shop has: Unicode digits of every script
("²", "٣٠٠٠٠٠", full-width, mathematical), numbers past any column, floats, booleans, exponents, signs,
spaces, lists and objects. Each parser must refuse them the way its edge refuses (a form error, a
serializer error, a 400 domain error), never raise anything else, and read ASCII digits exactly. Then the
same values go over HTTP to the API and the pages, which must answer 4xx and write nothing."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bidcart.auctions import api as auction_api
from bidcart.auctions import forms as auction_forms
from bidcart.auctions import services as auction_services
from bidcart.auctions.models import Bid
from bidcart.cart import api as cart_api
from bidcart.cart.models import CartItem
from bidcart.catalog import forms as catalog_forms
from bidcart.catalog.filters import ProductFilter
from bidcart.catalog.models import Product, Variant
from bidcart.core import numbers
from bidcart.core.domain import DomainError
from bidcart.core.errors import http_status
from bidcart.core.forms import WholeNumberFormField
from bidcart.core.serializers import AmountField, IdField, WholeNumberField
from bidcart.payments import admin as payment_admin
from bidcart.payments import api as payment_api
from bidcart.reviews import api as review_api
from tests.auctions.factories import bidder, make_lot
from tests.factories import api_for, make_product, make_user

# A digit of some other script: what str.isdigit()/int() accept and the shop must not.
FOREIGN_DIGITS = st.characters(categories=["Nd", "No"], exclude_characters="0123456789")
# Strings that hold at least one non-ASCII digit.
FOREIGN_NUMBERS = st.builds(
    lambda a, d, b: a + d + b,
    st.from_regex(r"[0-9]{0,6}", fullmatch=True),
    FOREIGN_DIGITS,
    st.from_regex(r"[0-9]{0,6}", fullmatch=True),
)
TOO_BIG = st.integers(min_value=numbers.MAX_BIGINT + 1, max_value=10**60)
HOSTILE = st.one_of(
    FOREIGN_NUMBERS,
    TOO_BIG,
    TOO_BIG.map(str),
    st.integers(max_value=-1),
    st.integers(max_value=-1).map(str),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.booleans(),
    st.none(),
    st.sampled_from(["", " ", "1e3", "0x10", "1_000", "+5", "1.0", "5,000", "１２", "²", "٣٠٠٠٠٠", "NaN", "∞", "1 2"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.text(max_size=30).filter(lambda s: not s.strip(" \t\r\n").isascii() or not s.strip(" \t\r\n").isdigit()),
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- the core rule ---------------------------------------------------------------------------------------


@FAST
@given(HOSTILE)
def test_parse_int_refuses_anything_but_ascii_digits_in_range_and_raises_nothing_else(value):
    try:
        result = numbers.parse_amount(value)
    except numbers.InvalidNumber:
        return
    # the only things let through: a real int in range, or an ASCII-digit string of one
    assert isinstance(result, int) and not isinstance(result, bool) and 1 <= result <= numbers.MAX_AMOUNT
    assert value == result or (isinstance(value, str) and value.strip(" \t\r\n") == str(result))


@FAST
@given(FOREIGN_NUMBERS)
def test_no_unicode_digit_is_ever_read_as_a_number(text):
    with pytest.raises(numbers.InvalidNumber):
        numbers.parse_int(text)


@FAST
@given(st.integers(min_value=1, max_value=numbers.MAX_AMOUNT), st.sampled_from(["", " ", "\t"]))
def test_ascii_digits_in_range_are_read_exactly(n, pad):
    assert numbers.parse_amount(f"{pad}{n}{pad}") == n == numbers.parse_amount(n)


@FAST
@given(st.integers(min_value=numbers.MAX_AMOUNT + 1, max_value=10**40))
def test_past_the_limit_is_refused_as_too_big_whatever_its_length(n):
    with pytest.raises(numbers.InvalidNumber) as refused:
        numbers.parse_amount(str(n))
    assert refused.value.code == "max_value"


# --- every parser the shop has, at its own edge -----------------------------------------------------------


def _serializer(cls, field, base=None):
    """The field as the serializer declares it (the rest of a valid body is another test's business)."""
    return _field(cls().fields[field])


def _form(cls, field, base=None):
    def parse(value):
        form = cls(data={**(base or {}), field: value if isinstance(value, str) else repr(value)})
        form.is_valid()
        return None if field in form.errors else form.cleaned_data.get(field)

    return parse


def _field(field):
    def parse(value):
        try:
            return field.run_validation(value)
        except Exception as error:  # DRF's ValidationError; anything else fails the test below
            from rest_framework.exceptions import ValidationError

            assert isinstance(error, ValidationError), repr(error)
            return None

    return parse


def _form_field(field):
    def parse(value):
        from django.core.exceptions import ValidationError

        try:
            return field.clean(value if isinstance(value, str) else repr(value))
        except ValidationError:
            return None

    return parse


def _domain(func):
    def parse(value):
        try:
            return func(value)
        except DomainError as error:
            assert http_status(error) == 400, error.code
            return None

    return parse


def _filter(field):
    def parse(value):
        f = ProductFilter({field: value if isinstance(value, str) else repr(value)}, queryset=Product.objects.all())
        return f.form.cleaned_data.get(field) if f.is_valid() else None

    return parse


VARIANT = {"sku": "X-1", "price": "1000", "stock": "1"}
STOCK = {"variant": "1", "expected": "0", "stock": "1"}
LOT = {"title": "t", "start_price": "1000", "duration": "60", "soft_close_seconds": "0"}

PARSERS = {
    "AmountField": _field(AmountField()),
    "IdField": _field(IdField()),
    "WholeNumberField": _field(WholeNumberField(min_value=0)),
    "WholeNumberFormField": _form_field(WholeNumberFormField(min_value=0)),
    "auctions.services.parse_amount (API, page and live room bids)": _domain(auction_services.parse_amount),
    "auctions api BidSerializer.max_amount": _serializer(auction_api.BidSerializer, "max_amount"),
    "auctions api LotCreateSerializer.start_price": _serializer(auction_api.LotCreateSerializer, "start_price"),
    "auctions api LotFilter.seller": lambda v: (lambda f: f.form.cleaned_data.get("seller") if f.is_valid() else None)(
        auction_api.LotFilter({"seller": v if isinstance(v, str) else repr(v)})
    ),
    "auctions LotForm.start_price": _form(auction_forms.LotForm, "start_price", LOT),
    "auctions LotForm.buy_now_price": _form(auction_forms.LotForm, "buy_now_price", LOT),
    "cart api AddItemSerializer.variant": _serializer(cart_api.AddItemSerializer, "variant"),
    "cart api AddItemSerializer.quantity": _serializer(cart_api.AddItemSerializer, "quantity", {"variant": 1}),
    "cart api QuantitySerializer.quantity": _serializer(cart_api.QuantitySerializer, "quantity"),
    "catalog VariantForm.price": _form(catalog_forms.VariantForm, "price", VARIANT),
    "catalog VariantForm.stock": _form(catalog_forms.VariantForm, "stock", VARIANT),
    "catalog StockForm.stock": _form(catalog_forms.StockForm, "stock", STOCK),
    "catalog StockForm.variant": _form(catalog_forms.StockForm, "variant", STOCK),
    "catalog ProductFilter.seller": _filter("seller"),
    "catalog ProductFilter.min_price": _filter("min_price"),
    "payments api RefundRequestSerializer.amount": _serializer(
        payment_api.RefundRequestSerializer, "amount", {"reason": "r"}
    ),
    "payments admin RefundForm.amount": _form(payment_admin.RefundForm, "amount", {"reason": "r"}),
    "reviews api WriteSerializer.rating": _serializer(review_api.WriteSerializer, "rating"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PARSERS))
def test_every_amount_and_id_parser_refuses_hostile_values_and_reads_ascii_digits(name):
    parse = PARSERS[name]

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(HOSTILE)
    def refuses(value):
        result = parse(value)
        if result is not None:  # let through: only a real in-range int, never a Unicode-digit string
            assert isinstance(result, int) and not isinstance(result, bool), (value, result)
            assert not isinstance(value, str) or value.strip(" \t\r\n").lstrip("-").isascii(), (value, result)
            assert abs(result) <= numbers.MAX_BIGINT

    refuses()
    assert parse("5") == 5  # and ASCII digits are read


# --- over HTTP: 4xx, never a 500, never a write ----------------------------------------------------------


@pytest.mark.django_db
def test_hostile_numbers_over_http_get_a_4xx_and_write_nothing():
    lot = make_lot(start=10_000)
    product = make_product(seller=make_user(seller=True), price=1000, stock=5)
    variant = product.variants.get()
    user = bidder()
    api = api_for(user)
    browser = Client()
    browser.force_login(user)
    seller_page = Client()
    seller_page.force_login(product.seller)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(HOSTILE)
    def over_http(value):
        text = value if isinstance(value, str) else repr(value)
        answers = [
            api.post(f"/api/v1/lots/{lot.pk}/bids/", {"max_amount": value}, format="json"),
            api.post("/api/v1/cart/items/", {"variant": value}, format="json"),
            api.post("/api/v1/cart/items/", {"variant": variant.pk, "quantity": value}, format="json"),
            api.get("/api/v1/lots/", {"seller": text}),
            api.get("/api/v1/products/", {"seller": text, "min_price": text}),
        ]
        for response in answers:
            assert 400 <= response.status_code < 500 or (
                response.status_code == 200 and response.request["REQUEST_METHOD"] == "GET"
            ), (value, response.status_code, response.content[:200])
            if response.status_code >= 400:
                assert isinstance(response.json().get("code"), str)
        pages = [
            browser.post(f"/auctions/{lot.pk}/bid/", {"max_amount": text}),
            browser.post("/cart/add/", {"variant": text, "quantity": "1"}),
            browser.post(
                "/cart/add/", {"variant": str(variant.pk), "quantity": text or "x"}
            ),  # no quantity at all means 1
            seller_page.post(
                f"/seller/products/{product.pk}/", {"action": "variant", "sku": "H-1", "price": text, "stock": "1"}
            ),
            seller_page.post(
                f"/seller/products/{product.pk}/", {"action": "stock", "variant": text, "expected": "5", "stock": "1"}
            ),
            seller_page.post(f"/seller/products/{product.pk}/", {"action": "image_delete", "image": text}),
        ]
        for response in pages:
            assert response.status_code in (302, 400, 404), (value, response.status_code)
        assert not Bid.objects.filter(lot=lot).exists()
        assert not CartItem.objects.exists()
        assert list(Variant.objects.filter(product=product).values_list("stock", flat=True)) == [5]

    over_http()
