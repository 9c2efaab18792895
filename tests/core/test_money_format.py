"""One formatter for amounts people read: core.money.format_money, used by the `money` filter and auctions."""

from django.template import Context, Template
from django.utils import translation

from bidcart.core import money


def test_won_reads_as_won_in_korean_and_with_the_symbol_in_english():
    assert money.format_money(1234500, "KRW", "ko") == "1,234,500원"
    assert money.format_money(1234500, "KRW", "en") == "₩1,234,500"


def test_minor_units_follow_the_currency_exponent_table():
    assert money.format_money(1929, "USD", "en") == "$19.29"
    assert money.format_money(1500, "JPY", "en") == "¥1,500"
    # one digits table: a currency only EXPONENTS knows about still gets its own minor units
    assert money.format_money(1234, "KWD", "en") == "1.234 KWD"
    assert money.format_money(50000, "VND", "en") == "50,000 VND"


def test_nothing_to_show_for_no_amount():
    assert money.format_money(None, "KRW", "ko") == ""


def test_the_template_filter_is_the_same_formatter_in_the_active_language():
    tpl = Template("{% load shop %}{{ amount|money:'KRW' }}")
    with translation.override("ko"):
        assert tpl.render(Context({"amount": 27000})) == "27,000원"
    with translation.override("en"):
        assert tpl.render(Context({"amount": 27000})) == "₩27,000"
