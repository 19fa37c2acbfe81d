"""`build.py package`, `install` and `export` (real subprocesses and pip, no Godot).

The install and export tests build a simulated py4godot project: a venv made with the current
interpreter AT addons/py4godot/cpython-<version>-linux64/python/ (so its bin/python3 sits where
py4godot keeps its embedded interpreter), without pip, next to a get_pip.py stand-in that
bootstraps pip with ensurepip. Inside `python build.py test` (a network namespace with no
index) pip installs from .tools/wheelhouse, which `build.py test` fills beforehand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest
from godot_livekit_dev.build_tools.export import Preset, read_presets

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build.py"
ADDON = REPO / "addons" / "godot_livekit"
CORE = REPO / "python" / "godot_livekit"
WHEELHOUSE = REPO / ".tools" / "wheelhouse"
ADDON_PREFIX = "addons/godot_livekit/"
CORE_PREFIX = "addons/godot_livekit/lib/godot_livekit/"
PYTHON_VERSION = "{}.{}.{}".format(*sys.version_info[:3])
INTERPRETER_NAME = f"cpython-{PYTHON_VERSION}-linux64"
INTERPRETER_DIR = Path("addons/py4godot") / INTERPRETER_NAME / "python"
WINDOWS_INTERPRETER_NAME = f"cpython-{PYTHON_VERSION}-windows64"
LINUX_BINARY = "godot-livekit-demos.x86_64"
GET_PIP_STAND_IN = """\
# Stand-in for py4godot's get_pip.py: bootstrap pip from the standard library.
import ensurepip

ensurepip.bootstrap(upgrade=True)
"""
# Top-level names that must never reach a user's project or an exported game.
DEV_ONLY_PARTS = {"tests", "bench", "godot_livekit_dev", ".venv", ".tools", "build_tools"}


def version() -> str:
    with (REPO / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def build(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run build.py with this interpreter; output captured."""
    return subprocess.run(
        [sys.executable, str(BUILD), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def source_files(root: Path) -> list[Path]:
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"}
    ]


def make_project(tmp_path: Path) -> Path:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "project.godot").write_text('config_version=5\n\n[application]\n\nconfig/name="t"\n')
    return project


def make_py4godot(project: Path) -> Path:
    """A simulated py4godot release in PROJECT/addons/py4godot; returns its python3."""
    interpreter = project / INTERPRETER_DIR
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(interpreter)], check=True, timeout=120
    )
    py4godot = project / "addons" / "py4godot"
    (py4godot / "get_pip.py").write_text(GET_PIP_STAND_IN)
    (py4godot / "python.gdextension").write_text('[configuration]\nentry_symbol="x"\n')
    (interpreter.parent / ".gdignore").write_text("")
    windows = py4godot / WINDOWS_INTERPRETER_NAME / "python"
    windows.mkdir(parents=True)
    (windows / "python.exe").write_bytes(b"MZ not runnable here")
    return interpreter / "bin" / "python3"


def wheelhouse_args() -> list[str]:
    """--wheelhouse when the wheels exist; a clear failure where no index is reachable."""
    if WHEELHOUSE.is_dir():
        return ["--wheelhouse", str(WHEELHOUSE)]
    if os.environ.get("GODOT_LIVEKIT_NETNS") == "1":
        pytest.fail(
            f"{WHEELHOUSE} is missing and this network namespace reaches no package index: "
            "run the suite with `python build.py test` (it collects the wheels first)",
            pytrace=False,
        )
    return []


def run_in(python: Path, code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env} if env else None,
    )


# -------------------------------------------------------------------------- package


def test_package_builds_the_addon_zip() -> None:
    result = build("package")
    assert result.returncode == 0, result.stdout + result.stderr
    archive = REPO / "dist" / f"godot-livekit-addon-{version()}.zip"
    assert archive.is_file(), result.stdout
    with zipfile.ZipFile(archive) as zipped:
        assert zipped.testzip() is None
        names = set(zipped.namelist())
        notes = zipped.read(ADDON_PREFIX + "INSTALL.md")
    assert all(name.startswith(ADDON_PREFIX) for name in names), sorted(names)[:5]
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))]
    for path in source_files(ADDON):
        assert ADDON_PREFIX + path.relative_to(ADDON).as_posix() in names, path
    for path in source_files(CORE):
        assert CORE_PREFIX + path.relative_to(CORE).as_posix() in names, path
    for needed in (
        "plugin.cfg",
        "plugin.gd",
        "LiveKit.gd",
        "LiveKitPoller.py",
        "LiveKitRoom.py",
        "lib/godot_livekit/__init__.py",
        "lib/godot_livekit/tools/devserver.py",
        "lib/.gdignore",
    ):
        assert ADDON_PREFIX + needed in names, needed
    # the install notes are the addon's own file, shipped as written
    assert notes == (ADDON / "INSTALL.md").read_bytes()
    assert b"build.py install --project" in notes and b"godot_livekit.tools.devserver" in notes
    # developer tools and test data stay out of what users install
    assert not [n for n in names if set(n.split("/")) & DEV_ONLY_PARTS or n.endswith(".json")]
    assert not [n for n in names if n.endswith(("/reference.py", "/demo.py", "/soak.py"))]


def test_package_is_reproducible(tmp_path: Path) -> None:
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    assert build("package", "--output", str(first)).returncode == 0
    assert build("package", "--output", str(second)).returncode == 0
    assert first.read_bytes() == second.read_bytes()


# -------------------------------------------------------------------------- install


def test_install_needs_py4godot(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    result = build("install", "--project", str(project))
    assert result.returncode != 0
    assert "py4godot is not installed" in result.stderr, result.stderr
    assert str(project / "addons" / "py4godot") in result.stderr
    assert not (project / "addons" / "godot_livekit").exists()


def test_install_needs_a_godot_project(tmp_path: Path) -> None:
    result = build("install", "--project", str(tmp_path))
    assert result.returncode != 0
    assert "not a Godot project" in result.stderr, result.stderr


def test_install_without_pip_or_get_pip_fails_clearly(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    interpreter = project / INTERPRETER_DIR
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(interpreter)], check=True, timeout=120
    )
    result = build("install", "--project", str(project))
    assert result.returncode != 0
    assert "has no pip" in result.stderr and "get_pip.py is missing" in result.stderr, result.stderr


def test_install_reports_pip_errors(tmp_path: Path) -> None:
    """A wheel pip cannot find: the relevant pip lines and the Python version are shown."""
    project = make_project(tmp_path)
    fake = project / INTERPRETER_DIR / "bin" / "python3"
    fake.parent.mkdir(parents=True)
    fake.write_text(
        textwrap.dedent(
            """\
            #!/bin/sh
            case "$*" in
              "-m pip --version") echo "pip 99.0"; exit 0 ;;
              *"-m pip install"*)
                echo "Processing /somewhere/godot-livekit"
                echo "Collecting livekit<1.3,>=1.2.1 (from godot-livekit==0.1.0)"
                echo "ERROR: Could not find a version that satisfies the requirement" \
                  "livekit<1.3,>=1.2.1 (from versions: none)" >&2
                echo "ERROR: No matching distribution found for livekit<1.3,>=1.2.1" >&2
                exit 1 ;;
              *platform*) echo "3.99.0"; exit 0 ;;
              *) echo "(3, 99)"; exit 0 ;;
            esac
            """
        )
    )
    fake.chmod(0o755)
    result = build("install", "--project", str(project))
    assert result.returncode != 0
    assert "No matching distribution found for livekit" in result.stderr, result.stderr
    assert "3.99.0" in result.stderr
    assert not (project / "addons" / "godot_livekit").exists(), "nothing copied on failure"


@pytest.mark.timeout(900)
def test_install_into_simulated_py4godot_project(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    python3 = make_py4godot(project)
    result = build("install", "--project", str(project), *wheelhouse_args(), timeout=840)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "installing pip" in result.stdout, "get_pip.py was not used"

    installed = project / "addons" / "godot_livekit"
    for name in (
        "plugin.cfg",
        "LiveKit.gd",
        "LiveKitPoller.py",
        "INSTALL.md",
        "lib/.gdignore",
        "lib/godot_livekit/room.py",
    ):
        assert (installed / name).is_file(), name
    assert not list(installed.rglob("__pycache__"))

    check = run_in(
        python3, "import godot_livekit, livekit.rtc, numpy; print(godot_livekit.__file__)", tmp_path
    )
    assert check.returncode == 0, check.stderr
    assert str(project / INTERPRETER_DIR) in check.stdout, "imported from py4godot's site-packages"

    # The editor dock runs the dev tools through this interpreter, with no checkout around.
    bin_dir = python3.parent
    token = subprocess.run(
        [str(bin_dir / "godot-livekit-token"), "--identity", "player", "--room", "dev-room"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert token.returncode == 0, token.stderr
    assert token.stdout.startswith("eyJ") and token.stdout.count(".") == 2
    for command in (
        [str(python3), "-m", "godot_livekit.tools.devserver", "--help"],
        [str(bin_dir / "godot-livekit-dev-server"), "--help"],
    ):
        shown = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0 and "--port" in shown.stdout, shown.stderr

    # Without a binary anywhere it names every place it looked, the per-user folder included.
    user_data = tmp_path / "user-data"
    env = {k: v for k, v in os.environ.items() if k != "LIVEKIT_SERVER_BIN"}
    env.update(PATH="/usr/bin:/bin", XDG_DATA_HOME=str(user_data), HOME=str(tmp_path))
    missing = subprocess.run(
        [str(python3), "-m", "godot_livekit.tools.devserver", "--port", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert missing.returncode == 1
    assert "livekit-server not found" in missing.stderr, missing.stderr
    assert str(user_data / "godot-livekit" / "bin") in missing.stderr


# --------------------------------------------------------------------------- export


def write_game(project: Path) -> None:
    """A small game: an autoload, a scene with a Python script that imports project modules,
    a GDScript that loads another script by path, files nobody uses, and a stale copy of
    the addon (export writes the current one)."""
    shutil.copy(REPO / "export_presets.cfg", project / "export_presets.cfg")
    (project / "project.godot").write_text(
        textwrap.dedent(
            """\
            config_version=5

            [application]

            config/name="t"
            run/main_scene="res://main.tscn"

            [autoload]

            Net="*res://autoload/net.py"
            LiveKitPoller="*res://addons/godot_livekit/LiveKitPoller.py"
            """
        )
    )
    (project / "main.tscn").write_text(
        textwrap.dedent(
            """\
            [gd_scene load_steps=3 format=3]

            [ext_resource type="Script" path="res://scripts/player.py" id="1_player"]
            [ext_resource type="Script" path="res://scripts/hud.gd" id="2_hud"]

            [node name="Main" type="Node2D"]
            script = ExtResource("1_player")
            """
        )
    )
    files = {
        "autoload/net.py": "import json\n",
        "scripts/player.py": (
            "from scripts.helpers.util import double\nfrom . import sibling\n"
            "VALUE = double(sibling.BASE)\n"
        ),
        "scripts/sibling.py": "BASE = 21\n",
        "scripts/helpers/__init__.py": "",
        "scripts/helpers/.gdignore": "",
        "scripts/helpers/util.py": "def double(x):\n    return 2 * x\n",
        "scripts/hud.gd": 'extends Node\nconst WEAPON = "res://scripts/weapon.py"\n',
        "scripts/weapon.py": "import os\n",
        "tools/dev_only.py": "print('not shipped')\n",
        "tests/test_game.py": "def test_nothing():\n    pass\n",
        "addons/godot_livekit/stale.py": "OLD = True\n",
    }
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)


def files_under(root: Path, skip: Path) -> list[Path]:
    return [p.relative_to(root) for p in root.rglob("*") if p.is_file() and skip not in p.parents]


@pytest.mark.timeout(900)
def test_export_lays_out_py4godot_beside_a_hand_made_export(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_game(project)
    make_py4godot(project)
    out = tmp_path / "export"
    out.mkdir()
    (out / LINUX_BINARY).write_bytes(b"\x7fELF simulated Godot export")
    (out / "godot-livekit-demos.pck").write_bytes(b"GDPC simulated pack")
    env = {k: v for k, v in os.environ.items() if k != "GODOT"}

    args = ["export", "--preset", "Linux", "--out", str(out), "--project", str(project)]
    result = build(*args, *wheelhouse_args(), timeout=840, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "skipped Godot's export step" in result.stdout

    # Godot's output is left as it was; the project itself is not changed
    assert (out / LINUX_BINARY).read_bytes() == b"\x7fELF simulated Godot export"
    assert not (project / "addons" / "godot_livekit" / "LiveKitRoom.py").exists()
    untouched = run_in(project / INTERPRETER_DIR / "bin" / "python3", "import numpy", tmp_path)
    assert untouched.returncode != 0, "export installs into the exported copy only"

    # py4godot: its addon files and the Linux interpreter only, with our dependencies in it
    py4godot = out / "addons" / "py4godot"
    assert (py4godot / "python.gdextension").is_file()
    assert (py4godot / INTERPRETER_NAME / "python" / "bin" / "python3").exists()
    assert not (py4godot / WINDOWS_INTERPRETER_NAME).exists()
    exported_python = py4godot / INTERPRETER_NAME / "python" / "bin" / "python3"
    check = run_in(
        exported_python,
        "import godot_livekit, livekit.rtc, numpy, mss, scripts.player as p;"
        "print(godot_livekit.__file__); print(p.VALUE)",
        out,
    )
    assert check.returncode == 0, check.stderr
    assert str(py4godot / INTERPRETER_NAME) in check.stdout.splitlines()[0]
    assert check.stdout.splitlines()[1] == "42", "the script's project imports resolve"

    # our addon as `install` lays it out (the stale copy replaced), with the core copy
    exported_addon = out / "addons" / "godot_livekit"
    for path in source_files(ADDON):
        assert (exported_addon / path.relative_to(ADDON)).is_file(), path
    for path in source_files(CORE):
        assert (exported_addon / "lib" / "godot_livekit" / path.relative_to(CORE)).is_file()
    assert (exported_addon / "lib" / ".gdignore").is_file()
    assert not (exported_addon / "stale.py").exists()

    # every .py script the project uses, at its res:// path; nothing else of the project
    shipped = {p.as_posix() for p in files_under(out, py4godot) if "addons" not in p.parts}
    assert shipped == {
        LINUX_BINARY,
        "godot-livekit-demos.pck",
        "launch-godot-livekit-demos.sh",
        "autoload/net.py",
        "scripts/player.py",
        "scripts/sibling.py",
        "scripts/helpers/__init__.py",
        "scripts/helpers/util.py",
        "scripts/weapon.py",
    }, sorted(shipped)

    # nothing from the repository's tests, benchmarks or developer tools
    outside_interpreter = files_under(out, py4godot / INTERPRETER_NAME)
    assert not [p for p in outside_interpreter if set(p.parts) & DEV_ONLY_PARTS]
    assert not [p for p in outside_interpreter if p.name in {"build.py", "pyproject.toml"}]
    site_packages = next((py4godot / INTERPRETER_NAME / "python" / "lib").glob("python3*"))
    installed = {p.name for p in (site_packages / "site-packages").iterdir()}
    assert "godot_livekit" in installed and not installed & DEV_ONLY_PARTS, sorted(installed)
    assert not list((site_packages / "site-packages").rglob("godot_livekit_dev"))

    launcher = out / "launch-godot-livekit-demos.sh"
    assert os.access(launcher, os.X_OK)
    assert 'cd "$(dirname "$0")"' in launcher.read_text()
    assert f'exec "./{LINUX_BINARY}"' in launcher.read_text()


def fake_godot(tmp_path: Path, exit_code: int) -> tuple[Path, Path]:
    """A stand-in for the Godot binary: records its arguments, writes the binary it is
    asked to export (last argument) and exits with `exit_code`."""
    record = tmp_path / "godot-args.txt"
    godot = tmp_path / "godot"
    godot.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            for arg in "$@"; do printf '%s\\n' "$arg"; done > "{record}"
            for last in "$@"; do :; done
            [ {exit_code} -eq 0 ] && printf 'exported' > "$last"
            exit {exit_code}
            """
        )
    )
    godot.chmod(0o755)
    return godot, record


@pytest.mark.parametrize("godot_exit", [0, 3])
def test_export_runs_godot_headless_first(tmp_path: Path, godot_exit: int) -> None:
    project = make_project(tmp_path)
    write_game(project)  # no py4godot: the layout step fails after Godot's step
    godot, record = fake_godot(tmp_path, godot_exit)
    out = tmp_path / "export"
    result = build(
        "export",
        "--preset",
        "Linux",
        "--out",
        str(out),
        "--project",
        str(project),
        env={**os.environ, "GODOT": str(godot)},
    )
    assert result.returncode != 0
    expected = ["--headless", "--path", str(project), "--export-release", "Linux"]
    assert record.read_text().splitlines() == [*expected, str(out / LINUX_BINARY)]
    if godot_exit:
        assert "Godot's export failed (exit 3)" in result.stderr, result.stderr
    else:
        assert (out / LINUX_BINARY).read_text() == "exported"
        assert "py4godot is not installed" in result.stderr, result.stderr
    assert not (out / "addons").exists(), "nothing laid out"


def test_export_names_the_presets_it_knows(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_game(project)
    result = build(
        "export", "--preset", "Amiga", "--out", str(tmp_path / "o"), "--project", str(project)
    )
    assert result.returncode != 0
    assert "no export preset named 'Amiga'" in result.stderr
    assert "'Linux'" in result.stderr and "'Windows Desktop'" in result.stderr


def test_repo_presets_export_the_demos_for_linux_and_windows() -> None:
    presets = {p.name: p for p in read_presets(REPO / "export_presets.cfg")}
    assert presets == {
        "Linux": Preset("Linux", "Linux", f"build/export/linux/{LINUX_BINARY}", "x86_64"),
        "Windows Desktop": Preset(
            "Windows Desktop",
            "Windows Desktop",
            "build/export/windows/godot-livekit-demos.exe",
            "x86_64",
        ),
    }
    assert presets["Linux"].target.interpreter_glob == "cpython-*-linux64"
    assert presets["Windows Desktop"].target.interpreter_glob == "cpython-*-windows64"
    project = (REPO / "project.godot").read_text()
    assert 'run/main_scene="res://demo_scenes/launcher.tscn"' in project


@pytest.mark.timeout(600)
def test_export_for_windows_installs_windows_wheels(tmp_path: Path) -> None:
    """An interpreter this machine cannot run gets the target platform's wheels through the
    host's pip; offline, with only Linux wheels at hand, pip says which one is missing."""
    if not WHEELHOUSE.is_dir():
        pytest.fail(f"{WHEELHOUSE} is missing: run `python build.py test`", pytrace=False)
    build_only = tmp_path / "wheels"
    build_only.mkdir()
    for wheel in WHEELHOUSE.glob("*.whl"):
        if wheel.name.startswith(("setuptools-", "wheel-", "packaging-")):
            shutil.copy(wheel, build_only)
    project = make_project(tmp_path)
    write_game(project)
    make_py4godot(project)
    out = tmp_path / "export"
    result = build(
        "export",
        "--preset",
        "Windows Desktop",
        "--out",
        str(out),
        "--project",
        str(project),
        "--wheelhouse",
        str(build_only),
        timeout=540,
    )
    assert result.returncode != 0
    assert f"pip install godot-livekit for {WINDOWS_INTERPRETER_NAME}" in result.stdout
    assert "No matching distribution found" in result.stderr, result.stderr
    assert (out / "addons" / "py4godot" / WINDOWS_INTERPRETER_NAME / "python").is_dir()
    assert not (out / "addons" / "py4godot" / INTERPRETER_NAME).exists()
