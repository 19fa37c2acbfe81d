"""Secrets stay secret: no access token (nor its signature), API secret or E2EE key in any
log record, native output or user-facing message of a whole session.

The session: two peers connect with E2EE, exchange data and RPCs (answered, failed and to
an unknown method), then connects fail in every way a token can be wrong (signed with a
wrong secret, unknown API key, expired, garbage, for an unreachable or silent server),
and everyone disconnects. Captured: every record of the "livekit" and "godot_livekit"
loggers and of the root logger at DEBUG (the SDK's native debug logs included, via
``LIVEKIT_RTC_DEBUG``), everything written to this process's stdout/stderr file
descriptors (the native layer prints some errors there directly), and every
``connection_failed`` message, disconnect reason, RPC error and object ``repr``.

Real parts: the session livekit-server, the livekit SDK, the test namespace.
"""

from __future__ import annotations

import base64
import logging
import secrets
import socket
from datetime import timedelta

import pytest
from livekit import api
from peers import Peer, wait_for_event, wait_until
from session_helpers import exchange_data

from godot_livekit import LiveKitE2eeOptions
from godot_livekit.tools.devserver import LocalServer


def jwt_parts(token: str) -> list[str]:
    """The token and its signature (the part that proves it)."""
    return [token, token.rsplit(".", 1)[-1]]


def key_forms(key: bytes) -> list[str]:
    """Ways a key could be written into a log line."""
    return [
        key.hex(),
        key.hex().upper(),
        base64.b64encode(key).decode().rstrip("="),
        base64.urlsafe_b64encode(key).decode().rstrip("="),
        repr(key)[2:-1],
        ", ".join(str(b) for b in key[:12]),
    ]


def e2ee(key: bytes) -> LiveKitE2eeOptions:
    options = LiveKitE2eeOptions()
    options.set_shared_key(key)
    return options


class Silent:
    """A TCP port that accepts connections into its backlog and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"ws://127.0.0.1:{self.sock.getsockname()[1]}"


def failed_connect(peer: Peer, url: str, token: str, timeout: float = 5.0) -> str:
    count = len(peer.args_of("connection_failed"))
    peer.room.connect_to_room(url, token, {"connect_timeout": timeout})
    (message,) = wait_for_event(peer, "connection_failed", count=count + 1, timeout=timeout + 5)
    return message


def test_no_token_secret_or_key_anywhere_in_a_full_session(
    livekit_server: LocalServer,
    make_token,
    room_name: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIVEKIT_RTC_DEBUG", "1")  # the SDK's native debug logs too
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="livekit")
    caplog.set_level(logging.DEBUG, logger="godot_livekit")

    shared_key = secrets.token_bytes(32)
    tokens = {identity: make_token(identity) for identity in ("alice", "bob")}
    grants = api.VideoGrants(room_join=True, room=room_name)
    wrong_secret = (
        api.AccessToken(livekit_server.api_key, "w" * 40)
        .with_identity("mallory")
        .with_grants(grants)
        .to_jwt()
    )
    unknown_key = (
        api.AccessToken("not-a-key", livekit_server.api_secret)
        .with_identity("mallory")
        .with_grants(grants)
        .to_jwt()
    )
    expired = (
        api.AccessToken(livekit_server.api_key, livekit_server.api_secret)
        .with_identity("mallory")
        .with_grants(grants)
        .with_ttl(timedelta(seconds=-60))
        .to_jwt()
    )
    valid_for_mallory = make_token("mallory")
    every_token = [*tokens.values(), wrong_secret, unknown_key, expired, valid_for_mallory]
    messages: list[str] = []

    # -- a session: connect with E2EE, data, RPC ------------------------------------------
    alice, bob = Peer("alice"), Peer("bob")
    for peer in (alice, bob):
        peer.room.connect_to_room(
            livekit_server.url, tokens[peer.identity], {"e2ee": e2ee(shared_key)}
        )
    for peer in (alice, bob):
        wait_for_event(peer, "connected", also=[alice, bob])
    wait_until(
        [alice, bob], lambda: "alice" in bob.room.get_remote_participants(), what="alice at bob"
    )
    exchange_data(alice, bob, b"hello bob")
    exchange_data(bob, alice, b"hello alice")
    alice.local.register_rpc_method("greet")
    alice.local.rpc_method_invoked.connect(
        lambda _m, request_id, caller, payload, _t: alice.local.respond_to_rpc(
            request_id, f"hi {caller}: {payload}"
        )
    )
    bob.local.perform_rpc("alice", "greet", "payload", 5.0)
    wait_for_event(bob, "rpc_response_received", also=[alice])
    bob.local.perform_rpc("alice", "no-such-method", "payload", 5.0)
    wait_for_event(bob, "rpc_error", also=[alice])
    messages += [repr(obj) for obj in (alice.room, alice.local, bob.room)]
    messages += [repr(p) for p in bob.room.get_remote_participants().values()]

    # -- connects that fail because of the token (and a valid one that cannot arrive) ---------
    mallory = Peer("mallory")
    silent = Silent()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    try:
        messages.append(failed_connect(mallory, livekit_server.url, wrong_secret))
        messages.append(failed_connect(mallory, livekit_server.url, unknown_key))
        messages.append(failed_connect(mallory, livekit_server.url, expired))
        messages.append(failed_connect(mallory, livekit_server.url, "garbage." + wrong_secret))
        unreachable = f"ws://127.0.0.1:{closed.getsockname()[1]}"
        messages.append(failed_connect(mallory, unreachable, valid_for_mallory))
        messages.append(failed_connect(mallory, silent.url, valid_for_mallory, timeout=1.0))
    finally:
        silent.sock.close()
        closed.close()
    assert len(mallory.args_of("connection_failed")) == 6

    # -- disconnect ------------------------------------------------------------------------
    for peer in (alice, bob):
        peer.room.disconnect_from_room()
    for peer in (alice, bob, mallory):
        wait_until([peer], lambda p=peer: p.room.wait_idle(0.0), what="background work")
        peer.poll()
        messages.append(peer.room.get_disconnect_reason())
        messages += [args[1] for args in peer.args_of("rpc_error")]
        messages += [args[0] for args in peer.args_of("connection_failed")]

    # a control: a token logged on purpose is captured, and scrubbed
    logging.getLogger("livekit").debug("control line %s", tokens["alice"])

    # -- nothing secret anywhere -----------------------------------------------------------
    out, err = capfd.readouterr()
    records = "\n".join(
        f"{record.name} {record.levelname} {record.getMessage()} {record.exc_text or ''}"
        for record in caplog.records
    )
    assert any(r.name.startswith("livekit") for r in caplog.records), "no SDK log captured"
    assert any(r.name.startswith("godot_livekit") for r in caplog.records)
    assert "control line <redacted token>" in records
    print(f"[measure] secrets: {len(caplog.records)} log records, {len(out + err)} chars of output")
    haystacks = {
        "log records": records,
        "formatted logs": caplog.text,
        "stdout/stderr": out + err,
        "messages": "\n".join(messages),
    }
    needles = {f"token {i}": part for i, t in enumerate(every_token) for part in jwt_parts(t)}
    needles["api secret"] = livekit_server.api_secret
    needles.update({f"e2ee key ({i})": form for i, form in enumerate(key_forms(shared_key))})
    leaks = [
        f"{what} in {where}"
        for where, text in haystacks.items()
        for what, needle in needles.items()
        if needle in text
    ]
    assert not leaks, leaks
    # the failures still say what went wrong
    reasons = [args[0] for args in mallory.args_of("connection_failed")]
    assert reasons[0].startswith("invalid token"), reasons
    assert reasons[2].startswith("token expired"), reasons
    assert reasons[4].startswith("server unreachable"), reasons
    assert reasons[5].startswith("timed out"), reasons
