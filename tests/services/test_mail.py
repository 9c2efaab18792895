"""Mail through a real SMTP server: a shop process configured only by EMAIL_URL=smtp://… sends the
account and order emails to an SMTP server on this machine (aiosmtpd), and what arrives is readable
(a Korean subject, decoded) and its links work."""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from bidcart.accounts.models import User
from tests.factories import ADDRESS, PASSWORD, make_product, make_user
from tests.livesrv import free_port

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


class Inbox:
    """aiosmtpd handler: every message the server accepts, parsed."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, count: int, timeout: float = 20) -> list[email.message.EmailMessage]:
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            mine = [m for m in self.messages if to in str(m["To"])]
            if len(mine) >= count:
                return mine
            time.sleep(0.1)
        raise AssertionError(
            f"{count} message(s) to {to} did not arrive; got {[str(m['Subject']) for m in self.messages]}"
        )


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def shop(smtp, subprocess_env, tmp_path):
    """`bidcart run` on this test's database, its mail going to the SMTP server by EMAIL_URL alone."""
    controller, _inbox = smtp
    port = free_port()
    env = {
        **subprocess_env,
        "EMAIL_URL": f"smtp://127.0.0.1:{controller.port}",
        "BIDCART_DATA_DIR": str(tmp_path),
        "SITE_URL": f"http://127.0.0.1:{port}",
        "BIDCART_JOBS": "inprocess",
        "LOG_FORMAT": "json",
    }
    env.pop("REDIS_URL", None)  # one process: in-memory layers
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bidcart.cli", "run", "--no-seed", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/livez", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise AssertionError((tmp_path / "server.log").read_text()[-3000:])
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def text_part(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_the_verification_email_arrives_by_smtp_in_korean_and_its_link_activates_the_account(shop, smtp):
    _controller, inbox = smtp
    answer = httpx.post(
        f"{shop}/api/v1/auth/signup/",
        headers={"Accept-Language": "ko"},
        json={
            "email": "smtp.buyer@example.com",
            "display_name": "메일 구매자",
            "password": "a-long-enough-password-1",
            "consents": {"terms": True, "privacy": True, "age": True},
        },
    )
    assert answer.status_code == 201, answer.text

    [message] = inbox.wait_for("smtp.buyer@example.com", 1)
    assert "이메일" in str(message["Subject"])  # decoded from its =?utf-8?…?= header: Korean, as signed up
    assert message["From"] and "bidcart" in str(message["From"])
    text, html = text_part(message), html_part(message)
    link = re.search(rf"{re.escape(shop)}/accounts/verify-email/[^\s\"<]+", text).group(0)
    assert link in html

    opened = httpx.get(link, follow_redirects=True)
    assert opened.status_code == 200
    user = User.objects.get(email="smtp.buyer@example.com")
    assert user.is_active and user.email_verified_at is not None


def test_the_order_email_arrives_by_smtp_in_korean_with_a_link_to_the_order(shop, smtp):
    _controller, inbox = smtp
    buyer = make_user("smtp.orders@example.com", language="ko")
    # the suite hashes with MD5 for speed; the shop process knows only the production hashers
    buyer.password = PBKDF2PasswordHasher().encode(PASSWORD, "smtp-test-salt", iterations=1000)
    buyer.save(update_fields=["password"])
    tee = make_product(name="메일 티셔츠", slug="mail-tee", variants=[({"size": "M"}, 19000, 3)])
    variant = tee.variants.get()
    api = httpx.Client(base_url=shop, timeout=20)
    token = api.post("/api/v1/auth/token/", json={"email": buyer.email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    api.headers["Authorization"] = f"Bearer {token.json()['access']}"
    assert api.post("/api/v1/cart/items/", json={"variant": variant.pk, "quantity": 2}).status_code in (200, 201)
    placed = api.post("/api/v1/orders/", json={"shipping_address": ADDRESS})
    assert placed.status_code == 201, placed.text
    number = placed.json()["number"]

    [message] = inbox.wait_for("smtp.orders@example.com", 1)
    assert number in str(message["Subject"]) and "주문" in str(message["Subject"])
    text = text_part(message)
    assert "메일 티셔츠" in text and "38,000원" in text
    link = f"{shop}/orders/{number}/"
    assert link in text and f'href="{link}"' in html_part(message)

    page = httpx.Client(base_url=shop, follow_redirects=True)
    assert "/accounts/login/" in str(page.get(link).url)  # the link asks a visitor to log in first ...
    page.get("/accounts/login/")
    login = page.post(
        "/accounts/login/",
        data={"email": buyer.email, "password": PASSWORD, "csrfmiddlewaretoken": page.cookies["csrftoken"]},
        headers={"Referer": f"{shop}/accounts/login/"},
    )
    assert login.status_code == 200
    shown = page.get(link)
    assert shown.status_code == 200 and number in shown.text  # ... and shows the buyer the order
