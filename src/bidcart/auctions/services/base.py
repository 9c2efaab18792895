"""What every auction write shares: the refusals, the lot lock, after-commit hooks, aliases, formatting."""

from __future__ import annotations


from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _
from rest_framework import status as http

from bidcart.core.money import format_money
from bidcart.core.errors import DomainError

from ..models import BidderAlias, Lot


OPEN = (Lot.Status.SCHEDULED, Lot.Status.LIVE)


class AuctionError(DomainError):
    status_code = http.HTTP_409_CONFLICT
    code = "auction_error"


def _error(code: str, detail: str, status_code: int = http.HTTP_409_CONFLICT) -> AuctionError:
    return AuctionError(detail, code=code, status_code=status_code)


def _not_found() -> AuctionError:
    return _error("not_found", _("No such lot."), http.HTTP_404_NOT_FOUND)


def _lock(lot_id, *, skip_locked: bool = False, **filters) -> Lot | None:
    qs = Lot.objects.filter(pk=lot_id, **filters)
    if connection.features.has_select_for_update:
        if skip_locked and connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        else:
            qs = qs.select_for_update()
    return qs.first()


def _after_commit(func) -> None:
    """Run `func` after commit; an exception there is logged, never raised into the committed write."""
    transaction.on_commit(func, robust=True)


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}" if getattr(settings, "SITE_URL", "") else path


def money(amount: int, currency: str) -> str:
    return format_money(amount, currency)


def _invalid(code: str, detail: str) -> AuctionError:
    return _error(code, detail, http.HTTP_400_BAD_REQUEST)


def _alias(lot: Lot, user) -> int:
    """The user's per-lot alias number; a new one takes the next number. The caller holds the lot lock
    and saves `alias_count`."""
    number = BidderAlias.objects.filter(lot=lot, user=user).values_list("number", flat=True).first()
    if number is None:
        lot.alias_count += 1
        number = lot.alias_count
        BidderAlias.objects.create(lot=lot, user=user, number=number)
    return number


def _require_staff(user) -> None:
    if not getattr(user, "is_staff", False):
        raise _error("not_staff", _("Only staff can moderate the chat."), http.HTTP_403_FORBIDDEN)
