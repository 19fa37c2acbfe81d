"""Connecting: the options dictionary, the checks made before trying at all, and plain-words
reasons for a failed connect."""

from __future__ import annotations

import base64
import binascii
import copy
import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .errors import redact

logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 15.0
_KNOWN_OPTIONS = ("auto_subscribe", "dynacast", "auto_reconnect", "connect_timeout", "e2ee")


@dataclass(frozen=True)
class ConnectOptions:
    """The options dictionary of ``connect_to_room``, checked and typed."""

    auto_subscribe: bool = True
    dynacast: bool = False
    auto_reconnect: bool = True
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    e2ee: Any = None

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None) -> ConnectOptions:
        """Build from the user's dictionary; raises ``ValueError`` with plain words."""
        if options is None:
            return cls()
        if not isinstance(options, Mapping):
            raise ValueError(f"options must be a Dictionary, got {type(options).__name__}")
        for key in options:
            if key not in _KNOWN_OPTIONS:
                logger.warning(
                    "connect_to_room: unknown option %r ignored (known: %s)",
                    key,
                    ", ".join(_KNOWN_OPTIONS),
                )
        values: dict[str, Any] = {}
        for key in ("auto_subscribe", "dynacast", "auto_reconnect"):
            if key in options:
                value = options[key]
                # GDScript code often passes 0/1: numbers count as bools, as in the original
                if not isinstance(value, bool | int | float):
                    raise ValueError(f"option {key!r} must be true or false, got {value!r}")
                values[key] = bool(value)
        if "connect_timeout" in options:
            timeout = options["connect_timeout"]
            if isinstance(timeout, bool) or not isinstance(timeout, int | float):
                raise ValueError(f"option 'connect_timeout' must be seconds, got {timeout!r}")
            if math.isnan(timeout):
                raise ValueError("option 'connect_timeout' must be a number of seconds, not NaN")
            values["connect_timeout"] = max(0.0, float(timeout))  # 0 or less: no limit
        e2ee = options.get("e2ee")
        if e2ee is not None:
            from .e2ee import LiveKitE2eeOptions

            # the original ignores a wrong value and connects unencrypted; we refuse: a game that
            # asked for encryption must not end up sending in the clear
            if not isinstance(e2ee, LiveKitE2eeOptions):
                raise ValueError("option 'e2ee' must be a LiveKitE2eeOptions")
            values["e2ee"] = copy.copy(e2ee)  # later changes must not reach this connect
        return cls(**values)


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
    # Anything else about the token is the server's to judge, as in the original and the
    # SDKs: this machine's clock may be wrong, and an unreachable server should still read
    # "timed out". A rejected token is explained from its claims (describe_connect_error).


def _explain_rejected_token(token: str) -> str | None:
    """Why the server probably rejected ``token``, read from its unverified claims."""
    claims = _jwt_claims(token)
    if claims is None:
        return "invalid token: not a LiveKit access token (JWT)"
    expires = claims.get("exp")
    if isinstance(expires, (int, float)) and expires < time.time():
        return f"token expired {int(time.time() - expires)} s ago: mint a new access token"
    return None


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
        explained = _explain_rejected_token(token)
        if explained is not None:
            reason = f"{explained}; the server rejected it"
        elif "expired" in text or "exp" in text.split():
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
