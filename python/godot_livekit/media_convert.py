"""Every media conversion between Godot and LiveKit, in one place.

Godot hands out (and plays) interleaved float32 audio in [-1, 1] and images as tightly packed
RGBA8/RGB8 rows; LiveKit moves interleaved int16 audio (10 ms frames, usually 48 kHz) and
:class:`rtc.VideoFrame` buffers. All work here is vectorised numpy or the SDK's native code:
there is no Python loop per sample or per pixel.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from livekit import rtc

logger = logging.getLogger(__name__)

MAX_CHANNELS = 8
MAX_IMAGE_SIDE = 16384
RGBA = rtc.VideoBufferType.RGBA
I420 = rtc.VideoBufferType.I420
"""The SDK's buffer types, looked up once (each protobuf enum lookup costs about 2 us)."""
INT16_SCALE = 32767.0
_INT16_TO_FLOAT = np.float32(1.0 / 32768.0)

BufferLike = bytes | bytearray | memoryview

__all__ = [
    "AudioJitterBuffer",
    "AudioResampler",
    "chroma_size",
    "float_to_int16",
    "i420_planes",
    "int16_to_float",
    "remix_channels",
    "rgba_from_bgra",
    "rgba_from_image_bytes",
    "rgba_from_video_frame",
    "video_frame_from_rgba",
]


# ----------------------------------------------------------------------------- audio


def _check_channels(num_channels: int, name: str = "num_channels") -> None:
    if not isinstance(num_channels, int) or not 1 <= num_channels <= MAX_CHANNELS:
        raise ValueError(f"{name} must be an int in 1..{MAX_CHANNELS}, got {num_channels!r}")


def float_to_int16(
    samples: np.ndarray | BufferLike | Sequence[float],
    num_channels: int,
    samples_per_channel: int,
) -> np.ndarray:
    """Convert interleaved float audio in [-1, 1] to interleaved int16 (1-D, length n*c).

    ``samples`` may be a numpy array (any shape, read in C order), a bytes-like buffer of
    native-endian float32, or a sequence of floats. Values outside [-1, 1] are **clamped**
    (not wrapped); the result is ``round(x * 32767)``.

    Raises:
        ValueError: bad channel/sample counts, a length mismatch, or any NaN/Inf sample.
    """
    _check_channels(num_channels)
    if not isinstance(samples_per_channel, int) or samples_per_channel <= 0:
        raise ValueError(f"samples_per_channel must be a positive int, got {samples_per_channel!r}")

    if isinstance(samples, np.ndarray):
        arr = samples.reshape(-1)
        if not np.issubdtype(arr.dtype, np.floating):
            arr = arr.astype(np.float32)
    elif isinstance(samples, bytes | bytearray | memoryview):
        nbytes = memoryview(samples).nbytes
        if nbytes % 4:
            raise ValueError(f"float32 audio buffer has {nbytes} bytes, not a multiple of 4")
        arr = np.frombuffer(samples, dtype=np.float32)
    else:
        arr = np.asarray(samples, dtype=np.float32).reshape(-1)

    expected = num_channels * samples_per_channel
    if arr.size != expected:
        raise ValueError(
            f"audio has {arr.size} samples, expected {expected} "
            f"({num_channels} channels x {samples_per_channel} samples per channel)"
        )

    finite = np.isfinite(arr)
    if not finite.all():
        index = int(np.argmin(finite))
        raise ValueError(f"audio contains NaN or Inf at sample {index}")

    out = np.clip(arr, -1.0, 1.0, dtype=np.float32)
    np.multiply(out, INT16_SCALE, out=out)
    np.rint(out, out=out)
    result: np.ndarray = out.astype(np.int16)
    return result


def int16_to_float(data: np.ndarray | BufferLike, num_channels: int) -> np.ndarray:
    """Convert interleaved int16 audio (e.g. ``rtc.AudioFrame.data``) to float32 (frames, c).

    Scaled by 1/32768, so the result lies in [-1, 1).
    """
    _check_channels(num_channels)
    if isinstance(data, np.ndarray):
        arr = data.reshape(-1)
        if arr.dtype != np.int16:
            raise ValueError(f"expected int16 samples, got dtype {arr.dtype}")
    else:
        nbytes = memoryview(data).nbytes
        if nbytes % 2:
            raise ValueError(f"int16 audio buffer has {nbytes} bytes, not a multiple of 2")
        arr = np.frombuffer(data, dtype=np.int16)
    if arr.size % num_channels:
        raise ValueError(f"{arr.size} samples do not split into {num_channels} channels")
    out = arr.astype(np.float32)
    np.multiply(out, _INT16_TO_FLOAT, out=out)
    return out.reshape(-1, num_channels)


def remix_channels(frames: np.ndarray, out_channels: int) -> np.ndarray:
    """Change the channel count of (n, c_in) audio to (n, out_channels).

    mono -> N duplicates, N -> mono averages, fewer -> more repeats the input channels
    cyclically (stereo -> 4 is L R L R), more -> fewer (not mono) keeps the first channels.
    The dtype is kept (integer averages are rounded). Returns ``frames`` itself when the count
    already matches.
    """
    _check_channels(out_channels, "out_channels")
    if frames.ndim != 2:
        raise ValueError(f"frames must have shape (n, channels), got {frames.shape}")
    in_channels = frames.shape[1]
    _check_channels(in_channels, "input channel count")
    if in_channels == out_channels:
        return frames
    if out_channels == 1:
        mono = frames.mean(axis=1, dtype=np.float32, keepdims=True)
        if np.issubdtype(frames.dtype, np.integer):
            np.rint(mono, out=mono)
        averaged: np.ndarray = mono.astype(frames.dtype, copy=False)
        return averaged
    if in_channels == 1:
        return np.repeat(frames, out_channels, axis=1)
    if in_channels > out_channels:
        return np.ascontiguousarray(frames[:, :out_channels])
    return frames[:, np.arange(out_channels) % in_channels]


class AudioResampler:
    """Sample-rate conversion of interleaved int16 audio, on the SDK's native SoX resampler.

    The native resampler has a small group delay: early ``push`` calls may return fewer
    samples than went in (even none); call :meth:`flush` at the end of a stream to get the
    tail. When the rates are equal it is an identity pass-through.
    """

    def __init__(
        self,
        input_rate: int,
        output_rate: int,
        num_channels: int = 1,
        quality: rtc.AudioResamplerQuality = rtc.AudioResamplerQuality.MEDIUM,
    ) -> None:
        if input_rate <= 0 or output_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {input_rate} -> {output_rate}")
        _check_channels(num_channels)
        self.input_rate = input_rate
        self.output_rate = output_rate
        self.num_channels = num_channels
        self._native: rtc.AudioResampler | None = None
        if input_rate != output_rate:
            self._native = rtc.AudioResampler(
                input_rate, output_rate, num_channels=num_channels, quality=quality
            )

    @property
    def is_identity(self) -> bool:
        """True when input and output rates are equal (no native resampler)."""
        return self._native is None

    def push(self, samples: np.ndarray | BufferLike) -> np.ndarray:
        """Resample interleaved int16 samples; returns the interleaved int16 output available."""
        if isinstance(samples, np.ndarray):
            if samples.dtype != np.int16:
                raise ValueError(f"expected int16 samples, got dtype {samples.dtype}")
            arr = np.ascontiguousarray(samples).reshape(-1)
        else:
            arr = np.frombuffer(samples, dtype=np.int16)
        if arr.size % self.num_channels:
            raise ValueError(f"{arr.size} samples do not split into {self.num_channels} channels")
        if self._native is None:
            return arr
        if arr.size == 0:
            return np.empty(0, dtype=np.int16)
        if not arr.flags.writeable:
            arr = arr.copy()  # the SDK takes the address of a writable buffer only
        # a flat uint8 view whose len() equals its byte size lets the SDK use it without a copy
        frame = rtc.AudioFrame(
            arr.view(np.uint8).data,
            self.input_rate,
            self.num_channels,
            arr.size // self.num_channels,
        )
        return self._collect(self._native.push(frame))

    def flush(self) -> np.ndarray:
        """Drain the resampler's delayed tail (interleaved int16; empty for identity)."""
        if self._native is None:
            return np.empty(0, dtype=np.int16)
        return self._collect(self._native.flush())

    @staticmethod
    def _collect(frames: list[rtc.AudioFrame]) -> np.ndarray:
        parts = [np.frombuffer(f.data, dtype=np.int16) for f in frames]
        if not parts:
            return np.empty(0, dtype=np.int16)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


class AudioJitterBuffer:
    """Thread-safe float32 FIFO between the SDK's audio stream and Godot's generator playback.

    The runtime thread :meth:`push`es decoded audio, the main thread :meth:`pop`s it into an
    ``AudioStreamGeneratorPlayback``. Storage is a preallocated ring of shape
    (capacity, channels); every operation is O(1): at most two memcpys under one lock.

    Nothing under the lock lets go of the GIL: numpy releases it for copies and conversions of
    more than 500 elements (a 10 ms stereo frame is 960), and a thread that takes the GIL
    then finds the lock held, blocks, and waits up to the interpreter's switch interval (5 ms)
    for the GIL again. A writer converts outside the lock, and the ring's copies are memcpys
    of byte views, which keep the GIL (reads into a float32 C-contiguous array of the ring's
    channels, as the playout's; other arrays get a numpy copy).

    Latency control: when the buffered audio exceeds ``max_delay_ms`` the oldest audio is
    dropped so that ``target_delay_ms`` remains (counted in :attr:`dropped_frames`). A pop
    gets what is there, up to what it asks for. After an underrun (a pop finds the buffer
    empty) pops return nothing until ``prime_ms``
    (default ``target_delay_ms / 2``) is buffered again, so playback resumes in one piece
    instead of stuttering. The buffer starts unprimed.
    """

    def __init__(
        self,
        sample_rate: int,
        channels: int = 2,
        target_delay_ms: float = 40.0,
        max_delay_ms: float = 120.0,
        capacity_ms: float = 1000.0,
        prime_ms: float | None = None,
    ) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        _check_channels(channels, "channels")
        if prime_ms is None:
            prime_ms = target_delay_ms / 2.0
        if not 0 < target_delay_ms <= max_delay_ms <= capacity_ms:
            raise ValueError(
                "need 0 < target_delay_ms <= max_delay_ms <= capacity_ms, got "
                f"{target_delay_ms}, {max_delay_ms}, {capacity_ms}"
            )
        if not 0 <= prime_ms <= max_delay_ms:
            raise ValueError(f"prime_ms must be in 0..max_delay_ms, got {prime_ms}")
        self.sample_rate = sample_rate
        self.channels = channels
        self.target_delay_ms = float(target_delay_ms)
        self.max_delay_ms = float(max_delay_ms)
        self.capacity_ms = float(capacity_ms)
        self.prime_ms = float(prime_ms)
        self._target = self._ms_to_frames(target_delay_ms)
        self._max = self._ms_to_frames(max_delay_ms)
        self._prime = self._ms_to_frames(prime_ms)
        self._capacity = max(self._ms_to_frames(capacity_ms), self._max, 1)
        self._buf = np.zeros((self._capacity, channels), dtype=np.float32)
        self._ring = self._buf.data.cast("B")  # the ring's bytes: copies under the lock
        self._frame_bytes = 4 * channels
        self._released = False
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # one writer at a time; the reader never takes it
        self._scratch = np.zeros((0, channels), dtype=np.float32)  # a writer's converted frames
        self._out: np.ndarray | None = None  # the last array read into, and its bytes
        self._out_bytes: memoryview | None = None
        self._read = 0  # index of the oldest buffered frame
        self._count = 0
        self._primed = False
        self.pushed_frames = 0
        self.dropped_frames = 0
        self.underruns = 0
        self.written_at = -math.inf
        """``time.monotonic()`` of the last push (-inf before the first)."""

    def _ms_to_frames(self, ms: float) -> int:
        return round(ms * self.sample_rate / 1000.0)

    @property
    def capacity_frames(self) -> int:
        """Size of the ring in frames."""
        return self._capacity

    @property
    def buffered_frames(self) -> int:
        """Frames currently buffered."""
        with self._lock:
            return self._count

    @property
    def buffered_frames_unlocked(self) -> int:
        """Frames buffered, read without the lock (a snapshot for the reading thread)."""
        return self._count

    @property
    def buffered_ms(self) -> float:
        """Audio currently buffered, in milliseconds."""
        return self.buffered_frames * 1000.0 / self.sample_rate

    @property
    def primed(self) -> bool:
        """False while waiting for ``prime_ms`` of audio (at start and after an underrun)."""
        with self._lock:
            return self._primed

    def push(self, frames: np.ndarray) -> None:
        """Append (n, channels) float audio (mono may be 1-D); trims the oldest audio past
        max delay."""
        data = np.asarray(frames, dtype=np.float32)
        if data.ndim == 1 and self.channels == 1:
            data = data.reshape(-1, 1)
        if data.ndim != 2 or data.shape[1] != self.channels:
            raise ValueError(f"expected shape (n, {self.channels}), got {data.shape}")
        self._write(data, scale=None)

    def push_int16(self, data: np.ndarray | BufferLike) -> None:
        """Append interleaved int16 audio (e.g. ``rtc.AudioFrame.data``), converting it to
        float32 in one numpy pass into a reused array (outside the lock), then one memcpy
        into the ring. Meant for the thread that receives the frame."""
        if isinstance(data, np.ndarray):
            samples = data.reshape(-1)
            if samples.dtype != np.int16:
                raise ValueError(f"expected int16 samples, got dtype {samples.dtype}")
        else:
            try:
                samples = np.frombuffer(data, dtype=np.int16)
            except ValueError:  # numpy's reason is about element sizes: say it for audio
                nbytes = memoryview(data).nbytes
                raise ValueError(
                    f"int16 audio buffer has {nbytes} bytes, not a multiple of 2"
                ) from None
        if samples.size % self.channels:
            raise ValueError(f"{samples.size} samples do not split into {self.channels} channels")
        self._write(samples.reshape(-1, self.channels), scale=_INT16_TO_FLOAT)

    def _write(self, data: np.ndarray, scale: np.float32 | None) -> None:
        n = data.shape[0]
        if n == 0:
            return
        with self._write_lock:
            if scale is None and data.flags.c_contiguous:
                converted = data
            else:  # int16 -> float32 (or a strided float array) outside the ring's lock
                if self._scratch.shape[0] < n:
                    self._scratch = np.zeros((n, self.channels), dtype=np.float32)
                converted = self._scratch[:n]
                if scale is None:
                    converted[...] = data
                else:
                    np.multiply(data, scale, out=converted)
            source = converted.data.cast("B")
            with self._lock:
                dropped = self._store_locked(source, n)
        if dropped:
            logger.debug("jitter buffer over max delay: dropped %d frames", dropped)

    def _store_locked(self, source: memoryview, n: int) -> int:
        """Append ``n`` frames (``source``: their bytes); returns the frames dropped."""
        if self._released:
            return 0
        size = self._frame_bytes
        dropped = 0
        total = self._count + n
        if total > self._max:  # over max delay: keep only the newest target_delay
            dropped = total - self._target
            old_drop = min(dropped, self._count)
            self._discard_oldest(old_drop)
            if dropped > old_drop:
                source = source[(dropped - old_drop) * size :]
                n -= dropped - old_drop
        cap = self._capacity
        write = (self._read + self._count) % cap
        first = min(n, cap - write)
        self._ring[write * size : (write + first) * size] = source[: first * size]
        if first < n:
            self._ring[: (n - first) * size] = source[first * size : n * size]
        self._count += n
        self.pushed_frames += n
        self.dropped_frames += dropped
        self.written_at = time.monotonic()
        return dropped

    def _discard_oldest(self, n: int) -> None:
        self._read = (self._read + n) % self._capacity
        self._count -= n

    def _ready_locked(self, max_frames: int) -> int:
        """Frames a read of at most ``max_frames`` (an int) may take now (0 while priming or
        after an underrun)."""
        count = self._count
        if self._primed and count and max_frames > 0:  # the usual case
            return max_frames if max_frames < count else count
        if not self._primed:
            if self._count < max(self._prime, 1):
                return 0
            self._primed = True
        if self._count == 0 and max_frames > 0:
            # ran dry: wait for prime_ms again so playback resumes in one piece
            self.underruns += 1
            self._primed = False
            return 0
        return min(max(int(max_frames), 0), self._count)

    def _copy_out_locked(self, out: np.ndarray, k: int, start: int | None = None) -> None:
        """Copy ``k`` frames of the ring from ``start`` (default: the oldest) into ``out``,
        wrapping round its end; a memcpy that keeps the GIL when ``out`` is a C-contiguous
        float32 array of the ring's channels."""
        if k <= 0:
            return
        read = self._read if start is None else start
        first = min(k, self._capacity - read)
        target = self._out_bytes if out is self._out else None
        if (
            target is None
            and out.dtype == np.float32
            and out.ndim == 2
            and out.shape[1] == self.channels
            and out.flags.c_contiguous
        ):
            target = out.data.cast("B")
            self._out, self._out_bytes = out, target  # the reader's reused array: kept
        if target is not None:
            size = self._frame_bytes
            target[: first * size] = self._ring[read * size : (read + first) * size]
            if first < k:
                target[first * size : k * size] = self._ring[: (k - first) * size]
            return
        out[:first] = self._buf[read : read + first]
        if first < k:
            out[first:k] = self._buf[: k - first]

    def pop(self, max_frames: int) -> np.ndarray:
        """Remove and return up to ``max_frames`` of the oldest audio as a new (k, channels)
        array. The playback path uses :meth:`pop_into` instead (no allocation)."""
        with self._lock:
            k = self._ready_locked(int(max_frames))
            out = np.empty((k, self.channels), dtype=np.float32)
            self._copy_out_locked(out, k)
            self._discard_oldest(k)
            return out

    def pop_into(self, out: np.ndarray, max_frames: int | None = None) -> int:
        """Move up to ``max_frames`` (default ``len(out)``) of the oldest audio into the
        preallocated ``out`` (shape (>= k, channels), float32); returns k."""
        limit = out.shape[0] if max_frames is None else min(int(max_frames), out.shape[0])
        with self._lock:
            k = self._ready_locked(limit)
            self._copy_out_locked(out, k)
            self._discard_oldest(k)
            return k

    def peek_into(self, out: np.ndarray, max_frames: int | None = None) -> int:
        """Copy up to ``max_frames`` of the oldest audio into ``out`` without removing it
        (0 while priming); follow with :meth:`discard`. Returns the frames copied."""
        limit = out.shape[0] if max_frames is None else min(int(max_frames), out.shape[0])
        with self._lock:
            k = self._ready_locked(limit)
            self._copy_out_locked(out, k)
            return k

    def newest_into(self, out: np.ndarray, max_frames: int) -> int:
        """Copy the newest ``max_frames`` frames pushed (read already or not: the ring still
        holds them) into ``out``, oldest first; returns how many (fewer at the start)."""
        with self._lock:
            k = int(min(int(max_frames), out.shape[0], self.pushed_frames, self._capacity))
            if k <= 0 or self._released:
                return 0
            end = self._read + self._count
            self._copy_out_locked(out, k, (end - k) % self._capacity)
            return k

    def discard(self, n: int) -> int:
        """Remove up to ``n`` of the oldest frames (after :meth:`peek_into`); returns how many."""
        with self._lock:
            k = min(max(int(n), 0), self._count)
            self._discard_oldest(k)
            return k

    def clear(self) -> None:
        """Drop everything buffered and wait to prime again (counters are kept)."""
        with self._lock:
            self._read = 0
            self._count = 0
            self._primed = False

    def release(self) -> None:
        """Give the ring's memory back for good (its owner closed, but under py4godot the
        owner object may be kept forever): empty from now on, pushes are ignored, counters
        are kept."""
        with self._lock:
            self._released = True
            self._buf = np.zeros((1, self.channels), dtype=np.float32)
            self._ring = self._buf.data.cast("B")
            self._out = self._out_bytes = None
            self._capacity = 1
            self._read = 0
            self._count = 0
            self._primed = False


# ----------------------------------------------------------------------------- video


def _check_size(width: int, height: int) -> None:
    if type(width) is int and type(height) is int:  # the per-frame fast path
        if 0 < width <= MAX_IMAGE_SIDE and 0 < height <= MAX_IMAGE_SIDE:
            return
    for name, value in (("width", width), ("height", height)):
        if not isinstance(value, int | np.integer) or not 0 < value <= MAX_IMAGE_SIDE:
            raise ValueError(f"{name} must be in 1..{MAX_IMAGE_SIDE}, got {value!r}")


def _as_uint8(data: Any) -> np.ndarray:
    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8:
            raise ValueError(f"expected uint8 image data, got dtype {data.dtype}")
        return data.reshape(-1)
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except TypeError:
        return np.asarray(data, dtype=np.uint8).reshape(-1)


def rgba_from_image_bytes(data: Any, width: int, height: int, fmt: str) -> np.ndarray:
    """View Godot ``Image`` bytes as uint8 RGBA of shape (height, width, 4).

    ``fmt`` is "RGBA8" (a zero-copy view of ``data`` when it is a buffer; read-only when
    ``data`` is ``bytes``) or "RGB8" (converted, alpha 255). A ``FORMAT_`` prefix and any case
    are accepted.
    """
    _check_size(width, height)
    key = fmt.upper().removeprefix("FORMAT_")
    if key == "RGBA8":
        bpp = 4
    elif key == "RGB8":
        bpp = 3
    else:
        raise ValueError(f"unsupported image format {fmt!r} (expected 'RGBA8' or 'RGB8')")
    flat = _as_uint8(data)
    expected = width * height * bpp
    if flat.size != expected:
        raise ValueError(f"{fmt} image of {width}x{height} needs {expected} bytes, got {flat.size}")
    if bpp == 4:
        return flat.reshape(height, width, 4)
    out = np.empty((height, width, 4), dtype=np.uint8)
    out[..., :3] = flat.reshape(height, width, 3)
    out[..., 3] = 255
    return out


def rgba_from_bgra(data: Any, width: int, height: int) -> np.ndarray:
    """Convert tightly packed BGRA/BGRX pixels (screen grabs) to a new (h, w, 4) RGBA array.

    ``data`` is a buffer or uint8 array of exactly ``width * height * 4`` bytes. The fourth
    byte is ignored (X11 leaves it 0): alpha is always 255, screen content is opaque.
    """
    _check_size(width, height)
    flat = _as_uint8(data)
    expected = width * height * 4
    if flat.size != expected:
        raise ValueError(f"BGRA image of {width}x{height} needs {expected} bytes, got {flat.size}")
    bgra = flat.reshape(height, width, 4)
    out = np.empty((height, width, 4), dtype=np.uint8)
    out[..., 0] = bgra[..., 2]
    out[..., 1] = bgra[..., 1]
    out[..., 2] = bgra[..., 0]
    out[..., 3] = 255
    return out


def _ffi_buffer(flat: np.ndarray) -> BufferLike:
    """A buffer over a flat C-contiguous uint8 array that the SDK can use without copying.

    The SDK copies a memoryview unless ``len(view.obj) == view.nbytes`` and needs a writable
    buffer (or real ``bytes``) to take its address, so: writable -> memoryview of the flat
    array; read-only over a whole ``bytes`` object -> that object; otherwise one copy.
    """
    if flat.flags.writeable:
        return flat.data
    base: Any = flat
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    if (
        isinstance(base, bytes)
        and len(base) == flat.nbytes
        and np.frombuffer(base, dtype=np.uint8).ctypes.data == flat.ctypes.data
    ):
        return base
    return flat.tobytes()


def video_frame_from_rgba(rgba: np.ndarray) -> rtc.VideoFrame:
    """Wrap (h, w, 4) uint8 RGBA as an RGBA :class:`rtc.VideoFrame`.

    Zero-copy for C-contiguous arrays that are writable or backed by a whole ``bytes``
    object: the frame then aliases ``rgba``, so do not modify the array until the frame has
    been captured (``VideoSource.capture_frame`` copies synchronously).
    """
    if not isinstance(rgba, np.ndarray) or rgba.ndim != 3 or rgba.shape[2] != 4:
        shape = getattr(rgba, "shape", None)
        raise ValueError(f"expected an RGBA array of shape (h, w, 4), got {shape}")
    if rgba.dtype != np.uint8:
        raise ValueError(f"expected uint8 RGBA, got dtype {rgba.dtype}")
    height, width = int(rgba.shape[0]), int(rgba.shape[1])
    _check_size(width, height)
    flat = np.ascontiguousarray(rgba).reshape(-1)
    return rtc.VideoFrame(width, height, RGBA, _ffi_buffer(flat))


def rgba_from_video_frame(frame: rtc.VideoFrame) -> np.ndarray:
    """Return the frame's pixels as a (h, w, 4) uint8 RGBA numpy view.

    Non-RGBA frames (I420 from a remote track, BGRA, ...) are converted by the SDK's native
    ``frame.convert``; the result views that converted frame's buffer.
    """
    if frame.type != RGBA:
        frame = frame.convert(RGBA)
    width, height = frame.width, frame.height
    _check_size(width, height)
    flat = np.frombuffer(frame.data, dtype=np.uint8)
    needed = width * height * 4
    if flat.size < needed:
        raise ValueError(f"RGBA frame {width}x{height} needs {needed} bytes, got {flat.size}")
    return flat[:needed].reshape(height, width, 4)


def chroma_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) of an I420 frame's U and V planes: half the luma size, rounded up."""
    return (width + 1) // 2, (height + 1) // 2


def i420_planes(frame: rtc.VideoFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Y, U and V planes of an I420 frame as (h, w), (ch, cw), (ch, cw) uint8 numpy views
    of its buffer (no copy; chroma is ceil(w/2) x ceil(h/2)).

    The SDK's video streams hand out tightly packed planes (``normalize_stride``), one after
    the other: Y, then U, then V.
    """
    if frame.type != I420:
        raise ValueError(f"expected an I420 frame, got {rtc.VideoBufferType.Name(frame.type)}")
    width, height = frame.width, frame.height
    _check_size(width, height)
    chroma_width, chroma_height = chroma_size(width, height)
    luma, chroma = width * height, chroma_width * chroma_height
    flat = np.frombuffer(frame.data, dtype=np.uint8)
    if flat.size < luma + 2 * chroma:
        raise ValueError(
            f"I420 frame {width}x{height} needs {luma + 2 * chroma} bytes, got {flat.size}"
        )
    y = flat[:luma].reshape(height, width)
    u = flat[luma : luma + chroma].reshape(chroma_height, chroma_width)
    v = flat[luma + chroma : luma + 2 * chroma].reshape(chroma_height, chroma_width)
    return y, u, v
