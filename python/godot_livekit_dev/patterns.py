"""Known media for demos, tests and benchmarks: a colour test pattern and a tone."""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

QUADRANT_COLORS = {
    "top_left": (230, 30, 30),  # red
    "top_right": (30, 200, 40),  # green
    "bottom_left": (30, 60, 230),  # blue
    "bottom_right": (240, 240, 240),  # white
}


def quadrant_pattern(width: int, height: int) -> np.ndarray:
    """A (height, width, 4) RGBA image of four solid colour quadrants."""
    image = np.empty((height, width, 4), np.uint8)
    image[..., 3] = 255
    half_h, half_w = height // 2, width // 2
    image[:half_h, :half_w, :3] = QUADRANT_COLORS["top_left"]
    image[:half_h, half_w:, :3] = QUADRANT_COLORS["top_right"]
    image[half_h:, :half_w, :3] = QUADRANT_COLORS["bottom_left"]
    image[half_h:, half_w:, :3] = QUADRANT_COLORS["bottom_right"]
    return image


def quadrant_centres(image: np.ndarray) -> dict[str, tuple[int, int, int]]:
    """The mean RGB of a small patch at the centre of each quadrant of ``image``."""
    height, width = image.shape[:2]
    centres = {
        "top_left": (height // 4, width // 4),
        "top_right": (height // 4, 3 * width // 4),
        "bottom_left": (3 * height // 4, width // 4),
        "bottom_right": (3 * height // 4, 3 * width // 4),
    }
    patch = max(1, min(height, width) // 16)
    result = {}
    for name, (y, x) in centres.items():
        region = image[y - patch : y + patch + 1, x - patch : x + patch + 1, :3]
        result[name] = tuple(int(v) for v in region.reshape(-1, 3).mean(axis=0))
    return result


def pattern_error(image: np.ndarray) -> int:
    """Largest per-channel difference between the quadrant centres and the pattern."""
    centres = quadrant_centres(image)
    return max(
        abs(int(got) - int(want))
        for name, colour in centres.items()
        for got, want in zip(colour, QUADRANT_COLORS[name], strict=True)
    )


def sine_wave(
    frequency: float, sample_rate: int, num_channels: int, count: int, start: int = 0
) -> np.ndarray:
    """``count`` frames of a sine (amplitude 0.5) as interleaved float32 samples."""
    t = np.arange(start, start + count, dtype=np.float64) / sample_rate
    mono = (0.5 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    return np.repeat(mono, num_channels) if num_channels > 1 else mono


def dominant_frequency(samples: np.ndarray, sample_rate: int) -> float:
    """The frequency (Hz) of the strongest FFT bin of a mono signal (Hann window)."""
    mono = np.asarray(samples, dtype=np.float64)
    if mono.ndim == 2:
        mono = mono.mean(axis=1)
    windowed = (mono - mono.mean()) * np.hanning(len(mono))
    spectrum = np.abs(np.fft.rfft(windowed))
    peak = int(np.argmax(spectrum[1:])) + 1
    return peak * sample_rate / len(mono)


def write_png(path: str | os.PathLike[str], rgba: np.ndarray) -> None:
    """Write a (height, width, 4) uint8 RGBA image as a PNG file (zlib, no dependencies)."""
    height, width = rgba.shape[:2]
    rows = np.empty((height, 1 + width * 4), np.uint8)
    rows[:, 0] = 0  # filter type "none" for every row
    rows[:, 1:] = np.ascontiguousarray(rgba, dtype=np.uint8).reshape(height, width * 4)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    data = zlib.compress(rows.tobytes(), 6)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data))
        out.write(chunk(b"IEND", b""))
