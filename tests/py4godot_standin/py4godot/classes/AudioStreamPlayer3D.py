# Mirrors py4godot/classes/AudioStreamPlayer3D.py at 4.7-alpha21 (generated). Engine behaviour
# (Godot scene/3d/audio_stream_player_3d.cpp, scene/audio/audio_stream_player_internal.cpp,
# read at godotengine/godot master): a Node3D (not reference counted) playing through
# AudioStreamPlayerInternal, as AudioStreamPlayer does (AudioStreamPlayer.PlayerBehaviour): play()
# only inside the scene tree, get_stream_playback() an engine error returning null unless
# playing, stop() drops the playbacks. Distance attenuation is not modelled (max_distance and
# unit_size are only stored).

from __future__ import annotations

from typing import Any

from py4godot.classes.AudioStreamPlayer import PlayerBehaviour
from py4godot.classes.Node3D import Node3D
from py4godot.classes.Object import register_native
from py4godot.utils.functools import native_method


@register_native
class AudioStreamPlayer3D(PlayerBehaviour, Node3D):
    _standin_engine_signals = (*Node3D._standin_engine_signals, "finished")

    @staticmethod
    def get_type() -> str:
        return "AudioStreamPlayer3D"

    @classmethod
    def _standin_engine_init(cls, engine: Any) -> None:
        super()._standin_engine_init(engine)
        cls._standin_player_init(engine)
        engine.max_distance, engine.unit_size = 0.0, 10.0

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
