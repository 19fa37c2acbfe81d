"""The Godot properties of the addon classes, as py4godot registers them.

py4godot forwards GDScript's ``obj.x`` / ``obj.x = v`` to Python only for names it registered
when the script loaded, and it registers annotated class attributes of int/str/float/bool,
builtin (core) types or Object subclasses -- never a bare ``@property``. An annotation sitting
in the same class as the ``@property`` of that name is not registered either (the class value is
then the property object). So each class with documented properties mixes in one of the
classes below, which only declare the names, types and defaults; the ``@property`` getters
(and setters) live in the script class or its members mixin, earlier in the MRO, and win at run
time.

py4godot also writes each property's default with ``setattr`` when it creates an instance --
before the Godot object is attached and before any signal exists -- so every setter accepts
that write, and the read-only ones ignore every write.
"""

from __future__ import annotations

from py4godot.classes.core import Dictionary
from py4godot.classes.Object import Object


class AutoPollDeclaration:
    """LiveKitVideoStream / LiveKitScreenCapture: ``auto_poll`` (default true)."""

    auto_poll: bool = True


class RoomDeclaration:
    """LiveKitRoom: six read-only properties and ``auto_poll`` (default true)."""

    local_participant: Object
    remote_participants: Dictionary
    sid: str
    name: str
    metadata: str
    connection_state: int
    auto_poll: bool = True


# -- voice nodes (LiveKitMicrophone, LiveKitSpatialVoice) -----------------------------------


class MicrophoneDeclaration:
    """LiveKitMicrophone: the processing stages (default on), push-to-talk and mute."""

    echo_cancellation: bool = True
    noise_suppression: bool = True
    auto_gain_control: bool = True
    high_pass_filter: bool = True
    push_to_talk: bool = False
    muted: bool = False


class SpatialVoiceDeclaration:
    """LiveKitSpatialVoice: the identity of the participant it plays."""

    identity: str = ""
