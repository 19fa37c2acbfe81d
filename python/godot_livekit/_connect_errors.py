"""Plain-words reasons for a failed connect, and the checks made before trying at all."""

from __future__ import annotations

import base64
import binascii
import json
import time
from urllib.parse import urlsplit

from .errors import redact

_SCHEMES = ("ws", "wss", "http", "https")


def precheck_connect(url: object, token: object) -> None:
    """Raise ``ValueError`` for a URL or token that cannot work, before any network use."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("invalid URL: expected a ws:// or wss:// address of a LiveKit server")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise ValueError(f"invalid URL {url!r}: {error}") from None
    if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
        raise ValueError(
            f"invalid URL {url!r}: expected ws://host:port or wss://host (http/https also work)"
        )
    if port == 0:
        raise ValueError(f"invalid URL {url!r}: port 0")
    if not isinstance(token, str) or not token.strip():
        raise ValueError("invalid token: the access token is empty")
    claims = _jwt_claims(token)
    if claims is None:
        raise ValueError("invalid token: not a LiveKit access token (JWT)")
    expires = claims.get("exp")
    if isinstance(expires, (int, float)) and expires < time.time():
        age = int(time.time() - expires)
        raise ValueError(f"token expired {age} s ago: mint a new access token")


def _jwt_claims(token: str) -> dict[str, object] | None:
    """The unverified claims of a JWT (only to explain failures; the server verifies)."""
    pieces = token.strip().split(".")
    if len(pieces) != 3:
        return None
    body = pieces[1] + "=" * (-len(pieces[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(body.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError):
        return None
    return claims if isinstance(claims, dict) else None


def describe_connect_error(error: BaseException, url: str, token: str) -> str:
    """Turn an SDK connect failure into a short reason a game developer can act on."""
    raw = str(getattr(error, "message", "") or error or type(error).__name__)
    text = raw.lower()
    host = urlsplit(url).netloc or url
    if "401" in text or "unauthorized" in text or "invalid token" in text or "jwt" in text:
        if "expired" in text or "exp" in text.split():
            reason = "token expired: mint a new access token"
        else:
            reason = "invalid token: the server rejected the access token (wrong key or secret?)"
    elif "403" in text or "forbidden" in text or "permission" in text:
        reason = "not allowed: the token does not grant joining this room"
    elif "refused" in text:
        reason = f"server unreachable at {host}: connection refused"
    elif "dns" in text or "resolve" in text or "lookup" in text or "name or service" in text:
        reason = f"server unreachable: cannot resolve host {host}"
    elif "timed out" in text or "timeout" in text or "elapsed" in text:
        reason = f"timed out connecting to {host}"
    elif "unreachable" in text or "no route" in text:
        reason = f"server unreachable at {host}: no route to host"
    else:
        reason = f"connection to {host} failed"
    return redact(f"{reason} ({raw})", token)
