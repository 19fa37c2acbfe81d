"""Bad input everywhere: every public method of every core class, with random arguments.

Property: a call with any arguments (wrong types, None, huge strings, negative or zero
sizes, empty and NaN arrays, unknown option keys, invalid enum values, wrong arity)
either returns normally or raises one of ``ALLOWED_ERRORS`` with a non-empty message.
Nothing else escapes, the process never crashes, and afterwards valid calls still work
(a connected room still sends data both ways).

Methods come from the API reference (``load_reference()``) plus every other public method
and property of the exported classes (extras such as ``respond_to_rpc``), so a new method
is fuzzed without touching this file; every exported reference class must have an object
in the offline pool (checked).

Real parts: the livekit SDK and, for the connected objects, the session livekit-server.
Example counts are bounded so the file runs in well under a minute.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from media_helpers import CollectingPlayback, tone_feeder, video_feeder
from peers import Peer, wait_for_event, wait_until
from reference import load_reference
from session_helpers import exchange_data

import godot_livekit
from godot_livekit import (
    LiveKitAudioSource,
    LiveKitAudioStream,
    LiveKitE2eeManager,
    LiveKitE2eeOptions,
    LiveKitError,
    LiveKitFrameCryptor,
    LiveKitKeyProvider,
    LiveKitLocalAudioTrack,
    LiveKitLocalParticipant,
    LiveKitLocalTrackPublication,
    LiveKitLocalVideoTrack,
    LiveKitRemoteAudioTrack,
    LiveKitRemoteParticipant,
    LiveKitRemoteTrackPublication,
    LiveKitRemoteVideoTrack,
    LiveKitRoom,
    LiveKitScreenCapture,
    LiveKitTrack,
    LiveKitVideoSource,
    LiveKitVideoStream,
    testing,
)
from godot_livekit.signals import declared_signals

ALLOWED_ERRORS = (TypeError, ValueError, LiveKitError)
"""What a bad call may raise: wrong type, bad value, or not possible in this state."""

_SCALE = float(os.environ.get("GODOT_LIVEKIT_FUZZ_SCALE", "1"))  # > 1 for a deeper manual run
OFFLINE_EXAMPLES = int(300 * _SCALE)
CONNECTED_EXAMPLES = int(250 * _SCALE)

EXPORTED = [ref for ref in load_reference() if hasattr(godot_livekit, ref.name)]

# Calls that end or tear down what they are called on (connect_to_room starts over, whatever
# its arguments): fuzzed on the offline objects, not on the connected session whose later
# health is checked.
ENDS_THE_SESSION = {"connect_to_room", "disconnect_from_room", "close", "stop"}


# --------------------------------------------------------------------- random values


class Opaque:
    """An object of a type nothing expects."""

    def __repr__(self) -> str:
        return "<Opaque>"


def _arrays() -> st.SearchStrategy[np.ndarray]:
    nan_audio = st.integers(0, 4).map(lambda k: np.full(480 * k, np.nan, np.float32))
    inf_audio = st.just(np.array([np.inf, -np.inf] * 240, np.float32))
    return st.one_of(
        nan_audio,
        inf_audio,
        st.just(np.zeros(0, np.float32)),
        st.just(np.zeros(480, np.float32)),
        st.just(np.ones(960, np.float64) * 7.0),
        st.just(np.zeros((48, 64, 4), np.uint8)),
        st.just(np.zeros((48, 64, 3), np.uint8)),
        st.just(np.zeros((0, 0, 4), np.uint8)),
        st.just(np.zeros((48, 64, 4), np.float32)),
        st.just(np.zeros((2, 2, 2, 2), np.uint8)),
        st.just(np.zeros(480, np.int16)),
        st.just(np.array([True, False])),
        st.just(np.array(["a", "b"])),
    )


SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.sampled_from([-(2**63), -1, 0, 1, 2, 3, 4, 5, 90, 99, 2**31, 2**64, 10**30, 48000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=24),
    st.sampled_from(["", " ", "\x00", "\ud800", "é" * 9000, "x" * 70_000, "vp8", "ws://"]),
    st.binary(max_size=32),
    st.sampled_from([b"\xff\xfe" * 10_000, bytearray(b"abc"), memoryview(b"xyz")]),
    st.builds(Opaque),
    _arrays(),
)

VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(
            st.one_of(
                st.text(max_size=12),
                st.sampled_from(
                    ["auto_subscribe", "connect_timeout", "e2ee", "source", "simulcast"]
                ),
                st.integers(-3, 3),
            ),
            inner,
            max_size=4,
        ),
        st.frozensets(st.integers(0, 9), max_size=3),
    ),
    max_leaves=6,
)


# --------------------------------------------------------------------- calling


def public_methods(cls: type) -> list[str]:
    """Reference methods of ``cls`` plus every other public callable it has."""
    names: set[str] = set()
    for ref in load_reference():
        if ref.name == cls.__name__ or (
            hasattr(godot_livekit, ref.name) and issubclass(cls, getattr(godot_livekit, ref.name))
        ):
            names.update(method.name for method in ref.methods)
    for name, value in inspect.getmembers(cls):
        if name.startswith("_") or isinstance(inspect.getattr_static(cls, name), property):
            continue
        if callable(value) and not isinstance(value, type):
            names.add(name)
    return sorted(names - set(declared_signals(cls)))  # signals are objects, not methods


def settable_properties(cls: type) -> list[str]:
    return sorted(
        name
        for name, value in inspect.getmembers(cls)
        if not name.startswith("_") and isinstance(value, property) and value.fset is not None
    )


def readable_properties(cls: type) -> list[str]:
    return sorted(
        name
        for name, value in inspect.getmembers(cls)
        if not name.startswith("_") and isinstance(value, property)
    )


def positional_count(function: Callable[..., Any]) -> int:
    """How many positional parameters ``function`` (bound or static) takes."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 0
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in parameters if p.kind in kinds)


def call_cleanly(target: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Call ``target.name(*args, **kwargs)``; only ALLOWED_ERRORS with a message may escape."""
    method = getattr(target, name)
    try:
        method(*args, **kwargs)
    except ALLOWED_ERRORS as error:
        message = str(error).strip()
        assert message, f"{type(target).__name__}.{name} raised {type(error).__name__} silently"


@st.composite
def arguments(
    draw: st.DrawFn, function: Callable[..., Any], objects: list[Any] | None = None
) -> tuple[list[Any], dict[str, Any]]:
    """A random argument list for ``function``: usually the right arity, sometimes not.
    Some arguments are ``objects`` (the core's own objects, of the wrong kind or not)."""
    count = positional_count(function)
    arity = draw(st.sampled_from([count, count, count, max(0, count - 1), count + 1]))
    values = st.one_of(VALUES, st.sampled_from(objects)) if objects else VALUES
    args = [draw(values) for _ in range(arity)]
    kwargs: dict[str, Any] = {}
    if draw(st.integers(0, 9)) == 0:
        kwargs[draw(st.sampled_from(["bogus", "options", "timeout"]))] = draw(VALUES)
    return args, kwargs


def fuzz_one(
    draw: st.DrawFn,
    labels: list[str],
    obtain: Callable[[str], Any],
    arg_objects: list[Any],
    skip: set[str],
) -> None:
    """Draw an object (``obtain(label)``) and one of its methods or properties; call it
    with random arguments, some of them ``arg_objects``."""
    label = draw(st.sampled_from(labels))
    target = obtain(label)
    cls = type(target)
    choices = [("method", n) for n in public_methods(cls) if n not in skip]
    choices += [("set", n) for n in settable_properties(cls)]
    choices += [("get", n) for n in readable_properties(cls)]
    kind, name = draw(st.sampled_from(choices))
    if kind == "get":
        getattr(target, name)
    elif kind == "set":
        try:
            setattr(target, name, draw(VALUES))
        except ALLOWED_ERRORS as error:
            assert str(error).strip()
    else:
        args, kwargs = draw(arguments(getattr(target, name), arg_objects))
        call_cleanly(target, name, args, kwargs)


FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


# --------------------------------------------------------------------- offline objects


def _room() -> LiveKitRoom:
    room = LiveKitRoom()
    room.set_auto_poll(False)
    return room


def make_offline(label: str) -> tuple[Any, list[Any]]:
    """A fresh object for ``label`` (every example starts from a new one) and what must
    stay alive with it (participants and managers only hold their room weakly)."""
    room = _room()
    keep: list[Any] = [room]
    if label == "room":
        return room, keep
    if label == "local_participant":  # not connected: a room hands out none
        return LiveKitLocalParticipant(), keep
    if label == "e2ee_manager":
        return LiveKitE2eeManager(), keep
    if label == "key_provider":
        return LiveKitKeyProvider(), keep
    audio_source = LiveKitAudioSource.create(48000, 1, 200)
    if label == "audio_source":
        return audio_source, keep
    if label == "local_audio_track":
        return LiveKitLocalAudioTrack.create("fuzz-audio", audio_source), keep
    if label in ("video_source", "local_video_track"):
        video_source = LiveKitVideoSource.create(64, 48)
        if label == "video_source":
            return video_source, keep
        return LiveKitLocalVideoTrack.create("fuzz-video", video_source), keep
    simple: dict[str, Callable[[], Any]] = {
        "stale_remote_participant": LiveKitRemoteParticipant,
        "stale_remote_audio_track": LiveKitRemoteAudioTrack,
        "stale_remote_video_track": LiveKitRemoteVideoTrack,
        "bare_track": LiveKitTrack,
        "local_publication": LiveKitLocalTrackPublication,
        "remote_publication": LiveKitRemoteTrackPublication,
        # streams of a participant with nothing live behind it (from_track answers None)
        "video_stream": lambda: LiveKitVideoStream.from_participant(
            LiveKitRemoteParticipant(), LiveKitTrack.SOURCE_CAMERA
        ),
        "audio_stream": lambda: LiveKitAudioStream.from_participant(
            LiveKitRemoteParticipant(), LiveKitTrack.SOURCE_MICROPHONE
        ),
        "screen_capture": LiveKitScreenCapture.create,
        "stale_frame_cryptor": LiveKitFrameCryptor,
        "e2ee_options": LiveKitE2eeOptions,
    }
    return simple[label](), keep


OFFLINE_LABELS = [
    "room",
    "local_participant",
    "stale_remote_participant",
    "audio_source",
    "video_source",
    "local_audio_track",
    "local_video_track",
    "stale_remote_audio_track",
    "stale_remote_video_track",
    "bare_track",
    "local_publication",
    "remote_publication",
    "video_stream",
    "audio_stream",
    "screen_capture",
    "e2ee_manager",
    "key_provider",
    "stale_frame_cryptor",
    "e2ee_options",
]


def offline_pool() -> dict[str, Any]:
    """One object per label (the argument values that are the core's own objects)."""
    pool: dict[str, Any] = {}
    keep: list[Any] = []
    for label in OFFLINE_LABELS:
        pool[label], kept = make_offline(label)
        keep += kept
    pool["_keep"] = keep
    return pool


def classes_of(pool: dict[str, Any]) -> set[str]:
    return {
        cls.__name__
        for label, obj in pool.items()
        if not label.startswith("_")
        for cls in type(obj).__mro__
    }


@pytest.fixture
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    """Screen capture sees no display: its failures must be clean too."""
    monkeypatch.delenv("DISPLAY", raising=False)


@pytest.fixture
def offline(no_display: None) -> Iterator[dict[str, Any]]:
    pool = offline_pool()
    yield pool
    for label, obj in pool.items():
        closer = getattr(obj, "close", None)
        if callable(closer) and not label.startswith("_"):
            closer()


def test_every_exported_reference_class_has_an_object_to_fuzz(
    offline: dict[str, Any],
) -> None:
    missing = (
        {ref.name for ref in EXPORTED}
        - classes_of(offline)
        - {
            "LiveKitParticipant",  # base classes are covered by their subclasses' objects
            "LiveKitTrackPublication",
        }
    )
    assert not missing, f"add objects of {sorted(missing)} to offline_pool()"


def test_static_factories_with_random_arguments(no_display: None) -> None:
    factories = [
        (getattr(godot_livekit, ref.name), method.name)
        for ref in EXPORTED
        for method in ref.methods
        if method.static
    ]
    assert factories

    @settings(FUZZ_SETTINGS, max_examples=OFFLINE_EXAMPLES)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        cls, name = data.draw(st.sampled_from(factories))
        args, kwargs = data.draw(arguments(getattr(cls, name)))
        call_cleanly(cls, name, args, kwargs)

    run()
    # valid calls still work
    source = LiveKitAudioSource.create(48000, 2, 100)
    source.capture_frame(np.zeros(960, np.float32), 48000, 2, 480)
    assert LiveKitVideoSource.create(32, 32).get_width() == 32


def test_offline_objects_with_random_arguments(offline: dict[str, Any]) -> None:
    arg_objects = [obj for label, obj in offline.items() if not label.startswith("_")]
    made: list[tuple[Any, list[Any]]] = []

    def obtain(label: str) -> Any:
        made.append(make_offline(label))
        return made[-1][0]

    @settings(FUZZ_SETTINGS, max_examples=OFFLINE_EXAMPLES)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        made.clear()  # the previous example's objects can go
        fuzz_one(data.draw, OFFLINE_LABELS, obtain, arg_objects, skip=set())

    run()
    # the shared objects still answer valid calls, and the runtime thread is healthy
    room = offline["room"]
    room.poll_events()
    assert room.get_connection_state() == LiveKitRoom.STATE_DISCONNECTED
    offline["audio_source"].capture_frame(np.zeros(480, np.float32), 48000, 1, 480)
    assert testing.run_on_runtime(_echo(7), 5) == 7


async def _echo(value: int) -> int:
    return value


# --------------------------------------------------------------------- connected objects


@pytest.fixture
def connected_pool(alice_bob) -> Iterator[tuple[Peer, Peer, dict[str, Any]]]:
    """Alice publishes audio and video to bob; every live object of that session."""
    alice, bob = alice_bob
    audio_source = LiveKitAudioSource.create(48000, 1, 200)
    video_source = LiveKitVideoSource.create(64, 48)
    audio_track = LiveKitLocalAudioTrack.create("fuzz-audio", audio_source)
    video_track = LiveKitLocalVideoTrack.create("fuzz-video", video_source)
    audio_publication = alice.local.publish_track(audio_track, {})
    video_publication = alice.local.publish_track(video_track, {"simulcast": False})
    with tone_feeder(audio_source), video_feeder(video_source):
        wait_for_event(bob, "track_subscribed", count=2, also=[alice])
        remote_tracks = {type(args[0]).__name__: args for args in bob.args_of("track_subscribed")}
        remote_audio, remote_audio_pub, remote_alice = remote_tracks["LiveKitRemoteAudioTrack"]
        remote_video, remote_video_pub, _ = remote_tracks["LiveKitRemoteVideoTrack"]
        video_stream = LiveKitVideoStream.from_track(remote_video)
        video_stream.set_auto_poll(False)
        audio_stream = LiveKitAudioStream.from_track(remote_audio)
        pool = {
            "room": alice.room,
            "local_participant": alice.local,
            "remote_participant": remote_alice,
            "audio_source": audio_source,
            "video_source": video_source,
            "local_audio_track": audio_track,
            "local_video_track": video_track,
            "audio_publication": audio_publication,
            "video_publication": video_publication,
            "remote_audio_track": remote_audio,
            "remote_video_track": remote_video,
            "remote_audio_publication": remote_audio_pub,
            "remote_video_publication": remote_video_pub,
            "video_stream": video_stream,
            "audio_stream": audio_stream,
        }
        assert alice.room.get_e2ee_manager() is None  # connected without E2EE
        try:
            yield alice, bob, pool
        finally:
            video_stream.close()
            audio_stream.close()


def test_connected_objects_with_random_arguments_then_the_session_still_works(
    connected_pool: tuple[Peer, Peer, dict[str, Any]],
) -> None:
    alice, bob, pool = connected_pool
    labels = sorted(pool)
    arg_objects = list(pool.values())

    @settings(FUZZ_SETTINGS, max_examples=CONNECTED_EXAMPLES)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        fuzz_one(data.draw, labels, pool.__getitem__, arg_objects, skip=ENDS_THE_SESSION)
        alice.poll()  # the events that bad calls queued are applied without raising
        bob.poll()

    run()
    alice.room.set_auto_poll(False)
    assert alice.room.get_connection_state() == LiveKitRoom.STATE_CONNECTED
    assert bob.room.get_connection_state() == LiveKitRoom.STATE_CONNECTED
    exchange_data(alice, bob, b"still-works")
    exchange_data(bob, alice, b"still-works-back")
    # media still flows: the remote audio stream keeps delivering
    playback = CollectingPlayback()
    stream = pool["audio_stream"]
    if stream.is_active():
        wait_until(
            [alice, bob],
            lambda: stream.poll(playback) >= 0 and len(playback.frames()) > 4800,
            what="audio after the fuzzing",
        )
    assert not any(
        isinstance(value, float) and math.isnan(value)
        for value in (stream.get_buffered_ms(), pool["audio_source"].get_queued_duration())
    )
