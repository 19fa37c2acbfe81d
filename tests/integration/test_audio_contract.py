"""LiveKitAudioSource as the original addon and LiveKit's SDKs define it, on a real server.

- ``queue_size_ms = 0`` (the original's default) means no internal buffering: 10 ms frames
  go straight to WebRTC; blocks of other lengths are cut into 10 ms frames.
- ``get_queued_duration()`` counts everything ``capture_frame`` accepted and not yet played
  out, from the moment it was accepted.
- The arguments the original accepts are accepted: any sample rate (8-192 kHz here), more
  than two channels, queue sizes that are not a multiple of 10.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from godot_livekit_dev.feeders import Feeder
from godot_livekit_dev.patterns import dominant_frequency, sine_wave
from media_helpers import CollectingPlayback
from peers import Peer, wait_until

from godot_livekit import LiveKitAudioSource, LiveKitAudioStream, LiveKitLocalAudioTrack

MEDIA_WAIT = 20.0


def publish(alice: Peer, source: LiveKitAudioSource, name: str) -> None:
    alice.local.publish_track(LiveKitLocalAudioTrack.create(name, source), {})


def stream_of(bob: Peer, alice: Peer, name: str) -> LiveKitAudioStream:
    def subscribed() -> bool:
        return any(t.get_name() == name for t, _, _ in bob.args_of("track_subscribed"))

    wait_until([alice, bob], subscribed, MEDIA_WAIT, f"bob subscribed to {name}")
    track = next(t for t, _, _ in bob.args_of("track_subscribed") if t.get_name() == name)
    return LiveKitAudioStream.from_track(track)


def feed_tone(source: LiveKitAudioSource, frequency: float, block_ms: float) -> Feeder:
    """A continuous tone in blocks of ``block_ms``, paced in real time."""
    rate, channels = source.get_sample_rate(), source.get_num_channels()
    per_block = round(rate * block_ms / 1000)

    def step(index: int) -> None:
        chunk = sine_wave(frequency, rate, channels, per_block, start=index * per_block)
        source.capture_frame(chunk, rate, channels, per_block)

    return Feeder(block_ms / 1000, step)


def received_tone(stream: LiveKitAudioStream, peers: list[Peer]) -> np.ndarray:
    playback = CollectingPlayback()

    def enough() -> bool:
        stream.poll(playback)
        frames = playback.frames()
        return len(frames) >= 36000 and abs(frames[-24000:]).max() > 0.1

    wait_until(peers, enough, MEDIA_WAIT, "audible audio")
    return playback.frames()[-24000:]


@pytest.mark.parametrize("block_ms", [10.0, 15.0])
def test_queue_size_zero_sends_frames_straight_through(alice_bob, block_ms: float) -> None:
    alice, bob = alice_bob
    source = LiveKitAudioSource.create(48000, 1, 0)
    assert source.get_queue_size_ms() == 0
    publish(alice, source, "direct")
    with feed_tone(source, 440.0, block_ms):
        stream = stream_of(bob, alice, "direct")
        received = received_tone(stream, [alice, bob])
        assert abs(dominant_frequency(received, 48000) - 440.0) < 5.0
        # nothing waits in a queue: what was accepted plays out within a few blocks (the
        # feeder thread may run late on a busy machine and catch up)
        assert source.get_queued_duration() <= 0.1
        assert source.get_dropped_frames() == 0
        stream.close()


def test_queued_duration_counts_everything_accepted(alice_bob) -> None:
    alice, bob = alice_bob
    source = LiveKitAudioSource.create(48000, 1, 1000)
    publish(alice, source, "burst")
    stream = stream_of(bob, alice, "burst")
    assert source.get_queued_duration() == 0.0
    half_second = sine_wave(440.0, 48000, 1, 24000)
    accepted_at = time.monotonic()
    source.capture_frame(half_second, 48000, 1, 24000)
    queued = source.get_queued_duration()
    assert 0.48 <= queued <= 0.5, queued  # all of it, not only what reached the SDK yet
    wait_until([alice, bob], lambda: time.monotonic() - accepted_at >= 0.2, 5.0, "0.2 s")
    later = source.get_queued_duration()
    elapsed = time.monotonic() - accepted_at
    assert abs(later - (0.5 - elapsed)) < 0.02, (later, elapsed)
    # a game pacing itself on the figure tops up only what has played: no over-feeding
    assert source.get_dropped_frames() == 0
    playback = CollectingPlayback()

    def heard_it() -> bool:
        stream.poll(playback)
        frames = playback.frames()
        return len(frames) > 0 and np.count_nonzero(abs(frames[:, 0]) > 0.1) > 12000

    wait_until([alice, bob], heard_it, MEDIA_WAIT, "the half second at bob")
    frames = playback.frames()
    onset = int(np.argmax(abs(frames[:, 0]) > 0.1))
    assert abs(dominant_frequency(frames[onset + 1000 : onset + 13000], 48000) - 440.0) < 5.0
    wait_until([alice, bob], lambda: source.get_queued_duration() == 0.0, 5.0, "played out")
    source.clear_queue()
    assert source.get_queued_duration() == 0.0
    stream.close()


def test_a_full_queue_drops_new_audio_and_clear_empties_it() -> None:
    source = LiveKitAudioSource.create(48000, 1, 100)
    ten_ms = np.zeros(480, np.float32)
    for _ in range(15):  # 150 ms into a 100 ms queue, at once
        source.capture_frame(ten_ms, 48000, 1, 480)
    assert 0.09 <= source.get_queued_duration() <= 0.1
    assert source.get_dropped_frames() == 5 * 480
    source.clear_queue()
    assert source.get_queued_duration() == 0.0
    source.capture_frame(ten_ms, 48000, 1, 480)  # accepted again
    assert source.get_dropped_frames() == 5 * 480


@pytest.mark.parametrize(
    ("rate", "channels", "queue_ms"),
    [(22050, 1, 0), (8000, 1, 15), (44100, 6, 0), (96000, 2, 250)],
)
def test_arguments_the_original_accepts(alice_bob, rate: int, channels: int, queue_ms: int):
    alice, bob = alice_bob
    source = LiveKitAudioSource.create(rate, channels, queue_ms)
    assert (source.get_sample_rate(), source.get_num_channels()) == (rate, channels)
    assert source.get_queue_size_ms() == 10 * -(-queue_ms // 10)  # rounded up to 10 ms
    name = f"args-{rate}-{channels}"
    publish(alice, source, name)
    with feed_tone(source, 440.0, 10.0):
        stream = stream_of(bob, alice, name)
        received = received_tone(stream, [alice, bob])
        assert abs(dominant_frequency(received, 48000) - 440.0) < 5.0
        stream.close()


def test_arguments_refused_and_why() -> None:
    with pytest.raises(ValueError, match=r"8000\.\.192000"):
        LiveKitAudioSource.create(4000, 1, 0)  # WebRTC cannot carry it
    with pytest.raises(ValueError, match="queue_size_ms"):
        LiveKitAudioSource.create(48000, 1, -10)  # the original wraps it to ~4e9 ms
    with pytest.raises(ValueError, match="num_channels"):
        LiveKitAudioSource.create(48000, 0, 0)
    with pytest.raises(TypeError):
        LiveKitAudioSource.create(48000.0, 1, 0)  # type: ignore[arg-type]
