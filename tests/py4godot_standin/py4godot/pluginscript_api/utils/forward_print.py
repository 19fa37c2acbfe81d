# Mirrors py4godot/pluginscript_api/utils/forward_print.pyx at 4.7-alpha21: at start-up
# forward_print() replaces sys.stdout with an object whose write() calls Godot's print with the
# text stripped (so every write, including a bare "\n", becomes its own console line) and
# sys.stderr with one that calls printerr the same way. printerr is a console line, not a
# push_error entry in the debugger's error list. Tests call it inside a monkeypatched sys.

from __future__ import annotations

import sys

from py4godot.functions import print as gdprint
from py4godot.functions import printerr as gdprinterr


class CustomPrint:
    def write(self, text: str) -> None:
        gdprint(text.strip())

    def flush(self) -> None:
        pass


class CustomPrintError:
    def write(self, text: str) -> None:
        gdprinterr(text.strip())

    def flush(self) -> None:
        pass


def forward_print() -> None:
    sys.stdout = CustomPrint()
    sys.stderr = CustomPrintError()
