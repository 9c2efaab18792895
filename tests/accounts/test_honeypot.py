from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from bidcart.accounts.models import BlockedIP, HoneypotAttempt

pytestmark = pytest.mark.django_db

ATTACKER = {"REMOTE_ADDR": "203.0.113.9", "HTTP_USER_AGENT": "sqlmap/1.8"}


def try_admin(client, n, **extra):
    return [
        client.post("/admin/login/", {"username": f"root{i}", "password": "toor"}, **{**ATTACKER, **extra})
        for i in range(n)
    ]


def test_admin_looks_like_django_admin_and_records_every_attempt(client):
    page = client.get("/admin/", **ATTACKER)
    assert page.status_code == 200
    assert b"Django administration" in page.content
    answers = try_admin(client, 2)
    assert all(r.status_code == 200 and b"Please enter the correct username" in r.content for r in answers)
    attempts = list(HoneypotAttempt.objects.order_by("created_at"))
    assert [(a.ip, a.username, a.user_agent) for a in attempts] == [
        ("203.0.113.9", "root0", "sqlmap/1.8"),
        ("203.0.113.9", "root1", "sqlmap/1.8"),
    ]
    assert not BlockedIP.objects.exists()


def test_five_attempts_block_the_address_on_the_honeypot_only(client, settings):
    try_admin(client, 5)
    assert BlockedIP.objects.filter(ip="203.0.113.9").exists()
    assert client.get("/admin/", **ATTACKER).status_code == 403
    assert client.post("/admin/login/", {"username": "x"}, **ATTACKER).status_code == 403
    # An address is often shared (a carrier's NAT): the shop, the health check and the real admin stay open.
    assert client.get("/", **ATTACKER).status_code == 200
    assert client.get("/healthz", **ATTACKER).status_code == 200
    assert client.get("/api/schema/", **ATTACKER).status_code == 200
    assert client.get("/" + settings.ADMIN_PATH, **ATTACKER).status_code == 302  # its own login page


@pytest.mark.parametrize(
    "browser_headers",
    [
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "https://evil.example"},  # an older browser: Origin only
        {"HTTP_ORIGIN": "http://testserver:8080"},  # the same host on another port is another site
        {"HTTP_SEC_FETCH_SITE": "same-site"},
    ],
)
def test_a_cross_site_form_post_never_counts_towards_a_block(client, browser_headers):
    # Any web page can make its visitors' browsers post to /admin/ (it is csrf-exempt for bots).
    answers = try_admin(client, 8, **browser_headers)
    assert all(a.status_code == 200 for a in answers)  # the page looks the same
    assert not HoneypotAttempt.objects.exists() and not BlockedIP.objects.exists()
    assert client.get("/admin/", **ATTACKER).status_code == 200


def test_a_same_origin_browser_post_counts_like_a_bot(client):
    try_admin(client, 5, HTTP_SEC_FETCH_SITE="same-origin", HTTP_ORIGIN="http://testserver")
    assert BlockedIP.objects.filter(ip="203.0.113.9").exists()


def test_operators_unblock_an_address_from_the_command_line(client):
    try_admin(client, 5)
    out = StringIO()
    call_command("unblock", "203.0.113.9", "198.51.100.1", stdout=out)
    assert out.getvalue().splitlines() == ["203.0.113.9: unblocked", "198.51.100.1: was not blocked"]
    assert not BlockedIP.objects.exists() and not HoneypotAttempt.objects.exists()
    assert client.get("/admin/", **ATTACKER).status_code == 200  # the cached block is gone too
    with pytest.raises(CommandError):
        call_command("unblock", "not-an-address")


def test_the_real_admin_lists_attempts_and_can_unblock(client, settings):
    try_admin(client, 5)
    staff = get_user_model().objects.create_superuser("ops@example.com", "long-Pass-phrase-9", display_name="ops")
    client.force_login(staff)
    admin = "/" + settings.ADMIN_PATH
    listing = client.get(admin + "accounts/honeypotattempt/", REMOTE_ADDR="198.51.100.7")
    assert listing.status_code == 200 and b"root4" in listing.content
    blocked = BlockedIP.objects.get(ip="203.0.113.9")
    response = client.post(
        admin + "accounts/blockedip/",
        {"action": "unblock", "_selected_action": [blocked.pk]},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 302
    assert not BlockedIP.objects.exists() and not HoneypotAttempt.objects.exists()
    assert client.get("/admin/", **ATTACKER).status_code == 200  # the cached block is gone too


def test_the_real_admin_is_not_at_admin(settings):
    assert settings.ADMIN_PATH.strip("/") != "admin"


def test_client_ip_ignores_forwarded_for_unless_proxies_are_configured(client, settings):
    try_admin(client, 5, HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert BlockedIP.objects.get().ip == "203.0.113.9"  # spoofed header ignored
    BlockedIP.objects.all().delete()
    HoneypotAttempt.objects.all().delete()
    settings.NUM_PROXIES = 1
    try_admin(client, 5, HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert BlockedIP.objects.get().ip == "192.0.2.1"


def test_a_caller_without_a_valid_address_is_neither_recorded_nor_blocks_anyone(client, settings):
    settings.NUM_PROXIES = 1
    answers = try_admin(client, 6, HTTP_X_FORWARDED_FOR="not-an-ip")  # a garbled header behind the proxy
    answers += try_admin(client, 6, REMOTE_ADDR="")  # a unix-socket peer with no proxy header
    assert all(a.status_code == 200 for a in answers)
    assert not HoneypotAttempt.objects.exists() and not BlockedIP.objects.exists()
    assert client.get("/", REMOTE_ADDR="").status_code == 200  # "unknown" was not blocked for everyone
