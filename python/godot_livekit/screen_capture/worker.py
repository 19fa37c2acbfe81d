"""The capture thread: grabs at the set frame rate into a one-frame slot (newest wins).

The thread never touches the API object: it holds only the target and the slot, so a
capture dropped by plain Python stops its thread through a finalizer. py4godot never
collects script instances, so there ``LiveKitScreenCapture.close()`` is what stops it.
"""

from __future__ import annotations

import logging
import threading
import time

from ..signals import notify_activity
from .errors import WindowGone
from .grabber import Grabber
from .target import CaptureTarget, Frame

logger = logging.getLogger(__name__)

STOP_JOIN_TIMEOUT = 2.0  # seconds stop()/close() wait for the capture thread
RETRY_INTERVAL = 1.0  # seconds between attempts after a capture error (e.g. display lost)


class CaptureWorker:
    """The capture thread and its one-frame slot."""

    def __init__(self, target: CaptureTarget, frame_rate: float, paused: bool) -> None:
        self.target = target
        self.frame_rate = frame_rate
        self._cond = threading.Condition()
        self._paused = paused
        self._stopping = False
        self._frame: Frame | None = None
        self._sequence = 0
        self.thread = threading.Thread(
            target=self._run, name=f"LiveKitScreenCapture {target.describe()}", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def set_paused(self, paused: bool) -> None:
        with self._cond:
            self._paused = paused
            self._cond.notify_all()

    def stop(self, timeout: float = STOP_JOIN_TIMEOUT) -> bool:
        """End the thread, join it for at most ``timeout`` and drop the unpolled frame.

        Returns True when the thread has ended (or never started).
        """
        with self._cond:
            self._stopping = True
            self._frame = None
            self._cond.notify_all()
        if self.thread.ident is None or self.thread is threading.current_thread():
            return True
        self.thread.join(timeout)
        if self.thread.is_alive():
            if timeout > 0:
                logger.warning(
                    "screen capture thread of %s did not end within %.1f s",
                    self.target.describe(),
                    timeout,
                )
            return False
        return True

    def take(self, seen: int) -> tuple[int, Frame] | None:
        """The newest frame and its sequence number, if it is newer than ``seen``."""
        with self._cond:
            if self._sequence == seen or self._frame is None:
                return None
            return self._sequence, self._frame

    def _publish(self, frame: Frame) -> None:
        with self._cond:
            if self._paused or self._stopping:
                return  # paused while grabbing: this frame is not delivered
            self._frame = frame  # replaces an unpolled older frame: never a queue
            self._sequence += 1
        notify_activity()

    def _wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` unless stopped; True when stopping."""
        with self._cond:
            return self._cond.wait_for(lambda: self._stopping, timeout=max(seconds, 0.0))

    def _wait_while_paused(self) -> bool:
        """Block while paused; True when stopping."""
        with self._cond:
            self._cond.wait_for(lambda: self._stopping or not self._paused)
            return self._stopping

    def _stopping_now(self) -> bool:
        with self._cond:
            return self._stopping

    def _run(self) -> None:
        grabber = Grabber(self.target)
        try:
            self._loop(grabber)
        except Exception:
            logger.exception("screen capture thread of %s crashed", self.target.describe())
        finally:
            grabber.close()

    def _loop(self, grabber: Grabber) -> None:
        """Grab on schedule until stopped or the window is gone; retry after errors."""
        failing = False
        hidden = False
        next_due = time.monotonic()
        while True:
            if self._paused:
                if self._wait_while_paused():
                    return
                next_due = time.monotonic()
            if self._stopping_now():
                return
            try:
                frame = grabber.grab()
            except WindowGone:
                logger.warning("screen capture: %s is gone; no more frames", self.target.describe())
                return
            except Exception as error:
                if not failing:
                    logger.error(
                        "screen capture of %s failed: %s (retrying every %.0f s)",
                        self.target.describe(),
                        error,
                        RETRY_INTERVAL,
                    )
                failing = True
                grabber.close()
                if self._wait(RETRY_INTERVAL):
                    return
                next_due = time.monotonic()
                continue
            if failing:
                logger.info("screen capture of %s recovered", self.target.describe())
                failing = False
            if frame is None:
                if not hidden:
                    logger.debug("%s is not visible: waiting", self.target.describe())
                hidden = True
            else:
                hidden = False
                self._publish(frame)
            next_due = max(next_due + 1.0 / self.frame_rate, time.monotonic())
            if self._wait(next_due - time.monotonic()):
                return


def stop_worker(holder: list[CaptureWorker | None]) -> None:
    """Finalizer of a dropped capture: stop its thread without waiting."""
    worker, holder[0] = holder[0], None
    if worker is not None:
        worker.stop(timeout=0.0)
