from django.http import HttpResponseForbidden

from bidcart.core.errors import json_error
from bidcart.core.http import client_ip

from .honeypot import is_blocked


class HoneypotBlockMiddleware:
    """An address the honeypot blocked gets 403 on every path."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_blocked(client_ip(request)):
            if request.path.startswith("/api/"):
                return json_error("ip_blocked", "This address is blocked.", 403)
            return HttpResponseForbidden("<h1>403 Forbidden</h1><p>This address is blocked.</p>")
        return self.get_response(request)
