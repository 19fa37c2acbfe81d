# Mirrors py4godot/classes/AudioServer.py at 4.7-alpha21 (a generated singleton: AudioServer.
# instance(), generate_py_classes.py generate_singleton_constructor). Engine behaviour (Godot
# servers/audio/audio_server.cpp, read at godotengine/godot master):
# - bus 0 is "Master"; add_bus(-1) appends a bus named "New Bus" ("New Bus 2", ... when taken);
#   set_bus_name makes the name unique by appending " 2", " 3"... (read it back with
#   get_bus_name); renaming bus 0 is ignored; get_bus_index(name) is -1 for an unknown name;
#   remove_bus(0) or an index out of range is an engine error;
# - add_bus_effect keeps the effect (a Ref) and instantiates it for the bus
#   (_update_bus_effects -> AudioEffect::instantiate: an AudioEffectCapture makes its ring buffer
#   then, sized from the mix rate); remove_bus / remove_bus_effect let go of it;
# - _mix_step: every playback is mixed into its bus (a playback whose bus name does not exist
#   goes to Master, thread_find_bus_index); then, bus by bus, the effects process the bus's audio
#   *before* its volume and mute are applied (so a capture effect on a muted bus still records),
#   and what is left is sent on towards Master (a muted bus sends silence);
# - get_mix_rate() (Godot's default project setting, 44100, until standin_set_mix_rate),
#   get_output_latency().
# `standin_record(frames)` plays the audio thread with the microphone hearing `frames`: each
# playing AudioStreamMicrophone mixes them into its bus; it returns what reached the Master bus
# (what the speakers would play). `standin_reset()` puts the bus layout back to Master alone.

from __future__ import annotations

from typing import Any

import numpy as np

from py4godot import _engine
from py4godot.classes.Object import Object, register_native
from py4godot.functions import standin_engine_error
from py4godot.utils.functools import native_method

_singleton: AudioServer | None = None
standin_playing: dict[int, Any] = {}  # instance id -> engine object of a playing player


class _Bus:
    __slots__ = ("effects", "mute", "name", "send")

    def __init__(self, name: str) -> None:
        self.name = name
        self.mute = False
        self.send = "Master"
        self.effects: list[_engine.Variant] = []


@register_native
class AudioServer(Object):
    @staticmethod
    def get_type() -> str:
        return "AudioServer"

    @staticmethod
    def instance() -> AudioServer:
        global _singleton
        if _singleton is None:
            _singleton = AudioServer.new()
        return _singleton

    @classmethod
    def _standin_engine_init(cls, engine: Any) -> None:
        engine.buses = [_Bus("Master")]
        engine.mix_rate = 44100.0
        engine.output_latency = 0.015

    def _buses(self, what: str) -> list[_Bus]:
        return self._engine(what).buses

    def _unique(self, buses: list[_Bus], name: str) -> str:
        attempt, attempts = name, 1
        while any(bus.name == attempt for bus in buses):
            attempts += 1
            attempt = f"{name} {attempts}"
        return attempt

    @native_method
    def get_bus_count(self) -> int:
        return len(self._buses("get_bus_count"))

    @native_method
    def add_bus(self, at_position: int = -1) -> None:
        buses = self._buses("add_bus")
        bus = _Bus(self._unique(buses, "New Bus"))
        if at_position == 0:
            at_position = 1 if len(buses) > 1 else -1
        if at_position < 0 or at_position >= len(buses):
            buses.append(bus)
        else:
            buses.insert(at_position, bus)

    @native_method
    def remove_bus(self, index: int) -> None:
        buses = self._buses("remove_bus")
        if not 0 <= index < len(buses):
            standin_engine_error(f"Index p_index = {index} is out of bounds.")
            return
        if index == 0:
            standin_engine_error('Condition "p_index == 0" is true.')
            return
        for slot in buses.pop(index).effects:
            slot.clear()

    @native_method
    def set_bus_name(self, bus_idx: int, name: str) -> None:
        buses = self._buses("set_bus_name")
        if not 0 <= bus_idx < len(buses):
            standin_engine_error(f"Index p_bus = {bus_idx} is out of bounds.")
            return
        if bus_idx == 0 or buses[bus_idx].name == name:
            return
        buses[bus_idx].name = self._unique(buses, str(name))

    @native_method
    def get_bus_name(self, bus_idx: int) -> str:
        buses = self._buses("get_bus_name")
        if not 0 <= bus_idx < len(buses):
            standin_engine_error(f"Index p_bus = {bus_idx} is out of bounds.")
            return ""
        return buses[bus_idx].name

    @native_method
    def get_bus_index(self, bus_name: str) -> int:
        for index, bus in enumerate(self._buses("get_bus_index")):
            if bus.name == str(bus_name):
                return index
        return -1

    @native_method
    def set_bus_mute(self, bus_idx: int, enable: bool) -> None:
        assert isinstance(enable, bool), "enable must be bool"
        buses = self._buses("set_bus_mute")
        if not 0 <= bus_idx < len(buses):
            standin_engine_error(f"Index p_bus = {bus_idx} is out of bounds.")
            return
        buses[bus_idx].mute = enable

    @native_method
    def is_bus_mute(self, bus_idx: int) -> bool:
        buses = self._buses("is_bus_mute")
        if not 0 <= bus_idx < len(buses):
            standin_engine_error(f"Index p_bus = {bus_idx} is out of bounds.")
            return False
        return buses[bus_idx].mute

    @native_method
    def add_bus_effect(self, bus_idx: int, effect: Any, at_position: int = -1) -> None:
        assert effect is not None  # py4godot's generate_assert: object arguments are not None
        buses = self._buses("add_bus_effect")
        if not 0 <= bus_idx < len(buses):
            standin_engine_error(f"Index p_bus = {bus_idx} is out of bounds.")
            return
        slot = _engine.Variant(effect)
        effects = buses[bus_idx].effects
        if 0 <= at_position < len(effects):
            effects.insert(at_position, slot)
        else:
            effects.append(slot)
        instantiate = getattr(_native(slot), "standin_instantiate", None)
        if instantiate is not None:
            instantiate(self._engine("add_bus_effect").mix_rate)

    @native_method
    def remove_bus_effect(self, bus_idx: int, effect_idx: int) -> None:
        buses = self._buses("remove_bus_effect")
        if not 0 <= bus_idx < len(buses) or not 0 <= effect_idx < len(buses[bus_idx].effects):
            standin_engine_error("Index out of bounds.")
            return
        buses[bus_idx].effects.pop(effect_idx).clear()

    @native_method
    def get_bus_effect_count(self, bus_idx: int) -> int:
        buses = self._buses("get_bus_effect_count")
        if not 0 <= bus_idx < len(buses):
            standin_engine_error(f"Index p_bus = {bus_idx} is out of bounds.")
            return 0
        return len(buses[bus_idx].effects)

    @native_method
    def get_mix_rate(self) -> float:
        return self._engine("get_mix_rate").mix_rate

    @native_method
    def get_output_latency(self) -> float:
        return self._engine("get_output_latency").output_latency

    # -- stand-in only -----------------------------------------------------------------------

    def standin_set_mix_rate(self, rate: float, output_latency: float = 0.015) -> None:
        engine = self._engine("standin_set_mix_rate")
        engine.mix_rate, engine.output_latency = float(rate), float(output_latency)

    def standin_reset(self) -> None:
        buses = self._buses("standin_reset")
        for bus in buses[1:]:
            for slot in bus.effects:
                slot.clear()
        del buses[1:]

    def standin_record(self, frames: np.ndarray) -> np.ndarray:
        """The audio thread runs once while the microphone hears ``frames`` ((n, 2) float32):
        returns what reaches the Master bus."""
        from py4godot.classes.core import to_python

        block = np.asarray(frames, np.float32).reshape(-1, 2)
        buses = self._buses("standin_record")
        mixed = [np.zeros_like(block) for _ in buses]
        for engine in list(standin_playing.values()):
            if not engine.alive or engine.playback is None or engine.paused:
                continue
            if type(to_python(engine.playback.value)).__name__ != "AudioStreamPlaybackMicrophone":
                continue
            index = self.get_bus_index(engine.bus)
            mixed[max(index, 0)] += block
        for index in range(len(buses) - 1, -1, -1):
            bus = buses[index]
            for slot in bus.effects:
                process = getattr(_native(slot), "standin_process", None)
                if process is not None:
                    process(mixed[index])
            if index > 0 and not bus.mute:
                target = self.get_bus_index(bus.send)
                mixed[target if 0 <= target < index else 0] += mixed[index]
        return mixed[0] if not buses[0].mute else np.zeros_like(block)


def _native(slot: _engine.Variant) -> Any:
    """Engine-internal access to the object in ``slot`` (a wrapper that owns nothing)."""
    from py4godot.classes.Object import _native_wrapper

    return _native_wrapper(slot.engine) if slot.engine is not None else None
