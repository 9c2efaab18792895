import threading
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, connections

from bidcart.accounts import honeypot
from bidcart.accounts.models import BlockedIP
from bidcart.core.models import DemoSeed
from bidcart.core.seeding import seed_all


def run_at_once(n, func):
    """Run func in n threads released together; each thread has its own database connection."""
    barrier = threading.Barrier(n)
    errors = []

    def worker():
        try:
            barrier.wait()
            func()
        except Exception as exc:  # collected, asserted by the caller
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return errors


@pytest.mark.django_db
def test_migrations_apply_on_postgresql_and_models_match_them():
    assert connection.vendor == "postgresql"
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations WHERE app IN ('accounts', 'core')")
        assert cursor.fetchone()[0] >= 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_demo_seeds_create_each_demo_account_once():
    errors = run_at_once(8, seed_all)
    assert errors == []
    assert DemoSeed.objects.filter(app="accounts").count() == 1
    assert get_user_model().objects.filter(email__endswith="@example.com").count() == 4


@pytest.mark.django_db(transaction=True)
def test_concurrent_honeypot_attempts_block_the_address_exactly_once():
    def attempt():
        honeypot.record_attempt(ip="203.0.113.50", username="root", user_agent="bot", path="/admin/")

    errors = run_at_once(12, attempt)
    assert errors == []
    assert BlockedIP.objects.filter(ip="203.0.113.50").count() == 1
    assert honeypot.is_blocked("203.0.113.50")


def test_a_failed_login_without_a_client_address_is_a_clean_refusal_on_postgres(client, db):
    """PostgreSQL's inet columns (django-axes' attempts) refuse a placeholder like "unknown"."""
    from axes.models import AccessAttempt

    answer = client.post("/accounts/login/", {"email": "nobody@example.com", "password": "wrong"}, REMOTE_ADDR="")
    assert answer.status_code == 400  # the form again, with its error (not a 500)
    assert AccessAttempt.objects.get().ip_address is None
