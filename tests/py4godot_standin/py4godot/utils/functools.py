# Mirrors py4godot/utils/functools.py at 4.7-alpha21: `native_method` marks every generated engine
# method (generate_py_classes.py `generate_method_headers`), so PyScriptInstance.is_overridden
# treats it as "not a script method" and Godot calls the native method instead.

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def native_method(method: F) -> F:
    method.gd_is_native = True  # type: ignore[attr-defined]
    return method
