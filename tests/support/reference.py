"""The GDScript API contract (``api_reference.json``) as typed, read-only data.

The JSON is the machine-readable form of the project's API reference: every class with its
properties, methods, signals and enums, using GDScript type names (``"PackedByteArray"``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

REFERENCE_FILE = "api_reference.json"


@dataclass(frozen=True)
class ReferenceArg:
    """One method argument; ``default`` is the GDScript literal or ``None``."""

    name: str
    type: str
    default: str | None = None


@dataclass(frozen=True)
class ReferenceMethod:
    """A method; ``returns`` is ``"void"`` when it returns nothing."""

    name: str
    args: tuple[ReferenceArg, ...]
    returns: str
    static: bool


@dataclass(frozen=True)
class ReferenceSignal:
    """A signal with its argument names and types (no defaults)."""

    name: str
    args: tuple[ReferenceArg, ...]


@dataclass(frozen=True)
class ReferenceProperty:
    """A property; ``default`` is the GDScript literal or ``None``."""

    name: str
    type: str
    read_only: bool
    default: str | None


@dataclass(frozen=True)
class ReferenceEnum:
    """An enum: constant name -> integer value, in document order."""

    name: str
    values: Mapping[str, int] = field(hash=False)


@dataclass(frozen=True)
class ReferenceClass:
    """One class of the API with all its members."""

    name: str
    inherits: str | None
    description: str
    constructible_without_args: bool
    properties: tuple[ReferenceProperty, ...]
    methods: tuple[ReferenceMethod, ...]
    signals: tuple[ReferenceSignal, ...]
    enums: tuple[ReferenceEnum, ...]

    def method(self, name: str) -> ReferenceMethod:
        """The method called ``name``; ``KeyError`` if the class has none."""
        for method in self.methods:
            if method.name == name:
                return method
        raise KeyError(f"{self.name} has no method {name!r}")


def _arg(data: Mapping[str, Any]) -> ReferenceArg:
    return ReferenceArg(data["name"], data["type"], data.get("default"))


def _class(data: Mapping[str, Any]) -> ReferenceClass:
    return ReferenceClass(
        name=data["name"],
        inherits=data["inherits"],
        description=data["description"],
        constructible_without_args=data["constructible_without_args"],
        properties=tuple(
            ReferenceProperty(p["name"], p["type"], p["read_only"], p["default"])
            for p in data["properties"]
        ),
        methods=tuple(
            ReferenceMethod(m["name"], tuple(_arg(a) for a in m["args"]), m["returns"], m["static"])
            for m in data["methods"]
        ),
        signals=tuple(
            ReferenceSignal(s["name"], tuple(_arg(a) for a in s["args"])) for s in data["signals"]
        ),
        enums=tuple(
            ReferenceEnum(e["name"], MappingProxyType(dict(e["values"]))) for e in data["enums"]
        ),
    )


@cache
def _load() -> tuple[ReferenceClass, ...]:
    text = (Path(__file__).parent / REFERENCE_FILE).read_text(encoding="utf-8")
    return tuple(_class(entry) for entry in json.loads(text))


def load_reference() -> list[ReferenceClass]:
    """Every class of the API reference, in document order (parsed once, then cached)."""
    return list(_load())
