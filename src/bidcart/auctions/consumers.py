"""`/ws/auctions/<lot>/`: the live room. The protocol, for client authors: docs/live-room.md; every message
is built in `protocol.py`. Who is connected (a JWT or the session cookie): core/wsauth.py.

On connect: a snapshot (lot state, recent bids and chat, the viewer's own maximum, the sequence number).
Then events from `live.py`, each with the lot's sequence number (bid, extended, ended, chat, …; outbid
only to the outbid bidder, numbered like the bid that caused it; viewer counts carry none). A client
that sees a gap or reconnects sends `{"type": "snapshot"}`.

Client messages: `snapshot`, `ping` (answered with the server time, for the countdown), `bid`
`{max_amount, ref}` (the same `place_bid` as the API), `chat` `{text}`, `report` `{message_id, reason}`.
While the database is unreachable each gets an error (a bid: `bid_result` refused, `service_unavailable`)
and the socket stays open.
A logout or a password change closes the user's sockets whose sign-in it ended (4401; `signals.py` →
`live.recheck_sign_in`), and, since a broadcast may be lost, the sign-in is checked again before every bid,
chat line or report: an old socket can't act for a session that no longer exists.
ORM work runs in the thread pool (`thread_sensitive=False`), so one slow bid does not queue every
other room of the process behind it.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import DatabaseSyncToAsync
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _

from bidcart.core import wsauth
from bidcart.core.consumers import GuardedJsonConsumer, error_message, rate_limited_message
from bidcart.core.domain import DomainError
from bidcart.core.ratelimit import RateLimited

from . import live, protocol, services
from .models import Lot

log = logging.getLogger(__name__)

VIEWERS_EVERY = 2  # seconds between viewer-count broadcasts of one lot


def db(func):
    return DatabaseSyncToAsync(func, thread_sensitive=False)


def viewers_key(lot_id: int) -> str:
    return f"auctions:viewers:{lot_id}"


def viewer_count(lot_id: int) -> int:
    return max(0, int(cache.get(viewers_key(lot_id)) or 0))


def _bump_viewers(lot_id: int, delta: int) -> int:
    key = viewers_key(lot_id)
    cache.add(key, 0, timeout=None)
    try:
        return max(0, cache.incr(key, delta))
    except ValueError:
        cache.set(key, max(0, delta), timeout=None)
        return max(0, delta)


def snapshot(lot_id: int, user) -> dict | None:
    lot = Lot.objects.filter(pk=lot_id).first()
    return protocol.snapshot(lot, user, viewer_count(lot_id)) if lot is not None else None


def _bid(user, lot_id: int, amount, pay_with_saved_method=None) -> dict:
    try:
        result = services.place_bid(user, lot_id, amount, pay_with_saved_method=pay_with_saved_method)
    except RateLimited:
        raise  # answered as an error message, like every rate limit on the socket
    except DomainError as error:
        return protocol.bid_answer(user, lot_id, error=error)
    return protocol.bid_answer(user, None, result=result)


class LotConsumer(GuardedJsonConsumer):
    joined = False

    async def connect(self):
        if not await self.admitted():
            return
        self.lot_id = int(self.scope["url_route"]["kwargs"]["lot_id"])
        self.user = self.scope.get("user")
        # a token client offered ["bidcart.jwt", token]: the server must pick the protocol name (never the token)
        subprotocol = wsauth.SUBPROTOCOL if self.scope.get("auth") in ("jwt", "invalid_token") else None
        if self.scope.get("auth") == "invalid_token":
            await self.accept(subprotocol)
            await self.send_json(
                error_message("token_invalid", _("Your sign-in has expired or is not valid: log in again."))
            )
            await self.close(code=protocol.CLOSE_UNAUTHORIZED)
            return
        live.register_loop(asyncio.get_running_loop())
        if not await db(Lot.objects.filter(pk=self.lot_id).exists)():
            await self.close(code=protocol.CLOSE_NOT_FOUND)
            return
        await self.channel_layer.group_add(live.lot_group(self.lot_id), self.channel_name)
        if self.authenticated:
            await self.channel_layer.group_add(live.user_group(self.lot_id, self.user.pk), self.channel_name)
            await self.channel_layer.group_add(live.account_group(self.user.pk), self.channel_name)
        self.joined = True
        await self.accept(subprotocol)
        # joined before reading: nothing committed after this snapshot can be missed
        await self.send_json(await db(snapshot)(self.lot_id, self.user))
        await self.viewers_changed(+1)

    async def disconnect(self, code):
        if not self.joined:
            return
        await self.channel_layer.group_discard(live.lot_group(self.lot_id), self.channel_name)
        if self.authenticated:
            await self.channel_layer.group_discard(live.user_group(self.lot_id, self.user.pk), self.channel_name)
            await self.channel_layer.group_discard(live.account_group(self.user.pk), self.channel_name)
        await self.viewers_changed(-1)

    @property
    def authenticated(self) -> bool:
        return bool(self.user is not None and getattr(self.user, "is_authenticated", False))

    async def receive_json(self, content, **kwargs):
        kind, ref = content.get("type"), content.get("ref")
        try:
            await self._receive(kind, ref, content)
        except (OperationalError, InterfaceError) as exc:
            # The database is down or restarting: say so and keep the socket (an exception here would close
            # it); the client may retry, and the next message works once the database is back.
            log.warning("live room %s: database unavailable (%s)", self.lot_id, type(exc).__name__)
            detail = "The service is briefly unavailable; try again in a few seconds."
            if kind == "bid":  # the room's script re-enables its bid button on a bid_result
                await self.send_json(protocol.bid_refused("service_unavailable", detail, ref))
            else:
                await self.send_json(error_message("service_unavailable", detail, ref))

    async def _receive(self, kind, ref, content):
        if kind in ("bid", "chat", "report") and not await self._still_signed_in(ref):
            return
        if kind == "snapshot":
            await self.send_json(await db(snapshot)(self.lot_id, self.user))
        elif kind == "ping":
            await self.send_json(protocol.pong(live.now_iso(), content.get("t")))
        elif kind == "bid":
            try:
                autopay = content.get("pay_with_saved_method")
                result = await db(_bid)(
                    self.user, self.lot_id, content.get("max_amount"), autopay if isinstance(autopay, bool) else None
                )
            except RateLimited as error:
                await self.send_json(rate_limited_message(error, ref))
                return
            await self.send_json(protocol.bid_result(result, ref))
        elif kind == "chat":
            await self._call(
                services.post_message,
                self.user,
                self.lot_id,
                content.get("text"),
                ok=lambda message: protocol.chat_sent(message.pk, ref),
                ref=ref,
            )
        elif kind == "report":
            await self._call(
                services.report_message,
                self.user,
                self.lot_id,
                content.get("message_id"),
                content.get("reason"),
                ok=lambda report: protocol.reported(content.get("message_id"), ref),
                ref=ref,
            )
        else:
            await self.send_json(error_message("unknown_message", "Unknown message type.", ref))

    async def _call(self, func, *args, ok, ref=None):
        try:
            done = await db(func)(*args)
        except RateLimited as error:
            await self.send_json(rate_limited_message(error, ref))
        except DomainError as error:
            await self.send_json(error_message(error.code, error.detail, ref))
        except (TypeError, ValueError, OverflowError):
            await self.send_json(error_message("invalid_message", "Invalid message.", ref))
        else:
            await self.send_json(ok(done))

    async def _still_signed_in(self, ref=None) -> bool:
        """False (and the socket told and closed with 4401) once the sign-in it was opened with is gone."""
        if self._closing:
            return False
        if await db(wsauth.still_signed_in)(self.scope):
            return True
        self._closing = True
        await self.send_json(error_message("session_ended", _("You were signed out: log in again."), ref))
        await self.close(code=protocol.CLOSE_UNAUTHORIZED)
        return False

    async def sign_in_recheck(self, event):
        """live.recheck_sign_in: the user logged out or changed their password somewhere."""
        await self._still_signed_in()

    async def lot_event(self, event):
        await self.send_json(event["data"])

    # --- viewers: counted in the cache (shared by every process with Redis), broadcast at most every
    # VIEWERS_EVERY seconds per lot, with a trailing broadcast so the last change is never lost.
    async def viewers_changed(self, delta: int):
        try:
            await db(_bump_viewers)(self.lot_id, delta)
            if await cache.aadd(f"auctions:viewers-sent:{self.lot_id}", 1, timeout=VIEWERS_EVERY):
                await self._send_viewers()
            elif await cache.aadd(f"auctions:viewers-pending:{self.lot_id}", 1, timeout=VIEWERS_EVERY + 1):
                asyncio.get_running_loop().create_task(self._send_viewers_later())
        except Exception as exc:  # presence is decoration: never break the room over it
            log.warning("viewer count for lot %s failed: %r", self.lot_id, exc)

    async def _send_viewers(self):
        count = await db(viewer_count)(self.lot_id)
        await self.channel_layer.group_send(
            live.lot_group(self.lot_id), live.event(self.lot_id, protocol.viewers(count))
        )

    async def _send_viewers_later(self):
        try:
            await asyncio.sleep(VIEWERS_EVERY)
            await cache.adelete(f"auctions:viewers-pending:{self.lot_id}")
            await self._send_viewers()
        except Exception as exc:
            log.warning("viewer count for lot %s failed: %r", self.lot_id, exc)
