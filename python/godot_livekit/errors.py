"""Errors raised by the core, and the scrubbing that keeps secrets out of messages."""

from __future__ import annotations

import logging
import re


class LiveKitError(RuntimeError):
    """A call that cannot be carried out in the object's current state (e.g. not connected)."""


_TOKEN_QUERY = re.compile(r"(access_token=)[^&\s\"']+", re.IGNORECASE)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
# the SDK's native layer logs a failed request whole, E2EE keys included:
# ``SetSharedKeyRequest { shared_key: [17, 17, ...] }``
_KEY_FIELD = re.compile(
    r"\b(\w*key\w*|ratchet_salt)(\s*:\s*)(?:Some\(\s*)?\[[0-9,\s]*\](?:\s*\))?",
    re.IGNORECASE,
)


def redact(text: str, *secrets: str | bytes | None) -> str:
    """Remove tokens, JWT-looking strings and the given secrets from ``text``."""
    text = _TOKEN_QUERY.sub(r"\1<redacted>", text)
    text = _JWT.sub("<redacted token>", text)
    text = _KEY_FIELD.sub(r"\1\2<redacted>", text)
    for secret in secrets:
        if isinstance(secret, bytes):
            secret = secret.decode("utf-8", "replace")
        if secret and len(secret) >= 4:
            text = text.replace(secret, "<redacted>")
    return text


_REDACTED_LOGGERS = ("livekit", "godot_livekit")
_redaction_installed = False
HARMLESS_SDK_LINES = (
    # a publish or unpublish negotiation still running when the room disconnects
    ("failed to negotiate the publisher", "wrong state: closed"),
    # the SDK releasing a handle its own server already dropped
    ("Attempted to drop unknown FFI handle",),
    # a video stream keeping only the newest frame (capacity 1, video_stream.py) drops the
    # older one natively when two arrive before it is read: by design, not a fault
    ("native video stream queue overflow", "dropped"),
)
"""SDK log lines (all the parts in one line) that report nothing wrong for the game: they
are logged at DEBUG, so no handler at WARNING (the addon's push_error/push_warning router)
shows a red error after a normal disconnect."""


def _harmless(record: logging.LogRecord, message: str) -> bool:
    if record.name != "livekit" or record.levelno < logging.WARNING:
        return False
    return any(all(part in message for part in parts) for parts in HARMLESS_SDK_LINES)


def install_log_redaction() -> None:
    """Scrub tokens from every log record of the SDK and of this package.

    The SDK's native layer logs a rejected token in full; the record factory rewrites
    such messages before any handler sees them, and lowers the SDK's harmless lines
    (``HARMLESS_SDK_LINES``) to DEBUG. Idempotent.
    """
    global _redaction_installed
    if _redaction_installed:
        return
    _redaction_installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.name.startswith(_REDACTED_LOGGERS):
            try:
                message = record.getMessage()
            except Exception:
                return record
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
            if _harmless(record, cleaned):
                record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record

    logging.setLogRecordFactory(factory)
