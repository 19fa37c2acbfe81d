"""`build.py package`, `install` and `export` (real subprocesses and pip, no Godot).

The install and export tests build a simulated py4godot project: a venv made with the current
interpreter AT addons/py4godot/cpython-<version>-linux64/python/ (so its bin/python3 sits where
py4godot keeps its embedded interpreter), without pip, next to a get_pip.py stand-in that
bootstraps pip with ensurepip. Inside `python build.py test` (a network namespace with no
index) pip installs from .tools/wheelhouse, which `build.py test` fills beforehand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest

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
