"""The domain's refusals, free of any transport.

Services raise these; each transport answers them in its own words, in one place:
`core.errors.api_exception_handler` (and `http_status` for the HTML views) maps the class to an HTTP
status, the live room's consumer sends an `error` frame. A service never names an HTTP status.

    raise NotFound(_("No such order."), code="not_found")
    raise Conflict(_("The lot has closed."), code="lot_closed")

`code` is stable and machine-readable, `detail` is a sentence for people (translated).
"""


class DomainError(Exception):
    """A rule of the domain refused the request. Subclass by *kind* of refusal, not by rule."""

    code = "conflict"
    retry_after: int | None = None  # seconds, when waiting would help (rate limits, resend throttles)

    def __init__(self, detail: str, *, code: str | None = None, retry_after: int | None = None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        if retry_after is not None:
            self.retry_after = retry_after


class Invalid(DomainError):
    """The request itself is wrong: a value out of range, a missing field, an unknown choice."""

    code = "invalid"


class NotAuthenticated(DomainError):
    """Only a signed-in person may do this."""

    code = "not_authenticated"


class Forbidden(DomainError):
    """This person may not do this (not a seller, not their lot)."""

    code = "forbidden"


class NotFound(DomainError):
    """No such thing, or none this person may see (we don't say which)."""

    code = "not_found"


class Conflict(DomainError):
    """The request is fine but the state of things refuses it now (sold out, lot closed, already paid)."""

    code = "conflict"


class TooLarge(DomainError):
    """More than the shop accepts at once (an upload, an order's lines)."""

    code = "too_large"


class Throttled(DomainError):
    """Too many attempts: wait `retry_after` seconds."""

    code = "rate_limited"


class Unavailable(DomainError):
    """Something the shop depends on (a payment provider, the SMS gateway) did not answer usefully."""

    code = "unavailable"


class ProviderError(Unavailable):
    """A payment provider answered with an error we could not turn into a decision."""

    code = "provider_error"
