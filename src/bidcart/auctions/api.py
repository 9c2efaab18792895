"""Auction JSON API: lots (list, detail, create), bids (place, history, my maximum, my bids), Buy It Now,
cancel, relist, watch, chat and reports, second-chance offers. Thin: parse, call a service, answer."""

from __future__ import annotations

import django_filters
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from bidcart.catalog.models import Category
from bidcart.core import images as pictures
from bidcart.core.domain import DomainError, Invalid
from bidcart.core.errors import error_headers, field_errors, http_status
from bidcart.core.filters import IdFilter
from bidcart.core.openapi import ErrorSerializer
from bidcart.core.serializers import AmountField, StrictSerializer, WholeNumberField

from . import conf, protocol, selectors, services
from .models import Bid, ChatReport, Lot, SecondChanceOffer, alias_label

# --- serializers ---------------------------------------------------------------------------------------


class LotStateSerializer(serializers.Serializer):
    """The public state of a lot (money in minor units; times ISO 8601 UTC; `leader` is a per-lot alias)."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField(
        help_text="scheduled, live, ended (past its end, being closed), sold, unsold or cancelled."
    )
    currency = serializers.CharField()
    start_price = serializers.IntegerField()
    current_price = serializers.IntegerField(help_text="The start price until the first bid.")
    min_next_bid = serializers.IntegerField()
    bid_count = serializers.IntegerField()
    leader = serializers.CharField(allow_null=True)
    has_reserve = serializers.BooleanField()
    reserve_met = serializers.BooleanField()
    buy_now_price = serializers.IntegerField(allow_null=True)
    buy_now_available = serializers.BooleanField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    scheduled_end = serializers.DateTimeField()
    extended = serializers.BooleanField()
    soft_close_seconds = serializers.IntegerField()
    final_price = serializers.IntegerField(allow_null=True)
    display_price = serializers.IntegerField(
        help_text="The price to show: the sale price once sold, else current_price."
    )
    sold_via = serializers.CharField(help_text='"auction" or "buy_now" once sold; empty before.')
    confirm_above = serializers.IntegerField(
        help_text='A maximum above this (3x the price) is worth an "are you sure?".'
    )
    server_time = serializers.DateTimeField()
    seq = serializers.IntegerField()

    def to_representation(self, lot):
        return selectors.lot_state(lot)


class LotListSerializer(LotStateSerializer):
    category = serializers.DictField()
    seller = serializers.DictField()
    image = serializers.CharField(allow_null=True)

    def to_representation(self, lot):
        images = list(lot.images.all())
        return {
            **selectors.lot_state(lot),
            "category": {"slug": lot.category.slug, "name": lot.category.name},
            "seller": {"id": lot.seller_id, "display_name": lot.seller.display_name},
            "image": images[0].image.url if images else None,
        }


class MySerializer(serializers.Serializer):
    my_max = serializers.IntegerField(allow_null=True, help_text="Only ever shown to its bidder.")
    leading = serializers.BooleanField()
    alias = serializers.CharField(allow_null=True)
    watching = serializers.BooleanField()
    is_seller = serializers.BooleanField()


class LotDetailSerializer(LotListSerializer):
    description = serializers.CharField()
    images = serializers.ListField(child=serializers.DictField())
    increment_table = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))
    cancel_reason = serializers.CharField()
    requires_saved_method = serializers.BooleanField(
        help_text="The seller accepts bids only from buyers with a saved card, charged automatically if they win."
    )
    pay_with_saved_method = serializers.BooleanField(
        help_text="Yours: a win on this lot is charged to your default saved card at the close."
    )
    me = MySerializer()

    def to_representation(self, lot):
        request = self.context.get("request")
        return {
            **super().to_representation(lot),
            "description": lot.description,
            "images": [{"url": i.image.url, "alt": i.alt, **pictures.describe(i)} for i in lot.images.all()],
            "increment_table": [list(row) for row in lot.rules().table],
            "cancel_reason": lot.cancel_reason,
            "requires_saved_method": lot.requires_saved_method,
            "pay_with_saved_method": selectors.saved_card_choice(request.user if request else None, lot)["on"],
            "me": selectors.my_state(request.user if request else None, lot),
        }


class LotCreateSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.SlugRelatedField(slug_field="slug", queryset=Category.objects.all())
    start_price = AmountField()
    reserve_price = AmountField(required=False, allow_null=True, default=None)
    buy_now_price = AmountField(required=False, allow_null=True, default=None)
    starts_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Default: now (live at once)."
    )
    ends_at = serializers.DateTimeField()
    soft_close_seconds = WholeNumberField(
        min_value=0, max_value=conf.SOFT_CLOSE_MAX_SECONDS, required=False, allow_null=True, default=None
    )
    requires_saved_method = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Only bidders with a saved card may bid; the winner is charged at the close.",
    )


class BidSerializer(StrictSerializer):
    max_amount = AmountField(help_text="Your maximum, in minor units.")
    pay_with_saved_method = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "If you win this lot, charge your default saved card at the close (kept for the lot; omit: unchanged)."
        ),
    )
    address_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text="One of your saved addresses to ship to (default: your default address).",
    )


class BidResponseSerializer(LotStateSerializer):
    accepted = serializers.BooleanField()
    leading = serializers.BooleanField(required=False)
    reason = serializers.CharField(required=False, help_text="Refusals: the same value as `code`.")
    my_max = serializers.IntegerField(allow_null=True)
    you = MySerializer(allow_null=True, help_text="Your own standing on the lot, as the live room's `you`.")


class BidRefusedSerializer(ErrorSerializer, BidResponseSerializer):
    """A refused bid: the error body plus the lot's state, so the bidder can try again."""


class HistorySerializer(serializers.ModelSerializer):
    bidder = serializers.SerializerMethodField()
    price = serializers.IntegerField(source="price_after", help_text="The lot's price as it stood after this bid.")
    at = serializers.DateTimeField(source="created_at")
    leading = serializers.BooleanField(source="leading_after")

    class Meta:
        model = Bid
        fields = ["bidder", "price", "leading", "at", "seq"]

    def get_bidder(self, bid) -> str:
        return alias_label(bid.alias)


class MyBidLotSerializer(LotStateSerializer):
    my_max = serializers.IntegerField()
    my_bid_count = serializers.IntegerField()
    leading = serializers.BooleanField()
    last_bid_at = serializers.DateTimeField()

    def to_representation(self, lot):
        request = self.context["request"]
        return {
            **selectors.lot_state(lot),
            "my_max": lot.my_max,
            "my_bid_count": lot.my_bid_count,
            "leading": lot.leader_id == request.user.pk,
            "last_bid_at": lot.last_bid_at.isoformat(),
        }


class ChatMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField(allow_null=True)
    role = serializers.CharField()
    text = serializers.CharField()
    at = serializers.DateTimeField()
    seq = serializers.IntegerField()


class ChatPostSerializer(StrictSerializer):
    text = serializers.CharField(max_length=2000, trim_whitespace=True)


class ReportSerializer(StrictSerializer):
    reason = serializers.ChoiceField(choices=ChatReport.Reason.choices)


class CancelSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class OfferSerializer(serializers.ModelSerializer):
    lot = serializers.SerializerMethodField()
    status = serializers.CharField(read_only=True, help_text="open, accepted, declined or expired.")

    class Meta:
        model = SecondChanceOffer
        fields = ["id", "lot", "price", "status", "created_at", "expires_at"]

    def get_lot(self, offer) -> dict:
        return {"id": offer.lot_id, "title": offer.lot.title, "currency": offer.lot.currency}


# --- filters -------------------------------------------------------------------------------------------


class LotFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[(s, s) for s in ("scheduled", "live", "ended", "sold", "unsold")],
        method="by_status",
    )
    live = django_filters.BooleanFilter(method="by_live")
    ending_soon = django_filters.BooleanFilter(
        method="by_ending_soon", help_text="Live and ending within the hour, soonest first."
    )
    category = django_filters.CharFilter(method="by_category", help_text="A category slug; includes its descendants.")
    search = django_filters.CharFilter(method="by_search", help_text="Words in the title or description.")
    seller = IdFilter(method="by_seller")
    ordering = django_filters.OrderingFilter(
        fields=(("ends_at", "ends_at"), ("created_at", "created"), ("current_price", "price"), ("bid_count", "bids"))
    )

    class Meta:
        model = Lot
        fields = []

    def by_status(self, qs, name, value):
        return selectors.filter_lots(qs, status=value) if value else qs

    def by_live(self, qs, name, value):
        return selectors.filter_lots(qs, live=value) if value is not None else qs

    def by_ending_soon(self, qs, name, value):
        return selectors.filter_lots(qs, ending_soon=True) if value else qs

    def by_category(self, qs, name, value):
        return selectors.filter_lots(qs, category=value) if value else qs

    def by_search(self, qs, name, value):
        return selectors.filter_lots(qs, search=value) if value else qs

    def by_seller(self, qs, name, value):
        return selectors.filter_lots(qs, seller=value) if value else qs


# --- views ---------------------------------------------------------------------------------------------


def _lot_or_404(pk) -> Lot:
    lot = Lot.objects.select_related("category", "seller").prefetch_related("images").filter(pk=pk).first()
    if lot is None:
        raise NotFound("No such lot.")
    return lot


class LotListView(generics.ListCreateAPIView):
    """Lots (cancelled ones left out). Filters: `status` (scheduled, live, ended, sold, unsold), `live`,
    `ending_soon`, `category` (slug, with descendants), `search`, `seller`; `ordering`: ends_at (default),
    -created, price, -bids. POST (sellers): list a lot; it is live at once unless `starts_at` is later."""

    serializer_class = LotListSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = LotFilter

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "POST" else [AllowAny()]

    def get_queryset(self):
        return selectors.public_lots().order_by("ends_at", "id")

    @extend_schema(request=LotCreateSerializer, responses={201: LotDetailSerializer})
    def post(self, request):
        data = LotCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lot = services.create_lot(request.user, **data.validated_data)
        return Response(LotDetailSerializer(lot, context={"request": request}).data, status=status.HTTP_201_CREATED)


class LotDetailView(generics.RetrieveAPIView):
    serializer_class = LotDetailSerializer
    permission_classes = [AllowAny]

    def get_object(self):
        return _lot_or_404(self.kwargs["pk"])


def _bid_body(answer: dict) -> dict:
    """protocol.bid_answer as the API has always answered: the lot's state at the top level (its `extended`
    is the lot's: ever extended), then the answer's own fields."""
    body = dict(answer["lot"] or {})
    body.update({k: answer[k] for k in ("accepted", "leading", "my_max", "you")})
    if not answer["accepted"]:
        body.update({"code": answer["reason"], "reason": answer["reason"], "detail": answer["detail"]})
    return body


def _bid_refused(request, pk, error: DomainError) -> Response:
    """A refusal answers with the lot's state (the one the service held under the lock when it has it), so the
    bidder can try again; without a lot to refuse on it is a 404."""
    lot = getattr(error, "lot", None) or Lot.objects.filter(pk=pk).first()
    if lot is None:
        raise NotFound("No such lot.")
    body = _bid_body(protocol.bid_answer(request.user, lot, error=error))
    return Response(body, status=http_status(error), headers=error_headers(error))


class BidsView(generics.ListAPIView):
    """GET: the bid history, newest first — prices as they stood after each bid, bidders as per-lot
    aliases; nobody's maximum. POST `{max_amount}`: bid (your maximum; the price moves only as far as
    needed). Refusals answer 409 (the lot's state refused it) or 400 (the input) with a reason `code`:
    lot_not_live, lot_ended, bid_too_low, max_not_raised, seller_cannot_bid, not_verified, bidding_blocked,
    saved_method_required, invalid_amount, invalid_address. `pay_with_saved_method: true` (and `address_id`):
    if you win, your default saved card is charged at the close."""

    serializer_class = HistorySerializer

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "POST" else [AllowAny()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Bid.objects.none()
        lot = _lot_or_404(self.kwargs["pk"])
        return Bid.objects.filter(lot=lot).order_by("-id")

    @extend_schema(
        request=BidSerializer,
        responses={
            201: BidResponseSerializer,
            400: BidRefusedSerializer,
            409: BidRefusedSerializer,
            429: BidRefusedSerializer,
        },
    )
    def post(self, request, pk):
        try:
            payload = request.data
        except ParseError as error:  # refused like any other bad input: with the state to try again
            return _bid_refused(request, pk, Invalid(str(error.detail), code=error.default_code))
        data = BidSerializer(data=payload)
        if not data.is_valid():
            error = Invalid("Enter max_amount as a whole number of minor units (KRW: won).", code="invalid_amount")
            response = _bid_refused(request, pk, error)
            response.data["errors"] = field_errors(data.errors)
            return response
        try:
            result = services.place_bid(
                request.user,
                pk,
                data.validated_data["max_amount"],
                pay_with_saved_method=data.validated_data["pay_with_saved_method"],
                address_id=data.validated_data["address_id"],
            )
        except DomainError as error:
            return _bid_refused(request, pk, error)
        return Response(
            _bid_body(protocol.bid_answer(request.user, None, result=result)), status=status.HTTP_201_CREATED
        )


class MyBidView(APIView):
    """Your own maximum on a lot and your bids on it (only you ever see these)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={
            200: inline_serializer(
                "MyBid",
                {
                    "my_max": serializers.IntegerField(allow_null=True),
                    "leading": serializers.BooleanField(),
                    "alias": serializers.CharField(allow_null=True),
                    "bids": serializers.ListField(child=serializers.DictField()),
                },
            )
        }
    )
    def get(self, request, pk):
        lot = _lot_or_404(pk)
        mine = selectors.my_state(request.user, lot)
        bids = Bid.objects.filter(lot=lot, bidder=request.user).order_by("-id")[:100]
        return Response(
            {
                "my_max": mine["my_max"],
                "leading": mine["leading"],
                "alias": mine["alias"],
                "bids": [
                    {
                        "max_amount": b.max_amount,
                        "price_after": b.price_after,
                        "leading": b.leading_after,
                        "at": b.created_at.isoformat(),
                    }
                    for b in bids
                ],
            }
        )


class MyBidsView(generics.ListAPIView):
    """Lots you bid on, latest first, with your maximum and whether you lead."""

    serializer_class = MyBidLotSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Lot.objects.none()
        return selectors.my_bids(self.request.user)


class BuyNowView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={
            201: inline_serializer(
                "BuyNowResult",
                {
                    "order": serializers.CharField(),
                    "order_url": serializers.CharField(),
                    "lot": LotStateSerializer(),
                },
            )
        },
    )
    def post(self, request, pk):
        win = services.buy_now(request.user, pk)
        return Response(
            {
                "order": win.order.number,
                "order_url": reverse("orders:detail", args=[win.order.number]),
                "lot": selectors.lot_state(win.lot),
            },
            status=status.HTTP_201_CREATED,
        )


class CancelView(APIView):
    """Staff cancel an open lot with a reason; a seller may withdraw their own lot while it has no bids."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=CancelSerializer, responses={200: LotDetailSerializer})
    def post(self, request, pk):
        data = CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lot = services.cancel_lot(request.user, pk, data.validated_data["reason"])
        return Response(LotDetailSerializer(lot, context={"request": request}).data)


class RelistView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: LotDetailSerializer})
    def post(self, request, pk):
        lot = services.relist(request.user, pk)
        return Response(LotDetailSerializer(lot, context={"request": request}).data, status=status.HTTP_201_CREATED)


class WatchView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None, responses={200: inline_serializer("Watching", {"watching": serializers.BooleanField()})}
    )
    def post(self, request, pk):
        return Response({"watching": services.watch(request.user, pk)})

    @extend_schema(
        request=None, responses={200: inline_serializer("NotWatching", {"watching": serializers.BooleanField()})}
    )
    def delete(self, request, pk):
        return Response({"watching": services.unwatch(request.user, pk)})


class ChatView(APIView):
    """GET: the room's recent visible messages (authors as per-lot aliases, the seller marked).
    POST `{text}`: say something (logged in; length and rate limits; not when muted)."""

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "POST" else [AllowAny()]

    @extend_schema(responses={200: ChatMessageSerializer(many=True)})
    def get(self, request, pk):
        return Response(selectors.chat(_lot_or_404(pk)))

    @extend_schema(request=ChatPostSerializer, responses={201: ChatMessageSerializer})
    def post(self, request, pk):
        data = ChatPostSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.post_message(request.user, pk, data.validated_data["text"])
        return Response(selectors.chat_row(message), status=status.HTTP_201_CREATED)


class ReportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ReportSerializer,
        responses={201: inline_serializer("Reported", {"reported": serializers.BooleanField()})},
    )
    def post(self, request, pk, message_id):
        data = ReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.report_message(request.user, pk, message_id, data.validated_data["reason"])
        return Response({"reported": True}, status=status.HTTP_201_CREATED)


class OffersView(generics.ListAPIView):
    """Your second-chance offers: a lot whose winner did not pay, at your own maximum."""

    serializer_class = OfferSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SecondChanceOffer.objects.none()
        return selectors.my_offers(self.request.user)


class OfferAcceptView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={
            201: inline_serializer(
                "OfferAccepted", {"order": serializers.CharField(), "order_url": serializers.CharField()}
            )
        },
    )
    def post(self, request, pk):
        win = services.accept_offer(request.user, pk)
        return Response(
            {"order": win.order.number, "order_url": reverse("orders:detail", args=[win.order.number])},
            status=status.HTTP_201_CREATED,
        )


class OfferDeclineView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: OfferSerializer})
    def post(self, request, pk):
        return Response(OfferSerializer(services.decline_offer(request.user, pk)).data)
