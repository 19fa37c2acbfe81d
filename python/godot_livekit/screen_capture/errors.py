"""The two failures the capture code tells apart from any other error."""

from __future__ import annotations


class DisplayError(Exception):
    """The display cannot be reached: not set, refused, closed, or its library is missing."""


class WindowGone(Exception):
    """The captured window no longer exists."""
