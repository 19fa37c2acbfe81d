"""The py4godot stand-in is as unkind as py4godot 4.7-alpha21 (tests/py4godot_standin/FACTS.md).

Each test pins one behaviour of py4godot (or of Godot underneath it) that the addon has to live
with; a stand-in made kinder -- e.g. an ``Array.__getitem__`` that returns the element, a
``from_memory_view`` that releases its buffer, a ``@property`` that GDScript can reach without
a registered declaration -- fails here.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import types
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import addon_env
import numpy as np
import pytest
from addon_env import GD, gd_list, gd_new, is_freed, no_standin_crashes
from gil_probe import runs_beside
from py4godot import _engine, functions
from py4godot.classes import core
from py4godot.classes.AudioEffectCapture import AudioEffectCapture
from py4godot.classes.AudioServer import AudioServer
from py4godot.classes.AudioStreamGenerator import AudioStreamGenerator
from py4godot.classes.AudioStreamMicrophone import AudioStreamMicrophone
from py4godot.classes.AudioStreamPlayer import AudioStreamPlayer
from py4godot.classes.AudioStreamPlayer3D import AudioStreamPlayer3D
from py4godot.classes.ClassDB import ClassDB
from py4godot.classes.core import Array, Dictionary, PackedByteArray, PackedFloat32Array
from py4godot.classes.Image import Format, Image
from py4godot.classes.ImageTexture import ImageTexture
from py4godot.classes.Object import object_call
from py4godot.classes.RefCounted import RefCounted
from py4godot.classes.ResourceLoader import ResourceLoader
from py4godot.core.variant4 import cast_helpers
from py4godot.pluginscript_api.utils import annotations, forward_print
from py4godot.script_extension import script_extension_helpers

_ = no_standin_crashes


@contextlib.contextmanager
def expect_crash(fragment: str) -> Iterator[None]:
    """The block does something a real py4godot process crashes on (recorded, then cleared)."""
    before = len(_engine.crashes)
    with contextlib.suppress(_engine.StandinCrash):
        yield
    gc.collect()
    crashes = _engine.crashes[before:]
    assert any(fragment in text for text in crashes), f"no crash with {fragment!r}: {crashes}"
    del _engine.crashes[before:]


def load_temp_script(root: Path, class_name: str, source: str, monkeypatch: Any) -> Any:
    """A script file under a temporary project root, loaded the way py4godot loads one."""
    (root / "probe").mkdir(exist_ok=True)
    (root / "probe" / f"{class_name}.py").write_text(source, encoding="utf-8")
    monkeypatch.setattr(annotations, "standin_project_root", str(root))
    monkeypatch.delitem(sys.modules, f"probe.{class_name}", raising=False)
    return ResourceLoader.instance().load(f"res://probe/{class_name}.py")


def instance_of(script: Any) -> GD:
    handle = GD(ClassDB.instance().instantiate(script.get_instance_base_type() or "RefCounted"))
    object_call(handle.engine_object, "set_script", [core.to_godot(script)])
    return handle


# --- containers (generate_py_classes.py) -----------------------------------------------------


def test_python_none_reaches_godot_as_an_int() -> None:
    """Variant.cpp construct_Nil (INT 0) and construct_Nil_native_ptr (a 32-bit 0 read as an
    int64): py4godot has no null to give Godot."""
    array = Array.new0()
    array.push_back(None)  # a Variant parameter: the native_ptr path
    assert type(array.get(0)) is int and array.get(0) == core.NIL_INT_NATIVE != 0
    dictionary = Dictionary.new0()
    dictionary["k"] = None  # py_setitem: init_from_py_object
    assert type(dictionary.get("k")) is int and dictionary.get("k") == core.NIL_INT == 0
    assert dictionary.get("missing") == core.NIL_INT_NATIVE  # the None default, converted
    room = addon_env.new_object("LiveKitRoom")  # a script method returning None, via call
    assert addon_env.gd_null(room.get_local_participant())
    assert addon_env.gd_null(room.get("local_participant"))  # a property read


def test_builtin_values_are_unhashable_and_utility_functions_convert_by_type_name() -> None:
    """The generated String/Vector2/Vector3 define __eq__ and no __hash__; the generated
    utility functions (functions.pyx) convert their arguments by type name without checks."""
    for value in (core.String("x"), core.Vector2(1, 2), core.Vector3(1, 2, 3)):
        with pytest.raises(TypeError):
            hash(value)
    functions.push_warning("a", 1, core.String("b"))
    assert functions.standin_messages[-1] == ("warning", "a1b")
    functions.push_warning("none: ", None)  # None is an int there, its upper half undefined
    assert functions.standin_messages[-1] == ("warning", f"none: {core.NIL_INT_NATIVE}")
    with expect_crash("as an Object pointer"):
        functions.push_error(["a list"])


def test_array_items_and_iteration_are_none_only_get_works() -> None:
    array = Array.from_list(["a", 2])
    assert array[0] is None and array[1] is None
    assert list(array) == [None, None] and array.to_list() == [None, None]
    assert (array.get(0), array.get(1), array.size(), len(array)) == ("a", 2, 2, 2)
    with pytest.raises(IndexError):
        array[2]


def test_dictionary_missing_key_raises_and_it_cannot_be_iterated() -> None:
    dictionary = Dictionary.new0()
    dictionary["a"] = 1
    assert dictionary["a"] == 1 and dictionary.get("a") == 1 and dictionary.get("b", 7) == 7
    with pytest.raises(KeyError):
        dictionary["b"]
    with pytest.raises(KeyError):
        list(dictionary)
    with pytest.raises(KeyError):
        "a" in dictionary  # noqa: B015 - the membership test itself raises
    keys = dictionary.keys()
    assert isinstance(keys, Array) and keys[0] is None and keys.get(0) == "a"


def test_values_going_to_godot_by_type_name_only() -> None:
    dictionary = Dictionary.new0()
    for value in ({"a": 1}, [1], b"x", np.float32(1.0)):
        with expect_crash("read a Python"):
            dictionary["k"] = value
    with pytest.raises(ValueError, match="Unsupported type"):
        Array.new0().push_back({"a": 1})


# --- packed arrays (generate_classes_cpp.py) -------------------------------------------------


def test_from_memory_view_never_releases_what_it_acquired() -> None:
    source = np.arange(64, dtype=np.uint8)
    alive = weakref.ref(source)
    PackedByteArray.from_memory_view(source)
    del source
    gc.collect()
    assert alive() is not None  # PyObject_GetBuffer without PyBuffer_Release: pinned forever
    view = memoryview(b"abcd")
    PackedByteArray.from_memory_view(view)
    with pytest.raises(BufferError):
        view.release()


def test_from_memory_view_copies_element_count_bytes() -> None:
    samples = np.arange(1, 9, dtype=np.float32)
    packed = PackedFloat32Array.from_memory_view(samples)
    copied = np.frombuffer(packed.get_memory_view(), np.float32)
    assert packed.size() == 8 and copied[:2].tolist() == [1.0, 2.0]  # 8 bytes = 2 floats
    assert not np.array_equal(copied, samples)
    errors = len(functions.standin_engine_errors())
    PackedByteArray.from_memory_view(b"")
    assert len(functions.standin_engine_errors()) == errors + 1  # operator_index(0) on empty


def test_get_memory_view_is_copy_on_write_and_owns_nothing() -> None:
    data = PackedByteArray.new0()
    data.resize(8)
    np.frombuffer(data.get_memory_view(), np.uint8)[:] = 1
    image = Image.create_from_data(2, 1, False, Format.FORMAT_RGBA8, data)
    copies = core.standin_cow_copies
    np.frombuffer(data.get_memory_view(), np.uint8)[0] = 200  # shared with the Image
    assert core.standin_cow_copies == copies + 1
    assert image.get_data()[0] == 1  # the Image kept the old bytes
    view = np.frombuffer(data.get_memory_view(), np.uint8)
    del data
    gc.collect()
    assert view[0] == core.FREED  # the view points into freed memory
    errors = len(functions.standin_engine_errors())
    with expect_crash("empty packed array"):  # NULL buffer
        PackedByteArray.new0().get_memory_view()
    assert len(functions.standin_engine_errors()) == errors + 1


def test_get_memory_view_is_a_flat_writable_view_of_the_elements() -> None:
    """py_get_memory_view (generate_classes_cpp.py): ndim 1, readonly 0, the element's format
    and size. So a byte view can be assigned a byte view of the same length: a memcpy."""
    data = PackedByteArray.new0()
    data.resize(6)
    view = data.get_memory_view()
    assert (view.ndim, view.readonly, view.format, view.itemsize) == (1, False, "B", 1)
    view[:] = memoryview(b"abcdef")
    assert bytes(data.get_memory_view()) == b"abcdef"
    floats = core.PackedFloat32Array.new0()
    floats.resize(3)
    assert (floats.get_memory_view().format, floats.get_memory_view().itemsize) == ("f", 4)


# --- properties and script loading (annotations.pyx, PyScriptExtension.cpp) ---------------------

PROPERTY_SCRIPT = """
from py4godot.classes import gdclass
from py4godot.classes.RefCounted import RefCounted
from py4godot.signals import signal

writes = []


class Declared:
    declared: bool = True


class {name}(Declared, RefCounted):
    changed = signal()
    plain_count: int = 3
    same_class: bool = True

    def __init__(self):
        super().__init__()
        self._declared = False
        self._hidden = 1

    @property
    def declared(self):
        return self._declared

    @declared.setter
    def declared(self, value):
        writes.append((value, type(self.__dict__.get("changed")).__name__, self._ptr.godot_owner))
        self._declared = value

    @property
    def same_class(self):
        return True

    @property
    def hidden(self):
        return self._hidden


{name} = gdclass({name})
"""


def test_only_declared_properties_reach_gdscript(tmp_path: Path, monkeypatch: Any) -> None:
    script = load_temp_script(tmp_path, "Props", PROPERTY_SCRIPT.format(name="Props"), monkeypatch)
    registered = {name: default for name, _, default in script.standin_registered_properties()}
    # an annotation in another class of the MRO than the @property: registered, default True;
    # a plain annotated attribute: registered; an annotation with its @property in the same
    # class, and a bare @property: not Godot properties.
    assert registered == {"declared": True, "plain_count": 3}
    handle = instance_of(script)
    module = sys.modules["probe.Props"]
    # the default was written with setattr at creation: before signals and the engine object
    assert module.writes == [(True, "NoneType", None)]
    errors = len(functions.standin_engine_errors())
    assert handle.get("declared") is True and handle.get("plain_count") == 3
    handle.set("declared", False)
    assert handle.get("declared") is False
    assert handle.get("hidden") is None and handle.get("same_class") is None
    assert handle.get("PLAIN") is None
    assert len(functions.standin_engine_errors()) == errors + 3


def test_exec_class_swallows_an_import_error(tmp_path: Path, monkeypatch: Any) -> None:
    errors = len(functions.standin_engine_errors())
    source = (
        "import godot_livekit_missing_dependency\n"
        "from py4godot.classes import gdclass\n"
        "from py4godot.classes.RefCounted import RefCounted\n"
        "@gdclass\nclass Broken(RefCounted):\n    pass\n"
    )
    script = load_temp_script(tmp_path, "Broken", source, monkeypatch)
    assert script is not None and script.is_valid() and script.can_instantiate()
    assert script.get_instance_base_type() == ""  # the only sign that loading failed
    assert any("ModuleNotFoundError" in e for e in functions.standin_engine_errors()[errors:])
    assert ResourceLoader.instance().exists("res://probe/DoesNotExist.py")  # any .py "exists"


def test_signal_name_comes_from_the_source_line(tmp_path: Path, monkeypatch: Any) -> None:
    source = (
        "from py4godot.classes import gdclass\n"
        "from py4godot.classes.RefCounted import RefCounted\n"
        "from py4godot.signals import signal\n"
        "@gdclass\nclass Sig(RefCounted):\n"
        "    first = 1; second = signal()\n"
        "    third = signal(\n        []\n    )\n"
    )
    script = load_temp_script(tmp_path, "Sig", source, monkeypatch)
    names = [entry.get("name") for entry in gd_list(script.get_script_signal_list())]
    assert names == ["first", "third"]


def test_connect_to_any_signal_name_succeeds_silently(tmp_path: Path, monkeypatch: Any) -> None:
    source = (
        "from py4godot.classes import gdclass\n"
        "from py4godot.classes.RefCounted import RefCounted\n"
        "@gdclass\nclass Quiet(RefCounted):\n    pass\n"
    )
    handle = instance_of(load_temp_script(tmp_path, "Quiet", source, monkeypatch))
    errors = len(functions.standin_engine_errors())
    assert handle.connect("no_such_signal", lambda: None) == 0
    assert functions.standin_engine_errors()[errors:] == []


def test_returning_a_python_container_to_godot_crashes(tmp_path: Path, monkeypatch: Any) -> None:
    source = (
        "from py4godot.classes import gdclass\n"
        "from py4godot.classes.RefCounted import RefCounted\n"
        "@gdclass\nclass Ret(RefCounted):\n"
        "    def as_dict(self):\n        return {'a': 1}\n"
        "    def as_bytes(self):\n        return b'x'\n"
    )
    handle = instance_of(load_temp_script(tmp_path, "Ret", source, monkeypatch))
    for method in ("as_dict", "as_bytes"):
        with expect_crash("read a Python"):
            getattr(handle, method)()


# --- lifetimes and reference counts ------------------------------------------------------------


def test_script_instances_are_never_freed(tmp_path: Path, monkeypatch: Any) -> None:
    source = (
        "from py4godot.classes import gdclass\n"
        "from py4godot.classes.RefCounted import RefCounted\n"
        "@gdclass\nclass Kept(RefCounted):\n    pass\n"
    )
    handle = instance_of(load_temp_script(tmp_path, "Kept", source, monkeypatch))
    instance, instance_id = handle.script_instance, handle.instance_id
    finalized: list[bool] = []
    weakref.finalize(instance, finalized.append, True)
    del instance
    handle.drop()  # the last GDScript reference: Godot deletes the object
    gc.collect()
    assert is_freed(instance_id)
    assert not finalized  # the Python side lives on in instantiated_classes
    assert type(script_extension_helpers.instantiated_classes[-1]).__name__ == "Kept"


def test_new_leaves_the_initial_reference_pending() -> None:
    obj = RefCounted.new()
    assert obj.get_reference_count() == 1
    with _engine.held([core.to_godot(obj)]):  # e.g. a signal argument: init_ref
        assert obj.get_reference_count() == 1  # the Variant took the pending count over
    with expect_crash("freed"):  # ...and deleted the object when it let go
        obj.get_reference_count()
    obj.casted_from = 1  # its __del__ would touch the freed object once more
    settled = RefCounted.new()
    settled.init_ref()
    with _engine.held([core.to_godot(settled)]):
        assert settled.get_reference_count() == 2
    assert settled.get_reference_count() == 1


def test_a_wrapper_read_from_a_variant_destroys_what_it_never_owned() -> None:
    held = gd_new("Image")  # a GDScript variable: count 1
    dictionary = Dictionary.new0()
    dictionary["image"] = held.godot_value
    assert held.reference_count() == 2
    wrapper = dictionary.get("image")
    assert wrapper.casted_from is None
    del wrapper
    cast_helpers.clear_vals()
    gc.collect()
    assert held.reference_count() == 1  # released a count it never took
    wrapper = dictionary.get("image")
    dictionary.clear()
    del wrapper
    cast_helpers.clear_vals()
    with expect_crash("freed"):  # deleted under the GDScript variable
        held.reference_count()
    held.__dict__["_slot"].engine = None


def test_script_method_arguments_hold_no_reference(tmp_path: Path, monkeypatch: Any) -> None:
    source = (
        "from py4godot.classes import gdclass\n"
        "from py4godot.classes.RefCounted import RefCounted\n"
        "@gdclass\nclass Keeper(RefCounted):\n"
        "    def keep(self, thing):\n        self.thing = thing\n"
    )
    keeper = instance_of(load_temp_script(tmp_path, "Keeper", source, monkeypatch))
    thing = gd_new("Image")
    keeper.keep(thing)
    assert thing.reference_count() == 1 and keeper.script_instance.thing.casted_from == 1
    thing.drop()
    with expect_crash("freed"):
        keeper.script_instance.thing.get_reference_count()


# --- console output (forward_print.pyx) --------------------------------------------------------


def test_print_and_stderr_go_to_the_console_not_the_error_list(monkeypatch: Any) -> None:
    streams = types.SimpleNamespace(stdout=None, stderr=None)
    monkeypatch.setattr(forward_print, "sys", streams)  # not the test run's own streams
    forward_print.forward_print()
    errors = len(functions.standin_errors())
    before = len(functions.standin_messages)
    print("hello", file=streams.stdout)
    print("oops", file=streams.stderr)
    messages = functions.standin_messages[before:]
    assert ("print", "hello") in messages and ("printerr", "oops") in messages
    assert ("print", "") in messages  # print's separate "\n" write is a line of its own
    assert functions.standin_errors()[errors:] == []


# --- engine classes (Godot behaviour the addon and its users meet) -----------------------------


def test_image_keeps_the_buffer_and_texture_update_needs_the_same_size() -> None:
    data = PackedByteArray.new0()
    data.resize(16)
    image = Image.create_from_data(2, 2, False, Format.FORMAT_RGBA8, data)
    assert image.get_data()._buffer is data._buffer  # shared, not copied
    texture = ImageTexture.create_from_image(image)
    errors = len(functions.standin_engine_errors())
    small = PackedByteArray.new0()
    small.resize(4)
    texture.update(Image.create_from_data(1, 1, False, Format.FORMAT_RGBA8, small))
    assert len(functions.standin_engine_errors()) == errors + 1
    image.set_data(3, 3, False, Format.FORMAT_RGBA8, data)  # wrong size: engine error
    assert image.get_width() == 2 and len(functions.standin_engine_errors()) == errors + 2


def test_texture_upload_keeps_the_gil_and_copies_the_pixels() -> None:
    """Generated calls keep the GIL across the ptrcall (FACTS.md), so the engine's copy in
    ImageTexture.update does too: no other thread runs during it. The texture keeps its own
    copy: later writes to the image's buffer do not reach it."""
    pixels = (np.arange(1 << 22) % 251).astype(np.uint8)  # a 1024x1024 RGBA image, 4 MB
    data = PackedByteArray.new0()
    data.resize(pixels.size)
    data.get_memory_view()[:] = memoryview(pixels)
    image = Image.create_from_data(1024, 1024, False, Format.FORMAT_RGBA8, data)
    texture = ImageTexture.create_from_image(image)
    assert runs_beside(lambda: texture.update(image), 20) == 0
    data.get_memory_view()[:4] = b"\0\0\0\0"  # un-shares the image's buffer (copy-on-write)
    image.set_data(1024, 1024, False, Format.FORMAT_RGBA8, data)
    shown = texture.get_image().get_data()  # held: a memoryview keeps nothing alive
    assert bytes(shown.get_memory_view()) == pixels.tobytes()
    texture.update(image)
    shown = texture.get_image().get_data()
    assert bytes(shown.get_memory_view()[:8]) == b"\0\0\0\0" + pixels[4:8].tobytes()


def test_generator_playback_pushes_all_or_nothing() -> None:
    playback = AudioStreamGenerator.new().instantiate_playback()
    assert playback.get_frames_available() == 32767  # 1 << nearest_shift(22050) - 1
    too_many = core.PackedVector2Array._wrap(core._Buffer(np.zeros((40000, 2), np.float32)))
    assert playback.push_buffer(too_many) is False and playback.standin_buffered() == 0


def test_audio_effect_capture_returns_whole_requests_only() -> None:
    capture = AudioEffectCapture.new()
    capture.init_ref()
    errors = len(functions.standin_engine_errors())
    assert capture.get_frames_available() == 0  # not on a bus yet: engine error
    assert len(functions.standin_engine_errors()) == errors + 1
    capture.standin_instantiate(48000)  # 0.1 s at 48 kHz -> 8192 frames
    assert capture.get_buffer_length_frames() == 8192
    block = np.tile(np.float32([[0.5, -0.5]]), (512, 1))
    capture.standin_process(block)
    assert capture.get_frames_available() == 512 and capture.can_get_buffer(512)
    assert capture.get_buffer(1024).size() == 0  # not enough: empty, no error
    got = capture.get_buffer(256)
    assert got.size() == 256 and got[0] == core.Vector2(0.5, -0.5)
    for _ in range(20):
        capture.standin_process(block)
    assert capture.get_discarded_frames() > 0  # a block that does not fit is dropped whole


def test_spatial_player_gives_a_playback_only_while_playing() -> None:
    player = AudioStreamPlayer3D.new()
    generator = AudioStreamGenerator.new()
    generator.init_ref()
    player.set_stream(generator)
    errors = len(functions.standin_engine_errors())
    assert player.get_stream_playback() is None
    player.play()  # not inside the scene tree: nothing plays
    assert not player.is_playing()
    assert functions.standin_engine_errors()[errors:] == [
        "Player is inactive. Call play() before requesting get_stream_playback().",
        "Playback can only happen when a node is inside the scene tree",
    ]
    player.standin_enter_tree()
    player.play()
    assert player.is_playing() and player.get_stream_playback() is not None
    player.set_position(core.Vector3(1, 2, 3))
    assert player.get_position() == core.Vector3(1, 2, 3)
    player.stop()
    player.standin_free()


# --- the scene tree and the audio server (Godot: node.cpp, audio_server.cpp) ------------------

TREE_PROBE = """
from py4godot.classes import gdclass
from py4godot.classes.Node import Node

calls = []


@gdclass
class TreeProbe(Node):
    def _enter_tree(self):
        calls.append(("enter", self.is_inside_tree()))

    def _ready(self):
        calls.append(("ready", self.is_inside_tree()))

    def _exit_tree(self):
        calls.append(("exit", self.is_inside_tree()))
"""


def test_the_scene_tree_calls_the_script_and_never_says_it_freed_it(
    tmp_path: Path, monkeypatch: Any
) -> None:
    script = load_temp_script(tmp_path, "TreeProbe", TREE_PROBE, monkeypatch)
    node = instance_of(script)
    calls = sys.modules["probe.TreeProbe"].calls
    instance = node.script_instance  # the node's Python side (the tree is played on it)
    instance.standin_enter_tree()
    instance.standin_exit_tree()
    instance.standin_enter_tree()  # _ready runs once; _exit_tree sees the node still inside
    assert calls == [("enter", True), ("ready", True), ("exit", True), ("enter", True)]
    node_id = node.instance_id
    instance.standin_free()  # out of the tree first, then deleted
    assert calls[-1] == ("exit", True) and len(calls) == 5  # and nothing tells the script
    assert is_freed(node_id)
    assert instance in script_extension_helpers.instantiated_classes  # its Python side lives on


def test_audio_server_bus_names_effects_and_mute_order() -> None:
    server = AudioServer.instance()
    server.standin_reset()
    errors = len(functions.standin_engine_errors())
    server.add_bus(-1)
    server.add_bus(-1)
    assert [server.get_bus_name(i) for i in range(3)] == ["Master", "New Bus", "New Bus 2"]
    server.set_bus_name(1, "Voice")
    server.set_bus_name(2, "Voice")  # taken: made unique
    assert server.get_bus_name(2) == "Voice 2" and server.get_bus_index("Nope") == -1
    server.set_bus_name(0, "Other")  # bus 0 stays Master
    server.remove_bus(0)
    assert server.get_bus_name(0) == "Master"
    assert functions.standin_engine_errors()[errors:] == ['Condition "p_index == 0" is true.']
    capture = AudioEffectCapture.new()
    capture.init_ref()
    capture.set_buffer_length(0.1)
    server.standin_set_mix_rate(48000)
    server.add_bus_effect(1, capture, -1)  # instantiated for the bus: the ring exists now
    assert capture.get_buffer_length_frames() == 8192 and capture.get_frames_available() == 0
    server.set_bus_mute(1, True)

    microphone = AudioStreamMicrophone.new()
    microphone.init_ref()
    player = AudioStreamPlayer.new()
    player.set_stream(microphone)
    player.set_bus("Voice")
    player.standin_enter_tree()
    heard = np.tile(np.float32([[0.25, -0.25]]), (512, 1))
    assert not server.standin_record(heard).any()  # not playing yet: nothing heard
    silence = capture.get_buffer(512)  # the capture processes silence too (process_silence)
    assert silence.size() == 512 and not silence.to_byte_array()._data.any()
    player.play()
    out = server.standin_record(heard)
    recorded = capture.get_buffer(512)  # effects run before the bus's mute
    assert np.array_equal(recorded._data, heard)
    assert not out.any()  # a muted bus sends silence on to Master
    server.set_bus_mute(1, False)
    assert np.array_equal(server.standin_record(heard), heard)  # unmuted: you hear yourself
    player.set_bus("Missing")  # a bus that does not exist: the mixer sends it to Master
    assert player.get_bus() == "Master"
    assert np.array_equal(server.standin_record(heard), heard)
    assert capture.get_frames_available() == 1024  # silence: nothing plays on its bus now
    player.standin_free()
    assert not server.standin_record(heard).any()  # a freed player plays nothing
    server.remove_bus(2)
    server.remove_bus(1)
    assert server.get_bus_count() == 1


# -- large rooms (issue 12): what send_file needs ------------------------------------------------


def test_globalize_path_maps_res_and_user_only(monkeypatch: Any, tmp_path: Path) -> None:
    """ProjectSettings.globalize_path (Godot core/config/project_settings.cpp) swaps the
    ``res:/`` / ``user:/`` prefix for the project and user-data folders and returns anything
    else unchanged: no ``~`` expansion, no normalisation, no existence check; a Python str."""
    from py4godot.classes import ProjectSettings as project_settings_module
    from py4godot.classes.ProjectSettings import ProjectSettings

    monkeypatch.setattr(annotations, "standin_project_root", str(tmp_path / "game"))
    monkeypatch.setattr(project_settings_module, "standin_user_data_dir", str(tmp_path / "user"))
    settings = ProjectSettings.instance()
    assert settings is ProjectSettings.instance()  # one singleton wrapper
    assert settings.globalize_path("res://levels/a.bin") == f"{tmp_path}/game/levels/a.bin"
    assert settings.globalize_path("user://saves/x") == f"{tmp_path}/user/saves/x"
    with pytest.raises(TypeError):  # a String parameter takes a Python str only
        settings.globalize_path(core.String("user://saves/x"))
    with pytest.raises(TypeError):
        core.PackedStringArray.new0().push_back(core.String("x"))
    assert type(settings.globalize_path("user://x")) is str
    for unchanged in ("/tmp/../tmp/x", "~/x", "relative/x", "", "http://host/x"):
        assert settings.globalize_path(unchanged) == unchanged
    with pytest.raises(AssertionError):
        settings.globalize_path(7)


# --- video tiles: shaders and shader materials (Godot scene/resources/shader.cpp, material.cpp)


def test_a_gdshader_loads_as_a_shader_resource_cached_while_referenced() -> None:
    gc.collect()  # wrappers earlier tests left in cycles release their counts now
    loader = ResourceLoader.instance()
    path = "res://addons/godot_livekit/video_tiles/video_i420.gdshader"
    assert loader.exists(path) and not loader.exists("res://missing.gdshader")
    shader = loader.load(path)
    assert shader.get_class() == "Shader" and shader.get_path() == path
    assert shader.get_mode() == 1  # Shader.MODE_CANVAS_ITEM, from `shader_type canvas_item;`
    assert "shader_type canvas_item;" in shader.get_code()
    count = shader.get_reference_count()  # 1 unless an earlier test still holds the shader
    again = loader.load(path)
    assert again._engine() is shader._engine()  # the resource cache hands out the same one
    assert shader.get_reference_count() == count + 1  # each returned Ref is its wrapper's count
    errors = len(functions.standin_engine_errors())
    assert loader.load("res://missing.gdshader") is None
    assert len(functions.standin_engine_errors()) == errors + 1


def test_shader_material_takes_any_parameter_name_and_holds_what_it_is_given() -> None:
    from py4godot.classes.ShaderMaterial import ShaderMaterial

    gc.collect()  # wrappers earlier tests left in cycles release their counts now
    material = ShaderMaterial.new()
    material.init_ref()
    shader = ResourceLoader.instance().load(
        "res://addons/godot_livekit/video_tiles/video_i420.gdshader"
    )
    material.set_shader(shader)
    with pytest.raises(AssertionError):
        material.set_shader(None)  # a typed Ref<Shader> parameter: asserted, None refused
    data = PackedByteArray.new0()
    data.resize(4)
    texture = ImageTexture.create_from_image(
        Image.create_from_data(2, 2, False, Format.FORMAT_R8, data)
    )
    count = texture.get_reference_count()
    material.set_shader_parameter("no_such_uniform", texture)  # nothing is checked
    assert texture.get_reference_count() == count + 1  # the parameter cache holds it
    # a Python None is no null in Godot (Variant.cpp construct_Nil_native_ptr): an int
    # replaces the texture, whose reference the cache lets go
    material.set_shader_parameter("no_such_uniform", None)
    assert texture.get_reference_count() == count
    replaced = material.get_shader_parameter("no_such_uniform")
    assert type(replaced) is int and replaced == core.NIL_INT_NATIVE != 0
    with pytest.raises(ValueError):
        material.set_shader_parameter("y_plane", {"a": 1})  # not a Variant type
    with pytest.raises(AssertionError):
        material.set_shader_parameter(3, texture)  # StringName parameter: str or StringName
    # a typed Ref return: the wrapper owns the count it was handed
    shader_count = shader.get_reference_count()
    held = material.get_shader()
    assert held.get_reference_count() == shader_count + 1
    del held
    gc.collect()
    assert shader.get_reference_count() == shader_count
    # a Variant return: the wrapper owns nothing, yet releases a count when it goes
    material.set_shader_parameter("y_plane", texture)
    count = texture.get_reference_count()
    read = material.get_shader_parameter("y_plane")
    assert read._engine() is texture._engine() and texture.get_reference_count() == count
    del read
    cast_helpers.clear_vals()
    gc.collect()
    assert texture.get_reference_count() == count - 1  # stolen: why the addon never reads it
    texture.reference()  # give the stolen count back before the objects go
