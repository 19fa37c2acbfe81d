"""LiveKitAudioStream for GDScript: a remote audio track into an AudioStreamGeneratorPlayback.

py4godot scripts cannot have static methods callable from GDScript, so the reference's static
``from_track(track)`` / ``from_participant(participant, source)`` are instance methods that
initialise this object and return it; GDScript uses ``LiveKit.audio_stream_from_track(track)``
/ ``LiveKit.audio_stream_from_participant(participant, source)``.

Call ``poll(playback)`` from ``_process`` (or ``attach_playback(playback)`` once and let the
LiveKitPoller do it each frame). The stream is stereo at 48 kHz unless ``mix_rate`` (the
AudioStreamGenerator's) says otherwise. Audio reaches the playback in bulk: numpy frames ->
a reused PackedByteArray (one memcpy) -> ``to_vector2_array()`` -> ``push_buffer``.

``set_push_on_arrival(true)``: the core's network thread pushes each 10 ms frame into the
playback as it arrives (about one game frame less latency); ``poll`` then only hands the
playback over. py4godot lets a Python thread call Godot (its own asyncio thread does, in
``signals.pyx`` ``wait_emit``), and Godot's generator playback is a ring one thread fills while
the mixer drains it; with this on, that one thread is ours, so the playback given is held
until another is given, the stream is closed or the mode is switched off.

Lifetime: an attached playback is kept (one Godot reference) until it is detached, the stream
is closed, or the game drops the stream (the LiveKitPoller then closes and frees it).
"""

from __future__ import annotations

from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.RefCounted import RefCounted

import godot_livekit
from addons.godot_livekit.bridge.convert import PlaybackAdapter
from addons.godot_livekit.bridge.objects import Wrapper, adopt, core_of, guard


def _rate(mix_rate: float) -> int | None:
    return int(mix_rate) if mix_rate else None


@gdclass
class LiveKitAudioStream(Wrapper, RefCounted):
    LK_CREATE_HINT = "from_track() or from_participant()"

    def _lk_start(self, core: Any) -> Any:
        self._lk_close()
        adopt(self, core)
        return self

    def _lk_adapter(self, playback: Any) -> PlaybackAdapter:
        """One adapter (and its byte buffer) per playback, reused poll after poll."""
        adapter = getattr(self, "_lk_poll_adapter", None)
        # by the id it noted: the playback it wraps may have been freed since
        if adapter is None or adapter.instance_id != playback.get_instance_id():
            adapter = PlaybackAdapter(playback)
            self._lk_poll_adapter = adapter
        adapter.playback = playback  # py4godot hands each call a new wrapper
        return adapter

    def _lk_keep_playback(self, playback: Any, slot: str = "_lk_playback") -> None:
        """Hold ``playback`` (an argument: py4godot took no reference) instead of the old one
        in ``slot``: ``_lk_playback`` for the attached playback, ``_lk_arrival_playback``
        for the one ``poll`` gave the network thread, so neither release frees the other."""
        old = getattr(self, slot, None)
        setattr(self, slot, playback)
        if playback is not None:
            playback.reference()
        if old is not None and old.unreference():
            old.destroy()

    def _lk_close(self) -> None:
        if self._lk_core is not None:
            self._lk_core.close()  # waits for a push under way: nothing pushes after this
        self._lk_keep_playback(None)
        self._lk_keep_playback(None, "_lk_arrival_playback")

    @guard()
    def from_track(self, track: Any) -> Any:
        """Reference static ``from_track``: audio of a subscribed remote audio track."""
        core = godot_livekit.LiveKitAudioStream.from_track(core_of(track, "track"))
        return None if core is None else self._lk_start(core)

    @guard()
    def from_participant(self, participant: Any, source: int) -> Any:
        """Reference static ``from_participant``: ``participant``'s audio from ``source``."""
        core = godot_livekit.LiveKitAudioStream.from_participant(
            core_of(participant, "participant"), source
        )
        return self._lk_start(core)

    @guard(0)
    def poll(self, playback: Any, mix_rate: float = 0) -> int:
        """Push buffered audio into ``playback``; returns the frames pushed. ``mix_rate``
        (the generator's, 0 = keep the current rate) switches the stream's rate."""
        if playback is None:
            raise TypeError("playback must be an AudioStreamGeneratorPlayback, got null")
        core = self._lk()
        pushed = core.poll(self._lk_adapter(playback), _rate(mix_rate))
        if core.get_push_on_arrival():  # the network thread pushes into it from now on
            held = getattr(self, "_lk_arrival_playback", None)  # alive: the stream holds it
            if held is None or held.get_instance_id() != playback.get_instance_id():
                # the old one only now: core.poll swapped the target under its fill lock
                self._lk_keep_playback(playback, "_lk_arrival_playback")
        return pushed

    @guard()
    def set_push_on_arrival(self, enabled: bool) -> None:
        """Push audio from the network thread as it arrives (lower latency) instead of in
        ``poll``; the playback last given to ``poll`` or ``attach_playback`` is held."""
        self._lk().set_push_on_arrival(bool(enabled))
        if not enabled:  # the core waited for a push under way: nothing pushes into it now
            self._lk_keep_playback(None, "_lk_arrival_playback")

    @guard(False)
    def get_push_on_arrival(self) -> bool:
        return self._lk().get_push_on_arrival()

    @guard()
    def attach_playback(self, playback: Any, mix_rate: float = 0) -> None:
        """Let the LiveKitPoller call ``poll(playback)`` every frame (null detaches)."""
        adapter = PlaybackAdapter(playback) if playback is not None else None
        self._lk().attach_playback(adapter, _rate(mix_rate))
        self._lk_keep_playback(playback)

    @guard(0)
    def get_sample_rate(self) -> int:
        return self._lk().get_sample_rate()

    @guard(0)
    def get_num_channels(self) -> int:
        return self._lk().get_num_channels()

    @guard(0.0)
    def get_buffered_ms(self) -> float:
        return self._lk().get_buffered_ms()

    @guard(0)
    def get_dropped_frames(self) -> int:
        return self._lk().get_dropped_frames()

    @guard(False)
    def is_active(self) -> bool:
        return self._lk().is_active()

    @guard()
    def close(self) -> None:
        """Stop receiving and let go of the attached playback."""
        self._lk_close()
