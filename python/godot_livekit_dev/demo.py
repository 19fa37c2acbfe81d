"""Headless demo: participants exercise connect, data, RPC, state changes and media.

    python build.py demo                                  # embedded local server
    python build.py demo --url wss://host --api-key K --api-secret S

"alice" and "bob" are plain core ``LiveKitRoom`` objects driven exactly as the Godot
autoload drives them (``pump_until`` pumps every auto-polled object). Every signal either
side receives is printed, one line each, so the transcript shows what a Godot script
connected to the same signals would get, in order::

    [  0.412s] bob   <- data_received(data=b'hello bob' (9 bytes), participant=alice, ...)

A bot then publishes a test-pattern video and a 440 Hz tone: alice saves a PNG of a
received frame (its path is printed) and reports the received tone's frequency.

The scenario is the list returned by :func:`build_steps`; each step acts, then waits
(bounded) for the signals that prove it worked. Add steps there to extend the demo.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np
from livekit import rtc

from godot_livekit.audio_source import LiveKitAudioSource
from godot_livekit.audio_stream import LiveKitAudioStream
from godot_livekit.participant import LiveKitLocalParticipant, LiveKitParticipant
from godot_livekit.poller import pump_until
from godot_livekit.room import LiveKitRoom
from godot_livekit.signals import declared_signals
from godot_livekit.tools.devserver import LocalServer
from godot_livekit.tools.tokens import mint_token
from godot_livekit.track import LiveKitLocalAudioTrack, LiveKitLocalVideoTrack, LiveKitTrack
from godot_livekit.video_source import LiveKitVideoSource
from godot_livekit.video_stream import LiveKitVideoStream

from .feeders import Feeder, tone_feeder, video_feeder
from .patterns import dominant_frequency, pattern_error, write_png

logger = logging.getLogger(__name__)

NODE_IP_ENV = "GODOT_LIVEKIT_NODE_IP"
DEFAULT_PORT = 7880
DEFAULT_STEP_TIMEOUT = 15.0
BACKGROUND_GRACE = 5.0  # seconds to let SDK disconnects finish before stopping the server
MAX_SHOWN_BYTES = 32
MAX_SHOWN_CHARS = 120
FATAL_SIGNALS = ("connection_failed",)

TokenFactory = Callable[..., str]


class DemoError(Exception):
    """The demo cannot go on; the message says why."""


class StepFailed(DemoError):
    """A demo step did not see what it waited for."""


# ------------------------------------------------------------------ transcript


def _short_bytes(data: bytes) -> str:
    shown = repr(data[:MAX_SHOWN_BYTES]) + ("..." if len(data) > MAX_SHOWN_BYTES else "")
    return f"{shown} ({len(data)} bytes)"


def _short_text(text: str) -> str:
    if len(text) <= MAX_SHOWN_CHARS:
        return repr(text)
    return f"{text[:MAX_SHOWN_CHARS]!r}... ({len(text)} chars)"


def _data_kind_name(kind: int) -> str:
    names = {LiveKitRoom.DATA_KIND_RELIABLE: "RELIABLE", LiveKitRoom.DATA_KIND_LOSSY: "LOSSY"}
    return names.get(kind, str(kind))


def _quality_name(quality: int) -> str:
    try:
        return rtc.ConnectionQuality(quality).name.removeprefix("QUALITY_")
    except ValueError:
        return str(quality)


# (signal, argument) -> formatter, for ints whose meaning is a name
ARG_FORMATTERS: dict[tuple[str, str], Callable[[Any], str]] = {
    ("data_received", "kind"): _data_kind_name,
    ("connection_quality_changed", "quality"): _quality_name,
}


def sorted_dict(mapping: dict[Any, Any]) -> dict[Any, Any]:
    """``mapping`` with its keys in order (the SDK's attribute order varies run to run)."""
    return dict(sorted(mapping.items(), key=lambda item: str(item[0])))


def plain_value(value: Any) -> Any:
    """The value steps match against: participants become their identity."""
    if isinstance(value, LiveKitParticipant):
        return value.get_identity()
    return value


def format_value(signal_name: str, arg_name: str, value: Any) -> str:
    """One argument, readable: participants by identity, bytes and long text shortened."""
    special = ARG_FORMATTERS.get((signal_name, arg_name))
    if special is not None and isinstance(value, int):
        return special(value)
    if isinstance(value, LiveKitParticipant):
        return value.get_identity() or "<stale participant>"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _short_bytes(bytes(value))
    if isinstance(value, str):
        return _short_text(value)
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, dict):
        value = sorted_dict(value)
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + "..."


@dataclass(frozen=True)
class Received:
    """One signal as received: raw arguments and their plain (matchable) values."""

    who: str
    signal: str
    args: tuple[Any, ...]
    values: dict[str, Any]
    at: float


@dataclass
class Transcript:
    """Prints timestamped lines and records every signal of the objects it watches."""

    out: TextIO
    started: float = field(default_factory=time.monotonic)
    events: list[Received] = field(default_factory=list)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def line(self, who: str, arrow: str, text: str) -> None:
        """``[  1.234s] who   <arrow> text``."""
        print(f"[{self.elapsed():7.3f}s] {who:<5} {arrow} {text}", file=self.out, flush=True)

    def heading(self, text: str) -> None:
        print(f"--- {text}", file=self.out, flush=True)

    def attach(self, who: str, obj: object) -> None:
        """Print (and record) every signal ``obj`` declares, labelled ``who``."""
        for name, arg_names in declared_signals(type(obj)).items():
            getattr(obj, name).connect(self._printer(who, name, arg_names))

    def _printer(self, who: str, name: str, arg_names: tuple[str, ...]) -> Callable[..., None]:
        def on_signal(*args: Any) -> None:
            values = {arg: plain_value(value) for arg, value in zip(arg_names, args, strict=True)}
            self.events.append(Received(who, name, args, values, self.elapsed()))
            shown = ", ".join(
                f"{arg}={format_value(name, arg, value)}"
                for arg, value in zip(arg_names, args, strict=True)
            )
            self.line(who, "<-", f"{name}({shown})")

        return on_signal


# ------------------------------------------------------------------ demo context


def _matches(event: Received, match: dict[str, Any]) -> bool:
    for arg, wanted in match.items():
        if arg not in event.values:
            return False
        value = event.values[arg]
        if callable(wanted):
            if not wanted(value):
                return False
        elif value != wanted:
            return False
    return True


def _describe_match(match: dict[str, Any]) -> str:
    return ", ".join(f"{k}={'<check>' if callable(v) else repr(v)}" for k, v in match.items())


class Demo:
    """What the steps share: the server, the participants, the transcript, bounded waits."""

    def __init__(
        self, url: str, make_token: TokenFactory, transcript: Transcript, step_timeout: float
    ) -> None:
        self.url = url
        self.make_token = make_token
        self.transcript = transcript
        self.step_timeout = step_timeout
        self.rooms: dict[str, LiveKitRoom] = {}
        self.feeders: list[Feeder] = []
        self.output_dir = "demo_output"
        self.step_start = 0  # index into transcript.events where the current step began

    # -- participants -----------------------------------------------------------------

    def add_peer(self, identity: str) -> LiveKitRoom:
        """A new room for ``identity`` with the printer on it and its local participant."""
        room = LiveKitRoom()  # auto_poll stays on: pump_until drives it like the autoload
        self.transcript.attach(identity, room)
        self.transcript.attach(identity, room.local_participant)
        self.rooms[identity] = room
        return room

    def room(self, identity: str) -> LiveKitRoom:
        return self.rooms[identity]

    def local(self, identity: str) -> LiveKitLocalParticipant:
        return self.rooms[identity].local_participant

    def remote(self, who: str, identity: str) -> LiveKitParticipant:
        """``identity`` as seen in ``who``'s room (fails the step when absent)."""
        participant = self.rooms[who].get_remote_participants().get(identity)
        if participant is None:
            raise StepFailed(f"{who} does not see {identity} in the room")
        return participant

    def connect(self, identity: str, **token_options: Any) -> None:
        """Connect ``identity`` (token minted here, never printed) and wait for it."""
        self.act(identity, f"connect_to_room({self.url!r}, <token for {identity!r}>)")
        token = self.make_token(identity, **token_options)
        self.rooms[identity].connect_to_room(self.url, token, {})
        self.expect(identity, "connected")

    # -- transcript -------------------------------------------------------------------

    def act(self, who: str, text: str) -> None:
        """Print an action ``who`` takes."""
        self.transcript.line(who, "->", text)

    def note(self, who: str, text: str) -> None:
        """Print an observation that is not a signal."""
        self.transcript.line(who, "::", text)

    # -- waiting ----------------------------------------------------------------------

    def received(self, who: str, signal: str, **match: Any) -> list[Received]:
        """Signals ``who`` received since the current step began that fit ``match``."""
        return [
            event
            for event in self.transcript.events[self.step_start :]
            if event.who == who and event.signal == signal and _matches(event, match)
        ]

    def wait(self, what: str, predicate: Callable[[], bool], timeout: float | None = None) -> None:
        """Pump until ``predicate()``; StepFailed on timeout or a connection failure."""
        limit = self.step_timeout if timeout is None else timeout
        fatal: list[Received] = []

        def done() -> bool:
            fatal[:] = [
                event
                for event in self.transcript.events[self.step_start :]
                if event.signal in FATAL_SIGNALS
            ]
            return bool(fatal) or predicate()

        if not pump_until(done, limit):
            raise StepFailed(f"timed out after {limit:g}s waiting for {what}")
        if fatal:
            event = fatal[0]
            details = ", ".join(f"{k}={v}" for k, v in event.values.items())
            raise StepFailed(f"{event.who} got {event.signal}({details}) waiting for {what}")

    def expect(self, who: str, signal: str, timeout: float | None = None, **match: Any) -> Received:
        """Wait until ``who`` receives ``signal`` whose arguments fit ``match`` (values, or
        callables that check a value); participants match by identity."""
        self.wait(
            f"{who} <- {signal}({_describe_match(match)})",
            lambda: bool(self.received(who, signal, **match)),
            timeout,
        )
        return self.received(who, signal, **match)[0]

    # -- media ------------------------------------------------------------------------

    def stop_feeders(self) -> None:
        feeders, self.feeders = self.feeders, []
        for feeder in feeders:
            feeder.stop()

    # -- cleanup ----------------------------------------------------------------------

    def close(self) -> None:
        """Leave every room and let the SDK finish (bounded)."""
        self.stop_feeders()
        for room in self.rooms.values():
            room.disconnect_from_room()
        pump_until(lambda: False, 0.0)  # deliver the last signals
        deadline = time.monotonic() + BACKGROUND_GRACE
        for identity, room in self.rooms.items():
            # no public "wait until the SDK left" exists; _wait_background is bounded
            if not room._wait_background(max(0.0, deadline - time.monotonic())):
                logger.warning("%s: SDK disconnect still running at exit", identity)


# ------------------------------------------------------------------ the scenario


@dataclass(frozen=True)
class Step:
    """One scenario step: ``run(demo)`` acts and waits (bounded) for its proof."""

    title: str
    run: Callable[[Demo], None]


GREET_METHOD = "greet"
UNKNOWN_METHOD = "teleport"
# livekit-server sends joins and leaves of participants that publish no tracks in batches,
# every 3 s (subscriberUpdateInterval); the demo's peers publish nothing, so they wait.
SERVER_BATCH_NOTE = "(the server announces joins/leaves of non-publishers every 3 s)"
ALICE_TOKEN_OPTIONS: dict[str, Any] = {
    "name": "Alice",
    "metadata": '{"level": 1}',
    "attributes": {"team": "red"},
}


def greeting_for(caller: str, payload: str) -> str:
    """What bob's ``greet`` RPC answers."""
    return f"Hello {caller}! bob received {payload!r}"


def _bob_answers_rpcs(demo: Demo) -> None:
    bob = demo.local("bob")

    def on_rpc(
        method: str, request_id: str, caller: str, payload: str, response_timeout: float
    ) -> None:
        if method == GREET_METHOD:
            reply = greeting_for(caller, payload)
            demo.act("bob", f"respond_to_rpc(<request {method}>, {reply!r})")
            bob.respond_to_rpc(request_id, reply)

    bob.rpc_method_invoked.connect(on_rpc)


def step_alice_connects(demo: Demo) -> None:
    demo.add_peer("alice")
    demo.connect("alice", **ALICE_TOKEN_OPTIONS)


def step_bob_joins(demo: Demo) -> None:
    demo.add_peer("bob")
    _bob_answers_rpcs(demo)
    demo.act("bob", f"register_rpc_method({GREET_METHOD!r})")
    demo.local("bob").register_rpc_method(GREET_METHOD)
    demo.connect("bob", name="Bob")
    demo.note("alice", SERVER_BATCH_NOTE)
    demo.expect("alice", "participant_connected", participant="bob")
    alice_at_bob = demo.remote("bob", "alice")
    demo.note("bob", f"sees alice already in the room (name {alice_at_bob.get_name()!r})")


def _send(demo: Demo, sender: str, data: bytes, to: list[str], topic: str) -> None:
    demo.act(sender, f"publish_data({data!r}, reliable=True, to={to or 'everyone'}, {topic=!r})")
    demo.local(sender).publish_data(data, True, to, topic)


def step_alice_chats_to_everyone(demo: Demo) -> None:
    _send(demo, "alice", b"hello everyone", [], "chat")
    demo.expect(
        "bob",
        "data_received",
        data=b"hello everyone",
        participant="alice",
        kind=LiveKitRoom.DATA_KIND_RELIABLE,
        topic="chat",
    )


def step_alice_chats_to_bob(demo: Demo) -> None:
    _send(demo, "alice", b"hello bob", ["bob"], "chat")
    demo.expect("bob", "data_received", data=b"hello bob", participant="alice", topic="chat")


def step_bob_replies(demo: Demo) -> None:
    _send(demo, "bob", b"hi alice!", ["alice"], "chat")
    demo.expect("alice", "data_received", data=b"hi alice!", participant="bob", topic="chat")


def step_alice_calls_rpc(demo: Demo) -> None:
    payload = "how are you?"
    # the default timeout (10 s): the SDK gives the callee that minus 7 s to answer
    demo.act("alice", f"perform_rpc('bob', {GREET_METHOD!r}, {payload!r})")
    demo.local("alice").perform_rpc("bob", GREET_METHOD, payload)
    demo.expect("bob", "rpc_method_invoked", method=GREET_METHOD, caller_identity="alice")
    demo.expect(
        "alice",
        "rpc_response_received",
        method=GREET_METHOD,
        result=greeting_for("alice", payload),
    )


def step_alice_calls_unknown_rpc(demo: Demo) -> None:
    demo.act("alice", f"perform_rpc('bob', {UNKNOWN_METHOD!r}, '')")
    demo.local("alice").perform_rpc("bob", UNKNOWN_METHOD, "")
    demo.expect("alice", "rpc_error", method=UNKNOWN_METHOD)


def step_alice_changes_metadata(demo: Demo) -> None:
    new = '{"level": 2}'
    demo.act("alice", f"set_metadata({new!r})")
    demo.local("alice").set_metadata(new)
    demo.expect(
        "bob",
        "participant_metadata_changed",
        participant="alice",
        old_metadata=ALICE_TOKEN_OPTIONS["metadata"],
        new_metadata=new,
    )


def step_alice_changes_name(demo: Demo) -> None:
    new = "Alice the Brave"
    demo.act("alice", f"set_name({new!r})")
    demo.local("alice").set_name(new)
    demo.expect(
        "bob",
        "participant_name_changed",
        participant="alice",
        old_name=ALICE_TOKEN_OPTIONS["name"],
        new_name=new,
    )


def step_alice_changes_attributes(demo: Demo) -> None:
    alice_at_bob = demo.remote("bob", "alice")
    before = alice_at_bob.get_attributes()
    changes = {"team": "blue", "hp": "100"}
    demo.act("alice", f"set_attributes({changes!r})")
    demo.local("alice").set_attributes(changes)
    demo.expect("bob", "participant_attributes_changed", participant="alice")
    after = alice_at_bob.get_attributes()
    # the signal carries only the changed keys; show the whole map before and after
    demo.note("bob", f"alice's attributes {sorted_dict(before)!r} -> {sorted_dict(after)!r}")
    if after != {**before, **changes}:
        raise StepFailed(f"bob sees alice's attributes as {after!r}")


def step_bob_leaves(demo: Demo) -> None:
    demo.act("bob", "disconnect_from_room()")
    demo.room("bob").disconnect_from_room()
    demo.expect("bob", "disconnected")
    demo.note("alice", SERVER_BATCH_NOTE)
    demo.expect("alice", "participant_disconnected", participant="bob")
    if demo.room("alice").get_remote_participants():
        raise StepFailed("alice still lists remote participants after bob left")


def step_alice_disconnects(demo: Demo) -> None:
    demo.act("alice", "disconnect_from_room()")
    demo.room("alice").disconnect_from_room()
    demo.expect("alice", "disconnected")


# ------------------------------------------------------------------ media steps

BOT = "bot"
PATTERN_SIZE = (320, 240)
TONE_HZ = 440.0
PATTERN_TOLERANCE = 40  # per channel, after VP8 encoding


class _Collector:
    """Stands in for Godot's AudioStreamGeneratorPlayback: keeps what it is given."""

    def __init__(self) -> None:
        self.chunks: list[Any] = []
        self.frames = 0

    def get_frames_available(self) -> int:
        return 4096

    def push_buffer(self, frames: Any) -> None:
        self.chunks.append(frames.copy())
        self.frames += len(frames)


def step_bot_publishes(demo: Demo) -> None:
    room = demo.add_peer(BOT)
    demo.connect(BOT)
    video = LiveKitVideoSource.create(*PATTERN_SIZE)
    audio = LiveKitAudioSource.create(48000, 1, 200)
    local = room.local_participant
    demo.act(BOT, f"publish_track(video 'test-pattern' {PATTERN_SIZE[0]}x{PATTERN_SIZE[1]})")
    local.publish_track(LiveKitLocalVideoTrack.create("test-pattern", video), {})
    demo.act(BOT, f"publish_track(audio 'tone' {TONE_HZ:g} Hz)")
    local.publish_track(LiveKitLocalAudioTrack.create("tone", audio), {})
    demo.feeders += [video_feeder(video).start(), tone_feeder(audio, TONE_HZ).start()]
    demo.expect(BOT, "local_track_published", timeout=demo.step_timeout)
    demo.wait(
        "both bot tracks subscribed at alice",
        lambda: len(demo.received("alice", "track_subscribed", participant=BOT)) >= 2,
    )


def _subscribed_track(demo: Demo, kind: int) -> LiveKitTrack:
    for event in demo.transcript.events:
        if event.who == "alice" and event.signal == "track_subscribed":
            track = event.args[0]
            if isinstance(track, LiveKitTrack) and track.get_kind() == kind:
                return track
    raise StepFailed("alice has no subscribed track of that kind")


def step_alice_saves_frame(demo: Demo) -> None:
    track = _subscribed_track(demo, LiveKitTrack.KIND_VIDEO)
    stream = LiveKitVideoStream.from_track(track)
    demo.act("alice", "LiveKitVideoStream.from_track(bot's video)")
    best: list[Any] = []

    def good_frame() -> bool:
        frame = stream.get_texture()
        if frame is None or frame.shape[1::-1] != PATTERN_SIZE:
            return False
        best[:] = [frame]
        return pattern_error(frame) <= PATTERN_TOLERANCE

    try:
        demo.wait("a received frame showing the test pattern", good_frame)
        os.makedirs(demo.output_dir, exist_ok=True)
        path = os.path.abspath(os.path.join(demo.output_dir, "received_frame.png"))
        write_png(path, best[0])
        demo.note(
            "alice",
            f"received {stream.get_frames_received()} frames; {PATTERN_SIZE[0]}x"
            f"{PATTERN_SIZE[1]}, colours within {pattern_error(best[0])} of the pattern",
        )
        demo.note("alice", f"saved a received frame to {path}")
    finally:
        stream.close()


def step_alice_hears_tone(demo: Demo) -> None:
    track = _subscribed_track(demo, LiveKitTrack.KIND_AUDIO)
    stream = LiveKitAudioStream.from_track(track)
    demo.act("alice", "LiveKitAudioStream.from_track(bot's audio); poll(playback) each frame")
    playback = _Collector()
    try:
        demo.wait(
            "one second of received audio",
            lambda: stream.poll(playback) >= 0 and playback.frames >= 48000,
        )
        samples = np.concatenate(playback.chunks)[-24000:]
        frequency = dominant_frequency(samples, stream.get_sample_rate())
        demo.note("alice", f"received tone at {frequency:.1f} Hz (sent {TONE_HZ:g} Hz)")
        if abs(frequency - TONE_HZ) > 5.0:
            raise StepFailed(f"the received tone is {frequency:.1f} Hz, not {TONE_HZ:g} Hz")
    finally:
        stream.close()


def step_bot_leaves(demo: Demo) -> None:
    demo.stop_feeders()
    demo.act(BOT, "disconnect_from_room()")
    demo.room(BOT).disconnect_from_room()
    demo.expect(BOT, "disconnected")
    demo.expect("alice", "participant_disconnected", participant=BOT)


def build_steps() -> list[Step]:
    """The scenario, in order; later steps may rely on earlier ones."""
    return [
        Step("alice connects", step_alice_connects),
        Step("bob registers RPC 'greet' and joins; alice sees him", step_bob_joins),
        Step("alice sends a reliable message to everyone on 'chat'", step_alice_chats_to_everyone),
        Step("alice sends a message only to bob", step_alice_chats_to_bob),
        Step("bob replies to alice", step_bob_replies),
        Step("alice calls bob's RPC 'greet'", step_alice_calls_rpc),
        Step("alice calls an RPC method bob does not have", step_alice_calls_unknown_rpc),
        Step("alice changes her metadata", step_alice_changes_metadata),
        Step("alice changes her name", step_alice_changes_name),
        Step("alice changes her attributes", step_alice_changes_attributes),
        Step("a bot publishes a test-pattern video and a 440 Hz tone", step_bot_publishes),
        Step("alice receives the video and saves a frame as PNG", step_alice_saves_frame),
        Step("alice receives the tone and measures its frequency", step_alice_hears_tone),
        Step("the bot leaves", step_bot_leaves),
        Step("bob leaves; alice sees him go", step_bob_leaves),
        Step("alice disconnects", step_alice_disconnects),
    ]


def run_steps(demo: Demo, steps: Sequence[Step]) -> None:
    """Run every step in order; StepFailed names the step that failed."""
    for number, step in enumerate(steps, start=1):
        demo.transcript.heading(f"step {number}/{len(steps)}: {step.title}")
        demo.step_start = len(demo.transcript.events)
        try:
            step.run(demo)
        except StepFailed as error:
            raise StepFailed(f"step {number}/{len(steps)} ({step.title}): {error}") from None


# ------------------------------------------------------------------ server and CLI


def build_parser() -> argparse.ArgumentParser:
    """CLI options of `python -m godot_livekit_dev.demo`."""
    parser = argparse.ArgumentParser(
        prog="python -m godot_livekit_dev.demo",
        description="Headless godot-livekit demo: two participants, data, RPC, state changes.",
    )
    parser.add_argument("--url", help="existing LiveKit server (default: embedded local one)")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("LIVEKIT_API_KEY"),
        help="API key of --url's server (default: $LIVEKIT_API_KEY)",
    )
    parser.add_argument(
        "--api-secret",
        default=os.environ.get("LIVEKIT_API_SECRET"),
        help="API secret of --url's server (default: $LIVEKIT_API_SECRET)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="embedded server HTTP/WebSocket port"
    )
    parser.add_argument(
        "--udp-port", type=int, default=None, help="embedded server WebRTC UDP port (port + 2)"
    )
    parser.add_argument("--room", default=None, help="room name (default: a fresh random one)")
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=DEFAULT_STEP_TIMEOUT,
        help=f"seconds each wait may take (default {DEFAULT_STEP_TIMEOUT:g})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show library logs")
    return parser


def _embedded_server(args: argparse.Namespace) -> LocalServer:
    node_ip = os.environ.get(NODE_IP_ENV)
    if not node_ip:
        raise DemoError(
            f"the embedded server needs the private network namespace ({NODE_IP_ENV} is not "
            "set): run `python build.py demo`, or pass --url/--api-key/--api-secret"
        )
    udp_port = args.udp_port if args.udp_port is not None else args.port + 2
    return LocalServer(
        bind_ip="127.0.0.1",
        node_ip=node_ip,
        port=args.port,
        udp_port=udp_port,
        log_level="info",
    )


def _run(args: argparse.Namespace, out: TextIO) -> int:
    transcript = Transcript(out)
    room_name = args.room or f"godot-livekit-demo-{secrets.token_hex(3)}"
    server: LocalServer | None = None
    demo: Demo | None = None
    try:
        if args.url is None:
            server = _embedded_server(args)
            server.start()
            url, api_key, api_secret = server.url, server.api_key, server.api_secret
            print(f"embedded livekit-server at {url} (log {server.log_path})", file=out)
        else:
            if not args.api_key or not args.api_secret:
                raise DemoError("--url needs --api-key and --api-secret to mint tokens")
            url, api_key, api_secret = args.url, args.api_key, args.api_secret
        print(f"room {room_name!r}", file=out, flush=True)

        def make_token(identity: str, **options: Any) -> str:
            return mint_token(api_key, api_secret, identity, room_name, **options)

        transcript.started = time.monotonic()
        demo = Demo(url, make_token, transcript, args.step_timeout)
        run_steps(demo, build_steps())
        demo.close()
        demo = None
        print(
            f"demo finished: {len(transcript.events)} signals, all steps passed "
            f"({transcript.elapsed():.2f} s)",
            file=out,
            flush=True,
        )
        return 0
    except (DemoError, RuntimeError) as error:
        print(f"demo FAILED: {error}", file=sys.stderr, flush=True)
        if server is not None and server.is_running():
            print("last lines of the server log:", file=sys.stderr)
            print(server.log_text(30), file=sys.stderr, flush=True)
        return 1
    finally:
        if demo is not None:
            transcript.heading("cleanup: leaving the room")
            demo.close()
        if server is not None:
            server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; 0 when every step passed."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # the SDK warns about handles it already dropped when a stream closes after its
        # track went away; harmless, and noise in a transcript
        logging.getLogger("livekit").setLevel(logging.ERROR)
    try:
        return _run(args, sys.stdout)
    except KeyboardInterrupt:
        print("demo interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
