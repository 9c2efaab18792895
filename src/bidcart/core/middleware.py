"""`RequestObserverMiddleware`: first in MIDDLEWARE, it sees every answer (static files and refusals too);
`DatabaseUnavailableMiddleware` (last) answers 503 while the database is unreachable.

For each request it
- takes the caller's `X-Request-ID` when it looks like one (else makes one), puts it on the request
  (`request.request_id`), on every log line written meanwhile, and on the response;
- counts the request and its latency in Prometheus under the URL pattern that matched (`/auctions/<int:pk>/`,
  never the raw path: bounded cardinality; the secret admin path shows as `<admin>/`);
- writes one log line (`bidcart.request`): method, route, path, status, duration, user id, and the
  payment's `merchant_uid` or the auction's `lot_id` when the URL names one.

It runs natively in both modes (ASGI and WSGI) so it adds no thread hop.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.deprecation import MiddlewareMixin
from django.utils.functional import empty

from . import logs, metrics
from .errors import http_status, json_error
from .ratelimit import RateLimited

log = logging.getLogger("bidcart.request")
db_log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")
_LOT_ROUTES = ("auctions/", "api/v1/lots/")


def incoming_request_id(value: str | None) -> str:
    """The caller's (a proxy's) request id if it is a sane token, else a fresh one."""
    if value and _VALID_ID.match(value):
        return value
    return uuid.uuid4().hex


def route_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        if settings.STATIC_URL and request.path_info.startswith(settings.STATIC_URL):
            return "<static>"
        return "<unmatched>"
    route = match.route or match.view_name or "<unknown>"
    if route.startswith(settings.ADMIN_PATH):
        route = "<admin>/" + route[len(settings.ADMIN_PATH) :]
    return "/" + route


def subjects_of(match) -> dict:
    """merchant_uid / lot_id named by the URL, from the resolver's keyword arguments."""
    if match is None:
        return {}
    kwargs = match.kwargs or {}
    found = {}
    if kwargs.get("merchant_uid"):
        found["merchant_uid"] = str(kwargs["merchant_uid"])
    lot = kwargs.get("lot_id")
    if lot is None and "pk" in kwargs and (match.route or "").startswith(_LOT_ROUTES) and "offers/" not in match.route:
        lot = kwargs["pk"]
    if lot is not None:
        found["lot_id"] = lot
    return found


def _user_id(request):
    """The user's id if this request already loaded the user (never a query just for the log)."""
    user = getattr(request, "user", None)
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is empty or wrapped is None:
        return None
    return wrapped.pk if getattr(wrapped, "is_authenticated", False) else None


class RequestObserverMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
            self.process_view = self._process_view_async
        else:
            self.process_view = self._process_view

    # Django calls process_view once the URL is resolved: the view's own log lines get the ids too.
    def _process_view(self, request, view_func, view_args, view_kwargs):
        for name, value in subjects_of(request.resolver_match).items():
            logs.CONTEXT[name].set(value)
        return None

    async def _process_view_async(self, request, view_func, view_args, view_kwargs):
        return self._process_view(request, view_func, view_args, view_kwargs)

    def _begin(self, request):
        request.request_id = incoming_request_id(request.headers.get(REQUEST_ID_HEADER))
        tokens = [(var, var.set(None)) for var in logs.CONTEXT.values()]
        logs.request_id.set(request.request_id)
        return time.perf_counter(), tokens

    def _end(self, request, response, started, tokens):
        seconds = time.perf_counter() - started
        try:
            response[REQUEST_ID_HEADER] = request.request_id
            method = request.method if request.method in metrics.METHODS else "OTHER"
            route = route_of(request)
            status = getattr(response, "status_code", 500)
            metrics.requests.labels(method, route, str(status)).inc()
            metrics.request_latency.labels(method, route).observe(seconds)
            fields = {
                "event": "request",
                "method": method,
                "route": route,
                "path": request.path,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "user_id": _user_id(request),
                **subjects_of(getattr(request, "resolver_match", None)),
            }
            level = logging.ERROR if status >= 500 else logging.INFO
            log.log(level, "%s %s %s %.1f ms", method, request.path, status, seconds * 1000, extra=fields)
        finally:
            for var, token in reversed(tokens):
                var.reset(token)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        started, tokens = self._begin(request)
        response = self.get_response(request)
        self._end(request, response, started, tokens)
        return response

    async def __acall__(self, request):
        started, tokens = self._begin(request)
        response = await self.get_response(request)
        self._end(request, response, started, tokens)
        return response


def _refusal(request, *, code: str, detail: str, status: int, retry_after: int, page) -> HttpResponse:
    """A refusal no view answered: the API's error body under /api/, `page()` elsewhere; Retry-After on both."""
    response = json_error(code, detail, status) if request.path.startswith("/api/") else page()
    response["Retry-After"] = str(retry_after)
    return response


class RateLimitedMiddleware(MiddlewareMixin):
    """A `RateLimited` that no view answered itself (the admin's login, say) becomes a 429 with Retry-After:
    the error body under /api/, a page with the message elsewhere. Never a 500."""

    def process_exception(self, request, exception):
        if not isinstance(exception, RateLimited):
            return None
        return _refusal(
            request,
            code=exception.code,
            detail=exception.detail,
            status=http_status(exception),
            retry_after=exception.retry_after,
            page=lambda: render(
                request, "web/rate_limited.html", {"detail": exception.detail}, status=http_status(exception)
            ),
        )


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """The database is down, restarting or failing over: a clean 503 with Retry-After (the API's error body,
    a plain page elsewhere) instead of a 500, and a warning in the log rather than a traceback per request.
    Django connects per request (CONN_HEALTH_CHECKS drops a dead persistent connection), so the first request
    after the database is back succeeds; nothing needs a restart. Last in MIDDLEWARE: its process_exception
    is asked first."""

    RETRY_AFTER_SECONDS = 5

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        reason = (str(exception).strip().splitlines() or [type(exception).__name__])[0][:200]
        db_log.warning("database unavailable: %s %s answered 503 (%s)", request.method, request.path, reason)
        return _refusal(
            request,
            code="service_unavailable",
            detail="The service is briefly unavailable; try again in a few seconds.",
            status=503,
            retry_after=self.RETRY_AFTER_SECONDS,
            page=lambda: HttpResponse(render_to_string("core/unavailable.html"), status=503),
        )


class NoUrlListingMiddleware(MiddlewareMixin):
    """With DEBUG on (`bidcart run`, `make run`) Django answers a 404 with its technical page, which lists
    every URL pattern, the secret admin path (BIDCART_ADMIN_PATH) among them. Answer with the site's own 404
    instead; DEBUG's other pages (tracebacks on a local host) stay. Placed outside CommonMiddleware, so a
    missing slash is still redirected first."""

    def process_exception(self, request, exception):
        if settings.DEBUG and isinstance(exception, Http404):  # raised by a view (get_object_or_404, …)
            from .views import not_found

            return not_found(request, exception)
        return None

    def process_response(self, request, response):
        # No URL pattern matched (the resolver's 404 comes back as a response, not an exception).
        if settings.DEBUG and response.status_code == 404 and getattr(request, "resolver_match", None) is None:
            from .views import not_found

            return not_found(request, Http404())
        return response
