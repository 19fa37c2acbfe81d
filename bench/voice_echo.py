"""6. Voice: echo cancellation (and how much of the local talker survives it).

Far-end speech is pushed into a simulated playback (30 ms queued, as the receive path
keeps) and reaches the far-end tap exactly as ``LiveKitAudioStream.poll`` feeds it; the
speaker's output goes through a room echo path (40-150 ms delay, -6 dB, a 30 ms tail of
reflections) into the microphone input, which ``VoiceProcessor`` (the microphone's
processing: the SDK's WebRTC module in 10 ms frames) cleans. Simulated clock, no server.

- ERLE: echo return loss enhancement, mic-in power / processed power while only the far
  end talks (after 6 s to converge), in dB; the same path with processing off is 0 dB.
- Double talk: both talk; the correlation of the processed signal with the clean local
  talker, next to the raw microphone's (which also carries the echo).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from godot_livekit.audio_processing import FarEndTap, VoiceProcessor

from .stats import table
from .voice_signals import RATE, best_correlation, echo_path, power_db, speech_like, through

FRAME = RATE // 100
PLAYBACK_QUEUE = round(0.030 * RATE)
CONVERGE_S = 4.0
FAR_ONLY_S = 20.0  # far end alone until here, then both talk
TOTAL_S = 30.0
CONFIGS = (
    ("off", {}),
    ("echo cancellation", {"echo_cancellation": True}),
    (
        "all stages",
        {
            "echo_cancellation": True,
            "noise_suppression": True,
            "auto_gain_control": True,
            "high_pass_filter": True,
        },
    ),
)
_ALL_OFF = {
    "echo_cancellation": False,
    "noise_suppression": False,
    "auto_gain_control": False,
    "high_pass_filter": False,
}


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class EchoResult:
    delay_ms: float
    config: str
    erle_db: float
    erle_median_db: float
    erle_worst_db: float
    near_correlation: float
    mic_correlation: float
    near_level_db: float


def process(far: np.ndarray, mic: np.ndarray, stages: dict[str, bool], hint_ms: int) -> np.ndarray:
    """Run ``mic`` through a VoiceProcessor whose far end is ``far`` played in real time."""
    clock = _Clock()
    tap = FarEndTap(RATE, clock=clock)
    processor = VoiceProcessor(RATE, tap, **{**_ALL_OFF, **stages})
    processor.stream_delay_ms = hint_ms
    out = np.zeros_like(mic)
    pcm = np.rint(np.clip(mic, -1, 1) * 32767).astype(np.int16)
    written = 0
    for start in range(0, len(mic) - FRAME + 1, FRAME):
        clock.now = start / RATE
        block = far[start : start + FRAME]
        tap.add(np.repeat(block[:, None], 2, axis=1), PLAYBACK_QUEUE, RATE)
        clock.now = (start + FRAME) / RATE  # the mic block is complete
        processed = processor.process(pcm[start : start + FRAME])
        out[written : written + len(processed)] = processed / 32767.0
        written += len(processed)
    processor.close()
    return out


def run_one(delay_ms: float, far: np.ndarray, near: np.ndarray) -> list[EchoResult]:
    # the speaker plays the far end PLAYBACK_QUEUE after it was pushed
    speaker = np.concatenate([np.zeros(PLAYBACK_QUEUE, np.float32), far])[: len(far)]
    echo = through(speaker, echo_path(delay_ms, 0.5))
    talking = np.zeros(len(far), np.float32)
    talking[round(FAR_ONLY_S * RATE) :] = 1.0
    local = near * talking
    mic = echo + local
    far_only = slice(round(CONVERGE_S * RATE), round(FAR_ONLY_S * RATE))
    double = slice(round(FAR_ONLY_S * RATE), len(far))
    block_power = np.convolve(echo[far_only] ** 2, np.ones(FRAME) / FRAME, mode="same")
    active = block_power > 1e-4
    results = []
    for label, stages in CONFIGS:
        out = process(far, mic, stages, round(delay_ms))  # the tap aligns the queue
        erle = power_db(mic[far_only][active]) - power_db(out[far_only][active])
        seconds = [
            power_db(mic[slice(s, s + RATE)]) - power_db(out[slice(s, s + RATE)])
            for s in range(far_only.start, far_only.stop - RATE + 1, RATE)
            if power_db(echo[slice(s, s + RATE)]) > -40
        ]
        results.append(
            EchoResult(
                delay_ms=delay_ms,
                config=label,
                erle_db=erle,
                erle_median_db=float(np.median(seconds)),
                erle_worst_db=float(np.min(seconds)),
                near_correlation=best_correlation(out[double], near[double], RATE // 50),
                mic_correlation=best_correlation(mic[double], near[double], 0),
                near_level_db=power_db(out[double]) - power_db(near[double]),
            )
        )
    return results


def run(quick: bool) -> list[EchoResult]:
    far = speech_like(TOTAL_S, seed=1, pitch_hz=115.0)
    near = speech_like(TOTAL_S, seed=7, pitch_hz=205.0) * 0.8
    delays = (80.0,) if quick else (40.0, 80.0, 150.0)
    return [result for delay in delays for result in run_one(delay, far, near)]


def report(results: list[EchoResult]) -> str:
    rows = [
        [
            f"{r.delay_ms:.0f} ms",
            r.config,
            f"{r.erle_db:.1f}",
            f"{r.erle_median_db:.1f} / {r.erle_worst_db:.1f}",
            f"{r.near_correlation:.2f} (mic {r.mic_correlation:.2f})",
            f"{r.near_level_db:+.1f}",
        ]
        for r in results
    ]
    headers = [
        "echo delay",
        "processing",
        "ERLE dB (far end only)",
        "per second: median / worst",
        "double talk: corr. with local talker",
        "out vs local talker dB",
    ]
    return "\n".join(
        [
            table(headers, rows, left=(0, 1)),
            "  ERLE = mic-in power / processed power over the 16 s the far end talks alone "
            "(after 4 s to converge; target >= 20 dB), also per 1 s window.",
            "  corr. = best normalised correlation (lag <= 20 ms) of the processed double talk "
            "with the clean local talker, the raw mic's in brackets.",
        ]
    )


if __name__ == "__main__":
    print(report(run(quick=False)))
