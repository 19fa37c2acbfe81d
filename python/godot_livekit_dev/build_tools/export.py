"""`build.py export`: Godot's headless export, then what py4godot needs beside the binary.

Godot's exporter leaves Python out: py4godot's interpreter folder carries a ``.gdignore``
(added "to speed up loading", niklas2902/py4godot#179), so neither the interpreter, its
site-packages nor our dependencies reach the export. The maintainer's advice
(niklas2902/py4godot#131, #179) is to copy py4godot's addon folder and every Python script
next to the exported binary, at the same relative paths as in the project. That is what
py4godot reads at run time (tag 4.7-alpha21):

- ``pythonscript.cpp`` dlopens ``PYTHONHOME + "/bin/main.so"`` and ``PyScriptExtension.cpp``
  sets ``Py_SetPythonHome(PYTHONHOME)`` with the relative path from
  ``pythonpaths_template.h``: ``addons/py4godot/cpython-<version>-<platform>/python``. Both
  are resolved against the working directory, which is also appended to ``sys.path``.
- ``annotations.pyx`` (``exec_class``/``load_module``) imports a script ``res://a/b.py`` from
  the file ``a/b.py`` relative to the working directory, as module ``a.b``.

So the export folder gets ``addons/py4godot/`` (the target platform's interpreter only, with
godot-livekit and its dependencies installed into it), ``addons/godot_livekit/`` (as
``install`` lays it out, with the ``lib/`` core copy) and every ``.py`` script the project
references, plus a launcher that starts the game from its own folder.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .common import (
    REPO_ROOT,
    VENV_PYTHON,
    BuildError,
    format_command,
    say,
    warn,
)
from .packaging import (
    ADDON_NAME,
    GET_PIP_NAME,
    PY4GODOT_DIR,
    install_core,
    interpreter_executables,
    relevant_pip_lines,
    require_py4godot,
    runs_here,
    write_addon,
)

PRESETS_FILE = "export_presets.cfg"
GODOT_ENV = "GODOT"
GODOT_EXPORT_TIMEOUT = 1800  # seconds; a first export also imports every asset
PIP_TIMEOUT = 1800
# Text files whose res:// paths name the scripts a project uses.
REFERENCING_SUFFIXES = {".tscn", ".tres", ".gd", ".godot"}
RES_PY_PATH = re.compile(r"res://([^\"'\s)\]]+?\.py)\b")
CONFIG_SECTION = re.compile(r"^\[([^\]]+)\]\s*$")
CONFIG_ESCAPE = re.compile(r"\\(.)")
INTERPRETER_VERSION = re.compile(r"^cpython-(\d+)\.(\d+)")


@dataclass(frozen=True)
class Target:
    """Where py4godot keeps one platform's interpreter, and how pip names that platform."""

    interpreter_glob: str  # below addons/py4godot
    binary_suffix: str
    is_windows: bool
    pip_platforms: tuple[str, ...]

    def site_packages(self, python_home: Path, major_minor: str) -> Path:
        """site-packages of an interpreter whose PYTHONHOME is `python_home`."""
        if self.is_windows:
            return python_home / "Lib" / "site-packages"
        return python_home / "lib" / f"python{major_minor}" / "site-packages"


# (preset platform, binary_format/architecture) -> target; folder names from py4godot's
# pythonpaths_template.h and build_resources/gdextension_template.gdextension.
TARGETS: dict[tuple[str, str], Target] = {
    ("Linux", "x86_64"): Target(
        "cpython-*-linux64", ".x86_64", False, ("manylinux_2_28_x86_64", "linux_x86_64")
    ),
    ("Linux", "arm64"): Target(
        "cpython-*-linuxarm64", ".arm64", False, ("manylinux_2_28_aarch64", "linux_aarch64")
    ),
    ("Windows Desktop", "x86_64"): Target("cpython-*-windows64", ".exe", True, ("win_amd64",)),
}
PLATFORM_ALIASES = {"Linux/X11": "Linux", "Linux/BSD": "Linux"}


@dataclass(frozen=True)
class Preset:
    """The fields of one export_presets.cfg preset that the layout needs."""

    name: str
    platform: str
    export_path: str
    architecture: str

    @property
    def target(self) -> Target:
        """The platform py4godot's interpreter must be laid out for."""
        platform = PLATFORM_ALIASES.get(self.platform, self.platform)
        target = TARGETS.get((platform, self.architecture))
        if target is None:
            supported = ", ".join(f"{p} ({a})" for p, a in TARGETS)
            raise BuildError(
                f"preset {self.name!r} targets {self.platform} ({self.architecture}); "
                f"export lays out py4godot for: {supported}"
            )
        return target


# --------------------------------------------------------------------- Godot config files


def _config_value(raw: str) -> str:
    """A ConfigFile value as text: quoted strings unescaped, anything else as written."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return CONFIG_ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), raw[1:-1])
    return raw


def _string_closed(text: str) -> bool:
    """True when `text` (a value) has no quoted string left open at its end."""
    open_quote = False
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            open_quote = not open_quote
    return not open_quote


def read_config(path: Path) -> dict[str, dict[str, str]]:
    """Sections of a Godot ConfigFile (project.godot, export_presets.cfg): key -> value text.

    Enough of the format for the string fields read here: ``;`` comments, ``[section]``
    headers, ``key=value`` lines, quoted strings that span lines.
    """
    sections: dict[str, dict[str, str]] = {"": {}}
    current = sections[""]
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith(";"):
            continue
        header = CONFIG_SECTION.match(stripped)
        if header:
            current = sections.setdefault(header.group(1), {})
            continue
        key, separator, value = line.partition("=")
        if not separator:
            continue
        while not _string_closed(value):
            continuation = next(lines, None)
            if continuation is None:
                raise BuildError(f"{path}: unterminated string in {key.strip()!r}")
            value += "\n" + continuation
        current[key.strip()] = _config_value(value)
    return sections


def read_presets(path: Path) -> list[Preset]:
    """The presets of an export_presets.cfg, in file order."""
    if not path.is_file():
        raise BuildError(f"{path} does not exist: add export presets (Project > Export)")
    sections = read_config(path)
    presets = []
    for section, values in sections.items():
        if re.fullmatch(r"preset\.\d+", section):
            options = sections.get(f"{section}.options", {})
            presets.append(
                Preset(
                    name=values.get("name", ""),
                    platform=values.get("platform", ""),
                    export_path=values.get("export_path", ""),
                    architecture=options.get("binary_format/architecture", "x86_64"),
                )
            )
    return presets


def find_preset(project: Path, name: str) -> Preset:
    """The preset called `name` in PROJECT/export_presets.cfg."""
    presets = read_presets(project / PRESETS_FILE)
    for preset in presets:
        if preset.name == name:
            return preset
    names = ", ".join(repr(p.name) for p in presets) or "none"
    raise BuildError(f"no export preset named {name!r} in {project / PRESETS_FILE} ({names})")


def binary_name(project: Path, preset: Preset) -> str:
    """File name of the exported binary: from the preset's export path, else the project's."""
    if preset.export_path:
        return Path(preset.export_path.replace("\\", "/")).name
    title = read_config(project / "project.godot").get("application", {}).get("config/name", "")
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", title).strip("-") or "game"
    return stem + preset.target.binary_suffix


# --------------------------------------------------------------------------- Godot step


def run_godot_export(godot: str, project: Path, preset: Preset, binary: Path) -> None:
    """`godot --headless --path PROJECT --export-release NAME BINARY`; BuildError on failure."""
    command = [godot, "--headless", "--path", str(project), "--export-release", preset.name]
    command.append(str(binary))
    say(f"Godot export: {format_command(command)}")
    try:
        result = subprocess.run(command, timeout=GODOT_EXPORT_TIMEOUT)
    except subprocess.TimeoutExpired as error:
        raise BuildError(f"Godot's export did not finish in {GODOT_EXPORT_TIMEOUT} s") from error
    except OSError as error:
        raise BuildError(f"cannot run {GODOT_ENV}={godot}: {error}") from error
    if result.returncode != 0:
        raise BuildError(
            f"Godot's export failed (exit {result.returncode}): {format_command(command)}\n"
            "Check that the export templates for this Godot version are installed."
        )
    if not binary.is_file():
        raise BuildError(f"Godot's export finished but {binary} does not exist")


# ---------------------------------------------------------------- py4godot's interpreter


def target_interpreter(py4godot: Path, target: Target) -> Path:
    """The one interpreter folder (cpython-<version>-<platform>) for `target`."""
    folders = sorted(p for p in py4godot.glob(target.interpreter_glob) if p.is_dir())
    if len(folders) != 1:
        present = ", ".join(p.name for p in sorted(py4godot.glob("cpython-*"))) or "none"
        raise BuildError(
            f"expected one {target.interpreter_glob} folder in {py4godot}, found "
            f"{len(folders)} (present: {present}). Use a py4godot release that includes "
            "the target platform's interpreter."
        )
    return folders[0]


def copy_py4godot(py4godot: Path, interpreter: Path, destination: Path) -> Path:
    """Copy py4godot's addon folder with only `interpreter` among its cpython-* folders."""

    def other_interpreters(directory: str, names: list[str]) -> set[str]:
        if Path(directory) != py4godot:
            return set()
        return {n for n in names if n.startswith("cpython-") and n != interpreter.name}

    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(py4godot, destination, symlinks=True, ignore=other_interpreters)
    return destination / interpreter.name


def cross_install_core(
    python_home: Path, interpreter_name: str, target: Target, wheelhouse: Path | None
) -> None:
    """Install the core and its dependencies for an interpreter this machine cannot run.

    The host's pip installs the target platform's wheels into the interpreter's
    site-packages (``--target`` with ``--platform``/``--python-version``, binary wheels only).
    """
    version = INTERPRETER_VERSION.match(interpreter_name)
    if version is None:
        raise BuildError(f"cannot tell the Python version of {interpreter_name}")
    major_minor = f"{version.group(1)}.{version.group(2)}"
    site_packages = target.site_packages(python_home, major_minor)
    host_python = str(VENV_PYTHON if VENV_PYTHON.exists() else sys.executable)
    index = ["--no-index", "--find-links", str(wheelhouse)] if wheelhouse is not None else []
    pip = [host_python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    with tempfile.TemporaryDirectory(prefix="godot-livekit-wheel-") as wheel_dir:
        build = [*pip, "wheel", "--no-deps", "--wheel-dir", wheel_dir, *index, str(REPO_ROOT)]
        _run_pip(build, "build the godot-livekit wheel")
        wheels = sorted(Path(wheel_dir).glob("godot_livekit-*.whl"))
        install = [*pip, "install", "--upgrade", "--no-compile", "--target", str(site_packages)]
        install += ["--only-binary=:all:", "--implementation", "cp"]
        install += ["--python-version", major_minor]
        for platform in target.pip_platforms:
            install += ["--platform", platform]
        say(f"pip install godot-livekit for {interpreter_name} into {site_packages}")
        _run_pip([*install, *index, *map(str, wheels)], f"install for {interpreter_name}")


def _run_pip(command: list[str], what: str) -> None:
    """Run a pip command; BuildError with pip's relevant lines when it fails."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT)
    except subprocess.TimeoutExpired as error:
        raise BuildError(f"pip did not {what} in {PIP_TIMEOUT} s") from error
    if result.returncode != 0:
        raise BuildError(
            f"pip could not {what} (exit {result.returncode}). pip said:\n"
            + relevant_pip_lines(result.stdout + result.stderr)
            + "\nEvery dependency needs a binary wheel for the target platform and Python."
        )


def install_into_interpreter(
    python_home: Path, target: Target, get_pip: Path, wheelhouse: Path | None
) -> None:
    """The core and its dependencies into the exported interpreter (its own pip if it runs)."""
    for python in interpreter_executables(python_home.parent):
        if runs_here(python):
            install_core(python, get_pip, wheelhouse)
            return
    cross_install_core(python_home, python_home.parent.name, target, wheelhouse)


# ---------------------------------------------------------------------- project scripts


def godot_visible_files(project: Path, suffixes: set[str]) -> Iterator[Path]:
    """Files Godot's editor scans: not hidden, not behind a .gdignore, not a nested project."""
    for directory, subdirs, files in os.walk(project):
        folder = Path(directory)
        subdirs[:] = sorted(
            d
            for d in subdirs
            if not d.startswith(".")
            and not (folder / d / ".gdignore").exists()
            and not (folder / d / "project.godot").exists()
        )
        for name in sorted(files):
            if Path(name).suffix in suffixes and not name.startswith("."):
                yield folder / name


def _module_file(project: Path, parts: list[str]) -> Path | None:
    """The project file of module `parts` (a .py module or a package's __init__.py)."""
    base = project.joinpath(*parts)
    for candidate in (base.parent / f"{base.name}.py", base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_names(script: Path, package: tuple[str, ...]) -> Iterator[str]:
    """Dotted names `script` imports (relative imports made absolute within `package`)."""
    tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level > len(package):
                continue  # beyond the top level: not a project module
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join([*base, *([node.module] if node.module else [])])
            if module:
                yield module
            for alias in node.names:
                if alias.name != "*":
                    yield f"{module}.{alias.name}" if module else alias.name


def local_imports(project: Path, script: Path) -> set[Path]:
    """Project files `script` imports, with their parent packages' __init__.py."""
    package = script.relative_to(project).parent.parts
    found: set[Path] = set()
    for name in _imported_names(script, package):
        parts = name.split(".")
        for end in range(1, len(parts) + 1):
            module = _module_file(project, parts[:end])
            if module is not None:
                found.add(module)
    return found


def project_python_scripts(project: Path, skip: list[Path]) -> list[Path]:
    """Every .py file the project uses, relative to it: scripts named by res:// paths in
    project.godot, scenes, resources and GDScript, and the project modules they import.

    Files under `skip` (folders laid out separately) are left out.
    """
    scripts: set[Path] = set()
    for path in godot_visible_files(project, REFERENCING_SUFFIXES):
        for relative in RES_PY_PATH.findall(path.read_text(encoding="utf-8", errors="replace")):
            script = project / relative
            if script.is_file():
                scripts.add(script)
            else:
                warn(f"{path.relative_to(project)} names res://{relative}, which does not exist")
    pending = list(scripts)
    while pending:
        for module in local_imports(project, pending.pop()) - scripts:
            scripts.add(module)
            pending.append(module)
    kept = [s for s in scripts if not any(s.is_relative_to(folder) for folder in skip)]
    return sorted(s.relative_to(project) for s in kept)


def copy_scripts(project: Path, scripts: list[Path], out: Path) -> None:
    """Copy each project-relative script to the same relative path under `out`."""
    for relative in scripts:
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project / relative, target)


# ----------------------------------------------------------------------------- launcher


def write_launcher(out: Path, binary: str, target: Target) -> Path:
    """A script that starts the game with its own folder as working directory.

    py4godot resolves PYTHONHOME, the scripts and sys.path against the working directory,
    so a game started from elsewhere (a desktop shortcut, another shell folder) finds no
    Python.
    """
    stem = Path(binary).stem
    if target.is_windows:
        launcher = out / f"launch-{stem}.cmd"
        launcher.write_text(
            "@echo off\r\n"
            "rem py4godot finds its Python relative to the working directory: start here.\r\n"
            'cd /d "%~dp0"\r\n'
            f'"%~dp0{binary}" %*\r\n'
        )
    else:
        launcher = out / f"launch-{stem}.sh"
        launcher.write_text(
            "#!/bin/sh\n"
            "# py4godot finds its Python relative to the working directory: start here.\n"
            'cd "$(dirname "$0")" || exit 1\n'
            f'exec "./{binary}" "$@"\n'
        )
        launcher.chmod(0o755)
    return launcher


# ------------------------------------------------------------------------------ layout


def lay_out(project: Path, out: Path, preset: Preset, wheelhouse: Path | None) -> None:
    """Put what py4godot needs beside the exported binary in `out`."""
    target = preset.target
    py4godot = require_py4godot(project)
    interpreter = target_interpreter(py4godot, target)
    say(f"copying {PY4GODOT_DIR} with {interpreter.name} into {out}")
    exported_interpreter = copy_py4godot(py4godot, interpreter, out / PY4GODOT_DIR)
    install_into_interpreter(
        exported_interpreter / "python", target, py4godot / GET_PIP_NAME, wheelhouse
    )
    addon = write_addon(out)
    say(f"wrote {addon.relative_to(out)} (addon and lib/ core copy)")
    skip = [project / PY4GODOT_DIR, project / "addons" / ADDON_NAME, out]
    scripts = project_python_scripts(project, skip)
    copy_scripts(project, scripts, out)
    say(f"copied {len(scripts)} project script(s): {', '.join(map(str, scripts)) or 'none'}")


def export(
    project: Path, preset_name: str, out: Path, wheelhouse: Path | None, godot: str | None
) -> None:
    """Export with Godot (when `godot` is given), then lay out Python beside the binary."""
    preset = find_preset(project, preset_name)
    binary = binary_name(project, preset)
    if out == project or project.is_relative_to(out):
        raise BuildError(f"--out {out} must not be the project folder or contain it")
    out.mkdir(parents=True, exist_ok=True)
    if out.is_relative_to(project):
        (out / ".gdignore").touch()  # the editor must not import the export as project files
    if godot:
        run_godot_export(godot, project, preset, out / binary)
    else:
        say(
            f"{GODOT_ENV} is not set: skipped Godot's export step (set {GODOT_ENV}=/path/to/"
            "godot to run it); laying out Python beside an export made by hand"
        )
        if not (out / binary).is_file():
            warn(f"{out / binary} does not exist yet: export preset {preset.name!r} into {out}")
    lay_out(project, out, preset, wheelhouse)
    launcher = write_launcher(out, binary, preset.target)
    say(f"export ready in {out}: start the game with {launcher.name} (or from that folder)")
