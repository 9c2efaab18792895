"""The fake /admin/: a login page that looks like Django's, records every attempt, and blocks an
address on every path after HONEYPOT_MAX_ATTEMPTS. The real admin lives on BIDCART_ADMIN_PATH."""

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
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
    HoneypotAttempt.objects.create(
        ip=ip, username=username[:255], user_agent=user_agent[:500], path=path[:500]
    )
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


@csrf_exempt  # a bot's POST must be recorded, not bounced by CSRF
def admin_login(request, path=""):
    error = False
    if request.method == "POST":
        record_attempt(
            ip=client_ip(request),
            username=request.POST.get("username", ""),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            path=request.path,
        )
        error = True
    return render(
        request,
        "accounts/honeypot_login.html",
        {"error": error, "username": request.POST.get("username", "")},
        status=200,
    )
