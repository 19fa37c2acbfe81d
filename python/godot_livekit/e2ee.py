"""End-to-end encryption: options, key provider, frame cryptors and the manager.

:class:`LiveKitE2eeOptions` goes into ``connect_to_room(url, token, {"e2ee": options})``.
:meth:`LiveKitRoom.get_e2ee_manager` answers the manager of that room; it, its key provider
and its frame cryptors always act on the room's *current* session, and answer defaults
(``b""``, ``False``, ``[]``, no-op) when the room is not connected or connected without
E2EE. Nothing here raises because of the room's state; wrong argument types or values
raise ``TypeError``/``ValueError``.

Every SDK call made here is a synchronous FFI request that never touches the asyncio loop
(``livekit.rtc.e2ee`` only builds a protobuf request and calls ``FfiClient.request``), so
the calls run directly on the caller's thread and return the SDK's answer at once.

Key material (shared keys, per-participant keys, ratcheted keys) is never logged, never
put into an error message and never shown by ``repr``.
"""

from __future__ import annotations

import builtins
import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any

from livekit import rtc
from livekit.rtc import e2ee as sdk_e2ee
from livekit.rtc._ffi_client import FfiClient

if TYPE_CHECKING:
    from .session import RoomContext

logger = logging.getLogger(__name__)

KEY_RING_SIZE = sdk_e2ee.DEFAULT_KEY_RING_SIZE
"""Key indices are 0 .. KEY_RING_SIZE - 1 (the SDK's default key ring)."""
NO_E2EE_SESSION = (
    "not bound to a room connected with E2EE, nothing done "
    "(give the first key in LiveKitE2eeOptions before connecting)"
)
STALE_CRYPTOR = "not bound: its track or session is gone, nothing done"

_INT32_MAX = 2**31 - 1


class SendGate:
    """Holds a media source's frames back while a track it feeds is being published in an
    encrypted room. The SDK attaches a track's encryptor only as publishing completes
    (rust-sdks ``LocalParticipant::publish_track`` calls the room's local-track-published
    handler, which sets up the sender's frame cryptor), and a frame that leaves before that
    leaves in clear: a listener whose decryptor is not attached yet plays it."""

    __slots__ = ("_holds", "_lock", "withheld_frames")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holds = 0
        self.withheld_frames = 0
        """Frames held back (dropped) so far."""

    def hold(self) -> None:
        with self._lock:
            self._holds += 1

    def release(self) -> None:
        with self._lock:
            self._holds = max(0, self._holds - 1)

    def passes(self) -> bool:
        """True when a frame may go to the SDK now (counts the ones that may not)."""
        if self._holds == 0:
            return True
        self.withheld_frames += 1
        return False


# -- argument checks (messages name the argument, never its bytes) ------------------------


def _as_key_bytes(value: Any, what: str, allow_empty: bool = False) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
    else:
        raise TypeError(f"{what} must be bytes (PackedByteArray), got {type(value).__name__}")
    if not data and not allow_empty:
        raise ValueError(f"{what} must not be empty")
    return data


def _as_int(value: Any, what: str, minimum: int, maximum: int = _INT32_MAX) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    if not minimum <= value <= maximum:
        raise ValueError(f"{what} must be between {minimum} and {maximum}, got {value}")
    return value


def _key_index(value: Any) -> int:
    return _as_int(value, "key_index", 0, KEY_RING_SIZE - 1)


def _identity(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"participant_identity must be a string, got {type(value).__name__}")
    if not value:
        raise ValueError("participant_identity must not be empty")
    return value


# -- options --------------------------------------------------------------------------------


class LiveKitE2eeOptions:
    """E2EE settings for ``connect_to_room(..., {"e2ee": options})``.

    With a shared key every participant encrypts and decrypts with that key; without one
    (``b""``, the default) keys are per participant and are set after connecting with
    ``get_e2ee_manager().get_key_provider().set_key(identity, key)``.
    """

    ENCRYPTION_NONE = 0
    ENCRYPTION_GCM = 1
    ENCRYPTION_CUSTOM = 2

    _ENCRYPTION_TYPES = (ENCRYPTION_NONE, ENCRYPTION_GCM, ENCRYPTION_CUSTOM)

    def __init__(self) -> None:
        self._encryption_type = self.ENCRYPTION_GCM
        self._shared_key = b""
        self._ratchet_salt = bytes(sdk_e2ee.DEFAULT_RATCHET_SALT)
        self._ratchet_window_size = sdk_e2ee.DEFAULT_RATCHET_WINDOW_SIZE
        self._failure_tolerance = sdk_e2ee.DEFAULT_FAILURE_TOLERANCE

    def set_encryption_type(self, type: int) -> None:  # "type": the reference's name
        """One of ``ENCRYPTION_NONE``, ``ENCRYPTION_GCM`` (default), ``ENCRYPTION_CUSTOM``.

        NONE connects with a key provider but publishes unencrypted tracks. The SDK's
        frame cryptors always use AES-GCM: CUSTOM only changes what tracks advertise."""
        if isinstance(type, bool) or not isinstance(type, int):
            raise TypeError(f"encryption type must be an int, got {builtins.type(type).__name__}")
        if type not in self._ENCRYPTION_TYPES:
            raise ValueError(
                f"unknown encryption type {type} (use ENCRYPTION_NONE=0, ENCRYPTION_GCM=1"
                " or ENCRYPTION_CUSTOM=2)"
            )
        self._encryption_type = type

    def get_encryption_type(self) -> int:
        return self._encryption_type

    def set_shared_key(self, key: bytes) -> None:
        """The key every participant shares; ``b""`` means per-participant keys."""
        self._shared_key = _as_key_bytes(key, "shared key", allow_empty=True)

    def get_shared_key(self) -> bytes:
        return self._shared_key

    def set_ratchet_salt(self, salt: bytes) -> None:
        """Salt of the key derivation (default: the SDK's ``b"LKFrameEncryptionKey"``)."""
        self._ratchet_salt = _as_key_bytes(salt, "ratchet salt")

    def get_ratchet_salt(self) -> bytes:
        return self._ratchet_salt

    def set_ratchet_window_size(self, size: int) -> None:
        """How many ratchet steps a receiver tries after a decryption failure (default 16)."""
        self._ratchet_window_size = _as_int(size, "ratchet window size", 0)

    def get_ratchet_window_size(self) -> int:
        return self._ratchet_window_size

    def set_failure_tolerance(self, tolerance: int) -> None:
        """Decryption failures tolerated before a key counts as invalid (default -1:
        unlimited). Only with a tolerance of 0 or more does a wrong or missing key show up
        as ``e2ee_state_changed(participant, DECRYPTION_FAILED)``; with -1 the SDK keeps
        retrying silently."""
        self._failure_tolerance = _as_int(tolerance, "failure tolerance", -1)

    def get_failure_tolerance(self) -> int:
        return self._failure_tolerance

    def __repr__(self) -> str:
        shared = "set" if self._shared_key else "none"
        return (
            f"<LiveKitE2eeOptions encryption_type={self._encryption_type} shared_key={shared}"
            f" ratchet_window_size={self._ratchet_window_size}"
            f" failure_tolerance={self._failure_tolerance}>"
        )


def sdk_e2ee_options(options: LiveKitE2eeOptions) -> rtc.E2EEOptions:
    """A fresh SDK options object (later changes to ``options`` do not leak into it)."""
    provider = rtc.KeyProviderOptions(
        shared_key=options._shared_key or None,
        ratchet_salt=options._ratchet_salt,
        ratchet_window_size=options._ratchet_window_size,
        failure_tolerance=options._failure_tolerance,
    )
    encryption = rtc.EncryptionType.ValueType(options._encryption_type)
    return rtc.E2EEOptions(key_provider_options=provider, encryption_type=encryption)


# -- session lookup -------------------------------------------------------------------------


def is_encrypted(room: RoomContext | None) -> bool:
    """True while ``room`` is connected with end-to-end encryption."""
    return _sdk_manager(room)[1] is not None


def _sdk_manager(
    room: RoomContext | None,
) -> tuple[rtc.Room | None, rtc.E2EEManager | None]:
    """The room's live SDK room and its E2EE manager, or ``(room, None)`` when the room
    is not connected or was connected without E2EE."""
    session = room.session if room is not None else None
    sdk_room = session.sdk_room if session is not None else None
    if sdk_room is None:
        return None, None
    handle = getattr(sdk_room, "_ffi_handle", None)
    if handle is None or handle.disposed or getattr(FfiClient, "_ffi_disposed", False):
        return None, None  # a request on a dropped handle would fail (and log the request)
    manager = getattr(sdk_room, "_e2ee_manager", None)
    if manager is None or manager.options is None:
        return sdk_room, None
    return sdk_room, manager


def _sdk_key_provider(room: RoomContext | None) -> rtc.KeyProvider | None:
    _, manager = _sdk_manager(room)
    if manager is None:
        return None
    try:
        # the SDK only creates a key provider when E2EE options were given
        return manager.key_provider
    except AttributeError:
        return None


def _call(what: str, default: Any, fn: Any, *args: Any) -> Any:
    """Run one SDK E2EE request; a failure is logged by name only and answers ``default``.

    Arguments are never formatted into the log: they may be keys.
    """
    try:
        return fn(*args)
    except Exception as error:
        logger.warning("E2EE %s failed (%s)", what, type(error).__name__)
        return default


# -- key provider ---------------------------------------------------------------------------


class LiveKitKeyProvider:
    """Shared and per-participant keys of a room's E2EE session (see the module docs)."""

    def __init__(self, room: RoomContext | None = None) -> None:
        self._context = room

    def _provider(self, what: str) -> rtc.KeyProvider | None:
        provider = _sdk_key_provider(self._context)
        if provider is None:
            # a key set now would be lost without a word: say so (reads answer defaults)
            logger.warning("%s: %s", what, NO_E2EE_SESSION)
        return provider

    def set_shared_key(self, key: bytes, key_index: int = 0) -> None:
        """Set the shared key at ``key_index`` (the room must use a shared key)."""
        key = _as_key_bytes(key, "key")
        key_index = _key_index(key_index)
        provider = self._provider("set_shared_key")
        if provider is not None:
            _call("set_shared_key", None, provider.set_shared_key, key, key_index)

    def get_shared_key(self, key_index: int = 0) -> bytes:
        """The shared key at ``key_index`` (``b""`` when there is none)."""
        key_index = _key_index(key_index)
        provider = self._provider("get_shared_key")
        if provider is None:
            return b""
        return bytes(_call("get_shared_key", b"", provider.export_shared_key, key_index))

    def ratchet_shared_key(self, key_index: int = 0) -> bytes:
        """Derive the next shared key at ``key_index``, install it and return it
        (``b""`` when there is no key to ratchet). Every participant must ratchet too."""
        key_index = _key_index(key_index)
        provider = self._provider("ratchet_shared_key")
        if provider is None:
            return b""
        return bytes(_call("ratchet_shared_key", b"", provider.ratchet_shared_key, key_index))

    def set_key(self, participant_identity: str, key: bytes, key_index: int = 0) -> None:
        """Set the key ``participant_identity`` encrypts with (your own identity for what
        you send, a peer's identity to decrypt what it sends)."""
        participant_identity = _identity(participant_identity)
        key = _as_key_bytes(key, "key")
        key_index = _key_index(key_index)
        provider = self._provider("set_key")
        if provider is not None:
            _call("set_key", None, provider.set_key, participant_identity, key, key_index)

    def get_key(self, participant_identity: str, key_index: int = 0) -> bytes:
        """The key of ``participant_identity`` at ``key_index`` (``b""`` when unset)."""
        participant_identity = _identity(participant_identity)
        key_index = _key_index(key_index)
        provider = self._provider("get_key")
        if provider is None:
            return b""
        return bytes(_call("get_key", b"", provider.export_key, participant_identity, key_index))

    def ratchet_key(self, participant_identity: str, key_index: int = 0) -> bytes:
        """Derive, install and return the next key of ``participant_identity``
        (``b""`` when it has no key at ``key_index``)."""
        participant_identity = _identity(participant_identity)
        key_index = _key_index(key_index)
        provider = self._provider("ratchet_key")
        if provider is None:
            return b""
        return bytes(
            _call("ratchet_key", b"", provider.ratchet_key, participant_identity, key_index)
        )

    def __repr__(self) -> str:
        return f"<LiveKitKeyProvider active={_sdk_key_provider(self._context) is not None}>"


# -- frame cryptor --------------------------------------------------------------------------


class LiveKitFrameCryptor:
    """The encryptor (own track) or decryptor (a peer's track) of one track.

    Tied to the session it came from: once that session ends or the track goes away the
    getters answer ``""``/``0``/``False`` and the setters do nothing.
    """

    def __init__(
        self,
        room: RoomContext | None = None,
        sdk_room: rtc.Room | None = None,
        participant_identity: str = "",
        track_sid: str = "",
        key_index: int = 0,
        enabled: bool = False,
    ) -> None:
        self._context = room
        self._sdk_room_ref = weakref.ref(sdk_room) if sdk_room is not None else None
        self._identity = participant_identity
        self._track_sid = track_sid
        self._key_index = key_index
        self._enabled = enabled

    def _manager(self) -> rtc.E2EEManager | None:
        """The SDK manager, only while this cryptor's session is the room's current one."""
        sdk_room, manager = _sdk_manager(self._context)
        if manager is None or self._sdk_room_ref is None or sdk_room is not self._sdk_room_ref():
            return None
        return manager

    def _current(self) -> Any:
        """This cryptor's SDK entry as the SDK sees it now, or None when it is gone."""
        manager = self._manager()
        if manager is None:
            return None
        for cryptor in _call("frame_cryptors", [], manager.frame_cryptors):
            if (
                cryptor.participant_identity == self._identity
                and cryptor.track_sid == self._track_sid
            ):
                return cryptor
        return None

    def is_stale(self) -> bool:
        """True once the session or track of this cryptor has gone away."""
        return self._current() is None

    def get_participant_identity(self) -> str:
        return self._identity if self._current() is not None else ""

    def get_track_sid(self) -> str:
        return self._track_sid if self._current() is not None else ""

    def get_key_index(self) -> int:
        current = self._current()
        return int(current.key_index) if current is not None else 0

    def get_enabled(self) -> bool:
        current = self._current()
        return bool(current.enabled) if current is not None else False

    def set_enabled(self, enabled: bool) -> None:
        """Encrypt/decrypt this track (True) or pass its frames through as they are."""
        if not isinstance(enabled, bool):
            raise TypeError(f"enabled must be a bool, got {type(enabled).__name__}")
        current = self._current()
        if current is None or not current.track_sid.startswith("TR_"):
            logger.warning("frame cryptor set_enabled: %s", STALE_CRYPTOR)
            return
        _call("frame cryptor set_enabled", None, current.set_enabled, enabled)

    def set_key_index(self, key_index: int) -> None:
        """Use the key at ``key_index`` for this track."""
        key_index = _key_index(key_index)
        current = self._current()
        if current is None or not current.track_sid.startswith("TR_"):
            logger.warning("frame cryptor set_key_index: %s", STALE_CRYPTOR)
            return
        _call("frame cryptor set_key_index", None, current.set_key_index, key_index)

    def __repr__(self) -> str:
        return (
            f"<LiveKitFrameCryptor participant={self._identity!r} track={self._track_sid!r}"
            f" key_index={self._key_index} enabled={self._enabled}>"
        )


# -- manager --------------------------------------------------------------------------------


class LiveKitE2eeManager:
    """E2EE of one room: on/off, its key provider and its frame cryptors.

    Get it with ``room.get_e2ee_manager()`` (one per room object, valid across sessions).
    The room's ``e2ee_state_changed(participant, state)`` signal reports the SDK's
    ``EncryptionState`` values: 0 NEW, 1 OK, 2 ENCRYPTION_FAILED, 3 DECRYPTION_FAILED,
    4 MISSING_KEY, 5 KEY_RATCHETED, 6 INTERNAL_ERROR.
    """

    def __init__(self, room: RoomContext | None = None) -> None:
        self._context = room
        self._key_provider = LiveKitKeyProvider(room)

    def is_active(self) -> bool:
        """True while the room is connected with end-to-end encryption."""
        return is_encrypted(self._context)

    def get_enabled(self) -> bool:
        """True while connected with E2EE (an encryption type other than NONE) and not
        switched off with ``set_enabled``."""
        _, manager = _sdk_manager(self._context)
        if manager is None or manager.options is None:
            return False
        if manager.options.encryption_type == rtc.EncryptionType.NONE:
            return False
        return bool(manager.enabled)

    def set_enabled(self, enabled: bool) -> None:
        """Switch encryption of every track of this session on or off (no-op without
        an E2EE session)."""
        if not isinstance(enabled, bool):
            raise TypeError(f"enabled must be a bool, got {type(enabled).__name__}")
        _, manager = _sdk_manager(self._context)
        if manager is None:
            logger.warning("E2EE set_enabled: %s", NO_E2EE_SESSION)
            return
        _call("set_enabled", None, manager.set_enabled, enabled)

    def get_key_provider(self) -> LiveKitKeyProvider:
        """The key provider (answers defaults while there is no E2EE session)."""
        return self._key_provider

    def get_frame_cryptors(self) -> list[LiveKitFrameCryptor]:
        """A cryptor per encrypted track of this session, local and remote."""
        sdk_room, manager = _sdk_manager(self._context)
        if manager is None:
            return []
        return [
            LiveKitFrameCryptor(
                self._context,
                sdk_room,
                cryptor.participant_identity,
                cryptor.track_sid,
                int(cryptor.key_index),
                bool(cryptor.enabled),
            )
            for cryptor in _call("frame_cryptors", [], manager.frame_cryptors)
        ]

    def __repr__(self) -> str:
        return f"<LiveKitE2eeManager enabled={self.get_enabled()}>"
