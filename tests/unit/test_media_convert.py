"""Tests for godot_livekit.media_convert (engine-free, no server needed)."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest
from livekit import rtc

from godot_livekit.media_convert import (
    AudioJitterBuffer,
    AudioResampler,
    float_to_int16,
    int16_to_float,
    remix_channels,
    rgba_from_image_bytes,
    rgba_from_video_frame,
    video_frame_from_rgba,
)

# ----------------------------------------------------------------------------- float/int16


def test_float_to_int16_scales_rounds_and_clamps() -> None:
    samples = [0.0, 1.0, -1.0, 0.5, 2.0, -3.0, 1e-5, -0.25]
    out = float_to_int16(samples, 2, 4)
    assert out.dtype == np.int16
    assert out.tolist() == [0, 32767, -32767, 16384, 32767, -32767, 0, -8192]


@pytest.mark.parametrize("kind", ["ndarray", "float64", "bytes", "bytearray", "memoryview", "list"])
def test_float_to_int16_input_kinds(kind: str) -> None:
    ref = np.array([0.1, -0.2, 0.3, -0.4, 0.5, -0.6], dtype=np.float32)
    samples: object = {
        "ndarray": ref.reshape(3, 2),
        "float64": ref.astype(np.float64),
        "bytes": ref.tobytes(),
        "bytearray": bytearray(ref.tobytes()),
        "memoryview": memoryview(ref),
        "list": ref.tolist(),
    }[kind]
    out = float_to_int16(samples, 2, 3)  # type: ignore[arg-type]
    assert out.tolist() == np.rint(ref * 32767).astype(np.int16).tolist()


def test_float_to_int16_errors() -> None:
    with pytest.raises(ValueError, match="num_channels"):
        float_to_int16([0.0], 0, 1)
    with pytest.raises(ValueError, match="num_channels"):
        float_to_int16([0.0] * 9, 9, 1)
    with pytest.raises(ValueError, match="samples_per_channel"):
        float_to_int16([], 1, 0)
    with pytest.raises(ValueError, match=r"5 samples, expected 6"):
        float_to_int16([0.0] * 5, 2, 3)
    with pytest.raises(ValueError, match="multiple of 4"):
        float_to_int16(b"\x00" * 7, 1, 2)
    bad = np.zeros(8, dtype=np.float32)
    bad[5] = np.nan
    with pytest.raises(ValueError, match="NaN or Inf at sample 5"):
        float_to_int16(bad, 2, 4)
    bad[5] = 0.0
    bad[3] = -np.inf
    with pytest.raises(ValueError, match="NaN or Inf at sample 3"):
        float_to_int16(bad, 2, 4)


def test_int16_to_float_shape_and_round_trip() -> None:
    rng = np.random.default_rng(1)
    ref = rng.uniform(-1, 1, size=(480, 2)).astype(np.float32)
    ints = float_to_int16(ref, 2, 480)
    frame = rtc.AudioFrame(ints.tobytes(), 48000, 2, 480)
    back = int16_to_float(frame.data, 2)
    assert back.dtype == np.float32
    assert back.shape == (480, 2)
    np.testing.assert_allclose(back, ref, atol=1e-4)
    extremes = int16_to_float(np.array([-32768, 32767], dtype=np.int16), 1)
    assert extremes.min() >= -1.0 and extremes.max() <= 1.0
    with pytest.raises(ValueError, match="channels"):
        int16_to_float(np.zeros(3, dtype=np.int16), 2)


def test_remix_channels() -> None:
    stereo = np.array([[0.2, 0.4], [-1.0, 1.0], [0.5, 0.5]], dtype=np.float32)
    np.testing.assert_allclose(remix_channels(stereo, 1), [[0.3], [0.0], [0.5]])
    mono = np.array([[0.1], [0.2]], dtype=np.float32)
    assert remix_channels(mono, 2).tolist() == np.array([[0.1, 0.1], [0.2, 0.2]], "f").tolist()
    assert remix_channels(stereo, 2) is stereo
    quad = remix_channels(stereo, 4)
    assert quad.shape == (3, 4)
    np.testing.assert_array_equal(quad[:, :2], stereo)
    np.testing.assert_array_equal(quad[:, 2:], stereo)
    six = np.arange(12, dtype=np.float32).reshape(2, 6)
    np.testing.assert_array_equal(remix_channels(six, 2), six[:, :2])
    ints = np.array([[1, 2], [-3, -4]], dtype=np.int16)
    down = remix_channels(ints, 1)
    assert down.dtype == np.int16 and down.ravel().tolist() == [2, -4]
    with pytest.raises(ValueError):
        remix_channels(stereo, 0)
    with pytest.raises(ValueError):
        remix_channels(stereo.ravel(), 1)


# ----------------------------------------------------------------------------- resampler


def _peak_hz(mono: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(mono.size)))
    return float(np.fft.rfftfreq(mono.size, 1.0 / rate)[int(np.argmax(spectrum))])


@pytest.mark.parametrize("channels", [1, 2])
def test_resampler_44100_to_48000_keeps_pitch_and_length(channels: int) -> None:
    in_rate, out_rate, seconds = 44100, 48000, 1.0
    t = np.arange(int(in_rate * seconds)) / in_rate
    sine = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    frames = np.repeat(sine[:, None], channels, axis=1)
    ints = float_to_int16(frames, channels, sine.size)

    resampler = AudioResampler(in_rate, out_rate, channels)
    assert not resampler.is_identity
    chunk = in_rate // 100 * channels  # 10 ms
    parts = [resampler.push(ints[i : i + chunk]) for i in range(0, ints.size, chunk)]
    parts.append(resampler.flush())
    out = np.concatenate(parts)
    assert out.dtype == np.int16
    assert out.size % channels == 0
    got_frames = out.size // channels
    assert abs(got_frames - out_rate * seconds) <= out_rate * 0.005  # within 5 ms

    per_channel = out.reshape(-1, channels).astype(np.float64)
    for c in range(channels):
        assert abs(_peak_hz(per_channel[:, c], out_rate) - 440.0) <= 2.0


def test_resampler_identity_and_errors() -> None:
    resampler = AudioResampler(48000, 48000, 2)
    assert resampler.is_identity
    data = np.arange(960, dtype=np.int16)
    out = resampler.push(data)
    np.testing.assert_array_equal(out, data)
    assert resampler.flush().size == 0
    with pytest.raises(ValueError, match="channels"):
        resampler.push(np.zeros(3, dtype=np.int16))
    with pytest.raises(ValueError, match="int16"):
        resampler.push(np.zeros(4, dtype=np.float32))
    with pytest.raises(ValueError):
        AudioResampler(0, 48000)


def test_resampler_accepts_readonly_bytes() -> None:
    resampler = AudioResampler(16000, 48000, 1)
    ints = float_to_int16(np.zeros(1600, dtype=np.float32), 1, 1600)
    out = np.concatenate([resampler.push(ints.tobytes()), resampler.flush()])
    assert abs(out.size - 4800) <= 48 * 5


# ----------------------------------------------------------------------------- jitter buffer


def _ramp(start: int, n: int, channels: int = 2) -> np.ndarray:
    col = np.arange(start, start + n, dtype=np.float32)[:, None]
    return np.repeat(col, channels, axis=1) * np.array([1.0, -1.0], dtype=np.float32)[:channels]


def test_jitter_buffer_order_across_wraparound() -> None:
    # capacity 100 frames; nothing is ever dropped (max delay == capacity)
    jb = AudioJitterBuffer(1000, 2, target_delay_ms=50, max_delay_ms=100, capacity_ms=100)
    assert jb.capacity_frames == 100
    jb.push(_ramp(0, 60))
    assert jb.pop(50).shape == (50, 2)  # read index now 50, 10 buffered
    jb.push(_ramp(60, 70))  # wraps: writes 60..99 then 0..29 of the ring
    assert jb.buffered_frames == 80
    out = jb.pop(80)
    np.testing.assert_array_equal(out, _ramp(50, 80))
    assert jb.buffered_frames == 0
    assert jb.dropped_frames == 0


def test_jitter_buffer_drops_oldest_to_target() -> None:
    jb = AudioJitterBuffer(1000, 2, target_delay_ms=40, max_delay_ms=120, capacity_ms=1000)
    jb.push(_ramp(0, 120))
    assert jb.buffered_frames == 120 and jb.dropped_frames == 0
    jb.push(_ramp(120, 1))  # 121 > max: keep the newest 40
    assert jb.buffered_frames == 40
    assert jb.dropped_frames == 81
    np.testing.assert_array_equal(jb.pop(40), _ramp(81, 40))


def test_jitter_buffer_push_larger_than_capacity() -> None:
    jb = AudioJitterBuffer(1000, 1, target_delay_ms=10, max_delay_ms=50, capacity_ms=50)
    jb.push(np.arange(500, dtype=np.float32))  # mono may be 1-D
    assert jb.buffered_frames == 10
    assert jb.dropped_frames == 490
    np.testing.assert_array_equal(jb.pop(10)[:, 0], np.arange(490, 500, dtype=np.float32))


def test_jitter_buffer_latency_bounded_with_slow_consumer() -> None:
    rate = 48000
    jb = AudioJitterBuffer(rate, 2, target_delay_ms=40, max_delay_ms=120)
    chunk = rate // 100  # 10 ms
    pushed = popped = 0
    debt = 0.0
    max_seen = 0.0
    last = -1.0
    for i in range(1000):  # 10 s of audio
        jb.push(_ramp(i * chunk, chunk))
        pushed += chunk
        debt += chunk * 0.98  # consumer runs 2% slow
        want = int(debt)
        debt -= want
        out = jb.pop(want)
        popped += out.shape[0]
        if out.shape[0]:
            assert out[0, 0] > last and np.all(np.diff(out[:, 0]) > 0)
            last = float(out[-1, 0])
        max_seen = max(max_seen, jb.buffered_ms)
        assert jb.buffered_ms <= 120.0
    assert max_seen <= 120.0
    assert jb.dropped_frames > 0
    assert pushed == popped + jb.dropped_frames + jb.buffered_frames
    # 2% of 10 s is ~200 ms of surplus: it must have been dropped, not buffered
    assert jb.dropped_frames >= int(0.02 * pushed) - 120 * rate // 1000


def test_jitter_buffer_priming_after_underrun() -> None:
    jb = AudioJitterBuffer(1000, 2, target_delay_ms=40, max_delay_ms=120)  # prime = 20 frames
    assert jb.prime_ms == 20.0
    jb.push(_ramp(0, 10))
    assert jb.pop(5).shape == (0, 2)  # not primed yet
    jb.push(_ramp(10, 10))
    np.testing.assert_array_equal(jb.pop(15), _ramp(0, 15))
    assert jb.underruns == 0
    out = jb.pop(10)  # only 5 left: a short read, not an underrun
    np.testing.assert_array_equal(out, _ramp(15, 5))
    assert jb.underruns == 0 and jb.primed
    assert jb.pop(10).shape == (0, 2)  # empty: underrun
    assert jb.underruns == 1 and not jb.primed
    jb.push(_ramp(20, 5))
    assert jb.pop(5).shape == (0, 2)  # waiting to re-prime even though data exists
    assert jb.underruns == 1
    jb.push(_ramp(25, 15))
    np.testing.assert_array_equal(jb.pop(20), _ramp(20, 20))
    assert jb.primed
    jb.push(_ramp(40, 30))
    jb.clear()
    assert jb.buffered_frames == 0 and not jb.primed
    assert jb.pop(1).shape == (0, 2)


def test_jitter_buffer_converts_int16_into_the_ring() -> None:
    jb = AudioJitterBuffer(1000, 2, target_delay_ms=50, max_delay_ms=100, capacity_ms=100)
    pcm = (np.arange(240, dtype=np.int16) * 100 - 12000).astype(np.int16)  # 120 frames
    jb.push_int16(pcm[:160])
    jb.pop(70)  # read index 70: the next push wraps around the 100-frame ring
    jb.push_int16(pcm[160:].tobytes())  # bytes work too (an SDK frame's data)
    out = np.full((128, 2), 7.0, np.float32)
    taken = jb.pop_into(out)
    assert taken == 50
    np.testing.assert_array_equal(out[:taken], int16_to_float(pcm, 2)[70:])
    assert (out[taken:] == 7.0).all()  # nothing past what was taken is touched
    with pytest.raises(ValueError, match="split"):
        jb.push_int16(np.zeros(3, np.int16))


def test_jitter_buffer_peek_then_discard() -> None:
    jb = AudioJitterBuffer(1000, 2, target_delay_ms=40, max_delay_ms=120, prime_ms=0)
    jb.push(_ramp(0, 30))
    scratch = np.zeros((64, 2), np.float32)
    assert jb.peek_into(scratch, 20) == 20
    np.testing.assert_array_equal(scratch[:20], _ramp(0, 20))
    assert jb.buffered_frames == 30  # a peek removes nothing
    assert jb.discard(25) == 25 and jb.buffered_frames == 5
    np.testing.assert_array_equal(jb.pop(5), _ramp(25, 5))


def test_jitter_buffer_rejects_bad_input() -> None:
    jb = AudioJitterBuffer(48000, 2)
    with pytest.raises(ValueError, match="shape"):
        jb.push(np.zeros((10, 3), dtype=np.float32))
    with pytest.raises(ValueError):
        AudioJitterBuffer(48000, 2, target_delay_ms=200, max_delay_ms=100)
    with pytest.raises(ValueError):
        AudioJitterBuffer(48000, 0)


def test_jitter_buffer_threads() -> None:
    rate = 48000
    jb = AudioJitterBuffer(rate, 2, target_delay_ms=40, max_delay_ms=120)
    chunk = 480
    total_chunks = 400
    errors: list[BaseException] = []
    received: list[np.ndarray] = []
    done = threading.Event()

    def producer() -> None:
        try:
            for i in range(total_chunks):
                jb.push(_ramp(i * chunk, chunk))
                if i % 8 == 0:
                    time.sleep(0.0005)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    def consumer() -> None:
        try:
            while not done.is_set() or jb.buffered_frames:
                out = jb.pop(512)
                if out.shape[0]:
                    received.append(out.copy())
                elif done.is_set() and not jb.primed:
                    break  # tail shorter than the priming threshold
                else:
                    time.sleep(0.0002)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert not any(t.is_alive() for t in threads)
    assert not errors
    values = np.concatenate(received) if received else np.empty((0, 2), np.float32)
    assert values.shape[0] > 0
    assert values.shape[0] + jb.dropped_frames + jb.buffered_frames == total_chunks * chunk
    assert np.all(np.diff(values[:, 0]) > 0)  # strictly increasing: order kept, no repeats
    np.testing.assert_array_equal(values[:, 1], -values[:, 0])  # channels never torn


# ----------------------------------------------------------------------------- video


def test_rgb8_to_rgba_exact() -> None:
    rgb = bytes(range(4 * 2 * 3))  # 4x2 RGB8
    rgba = rgba_from_image_bytes(rgb, 4, 2, "RGB8")
    assert rgba.shape == (2, 4, 4) and rgba.dtype == np.uint8
    expected = bytearray()
    for i in range(8):
        expected += bytes([3 * i, 3 * i + 1, 3 * i + 2, 255])
    assert rgba.tobytes() == bytes(expected)


def test_rgba8_is_zero_copy_view() -> None:
    buf = bytearray(range(32))
    rgba = rgba_from_image_bytes(buf, 4, 2, "RGBA8")
    assert rgba.shape == (2, 4, 4)
    buf[0] = 99
    assert rgba[0, 0, 0] == 99
    assert rgba_from_image_bytes(bytes(32), 4, 2, "FORMAT_RGBA8").shape == (2, 4, 4)


def test_image_bytes_errors() -> None:
    with pytest.raises(ValueError, match=r"needs 32 bytes, got 31"):
        rgba_from_image_bytes(bytes(31), 4, 2, "RGBA8")
    with pytest.raises(ValueError, match=r"needs 24 bytes, got 32"):
        rgba_from_image_bytes(bytes(32), 4, 2, "RGB8")
    with pytest.raises(ValueError, match="width"):
        rgba_from_image_bytes(b"", 0, 2, "RGBA8")
    with pytest.raises(ValueError, match="height"):
        rgba_from_image_bytes(b"", 4, -1, "RGBA8")
    with pytest.raises(ValueError, match="width"):
        rgba_from_image_bytes(b"", 20000, 1, "RGBA8")
    with pytest.raises(ValueError, match="format"):
        rgba_from_image_bytes(bytes(8), 1, 1, "RGBAF")
    with pytest.raises(ValueError, match="shape"):
        video_frame_from_rgba(np.zeros((4, 4, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        video_frame_from_rgba(np.zeros((4, 4, 4), dtype=np.float32))


def _quadrants(size: int = 64) -> tuple[np.ndarray, dict[tuple[int, int], tuple[int, ...]]]:
    half = size // 2
    colours = {
        (0, 0): (255, 0, 0, 255),
        (0, 1): (0, 255, 0, 255),
        (1, 0): (0, 0, 255, 255),
        (1, 1): (255, 255, 255, 255),
    }
    img = np.empty((size, size, 4), dtype=np.uint8)
    for (qy, qx), colour in colours.items():
        img[qy * half : (qy + 1) * half, qx * half : (qx + 1) * half] = colour
    return img, colours


def test_video_frame_round_trip_through_i420() -> None:
    img, colours = _quadrants(64)
    frame = video_frame_from_rgba(img)
    assert frame.type == rtc.VideoBufferType.RGBA
    assert (frame.width, frame.height) == (64, 64)
    np.testing.assert_array_equal(rgba_from_video_frame(frame), img)

    i420 = frame.convert(rtc.VideoBufferType.I420)
    assert i420.type == rtc.VideoBufferType.I420
    back = rgba_from_video_frame(i420)
    assert back.shape == (64, 64, 4) and back.dtype == np.uint8
    for (qy, qx), colour in colours.items():
        centre = back[qy * 32 + 16, qx * 32 + 16].astype(int)
        assert np.all(np.abs(centre[:3] - np.array(colour[:3])) <= 12), (colour, centre)


def test_video_frame_zero_copy_and_readonly_input() -> None:
    img, _ = _quadrants(16)
    frame = video_frame_from_rgba(img)
    img[0, 0] = (1, 2, 3, 4)  # the frame aliases a writable contiguous array
    assert bytes(frame.data[:4]) == b"\x01\x02\x03\x04"

    raw = _quadrants(16)[0].tobytes()
    ro = rgba_from_image_bytes(raw, 16, 16, "RGBA8")
    assert not ro.flags.writeable
    frame2 = video_frame_from_rgba(ro)
    np.testing.assert_array_equal(
        rgba_from_video_frame(frame2.convert(rtc.VideoBufferType.BGRA)), ro
    )

    view = img[:, ::2]  # non-contiguous: copied
    frame3 = video_frame_from_rgba(view)
    np.testing.assert_array_equal(rgba_from_video_frame(frame3), view)


def test_a_released_jitter_buffer_keeps_no_audio_and_its_counters() -> None:
    """A closed stream may be kept forever under py4godot: its second of ring goes back."""
    buffer = AudioJitterBuffer(48000, 2, target_delay_ms=40, max_delay_ms=120)
    buffer.push(np.ones((4800, 2), np.float32))
    assert buffer.pop(480).shape == (480, 2)
    pushed = buffer.pushed_frames
    buffer.release()
    assert buffer.buffered_frames == 0 and buffer.capacity_frames == 1
    buffer.push(np.ones((4800, 2), np.float32))  # ignored
    assert buffer.buffered_frames == 0 and buffer.pop(480).shape == (0, 2)
    assert buffer.pushed_frames == pushed


def test_the_jitter_buffer_never_lets_go_of_the_gil_under_its_lock() -> None:
    """numpy releases the GIL for work on more than 500 elements (a 10 ms stereo frame is
    960). If that happened under the ring's lock, the other thread would take the GIL, find the
    lock held, block, and then wait up to the switch interval for the GIL: a stalled game
    frame. With the switch interval made huge, the GIL changes hands only where a thread lets
    go of it, so the main thread runs exactly at those points: it must never find the lock
    held there."""
    buffer = AudioJitterBuffer(48000, 2, target_delay_ms=40, max_delay_ms=120)
    frame = (np.arange(960) % 2000 - 1000).astype(np.int16)  # 10 ms of stereo
    stereo = np.zeros((480, 2), np.float32)
    out = np.zeros((800, 2), np.float32)
    level = np.zeros((480, 2), np.float32)
    stop = threading.Event()

    def media_thread() -> None:  # writes and reads, as the runtime thread may (push on arrival)
        while not stop.is_set():
            buffer.push_int16(frame)
            buffer.push(stereo[::-1])  # a strided float array
            buffer.pop_into(out)
            buffer.peek_into(out, 700)
            buffer.newest_into(level, 480)

    tries = held = 0
    previous = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    worker = threading.Thread(target=media_thread)
    worker.start()
    try:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            tries += 1
            if buffer._lock.acquire(blocking=False):
                buffer._lock.release()
            else:
                held += 1
            time.sleep(0)  # lets go of the GIL: the worker runs until it does
    finally:
        stop.set()
        sys.setswitchinterval(previous)
        worker.join(5)
    assert not worker.is_alive()
    assert tries > 100  # the worker let go of the GIL often (its numpy work outside the lock)
    assert held == 0, f"the lock was held at {held} of {tries} GIL hand-overs"
