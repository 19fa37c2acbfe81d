"""What a capture grabs: the primary monitor, a monitor rectangle or a window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]  # (height, width, 4) RGBA
Rect = tuple[int, int, int, int]  # x, y, width, height
TargetKind = Literal["primary", "monitor", "window"]


@dataclass(frozen=True)
class CaptureTarget:
    """What to capture, and on which X display (None: the platform's only screen)."""

    kind: TargetKind
    display: str | None
    rect: Rect | None = None  # a monitor's rectangle, or a window's when it was listed
    window_id: int = 0
    name: str = ""

    def describe(self) -> str:
        """A short human description for logs and thread names."""
        if self.kind == "window":
            what = f"window {self.window_id:#x} {self.name!r}"
        elif self.kind == "monitor":
            what = f"monitor {self.name!r}"
        else:
            what = "primary monitor"
        return f"{what} on display {self.display}" if self.display else what


def clip(rect: Rect, bounds: Mapping[str, int]) -> dict[str, int] | None:
    """``rect`` intersected with the mss region ``bounds``; None when nothing is left."""
    x, y, width, height = rect
    left = max(x, bounds["left"])
    top = max(y, bounds["top"])
    right = min(x + width, bounds["left"] + bounds["width"])
    bottom = min(y + height, bounds["top"] + bounds["height"])
    if right <= left or bottom <= top:
        return None
    return {"left": left, "top": top, "width": right - left, "height": bottom - top}
