"""The official LiveKit JavaScript client (livekit-client, in headless Chromium) in one room
with our core: media, data, text and byte streams, attributes and RPC, both ways.

Real parts: livekit-server (the session server), Debian's Chromium driven by playwright-core,
livekit-client's own build, all inside the test namespace. Set up by
``python build.py test --browser`` (installs Chromium and the npm packages, then runs only
these tests); the default ``python build.py test`` leaves this folder out.

The browser page (page/peer.js) publishes a colour-quadrant canvas, a 660 Hz tone and a data
track, sends data, text streams, a file, attributes and RPCs to "godot"; a second page only
watches it. Our side ("godot", a Peer of the core) publishes the same quadrant pattern, a
440 Hz tone and a data track, and answers and sends the same kinds of things back.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pytest
from godot_livekit_dev.feeders import tone_feeder, video_feeder
from godot_livekit_dev.patterns import (
    QUADRANT_COLORS,
    dominant_frequency,
    quadrant_centres,
)
from peers import Peer, wait_until

from godot_livekit import (
    LiveKitAudioSource,
    LiveKitAudioStream,
    LiveKitDataTrackSubscription,
    LiveKitE2eeOptions,
    LiveKitLocalAudioTrack,
    LiveKitLocalVideoTrack,
    LiveKitRoom,
    LiveKitTrack,
    LiveKitVideoSource,
    LiveKitVideoStream,
)
from godot_livekit.tools.devserver import LocalServer

HERE = Path(__file__).resolve().parent
RUN_SECONDS = 90
"""The browser driver's own limit (the test closes it sooner)."""
WAIT = 45.0
COLOUR_TOLERANCE = 24
"""Per channel, for a VP8-coded flat colour patch."""
SAME_AS_BROWSER = 12
"""Per channel: our decode against the official client's decode of the same stream."""
SHARED_KEY = "a shared key for the browser test"
"""The e2ee case's key: a text for the page's ExternalE2EEKeyProvider, its UTF-8 bytes for us."""


class Browser:
    """The driver process and the newest states its pages reported."""

    def __init__(self, urls: list[str]) -> None:
        node = shutil.which("node")
        if node is None:
            pytest.fail("node is not installed: run `python build.py test --browser`")
        self.states: list[dict[str, Any]] = [{} for _ in urls]
        self.page_log: list[str] = []
        self.process = subprocess.Popen(
            [node, str(HERE / "drive.mjs"), str(RUN_SECONDS), *urls],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=HERE,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("STATE "):
                self.states = json.loads(line[len("STATE ") :])
            else:
                self.page_log.append(line.rstrip()[:500])

    @property
    def publisher(self) -> dict[str, Any]:
        return self.states[0]

    @property
    def viewer(self) -> dict[str, Any]:
        return self.states[1]

    def describe(self) -> str:
        return f"browser states {json.dumps(self.states)[:3000]}; log {self.page_log[-20:]}"

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def page_server() -> Iterator[str]:
    """http://127.0.0.1:<port>/ serving this folder (the page and livekit-client's build)."""
    if not (HERE / "node_modules" / "livekit-client").is_dir():
        pytest.fail("livekit-client is not installed: run `python build.py test --browser`")
    handler = functools.partial(QuietHandler, directory=str(HERE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def colour_error(seen: dict[str, Any], expected: dict[str, Any]) -> int:
    return max(
        abs(int(a) - int(b))
        for name in QUADRANT_COLORS
        for a, b in zip(seen[name], expected[name], strict=True)
    )


@pytest.mark.parametrize("encrypted", [False, True], ids=["clear", "e2ee"])
def test_livekit_client_in_a_browser_and_our_core_exchange_everything(
    livekit_server: LocalServer, room_name: str, page_server: str, encrypted: bool
) -> None:
    godot = Peer("godot")
    godot.room.register_text_stream_handler("chat")
    godot.room.register_text_stream_handler("chat-long")
    godot.room.register_byte_stream_handler("files")
    options: dict[str, Any] = {}
    extra: dict[str, str] = {}
    if encrypted:
        options["e2ee"] = LiveKitE2eeOptions()
        options["e2ee"].set_shared_key(SHARED_KEY.encode())
        extra["e2ee"] = SHARED_KEY
    godot.room.connect_to_room(
        livekit_server.url, livekit_server.token("godot", room_name), options
    )
    wait_until([godot], lambda: "connected" in godot.names(), what="godot connected")
    local = godot.local
    local.register_rpc_method("echo")
    local.register_rpc_method("fail")

    def answer(method: str, request_id: str, caller: str, payload: str, _timeout: float) -> None:
        if method == "fail":  # an application error, with our own code
            local.respond_to_rpc_error(request_id, 42, "no such item")
        else:
            local.respond_to_rpc(request_id, f"echo:{payload}:{caller}")

    local.rpc_method_invoked.connect(answer)
    camera = LiveKitVideoSource.create(320, 180)
    local.publish_track(LiveKitLocalVideoTrack.create("godot-cam", camera), {"simulcast": False})
    microphone = LiveKitAudioSource.create(48000, 1, 100)
    microphone_track = LiveKitLocalAudioTrack.create("godot-mic", microphone)
    local.publish_track(microphone_track, {"dtx": False})

    def page(identity: str, **extra: str) -> str:
        query = {"url": livekit_server.url, "token": livekit_server.token(identity, room_name)}
        return f"{page_server}page/index.html?{urlencode({**query, **extra})}"

    newest_frame: np.ndarray | None = None  # a copy
    frame_count = 0
    last_second = np.zeros((0, 2), np.float32)  # the newest second of the browser's audio
    heard_total = 0
    streams: dict[str, Any] = {}
    sent_back = False
    tone_before_mute: float | None = None
    data_track: Any = None  # ours, once the browser has sent everything
    frames_pushed, last_push = 0, 0.0
    subscriptions: list[Any] = []  # to the browser's data track
    js_frames: list[tuple[bytes, int]] = []

    def keep_frame() -> None:
        nonlocal newest_frame, frame_count
        newest_frame = streams["video"].get_texture().copy()
        frame_count += 1

    def pump_data_tracks() -> None:
        nonlocal frames_pushed, last_push
        for (remote,) in godot.args_of("data_track_published"):
            if subscriptions or remote.get_name() != "js-positions":
                continue
            subscription = remote.subscribe(LiveKitDataTrackSubscription.MODE_ORDERED, 64)
            subscription.frame_received.connect(lambda p, t: js_frames.append((bytes(p), t)))
            subscriptions.append(subscription)
        if data_track is not None and data_track.is_published():
            if time.monotonic() - last_push >= 0.05:  # 20 frames a second, as the browser
                frames_pushed += 1
                data_track.push(f"godot-frame-{frames_pushed}".encode(), frames_pushed)
                last_push = time.monotonic()

    def pump_media() -> None:
        nonlocal sent_back, last_second, heard_total, tone_before_mute, data_track
        js = godot.room.get_remote_participants().get("js")
        for publication in js.get_track_publications().values() if js else ():
            track = publication.get_track()
            if track is None:
                continue
            if track.get_kind() == LiveKitTrack.KIND_VIDEO and "video" not in streams:
                streams["video"] = LiveKitVideoStream.from_track(track)
                streams["video"].frame_received.connect(keep_frame)
            if track.get_kind() == LiveKitTrack.KIND_AUDIO and "audio" not in streams:
                streams["audio"] = LiveKitAudioStream.from_track(track)
        if "video" in streams:
            streams["video"].poll()  # emits frame_received for a new frame
        if "audio" in streams:
            got = streams["audio"].read_frames(4800)
            last_second = np.concatenate([last_second, got])[-48000:]
            heard_total += len(got)
        if not sent_back and browser.publisher.get("sent"):
            sent_back = True
            local.publish_data("hello-from-godot", True, [], "godot-topic")
            local.send_text("text-from-godot ünïcode ✓", "chat-back")
            local.send_bytes(bytes(range(256)) * 40, "bytes-back", {"name": "blob.bin"})
            local.set_attributes({"score": 7})
            local.perform_rpc("js", "js-echo", "ping-godot", 10.0)
            local.perform_rpc("js", "js-fail", "x", 10.0)
            data_track = local.publish_data_track("godot-positions")
        if sent_back and tone_before_mute is None and heard_total >= 48000:
            # both have heard a second of tone: we mute, and the page answers with a mute
            tone_before_mute = dominant_frequency(last_second, 48000)
            microphone_track.mute()
        pump_data_tracks()

    class Media:
        def _auto_pump(self) -> None:
            pump_media()

    def done() -> bool:
        js, watcher = browser.publisher, browser.viewer
        return bool(
            js.get("error")
            or (
                godot.args_of("rpc_response_received")
                and godot.args_of("rpc_error")
                and len(godot.args_of("text_stream_received")) >= 2
                and godot.args_of("byte_stream_received")
                and godot.args_of("participant_attributes_changed")
                and frame_count >= 30
                and heard_total >= 48000
                and all(
                    key in js for key in ("text", "bytes", "data", "attributes", "rpc", "muted")
                )
                and any(who.get_identity() == "js" for who, _ in godot.args_of("track_muted"))
                and js.get("rpcUnknown")
                and js.get("rpcFail")
                and len(js_frames) >= 5
                and (js.get("dataTrack") or {}).get("count", 0) >= 5
                and js.get("video")
                and (js.get("audio") or {}).get("db", -200) > -60
                and watcher.get("video")
            )
        )

    with video_feeder(camera), tone_feeder(microphone, 440.0):
        browser = Browser([page("js", **extra), page("js2", viewer="1", **extra)])
        try:
            try:
                wait_until([godot, Media()], done, WAIT, "everything both ways")
            except AssertionError as error:
                summary = f"our side: {frame_count} video frames, {heard_total} audio frames"
                raise AssertionError(f"{error}\n{summary}\n{browser.describe()}") from None
            # one more second of media, so the samples below are of settled streams
            end = time.monotonic() + 1.0
            wait_until([godot, Media()], lambda: time.monotonic() >= end, 5.0, "settle")
            js, watcher = browser.publisher, browser.viewer
            # who sent what, read while the participants are live (stale ones read "")
            data_events = [
                (bytes(data), sender.get_identity() if sender else None, kind, topic)
                for data, sender, kind, topic in godot.args_of("data_received")
            ]
            attribute_events = [
                (participant.get_identity(), changed)
                for participant, changed in godot.args_of("participant_attributes_changed")
            ]
            muted_by = [
                participant.get_identity() for participant, _ in godot.args_of("track_muted")
            ]
            encryption_events = [
                (participant.get_identity(), is_encrypted)
                for participant, is_encrypted in godot.args_of(
                    "participant_encryption_status_changed"
                )
            ]
        finally:
            browser.close()
            for stream in [*streams.values(), *subscriptions]:
                stream.close()
            if data_track is not None:
                data_track.close()
            godot.room.disconnect_from_room()
            godot.room.poll_events()
            assert godot.room.wait_idle(10.0), "godot: background work still running"
    context = browser.describe()
    assert "error" not in js, context
    if encrypted:  # both sides say the other's media is encrypted
        assert js.get("encryption", {}).get("godot") is True, context
        assert ("js", True) in encryption_events, encryption_events
    else:
        assert not js.get("encryption", {}).get("godot"), context
        assert ("js", True) not in encryption_events, encryption_events

    # browser -> us: data, text streams and a file (attributes, non-ASCII intact), RPC
    assert data_events == [(b"hello-from-js", "js", LiveKitRoom.DATA_KIND_RELIABLE, "js-topic")]
    texts = {info["topic"]: (info, text) for info, text in godot.args_of("text_stream_received")}
    info, text = texts["chat"]
    assert text == "text-from-js ünïcode ✓"
    assert info["topic"] == "chat" and info["attributes"] == {"kind": "greeting"}, info
    # ... a text written in five parts (each of several chunks), whole and in order
    info, text = texts["chat-long"]
    assert text == "".join(f"part-{i}:" + "ü" * 3000 for i in range(5)), len(text)
    assert info["attributes"] == {"parts": "5"} and info["sender_identity"] == "js", info
    # ... and a file of several chunks, byte for byte, with its name and type
    [(info, data)] = godot.args_of("byte_stream_received")
    assert bytes(data) == (np.arange(40000) * 7 % 251).astype(np.uint8).tobytes()
    assert info["topic"] == "files" and info["name"] == "js-file.bin", info
    assert info["mime_type"] == "application/octet-stream" and info["sender_identity"] == "js"
    assert [changed for who, changed in attribute_events if who == "js"] == [{"role": "browser"}]
    assert js["rpc"] == "echo:ping-js:js", context
    assert js["rpcUnknown"] == "error 1400", context  # UNSUPPORTED_METHOD, as the SDKs say
    assert js["rpcFail"] == "error 42 no such item", context  # our handler's own error

    # us -> browser
    assert js["data"] == {"text": "hello-from-godot", "from": "godot", "topic": "godot-topic"}
    assert js["text"] == {
        "text": "text-from-godot ünïcode ✓",
        "from": "godot",
        "topic": "chat-back",
    }
    assert js["bytes"] == {
        "length": 10240,
        "sum": sum(range(256)) * 40 % 65536,
        "name": "blob.bin",
        "from": "godot",
    }
    assert js["attributes"] == {"changed": {"score": "7"}, "from": "godot"}
    assert godot.args_of("rpc_response_received")[0] == ("js-echo", "js:ping-godot:godot")
    assert godot.args_of("rpc_error") == [("js-fail", "js says no (code 43)")]

    # muting a published microphone: each side sees the other's (our room reports its own
    # track too, as the SDK does)
    assert sorted(muted_by) == ["godot", "js"]
    assert js["muted"] == {"kind": "audio", "from": "godot"}, context

    # data tracks both ways: numbered frames, each stamped with its number, in order
    assert all(payload == b"js-frame-%d" % stamp for payload, stamp in js_frames), js_frames[:5]
    stamps = [stamp for _, stamp in js_frames]
    assert stamps == sorted(set(stamps)), stamps
    seen = js["dataTrack"]
    assert seen["name"] == "godot-positions" and seen["count"] >= 5, context
    assert seen["text"] == f"godot-frame-{seen['timestamp']}", context
    assert "dataTrackPushError" not in js, context

    # media: the browser sees our pattern and hears our tone
    assert js["video"]["size"] == [320, 180], context
    assert colour_error(js["video"], QUADRANT_COLORS) <= COLOUR_TOLERANCE, context
    assert abs(js["audio"]["hz"] - 440.0) < 12.0, context  # 5.9 Hz FFT bins
    # ... and we see the browser's canvas exactly as the official client does (Chromium
    # codes a canvas capture with its own colour matrix, so both differ from the canvas
    # alike), and hear its tone
    assert newest_frame is not None and newest_frame.shape == (180, 320, 4)
    ours = {name: list(colour) for name, colour in quadrant_centres(newest_frame).items()}
    assert colour_error(ours, watcher["video"]) <= SAME_AS_BROWSER, (ours, watcher["video"])
    assert tone_before_mute is not None and abs(tone_before_mute - 660.0) < 5.0
    # ... and nothing once the page muted it (the last 0.25 s before the end)
    assert float(np.abs(last_second[-12000:]).max()) < 1e-3
    assert os.environ.get("GODOT_LIVEKIT_NETNS") == "1"  # all of it inside the namespace
