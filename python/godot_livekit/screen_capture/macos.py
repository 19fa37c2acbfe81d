"""macOS: no window listing or window capture, on purpose.

Listing windows on macOS means ``CGWindowListCopyWindowInfo``, which returns CoreFoundation
arrays of dictionaries. Reading them takes either pyobjc (``pyobjc-framework-Quartz``, a large
dependency for one call) or a hand-made ctypes binding of CoreFoundation, the kind of binding
this package stopped maintaining on X11. Since macOS 10.15 the list also comes without window
names unless the Screen Recording permission is granted. Monitors are captured through mss
(CoreGraphics) instead; ``check_permissions()`` reports the permission.
"""

from __future__ import annotations

import logging
from typing import Any

from .errors import DisplayError

logger = logging.getLogger(__name__)

WHY = "window listing is not implemented on macOS; capture a monitor instead"


def list_windows() -> list[dict[str, Any]]:
    """Always [] (logged once per call at INFO)."""
    logger.info("get_windows(): %s", WHY)
    return []


def window_tracking_unsupported() -> DisplayError:
    """The error a window capture reports on macOS."""
    return DisplayError(f"window capture: {WHY}")
