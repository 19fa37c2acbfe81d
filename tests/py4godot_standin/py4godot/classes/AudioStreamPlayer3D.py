# Mirrors py4godot/classes/AudioStreamPlayer3D.py at 4.7-alpha21 (generated). Engine behaviour
# (Godot scene/3d/audio_stream_player_3d.cpp, scene/audio/audio_stream_player_internal.cpp
# AudioStreamPlayerInternal::get_stream_playback, read at godotengine/godot master):
# a Node3D (not reference counted); play() instantiates a playback of its stream;
# get_stream_playback() is an engine error returning null unless it is playing
# ("Player is inactive. Call play() before requesting get_stream_playback()."); stop() drops the
# playbacks. Distance attenuation is not modelled (max_distance and unit_size are only stored).

from __future__ import annotations

from typing import Any

from py4godot import _engine
from py4godot.classes.Node3D import Node3D
from py4godot.classes.Object import register_native
from py4godot.functions import standin_engine_error
from py4godot.utils.functools import native_method


@register_native
class AudioStreamPlayer3D(Node3D):
    _standin_engine_signals = ("finished",)

    @staticmethod
    def get_type() -> str:
        return "AudioStreamPlayer3D"

    @classmethod
    def _standin_engine_init(cls, engine: Any) -> None:
        super()._standin_engine_init(engine)
        engine.stream = None  # a Variant slot: the player holds its stream
        engine.playback = None
        engine.max_distance, engine.unit_size, engine.bus = 0.0, 10.0, "Master"

    @native_method
    def set_stream(self, stream: Any) -> None:
        engine = self._engine("set_stream")
        old, engine.stream = engine.stream, _engine.Variant(stream) if stream is not None else None
        engine.playback = None
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
        stream = self.get_stream()
        if stream is None:
            return
        engine.playback = _engine.Variant(stream.instantiate_playback())

    @native_method
    def stop(self) -> None:
        engine = self._engine("stop")
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
    def set_max_distance(self, meters: float) -> None:
        self._engine("set_max_distance").max_distance = float(meters)

    @native_method
    def get_max_distance(self) -> float:
        return self._engine("get_max_distance").max_distance

    @native_method
    def set_unit_size(self, unit_size: float) -> None:
        self._engine("set_unit_size").unit_size = float(unit_size)

    @native_method
    def get_unit_size(self) -> float:
        return self._engine("get_unit_size").unit_size

    @native_method
    def set_bus(self, bus: str) -> None:
        self._engine("set_bus").bus = str(bus)

    @native_method
    def get_bus(self) -> str:
        return self._engine("get_bus").bus
