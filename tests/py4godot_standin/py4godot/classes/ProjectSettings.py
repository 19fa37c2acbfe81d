# Mirrors py4godot/classes/ProjectSettings.py at 4.7-alpha21: a generated singleton
# (generation_files/generate_py_classes.py `generate_singleton_constructor`: a static instance()
# that makes the wrapper once) whose String-returning methods hand Python a str
# (`generate_return_statement`: utils.gd_string_to_py_string) and whose String parameters take
# only a Python str (asserted str or String, then `py_string_to_string(str string)` refuses a
# String: core._check_string_arg). py4godot itself calls
# `ProjectSettings.instance().globalize_path("user://files/scripts/")` in
# pluginscript_api/utils/annotations.pyx `load_module`.
# Engine behaviour, Godot core/config/project_settings.cpp `ProjectSettings::globalize_path`:
# - "res://..." -> p_path.replace("res:/", resource_path) (the project folder, no trailing slash);
# - "user://..." -> p_path.replace("user:/", OS::get_user_data_dir());
# - anything else (an OS path, absolute or relative) is returned unchanged: no "~" expansion,
#   no normalisation, no check that the file exists.
# `replace` is String::replace: every occurrence, not only the prefix.

from __future__ import annotations

import os

import py4godot.pluginscript_api.utils.annotations as annotations
from py4godot.classes.core import _check_string_arg
from py4godot.classes.Object import Object, register_native
from py4godot.utils.functools import native_method

standin_user_data_dir = os.path.join(
    os.path.expanduser("~"), ".local", "share", "godot", "app_userdata", "godot-livekit-standin"
)
"""Stand-in only: what OS.get_user_data_dir() says (tests point it at a temporary folder)."""

_singleton: ProjectSettings | None = None


@register_native
class ProjectSettings(Object):
    @staticmethod
    def get_type() -> str:
        return "ProjectSettings"

    @staticmethod
    def instance() -> ProjectSettings:
        global _singleton
        if _singleton is None:
            _singleton = ProjectSettings.new()
        return _singleton

    @native_method
    def globalize_path(self, path: str) -> str:
        _check_string_arg(path, "path")
        if path.startswith("res://"):
            resource_path = os.path.abspath(annotations.standin_project_root or os.getcwd())
            return path.replace("res:/", resource_path)
        if path.startswith("user://"):
            return path.replace("user:/", standin_user_data_dir)
        return path
