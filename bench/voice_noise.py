"""7. Voice: noise suppression on speech with stationary noise.

Speech-like audio plus pink noise at a given SNR goes through the microphone's processing
(``VoiceProcessor``, noise suppression alone, then all stages except echo cancellation) in
10 ms frames. SNR is measured the way a listener meets it: power where the talker talks
(minus the noise floor) over power in the pauses, before and after processing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from godot_livekit.audio_processing import VoiceProcessor

from .stats import table
from .voice_signals import RATE, best_correlation, pink_noise, power_db, speech_like

FRAME = RATE // 100
SECONDS = 20.0
SKIP_S = 3.0  # adaptation
CONFIGS = (
    ("noise suppression", {"noise_suppression": True}),
    (
        "NS + gain control + high-pass",
        {"noise_suppression": True, "auto_gain_control": True, "high_pass_filter": True},
    ),
)
_ALL_OFF = {
    "echo_cancellation": False,
    "noise_suppression": False,
    "auto_gain_control": False,
    "high_pass_filter": False,
}


@dataclass(frozen=True)
class NoiseResult:
    input_snr_db: float
    config: str
    output_snr_db: float
    speech_correlation: float
    noise_reduction_db: float

    @property
    def gain_db(self) -> float:
        return self.output_snr_db - self.input_snr_db


def process(signal: np.ndarray, stages: dict[str, bool]) -> np.ndarray:
    processor = VoiceProcessor(RATE, None, **{**_ALL_OFF, **stages})
    pcm = np.rint(np.clip(signal, -1, 1) * 32767).astype(np.int16)
    out = processor.process(pcm).astype(np.float32) / 32767.0
    processor.close()
    return np.concatenate([out, np.zeros(len(signal) - len(out), np.float32)])


def snr_db(signal: np.ndarray, talking: np.ndarray, pauses: np.ndarray) -> float:
    noise = np.mean(np.square(signal[pauses], dtype=np.float64))
    both = np.mean(np.square(signal[talking], dtype=np.float64))
    return float(10 * np.log10(max(both - noise, 1e-20) / max(noise, 1e-20)))


def run(quick: bool) -> list[NoiseResult]:
    speech = speech_like(SECONDS, seed=11, pitch_hz=140.0)
    noise = pink_noise(SECONDS, seed=5)
    energy = np.convolve(speech**2, np.ones(FRAME) / FRAME, mode="same")
    skip = np.arange(len(speech)) >= SKIP_S * RATE
    talking = (energy > 0.3 * np.mean(energy[energy > 1e-6])) & skip
    pauses = (energy < 1e-8) & skip
    results = []
    for input_snr in (5.0,) if quick else (0.0, 5.0, 10.0):
        scale = np.sqrt(np.mean(speech[talking] ** 2) / 10 ** (input_snr / 10))
        noisy = speech + noise * scale
        measured_in = snr_db(noisy, talking, pauses)
        for label, stages in CONFIGS:
            out = process(noisy, stages)
            results.append(
                NoiseResult(
                    input_snr_db=measured_in,
                    config=label,
                    output_snr_db=snr_db(out, talking, pauses),
                    speech_correlation=best_correlation(out[skip], speech[skip], RATE // 50),
                    noise_reduction_db=power_db(noisy[pauses]) - power_db(out[pauses]),
                )
            )
    return results


def report(results: list[NoiseResult]) -> str:
    rows = [
        [
            f"{r.input_snr_db:.1f}",
            r.config,
            f"{r.output_snr_db:.1f}",
            f"{r.gain_db:+.1f}",
            f"{r.noise_reduction_db:.1f}",
            f"{r.speech_correlation:.2f}",
        ]
        for r in results
    ]
    headers = [
        "input SNR dB",
        "processing",
        "output SNR dB",
        "SNR gain dB",
        "noise floor down dB",
        "corr. with clean speech",
    ]
    return "\n".join(
        [
            table(headers, rows, left=(1,)),
            "  speech-like audio + stationary pink noise; SNR = (talking power - pause power)"
            " / pause power, after 3 s of adaptation.",
        ]
    )


if __name__ == "__main__":
    print(report(run(quick=False)))
