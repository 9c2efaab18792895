"""Auction pages: the list, the live room, listing a lot, and "my auctions" (bids, wins, offers,
watchlist, notices, lots I sell). Thin: parse, call a selector or a service, render or redirect. The live
room works without JavaScript (plain forms); `static/auctions/js/room.js` makes it live."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from bidcart.catalog import selectors as catalog_selectors
from bidcart.core import numbers
from bidcart.core.domain import DomainError
from bidcart.core.money import format_money

from . import conf, forms, selectors, services
from .consumers import viewer_count
from .models import Lot

PAGE_SIZE = 24
TABS = ("live", "ending_soon", "scheduled", "ended")


def lot_list(request):
    show = request.GET.get("show") or "live"
    if show not in TABS:
        show = "live"
    category = request.GET.get("category", "")
    search = request.GET.get("search", "").strip()
    qs = selectors.public_lots()
    if show == "live":
        qs = selectors.filter_lots(qs, live=True).order_by("ends_at", "id")
    elif show == "ending_soon":
        qs = selectors.filter_lots(qs, ending_soon=True)
    elif show == "scheduled":
        qs = selectors.filter_lots(qs, status=Lot.Status.SCHEDULED).order_by("starts_at", "id")
    else:
        qs = selectors.filter_lots(qs, status=Lot.Status.ENDED).order_by("-ends_at", "-id")
    qs = selectors.filter_lots(qs, category=category, search=search)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "lots": list(page.object_list),
        "show": show,
        "tabs": TABS,
        "search": search,
        "category": category,
        "categories": catalog_selectors.category_tree(),
    }
    return render(request, "auctions/lot_list.html", context)


def _lot(pk) -> Lot:
    lot = Lot.objects.select_related("category", "seller").prefetch_related("images").filter(pk=pk).first()
    if lot is None:
        raise Http404
    return lot


def lot_detail(request, pk):
    lot = _lot(pk)
    context = {
        "lot": lot,
        "state": selectors.lot_state(lot),
        "images": list(lot.images.all()),
        "history": selectors.history(lot),
        "chat": selectors.chat(lot),
        "my_reports": selectors.my_reports(request.user, lot),
        "me": selectors.my_state(request.user, lot),
        "card_choice": selectors.saved_card_choice(request.user, lot),
        "viewers": viewer_count(lot.pk),
        "can_relist": request.user.is_authenticated and lot.seller_id == request.user.pk and selectors.can_relist(lot),
        "win": lot.wins.filter(user=request.user).select_related("order").first()
        if request.user.is_authenticated
        else None,
        # what the Buy It Now review step tells the buyer before the lot ends
        "shipping_fee": int(conf.get("AUCTION_SHIPPING_FEE")),
        "payment_hours": int(conf.get("AUCTION_PAYMENT_HOURS")),
    }
    return render(request, "auctions/lot_detail.html", context)


def _back(pk):
    return redirect("auctions:lot", pk)


def _saved_card_choice(post) -> dict:
    """The bid form's "charge my saved card if I win" (the box is only meaningful where the form offered
    it: `autopay_offered`) and the address chosen; the service checks both."""
    raw_address = (post.get("address_id") or "").strip()
    return {
        "pay_with_saved_method": (post.get("pay_with_saved_method") == "1")
        if post.get("autopay_offered") == "1"
        else None,
        "address_id": int(raw_address) if raw_address.isascii() and raw_address.isdigit() else None,
    }


@login_required
@require_POST
def bid(request, pk):
    """The no-JavaScript bid form; the live room's script bids over the WebSocket (same service). A maximum
    over the lot's confirm_above (3x the price) is asked about first, as the room's script does."""
    raw = request.POST.get("max_amount", "")
    choice = _saved_card_choice(request.POST)
    lot = Lot.objects.filter(pk=pk).first() if request.POST.get("confirmed") != "1" else None
    if lot is not None:  # (a missing lot, or a bad amount, is the service's to refuse)
        state = selectors.lot_state(lot)
        try:
            amount = services.parse_amount(raw)
        except DomainError:
            amount = None
        if amount is not None and amount > state["confirm_above"]:
            return render(
                request, "auctions/bid_confirm.html", {"lot": lot, "state": state, "amount": amount, **choice}
            )
    try:
        result = services.place_bid(request.user, pk, raw, **choice)
    except DomainError as error:
        messages.error(request, error.detail)
        return _back(pk)
    amount = format_money(result.my_max, result.lot.currency)
    if result.leading:
        messages.success(request, _("Your maximum of %(amount)s is in: you lead.") % {"amount": amount})
    else:
        messages.warning(request, _("Your bid is in, but an earlier maximum is at least as high: you are outbid."))
    return _back(pk)


@login_required
@require_POST
def buy_now(request, pk):
    try:
        win = services.buy_now(request.user, pk)
    except DomainError as error:
        messages.error(request, error.detail)
        return _back(pk)
    messages.success(request, _("It's yours! Give your address and pay by the deadline."))
    return redirect("orders:detail", win.order.number)


@login_required
@require_POST
def watch(request, pk):
    try:
        if request.POST.get("watch") == "0":
            services.unwatch(request.user, pk)
            messages.info(request, _("Removed from your watchlist."))
        else:
            services.watch(request.user, pk)
            messages.success(request, _("Added to your watchlist: we'll tell you before it ends."))
    except DomainError as error:
        messages.error(request, error.detail)
    return _back(pk)


@login_required
@require_POST
def cancel(request, pk):
    try:
        services.cancel_lot(request.user, pk, request.POST.get("reason", ""))
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("The lot was cancelled."))
    return _back(pk)


@login_required
@require_POST
def relist(request, pk):
    try:
        lot = services.relist(request.user, pk)
    except DomainError as error:
        messages.error(request, error.detail)
        return _back(pk)
    messages.success(request, _("Relisted: the new lot is live."))
    return redirect("auctions:lot", lot.pk)


@login_required
@require_http_methods(["GET", "POST"])
def lot_new(request):
    if not request.user.can_sell:
        raise Http404
    form = forms.LotForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                lot = services.create_lot(request.user, images=request.FILES.getlist("images"), **form.terms())
            except DomainError as error:
                form.add_error(None, error.detail)
            else:
                messages.success(request, _("Your lot is listed."))
                return redirect("auctions:lot", lot.pk)
        status = 400
    return render(request, "auctions/lot_form.html", {"form": form}, status=status)


@login_required
def mine(request):
    """Reads only (a GET): the page's script, or its button without JavaScript, marks the shown notices
    read with a POST to `notices_read`."""
    return render(request, "auctions/mine.html", selectors.my_auctions(request.user))


@login_required
@require_POST
def notices_read(request):
    try:
        up_to = numbers.parse_id(request.POST.get("up_to"))
    except numbers.InvalidNumber:
        up_to = None
    seen_at = parse_datetime(request.POST.get("seen_at") or "")  # the page's own value; anything else: not used
    seen_at = seen_at if seen_at is not None and timezone.is_aware(seen_at) else None
    services.mark_notices_read(request.user, up_to=up_to, seen_at=seen_at)
    if request.headers.get("X-Requested-With") == "fetch":  # the page's script: nothing to draw
        return HttpResponse(status=204)
    return redirect("auctions:mine")


@login_required
@require_POST
def offer_respond(request, pk):
    try:
        if request.POST.get("action") == "accept":
            win = services.accept_offer(request.user, pk)
            messages.success(request, _("Accepted: give your address and pay by the deadline."))
            return redirect("orders:detail", win.order.number)
        services.decline_offer(request.user, pk)
        messages.info(request, _("Offer declined."))
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect("auctions:mine")
