"""deploy/: the compose file loads and has the topology the guide describes, nginx upgrades WebSockets,
and the sample env file documents every variable bidcart reads and is refused until it is edited."""

import re
from pathlib import Path

import yaml

from bidcart.core.deploy_checks import Config, problems

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def compose():
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def env_example() -> dict:
    """Every variable in the sample file, set or commented out (`# NAME=value`)."""
    found = {}
    for line in (DEPLOY / "bidcart.env.example").read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=(.*)$", line)
        if match:
            found[match.group(1)] = (match.group(2), not line.startswith("#"))
    return found


def test_compose_runs_two_webs_a_worker_one_beat_postgres_redis_and_nginx():
    services = compose()["services"]
    assert {"web1", "web2", "worker", "beat", "postgres", "redis", "nginx", "migrate"} == set(services)
    for web in ("web1", "web2"):
        command = services[web]["command"]
        assert command[:2] == ["bidcart", "serve"] and "--workers" in command
        assert services[web]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "/readyz" in " ".join(services[web]["healthcheck"]["test"])
    assert services["worker"]["command"][:2] == ["bidcart", "worker"]
    assert services["beat"]["command"][:2] == ["bidcart", "beat"]
    assert services["migrate"]["command"] == ["bidcart", "manage", "migrate", "--noinput"]
    for name in ("web1", "web2", "worker", "beat", "migrate"):
        service = services[name]
        assert service["env_file"] == "bidcart.env"
        assert (
            service["environment"]["DATABASE_URL"].startswith("postgres://")
            and "@postgres:5432/" in service["environment"]["DATABASE_URL"]
        )
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["nginx"]["ports"] == ["80:80"]
    assert set(services["nginx"]["depends_on"]) == {"web1", "web2"}
    assert (DEPLOY / "Dockerfile").exists()


def test_nginx_balances_both_webs_and_upgrades_websockets():
    conf = (DEPLOY / "nginx.conf").read_text()
    assert "server web1:8000" in conf and "server web2:8000" in conf
    assert "ip_hash" not in conf and "sticky" not in conf.replace("sticky sessions", "")  # not needed
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert "proxy_http_version 1.1;" in conf
    assert "X-Forwarded-For" in conf and "X-Forwarded-Proto" in conf and "X-Request-ID $request_id" in conf
    assert "location = /metrics { return 404; }" in conf


def test_the_sample_env_file_lists_every_variable_settings_reads():
    # settings.py, the environment reader it shares with `bidcart serve` and every provider's options
    from bidcart.payments.providers import classes

    sources = [(ROOT / "src" / "bidcart" / name).read_text() for name in ("settings.py", "core/env.py")]
    read = {
        name
        for text in sources
        for name in re.findall(r'env\.(?:str|bool|int|float|list|db|email_url)\("([A-Z0-9_]+)"', text)
    }
    read |= {f"{cls.settings_key}_{option.upper()}" for cls in classes().values() for option in cls.options}
    assert len(read) > 60
    documented = env_example()
    assert sorted(read - set(documented)) == []
    assert {"WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR"} <= set(documented)


def test_every_variable_in_the_sample_env_file_has_a_comment_above_it():
    lines = (DEPLOY / "bidcart.env.example").read_text().splitlines()
    setting = re.compile(r"^#?\s*[A-Z][A-Z0-9_]+=")
    for index, line in enumerate(lines):
        if setting.match(line):
            above = index - 1  # a group of related variables shares the comment above it
            while above >= 0 and setting.match(lines[above]):
                above -= 1
            assert above >= 0 and lines[above].startswith("# "), f"{line} has no comment"


def test_the_sample_env_file_is_refused_until_edited_and_accepted_after():
    environ = {name: value for name, (value, active) in env_example().items() if active}
    services = compose()["services"]
    environ.update(services["web1"]["environment"])
    environ["POSTGRES_PASSWORD"] = "x"
    found = problems(Config.from_environ(environ, workers=2))
    # the example SECRET_KEY, and the provider keys left for the operator to fill in
    assert {p.id for p in found} == {"bidcart.E002", "bidcart.E012"}
    environ["SECRET_KEY"] = "k3J9-vQx_2mZ8pLr5TnW7yB4cHd6fGs1aEo0uIiKjMlNbVcXzQwErTyUiOpAsDfGh"
    environ.update(
        {
            name: f"key-from-the-console-{name.lower()}"
            for name, value in environ.items()
            if not value and name.startswith(("KAKAOPAY_", "PORTONE_", "PAYPAL_"))
        }
    )
    assert problems(Config.from_environ(environ, workers=2)) == []


def test_nginx_serves_uploads_as_pictures_or_downloads_never_as_pages():
    """The same rules as bidcart's own /media/ (core/media.py): image types only, nosniff, a closed CSP."""
    conf = (DEPLOY / "nginx.conf").read_text()
    block = conf[conf.index("location /media/ {") : conf.index("location / {")]
    outer, inner = block.split("location ~*", 1)
    assert "root /data;" in outer and "types { }" in outer and "default_type application/octet-stream;" in outer
    assert "add_header Content-Disposition attachment always;" in outer
    assert "types { image/jpeg jpg jpeg; image/png png; image/webp webp; }" in inner
    assert "text/html" not in block and "svg" not in block and "javascript" not in block
    for part in (outer, inner):
        assert "add_header X-Content-Type-Options nosniff always;" in part
        assert "add_header Content-Security-Policy \"default-src 'none'; sandbox\" always;" in part
    nginx = compose()["services"]["nginx"]
    assert "media:/data/media:ro" in nginx["volumes"]
    assert all("media:/data/media" in compose()["services"][web]["volumes"] for web in ("web1", "web2"))
