"""Login rate limit for every way in: the login page, the API's token endpoint and the admin's login all
call `authenticate(request, ...)`, which asks this backend first."""

from bidcart.core import ratelimit
from bidcart.core.http import client_ip


class LoginRateLimitBackend:
    """Counts each login attempt per client address (RATE_LIMIT_LOGIN; django-axes locks one account
    after failures, this stops one address trying many). Past the limit `RateLimited` propagates out of
    `authenticate()`; the login page and the token endpoint answer it, core's middleware answers it
    anywhere else. Authenticates nobody itself."""

    def authenticate(self, request, **credentials):
        if request is not None:
            ratelimit.hit("login", client_ip(request))
        return None  # no get_user(): Django never picks this backend to load a logged-in user
