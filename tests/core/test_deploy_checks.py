"""The configuration checks behind `bidcart serve` and `bidcart manage check --deploy`: each refusal, and
what it tells the operator to set."""

import pytest
from django.core import checks

from bidcart.core.deploy_checks import Config, problems, simulated_payments

GOOD_SECRET = "k3J9-vQx_2mZ8pLr5TnW7yB4cHd6fGs1aEo0uIiKjMlNbVcXzQwErTyUiOpAsDfGh"
# Every provider with its real base URL and credentials (as deploy/bidcart.env.example has them).
REAL_PROVIDERS = {
    "KAKAOPAY_BASE_URL": "https://open-api.kakaopay.com",
    "KAKAOPAY_SECRET_KEY": "DEV-kakaopay-secret",
    "KAKAOPAY_CID": "CBIDCART01",
    "PORTONE_BASE_URL": "https://api.iamport.kr",
    "PORTONE_IMP_KEY": "1234567890123456",
    "PORTONE_IMP_SECRET": "imp-secret",
    "PORTONE_MERCHANT_CODE": "imp12345678",
    "PORTONE_V2_BASE_URL": "https://api.portone.io",
    "PORTONE_V2_SECRET": "v2-secret",
    "PORTONE_V2_STORE_ID": "store-4b5c",
    "PORTONE_V2_CHANNEL_KEY": "channel-key-4b5c",
    "PORTONE_V2_WEBHOOK_SECRET": "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=",
    "PAYPAL_BASE_URL": "https://api-m.paypal.com",
    "PAYPAL_CLIENT_ID": "paypal-client",
    "PAYPAL_CLIENT_SECRET": "paypal-secret",
    "PAYPAL_WEBHOOK_ID": "8PT597110X687430LKGECATA",
}
SCALED = {
    "SECRET_KEY": GOOD_SECRET,
    "ALLOWED_HOSTS": "shop.example.com",
    "DATABASE_URL": "postgres://bidcart:pw@db:5432/bidcart",
    "REDIS_URL": "redis://redis:6379/0",
    "PGSIM_MOUNT": "0",
    **REAL_PROVIDERS,
}
ACK = {"PGSIM_ACKNOWLEDGE": "payments-are-simulated"}


def ids(environ, workers=1):
    return [p.id for p in problems(Config.from_environ(environ, workers=workers))]


def only(environ, workers=1):
    found = problems(Config.from_environ(environ, workers=workers))
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_a_scaled_configuration_passes_with_several_workers():
    assert ids(SCALED, workers=4) == []


def test_one_worker_on_sqlite_without_redis_passes():
    assert ids({"SECRET_KEY": GOOD_SECRET, "ALLOWED_HOSTS": "shop.example.com", **REAL_PROVIDERS}) == []


def test_missing_secret_key_says_how_to_make_one():
    problem = only({**SCALED, "SECRET_KEY": ""})
    assert problem.id == "bidcart.E001"
    assert "SECRET_KEY is not set" in problem.message
    assert "Set SECRET_KEY" in problem.fix and "secrets.token_urlsafe(50)" in problem.fix


@pytest.mark.parametrize(
    "key",
    [
        "test-only-secret-key-never-used-outside-the-test-suite",  # the test suite's own
        "change-me-to-a-long-random-string-see-deploy-readme",  # the sample env file's
        "changeme",
        "django-insecure-" + GOOD_SECRET,  # startproject's
    ],
)
def test_a_known_secret_key_is_refused(key):
    problem = only({**SCALED, "SECRET_KEY": key})
    assert problem.id == "bidcart.E002"
    assert "known default or example value" in problem.message
    assert "Set SECRET_KEY to a new random value" in problem.fix


@pytest.mark.parametrize("key", ["short-but-random-9f8e7d", "a" * 80, "ab" * 40])
def test_a_short_or_simple_secret_key_is_refused(key):
    problem = only({**SCALED, "SECRET_KEY": key})
    assert problem.id == "bidcart.E003"
    assert "at least 50 characters" in problem.message


@pytest.mark.parametrize("hosts", [None, "", " , "])
def test_missing_or_empty_allowed_hosts_is_refused(hosts):
    environ = {k: v for k, v in SCALED.items() if k != "ALLOWED_HOSTS"}
    if hosts is not None:
        environ["ALLOWED_HOSTS"] = hosts
    problem = only(environ)
    assert problem.id == "bidcart.E004"
    assert "ALLOWED_HOSTS is not set" in problem.message
    assert "ALLOWED_HOSTS=shop.example.com" in problem.fix


@pytest.mark.parametrize("hosts", ["shop.example.com", "localhost,203.0.113.7", "*"])
def test_debug_with_a_public_host_is_refused(hosts):
    problem = only({**SCALED, "DEBUG": "1", "ALLOWED_HOSTS": hosts})
    assert problem.id == "bidcart.E005"
    assert "DEBUG is on while ALLOWED_HOSTS has public hosts" in problem.message
    assert "Unset DEBUG" in problem.fix


def test_debug_on_local_hosts_only_is_allowed():
    assert ids({**SCALED, "DEBUG": "1", "ALLOWED_HOSTS": "localhost,127.0.0.1,[::1],app.localhost"}) == []


def test_any_host_is_refused_even_without_debug():
    problem = only({**SCALED, "ALLOWED_HOSTS": "*"})
    assert problem.id == "bidcart.E006"
    assert "any Host header is accepted" in problem.message


def test_several_workers_on_sqlite_are_refused_and_told_why():
    problem = only({k: v for k, v in SCALED.items() if k != "DATABASE_URL"}, workers=2)
    assert problem.id == "bidcart.E007"
    assert "SQLite has one writer at a time" in problem.message
    assert "DATABASE_URL=postgres://" in problem.fix and "--workers 1" in problem.fix


def test_several_workers_without_redis_are_refused_and_told_why():
    problem = only({k: v for k, v in SCALED.items() if k != "REDIS_URL"}, workers=3)
    assert problem.id == "bidcart.E008"
    assert "in-memory channel layer" in problem.message and "not shared between processes" in problem.message
    assert "REDIS_URL=redis://" in problem.fix


def test_the_embedded_default_with_several_workers_gets_both_reasons():
    found = ids(
        {"SECRET_KEY": GOOD_SECRET, "ALLOWED_HOSTS": "shop.example.com", "PGSIM_MOUNT": "0", **REAL_PROVIDERS},
        workers=2,
    )
    assert found == ["bidcart.E007", "bidcart.E008"]


def test_several_workers_with_the_mounted_simulator_are_refused():
    problem = only({**SCALED, **ACK, "PGSIM_MOUNT": "1", "KAKAOPAY_BASE_URL": ""}, workers=2)
    assert problem.id == "bidcart.E009"
    assert "keeps its state in each process's memory" in problem.message
    assert "PGSIM_MOUNT=0" in problem.fix


def test_the_mounted_simulator_is_fine_once_every_provider_is_real_or_a_standalone_simulator_is_used():
    assert ids({**SCALED, **ACK, "PGSIM_MOUNT": "1", "PAYMENT_PROVIDERS": "kakaopay,paypal"}, workers=2) == []
    on_standalone = {**SCALED, **ACK, "PGSIM_URL": "http://pgsim.internal:8765", "PAYPAL_BASE_URL": ""}
    assert ids(on_standalone, workers=2) == []


# --- #13 item 3: a production server takes real money ------------------------------------------------


def test_the_simulator_is_not_mounted_by_default_without_debug():
    without = {k: v for k, v in SCALED.items() if k != "PGSIM_MOUNT"}
    assert Config.from_environ(without).pgsim_mount is False
    assert Config.from_environ({**without, "DEBUG": "1"}).pgsim_mount is True  # `bidcart run`


def test_a_mounted_simulator_is_refused_without_the_acknowledgement():
    problem = only({**SCALED, "PGSIM_MOUNT": "1"})
    assert problem.id == "bidcart.E010"
    assert "Approve" in problem.message and "PGSIM_MOUNT=0" in problem.fix
    assert "PGSIM_ACKNOWLEDGE=payments-are-simulated" in problem.fix
    # "1" or "yes" is not an acknowledgement: the words are
    assert ids({**SCALED, "PGSIM_MOUNT": "1", "PGSIM_ACKNOWLEDGE": "1"}) == ["bidcart.E010"]


def test_a_provider_without_its_real_base_url_is_refused_even_with_the_simulator_off():
    # the reproduction: a real key and host, no provider keys: "safe to serve" before
    environ = {"SECRET_KEY": GOOD_SECRET, "ALLOWED_HOSTS": "shop.example.com"}
    problem = only(environ)
    assert problem.id == "bidcart.E011"
    assert "kakaopay, portone, portone_v2, paypal" in problem.message
    assert "KAKAOPAY_BASE_URL" in problem.fix and "PAYMENT_PROVIDERS" in problem.fix
    assert only({**SCALED, "PGSIM_URL": "http://pgsim.internal:8765", "PORTONE_BASE_URL": ""}).id == "bidcart.E011"
    assert ids({**environ, "PAYMENT_PROVIDERS": ""}) == []  # no online payments offered at all


def test_a_real_provider_without_its_credentials_is_refused_by_name():
    problem = only({**SCALED, "PAYPAL_CLIENT_SECRET": "", "PAYPAL_WEBHOOK_ID": ""})
    assert problem.id == "bidcart.E012"
    assert "PAYPAL_CLIENT_SECRET, PAYPAL_WEBHOOK_ID" in problem.fix
    # KakaoPay needs the key its API generation signs with
    assert only({**SCALED, "KAKAOPAY_API": "legacy"}).fix.startswith("Set KAKAOPAY_ADMIN_KEY")
    assert ids({**SCALED, "KAKAOPAY_API": "legacy", "KAKAOPAY_ADMIN_KEY": "admin", "KAKAOPAY_SECRET_KEY": ""}) == []
    assert only({**SCALED, "PORTONE_MERCHANT_CODE": ""}).id == "bidcart.E012"


def test_paypal_in_krw_is_refused_because_paypal_does_not_take_krw():
    problem = only({**SCALED, "PAYPAL_CURRENCY": "KRW"})
    assert problem.id == "bidcart.E013"
    assert "PAYPAL_CURRENCY='KRW' is not a currency PayPal takes" in problem.message
    assert only({**SCALED, "PAYPAL_KRW_RATE": "0"}).id == "bidcart.E013"
    assert ids({**SCALED, "PAYPAL_CURRENCY": "JPY"}) == []


def test_an_acknowledged_demo_server_is_allowed_and_said_loudly():
    demo = {"SECRET_KEY": GOOD_SECRET, "ALLOWED_HOSTS": "demo.example.com", "PGSIM_MOUNT": "1", **ACK}
    assert ids(demo) == []
    assert "PAYMENTS ARE SIMULATED" in simulated_payments(Config.from_environ(demo))
    assert simulated_payments(Config.from_environ(SCALED)) == ""


def test_check_reports_paypal_in_krw_on_any_server(settings):
    settings.PAYPAL = {**settings.PAYPAL, "currency": "KRW"}
    messages = checks.run_checks(tags=[checks.Tags.security])
    assert [m.id for m in messages if m.id.startswith("bidcart.")] == ["bidcart.E013"]


def test_check_deploy_reports_the_same_problems_as_errors(settings, monkeypatch):
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    settings.DEBUG = False
    settings.SECRET_KEY = "changeme"
    settings.REDIS_URL = ""
    messages = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    ours = {m.id: m for m in messages if m.id.startswith("bidcart.")}
    assert {"bidcart.E002", "bidcart.E004", "bidcart.E007", "bidcart.E008"} <= set(ours)
    assert all(m.level == checks.ERROR for m in ours.values())
    assert "SECRET_KEY" in ours["bidcart.E002"].hint


def test_check_deploy_is_quiet_about_a_safe_configuration(settings, monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "shop.example.com")
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    settings.DEBUG = False
    settings.SECRET_KEY = GOOD_SECRET
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    settings.PGSIM_MOUNT = False
    real = Config.from_environ(SCALED).providers
    for name, key in (
        ("kakaopay", "KAKAOPAY"),
        ("portone", "PORTONE"),
        ("portone_v2", "PORTONE_V2"),
        ("paypal", "PAYPAL"),
    ):
        setattr(settings, key, real[name])
    messages = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert [m.id for m in messages if m.id.startswith("bidcart.")] == []


def test_check_deploy_refuses_the_test_suites_own_simulated_payments(settings, monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "shop.example.com")
    settings.DEBUG = False
    settings.SECRET_KEY = GOOD_SECRET
    messages = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert {"bidcart.E010", "bidcart.E011"} <= {m.id for m in messages}


# --- #18 item 4: `check --deploy` and `bidcart serve` read the environment the same way (core/env.py) ------


def test_check_deploy_counts_the_workers_serve_would_start_when_web_concurrency_is_not_set(settings, monkeypatch):
    # `bidcart serve` starts up to 4 workers on PostgreSQL with Redis; check --deploy assumed 1
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    scaled = {"DATABASE_URL": "postgres://bidcart:pw@db:5432/bidcart", "REDIS_URL": "redis://redis:6379/0"}
    assert Config.from_environ(scaled).workers == 4
    assert Config.from_settings(settings, environ=scaled).workers == 4
    assert Config.from_settings(settings, environ={**scaled, "WEB_CONCURRENCY": "3"}).workers == 3
    assert Config.from_settings(settings, environ={}).workers == 1  # SQLite: one


def test_check_deploy_knows_allowed_hosts_was_not_set_from_the_same_reader(settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    assert Config.from_settings(settings, environ={}).allowed_hosts is None
    assert Config.from_settings(settings, environ={"ALLOWED_HOSTS": "localhost"}).allowed_hosts == ["localhost"]


def test_a_malformed_web_concurrency_is_named():
    with pytest.raises(ValueError, match="WEB_CONCURRENCY must be a whole number"):
        Config.from_environ({"WEB_CONCURRENCY": "four"})
