# Mirrors py4godot/classes/AudioStreamPlayer.py at 4.7-alpha21 (generated). Engine behaviour
# (Godot scene/audio/audio_stream_player.cpp and scene/audio/audio_stream_player_internal.cpp,
# AudioStreamPlayerInternal, read at godotengine/godot master) -- shared with AudioStreamPlayer3D
# through `PlayerBehaviour`:
# - set_stream(stream) stops the player and keeps the stream (a Ref: one count); py4godot's
#   generated method asserts the argument is not None (generate_py_classes.py generate_assert:
#   object arguments without a default), so set_stream(None) raises AssertionError in Python;
# - play() makes a playback with stream.instantiate_playback() only inside the scene tree
#   (_create_playback: ERR_FAIL_COND_V_MSG "Playback can only happen when a node is inside the
#   scene tree", nothing plays) and hands it to the AudioServer on the player's bus;
# - stop() and NOTIFICATION_PREDELETE stop every playback; NOTIFICATION_EXIT_TREE pauses them
#   (set_stream_paused(true): the AudioServer mixes nothing from them);
# - get_stream_playback() is an engine error returning null unless a playback exists
#   ("Player is inactive. Call play() before requesting get_stream_playback().");
# - get_bus() answers "Master" while no bus of the stored name exists (get_bus checks the
#   AudioServer's bus names); the name itself is kept, and the mixer sends a playback whose bus
#   does not exist to Master (AudioServer::thread_find_bus_index).
# The AudioServer stand-in (AudioServer.py) mixes what plays: `standin_record` feeds the
# microphone to every playing AudioStreamMicrophone's bus.

from __future__ import annotations

from typing import Any

from py4godot import _engine
from py4godot.classes.Node import Node
from py4godot.classes.Object import register_native
from py4godot.functions import standin_engine_error
from py4godot.utils.functools import native_method


class PlayerBehaviour:
    """AudioStreamPlayerInternal: what AudioStreamPlayer and AudioStreamPlayer3D share."""

    _engine: Any

    @staticmethod
    def _standin_player_init(engine: Any) -> None:
        engine.stream = None  # a Variant slot: the player holds its stream
        engine.playback = None
        engine.paused = False
        engine.bus = "Master"

    @native_method
    def set_stream(self, stream: Any) -> None:
        assert stream is not None  # generate_assert
        engine = self._engine("set_stream")
        self.stop()
        old, engine.stream = engine.stream, _engine.Variant(stream)
        if old is not None:
            old.clear()

    @native_method
    def get_stream(self) -> Any:
        from py4godot.classes.core import to_python

        slot = self._engine("get_stream").stream
        return to_python(slot.value) if slot is not None else None

    @native_method
    def play(self, from_position: float = 0.0) -> None:
        engine = self._engine("play")
        if engine.stream is None:
            return
        if not engine.inside_tree:
            standin_engine_error("Playback can only happen when a node is inside the scene tree")
            return
        self.stop()
        from py4godot.classes.core import to_python

        stream = to_python(engine.stream.value)
        stream.casted_from = 1  # engine-internal access: this wrapper owns nothing
        engine.playback = _engine.Variant(stream.instantiate_playback())
        engine.paused = False
        from py4godot.classes.AudioServer import standin_playing

        standin_playing[engine.instance_id] = engine

    @native_method
    def stop(self) -> None:
        engine = self._engine("stop")
        from py4godot.classes.AudioServer import standin_playing

        standin_playing.pop(engine.instance_id, None)
        if engine.playback is not None:
            engine.playback.clear()
        engine.playback = None

    @native_method
    def is_playing(self) -> bool:
        return self._engine("is_playing").playback is not None

    @native_method
    def get_stream_playback(self) -> Any:
        from py4godot.classes.core import to_python

        slot = self._engine("get_stream_playback").playback
        if slot is None:
            standin_engine_error(
                "Player is inactive. Call play() before requesting get_stream_playback()."
            )
            return None
        return to_python(slot.value)

    @native_method
    def set_bus(self, bus: str) -> None:
        self._engine("set_bus").bus = str(bus)

    @native_method
    def get_bus(self) -> str:
        from py4godot.classes.AudioServer import AudioServer

        name = self._engine("get_bus").bus
        return name if AudioServer.instance().get_bus_index(name) >= 0 else "Master"

    def _standin_tree_notification(self, entered: bool) -> None:
        engine = self._engine("tree notification")
        if engine.playback is not None:
            engine.paused = not entered

    def _standin_predelete(self) -> None:
        self.stop()


@register_native
class AudioStreamPlayer(PlayerBehaviour, Node):
    _standin_engine_signals = (*Node._standin_engine_signals, "finished")

    @staticmethod
    def get_type() -> str:
        return "AudioStreamPlayer"

    @classmethod
    def _standin_engine_init(cls, engine: Any) -> None:
        super()._standin_engine_init(engine)
        cls._standin_player_init(engine)
