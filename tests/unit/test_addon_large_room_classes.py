"""The Godot side of the large-room features (issue 12), on the faithful py4godot stand-in.
No server.

What GDScript sees: the new classes (LiveKitProximity, the stream writers, the data track
classes) and the large-room members of LiveKitRoom, LiveKitLocalParticipant and
LiveKitRemoteTrackPublication, as py4godot registers them -- every core method with the core's
argument names, every core signal declared (a core signal the Godot class does not declare is
silently not forwarded), Variant types of the signal arguments, enum values in the scripts and
in LiveKit.gd equal to the core's. Then behaviour: values converted as documented
(PackedStringArray identities, Dictionary infos, PackedByteArray payloads refilled in place
without corrupting a payload a handler kept), errors as Godot errors, and lifetimes (objects
the game drops are closed and freed by the LiveKitPoller). The real-server side is
tests/integration/test_addon_large_rooms.py.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import addon_env
import pytest
from addon_env import (
    ADDON_DIR,
    GD,
    gd_dict,
    gd_dictionary,
    gd_list,
    gd_null,
    gd_var,
    load_script,
    new_object,
    no_standin_crashes,
)
from py4godot import functions
from py4godot.classes import core
from py4godot.classes.core import Array, Dictionary, PackedByteArray, PackedStringArray

import godot_livekit
from addons.godot_livekit.bridge import convert, lifecycle, objects
from godot_livekit import testing
from godot_livekit.signals import declared_signals

_ = no_standin_crashes

LIVEKIT_GD = ADDON_DIR / "LiveKit.gd"

# Godot class -> its core class; the Godot class mirrors every public method and signal of
# the core class but those listed in NOT_MIRRORED.
NEW_CLASSES = {
    "LiveKitProximity": godot_livekit.LiveKitProximity,
    "LiveKitTextStreamWriter": godot_livekit.LiveKitTextStreamWriter,
    "LiveKitByteStreamWriter": godot_livekit.LiveKitByteStreamWriter,
    "LiveKitLocalDataTrack": godot_livekit.LiveKitLocalDataTrack,
    "LiveKitRemoteDataTrack": godot_livekit.LiveKitRemoteDataTrack,
    "LiveKitDataTrackSubscription": godot_livekit.LiveKitDataTrackSubscription,
}
NOT_MIRRORED = {("LiveKitProximity", "set_room")}  # create(room) binds the room once
# Reference classes that grew large-room members: class -> the methods GDScript gets.
GROWN_METHODS = {
    "LiveKitRoom": [
        "register_text_stream_handler",
        "register_byte_stream_handler",
        "unregister_text_stream_handler",
        "unregister_byte_stream_handler",
        "get_stream_handler_topics",
        "get_remote_data_tracks",
    ],
    "LiveKitLocalParticipant": [
        "send_text",
        "send_bytes",
        "send_file",
        "stream_text",
        "stream_bytes",
        "publish_data_track",
    ],
    "LiveKitRemoteTrackPublication": ["set_video_quality", "get_video_quality"],
}
GROWN_SIGNALS = {
    "LiveKitRoom": [
        "text_stream_received",
        "byte_stream_received",
        "text_stream_chunk_received",
        "byte_stream_chunk_received",
        "stream_finished",
        "stream_error",
        "data_track_published",
        "data_track_unpublished",
    ],
    "LiveKitLocalParticipant": ["stream_progress", "stream_sent", "stream_failed"],
}
# The Variant type of every signal argument of the new classes.
NEW_SIGNAL_TYPES = {
    "LiveKitProximity": {
        "subscriptions_changed": ["PACKED_STRING_ARRAY", "PACKED_STRING_ARRAY"],
    },
    "LiveKitLocalDataTrack": {"published": [], "publish_failed": ["STRING"]},
    "LiveKitDataTrackSubscription": {
        "frame_received": ["PACKED_BYTE_ARRAY", "INT"],
        "ended": ["STRING"],
    },
}
CORE_OF = {
    **NEW_CLASSES,
    "LiveKitRoom": godot_livekit.LiveKitRoom,
    "LiveKitLocalParticipant": godot_livekit.LiveKitLocalParticipant,
    "LiveKitRemoteTrackPublication": godot_livekit.LiveKitRemoteTrackPublication,
}
# LiveKit.gd constant -> (core class, its constant)
LIVEKIT_GD_CONSTANTS = {
    "DATA_KIND_LOSSY": (godot_livekit.LiveKitRoom, "DATA_KIND_LOSSY"),
    "DATA_KIND_RELIABLE": (godot_livekit.LiveKitRoom, "DATA_KIND_RELIABLE"),
    "STREAM_WHOLE": (godot_livekit.LiveKitRoom, "STREAM_WHOLE"),
    "STREAM_CHUNKS": (godot_livekit.LiveKitRoom, "STREAM_CHUNKS"),
    "DATA_TRACK_MODE_LATEST": (godot_livekit.LiveKitDataTrackSubscription, "MODE_LATEST"),
    "DATA_TRACK_MODE_ORDERED": (godot_livekit.LiveKitDataTrackSubscription, "MODE_ORDERED"),
    "VIDEO_QUALITY_LOW": (godot_livekit.LiveKitRemoteTrackPublication, "VIDEO_QUALITY_LOW"),
    "VIDEO_QUALITY_MEDIUM": (godot_livekit.LiveKitRemoteTrackPublication, "VIDEO_QUALITY_MEDIUM"),
    "VIDEO_QUALITY_HIGH": (godot_livekit.LiveKitRemoteTrackPublication, "VIDEO_QUALITY_HIGH"),
}


def _core_methods(core_class: type) -> dict[str, list[str]]:
    """Public methods of a core class (inherited ones too) -> argument names without self."""
    found = {}
    for name, member in inspect.getmembers(core_class, inspect.isfunction):
        if name.startswith("_"):
            continue
        params = list(inspect.signature(member).parameters)
        found[name] = params[1:] if params[:1] == ["self"] else params
    return found


def _mirrored_methods(name: str) -> list[str]:
    if name in NEW_CLASSES:
        core_names = _core_methods(NEW_CLASSES[name])
        return sorted(m for m in core_names if (name, m) not in NOT_MIRRORED)
    return GROWN_METHODS[name]


def _signals(name: str) -> dict[str, list[tuple[str, str]]]:
    declared = load_script(name).get_script_signal_list()
    result = {}
    for entry in gd_list(declared):
        args = gd_list(entry.get("args"))
        result[str(entry.get("name"))] = [(str(a.get("name")), str(a.get("type"))) for a in args]
    return result


# --- what GDScript sees ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method"),
    [(n, m) for n in [*NEW_CLASSES, *GROWN_METHODS] for m in _mirrored_methods(n)],
)
def test_method_with_the_core_argument_names(name: str, method: str) -> None:
    registered = load_script(name).standin_registered_methods()
    assert method in registered, f"{name} has no method {method}"
    core_args = _core_methods(CORE_OF[name])[method]
    assert registered[method] == ["self", *core_args], f"{name}.{method}"
    godot = inspect.signature(getattr(load_script(name).standin_class(), method))
    core_method = inspect.signature(getattr(CORE_OF[name], method))
    for arg in core_args:  # optional where the core's is optional
        godot_default = godot.parameters[arg].default is inspect.Parameter.empty
        assert godot_default == (core_method.parameters[arg].default is inspect.Parameter.empty)


@pytest.mark.parametrize("name", [*NEW_CLASSES, *GROWN_SIGNALS])
def test_every_core_signal_is_declared_with_the_core_argument_names(name: str) -> None:
    """``_lk_bind`` forwards only the core signals the Godot class declares: one missing
    would never reach GDScript, silently."""
    declared = _signals(name)
    core_signals = declared_signals(CORE_OF[name])
    wanted = GROWN_SIGNALS.get(name, list(core_signals))
    for signal in wanted:
        assert signal in declared, f"{name} does not declare {signal}"
        assert [arg for arg, _ in declared[signal]] == list(core_signals[signal]), signal
    if name in NEW_CLASSES:
        assert set(declared) == set(core_signals)


@pytest.mark.parametrize("name", list(NEW_SIGNAL_TYPES))
def test_signal_argument_types(name: str) -> None:
    declared = _signals(name)
    for signal, types in NEW_SIGNAL_TYPES[name].items():
        assert [kind for _, kind in declared[signal]] == types, f"{name}.{signal}"


def test_only_the_proximity_has_a_property_auto_poll() -> None:
    for name in NEW_CLASSES:
        registered = {p: d for p, _, d in load_script(name).standin_registered_properties()}
        assert registered == ({"auto_poll": True} if name == "LiveKitProximity" else {}), name
    proximity = new_object("LiveKitProximity")
    assert proximity.get("auto_poll") is True
    proximity.set("auto_poll", False)
    assert proximity.get("auto_poll") is False and proximity.get_auto_poll() is False


def test_enum_values_in_the_scripts_and_in_livekit_gd_are_the_cores() -> None:
    text = LIVEKIT_GD.read_text(encoding="utf-8")
    consts = dict(re.findall(r"^const (\w+): int = (-?\d+)$", text, re.M))
    for name, (core_class, core_name) in LIVEKIT_GD_CONSTANTS.items():
        assert int(consts[name]) == getattr(core_class, core_name), name
        script = load_script(core_class.__name__)
        assert getattr(script.standin_class(), core_name) == getattr(core_class, core_name)


def test_livekit_gd_makes_the_proximity_and_checks_every_new_script() -> None:
    text = LIVEKIT_GD.read_text(encoding="utf-8")
    block = re.search(r"const LARGE_ROOM_SCRIPTS: Array\[String\] = \[(.*?)\]", text, re.S)
    assert block is not None
    paths = dict(re.findall(r'^const (\w+_SCRIPT): String = ADDON_DIR \+ "/(\w+)\.py"', text, re.M))
    listed = {paths[name] for name in re.findall(r"\w+_SCRIPT", block.group(1))}
    assert listed == set(NEW_CLASSES)
    assert "for path: String in SCRIPTS + LARGE_ROOM_SCRIPTS:" in text  # is_available()
    factory = re.search(
        r"^static func create_proximity\(room: Object\) -> Object:\n(.*?)\n\n", text, re.S | re.M
    )
    assert factory is not None and "proximity.create(room)" in factory.group(1)


@pytest.mark.parametrize("name", list(NEW_CLASSES))
def test_every_method_on_a_fresh_object_is_a_godot_error_not_a_crash(name: str) -> None:
    """GDScript could instantiate a script itself: every method then says how such an object
    is made, returns a Variant default and raises nothing."""
    handle = new_object(name)
    errors = len(functions.standin_errors())
    engine_errors = len(functions.standin_engine_errors())
    dummies = {"room": None, "identity": "x", "payload": PackedByteArray.new0()}
    called: list[str] = []
    for method, args in _core_methods(NEW_CLASSES[name]).items():
        if (name, method) in NOT_MIRRORED:
            continue
        getattr(handle, method)(*[dummies.get(arg, 0) for arg in args])
        called.append(method)
    messages = functions.standin_errors()[errors:]
    assert functions.standin_engine_errors()[engine_errors:] == []
    assert messages, "a fresh object must say it is not initialised"
    if name == "LiveKitProximity":
        assert "create: room must be a LiveKit object, got NoneType" in messages.pop(0)
    hint = load_script(name).standin_class().LK_CREATE_HINT  # "" for room-made objects
    said = f"this {name} is not initialised" + (f": call {hint} first" if hint else "")
    assert all(said in message for message in messages), messages
    quiet = {"close", "unpublish", "get_auto_poll", "set_auto_poll", "create"} & set(called)
    assert len(messages) == len(called) - len(quiet)  # all but those that need no core


# --- behaviour -------------------------------------------------------------------------------


@pytest.fixture
def poller() -> GD:
    handle = new_object("LiveKitPoller")
    handle._ready()
    return handle


def sweep(poller: GD) -> None:
    """One LiveKitPoller frame after the sweep interval."""
    lifecycle._last_sweep = 0.0
    poller._process(1 / 60)


def _strings(value: Any) -> list[str]:
    assert isinstance(value, PackedStringArray), type(value).__name__
    return [str(item) for item in value.to_list()]


def _bytes(value: Any) -> bytes:
    """A PackedByteArray's bytes as GDScript reads them (no write access, so no copy)."""
    assert isinstance(value, PackedByteArray), type(value).__name__
    return value._data.tobytes()


def test_proximity_made_for_a_room_converts_identities(poller: GD) -> None:
    room = new_object("LiveKitRoom")
    proximity = new_object("LiveKitProximity")
    assert proximity.create(room) == proximity  # LiveKit.create_proximity returns it
    core_proximity = proximity.script_instance._lk_core
    assert (
        isinstance(core_proximity, godot_livekit.LiveKitProximity)
        and core_proximity.get_auto_poll()
    )
    proximity.set_max_participants(8)
    proximity.set_radius(30.0)
    proximity.set_hysteresis(2)
    proximity.set_update_hz(20.0)
    proximity.set_listener_position(1.0, 2.0, 3.0)
    proximity.set_participant_position("bob", 1.0, 2.0)
    assert (proximity.get_max_participants(), proximity.get_radius()) == (8, 30.0)
    assert proximity.get_hysteresis() == 2.0
    changes: list[tuple[list[str], list[str]]] = []
    proximity.connect(
        "subscriptions_changed", lambda a, b: changes.append((_strings(a), _strings(b)))
    )
    core_proximity.subscriptions_changed.emit(["bob", "carol"], ["dave"])  # as its poll() emits it
    assert changes == [(["bob", "carol"], ["dave"])]
    assert _strings(proximity.get_near_identities()) == []
    errors = len(functions.standin_errors())
    proximity.set_max_participants(-1)
    proximity.set_listener_position(float("nan"), 0.0, 0.0)
    new_errors = functions.standin_errors()[errors:]
    assert len(new_errors) == 2 and "count must be an int >= 0" in new_errors[0]
    assert "finite" in new_errors[1] and proximity.get_max_participants() == 8
    # the game drops it: the poller closes (no more choosing) and frees it
    proximity_id = proximity.instance_id
    proximity.drop()
    sweep(poller)
    assert addon_env.is_freed(proximity_id)
    assert not core_proximity.get_auto_poll()  # closed: the frame poller leaves it alone


def test_remote_data_tracks_are_one_object_each_and_released_when_unpublished(
    poller: GD,
) -> None:
    room = new_object("LiveKitRoom")
    room.get_connection_state()  # the first call makes the core room and its registry
    core_room = room.script_instance._lk_core
    published: list[GD] = []
    unpublished: list[GD] = []
    room.connect("data_track_published", published.append)
    room.connect("data_track_unpublished", unpublished.append)
    track = godot_livekit.LiveKitRemoteDataTrack()  # what a session announces
    core_room.data_track_published.emit(track)
    core_room.data_track_published.emit(track)
    assert len(published) == 2 and published[0] == published[1]
    assert published[0].script_instance._lk_core is track
    assert isinstance(room.get_remote_data_tracks(), Array)  # not connected: empty
    track_id = published[0].instance_id
    sweep(poller)
    assert not addon_env.is_freed(track_id)  # the room still lists it
    core_room.data_track_unpublished.emit(track)
    assert unpublished == [published[0]]
    published.clear()
    unpublished.clear()
    sweep(poller)
    assert addon_env.is_freed(track_id)  # the room let go and the game kept nothing


def test_stream_signals_carry_dictionaries_strings_and_bytes_refilled_in_place() -> None:
    room = new_object("LiveKitRoom")
    room.get_connection_state()
    core_room = room.script_instance._lk_core
    info = {
        "id": "s1", "kind": "bytes", "topic": "level", "sender_identity": "alice",
        "mime_type": "application/x-level", "name": "l.bin", "total_size": 6,
        "attributes": {"v": "2"}, "timestamp": 1_700_000_000_000,
    }  # fmt: skip
    kept: list[Any] = []
    keep = [True]
    seen: list[tuple[dict[str, Any], bytes]] = []

    def on_chunk(godot_info: Any, data: Any) -> None:
        fields = gd_dict(godot_info)
        fields["attributes"] = gd_dict(fields["attributes"])
        seen.append((fields, _bytes(data)))
        if keep[0]:
            kept.append(data)  # a handler that keeps the payload

    room.connect("byte_stream_chunk_received", on_chunk)
    texts: list[tuple[dict[str, Any], str]] = []
    room.connect("text_stream_received", lambda i, t: texts.append((gd_dict(i), t)))
    cow_before = core.standin_cow_copies
    for chunk in (b"abc", b"def", b"xyz"):
        core_room.byte_stream_chunk_received.emit(info, chunk)
    assert [data for _, data in seen] == [b"abc", b"def", b"xyz"]
    assert [_bytes(data) for data in kept] == [b"abc", b"def", b"xyz"]  # kept ones intact
    assert core.standin_cow_copies - cow_before == 2  # a kept payload is copied once, on reuse
    assert seen[0][0] == info
    # nobody keeps them: the one buffer is refilled without a copy
    keep[0] = False
    kept.clear()
    cow_before = core.standin_cow_copies
    for chunk in (b"123", b"456"):
        core_room.byte_stream_chunk_received.emit(info, chunk)
    assert core.standin_cow_copies == cow_before and seen[-1][1] == b"456"
    core_room.text_stream_received.emit({**info, "kind": "text"}, "héllo 😀")
    (godot_info, text) = texts[0]
    assert text == "héllo 😀" and godot_info["kind"] == "text"
    assert gd_dict(godot_info["attributes"]) == {"v": "2"}


def test_stream_handlers_from_godot_dictionaries() -> None:
    room = new_object("LiveKitRoom")
    room.register_text_stream_handler("chat", gd_dictionary(delivery=1, max_bytes=1000))
    room.register_byte_stream_handler("level")
    topics = room.get_stream_handler_topics()
    assert isinstance(topics, Dictionary)
    assert {k: _strings(v) for k, v in gd_dict(topics).items()} == {
        "text": ["chat"],
        "bytes": ["level"],
    }
    errors = len(functions.standin_errors())
    room.register_text_stream_handler("chat")  # twice: an error, nothing changes
    room.register_byte_stream_handler("bad", gd_dictionary(delivery=7))
    new_errors = functions.standin_errors()[errors:]
    assert len(new_errors) == 2 and "already registered" in new_errors[0]
    assert "delivery must be STREAM_WHOLE or STREAM_CHUNKS" in new_errors[1]
    assert room.unregister_text_stream_handler("chat") is True
    assert room.unregister_text_stream_handler("chat") is False
    assert room.unregister_byte_stream_handler("level") is True
    remaining = gd_dict(room.get_stream_handler_topics())
    assert {k: _strings(v) for k, v in remaining.items()} == {"text": [], "bytes": []}


def test_subscription_frames_through_one_reused_payload_and_ended_once(poller: GD) -> None:
    room = new_object("LiveKitRoom")
    room.get_connection_state()
    core_track = godot_livekit.LiveKitRemoteDataTrack()
    track = gd_var(room.script_instance._lk_registry.wrapper_for(core_track))
    subscription = track.subscribe(1, 16)  # ordered
    core_subscription = subscription.script_instance._lk_core
    assert (subscription.get_mode(), subscription.get_queue_size()) == (1, 16)
    frames: list[tuple[bytes, int]] = []
    kept: list[Any] = []
    reused: list[bool] = []  # the payload a handler gets is the subscription's one buffer

    def on_frame(payload: Any, timestamp: int) -> None:
        frames.append((_bytes(payload), timestamp))
        reused.append(payload._buffer is subscription.script_instance._lk_payload.packed._buffer)
        if timestamp == 1:
            kept.append(payload)  # this one is kept by the game

    ended: list[str] = []
    subscription.connect("frame_received", on_frame)
    subscription.connect("ended", ended.append)
    # frames 1 and 2 have one size (the buffer is refilled in place), 4 is the 64 KiB limit
    payloads = [b"\x00" * 100, b"\x01" * 101, b"\x02" * 101, b"\x03" * 7, bytes(range(256)) * 256]
    for index, payload in enumerate(payloads):
        testing.feed_data_track_frame(core_subscription, payload, index if index != 3 else None)
    assert subscription.poll() == 6  # five frames and ``ended`` (the track is not published)
    assert frames == [(p, i if i != 3 else -1) for i, p in enumerate(payloads)]
    assert _bytes(kept[0]) == payloads[1]  # refilled since, and still what it was
    assert len(ended) == 1 and "unpublished" in ended[0]
    assert subscription.poll() == 0 and len(ended) == 1  # once
    buffer = subscription.script_instance._lk_payload.packed
    testing.feed_data_track_frame(core_subscription, b"again", 9)
    cow = core.standin_cow_copies
    subscription.poll()
    assert subscription.script_instance._lk_payload.packed is buffer  # one PackedByteArray
    assert core.standin_cow_copies == cow  # nobody kept it: refilled without a copy
    assert frames[-1] == (b"again", 9)
    assert all(reused) and len(reused) == 6
    assert gd_null(subscription.get_track())  # not published (any more)
    assert subscription.get_received_count() == 6 and subscription.get_dropped_count() == 0
    # the game drops it: closed and freed
    subscription_id = subscription.instance_id
    subscription.drop()
    sweep(poller)
    assert addon_env.is_freed(subscription_id)
    received = core_subscription.get_received_count()
    testing.feed_data_track_frame(core_subscription, b"after", 10)  # closed: ignored
    assert core_subscription.get_received_count() == received


def test_send_file_turns_godot_paths_into_os_paths(monkeypatch: Any, tmp_path: Path) -> None:
    from py4godot.classes import ProjectSettings as project_settings
    from py4godot.pluginscript_api.utils import annotations

    import addons.godot_livekit.LiveKitLocalParticipant as module

    monkeypatch.setattr(project_settings, "standin_user_data_dir", str(tmp_path / "user"))
    assert module._os_path("user://saves/a.bin") == f"{tmp_path}/user/saves/a.bin"
    assert module._os_path(core.String("/tmp/x.bin")) == "/tmp/x.bin"
    root = annotations.standin_project_root
    assert module._os_path("res://icon.svg") == f"{Path(root).resolve()}/icon.svg"
    assert module._os_path(7) == 7  # the core names the wrong type


def test_video_quality_reaches_the_core_and_bad_values_are_godot_errors() -> None:
    room = new_object("LiveKitRoom")
    room.get_connection_state()
    core_publication = godot_livekit.LiveKitRemoteTrackPublication()
    publication = gd_var(room.script_instance._lk_registry.wrapper_for(core_publication))
    assert publication.get_video_quality() == 2  # HIGH until asked
    publication.set_video_quality(0)
    assert core_publication.get_video_quality() == 0 == publication.get_video_quality()
    errors = len(functions.standin_errors())
    publication.set_video_quality(7)
    (error,) = functions.standin_errors()[errors:]
    assert error.startswith("LiveKitRemoteTrackPublication.set_video_quality: set_video_quality")
    assert publication.get_video_quality() == 0


def test_writers_and_local_tracks_are_owned_by_the_game(poller: GD) -> None:
    """Made by the core for the game: one Godot object each, held by the addon until the game
    lets go, then closed and freed."""
    writer_core = godot_livekit.LiveKitTextStreamWriter()  # not connected: already failed
    writer = gd_var(objects.game_owned(writer_core))
    assert writer.get_stream_id() == writer_core.get_stream_id() != ""
    assert writer.is_open() is False and writer.get_error() == "not connected"
    errors = len(functions.standin_errors())
    writer.write("late")
    (error,) = functions.standin_errors()[errors:]
    assert "LiveKitTextStreamWriter.write" in error and "not connected" in error
    track_core = godot_livekit.LiveKitLocalDataTrack("positions")
    track = gd_var(objects.game_owned(track_core))
    assert track.get_name() == "positions" and track.get_sid() == ""
    assert track.push(convert.bytes_to_packed(b"xyz"), 5) is False  # not published
    assert track.get_refused_count() == 1
    assert objects.adopted[id(track_core)] is track.script_instance  # one Godot object
    ids = [writer.instance_id, track.instance_id]
    sweep(poller)
    assert not any(addon_env.is_freed(i) for i in ids)  # the game holds them
    writer.drop()
    track.drop()
    sweep(poller)
    assert all(addon_env.is_freed(i) for i in ids)
    assert id(track_core) not in objects.adopted


# --- the README's GDScript ---------------------------------------------------------------------

README = ADDON_DIR.parents[1] / "README.md"
GODOT_CALLS = {"connect", "get", "erase", "get_ticks_usec"}  # Signal, Dictionary, Time


def _large_rooms_gdscript() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## Large rooms\n") :]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"```gdscript\n(.*?)```", section, re.S)
    assert len(blocks) >= 4, "the Large rooms section shows its GDScript"
    return "\n".join(re.sub(r"#[^\n]*", "", block) for block in blocks)


def _addon_signatures() -> dict[str, list[inspect.Signature]]:
    found: dict[str, list[inspect.Signature]] = {}
    for path in sorted(ADDON_DIR.glob("*.py")):
        cls = load_script(path.stem).standin_class()
        for method in load_script(path.stem).standin_registered_methods():
            found.setdefault(method, []).append(inspect.signature(getattr(cls, method)))
    return found


def _argument_count(code: str, start: int) -> int:
    depth, commas, seen = 1, 0, False
    for char in code[start:]:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                break
        elif char == "," and depth == 1:
            commas += 1
        seen = seen or not char.isspace()
    return commas + 1 if seen else 0


def test_the_readme_large_rooms_gdscript_calls_what_the_addon_has() -> None:
    code = _large_rooms_gdscript()
    livekit_gd = LIVEKIT_GD.read_text(encoding="utf-8")
    livekit_names = set(re.findall(r"^(?:const|static func) (\w+)", livekit_gd, re.M))
    signals = {name for path in ADDON_DIR.glob("*.py") for name in _signals(path.stem)}
    signatures = _addon_signatures()
    problems = []
    for name in re.findall(r"\bLiveKit\.(\w+)", code):
        if name not in livekit_names:
            problems.append(f"LiveKit.{name} is not in LiveKit.gd")
    for name in re.findall(r"\.(\w+)\.connect\(", code):
        if name not in signals:
            problems.append(f"signal {name} is not declared by an addon class")
    checked = 0
    for match in re.finditer(r"(?<![\w$])(\w+|\))\.(\w+)\(", code):
        receiver, method = match.groups()
        if receiver == "LiveKit" or method in GODOT_CALLS or method in signals:
            continue
        count = _argument_count(code, match.end())
        accepted = set()
        for signature in signatures.get(method, []):
            params = list(signature.parameters.values())[1:]
            required = sum(p.default is inspect.Parameter.empty for p in params)
            accepted |= set(range(required, len(params) + 1))
        checked += 1
        if count not in accepted:
            problems.append(f".{method}() with {count} argument(s); the addon takes {accepted}")
    for name in re.findall(r"\b(LiveKit[A-Z]\w*)\.", code):
        problems.append(f"{name}.: py4godot registers no class names (use LiveKit.gd)")
    assert checked > 20, f"only {checked} calls checked: is the regex broken?"
    assert not problems, "\n".join(problems)
