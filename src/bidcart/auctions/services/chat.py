"""The live room's chat and its moderation: posting, reporting, hiding, muting."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bidcart.core import numbers, ratelimit
from bidcart.core.domain import Conflict, Forbidden, Invalid, NotAuthenticated, NotFound

from .. import conf, live, protocol, selectors
from ..models import ChatMessage, ChatMute, ChatReport, Lot
from .base import OPEN, _after_commit, _alias, _lock, _no_such_lot, _require_staff


def post_message(user, lot_id: int, text) -> ChatMessage:
    """A chat line in the lot's room, from a logged-in user who isn't muted there, within the length and
    rate limits, while the lot is open."""
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("Log in to chat."), code="not_authenticated")
    text = " ".join(str(text or "").split()) if not isinstance(text, (dict, list)) else ""
    limit = int(conf.get("AUCTION_CHAT_MAX_LENGTH"))
    if not text:
        raise Invalid(_("Write a message first."), code="message_empty")
    if len(text) > limit:
        raise Invalid(_("A message can have at most %(n)d characters.") % {"n": limit}, code="message_too_long")
    lot = Lot.objects.filter(pk=lot_id).first()
    if lot is None:
        raise _no_such_lot()
    if lot.status not in OPEN or timezone.now() >= lot.ends_at:
        raise Conflict(_("The chat closes when the auction ends."), code="chat_closed")
    if ChatMute.objects.filter(lot=lot, user=user).exists():
        raise Forbidden(_("You have been muted in this room."), code="chat_muted")
    ratelimit.hit("chat", f"{lot.pk}:{user.pk}")  # RATE_LIMIT_CHAT, per user and room
    role = (
        ChatMessage.Role.SELLER
        if user.pk == lot.seller_id
        else ChatMessage.Role.STAFF
        if user.is_staff
        else ChatMessage.Role.BIDDER
    )
    with transaction.atomic():
        lot = _lock(lot.pk)
        alias = _alias(lot, user) if role == ChatMessage.Role.BIDDER else None
        lot.seq += 1
        lot.save(update_fields=["seq", "alias_count"])
        message = ChatMessage.objects.create(lot=lot, user=user, alias=alias, role=role, text=text, seq=lot.seq)
        row = selectors.chat_row(message)
        _after_commit(lambda: live.publish(lot.pk, protocol.chat(row)))
    return message


def _message_id(value) -> int:
    try:
        return numbers.parse_id(value)
    except numbers.InvalidNumber:
        raise Invalid(_("Invalid message."), code="invalid_message") from None


def report_message(user, lot_id: int, message_id: int, reason: str) -> ChatReport:
    """Report a visible message of this lot's room (a message of another room is "no such message", whichever
    way the report came: the API's URL names the lot, the socket is joined to one), by a logged-in user."""
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("Log in to report a message."), code="not_authenticated")
    message_id = _message_id(message_id)
    if reason not in ChatReport.Reason.values:
        raise Invalid(_("Choose profanity, advertisement or spam."), code="reason_invalid")
    message = ChatMessage.objects.filter(pk=message_id, lot_id=lot_id, hidden_at__isnull=True).first()
    if message is None:
        raise NotFound(_("No such message."), code="not_found")
    if message.user_id == user.pk:
        raise Invalid(_("You cannot report your own message."), code="own_message")
    report, _created = ChatReport.objects.get_or_create(message=message, reporter=user, defaults={"reason": reason})
    return report


def hide_message(staff, message_id: int) -> ChatMessage:
    _require_staff(staff)
    message_id = _message_id(message_id)
    with transaction.atomic():
        message = ChatMessage.objects.filter(pk=message_id).first()
        if message is None:
            raise NotFound(_("No such message."), code="not_found")
        lot = _lock(message.lot_id)
        now = timezone.now()
        if not ChatMessage.objects.filter(pk=message.pk, hidden_at__isnull=True).update(hidden_at=now, hidden_by=staff):
            return message
        ChatReport.objects.filter(message=message, handled_at__isnull=True).update(handled_at=now)
        lot.seq += 1
        lot.save(update_fields=["seq"])
        seq, lot_pk, pk = lot.seq, lot.pk, message.pk
        _after_commit(lambda: live.publish(lot_pk, protocol.chat_hidden(seq, pk)))
    message.refresh_from_db()
    return message


def mute_user(staff, lot_id: int, user_id: int, reason: str = "") -> ChatMute:
    _require_staff(staff)
    mute, _created = ChatMute.objects.get_or_create(
        lot_id=lot_id, user_id=user_id, defaults={"created_by": staff, "reason": reason[:200]}
    )
    return mute
