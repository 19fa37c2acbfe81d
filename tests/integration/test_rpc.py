"""RPC between two real participants: success, handler error, unknown method, timeout.

Real parts: livekit-server and the livekit SDK (its RPC over data channels).
"""

from __future__ import annotations

import json

import pytest
from peers import Peer, wait_for_event, wait_until


@pytest.fixture
def caller_and_callee(connect_peer) -> tuple[Peer, Peer]:
    caller = connect_peer("caller")
    callee = connect_peer("callee")
    for method in ("add", "fail", "ignore"):
        callee.local.register_rpc_method(method)
    callee.local.rpc_method_invoked.connect(lambda *args: _answer(callee, *args))
    wait_until(
        [caller, callee],
        lambda: "callee" in caller.room.get_remote_participants(),
        what="callee joined",
    )
    return caller, callee


def _answer(peer: Peer, method: str, request_id: str, caller: str, payload: str, timeout: float):
    if method == "add":
        numbers = json.loads(payload)
        reply = json.dumps({"sum": sum(numbers), "caller": caller, "timeout": timeout})
        assert peer.local.respond_to_rpc(request_id, reply)
    elif method == "fail":
        assert peer.local.respond_to_rpc_error(request_id, 42, "no such item")
    # "ignore": never answered


def test_rpc_success_returns_handler_payload(caller_and_callee) -> None:
    caller, callee = caller_and_callee
    caller.local.perform_rpc("callee", "add", "[1, 2, 39]", 5.0)
    method, result = wait_for_event(caller, "rpc_response_received", also=[callee])
    assert method == "add"
    reply = json.loads(result)
    assert (reply["sum"], reply["caller"]) == (42, "caller")
    assert 0 < reply["timeout"] <= 5.0  # the SDK keeps part of the caller's budget for the trip
    (invoked,) = [args for name, args in callee.events if name == "rpc_method_invoked"]
    assert invoked[0] == "add" and invoked[2] == "caller" and invoked[3] == "[1, 2, 39]"
    assert invoked[1]  # a request id


def test_rpc_handler_error_reaches_caller(caller_and_callee) -> None:
    caller, callee = caller_and_callee
    caller.local.perform_rpc("callee", "fail", "{}", 5.0)
    method, error = wait_for_event(caller, "rpc_error", also=[callee])
    assert method == "fail"
    assert "no such item" in error and "code 42" in error


def test_rpc_unknown_method(caller_and_callee) -> None:
    caller, callee = caller_and_callee
    caller.local.perform_rpc("callee", "does_not_exist", "", 5.0)
    method, error = wait_for_event(caller, "rpc_error", also=[callee])
    assert method == "does_not_exist"
    # the SDK's own words, as the original reports them, plus the code
    assert error == "Method not supported at destination (code 1400)"


def test_rpc_unanswered_times_out_for_caller(caller_and_callee) -> None:
    caller, callee = caller_and_callee
    caller.local.perform_rpc("callee", "ignore", "", 1.5)
    method, error = wait_for_event(caller, "rpc_error", also=[callee], timeout=10)
    assert method == "ignore"
    assert error == "Response timeout (code 1502)"
    request_id = callee.args_of("rpc_method_invoked")[0][1]
    assert callee.local.respond_to_rpc(request_id, "too late") is False


def test_rpc_to_missing_participant_and_unregistered_method(caller_and_callee) -> None:
    caller, callee = caller_and_callee
    caller.local.perform_rpc("nobody", "add", "[]", 3.0)
    method, error = wait_for_event(caller, "rpc_error", also=[callee], timeout=15)
    assert method == "add" and "code" in error
    callee.local.unregister_rpc_method("add")
    assert "add" not in callee.local.get_registered_rpc_methods()
    caller.local.perform_rpc("callee", "add", "[1]", 5.0)
    _, error = wait_for_event(caller, "rpc_error", count=2, also=[callee])
    assert "code 1400" in error


def test_rpc_payload_limits(caller_and_callee) -> None:
    caller, callee = caller_and_callee
    caller.local.perform_rpc("callee", "add", "x" * 20000, 5.0)
    _, error = wait_for_event(caller, "rpc_error", also=[callee])
    assert "too large" in error
    with pytest.raises(ValueError):
        callee.local.respond_to_rpc("unknown", "y" * 20000)
    assert callee.local.respond_to_rpc("unknown-request", "fine") is False


def test_methods_registered_in_one_session_are_answered_in_the_next(
    connect_peer, livekit_server, make_token
) -> None:
    callee = connect_peer("early")
    local = callee.local
    local.register_rpc_method("add")
    local.rpc_method_invoked.connect(lambda *args: _answer(callee, *args))
    callee.room.disconnect_from_room()
    wait_for_event(callee, "disconnected")
    assert callee.room.get_local_participant() is None  # none while not connected
    callee.room.connect_to_room(livekit_server.url, make_token("early"), {})
    caller = connect_peer("caller")
    wait_for_event(callee, "connected", count=2)
    assert callee.room.get_local_participant() is local  # the same object, still answering
    caller.local.perform_rpc("early", "add", "[2, 3]", 5.0)
    _, result = wait_for_event(caller, "rpc_response_received", also=[callee])
    assert json.loads(result)["sum"] == 5
