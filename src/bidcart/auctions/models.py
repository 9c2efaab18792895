"""Auctions: lots, proxy bids, per-lot bidder aliases, wins (each with its order), second-chance offers,
strikes, the live room's chat and its moderation, watchers and in-app notices.

Money is an integer in minor units plus an ISO currency; times are UTC. The lot row is the lock every
racing write takes (`select_for_update`), and it carries the proxy state (leader, the leader's private
maximum, the second maximum, price, bid count) as a cache of the append-only bid log.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import engine


class Lot(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")  # past its end, not finalised yet (derived; see selectors.effective_status)
        SOLD = "sold", _("Sold")
        UNSOLD = "unsold", _("Unsold")
        CANCELLED = "cancelled", _("Cancelled")

    class SoldVia(models.TextChoices):
        AUCTION = "auction", _("Auction")
        BUY_NOW = "buy_now", _("Buy It Now")

    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="lots", verbose_name=_("seller")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        "catalog.Category", on_delete=models.PROTECT, related_name="lots", verbose_name=_("category")
    )
    currency = models.CharField(_("currency"), max_length=3, default="KRW")
    start_price = models.PositiveBigIntegerField(_("start price"))
    reserve_price = models.PositiveBigIntegerField(
        _("reserve price"), null=True, blank=True, help_text=_("Hidden from bidders.")
    )
    buy_now_price = models.PositiveBigIntegerField(_("Buy It Now price"), null=True, blank=True)
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"), db_index=True)  # moves with soft close
    scheduled_end = models.DateTimeField(_("scheduled end"))  # as listed
    soft_close_seconds = models.PositiveIntegerField(_("soft-close window (seconds)"), default=120)
    increment_table = models.JSONField(
        _("increment table"), default=list, help_text=_("[[from, increment], …] in minor units")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.SCHEDULED, db_index=True
    )

    # proxy state: a cache of the bid log, written only under the row lock
    current_price = models.PositiveBigIntegerField(null=True, blank=True)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    leader_max = models.PositiveBigIntegerField(null=True, blank=True)
    second_max = models.PositiveBigIntegerField(null=True, blank=True)
    leader_alias = models.PositiveIntegerField(null=True, blank=True)
    bid_count = models.PositiveIntegerField(default=0)
    alias_count = models.PositiveIntegerField(default=0)
    # every event of the live room (bid, extended, ended, chat, …) takes the next number
    seq = models.PositiveBigIntegerField(default=0)

    # closing
    closed_at = models.DateTimeField(null=True, blank=True)
    final_price = models.PositiveBigIntegerField(null=True, blank=True)
    sold_via = models.CharField(max_length=10, choices=SoldVia.choices, blank=True)
    ending_soon_sent = models.BooleanField(default=False)
    cancel_reason = models.CharField(_("cancel reason"), max_length=500, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    relisted_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="relists")
    requires_saved_method = models.BooleanField(
        _("bidders need a saved card"),
        default=False,
        help_text=_("Only bidders with a saved card may bid; the winner is charged automatically at the close."),
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ends_at", "id"]
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        indexes = [models.Index(fields=["status", "ends_at"]), models.Index(fields=["status", "starts_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(start_price__gte=1), name="auctions_lot_start_positive"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="auctions_lot_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(current_price__isnull=True) | Q(current_price__lte=models.F("leader_max")),
                name="auctions_lot_price_within_leader_max",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    # --- engine views -----------------------------------------------------------------------------
    def rules(self) -> engine.Rules:
        from . import conf

        table = self.increment_table or conf.increment_table(self.currency)
        return engine.Rules(self.start_price, self.reserve_price, engine.validate_table(table))

    def state(self) -> engine.State:
        return engine.State(self.leader_id, self.leader_max, self.second_max, self.current_price, self.bid_count)

    @property
    def price(self) -> int:
        """What is shown: the current price, or the start price before the first bid."""
        return self.current_price if self.current_price is not None else self.start_price

    @property
    def min_next_bid(self) -> int:
        return engine.min_next_bid(self.rules(), self.state())

    @property
    def reserve_met(self) -> bool:
        return engine.reserve_met(self.rules(), self.state())

    @property
    def has_reserve(self) -> bool:
        return self.reserve_price is not None

    @property
    def buy_now_available(self) -> bool:
        return engine.buy_now_available(self.rules(), self.state(), self.buy_now_price)

    @property
    def is_open(self) -> bool:
        now = timezone.now()
        return self.status in (self.Status.SCHEDULED, self.Status.LIVE) and self.starts_at <= now < self.ends_at

    @property
    def extended(self) -> bool:
        return self.ends_at > self.scheduled_end


class LotImage(models.Model):
    """A lot picture, checked and re-encoded with its renditions by core/images.py (`services.create_lot`)."""

    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="images")
    image = models.FileField(_("image"), upload_to="lots/%Y/%m/")
    # The stored picture's size (0: stored before renditions existed); see catalog.ProductImage.
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    alt = models.CharField(_("alternative text"), max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("lot image")
        verbose_name_plural = _("lot images")


def alias_label(number: int | None) -> str | None:
    """A bidder's per-lot alias as shown everywhere: "#3". Stable for the lot, meaningless elsewhere."""
    return None if number is None else f"#{number}"


class BidderAlias(models.Model):
    """A participant's stable, per-lot pseudonym (bidders and chatters): numbered in order of arrival."""

    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="aliases")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    # the participant's choice for this lot (opt-in per lot, set by their bids): a win is charged at the close
    # to their default saved card, shipped to `ship_to` or else their default address (auctions.services.autocharge)
    pay_with_saved_method = models.BooleanField(default=False)
    ship_to = models.ForeignKey(
        "orders.SavedAddress", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lot", "user"], name="auctions_alias_one_per_user"),
            models.UniqueConstraint(fields=["lot", "number"], name="auctions_alias_unique_number"),
        ]

    @property
    def label(self) -> str:
        return alias_label(self.number)


class Bid(models.Model):
    """An accepted bid: append-only. `max_amount` is private to its bidder; `price_after` is the lot's
    price as it stood once the bid was in (what the history shows)."""

    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="bids")
    bidder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bids")
    alias = models.PositiveIntegerField()
    max_amount = models.PositiveBigIntegerField()
    price_after = models.PositiveBigIntegerField()
    leading_after = models.BooleanField()  # the bidder led once the bid was in
    seq = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    # the outbox flag: set in the bid's transaction, cleared once its events and notice went out (announce.py)
    announce_pending = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["lot", "-id"]),
            models.Index(fields=["bidder", "lot"]),
            models.Index(
                fields=["id"], condition=models.Q(announce_pending=True), name="auctions_bid_announce_pending"
            ),
        ]
        verbose_name = _("bid")
        verbose_name_plural = _("bids")


class Win(models.Model):
    """Someone who must pay for a lot: the auction's winner, a Buy It Now buyer, or a runner-up who
    accepted a second-chance offer. One order each; the orders app expires it when unpaid."""

    class Kind(models.TextChoices):
        AUCTION = "auction", _("Auction win")
        BUY_NOW = "buy_now", _("Buy It Now")
        SECOND_CHANCE = "second_chance", _("Second-chance offer")

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        PAID = "paid", _("Paid")
        UNPAID = "unpaid", _("Not paid")

    class Charge(models.TextChoices):
        """The automatic charge of a win to the winner's saved card (none: the buyer pays on the order page)."""

        NONE = "", _("Paid by the buyer")
        DUE = "due", _("Charge due")
        PAID = "paid", _("Charged")
        DECLINED = "declined", _("Charge declined")

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="wins")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="auction_wins")
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="auction_win")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    price = models.PositiveBigIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING_PAYMENT, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)
    charge = models.CharField(
        _("automatic charge"), max_length=10, choices=Charge.choices, default=Charge.NONE, blank=True, db_index=True
    )
    charge_method = models.ForeignKey(
        "payments.SavedPaymentMethod",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("saved card charged"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # a lot is closed once: at most one auction (or Buy It Now) win per lot, whatever races
            models.UniqueConstraint(
                fields=["lot"], condition=Q(kind__in=["auction", "buy_now"]), name="auctions_one_close_per_lot"
            ),
        ]
        verbose_name = _("win")
        verbose_name_plural = _("wins")


class SecondChanceOffer(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")

    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="second_chance_offers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="second_chance_offers")
    price = models.PositiveBigIntegerField()  # the runner-up's own maximum
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    win = models.OneToOneField(Win, on_delete=models.SET_NULL, null=True, blank=True, related_name="offer")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["lot", "user"], name="auctions_offer_once_per_user")]
        verbose_name = _("second chance offer")
        verbose_name_plural = _("second chance offers")


class Strike(models.Model):
    """An unpaid win on a buyer's record. Enough of them (not lifted) block bidding for a while."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auction_strikes")
    win = models.OneToOneField(Win, on_delete=models.CASCADE, related_name="strike")
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("strike")
        verbose_name_plural = _("strikes")


class Watch(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watched_lots")
    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="watchers")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "lot"], name="auctions_watch_once")]


class Notice(models.Model):
    """An in-app notice (outbid, won, ending soon, …). The text is rendered from `kind` and `data` in the
    reader's language when shown."""

    class Kind(models.TextChoices):
        OUTBID = "outbid", _("Outbid")
        WON = "won", _("Won")
        SOLD = "sold", _("Sold")
        UNSOLD = "unsold", _("Not sold")
        ENDING_SOON = "ending_soon", _("Ending soon")
        STRIKE = "strike", _("Strike")
        SECOND_CHANCE = "second_chance", _("Second-chance offer")
        UNPAID = "unpaid", _("Winner did not pay")
        RELIST = "relist", _("Can be relisted")
        CANCELLED = "cancelled", _("Cancelled")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auction_notices")
    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # set when the email sweep took the notice (sent, or skipped because it no longer applied)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"]), models.Index(fields=["kind", "emailed_at"])]


class ChatMessage(models.Model):
    class Role(models.TextChoices):
        BIDDER = "", _("Participant")
        SELLER = "seller", _("Seller")
        STAFF = "staff", _("Staff")

    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="chat")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    alias = models.PositiveIntegerField(null=True, blank=True)
    role = models.CharField(max_length=8, choices=Role.choices, blank=True, default="")
    text = models.CharField(max_length=1000)
    seq = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["lot", "-id"])]
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")

    def __str__(self) -> str:
        return self.text[:60]


class ChatReport(models.Model):
    class Reason(models.TextChoices):
        PROFANITY = "profanity", _("Profanity")
        ADVERTISEMENT = "advertisement", _("Advertisement")
        SPAM = "spam", _("Spam")

    message = models.ForeignKey(ChatMessage, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["handled_at", "-created_at"]
        verbose_name = _("chat report")
        verbose_name_plural = _("chat reports")
        constraints = [models.UniqueConstraint(fields=["message", "reporter"], name="auctions_report_once")]


class ChatMute(models.Model):
    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="mutes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("chat mute")
        verbose_name_plural = _("chat mutes")
        constraints = [models.UniqueConstraint(fields=["lot", "user"], name="auctions_mute_once")]
