"""LiveKitMicrophone for GDScript: Godot's microphone published to the room, with echo
cancellation, noise suppression, gain control and a high-pass filter.

A node (an AudioStreamPlayer): GDScript makes one with ``LiveKit.new_microphone()``, adds it to
the tree and publishes it::

    var mic = LiveKit.new_microphone()
    add_child(mic)
    mic.publish(room.get_local_participant())     # SOURCE_MICROPHONE; returns the publication

Inside the tree it records: it plays an AudioStreamMicrophone on an audio bus of its own
("LiveKitMicrophone"), muted so nobody hears themselves, whose AudioEffectCapture the core
``LiveKitMicrophone`` drains each frame (the LiveKitPoller pumps it) without per-sample Python,
mixes down, resamples natively and runs the WebRTC stages in 10 ms frames; ``get_level_db()``
works before publishing (a microphone check). ``publish`` sends it as the local participant's
track; ``unpublish`` stops sending. Godot's output latency (``AudioServer.get_output_latency()``,
read every 2 s) goes to the echo canceller, whose far end is every LiveKitAudioStream and
LiveKitSpatialVoice playing here.

Each stage switches at run time (``set_noise_suppression(false)`` or the property
``noise_suppression``). ``set_muted(true)`` and push-to-talk (``set_push_to_talk(true)``, then
``set_talking(pressed)``) mute the publication: peers see ``track_muted``.

Lifetime: the node's life is the tree's. Leaving the tree (removed, freed, scene changed) or
``close()`` unpublishes, stops recording and removes the bus; adding it again records again
(publish again to send). A node published but freed before it ever entered the tree is
released by the LiveKitPoller.
"""

from __future__ import annotations

import math
import time
from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.AudioServer import AudioServer
from py4godot.classes.AudioStreamMicrophone import AudioStreamMicrophone
from py4godot.classes.AudioStreamPlayer import AudioStreamPlayer
from py4godot.classes.core import Dictionary

import godot_livekit
from addons.godot_livekit.bridge.convert import dictionary
from addons.godot_livekit.bridge.declarations import MicrophoneDeclaration
from addons.godot_livekit.bridge.objects import core_of, guard, script_instance
from addons.godot_livekit.bridge.voice import CaptureAdapter, CaptureBus, NodeWatch

_STAGES = ("echo_cancellation", "noise_suppression", "auto_gain_control", "high_pass_filter")


@gdclass
class LiveKitMicrophone(MicrophoneDeclaration, AudioStreamPlayer):
    BUS_NAME = "LiveKitMicrophone"
    LATENCY_INTERVAL = 2.0  # seconds between AudioServer.get_output_latency() reads (not cheap)

    def __init__(self) -> None:
        super().__init__()
        self._lk_stages = dict.fromkeys(_STAGES, True)
        self._lk_muted = False
        self._lk_push_to_talk = False
        self._lk_talking = False
        self._lk_core: Any = None  # the core LiveKitMicrophone while published
        self._lk_participant: Any = None  # the local participant's addon object
        self._lk_bus: CaptureBus | None = None
        self._lk_stream: Any = None  # the AudioStreamMicrophone this player plays
        self._lk_watch: NodeWatch | None = None
        self._lk_latency_at = 0.0
        self._lk_auto_poll = True

    # -- publishing ----------------------------------------------------------------------

    @guard()
    def publish(self, participant: Any, options: Dictionary | None = None) -> Any:
        """Publish the microphone as ``participant``'s track (the room's local participant;
        ``options`` as for publish_track, source SOURCE_MICROPHONE unless given); returns the
        LiveKitLocalTrackPublication. Sound is sent while the node is inside the tree."""
        local = core_of(participant, "participant")
        if not isinstance(local, godot_livekit.LiveKitLocalParticipant):
            raise TypeError("publish: participant must be the room's LiveKitLocalParticipant")
        publish_options = dictionary(options, "options")
        core = self._lk_ensure_core()
        self._lk_participant = script_instance(participant)
        return self._lk_participant._lk_godot(core.publish(local, publish_options))

    @guard()
    def unpublish(self) -> None:
        """Stop sending (peers see ``track_unpublished``); the node goes on recording."""
        if self._lk_core is not None:
            self._lk_core.unpublish()
        self._lk_participant = None

    @guard()
    def get_publication(self) -> Any:
        """The LiveKitLocalTrackPublication while published, else null."""
        core, participant = self._lk_core, self._lk_participant
        publication = core.get_publication() if core is not None else None
        if publication is None or participant is None:
            return None
        return participant._lk_godot(publication)

    @guard(False)
    def is_recording(self) -> bool:
        """True while the microphone's audio is read (inside the tree)."""
        return self._lk_bus is not None

    @guard("")
    def get_bus_name(self) -> str:
        """The capture bus ("" while not recording)."""
        return self._lk_bus.name if self._lk_bus is not None else ""

    @guard()
    def close(self) -> None:
        """Unpublish, stop recording and remove the bus (idempotent; re-entering the tree
        records again)."""
        self._lk_release(node_alive=True)

    # -- mute and push-to-talk -------------------------------------------------------------

    @guard()
    def set_muted(self, muted: bool) -> None:
        """Mute the publication (peers see ``track_muted``); false unmutes it."""
        self._lk_muted = bool(muted)
        if self._lk_core is not None:
            self._lk_core.set_muted(self._lk_muted)

    @guard(False)
    def is_muted(self) -> bool:
        return self._lk_muted

    @guard()
    def set_push_to_talk(self, enabled: bool) -> None:
        """With push-to-talk on, the track is muted except while ``set_talking(true)``."""
        self._lk_push_to_talk = bool(enabled)
        if self._lk_core is not None:
            self._lk_core.set_push_to_talk(self._lk_push_to_talk)

    @guard(False)
    def is_push_to_talk(self) -> bool:
        return self._lk_push_to_talk

    @guard()
    def set_talking(self, talking: bool) -> None:
        """The push-to-talk key: pressed (true) or released (false)."""
        self._lk_talking = bool(talking)
        if self._lk_core is not None:
            self._lk_core.set_talking(self._lk_talking)

    @guard(False)
    def is_talking(self) -> bool:
        return self._lk_talking

    @guard(False)
    def is_transmitting(self) -> bool:
        """True while audio is sent: published, recording, not muted, and the key down under
        push-to-talk."""
        core = self._lk_core
        return (
            core is not None
            and self._lk_bus is not None
            and core.get_publication() is not None
            and core.is_transmitting()
        )

    # -- processing stages -------------------------------------------------------------------

    def _lk_set_stage(self, name: str, enabled: Any) -> None:
        self._lk_stages[name] = bool(enabled)
        if self._lk_core is not None:
            getattr(self._lk_core, f"set_{name}")(bool(enabled))

    @guard()
    def set_echo_cancellation(self, enabled: bool) -> None:
        self._lk_set_stage("echo_cancellation", enabled)

    @guard(True)
    def get_echo_cancellation(self) -> bool:
        return self._lk_stages["echo_cancellation"]

    @guard()
    def set_noise_suppression(self, enabled: bool) -> None:
        self._lk_set_stage("noise_suppression", enabled)

    @guard(True)
    def get_noise_suppression(self) -> bool:
        return self._lk_stages["noise_suppression"]

    @guard()
    def set_auto_gain_control(self, enabled: bool) -> None:
        self._lk_set_stage("auto_gain_control", enabled)

    @guard(True)
    def get_auto_gain_control(self) -> bool:
        return self._lk_stages["auto_gain_control"]

    @guard()
    def set_high_pass_filter(self, enabled: bool) -> None:
        self._lk_set_stage("high_pass_filter", enabled)

    @guard(True)
    def get_high_pass_filter(self) -> bool:
        return self._lk_stages["high_pass_filter"]

    # -- figures -----------------------------------------------------------------------------

    @guard(-math.inf)
    def get_level_db(self) -> float:
        """Peak level of the last audio sent, in dBFS (-inf before anything was sent)."""
        return self._lk_core.get_level_db() if self._lk_core is not None else -math.inf

    @guard(0)
    def get_frames_captured(self) -> int:
        """Frames read from the capture bus (at the mix rate)."""
        return self._lk_core.get_frames_captured() if self._lk_core is not None else 0

    @guard(0)
    def get_frames_sent(self) -> int:
        """Frames sent after processing."""
        return self._lk_core.get_frames_sent() if self._lk_core is not None else 0

    @guard(0.0)
    def get_output_latency(self) -> float:
        """The output latency handed to the echo canceller (seconds)."""
        return self._lk_core.get_output_latency() if self._lk_core is not None else 0.0

    @guard(0)
    def poll(self) -> int:
        """Read the capture now (the LiveKitPoller does it every frame while ``auto_poll``
        is on); returns the frames read."""
        core = self._lk_core
        if core is None or self._lk_bus is None:
            return 0
        return core.poll()

    @guard()
    def set_auto_poll(self, enabled: bool) -> None:
        self._lk_auto_poll = bool(enabled)
        if self._lk_core is not None:
            self._lk_core.set_auto_poll(self._lk_auto_poll)

    @guard(True)
    def get_auto_poll(self) -> bool:
        return self._lk_auto_poll

    # -- the tree ----------------------------------------------------------------------------

    @guard()
    def _enter_tree(self) -> None:
        core = self._lk_ensure_core()
        if self._lk_bus is not None:
            return
        bus = CaptureBus(self.BUS_NAME)
        stream = AudioStreamMicrophone.new()
        stream.init_ref()  # this wrapper's count (new() leaves it pending)
        self._lk_stream = stream
        self.set_stream(stream)
        self.set_bus(bus.name)
        self.play()
        self._lk_bus = bus
        self._lk_update_latency()
        core.set_capture(CaptureAdapter(bus.capture))

    @guard()
    def _exit_tree(self) -> None:
        self._lk_release(node_alive=True)

    def _lk_ensure_core(self) -> Any:
        """The core microphone, made at the AudioServer's mix rate with this node's settings,
        and the watch that releases it if Godot frees the node unseen."""
        if self._lk_core is None:
            server = AudioServer.instance()
            core = godot_livekit.LiveKitMicrophone(int(server.get_mix_rate()), **self._lk_stages)
            core.set_muted(self._lk_muted)
            core.set_push_to_talk(self._lk_push_to_talk)
            core.set_talking(self._lk_talking)
            core.set_auto_poll(self._lk_auto_poll)
            self._lk_core = core
            self._lk_watch = NodeWatch(self.get_instance_id(), self._lk_each_frame, self._lk_gone)
            self._lk_watch.start()
        return self._lk_core

    def _lk_each_frame(self) -> None:
        if self._lk_bus is not None and time.monotonic() >= self._lk_latency_at:
            self._lk_update_latency()

    def _lk_update_latency(self) -> None:
        self._lk_latency_at = time.monotonic() + self.LATENCY_INTERVAL
        if self._lk_core is not None:
            self._lk_core.set_output_latency(max(0.0, AudioServer.instance().get_output_latency()))

    def _lk_gone(self) -> None:
        """Godot freed the node unseen (it never entered the tree): release, touching
        nothing of the node."""
        self._lk_release(node_alive=False)

    def _lk_release(self, node_alive: bool) -> None:
        core, bus, watch = self._lk_core, self._lk_bus, self._lk_watch
        self._lk_core = self._lk_participant = self._lk_bus = self._lk_watch = None
        self._lk_stream = None  # the player keeps its stream; py4godot keeps this object
        if watch is not None:
            watch.stop()
        if core is not None:
            core.close()  # unpublishes; frees the processing module and the source
        if bus is not None:
            if node_alive:
                self.stop()
            bus.remove()

    # -- properties (py4godot reads and writes them with getattr/setattr) --------------------

    @property
    def echo_cancellation(self) -> bool:
        return self._lk_stages["echo_cancellation"]

    @echo_cancellation.setter
    def echo_cancellation(self, enabled: bool) -> None:
        self.set_echo_cancellation(enabled)

    @property
    def noise_suppression(self) -> bool:
        return self._lk_stages["noise_suppression"]

    @noise_suppression.setter
    def noise_suppression(self, enabled: bool) -> None:
        self.set_noise_suppression(enabled)

    @property
    def auto_gain_control(self) -> bool:
        return self._lk_stages["auto_gain_control"]

    @auto_gain_control.setter
    def auto_gain_control(self, enabled: bool) -> None:
        self.set_auto_gain_control(enabled)

    @property
    def high_pass_filter(self) -> bool:
        return self._lk_stages["high_pass_filter"]

    @high_pass_filter.setter
    def high_pass_filter(self, enabled: bool) -> None:
        self.set_high_pass_filter(enabled)

    @property
    def push_to_talk(self) -> bool:
        return self._lk_push_to_talk

    @push_to_talk.setter
    def push_to_talk(self, enabled: bool) -> None:
        self.set_push_to_talk(enabled)

    @property
    def muted(self) -> bool:
        return self._lk_muted

    @muted.setter
    def muted(self, muted: bool) -> None:
        self.set_muted(muted)
