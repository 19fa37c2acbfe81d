"""Dev access tokens for LiveKit rooms.

    python -m godot_livekit.tools.tokens --identity alice --room dev-room

prints a JWT signed with the dev key pair (or ``--api-key``/``--api-secret``, or the
``LIVEKIT_API_KEY``/``LIVEKIT_API_SECRET`` environment variables).
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Mapping, Sequence
from datetime import timedelta

from livekit import api

logger = logging.getLogger(__name__)

DEV_API_KEY = "devkey"
# Public, fixed dev secret (40 characters: PyJWT warns about HMAC keys under 32 bytes).
# Only for local servers started by this project; never use it in production.
DEV_API_SECRET = "godot-livekit-dev-secret-not-for-prod-00"
DEFAULT_TTL_SECONDS = 6 * 3600


def mint_token(
    api_key: str,
    api_secret: str,
    identity: str,
    room: str,
    *,
    name: str | None = None,
    metadata: str | None = None,
    attributes: Mapping[str, str] | None = None,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    can_update_own_metadata: bool = True,
    can_publish: bool = True,
    can_subscribe: bool = True,
    can_publish_data: bool = True,
) -> str:
    """Return a signed JWT that lets `identity` join `room` with the given grants."""
    if not identity:
        raise ValueError("identity must not be empty")
    if not room:
        raise ValueError("room must not be empty")
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    grants = api.VideoGrants(
        room_join=True,
        room=room,
        can_publish=can_publish,
        can_subscribe=can_subscribe,
        can_publish_data=can_publish_data,
        can_update_own_metadata=can_update_own_metadata,
    )
    token = (
        api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_ttl(timedelta(seconds=ttl_seconds))
        .with_grants(grants)
    )
    if name is not None:
        token = token.with_name(name)
    if metadata is not None:
        token = token.with_metadata(metadata)
    if attributes:
        token = token.with_attributes(dict(attributes))
    logger.debug("minted token for identity=%s room=%s ttl=%ss", identity, room, ttl_seconds)
    return token.to_jwt()


def build_parser() -> argparse.ArgumentParser:
    """CLI options of `python -m godot_livekit.tools.tokens`."""
    parser = argparse.ArgumentParser(
        prog="python -m godot_livekit.tools.tokens", description="Print a LiveKit access token."
    )
    parser.add_argument("--identity", required=True, help="participant identity")
    parser.add_argument("--room", required=True, help="room name")
    parser.add_argument("--name", help="display name")
    parser.add_argument("--metadata", help="participant metadata")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("LIVEKIT_API_KEY", DEV_API_KEY),
        help="API key (default: $LIVEKIT_API_KEY or the dev key)",
    )
    parser.add_argument(
        "--api-secret",
        default=os.environ.get("LIVEKIT_API_SECRET", DEV_API_SECRET),
        help="API secret (default: $LIVEKIT_API_SECRET or the dev secret)",
    )
    parser.add_argument(
        "--ttl", type=int, default=DEFAULT_TTL_SECONDS, help="lifetime in seconds (default 6 h)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Print one token to stdout."""
    args = build_parser().parse_args(argv)
    try:
        token = mint_token(
            args.api_key,
            args.api_secret,
            args.identity,
            args.room,
            name=args.name,
            metadata=args.metadata,
            ttl_seconds=args.ttl,
        )
    except ValueError as error:
        build_parser().error(str(error))
    print(token)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
