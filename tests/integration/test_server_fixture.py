"""The test bed itself: local livekit-server, tokens, two raw-SDK participants."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import urllib.request

from livekit import api, rtc

from godot_livekit.tools.devserver import LocalServer

TIMEOUT = 15.0
# 0.0.0.0 is the unspecified address (SDP placeholders, wildcard binds), never a target
ALLOWED_NETWORKS = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("10.77.0.0/24"),
    ipaddress.ip_network("0.0.0.0/32"),
)
IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")


def test_server_answers_http(livekit_server: LocalServer) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(livekit_server.http_url + "/", timeout=5) as response:
        assert response.status == 200


def test_server_api_accepts_keys(livekit_server: LocalServer) -> None:
    async def list_rooms() -> list[str]:
        lkapi = api.LiveKitAPI(
            livekit_server.http_url, livekit_server.api_key, livekit_server.api_secret
        )
        try:
            response = await lkapi.room.list_rooms(api.ListRoomsRequest())
            return [room.name for room in response.rooms]
        finally:
            await lkapi.aclose()

    assert isinstance(asyncio.run(list_rooms()), list)


async def _connect(url: str, token: str) -> rtc.Room:
    room = rtc.Room()
    await room.connect(url, token, rtc.RoomOptions(auto_subscribe=True))
    return room


async def _exchange_data(server: LocalServer, alice_token: str, bob_token: str) -> None:
    payload = bytes(range(256)) * 8
    alice = await _connect(server.url, alice_token)
    bob_joined = asyncio.Event()
    alice.on("participant_connected", lambda p: p.identity == "bob" and bob_joined.set())
    bob = await _connect(server.url, bob_token)
    received: asyncio.Future[tuple[bytes, str]] = asyncio.get_running_loop().create_future()

    def on_data(packet: rtc.DataPacket) -> None:
        sender = packet.participant.identity if packet.participant else ""
        if not received.done():
            received.set_result((bytes(packet.data), sender))

    bob.on("data_received", on_data)
    try:
        if "bob" not in alice.remote_participants:
            await asyncio.wait_for(bob_joined.wait(), TIMEOUT)
        assert "bob" in alice.remote_participants
        assert "alice" in bob.remote_participants
        await alice.local_participant.publish_data(payload, reliable=True, topic="fixture")
        data, sender = await asyncio.wait_for(received, TIMEOUT)
        assert sender == "alice"
        assert data == payload
    finally:
        await asyncio.gather(alice.disconnect(), bob.disconnect())


def test_two_participants_exchange_reliable_data(
    livekit_server: LocalServer, make_token, room_name: str
) -> None:
    asyncio.run(_exchange_data(livekit_server, make_token("alice"), make_token("bob")))
    candidate_lines = [
        line for line in livekit_server.log_text(5000).splitlines() if "candidate" in line.lower()
    ]
    assert candidate_lines, "expected ICE candidate lines in the debug log"
    outside = {
        address
        for line in candidate_lines
        for address in IPV4.findall(line)
        if _is_ip(address)
        and not any(ipaddress.ip_address(address) in net for net in ALLOWED_NETWORKS)
    }
    assert not outside, f"ICE candidates mention outside addresses: {sorted(outside)}"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
