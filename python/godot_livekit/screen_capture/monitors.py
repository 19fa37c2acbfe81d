"""Monitors through mss: opening a grabber and describing its monitors as API dictionaries."""

from __future__ import annotations

import sys
from typing import Any

import mss as mss_module


def new_mss(display: str | None = None) -> Any:
    """A new mss instance for the calling thread (mss objects are not shared across threads).

    mss >= 10.2 is required: its default Linux backend is XCB, which survives a closed
    display (mss 9 used Xlib, whose I/O error handler ends the process).
    """
    if sys.platform.startswith("linux") and display:
        return mss_module.MSS(display=display)
    return mss_module.MSS()


def monitor_dicts(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """mss monitors -> API dictionaries: primary first, with id 0.

    mss puts an "all monitors" bounding box at index 0; it is skipped unless it is the only
    entry (a display without RandR monitor information).
    """
    entries = list(raw[1:]) or list(raw[:1])
    ordered = [m for m in entries if m.get("is_primary")] + [
        m for m in entries if not m.get("is_primary")
    ]
    return [
        {
            "id": index,
            "name": str(m.get("name") or m.get("output") or f"Monitor {index}"),
            "x": int(m["left"]),
            "y": int(m["top"]),
            "width": int(m["width"]),
            "height": int(m["height"]),
            "scale": 1.0,  # mss works in physical pixels and reports no DPI scale
        }
        for index, m in enumerate(ordered)
    ]


def list_monitors(display: str | None) -> list[dict[str, Any]]:
    """The monitors of ``display`` (raises when it cannot be opened)."""
    with new_mss(display) as grabber:
        return monitor_dicts(grabber.monitors)
