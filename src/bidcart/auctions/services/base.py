"""What every auction write shares: which lots are open, the lot lock, after-commit hooks, bidder aliases."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from bidcart.core.domain import Forbidden, NotFound
from bidcart.core.locks import claim, locked

from ..models import BidderAlias, Lot

OPEN = (Lot.Status.SCHEDULED, Lot.Status.LIVE)


def _no_such_lot() -> NotFound:
    return NotFound(_("No such lot."), code="not_found")


def _lock(lot_id, *, skip_locked: bool = False, **filters) -> Lot | None:
    """The lot row, locked for this transaction (`skip_locked`: None when another transaction holds it, for
    sweeps); None when no lot matches `filters`."""
    qs = Lot.objects.filter(pk=lot_id, **filters)
    return (claim(qs) if skip_locked else locked(qs)).first()


def _after_commit(func) -> None:
    """Run `func` after commit; an exception there is logged, never raised into the committed write."""
    transaction.on_commit(func, robust=True)


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
        raise Forbidden(_("Only staff can moderate the chat."), code="not_staff")
