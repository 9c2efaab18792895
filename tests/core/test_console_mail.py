"""On the console backend (development's default) an email reads as a person reads it: the Korean subject and
body decoded, not raw MIME."""

import io

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection


def test_the_default_console_backend_prints_the_subject_and_body_decoded():
    assert settings.EMAIL_CONFIG["EMAIL_BACKEND"] == "bidcart.core.consolemail.ReadableConsoleBackend"
    stream = io.StringIO()
    connection = get_connection(settings.EMAIL_CONFIG["EMAIL_BACKEND"], stream=stream)
    message = EmailMultiAlternatives(
        "[bidcart] 이메일 주소를 인증해 주세요",
        "안녕하세요, 김인증님.\n아래 링크를 여세요.",
        "bidcart <no-reply@bidcart.local>",
        ["kim@example.com"],
        connection=connection,
    )
    message.attach_alternative("<p>안녕하세요</p>", "text/html")
    message.send()
    printed = stream.getvalue()
    assert "Subject: [bidcart] 이메일 주소를 인증해 주세요" in printed
    assert "안녕하세요, 김인증님.\n아래 링크를 여세요." in printed
    assert "=?utf-8?" not in printed and "Content-Transfer-Encoding" not in printed
    assert "<p>" not in printed  # the HTML part is named, not dumped
