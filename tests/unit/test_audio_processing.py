"""The far-end tap and the voice processor, on a simulated clock (no server).

Real parts: the SDK's WebRTC audio processing module. The echo test plays a far end
through the tap exactly as ``LiveKitAudioStream.poll`` feeds it, echoes the speaker into
the microphone input and measures what the processor leaves of it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from voice_helpers import tone_bursts

from godot_livekit.audio_processing import FarEndTap, VoiceProcessor

RATE = 48000
FRAME = RATE // 100


class SimClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def echo_only(tap: FarEndTap | None, echo_cancellation: bool = True) -> VoiceProcessor:
    """A processor with echo cancellation alone (or nothing) switched on."""
    return VoiceProcessor(
        RATE,
        tap,
        echo_cancellation=echo_cancellation,
        noise_suppression=False,
        auto_gain_control=False,
        high_pass_filter=False,
    )


def stereo(mono: np.ndarray) -> np.ndarray:
    return np.repeat(mono.astype(np.float32)[:, None], 2, axis=1)


def test_tap_places_audio_where_it_will_be_heard_and_mixes_streams() -> None:
    clock = SimClock()
    tap = FarEndTap(RATE, clock=clock)
    tap.add(stereo(np.ones(480)), 0, RATE)
    assert not tap.active  # nobody listens: nothing kept
    tap.attach(RATE)
    assert tap.read_until_now().size == 0  # starts from now
    tap.add(stereo(np.full(480, 0.25)), 960, RATE)  # heard 20 ms from now
    tap.add(stereo(np.full(480, 0.5)), 1200, RATE)  # another stream, 25 ms from now
    clock.now += 0.040
    heard = tap.read_until_now()
    assert heard.shape == (1920,)
    np.testing.assert_allclose(heard[:960], 0.0)
    np.testing.assert_allclose(heard[960:1200], 0.25)
    np.testing.assert_allclose(heard[1200:1440], 0.75)  # both at once: summed
    np.testing.assert_allclose(heard[1440:1680], 0.5)
    np.testing.assert_allclose(heard[1680:], 0.0)
    clock.now += 0.010
    assert np.count_nonzero(tap.read_until_now()) == 0  # read audio is gone
    tap.add(stereo(np.ones(480)), 0, 24000)  # another mix rate: resampled to the tap's
    clock.now += 0.040
    assert np.count_nonzero(tap.read_until_now()) == 960
    tap.add(stereo(np.ones(480)), 0, RATE)
    clock.now += 5.0  # the reader fell behind a whole ring: start again
    assert tap.read_until_now().size == 0
    tap.detach()
    assert not tap.active


def test_processor_frames_in_10_ms_and_switches_stages() -> None:
    processor = echo_only(None, False)
    ramp = (np.arange(1000) % 200 - 100).astype(np.int16)
    assert processor.process(ramp[:300]).size == 0
    out = processor.process(ramp[300:])
    assert out.size == 960  # two whole frames, 40 samples wait
    np.testing.assert_array_equal(out, ramp[:960])  # every stage off: untouched
    processor.set_stage("high_pass_filter", True)
    assert processor.get_stage("high_pass_filter")
    filtered = processor.process(np.full(4800, 8000, np.int16))
    assert abs(int(filtered[-480:].mean())) < 4000  # a constant (0 Hz) is filtered away
    with pytest.raises(ValueError):
        processor.set_stage("reverb", True)
    processor.close()
    processor.close()


def run_echo(cancel: bool, seconds: float = 14.0, delay_s: float = 0.08) -> float:
    """Residual echo level (dB) over the last 3 s, far end played through the tap."""
    clock = SimClock()
    tap = FarEndTap(RATE, clock=clock)
    processor = echo_only(tap, cancel)
    # a tone switched on and off, with a little breath of noise: something to converge on
    far = tone_bursts(1000.0)(0, round(seconds * RATE))
    far += 0.05 * np.random.default_rng(3).standard_normal(len(far)).astype(np.float32) * (far != 0)
    queued = round(0.03 * RATE)  # what the playback holds ahead of each push
    delay = round(delay_s * RATE) + queued
    mic = np.zeros_like(far)
    mic[delay:] = 0.5 * far[:-delay]
    out = []
    for start in range(0, len(far), FRAME):
        tap.add(stereo(far[start : start + FRAME]), queued, RATE, "speaker")
        clock.now += FRAME / RATE
        pcm = np.rint(mic[start : start + FRAME] * 32767).astype(np.int16)
        out.append(processor.process(pcm))
    processor.close()
    tail = np.concatenate(out)[-3 * RATE :].astype(np.float64) / 32767
    return float(10 * np.log10(np.mean(tail**2) + 1e-12))


def test_echo_of_the_far_end_is_cancelled_by_20_db() -> None:
    assert run_echo(cancel=False) - run_echo(cancel=True) >= 20.0


def residual_with_chunked_mixer(writer: object, chunk: int = 1024) -> float:
    """Residual echo (dB, last 3 s) when the playback is drained in ``chunk``-frame steps,
    so each push's queue estimate is late by up to one chunk (as with Godot's mixer)."""
    clock = SimClock()
    tap = FarEndTap(RATE, clock=clock)
    processor = echo_only(tap)
    seconds = 14
    far = tone_bursts(1000.0, breath=0.05)(0, seconds * RATE)
    target = round(0.03 * RATE)
    delay = round(0.08 * RATE) + target
    mic = np.zeros_like(far)
    mic[delay:] = 0.5 * far[:-delay]
    out = []
    for start in range(0, len(far), FRAME):
        late = start - start // chunk * chunk  # what the mixer took but has not reported
        tap.add(stereo(far[start : start + FRAME]), target + late, RATE, writer)
        clock.now += FRAME / RATE
        out.append(processor.process(np.rint(mic[start : start + FRAME] * 32767).astype(np.int16)))
    processor.close()
    tail = np.concatenate(out)[-3 * RATE :].astype(np.float64) / 32767
    return float(10 * np.log10(np.mean(tail**2) + 1e-12))


def test_a_playback_drained_in_chunks_still_gives_a_continuous_far_end() -> None:
    """Godot's mixer drains a playback in chunks, so each push's estimate of where its
    audio will be heard jitters by up to a chunk. Placed at the raw estimates, the
    reference would tear; placed contiguously (moved only when the estimates' average
    drifts), the canceller does as well as with a playback drained sample by sample."""
    smooth = residual_with_chunked_mixer(writer="speaker", chunk=1)
    for chunk in (512, 1024):
        continuous = residual_with_chunked_mixer(writer="speaker", chunk=chunk)
        assert continuous <= smooth + 4.0, (chunk, continuous, smooth)


def residual_with_polls(steps_between_polls: Callable[[], int], capture_lag: int) -> float:
    """Residual echo (dB, last 3 s) when the game polls the microphone every few 10 ms steps
    (``steps_between_polls()``) and its capture runs ``capture_lag`` steps behind the
    speaker: each poll reads a burst of far end and a different-sized burst of frames."""
    clock = SimClock()
    tap = FarEndTap(RATE, clock=clock)
    processor = echo_only(tap)
    seconds = 14
    far = tone_bursts(1000.0, breath=0.05)(0, seconds * RATE)
    queued = round(0.03 * RATE)
    delay = round(0.06 * RATE) + queued
    mic = np.zeros(len(far), np.int16)
    mic[delay:] = np.rint(0.5 * far[:-delay] * 32767)
    out, captured, next_poll = [], 0, 0
    for step in range(1, len(far) // FRAME + 1):
        tap.add(stereo(far[(step - 1) * FRAME : step * FRAME]), queued, RATE, "speaker")
        clock.now += FRAME / RATE
        if step >= next_poll:
            available = max(0, step - capture_lag) * FRAME
            out.append(processor.process(mic[captured:available]))
            captured, next_poll = available, step + steps_between_polls()
    processor.close()
    tail = np.concatenate(out)[-3 * RATE :].astype(np.float64) / 32767
    return float(10 * np.log10(np.mean(tail**2) + 1e-12))


def test_irregular_polls_cancel_the_echo_as_steady_ones_do() -> None:
    """The module gets one far-end frame before each microphone frame whatever the game's
    polling: a burst of far end against a different burst of frames would make it shift
    its delay estimate, and the echo would come back."""
    steady = residual_with_polls(lambda: 1, 0)
    rng = np.random.default_rng(2)
    irregular = residual_with_polls(lambda: int(rng.integers(1, 9)), capture_lag=2)
    assert irregular <= steady + 3.0, (irregular, steady)


def test_a_capture_arriving_in_mixer_chunks_keeps_its_pairing_with_the_far_end() -> None:
    """Godot's capture fills in mixer chunks (1024 frames here) while the far end is read
    by the clock at each 60 fps poll: the microphone is up to a chunk ahead of the far end
    at one poll and behind at the next. Paired after watching that jitter, no microphone
    frame gets silence for its far end (which would shift the pairing)."""
    clock = SimClock()
    tap = FarEndTap(RATE, clock=clock)
    processor = echo_only(tap)
    chunk, frame_time = 1024, 1 / 60
    captured = 0
    for poll in range(1, 600):
        clock.now += frame_time
        tap.add(stereo(np.zeros(800)), 0, RATE, "speaker")
        mixed = round(poll * frame_time * RATE) // chunk * chunk  # whole chunks so far
        processor.process(np.zeros(mixed - captured, np.int16), far_until=clock.now)
        captured = mixed
    assert processor.frames_processed > 900
    assert processor.far_end_gaps == 0
    processor.close()
