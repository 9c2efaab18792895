"""The fake /admin/: a login page that looks like Django's, records every attempt, and after
HONEYPOT_MAX_ATTEMPTS refuses that address on the honeypot itself (403).

Why only there: an address is often shared (a carrier's NAT, an office), and a block on every path would
let one bot shut out everyone behind it, or let any web page lock its visitors out with a few hidden
cross-site form posts (the form is csrf-exempt so that bots are recorded). So a block never touches the
shop, /healthz or the real admin (BIDCART_ADMIN_PATH), and a request a browser marks as cross-site
(Sec-Fetch-Site, Origin) is shown the page but never counted. Operators lift a block with
`bidcart manage unblock ADDRESS` or in the real admin."""

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import HttpResponseForbidden
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from bidcart.core.http import client_ip

from .models import BlockedIP, HoneypotAttempt

CACHE_SECONDS = 60


def _cache_key(ip: str) -> str:
    return f"bidcart:honeypot:blocked:{ip}"


def is_blocked(ip: str | None) -> bool:
    """Asked on every request, so the answer is cached; blocking and unblocking update the cache."""
    if ip is None:
        return False
    blocked = cache.get(_cache_key(ip))
    if blocked is None:
        try:
            blocked = BlockedIP.objects.filter(ip=ip).exists()
        except (OperationalError, InterfaceError):
            # The database is down: let the request through to the view, which answers 503 (a middleware's
            # exception would be a 500). Nothing is cached, so the block applies again once it is back.
            return False
        cache.set(_cache_key(ip), blocked, CACHE_SECONDS)
    return blocked


def record_attempt(*, ip: str | None, username: str, user_agent: str, path: str) -> bool:
    """Store the attempt; block the address once it reaches the limit. Returns whether it is blocked."""
    if ip is None:
        return False  # no address to block, and blocking "unknown" would shut out every such caller
    HoneypotAttempt.objects.create(ip=ip, username=username[:255], user_agent=user_agent[:500], path=path[:500])
    since = timezone.now() - timedelta(hours=settings.HONEYPOT_WINDOW_HOURS)
    attempts = HoneypotAttempt.objects.filter(ip=ip, created_at__gte=since).count()
    if attempts < settings.HONEYPOT_MAX_ATTEMPTS:
        return False
    try:
        with transaction.atomic():
            BlockedIP.objects.create(ip=ip, reason=f"{attempts} attempts on the admin honeypot")
    except IntegrityError:
        pass  # another request blocked it first
    cache.set(_cache_key(ip), True, CACHE_SECONDS)
    return True


def unblock(ips) -> None:
    """Forget the addresses' attempts and lift their blocks."""
    HoneypotAttempt.objects.filter(ip__in=ips).delete()
    BlockedIP.objects.filter(ip__in=ips).delete()


@receiver(post_delete, sender=BlockedIP)
def _forget_block(sender, instance, **kwargs):
    cache.delete(_cache_key(instance.ip))


def cross_site(request) -> bool:
    """Whether a browser says this request was sent by another site's page: `Sec-Fetch-Site` other than
    same-origin/none, or an `Origin` that is not this host. Bots send neither; browsers send both."""
    fetch_site = request.META.get("HTTP_SEC_FETCH_SITE")
    if fetch_site and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.META.get("HTTP_ORIGIN")
    if origin:
        try:
            return origin.lower() != f"{request.scheme}://{request.get_host()}".lower()
        except Exception:  # DisallowedHost: not our host, so not our page either
            return True
    return False


@csrf_exempt  # a bot's POST must be recorded, not bounced by CSRF
def admin_login(request, path=""):
    if is_blocked(client_ip(request)):
        return HttpResponseForbidden("<h1>403 Forbidden</h1><p>This address is blocked.</p>")
    if request.method == "POST" and not cross_site(request):
        record_attempt(
            ip=client_ip(request),
            username=request.POST.get("username", ""),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            path=request.path,
        )
    return render(
        request,
        "accounts/honeypot_login.html",
        {"error": request.method == "POST", "username": request.POST.get("username", "")},
        status=200,
    )
