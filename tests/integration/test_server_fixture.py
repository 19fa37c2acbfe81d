"""The test bed itself: local livekit-server, tokens, two raw-SDK participants; and the dev
server as users run it, from an installed package with no checkout around."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO

import pytest
from livekit import api, rtc

from godot_livekit.tools.devserver import LocalServer, find_server_binary

TIMEOUT = 15.0
# 0.0.0.0 is the unspecified address (SDP placeholders, wildcard binds), never a target
ALLOWED_NETWORKS = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("10.77.0.0/24"),
    ipaddress.ip_network("0.0.0.0/32"),
)
IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
REPO = Path(__file__).resolve().parents[2]
WHEELHOUSE = REPO / ".tools" / "wheelhouse"
BANNER_TIMEOUT = 30.0


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


# ------------------------------------------------- the dev server from an installed package


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _queue_lines(stream: IO[str], lines: queue.Queue[str]) -> None:
    """Put every line of `stream` on `lines` until it closes (a reader thread's loop)."""
    for line in stream:
        lines.put(line)


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float) -> str:
    """stdout of `process` up to and including the first line containing `marker`."""
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_queue_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            seen.append(lines.get(timeout=left))
        except queue.Empty:
            break
        if marker in seen[-1]:
            return "".join(seen)
    raise AssertionError(f"no {marker!r} line within {timeout}s; output so far:\n{''.join(seen)}")


@pytest.mark.timeout(600)
def test_dev_server_runs_from_an_installed_package(tmp_path: Path) -> None:
    """`python -m godot_livekit.tools.devserver`, as the editor dock runs it through
    py4godot's interpreter: the package installed from its wheel into a fresh venv outside
    the checkout, livekit-server found only in the documented per-user folder."""
    if not WHEELHOUSE.is_dir():
        pytest.fail(f"{WHEELHOUSE} is missing: run `python build.py test`", pytrace=False)
    binary = find_server_binary()
    assert binary is not None
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--no-index", "--find-links", str(WHEELHOUSE)]
    installed = subprocess.run(
        [*install, str(REPO)], cwd=tmp_path, capture_output=True, text=True, timeout=500
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

    user_bin = tmp_path / "data" / "godot-livekit" / "bin"
    user_bin.mkdir(parents=True)
    (user_bin / "livekit-server").symlink_to(binary)
    env = {k: v for k, v in os.environ.items() if k != "LIVEKIT_SERVER_BIN"}
    env.update(PATH=f"{venv / 'bin'}:/usr/bin:/bin", XDG_DATA_HOME=str(tmp_path / "data"))
    port, udp_port = _free_port(socket.SOCK_STREAM), _free_port(socket.SOCK_DGRAM)
    command = [str(python), "-m", "godot_livekit.tools.devserver", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--udp-port", str(udp_port), "--log-file", str(tmp_path / "server.log")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = _read_until(process, "Press Ctrl+C", BANNER_TIMEOUT)
        assert f"livekit-server {user_bin / 'livekit-server'}" in banner
        assert f"URL:        ws://127.0.0.1:{port}" in banner
        assert re.search(r"^  eyJ[\w-]+\.[\w-]+\.[\w-]+$", banner, re.MULTILINE), banner
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert response.status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
