"""The Godot addon (addons/godot_livekit/*.py) conforms to the API reference, as Godot sees it.

Scripts are loaded the way py4godot loads them (the py4godot stand-in in
tests/py4godot_standin mirrors tag 4.7-alpha21; see tests/support/addon_env.py): one
``@gdclass`` per file named like the file; methods as py4godot registers them (argument names
from ``inspect.getfullargspec``); signals as declared with ``signal([SignalArg(...)])``,
argument names in order and Variant types; properties as py4godot *registers* them (annotated
declarations, not bare ``@property``), read and written through the engine object the way
GDScript does, defaults surviving py4godot's creation-time write, read-only ones ignoring
writes. Every method is also called on a fresh object, the way GDScript would, to check that no
exception escapes and that every return value is a Variant. No server is needed.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import addon_env  # noqa: F401 - sets up sys.path before py4godot/addons imports
import pytest
from addon_env import (
    ADDON_DIR,
    gd_list,
    gd_new,
    gd_null,
    gd_var,
    load_script,
    new_object,
    no_standin_crashes,
)
from py4godot import functions
from py4godot.classes.AudioStreamGenerator import AudioStreamGenerator
from py4godot.classes.core import (
    Array,
    Dictionary,
    PackedByteArray,
    PackedFloat32Array,
    PackedStringArray,
)
from reference import ReferenceClass, load_reference

import godot_livekit

# Reference classes without an addon script yet -> why. Mirrors PENDING in
# tests/test_conformance.py: a class the core does not export cannot be wrapped.
PENDING: dict[str, str] = {}

# -- large rooms (issue 12): classes and signals beyond the reference (README "Large rooms");
# the members of these classes are pinned in tests/unit/test_addon_large_room_classes.py.
LARGE_ROOM_SCRIPTS = {
    "LiveKitProximity",
    "LiveKitTextStreamWriter",
    "LiveKitByteStreamWriter",
    "LiveKitLocalDataTrack",
    "LiveKitRemoteDataTrack",
    "LiveKitDataTrackSubscription",
}
_INFO = ("info", "DICTIONARY")
LARGE_ROOM_SIGNALS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "LiveKitRoom": {
        "text_stream_received": [_INFO, ("text", "STRING")],
        "byte_stream_received": [_INFO, ("data", "PACKED_BYTE_ARRAY")],
        "text_stream_chunk_received": [_INFO, ("text", "STRING")],
        "byte_stream_chunk_received": [_INFO, ("data", "PACKED_BYTE_ARRAY")],
        "stream_finished": [_INFO],
        "stream_error": [_INFO, ("error", "STRING")],
        "data_track_published": [("track", "OBJECT")],
        "data_track_unpublished": [("track", "OBJECT")],
    },
    "LiveKitLocalParticipant": {
        "stream_progress": [("stream_id", "STRING"), ("bytes_sent", "INT"), ("total_bytes", "INT")],
        "stream_sent": [("stream_id", "STRING")],
        "stream_failed": [("stream_id", "STRING"), ("error", "STRING")],
    },
}
# -- end large rooms

EXTRA_SCRIPTS = {"LiveKitPoller", "LiveKitProbe"} | LARGE_ROOM_SCRIPTS  # + the autoload, probe
BASES = {"LiveKitPoller": "Node"}  # scripts whose Godot base is not RefCounted
# Signals a reference class declares beyond the reference: class -> signal -> (arg, type)s.
EXTRA_SIGNALS: dict[str, dict[str, list[tuple[str, str]]]] = {
    name: dict(signals) for name, signals in LARGE_ROOM_SIGNALS.items()
}
# -- voice (tests/unit/test_addon_voice_nodes.py covers these classes) --
EXTRA_SCRIPTS |= {"LiveKitMicrophone", "LiveKitSpatialVoice"}
BASES |= {"LiveKitMicrophone": "AudioStreamPlayer", "LiveKitSpatialVoice": "AudioStreamPlayer3D"}
EXTRA_SIGNALS["LiveKitRoom"]["active_speakers_changed"] = [("speakers", "ARRAY")]
# -- end of voice --
_ = no_standin_crashes  # autouse fixture: nothing a real py4godot process would crash on

REFERENCE = load_reference()
PRESENT = [ref for ref in REFERENCE if ref.name not in PENDING]
BY_NAME = {ref.name: ref for ref in REFERENCE}


def _lineage(ref: ReferenceClass) -> list[ReferenceClass]:
    """The class and its reference ancestors: a Godot script has no Python base class to
    inherit from (see bridge/members.py), so each script carries inherited members itself."""
    chain = [ref]
    while chain[-1].inherits:
        chain.append(BY_NAME[chain[-1].inherits])
    return chain


def _members(ref: ReferenceClass, member: str) -> list[Any]:
    return [item for klass in _lineage(ref) for item in getattr(klass, member)]


VARIANT_OF = {
    "String": "STRING",
    "int": "INT",
    "float": "FLOAT",
    "bool": "BOOL",
    "Dictionary": "DICTIONARY",
    "Array": "ARRAY",
    "PackedByteArray": "PACKED_BYTE_ARRAY",
}


def _variant_type(reference_type: str) -> str:
    """The Variant type py4godot declares for a reference signal argument type."""
    return VARIANT_OF.get(reference_type, "OBJECT")


def _script(name: str) -> Any:
    script = load_script(name)
    assert script is not None, f"{name}.py did not load"
    return script


def _class(name: str) -> type:
    return _script(name).standin_class()


def _by_name(godot_list: Array) -> dict[str, Dictionary]:
    return {str(entry.get("name")): entry for entry in gd_list(godot_list)}


# --- the set of scripts --------------------------------------------------------------------


def test_pending_is_exactly_what_the_core_lacks() -> None:
    missing_in_core = {ref.name for ref in REFERENCE if not hasattr(godot_livekit, ref.name)}
    assert set(PENDING) == missing_in_core, "update PENDING: the core's set of classes changed"


def test_a_script_per_present_reference_class_and_nothing_else() -> None:
    scripts = {path.stem for path in ADDON_DIR.glob("*.py")}
    expected = {ref.name for ref in PRESENT} | EXTRA_SCRIPTS
    assert scripts == expected


@pytest.mark.parametrize("name", sorted({ref.name for ref in PRESENT} | EXTRA_SCRIPTS))
def test_script_registers_one_class_named_like_the_file(name: str) -> None:
    source = (ADDON_DIR / f"{name}.py").read_text(encoding="utf-8")
    assert len(re.findall(r"^@gdclass$", source, re.MULTILINE)) == 1
    assert source.startswith('"""'), "every addon file starts with a module docstring"
    script = _script(name)
    assert script.standin_class() is not None, f"@gdclass did not register {name}"
    assert script.standin_class().__name__ == name
    assert script.get_instance_base_type() == BASES.get(name, "RefCounted")


# --- methods, signals, properties, constants -------------------------------------------------


def _cases(member: str) -> list[Any]:
    return [
        pytest.param(ref, item, id=f"{ref.name}.{item.name}")
        for ref in PRESENT
        for item in _members(ref, member)
    ]


@pytest.mark.parametrize(("ref", "method"), _cases("methods"))
def test_method_as_py4godot_registers_it(ref: ReferenceClass, method: Any) -> None:
    methods = _script(ref.name).standin_registered_methods()
    assert method.name in methods, f"{ref.name} has no method {method.name}"
    args = methods[method.name]
    names = [arg.name for arg in method.args]
    assert args[0] == "self", f"{method.name} must be an instance method (py4godot has no statics)"
    assert args[1 : 1 + len(names)] == names, f"{method.name}{args}: reference names {names}"
    signature = inspect.signature(getattr(_class(ref.name), method.name))
    extra = list(signature.parameters.values())[1 + len(names) :]
    assert all(p.default is not inspect.Parameter.empty for p in extra), (
        f"{method.name}: arguments beyond the reference need defaults"
    )


@pytest.mark.parametrize("ref", [pytest.param(r, id=r.name) for r in PRESENT])
def test_signals_exactly_as_declared_by_the_reference(ref: ReferenceClass) -> None:
    declared = _by_name(_script(ref.name).get_script_signal_list())
    signals = _members(ref, "signals")
    extra = EXTRA_SIGNALS.get(ref.name, {})
    assert set(declared) == {sig.name for sig in signals} | set(extra)
    for name, expected_args in extra.items():
        args = [
            (str(a.get("name")), str(a.get("type"))) for a in gd_list(declared[name].get("args"))
        ]
        assert args == expected_args, f"{ref.name}.{name}"
    for sig in signals:
        args = [
            (str(a.get("name")), str(a.get("type")))
            for a in gd_list(declared[sig.name].get("args"))
        ]
        expected = [(arg.name, _variant_type(arg.type)) for arg in sig.args]
        assert args == expected, f"{ref.name}.{sig.name}"
    for name, expected in extra.items():
        args = [
            (str(a.get("name")), str(a.get("type"))) for a in gd_list(declared[name].get("args"))
        ]
        assert args == expected, f"{ref.name}.{name}"


@pytest.mark.parametrize("ref", [pytest.param(r, id=r.name) for r in PRESENT])
def test_py4godot_registers_exactly_the_reference_properties(ref: ReferenceClass) -> None:
    registered = {
        name: default for name, _, default in _script(ref.name).standin_registered_properties()
    }
    assert set(registered) == {prop.name for prop in _members(ref, "properties")}
    for prop in _members(ref, "properties"):
        if prop.default == "true":
            assert registered[prop.name] is True, f"{prop.name}: py4godot writes this default"


@pytest.mark.parametrize(("ref", "prop"), _cases("properties"))
def test_property_through_the_engine_object(ref: ReferenceClass, prop: Any) -> None:
    handle = new_object(ref.name)
    engine_errors = len(functions.standin_engine_errors())
    value = handle.get(prop.name)
    if prop.default == "true":
        assert value is True, "the default must survive py4godot's creation-time write"
    if prop.read_only:
        handle.set(
            prop.name, 12345 if isinstance(value, int) and not isinstance(value, bool) else "x"
        )
        assert _same(handle.get(prop.name), value), f"{prop.name} is read-only"
    else:
        handle.set(prop.name, False)
        assert handle.get(prop.name) is False
        assert getattr(handle, f"get_{prop.name}")() is False
        handle.set(prop.name, True)
        assert handle.get(prop.name) is True
    assert functions.standin_engine_errors()[engine_errors:] == []


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Dictionary | Array):
        return a.size() == b.size()
    return a == b


def test_gdscript_sees_no_python_only_members() -> None:
    """Class constants and plain attributes are not Godot properties (LiveKit.gd holds the
    enum values); reading one from GDScript is an engine error."""
    room = new_object("LiveKitRoom")
    engine_errors = len(functions.standin_engine_errors())
    assert room.get("STATE_CONNECTED") is None
    assert room.get("LK_CREATE_HINT") is None
    assert len(functions.standin_engine_errors()) == engine_errors + 2


@pytest.mark.parametrize(
    ("ref", "constant"),
    [
        pytest.param(ref, item, id=f"{ref.name}.{item[0]}")
        for ref in PRESENT
        for enum in _members(ref, "enums")
        for item in enum.values.items()
    ],
)
def test_enum_constant(ref: ReferenceClass, constant: tuple[str, int]) -> None:
    name, value = constant
    assert getattr(_class(ref.name), name) == value


# --- calling everything on fresh objects --------------------------------------------------------


def _dummy(reference_type: str) -> Any:
    """A harmless value of a reference argument type, as GDScript would pass it."""
    simple: dict[str, Any] = {"String": "", "int": 0, "float": 0.0, "bool": False}
    if reference_type in simple:
        return simple[reference_type]
    factories = {
        "Dictionary": Dictionary.new0,
        "Array": Array.new0,
        "PackedByteArray": PackedByteArray.new0,
        "PackedFloat32Array": PackedFloat32Array.new0,
        "PackedStringArray": PackedStringArray.new0,
        "Image": lambda: gd_new("Image"),
        "AudioStreamGeneratorPlayback": lambda: gd_var(
            AudioStreamGenerator.new().instantiate_playback()
        ),
    }
    return factories[reference_type]() if reference_type in factories else None


@pytest.mark.parametrize("ref", [pytest.param(r, id=r.name) for r in PRESENT])
def test_every_method_on_a_fresh_object_returns_a_variant_and_never_raises(
    ref: ReferenceClass,
) -> None:
    handle = new_object(ref.name)
    engine_errors = len(functions.standin_engine_errors())
    for method in _members(ref, "methods"):
        # Object.call raises when a value could not become a Variant; the guard must catch
        # everything else and print it as a Godot error instead.
        getattr(handle, method.name)(*[_dummy(arg.type) for arg in method.args])
    for name in ("close", "disconnect_from_room"):
        if handle.has_method(name):
            getattr(handle, name)()
    assert functions.standin_engine_errors()[engine_errors:] == []


def test_errors_become_godot_errors_with_the_reference_default() -> None:
    source = new_object("LiveKitAudioSource")
    before = len(functions.standin_errors())
    assert source.get_sample_rate() == 0
    assert gd_null(source.create(1000, 1, 200))  # below 8 kHz: ValueError; None arrives as 0
    errors = functions.standin_errors()[before:]
    assert len(errors) == 2
    assert (
        "LiveKitAudioSource.get_sample_rate: this LiveKitAudioSource is not initialised"
        in (errors[0])
    )
    assert "create(sample_rate, num_channels, queue_size_ms) first" in errors[0]
    assert errors[1].startswith("LiveKitAudioSource.create: sample_rate must be in")


def test_reference_statics_initialise_and_return_the_object_itself() -> None:
    audio_source = new_object("LiveKitAudioSource")
    assert audio_source.create(48000, 1, 200) == audio_source
    assert audio_source.get_sample_rate() == 48000
    video_source = new_object("LiveKitVideoSource")
    assert video_source.create(64, 32) == video_source
    assert (video_source.get_width(), video_source.get_height()) == (64, 32)
    for track_name, source in (
        ("LiveKitLocalAudioTrack", audio_source),
        ("LiveKitLocalVideoTrack", video_source),
    ):
        track = new_object(track_name)
        assert track.create("t", source) == track
        assert track.get_name() == "t"
    capture = new_object("LiveKitScreenCapture")
    assert isinstance(capture.get_monitors(), Array)
    assert isinstance(capture.get_windows(), Array)
    permissions = capture.check_permissions()
    assert isinstance(permissions, Dictionary) and permissions.has("status")
    assert capture.create() == capture
    capture.close()
    video_source.close()


def test_room_before_connecting_has_no_local_participant_and_no_e2ee_manager() -> None:
    room = new_object("LiveKitRoom")
    assert gd_null(room.get_local_participant()) and gd_null(room.get("local_participant"))
    assert room.get("remote_participants").size() == 0
    assert room.get("connection_state") == room.script_instance.STATE_DISCONNECTED
    assert gd_null(room.get_e2ee_manager())
