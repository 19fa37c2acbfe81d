"""The microphone object end to end on a real server: capture -> processing -> peer.

Real parts: livekit-server, the SDK's WebRTC audio processing module, Opus over the test
namespace's network. Captures run in real time (wall clock); assertions are on what the
peer receives: the frequency of a tone, the level of an echo in dB, mute signals.
"""

from __future__ import annotations

import time

import numpy as np
from godot_livekit_dev.feeders import Feeder
from godot_livekit_dev.patterns import dominant_frequency
from media_helpers import CollectingPlayback
from peers import Peer, wait_for_event, wait_until
from voice_helpers import RATE, EchoRoom, RealtimeCapture, band_level_db, sine, tone_bursts

from godot_livekit import (
    LiveKitAudioSource,
    LiveKitAudioStream,
    LiveKitLocalAudioTrack,
    LiveKitMicrophone,
    LiveKitTrack,
)
from godot_livekit.poller import pump_until

MEDIA_WAIT = 20.0


def receive_from(bob: Peer, alice: Peer, name: str) -> LiveKitAudioStream:
    """bob's stream of alice's track called ``name`` (waits for the subscription)."""

    def subscribed() -> bool:
        return any(track.get_name() == name for track, _, _ in bob.args_of("track_subscribed"))

    wait_until([alice, bob], subscribed, MEDIA_WAIT, f"bob subscribed to {name}")
    track = next(t for t, _, _ in bob.args_of("track_subscribed") if t.get_name() == name)
    return LiveKitAudioStream.from_track(track)


def collect(
    stream: LiveKitAudioStream, peers: list[Peer], seconds: float, also: list | None = None
) -> np.ndarray:
    """``seconds`` of what ``stream`` delivers (mono), pumping the microphone too."""
    chunks: list[np.ndarray] = []
    deadline = time.monotonic() + seconds

    def pump() -> bool:
        for peer in peers:
            peer.poll()
        for thing in also or []:
            thing()
        frames = stream.read_frames(4096)
        if len(frames):
            chunks.append(frames.mean(axis=1))
        return time.monotonic() >= deadline

    assert pump_until(pump, seconds + 5, [])
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def test_a_tone_through_the_microphone_arrives_at_the_peer(alice_bob) -> None:
    alice, bob = alice_bob
    # the noise suppressor treats a steady sine as noise: this test is about the path
    microphone = LiveKitMicrophone(RATE, noise_suppression=False)
    microphone.set_capture(RealtimeCapture(sine(440.0)))
    microphone.set_auto_poll(False)
    try:
        publication = microphone.publish(alice.local)
        stream = receive_from(bob, alice, LiveKitMicrophone.DEFAULT_TRACK_NAME)
        playback = CollectingPlayback()

        def enough_audio() -> bool:
            microphone.poll()
            stream.poll(playback)
            samples = playback.frames()
            return len(samples) >= RATE and abs(samples[-24000:]).max() > 0.05

        wait_until([alice, bob], enough_audio, MEDIA_WAIT, "a second of the microphone's tone")
        received = playback.frames()[-24000:]
        assert abs(dominant_frequency(received, RATE) - 440.0) < 5.0
        assert microphone.get_frames_sent() > 0.8 * RATE
        (remote,) = bob.room.get_remote_participants()["alice"].get_track_publications().values()
        assert remote.get_source() == LiveKitTrack.SOURCE_MICROPHONE
        assert publication.get_sid() == remote.get_sid()
        stream.close()
    finally:
        microphone.close()
    assert microphone.is_closed() and not microphone.get_auto_poll()
    microphone.close()  # idempotent


def test_muting_and_push_to_talk_mute_the_publication(alice_bob) -> None:
    alice, bob = alice_bob
    microphone = LiveKitMicrophone(RATE)
    microphone.set_capture(RealtimeCapture(sine(300.0)))  # the frame poller pumps it
    try:
        microphone.publish(alice.local)
        wait_for_event(bob, "track_subscribed", also=[alice])
        microphone.set_muted(True)
        participant, remote_pub = wait_for_event(bob, "track_muted", also=[alice])
        assert participant.get_identity() == "alice" and remote_pub.get_muted()
        assert not microphone.is_transmitting() and microphone.get_track().get_muted()
        microphone.set_muted(False)
        wait_for_event(bob, "track_unmuted", also=[alice])
        microphone.set_push_to_talk(True)  # key up: muted
        wait_for_event(bob, "track_muted", count=2, also=[alice])
        microphone.set_talking(True)  # key down: on air
        wait_for_event(bob, "track_unmuted", count=2, also=[alice])
        assert microphone.is_transmitting()
    finally:
        microphone.close()


def test_echo_canceller_removes_the_far_end_heard_by_the_microphone(alice_bob) -> None:
    """bob talks (1 kHz bursts with a vibrato and a breath of noise); alice's speaker plays
    him into her room; her microphone hears it 60 ms later at half level. With echo
    cancellation bob hears himself back at least 20 dB weaker than without.

    The vibrato matters: WebRTC's AEC3 leaves a narrow band (a bin 3x its neighbours for
    5 blocks, 20 ms) out of its filter's adaptation (render_signal_analyzer.cc,
    MaskRegionsAroundNarrowBands) and a quarter second of one pure frequency is exactly
    that: its echo then comes and goes for the first 10 s or so, whatever the input's
    timing (replayed from recorded runs, deterministically). A voice's pitch moves."""
    alice, bob = alice_bob
    far_signal = tone_bursts(1000.0, breath=0.05, vibrato=150.0)
    bob_source = LiveKitAudioSource.create(RATE, 1, 0)
    bob.local.publish_track(LiveKitLocalAudioTrack.create("bob-voice", bob_source), {})

    def speak(index: int) -> None:
        bob_source.capture_frame(far_signal(index * 480, 480), RATE, 1, 480)

    room = EchoRoom(echo_delay_s=0.06, echo_gain=0.5)
    # echo cancellation alone: gain control would lift what is left of the echo
    microphone = LiveKitMicrophone(
        RATE, noise_suppression=False, auto_gain_control=False, high_pass_filter=False
    )
    microphone.set_auto_poll(False)
    microphone.set_capture(room.microphone)
    with Feeder(0.01, speak):
        try:
            at_alice = receive_from(alice, bob, "bob-voice")
            microphone.publish(alice.local)
            at_bob = receive_from(bob, alice, LiveKitMicrophone.DEFAULT_TRACK_NAME)

            def room_runs() -> None:  # alice's game loop: speaker and microphone
                at_alice.poll(room.speaker)
                microphone.poll()

            def level(seconds: float) -> float:
                heard = collect(at_bob, [alice, bob], seconds, [room_runs])
                assert len(heard) > 0.6 * seconds * RATE
                return band_level_db(heard, RATE, 1000.0, width=200.0)

            microphone.set_echo_cancellation(False)
            level(2.0)  # settle
            echo = level(3.0)
            assert echo > band_level_db(np.zeros(3 * RATE) + 1e-4, RATE, 1000.0, width=200.0) + 30
            microphone.set_echo_cancellation(True)
            # the canceller converges within seconds (how many depends on the delay it has
            # to find): wait for it, bounded, then it must stay down
            windows: list[float] = []
            while len(windows) < 12 and (not windows or echo - windows[-1] < 20.0):
                windows.append(level(2.0))
            cancelled = level(3.0)
            assert echo - cancelled >= 20.0, (echo, windows, cancelled)
            at_alice.close()
            at_bob.close()
        finally:
            microphone.close()
