"""godot-livekit core: LiveKit rooms for Godot, engine-free.

Every class of the API reference is importable from here; enum values are class
constants (``LiveKitRoom.STATE_CONNECTED``) and signals are objects with
``connect/disconnect/emit`` (``room.connected.connect(fn)``).
"""

from __future__ import annotations

import logging

from .errors import LiveKitError, install_log_redaction
from .participant import LiveKitLocalParticipant, LiveKitParticipant, LiveKitRemoteParticipant
from .poller import pump_all
from .room import LiveKitRoom
from .signals import Signal

logging.getLogger(__name__).addHandler(logging.NullHandler())
install_log_redaction()

__all__ = [
    "LiveKitError",
    "LiveKitLocalParticipant",
    "LiveKitParticipant",
    "LiveKitRemoteParticipant",
    "LiveKitRoom",
    "Signal",
    "pump_all",
]
