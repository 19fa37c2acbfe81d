"""The addon package (`build.py package`) and its install into a py4godot project (`install`).

The packaged addon is ``addons/godot_livekit/`` (with its INSTALL.md) plus a copy of the core
package under ``addons/godot_livekit/lib/`` (behind a ``.gdignore``). The addon's scripts
import ``godot_livekit`` from py4godot's interpreter, where ``install`` pip-installs it with
its dependencies; the ``lib/`` copy is the matching source, outside ``sys.path``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

from .common import REPO_ROOT, BuildError, format_command, project_version, say

ADDON_NAME = "godot_livekit"
ADDON_DIR = REPO_ROOT / "addons" / ADDON_NAME
ADDON_ARCHIVE_ROOT = f"addons/{ADDON_NAME}"
CORE_PACKAGE_DIR = REPO_ROOT / "python" / "godot_livekit"
ADDON_CORE_SUBDIR = "lib"
DIST_DIR = REPO_ROOT / "dist"
PY4GODOT_DIR = Path("addons") / "py4godot"
GET_PIP_NAME = "get_pip.py"
PACKAGE_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
PACKAGE_SKIP_SUFFIXES = (".pyc", ".pyo")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: the same tree gives the same zip
PROBE_TIMEOUT = 60
PIP_PROBLEM_MARKERS = (
    "error",
    "no matching distribution",
    "could not find a version",
    "requires-python",
    "requires a different python",
    "is not a supported wheel",
    "no such file",
)


# ----------------------------------------------------------------------------- package


def package_files(root: Path) -> list[Path]:
    """Files under `root` that belong in a package (no caches or bytecode), sorted."""
    found: list[Path] = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in PACKAGE_SKIP_DIRS)
        found += [
            Path(directory) / name
            for name in sorted(files)
            if not name.endswith(PACKAGE_SKIP_SUFFIXES)
        ]
    return found


def addon_file_map() -> dict[str, Path]:
    """Archive path -> source file: the addon plus the core package inside it."""
    if not ADDON_DIR.is_dir():
        raise BuildError(f"{ADDON_DIR} does not exist")
    members: dict[str, Path] = {}
    for path in package_files(ADDON_DIR):
        members[f"{ADDON_ARCHIVE_ROOT}/{path.relative_to(ADDON_DIR).as_posix()}"] = path
    core_root = f"{ADDON_ARCHIVE_ROOT}/{ADDON_CORE_SUBDIR}/godot_livekit"
    for path in package_files(CORE_PACKAGE_DIR):
        members[f"{core_root}/{path.relative_to(CORE_PACKAGE_DIR).as_posix()}"] = path
    return members


def addon_generated_files() -> dict[str, bytes]:
    """Archive path -> bytes of the files the package adds to the addon's own files."""
    # Godot must not load the core's modules as scripts (py4godot would run each one).
    return {f"{ADDON_ARCHIVE_ROOT}/{ADDON_CORE_SUBDIR}/.gdignore": b""}


def addon_contents() -> dict[str, bytes]:
    """Archive path -> bytes of everything the packaged addon holds."""
    contents = {name: path.read_bytes() for name, path in addon_file_map().items()}
    for name, data in addon_generated_files().items():
        contents.setdefault(name, data)
    return contents


def default_package_path() -> Path:
    """dist/godot-livekit-addon-<version>.zip."""
    return DIST_DIR / f"godot-livekit-addon-{project_version()}.zip"


def write_package(destination: Path) -> Path:
    """Write the addon zip to `destination` (reproducibly); return it."""
    contents = addon_contents()
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(contents):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, contents[name])
    os.replace(partial, destination)
    return destination


def write_addon(root: Path) -> Path:
    """Write the packaged addon under `root` (a project or export folder); return its folder.

    Replaces an existing ``root/addons/godot_livekit`` only once the new copy is complete.
    """
    destination = root / "addons" / ADDON_NAME
    if destination.resolve() == ADDON_DIR.resolve():
        say(f"{destination} is this checkout's addon; not copying it onto itself")
        return destination
    staging = destination.with_name(f".{ADDON_NAME}.installing")
    if staging.exists():
        shutil.rmtree(staging)
    for name, data in addon_contents().items():
        target = staging / Path(name).relative_to(ADDON_ARCHIVE_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if destination.exists():
        shutil.rmtree(destination)
    os.replace(staging, destination)
    return destination


# ------------------------------------------------------------------ py4godot interpreter


def require_py4godot(project: Path) -> Path:
    """PROJECT/addons/py4godot, or a BuildError that says how to get it."""
    py4godot = project / PY4GODOT_DIR
    if not py4godot.is_dir():
        raise BuildError(
            f"py4godot is not installed in {project}: {py4godot} does not exist.\n"
            "Copy addons/py4godot/ from a py4godot release (niklas2902/py4godot) into the "
            "project first; it carries the Python interpreter the addon runs in."
        )
    return py4godot


def interpreter_executables(interpreter_root: Path) -> list[Path]:
    """The python executables of py4godot interpreter folders matching `interpreter_root`.

    `interpreter_root` is a glob below addons/py4godot, e.g. ``cpython-*`` (every platform)
    or ``cpython-*-linux64``; py4godot keeps ``<root>/python/bin/python3`` (Linux, macOS) or
    ``<root>/python/python.exe`` (Windows).
    """
    return [
        candidate
        for pattern in ("python/bin/python3", "python/python.exe")
        for candidate in sorted(interpreter_root.parent.glob(f"{interpreter_root.name}/{pattern}"))
    ]


def runs_here(python: Path) -> bool:
    """True when `python` can be executed on this machine."""
    try:
        probe = subprocess.run(
            [str(python), "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            timeout=PROBE_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def find_py4godot_python(project: Path) -> Path:
    """py4godot's embedded interpreter in `project` (one this machine can run)."""
    py4godot = require_py4godot(project)
    candidates = interpreter_executables(py4godot / "cpython-*")
    for candidate in candidates:
        if runs_here(candidate):
            return candidate
    found = ", ".join(str(c.relative_to(project)) for c in candidates) or "none"
    raise BuildError(
        f"no runnable py4godot interpreter in {py4godot} (looked for "
        f"cpython-*/python/bin/python3 and cpython-*/python/python.exe; found: {found}).\n"
        "Use a py4godot release built for this platform."
    )


def interpreter_version(python: Path) -> str:
    """`X.Y.Z` of an interpreter (for messages)."""
    result = subprocess.run(
        [str(python), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() or "unknown"


def relevant_pip_lines(output: str, tail: int = 8) -> str:
    """The lines of pip's output that say what went wrong, plus its last lines."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    picked = [line for line in lines if any(m in line.lower() for m in PIP_PROBLEM_MARKERS)]
    for line in lines[-tail:]:
        if line not in picked:
            picked.append(line)
    return "\n".join(f"    {line}" for line in picked) or "    (pip printed nothing)"


def ensure_pip(python: Path, get_pip: Path) -> None:
    """Make sure `python -m pip` works, running py4godot's get_pip.py when it does not."""
    check = [str(python), "-m", "pip", "--version"]
    if subprocess.run(check, capture_output=True).returncode == 0:
        return
    if not get_pip.is_file():
        raise BuildError(
            f"{python} has no pip and {get_pip} is missing.\n"
            f"py4godot releases ship addons/py4godot/{GET_PIP_NAME}; reinstall py4godot, or "
            f"run `{python} -m ensurepip` yourself."
        )
    say(f"installing pip into py4godot's Python ({get_pip.name})")
    result = subprocess.run([str(python), str(get_pip)], capture_output=True, text=True)
    if result.returncode != 0 or subprocess.run(check, capture_output=True).returncode != 0:
        raise BuildError(
            f"`{format_command([python, get_pip])}` failed (exit {result.returncode}):\n"
            + relevant_pip_lines(result.stdout + result.stderr)
        )


def pip_install_core(python: Path, wheelhouse: Path | None) -> None:
    """`python -m pip install <repo>`: the core package and its dependencies."""
    command: list[str] = [str(python), "-m", "pip", "install", "--upgrade", "--no-input"]
    command += ["--disable-pip-version-check"]
    if wheelhouse is not None:
        command += ["--no-index", "--find-links", str(wheelhouse)]
    command.append(str(REPO_ROOT))
    say(f"pip install godot-livekit and its dependencies into {python}")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(
            f"pip could not install godot-livekit into py4godot's Python "
            f"{interpreter_version(python)} (exit {result.returncode}). pip said:\n"
            + relevant_pip_lines(result.stdout + result.stderr)
            + "\nIf a dependency has no wheel for that Python version or platform (livekit, "
            "numpy, mss), use a py4godot release whose Python those packages support."
        )
    done = [line for line in result.stdout.splitlines() if line.startswith("Successfully")]
    if done:
        say(done[-1])


def check_core_imports(python: Path) -> None:
    """Raise BuildError unless `import godot_livekit` works in `python`."""
    check = subprocess.run(
        [str(python), "-c", "import godot_livekit"], capture_output=True, text=True
    )
    if check.returncode != 0:
        raise BuildError(
            f"installed, but `import godot_livekit` fails in {python}:\n"
            + relevant_pip_lines(check.stderr)
        )


def install_core(python: Path, get_pip: Path, wheelhouse: Path | None) -> None:
    """pip (bootstrapped with get_pip.py if needed), then the core and its dependencies."""
    ensure_pip(python, get_pip)
    pip_install_core(python, wheelhouse)
    check_core_imports(python)


def checked_wheelhouse(path: str | None) -> Path | None:
    """`--wheelhouse` as a resolved folder (None when not given)."""
    if path is None:
        return None
    wheelhouse = Path(path).expanduser().resolve()
    if not wheelhouse.is_dir():
        raise BuildError(f"--wheelhouse {wheelhouse} is not a folder")
    return wheelhouse


def checked_project(path: str | os.PathLike[str]) -> Path:
    """A Godot project folder (has project.godot), resolved."""
    project = Path(path).expanduser().resolve()
    if not (project / "project.godot").is_file():
        raise BuildError(f"{project} is not a Godot project (no project.godot there)")
    return project


def install_into_project(project: Path, wheelhouse: Path | None) -> None:
    """The addon into PROJECT/addons, the core and its dependencies into py4godot's Python."""
    python = find_py4godot_python(project)
    say(f"py4godot Python {interpreter_version(python)}: {python}")
    install_core(python, project / PY4GODOT_DIR / GET_PIP_NAME, wheelhouse)
    destination = write_addon(project)
    say(f"installed: {destination} and godot-livekit in {python}")
    say("enable the plugin in Project > Project Settings > Plugins (adds LiveKitPoller)")
