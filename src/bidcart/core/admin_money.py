"""Amounts in the admin as people read them ("127,000원", "$19.29"), not minor-unit integers (127000)."""

from django.contrib import admin

from .money import format_money


def money_column(field: str, description: str, currency: str | None = "currency"):
    """A list_display column showing `field` formatted in the row's currency (its `currency` attribute, or
    `currency` as a path like "lot.currency"), sortable by the field."""

    def column(obj):
        code = obj
        for part in (currency or "").split("."):
            code = getattr(code, part, None) if part else None
        return format_money(getattr(obj, field), code or "KRW")

    column.__name__ = f"{field}_formatted"
    return admin.display(description=description, ordering=field)(column)
