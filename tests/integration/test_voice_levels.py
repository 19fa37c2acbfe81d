"""Audio levels and a followed voice, on the real server.

Real parts: livekit-server, the SDK, Opus over the test namespace's network, the WebRTC
audio processing module. Levels are measured on what actually arrives (bob's stream of
alice's track) or leaves (alice's microphone after processing); the voice follower is checked
by the tone it delivers after each way a track can go away and come back.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from godot_livekit_dev.feeders import Feeder
from godot_livekit_dev.patterns import dominant_frequency
from media_helpers import CollectingPlayback
from peers import Peer, wait_for_event, wait_until
from session_helpers import simulate
from voice_helpers import RATE, RealtimeCapture, sine

from godot_livekit import (
    LiveKitAudioSource,
    LiveKitAudioStream,
    LiveKitLocalAudioTrack,
    LiveKitMicrophone,
    LiveKitParticipant,
    LiveKitParticipantVoice,
    LiveKitRoom,
)

MEDIA_WAIT = 20.0
FULL_RECONNECT = 4  # rtc.SimulateScenarioKind.SIMULATE_FULL_RECONNECT


def sampled_levels(peers: list, participant: LiveKitParticipant, seconds: float) -> list:
    """``participant.get_audio_level()`` read at every pump for ``seconds``."""
    levels: list[float] = []
    end = time.monotonic() + seconds

    def sample() -> bool:
        levels.append(participant.get_audio_level())
        return time.monotonic() >= end

    wait_until(peers, sample, seconds + 5.0, "the sampling window")
    return levels


def tone_at(amplitude: list[float], frequency: float = 440.0) -> Callable[[int], np.ndarray]:
    """10 ms blocks of a sine whose amplitude is ``amplitude[0]`` at the time of the block."""

    def block(index: int) -> np.ndarray:
        t = (np.arange(480) + index * 480) / RATE
        return (amplitude[0] * np.sin(2 * np.pi * frequency * t)).astype(np.float32)

    return block


def test_a_loud_tone_measures_well_above_a_quiet_one_at_the_listener(alice_bob) -> None:
    alice, bob = alice_bob
    source = LiveKitAudioSource.create(RATE, 1, 0)
    alice.local.publish_track(LiveKitLocalAudioTrack.create("voice", source), {"dtx": False})
    amplitude = [0.5]
    block = tone_at(amplitude)
    (track, _, alice_at_bob) = wait_for_event(bob, "track_subscribed", timeout=MEDIA_WAIT)
    stream = LiveKitAudioStream.from_track(track)  # read it: its level is what arrives
    playback = CollectingPlayback()
    with Feeder(0.01, lambda i: source.capture_frame(block(i), RATE, 1, 480)):

        def pump() -> bool:
            stream.poll(playback)
            return alice_at_bob.get_audio_level() > 0.2

        wait_until([alice, bob], pump, MEDIA_WAIT, "alice's loud tone measured at bob")
        loud = float(np.median(sampled_levels([alice, bob], alice_at_bob, 1.0)))
        amplitude[0] = 0.02
        wait_until([alice, bob], lambda: alice_at_bob.get_audio_level() < 0.05, MEDIA_WAIT, "quiet")
        quiet = float(np.median(sampled_levels([alice, bob], alice_at_bob, 1.0)))
    # RMS of a sine is amplitude / sqrt(2): 0.354 and 0.014 sent, Opus in between
    assert 0.25 < loud < 0.45, loud
    assert 0.005 < quiet < 0.03, quiet
    assert loud > 10 * quiet
    assert bob.local.get_audio_level() == 0.0  # bob sends nothing
    stream.close()
    wait_until([alice, bob], lambda: alice_at_bob.get_audio_level() == 0.0, 5.0, "level gone")


def test_the_microphone_measures_what_it_sends_for_the_local_participant(alice_bob) -> None:
    alice, bob = alice_bob
    microphone = LiveKitMicrophone(RATE, noise_suppression=False, auto_gain_control=False)
    microphone.set_capture(RealtimeCapture(sine(440.0, amplitude=0.3)))
    peers = [alice, bob, microphone]  # the microphone is pumped as the frame poller would
    try:
        microphone.publish(alice.local)
        wait_until(peers, lambda: alice.local.get_audio_level() > 0.1, MEDIA_WAIT, "alice's level")
        level = float(np.median(sampled_levels(peers, alice.local, 1.0)))
        assert 0.15 < level < 0.3, level  # 0.3 / sqrt(2) = 0.21, after the high-pass filter
        microphone.set_muted(True)  # nothing is sent: the level falls to 0
        wait_until(peers, lambda: alice.local.get_audio_level() == 0.0, 5.0, "muted")
    finally:
        microphone.close()


def receive_tone(peers: list[Peer], voice: LiveKitParticipantVoice, what: str) -> float:
    """Half a second of the voice's audio, once it delivers sound; its frequency."""
    playback = CollectingPlayback()

    def heard() -> bool:
        voice.poll(playback)
        frames = playback.frames()
        return len(frames) >= RATE and float(np.abs(frames[-RATE // 2 :]).max()) > 0.1

    wait_until(peers, heard, MEDIA_WAIT, what)
    return dominant_frequency(playback.frames()[-RATE // 2 :], RATE)


def test_a_followed_voice_comes_back_after_each_way_its_track_goes_away(alice_bob) -> None:
    alice, bob = alice_bob
    source = LiveKitAudioSource.create(RATE, 1, 0)
    track = LiveKitLocalAudioTrack.create("microphone", source)
    publication = alice.local.publish_track(track, {"dtx": False})
    block = tone_at([0.5], 440.0)
    wait_for_event(bob, "track_subscribed", also=[alice])
    voice = LiveKitParticipantVoice.create(bob.room, "alice")  # the track is there already
    peers = [alice, bob]
    with Feeder(0.01, lambda i: source.capture_frame(block(i), RATE, 1, 480)):
        assert abs(receive_tone(peers, voice, "the tone") - 440.0) < 5.0
        assert voice.get_streams_opened() == 1 and voice.is_receiving()
        first = voice.get_participant()
        assert first is not None and first.get_identity() == "alice"

        # unsubscribe and resubscribe: a new track object, a new stream
        (remote,) = first.get_track_publications().values()
        remote.set_subscribed(False)
        wait_for_event(bob, "track_unsubscribed", also=[alice])
        assert not voice.is_receiving() or voice.poll(CollectingPlayback()) >= 0
        remote.set_subscribed(True)
        assert abs(receive_tone(peers, voice, "the tone after resubscribing") - 440.0) < 5.0
        assert voice.get_streams_opened() == 2

        # unpublish and republish
        alice.local.unpublish_track(publication.get_sid())
        wait_for_event(bob, "track_unpublished", also=[alice])
        publication = alice.local.publish_track(track, {"dtx": False})
        assert abs(receive_tone(peers, voice, "the tone after republishing") - 440.0) < 5.0
        assert voice.get_streams_opened() == 3

        # a full reconnect of bob's room: alice comes back as a new participant object
        simulate(bob, FULL_RECONNECT)
        wait_until(
            peers,
            lambda: first.is_stale() and voice.get_streams_opened() == 4,
            MEDIA_WAIT,
            "a stream on alice's track after bob's full reconnect",
        )
        assert abs(receive_tone(peers, voice, "the tone after a full reconnect") - 440.0) < 5.0
        assert voice.get_participant() is not first
    voice.close()
    assert not voice.is_receiving() and voice.get_room() is None
    voice.close()  # idempotent


def test_a_voice_set_before_the_participant_joins_starts_when_it_does(connect_peer) -> None:
    bob = connect_peer("bob")
    voice = LiveKitParticipantVoice.create(bob.room, "carol")
    assert not voice.is_receiving() and voice.get_participant() is None
    carol = connect_peer("carol")
    source = LiveKitAudioSource.create(RATE, 1, 0)
    carol.local.publish_track(LiveKitLocalAudioTrack.create("mic", source), {"dtx": False})
    block = tone_at([0.5], 660.0)
    with Feeder(0.01, lambda i: source.capture_frame(block(i), RATE, 1, 480)):
        assert abs(receive_tone([bob, carol], voice, "carol's tone") - 660.0) < 5.0
    voice.close()
    assert isinstance(bob.room, LiveKitRoom)
