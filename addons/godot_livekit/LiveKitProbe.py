"""LiveKitProbe: why the addon cannot run, for ``LiveKit.is_available()``.

py4godot swallows an exception raised while it loads a script (an ImportError of
``godot_livekit``, numpy or livekit in py4godot's interpreter): the script still loads, but
registers no class (``get_instance_base_type()`` is ""). This script imports nothing beyond
py4godot when it loads, so it keeps working then, and ``import_error()`` names the problem.
"""

from __future__ import annotations

import importlib
import sys

from py4godot.classes import gdclass
from py4godot.classes.RefCounted import RefCounted

MODULES = ("numpy", "livekit.rtc", "godot_livekit", "addons.godot_livekit.bridge.convert")


@gdclass
class LiveKitProbe(RefCounted):
    def import_error(self) -> str:
        """ "" when the addon's Python side imports, else the first failure in plain words."""
        for module in MODULES:
            try:
                importlib.import_module(module)
            except Exception as error:  # anything an import can raise
                return (
                    f"cannot import {module} in py4godot's Python {sys.version.split()[0]} "
                    f"({type(error).__name__}: {error})"
                )
        return ""
