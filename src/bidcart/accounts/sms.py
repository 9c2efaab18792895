"""Pluggable SMS delivery, chosen by the SMS_BACKEND setting.

- `ConsoleSMSBackend` (default): logs the message and keeps the last ones in `outbox`.
- `SensSMSBackend`: Naver Cloud SENS v2 (`POST /sms/v2/services/{serviceId}/messages`), signed with
  `x-ncp-apigw-signature-v2` = base64(HMAC-SHA256(secret key, "POST {uri}\\n{timestamp}\\n{access key}")).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from abc import ABC, abstractmethod
from collections import deque

import httpx
import phonenumbers
from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# Messages the console backend "sent", newest last (tests and local development read codes here).
outbox: deque = deque(maxlen=100)


class SMSError(Exception):
    """The message could not be handed to the SMS provider."""


class BaseSMSBackend(ABC):
    @abstractmethod
    def send(self, to: str, text: str) -> None:
        """Send `text` to the E.164 number `to`; raise SMSError when it cannot be sent."""


class ConsoleSMSBackend(BaseSMSBackend):
    def send(self, to: str, text: str) -> None:
        outbox.append({"to": str(to), "text": text})
        logger.info("SMS to %s: %s", to, text)
        print(f"[sms] to {to}: {text}", flush=True)


def sens_signature(secret_key: str, method: str, uri: str, timestamp: str, access_key: str) -> str:
    """The `x-ncp-apigw-signature-v2` header value for a request (uri = path plus query string)."""
    message = f"{method} {uri}\n{timestamp}\n{access_key}"
    digest = hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def split_number(to: str) -> tuple[str, str]:
    """E.164 → (SENS countryCode, digits-only recipient): "+821012345678" → ("82", "01012345678")."""
    number = phonenumbers.parse(str(to), settings.PHONENUMBER_DEFAULT_REGION)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return str(number.country_code), "".join(ch for ch in national if ch.isdigit())


class SensSMSBackend(BaseSMSBackend):
    """Naver Cloud SENS SMS API v2."""

    timeout = 10.0

    def __init__(self, *, access_key=None, secret_key=None, service_id=None, sender=None, base_url=None):
        self.access_key = access_key or settings.SENS_ACCESS_KEY
        self.secret_key = secret_key or settings.SENS_SECRET_KEY
        self.service_id = service_id or settings.SENS_SERVICE_ID
        self.sender = sender or settings.SENS_SENDER
        self.base_url = (base_url or settings.SENS_BASE_URL).rstrip("/")
        missing = [n for n in ("access_key", "secret_key", "service_id", "sender") if not getattr(self, n)]
        if missing:
            raise SMSError(f"SENS is not configured: set {', '.join('SENS_' + m.upper() for m in missing)}.")

    def build_request(self, to: str, text: str, *, timestamp: str | None = None) -> tuple[str, dict, dict]:
        """(uri, headers, JSON body) for one SMS."""
        uri = f"/sms/v2/services/{self.service_id}/messages"
        timestamp = timestamp or str(int(time.time() * 1000))
        country_code, recipient = split_number(to)
        body = {
            "type": "SMS",
            "contentType": "COMM",
            "countryCode": country_code,
            "from": "".join(ch for ch in self.sender if ch.isdigit()),
            "content": text,
            "messages": [{"to": recipient}],
        }
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "x-ncp-apigw-timestamp": timestamp,
            "x-ncp-iam-access-key": self.access_key,
            "x-ncp-apigw-signature-v2": sens_signature(self.secret_key, "POST", uri, timestamp, self.access_key),
        }
        return uri, headers, body

    def send(self, to: str, text: str) -> None:
        uri, headers, body = self.build_request(to, text)
        try:
            response = httpx.post(self.base_url + uri, json=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise SMSError(f"SENS could not be reached: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 202:
            raise SMSError(f"SENS refused the message: HTTP {response.status_code} {response.text[:300]}")
        data = response.json() if response.content else {}
        logger.info("SENS accepted SMS to %s: request %s", to, data.get("requestId"))


def get_backend() -> BaseSMSBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(to: str, text: str) -> None:
    get_backend().send(to, text)
