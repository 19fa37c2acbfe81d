"""The Python core conforms to the GDScript API reference (``api_reference.json``).

For every reference class that ``godot_livekit`` exports: inheritance, methods (static or
not, argument names, positional use, defaults), properties (read-only or settable), signals
(argument names via ``declared_signals``), enum constants and no-argument construction.
Classes that have not landed yet are listed in ``PENDING``, and that list is checked too.
No server is needed.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest
from reference import (
    ReferenceClass,
    ReferenceMethod,
    ReferenceProperty,
    ReferenceSignal,
    load_reference,
)

import godot_livekit
from godot_livekit.signals import declared_signals

REPO_ROOT = Path(__file__).resolve().parents[2]
MARKDOWN = REPO_ROOT / "docs" / "api-reference.md"

# Reference classes that godot_livekit does not export yet -> where they are tracked.
# Remove an entry when its class lands (test_missing_classes_are_exactly_pending insists).
PENDING: dict[str, str] = {}

EXPECTED_CLASSES = (
    "LiveKitRoom",
    "LiveKitParticipant",
    "LiveKitLocalParticipant",
    "LiveKitRemoteParticipant",
    "LiveKitTrack",
    "LiveKitLocalAudioTrack",
    "LiveKitLocalVideoTrack",
    "LiveKitRemoteAudioTrack",
    "LiveKitRemoteVideoTrack",
    "LiveKitTrackPublication",
    "LiveKitLocalTrackPublication",
    "LiveKitRemoteTrackPublication",
    "LiveKitAudioSource",
    "LiveKitVideoSource",
    "LiveKitVideoStream",
    "LiveKitAudioStream",
    "LiveKitScreenCapture",
    "LiveKitE2eeOptions",
    "LiveKitKeyProvider",
    "LiveKitFrameCryptor",
    "LiveKitE2eeManager",
)

REFERENCE = load_reference()
PRESENT = [ref for ref in REFERENCE if hasattr(godot_livekit, ref.name)]
NONE_PRESENT = "no-reference-class-present"


def _cases(pairs: list[tuple[ReferenceClass, Any]], member: str) -> list[Any]:
    """``pytest.param``s with ``Class.member`` ids. An empty list would make pytest skip
    the test silently, so it becomes one case that fails instead."""
    cases = [
        pytest.param(ref, item, id=f"{ref.name}.{getattr(item, member)}") for ref, item in pairs
    ]
    return cases or [pytest.param(None, None, id=NONE_PRESENT)]


def _class_of(ref: ReferenceClass | None) -> type:
    assert ref is not None, "godot_livekit exports none of the reference classes"
    return getattr(godot_livekit, ref.name)


def _gd_literal(text: str) -> Any:
    """The Python value of a GDScript default literal from the reference."""
    literals = {"true": True, "false": False, "null": None}
    if text in literals:
        return literals[text]
    if text[:1] in "\"'":
        return text[1:-1]
    return float(text) if any(c in text for c in ".eE") else int(text)


def _same_value(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    return type(actual) is type(expected) and actual == expected


# --- the set of classes ------------------------------------------------------------------


def test_reference_has_the_21_classes_in_document_order() -> None:
    assert tuple(ref.name for ref in REFERENCE) == EXPECTED_CLASSES


def test_missing_classes_are_exactly_pending() -> None:
    missing = {ref.name for ref in REFERENCE if not hasattr(godot_livekit, ref.name)}
    assert set(PENDING) <= set(EXPECTED_CLASSES), "PENDING names a class not in the reference"
    assert missing - set(PENDING) == set(), "missing from godot_livekit and not in PENDING"
    assert set(PENDING) - missing == set(), "landed in godot_livekit: remove from PENDING"


# --- inheritance and construction ----------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    [pytest.param(ref, id=ref.name) for ref in PRESENT if ref.inherits]
    or [pytest.param(None, id=NONE_PRESENT)],
)
def test_inherits(ref: ReferenceClass | None) -> None:
    cls = _class_of(ref)
    assert ref is not None and ref.inherits is not None
    assert hasattr(godot_livekit, ref.inherits), f"base class {ref.inherits} is not exported"
    assert issubclass(cls, getattr(godot_livekit, ref.inherits))


@pytest.mark.parametrize(
    "ref",
    [pytest.param(ref, id=ref.name) for ref in PRESENT if ref.constructible_without_args]
    or [pytest.param(None, id=NONE_PRESENT)],
)
def test_constructible_without_args(ref: ReferenceClass | None) -> None:
    cls = _class_of(ref)
    assert ref is not None
    instance = cls()
    assert isinstance(instance, cls)
    for prop in ref.properties:
        if prop.default is not None:
            value = getattr(instance, prop.name)
            assert _same_value(value, _gd_literal(prop.default)), (
                f"{ref.name}().{prop.name} is {value!r}, reference default is {prop.default}"
            )


# --- methods -------------------------------------------------------------------------------


def _call_parameters(cls: type, name: str) -> tuple[inspect.Signature, list[inspect.Parameter]]:
    """The signature as a caller sees it (no ``self``/``cls``) and its positional params."""
    raw = inspect.getattr_static(cls, name)
    signature = inspect.signature(getattr(cls, name))
    params = list(signature.parameters.values())
    if not isinstance(raw, (staticmethod, classmethod)):
        params = params[1:]  # a plain function looked up on the class still has ``self``
    signature = signature.replace(parameters=params)
    positional = [
        p
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    return signature, positional


@pytest.mark.parametrize(
    ("ref", "method"), _cases([(ref, m) for ref in PRESENT for m in ref.methods], "name")
)
def test_method(ref: ReferenceClass | None, method: ReferenceMethod | None) -> None:
    cls = _class_of(ref)
    assert method is not None
    assert hasattr(cls, method.name), f"missing method {method.name}"
    assert callable(getattr(cls, method.name))
    raw = inspect.getattr_static(cls, method.name)
    if method.static:
        assert isinstance(raw, (staticmethod, classmethod)), (
            f"{method.name} must be callable on the class (staticmethod or classmethod)"
        )
    signature, positional = _call_parameters(cls, method.name)
    names = [arg.name for arg in method.args]
    assert len(positional) >= len(names), f"{method.name}{signature} takes fewer args than {names}"
    assert [p.name for p in positional[: len(names)]] == names, (
        f"{method.name}{signature}: parameter names differ from {names}"
    )
    required = [arg for arg in method.args if arg.default is None]
    for count in {len(method.args), len(required)}:
        try:
            signature.bind(*range(count))
        except TypeError as exc:
            pytest.fail(f"{method.name}{signature} cannot be called with {count} args: {exc}")
    for arg, param in zip(method.args, positional, strict=False):
        if arg.default is not None:
            assert param.default is not inspect.Parameter.empty, (
                f"{method.name}: {arg.name} needs a default ({arg.default})"
            )
            assert _same_value(param.default, _gd_literal(arg.default)), (
                f"{method.name}: {arg.name} defaults to {param.default!r}, reference {arg.default}"
            )


# --- properties ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "prop"), _cases([(ref, p) for ref in PRESENT for p in ref.properties], "name")
)
def test_property(ref: ReferenceClass | None, prop: ReferenceProperty | None) -> None:
    cls = _class_of(ref)
    assert prop is not None
    assert hasattr(cls, prop.name), f"missing property {prop.name}"
    raw = inspect.getattr_static(cls, prop.name)
    assert isinstance(raw, property), f"{prop.name} is a {type(raw).__name__}, not a property"
    if prop.read_only:
        assert raw.fset is None, f"{prop.name} is read-only but has a setter"
    else:
        assert raw.fset is not None, f"{prop.name} must be settable"


# --- signals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "sig"), _cases([(ref, s) for ref in PRESENT for s in ref.signals], "name")
)
def test_signal(ref: ReferenceClass | None, sig: ReferenceSignal | None) -> None:
    cls = _class_of(ref)
    assert sig is not None
    declared = declared_signals(cls)
    assert sig.name in declared, f"signal {sig.name} is not declared"
    assert declared[sig.name] == tuple(arg.name for arg in sig.args)


# --- enums ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "constant"),
    [
        pytest.param(ref, (name, value), id=f"{ref.name}.{name}")
        for ref in PRESENT
        for enum in ref.enums
        for name, value in enum.values.items()
    ]
    or [pytest.param(None, None, id=NONE_PRESENT)],
)
def test_enum_constant(ref: ReferenceClass | None, constant: tuple[str, int] | None) -> None:
    cls = _class_of(ref)
    assert constant is not None
    name, expected = constant
    assert hasattr(cls, name), f"missing constant {name}"
    value = getattr(cls, name)
    assert isinstance(value, int) and not isinstance(value, bool), f"{name} is {value!r}"
    assert value == expected


# --- the JSON against the markdown ---------------------------------------------------------


def _scan_markdown(text: str) -> dict[str, dict[str, Any]]:
    """Names per class found in the reference markdown with simple line regexes."""
    found: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    section = ""
    for line in text.splitlines():
        if line.startswith("# "):
            current = None
        elif heading := re.match(r"## (\w+)", line):
            current = found.setdefault(
                heading[1],
                {"methods": {}, "properties": set(), "signals": set(), "constants": {}},
            )
        elif heading := re.match(r"### (.+)", line):
            section = heading[1].strip()
        elif current is not None and (entry := re.match(r"- `(\w+)(?: = (\d+))?", line)):
            if section == "Properties":
                current["properties"].add(entry[1])
            elif section == "Signals":
                current["signals"].add(entry[1])
            elif section == "Enums":
                current["constants"][entry[1]] = int(entry[2])
            else:
                current["methods"][entry[1]] = "Static" in section or "Factory" in section
    return found


def test_json_round_trips_markdown() -> None:
    assert len(REFERENCE) == len(EXPECTED_CLASSES) == 21
    scanned = _scan_markdown(MARKDOWN.read_text(encoding="utf-8"))
    assert list(scanned) == [ref.name for ref in REFERENCE]
    for ref in REFERENCE:
        expected = scanned[ref.name]
        assert {m.name: m.static for m in ref.methods} == expected["methods"], ref.name
        assert {p.name for p in ref.properties} == expected["properties"], ref.name
        assert {s.name for s in ref.signals} == expected["signals"], ref.name
        constants = {name: v for enum in ref.enums for name, v in enum.values.items()}
        assert constants == expected["constants"], ref.name
