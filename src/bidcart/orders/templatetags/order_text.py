"""An order's words for people: a status code ("pending_payment") as its label ("결제 대기")."""

from django import template

from ..models import Status

register = template.Library()


@register.filter
def status_label(value: str) -> str:
    try:
        return Status(value).label
    except ValueError:
        return value
