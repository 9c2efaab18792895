"""Schemathesis over every operation of the OpenAPI schema, against the real server on PostgreSQL.

Every operation is called with generated input, valid and invalid (schemathesis' coverage and fuzzing
phases), as an anonymous visitor and as each kind of user: a verified buyer who owns one of
everything, a seller who owns the product and the lots, staff. Path parameters are mostly the ids of real
objects (tests/cast.py), so calls reach real rows, not only 404s. Every answer must be no 5xx, a status the
schema declares, the content type it declares and a body that matches its schema.

Schemathesis runs as its own process (`st run`, its stable interface) against the server this test starts.
Bounded: a fixed number of examples per operation, derandomized, so a run is the same each time and the
four take a few minutes.
"""

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from bidcart.accounts.jwt import access_token_for
from tests import cast as world

EXAMPLES_PER_OPERATION = 15
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
ST = Path(sys.executable).with_name("st")


def config_toml(cast: world.Cast, user) -> str:
    """Path parameters and body fields that name an object take a real object's id 70% of the time (anything
    the schema allows otherwise)."""
    c = cast
    real = {
        "path.id": [c.lot.pk, c.review.pk, c.cart_item.pk, c.offer.pk, c.offer.lot_id],
        "path.number": [c.order.number, c.paid_order.number],
        "path.merchant_uid": [c.payment.merchant_uid],
        "path.slug": [c.product.slug],
        "path.message_id": [c.message.pk],
        "body.variant": [c.product.variants.get().pk],
        "body.product": [c.product.slug],
        "body.category": [c.product.category.slug],
        # valid more often than chance would have it, so calls get past validation: a phone in the form the
        # API takes (the caller's own, so a profile edit keeps it verified), a postcode, a lot's end tomorrow
        "body.phone": [str((user or c.buyer).phone)],
        "body.shipping_address.phone": [str((user or c.buyer).phone)],
        "body.shipping_address.postcode": ["06236"],
        "body.ends_at": [(timezone.now() + timedelta(days=1)).isoformat()],
    }
    lines = [
        "seed = 20261122",
        "[generation]",
        f"max-examples = {EXAMPLES_PER_OPERATION}",
        "deterministic = true",
        'database = "none"',
        "[phases.stateful]",
        "enabled = false",
    ]
    for key, values in real.items():
        lines += [f"[dictionaries.{key.replace('.', '_')}]", f"values = {json.dumps(values)}"]
    lines.append("[parameters]")
    lines += [f'"{key}" = {{ dictionary = "{key.replace(".", "_")}", probability = 0.7 }}' for key in real]
    return "\n".join(lines) + "\n"


def bearer(user) -> str:
    token = access_token_for(user)
    token.set_exp(lifetime=timedelta(hours=1))  # outlives the run
    return f"Bearer {token}"


# Editing the profile may clear the phone, and with it the verification bidding and listing need: these run
# after everything else, so they cannot take the rest of the run's ground away.
LAST = ["PATCH /api/v1/me/"]


@pytest.mark.parametrize("identity", ["anonymous", "buyer", "seller", "staff"])
def test_every_operation_answers_as_its_schema_says(live_shop, identity, tmp_path):
    url, _sim = live_shop
    cast = world.build()
    user = None if identity == "anonymous" else getattr(cast, identity)
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_toml(cast, user))
    command = [
        str(ST),
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{url}/api/schema/?format=json",
        "--url",
        url,
        "--checks",
        CHECKS,
        "--workers",
        "1",
    ]
    if user is not None:
        command += ["--header", f"Authorization: {bearer(user)}"]
    for selection in ("--exclude-name", "--include-name"):
        run = subprocess.run(
            command + [arg for name in LAST for arg in (selection, name)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
        )
        assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
