"""Test signals for the voice benches: synthetic speech, room echo paths, stationary noise.

The speech is built, not recorded (nothing to download): a glottal pulse train whose pitch
glides like intonation, shaped by three formants that move between vowels, cut into
syllables (about 4 per second) and phrases with pauses. It has what an echo canceller and
a noise suppressor react to: harmonics, onsets, silences, a speech-like spectrum.
"""

from __future__ import annotations

import numpy as np

RATE = 48000
VOWELS = (  # formant centres (Hz) of a, e, i, o, u
    (730, 1090, 2440),
    (530, 1840, 2480),
    (270, 2290, 3010),
    (570, 840, 2410),
    (300, 870, 2240),
)
FORMANT_WIDTHS = (90.0, 110.0, 170.0)


def speech_like(seconds: float, seed: int, pitch_hz: float = 120.0, rate: int = RATE) -> np.ndarray:
    """``seconds`` of speech-like float32 audio peaking at about 0.5 (deterministic)."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    t = np.arange(n) / rate
    pitch = pitch_hz * (
        1.0
        + 0.12 * np.sin(2 * np.pi * 0.6 * t + rng.uniform(0, 6))
        + 0.05 * np.sin(2 * np.pi * 2.3 * t + rng.uniform(0, 6))
    )
    phase = np.cumsum(2 * np.pi * pitch / rate)
    syllable_rate = 4.0
    syllable = np.floor(t * syllable_rate).astype(int)
    vowel_of = rng.integers(0, len(VOWELS), syllable.max() + 2)
    formants = np.array(VOWELS, dtype=np.float64)[vowel_of[syllable]]  # (n, 3)
    voice = np.zeros(n)
    for k in range(1, int(4000 / pitch_hz) + 1):  # harmonics up to ~4 kHz
        fk = k * pitch
        gain = np.zeros(n)
        for index, width in enumerate(FORMANT_WIDTHS):
            gain += np.exp(-0.5 * ((fk - formants[:, index]) / width) ** 2) / (index + 1)
        voice += (gain + 0.01) / np.sqrt(k) * np.sin(k * phase)
    # syllables: a smooth rise and fall each, some skipped; phrases: 2.5 s on, 0.8 s off
    within = t * syllable_rate - syllable
    envelope = np.sin(np.pi * within) ** 0.6
    envelope *= rng.random(syllable.max() + 2)[syllable] > 0.15
    envelope *= (t % 3.3) < 2.5
    smooth = np.ones(round(0.01 * rate)) / round(0.01 * rate)
    envelope = np.convolve(envelope, smooth, mode="same")
    voice *= envelope
    # a little breath noise in the voiced parts
    voice += 0.02 * rng.standard_normal(n) * envelope
    return (0.5 * voice / np.abs(voice).max()).astype(np.float32)


def echo_path(delay_ms: float, gain: float, rate: int = RATE, seed: int = 3) -> np.ndarray:
    """A room's impulse response: ``delay_ms`` of pure delay, then a direct path at
    ``gain`` and a short decaying tail of reflections (30 ms)."""
    rng = np.random.default_rng(seed)
    delay = round(delay_ms * rate / 1000)
    tail = round(0.03 * rate)
    response = np.zeros(delay + tail)
    response[delay] = gain
    decay = np.exp(-np.arange(tail) / (0.006 * rate))
    response[delay + 1 :] += gain * 0.3 * rng.standard_normal(tail - 1) * decay[1:] / 8
    return response


def through(signal: np.ndarray, response: np.ndarray) -> np.ndarray:
    """``signal`` played through ``response`` (same length; FFT convolution)."""
    size = len(signal) + len(response) - 1
    fft_size = 1 << (size - 1).bit_length()
    spectrum = np.fft.rfft(signal, fft_size) * np.fft.rfft(response, fft_size)
    return np.fft.irfft(spectrum, fft_size)[: len(signal)].astype(np.float32)


def pink_noise(seconds: float, seed: int, rate: int = RATE) -> np.ndarray:
    """Stationary pink (1/f) noise with unit RMS."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / rate)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, n)
    return (noise / np.sqrt(np.mean(noise**2))).astype(np.float32)


def power_db(signal: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(signal, dtype=np.float64)) + 1e-20))


def best_correlation(output: np.ndarray, reference: np.ndarray, max_lag: int) -> float:
    """The highest normalised correlation of ``output`` with ``reference`` for output lags
    0..``max_lag`` frames (processing may delay its output a little)."""
    best = -1.0
    for lag in range(0, max_lag + 1, 8):
        a = output[lag:]
        b = reference[: len(a)]
        denominator = np.sqrt(np.dot(a, a) * np.dot(b, b)) + 1e-20
        best = max(best, float(np.dot(a, b) / denominator))
    return best
