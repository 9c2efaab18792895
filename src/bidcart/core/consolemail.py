"""The console email backend for development (EMAIL_URL=consolemail://, the default): each email printed as
a person reads it (decoded subject, addresses and the plain-text body), not as raw MIME with
=?utf-8?b?…?= subjects and base64 Korean. Attachments and the HTML part are named, not dumped."""

from django.core.mail.backends.console import EmailBackend


class ReadableConsoleBackend(EmailBackend):
    def write_message(self, message):
        alternatives = [mimetype for _content, mimetype in getattr(message, "alternatives", [])]
        lines = [
            f"From: {message.from_email}",
            f"To: {', '.join(message.to)}",
            *([f"Cc: {', '.join(message.cc)}"] if message.cc else []),
            f"Subject: {message.subject}",
            *([f"(also as {', '.join(alternatives)})"] if alternatives else []),
            *([f"(attachments: {len(message.attachments)})"] if message.attachments else []),
            "",
            message.body if isinstance(message.body, str) else str(message.body),
        ]
        self.stream.write("\n".join(lines).rstrip("\n") + "\n")
        self.stream.write("-" * 79 + "\n")
