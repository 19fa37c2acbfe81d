"""`build.py lint`: ruff (check + format), gdparse + gdlint, and mypy (strict)."""

from __future__ import annotations

import os
from pathlib import Path

from .common import REPO_ROOT, VENV_BIN, Command, run, say

LINT_PATHS = ("python", "tests", "build.py", "bench", "addons")
GDSCRIPT_SKIP_DIRS = {".git", ".venv", ".tools", "__pycache__", ".godot"}


def existing_lint_paths() -> list[str]:
    """The Python lint targets that exist in this checkout."""
    return [name for name in LINT_PATHS if (REPO_ROOT / name).exists()]


def gdscript_files() -> list[Path]:
    """Every *.gd file in the repo, skipping tool and cache directories."""
    found: list[Path] = []
    for directory, subdirs, files in os.walk(REPO_ROOT):
        subdirs[:] = sorted(d for d in subdirs if d not in GDSCRIPT_SKIP_DIRS)
        found += [Path(directory) / f for f in sorted(files) if f.endswith(".gd")]
    return found


def lint_steps() -> list[tuple[str, Command]]:
    """(description, command) of every lint step, in order."""
    paths = existing_lint_paths()
    steps: list[tuple[str, Command]] = [
        (f"ruff check {' '.join(paths)}", [VENV_BIN / "ruff", "check", *paths]),
        ("ruff format --check", [VENV_BIN / "ruff", "format", "--check", *paths]),
    ]
    gd_files = gdscript_files()
    if gd_files:
        steps.append(
            (f"gdparse over {len(gd_files)} GDScript file(s)", [VENV_BIN / "gdparse", *gd_files])
        )
        steps.append(
            (f"gdlint over {len(gd_files)} GDScript file(s)", [VENV_BIN / "gdlint", *gd_files])
        )
    # The modules mypy checks are listed in pyproject.toml ([tool.mypy] files).
    steps.append(("mypy --strict (files from [tool.mypy])", [VENV_BIN / "mypy"]))
    return steps


def lint() -> int:
    """Run every step (none stops the others); 0 when all pass."""
    failures = 0
    for description, command in lint_steps():
        say(description)
        failures += run(command) != 0
    say("lint passed" if not failures else f"lint failed ({failures} step(s))")
    return 1 if failures else 0
