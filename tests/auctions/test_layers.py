"""The auctions' services speak the domain's words: no transport (DRF, Django's HTTP layer) in them."""

import ast
from pathlib import Path

import bidcart.auctions.services as services

TRANSPORTS = ("rest_framework", "django.http", "channels")


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_auction_services_import_no_transport():
    modules = sorted(Path(services.__file__).parent.glob("*.py"))
    assert len(modules) > 1
    found = {m.name: name for m in modules for name in _imports(m) if name.startswith(TRANSPORTS)}
    assert found == {}


def test_auction_services_name_no_http_status():
    modules = sorted(Path(services.__file__).parent.glob("*.py"))
    assert [m.name for m in modules if "HTTP_" in m.read_text() or "status_code" in m.read_text()] == []
