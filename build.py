#!/usr/bin/env python3
"""Developer entry point for godot-livekit: setup, test, demo, dev server, tokens, lint.

Standard library only: this script runs before anything is installed.

    python build.py setup                  # .venv + pip install -e '.[dev]' + livekit-server
    python build.py test -- -k rpc -x      # pytest inside a private network namespace
    python build.py demo [--url U ...]     # scripted demo (local embedded server by default)
    python build.py server [--port 7880]   # local dev server for Godot on this machine
    python build.py token --identity X --room Y
    python build.py bench [--minutes 3] [--quick]   # main-thread costs, audio delay
    python build.py soak [--minutes 10]    # long two-participant session, resource figures
    python build.py lint
    python build.py package                # dist/godot-livekit-addon-<version>.zip
    python build.py install --project P    # addon + core into a py4godot project
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

REPO_ROOT = Path(__file__).resolve().parent
BUILD_SCRIPT = REPO_ROOT / "build.py"
PYPROJECT = REPO_ROOT / "pyproject.toml"

VENV_DIR = REPO_ROOT / ".venv"
VENV_BIN = VENV_DIR / "bin"
VENV_PYTHON = VENV_BIN / "python"
INSTALL_STAMP = VENV_DIR / ".godot-livekit-pyproject.sha256"

TOOLS_DIR = REPO_ROOT / ".tools"
CACHED_SERVER_BINARY = TOOLS_DIR / "bin" / "livekit-server"
GO_BIN_DIR = TOOLS_DIR / "gobin"
GO_BUILT_SERVER_BINARY = GO_BIN_DIR / "server"
LIVEKIT_SERVER_VERSION = "1.13.5"
LIVEKIT_SERVER_GO_PACKAGE = (
    f"github.com/livekit/livekit-server/cmd/server@v{LIVEKIT_SERVER_VERSION}"
)
MIN_GO_VERSION = "1.26"
SERVER_BIN_ENV = "LIVEKIT_SERVER_BIN"

NETNS_EXEC_STEP = "_netns-exec"
NETNS_VETH_PAIR = ("lkveth0", "lkveth1")
NETNS_NODE_IP = "10.77.0.1"
NETNS_PEER_IP = "10.77.0.2"
NETNS_PREFIX_LEN = 24
NETNS_ENV = {"GODOT_LIVEKIT_NETNS": "1", "GODOT_LIVEKIT_NODE_IP": NETNS_NODE_IP}
NETNS_NO_PROXY = f"127.0.0.1,localhost,{NETNS_NODE_IP},{NETNS_PEER_IP}"

LINT_PATHS = ("python", "tests", "build.py", "bench", "addons")
GDSCRIPT_SKIP_DIRS = {".git", ".venv", ".tools", "__pycache__", ".godot"}


Command = Sequence[str | os.PathLike[str]]


class BuildError(Exception):
    """A build step failed; the message says what to do about it."""


def say(message: str) -> None:
    """Print one progress line."""
    print(f"[build] {message}", flush=True)


def format_command(command: Command) -> str:
    """Render a command for messages (shell-like quoting)."""
    return shlex.join(str(part) for part in command)


def run(command: Command, *, env: dict[str, str] | None = None) -> int:
    """Run a command in the repo root with inherited stdio; return its exit code."""
    return subprocess.run([str(part) for part in command], cwd=REPO_ROOT, env=env).returncode


def run_checked(command: Command, *, env: dict[str, str] | None = None) -> None:
    """Run a command; raise BuildError when it fails."""
    code = run(command, env=env)
    if code != 0:
        raise BuildError(f"command failed (exit {code}): {format_command(command)}")


def exec_command(command: Command, env: dict[str, str] | None = None) -> NoReturn:
    """Replace this process with `command` (its exit code becomes ours)."""
    args = [str(part) for part in command]
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(REPO_ROOT)
    try:
        os.execvpe(args[0], args, env if env is not None else os.environ)
    except OSError as error:
        raise BuildError(f"cannot run {format_command(args)}: {error}") from error


def is_executable_file(path: Path) -> bool:
    """True when `path` is an executable regular file."""
    return path.is_file() and os.access(path, os.X_OK)


# --------------------------------------------------------------------------- setup


def ensure_venv() -> None:
    """Create .venv with the current interpreter when it does not exist yet."""
    if VENV_PYTHON.exists():
        return
    say("creating .venv")
    run_checked([sys.executable, "-m", "venv", VENV_DIR])


def pyproject_digest() -> str:
    """SHA-256 of pyproject.toml: changes when dependencies change."""
    return hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()


def ensure_project_installed() -> None:
    """pip install -e '.[dev]' into .venv unless the stamp says it is current."""
    digest = pyproject_digest()
    if INSTALL_STAMP.exists() and INSTALL_STAMP.read_text().strip() == digest:
        return
    say("installing godot-livekit[dev] into .venv (pip install -e)")
    pip = [VENV_PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run_checked([*pip, "-e", ".[dev]"])
    INSTALL_STAMP.write_text(digest + "\n")


def find_livekit_server() -> Path | None:
    """An existing livekit-server: $LIVEKIT_SERVER_BIN, PATH, then .tools/bin."""
    from_env = os.environ.get(SERVER_BIN_ENV)
    if from_env and is_executable_file(Path(from_env)):
        return Path(from_env)
    on_path = shutil.which("livekit-server")
    if on_path:
        return Path(on_path)
    if is_executable_file(CACHED_SERVER_BINARY):
        return CACHED_SERVER_BINARY
    return None


def reports_pinned_version(binary: Path) -> bool:
    """True when `binary --version` names the pinned livekit-server version."""
    if not is_executable_file(binary):
        return False
    try:
        result = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and LIVEKIT_SERVER_VERSION in result.stdout.split()


def go_install_livekit_server() -> None:
    """Build the pinned livekit-server with `go install` into .tools/gobin."""
    go = shutil.which("go")
    if go is None:
        raise BuildError(
            "livekit-server was not found (not on PATH, not in .tools/bin).\n"
            f"Install Go >= {MIN_GO_VERSION} (https://go.dev/dl/) so build.py can build "
            f"livekit-server v{LIVEKIT_SERVER_VERSION}, or put a livekit-server binary on PATH."
        )
    say("installing livekit-server (go install, a few minutes)")
    env = dict(os.environ, CGO_ENABLED="0", GOBIN=str(GO_BIN_DIR))
    code = run([go, "install", LIVEKIT_SERVER_GO_PACKAGE], env=env)
    if code != 0 or not GO_BUILT_SERVER_BINARY.exists():
        raise BuildError(
            f"`go install {LIVEKIT_SERVER_GO_PACKAGE}` failed (exit {code}). "
            f"It needs Go >= {MIN_GO_VERSION}; alternatively put livekit-server on PATH."
        )


def install_livekit_server() -> Path:
    """Build (or reuse a finished build of) livekit-server and cache it in .tools/bin."""
    if not reports_pinned_version(GO_BUILT_SERVER_BINARY):
        go_install_livekit_server()
    CACHED_SERVER_BINARY.parent.mkdir(parents=True, exist_ok=True)
    os.replace(GO_BUILT_SERVER_BINARY, CACHED_SERVER_BINARY)
    say(f"livekit-server v{LIVEKIT_SERVER_VERSION} cached at {CACHED_SERVER_BINARY}")
    return CACHED_SERVER_BINARY


def ensure_livekit_server() -> Path:
    """Find or build livekit-server and export it to children as $LIVEKIT_SERVER_BIN."""
    binary = find_livekit_server() or install_livekit_server()
    os.environ[SERVER_BIN_ENV] = str(binary)
    return binary


def ensure_xvfb() -> None:
    """Install Xvfb (the screen-capture tests need it) with apt-get when root on Debian-likes."""
    if shutil.which("Xvfb"):
        return
    apt_get = shutil.which("apt-get")
    if apt_get is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print(
            "[build] warning: Xvfb not found, the screen-capture tests will fail; "
            "install the xvfb package (e.g. `sudo apt-get install xvfb`)",
            file=sys.stderr,
            flush=True,
        )
        return
    say("installing xvfb (apt-get) for the screen-capture tests")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    code = 0
    for command in ([apt_get, "update", "-qq"], [apt_get, "install", "-y", "-qq", "xvfb"]):
        code = subprocess.run(command, stdout=subprocess.DEVNULL, env=env).returncode
    if code != 0 or not shutil.which("Xvfb"):
        print(
            f"[build] warning: `apt-get install xvfb` failed (exit {code}); "
            "the screen-capture tests will fail until Xvfb is installed",
            file=sys.stderr,
            flush=True,
        )


def setup() -> None:
    """Everything the other subcommands need; cheap when already done."""
    ensure_venv()
    ensure_project_installed()
    ensure_livekit_server()
    ensure_xvfb()


# ----------------------------------------------------------------- network namespace


def netns_setup_commands(ip: str) -> list[list[str]]:
    """`ip` commands that bring up lo and a veth pair with private addresses."""
    veth_a, veth_b = NETNS_VETH_PAIR
    return [
        [ip, "link", "set", "lo", "up"],
        [ip, "link", "add", veth_a, "type", "veth", "peer", "name", veth_b],
        [ip, "addr", "add", f"{NETNS_NODE_IP}/{NETNS_PREFIX_LEN}", "dev", veth_a],
        [ip, "addr", "add", f"{NETNS_PEER_IP}/{NETNS_PREFIX_LEN}", "dev", veth_b],
        [ip, "link", "set", veth_a, "up"],
        [ip, "link", "set", veth_b, "up"],
    ]


def unshare_prefix() -> list[str]:
    """The command that runs the rest of the line in a new user + network namespace."""
    return ["unshare", "-rn"]


def check_unshare_works() -> None:
    """Fail loudly (never fall back to the host network) when unshare is unusable."""
    probe = [*unshare_prefix(), "true"]
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BuildError(f"`{format_command(probe)}` failed: {error}") from error
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip() or f"exit {result.returncode}"
        raise BuildError(
            f"`{format_command(probe)}` failed: {detail}\n"
            "A private network namespace is required (unprivileged user namespaces must be "
            "enabled); refusing to run on the host network."
        )


def exec_in_netns(command: Command) -> NoReturn:
    """Re-exec `command` inside a fresh private network namespace (see _netns-exec)."""
    check_unshare_works()
    step = [sys.executable, BUILD_SCRIPT, NETNS_EXEC_STEP, "--", *command]
    exec_command([*unshare_prefix(), *step])


def namespace_interfaces() -> list[str]:
    """Network interface names of this process's network namespace."""
    return sorted(name for _index, name in socket.if_nameindex())


def configure_netns() -> None:
    """Bring up lo and the veth pair; only inside a namespace that has nothing but lo."""
    interfaces = namespace_interfaces()
    if interfaces != ["lo"]:
        raise BuildError(
            f"{NETNS_EXEC_STEP} must run inside a fresh `unshare -rn` namespace "
            f"(found interfaces {interfaces}); refusing to touch this network."
        )
    ip = shutil.which("ip") or "/usr/sbin/ip"
    for command in netns_setup_commands(ip):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError(
                f"network namespace setup failed: `{format_command(command)}`: "
                f"{result.stderr.strip() or f'exit {result.returncode}'}"
            )


def netns_child_env() -> dict[str, str]:
    """Environment for commands inside the namespace (local addresses bypass proxies)."""
    env = dict(os.environ, **NETNS_ENV)
    for key in ("NO_PROXY", "no_proxy"):
        existing = env.get(key)
        env[key] = f"{existing},{NETNS_NO_PROXY}" if existing else NETNS_NO_PROXY
    return env


def venv_module_command(module: str, args: Sequence[str]) -> list[str]:
    """`.venv/bin/python -m module args...`."""
    return [str(VENV_PYTHON), "-m", module, *args]


def strip_separator(args: Sequence[str]) -> list[str]:
    """Drop a leading `--` that separates build.py options from passed-through ones."""
    args = list(args)
    return args[1:] if args[:1] == ["--"] else args


# ------------------------------------------------------------------------ commands


def cmd_setup(_args: argparse.Namespace) -> int:
    """`setup`: create .venv, install the project, find or build livekit-server."""
    setup()
    say(f"ready: {VENV_PYTHON}, livekit-server {os.environ[SERVER_BIN_ENV]}")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    """`test`: pytest inside a private network namespace."""
    setup()
    ensure_wheelhouse()
    exec_in_netns(venv_module_command("pytest", strip_separator(args.rest)))


def demo_args(args: argparse.Namespace) -> list[str]:
    """Options passed through to godot_livekit_dev.demo."""
    passed: list[str] = []
    for flag, value in (
        ("--url", args.url),
        ("--api-key", args.api_key),
        ("--api-secret", args.api_secret),
    ):
        if value is not None:
            passed += [flag, value]
    return passed + strip_separator(args.extra)


def cmd_demo(args: argparse.Namespace) -> int:
    """`demo`: the scripted demo; local embedded server in a namespace unless --url."""
    setup()
    command = venv_module_command("godot_livekit_dev.demo", demo_args(args))
    if args.url is None:
        exec_in_netns(command)
    exec_command(command)


def cmd_server(args: argparse.Namespace) -> int:
    """`server`: foreground dev server on this machine (host network, by design)."""
    setup()
    passed = ["--port", str(args.port), *strip_separator(args.extra)]
    exec_command(venv_module_command("godot_livekit.tools.devserver", passed))


def token_args(args: argparse.Namespace) -> list[str]:
    """Options passed through to godot_livekit.tools.tokens."""
    passed = ["--identity", args.identity, "--room", args.room]
    for flag, value in (
        ("--api-key", args.api_key),
        ("--api-secret", args.api_secret),
        ("--ttl", args.ttl),
    ):
        if value is not None:
            passed += [flag, str(value)]
    return passed


def cmd_token(args: argparse.Namespace) -> int:
    """`token`: print a dev access token."""
    setup()
    exec_command(venv_module_command("godot_livekit.tools.tokens", token_args(args)))


def bench_args(args: argparse.Namespace) -> list[str]:
    """Options passed through to bench.run."""
    passed = ["--port", str(args.port)]
    if args.minutes is not None:
        passed += ["--minutes", str(args.minutes)]
    if args.quick:
        passed.append("--quick")
    return passed + strip_separator(args.extra)


def cmd_bench(args: argparse.Namespace) -> int:
    """`bench`: the benchmarks against a local server inside a private network namespace."""
    setup()
    exec_in_netns(venv_module_command("bench.run", bench_args(args)))


def soak_args(args: argparse.Namespace) -> list[str]:
    """Options passed through to godot_livekit_dev.soak."""
    passed = ["--minutes", str(args.minutes), "--interval", str(args.interval)]
    return passed + strip_separator(args.extra)


def cmd_soak(args: argparse.Namespace) -> int:
    """`soak`: a long audio/video/data/RPC session with an embedded server, in a namespace."""
    setup()
    exec_in_netns(venv_module_command("godot_livekit_dev.soak", soak_args(args)))


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


def cmd_lint(_args: argparse.Namespace) -> int:
    """`lint`: ruff check, ruff format --check, gdlint and gdparse."""
    setup()
    paths = existing_lint_paths()
    failures = 0
    say(f"ruff check {' '.join(paths)}")
    failures += run([VENV_BIN / "ruff", "check", *paths]) != 0
    say("ruff format --check")
    failures += run([VENV_BIN / "ruff", "format", "--check", *paths]) != 0
    gd_files = gdscript_files()
    if gd_files:
        say(f"gdparse + gdlint over {len(gd_files)} GDScript file(s)")
        failures += run([VENV_BIN / "gdparse", *gd_files]) != 0
        failures += run([VENV_BIN / "gdlint", *gd_files]) != 0
    say("lint passed" if not failures else f"lint failed ({failures} step(s))")
    return 1 if failures else 0


def cmd_netns_exec(args: argparse.Namespace) -> int:
    """Hidden `_netns-exec`: configure the fresh namespace, then exec the command."""
    command = strip_separator(args.rest)
    if not command:
        raise BuildError(f"{NETNS_EXEC_STEP} needs a command after --")
    configure_netns()
    exec_command(command, netns_child_env())


# ------------------------------------------------------------------ package / install


ADDON_NAME = "godot_livekit"
ADDON_DIR = REPO_ROOT / "addons" / ADDON_NAME
CORE_PACKAGE_DIR = REPO_ROOT / "python" / "godot_livekit"
# Where the packaged addon carries its own copy of the core package (see addon_file_map).
# The addon's scripts `import godot_livekit` from py4godot's site-packages (pip install puts
# it there with its dependencies); this copy is the matching source, outside sys.path.
ADDON_CORE_SUBDIR = "lib"
DIST_DIR = REPO_ROOT / "dist"
PY4GODOT_DIR = Path("addons") / "py4godot"
PACKAGE_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
PACKAGE_SKIP_SUFFIXES = (".pyc", ".pyo")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: the same tree gives the same zip
WHEELHOUSE_DIR = TOOLS_DIR / "wheelhouse"
WHEELHOUSE_STAMP = WHEELHOUSE_DIR / ".godot-livekit-wheelhouse.sha256"
PIP_PROBLEM_MARKERS = (
    "error",
    "no matching distribution",
    "could not find a version",
    "requires-python",
    "requires a different python",
    "is not a supported wheel",
    "no such file",
)

ADDON_README = """\
# godot-livekit addon {version}

LiveKit rooms (voice, video, screen share, data, RPC, E2EE) for Godot 4 through py4godot.

## Install
1. Copy `addons/py4godot/` from a py4godot release into your project (it embeds CPython).
2. Unzip this archive in the project's root folder (it holds `addons/godot_livekit/`).
3. Install the Python side into py4godot's interpreter, from a godot-livekit checkout:
   `python build.py install --project /path/to/your/project` (does steps 2 and 3), or by hand:
   `addons/py4godot/cpython-*/python/bin/python3 -m pip install /path/to/godot-livekit`
   (run `addons/py4godot/get_pip.py` with that interpreter first if it has no pip).
4. Project > Project Settings > Plugins: enable "Godot LiveKit" (adds the LiveKitPoller
   autoload and the LiveKit dock; the dock's dev server and dev tokens need the checkout's
   build.py: set the project setting godot_livekit/dev/build_py to it).

`addons/godot_livekit/{core}/godot_livekit/` is the source of the engine-free core package
this addon was built with (Godot ignores it: `.gdignore`). The scripts import `godot_livekit`
from py4godot's interpreter, so step 3 is needed (it also installs livekit, numpy and mss).

## Use from GDScript
    var room: Object = LiveKit.new_room()
    room.connect("connected", _on_connected)
    room.connect_to_room("ws://127.0.0.1:7880", token, {{}})

`LiveKit` (addons/godot_livekit/LiveKit.gd) makes every object (`LiveKit.create_audio_source`,
`LiveKit.video_stream_from_track`, `LiveKit.create_screen_capture`, ...) and holds every enum
value (`LiveKit.STATE_CONNECTED`, `LiveKit.SOURCE_CAMERA`, ...).
"""


def project_version() -> str:
    """`[project] version` of pyproject.toml."""
    import tomllib

    with PYPROJECT.open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


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
        members[path.relative_to(REPO_ROOT).as_posix()] = path
    core_root = f"addons/{ADDON_NAME}/{ADDON_CORE_SUBDIR}/godot_livekit"
    for path in package_files(CORE_PACKAGE_DIR):
        members[f"{core_root}/{path.relative_to(CORE_PACKAGE_DIR).as_posix()}"] = path
    return members


def addon_generated_files() -> dict[str, str]:
    """Archive path -> text of the files the package adds (install notes, .gdignore)."""
    root = f"addons/{ADDON_NAME}"
    return {
        f"{root}/INSTALL.md": ADDON_README.format(
            version=project_version(), core=ADDON_CORE_SUBDIR
        ),
        # Godot must not load the core's modules as scripts (py4godot would run each one).
        f"{root}/{ADDON_CORE_SUBDIR}/.gdignore": "",
    }


def addon_contents() -> dict[str, bytes]:
    """Archive path -> bytes of everything the packaged addon holds."""
    contents = {name: path.read_bytes() for name, path in addon_file_map().items()}
    for name, text in addon_generated_files().items():
        contents.setdefault(name, text.encode())
    return contents


def write_package(destination: Path) -> Path:
    """Write the addon zip to `destination`; return it."""
    import zipfile

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


def cmd_package(args: argparse.Namespace) -> int:
    """`package`: dist/godot-livekit-addon-<version>.zip, ready to unzip into a project."""
    output = args.output or DIST_DIR / f"godot-livekit-addon-{project_version()}.zip"
    path = write_package(Path(output).resolve())
    say(f"wrote {path} ({path.stat().st_size // 1024} KiB); unzip it in a Godot project's root")
    return 0


def find_py4godot_python(project: Path) -> Path:
    """py4godot's embedded interpreter in `project` (one this machine can run)."""
    py4godot = project / PY4GODOT_DIR
    if not py4godot.is_dir():
        raise BuildError(
            f"py4godot is not installed in {project}: {py4godot} does not exist.\n"
            "Copy addons/py4godot/ from a py4godot release (niklas2902/py4godot) into the "
            "project first; it carries the Python interpreter the addon runs in."
        )
    candidates = sorted(py4godot.glob("cpython-*/python/bin/python3")) + sorted(
        py4godot.glob("cpython-*/python/python.exe")
    )
    for candidate in candidates:
        try:
            probe = subprocess.run(
                [str(candidate), "-c", "import sys; print(sys.version_info[:2])"],
                capture_output=True,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
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


def ensure_pip(python: Path, project: Path) -> None:
    """Make sure `python -m pip` works, running py4godot's get_pip.py when it does not."""
    check = [str(python), "-m", "pip", "--version"]
    if subprocess.run(check, capture_output=True).returncode == 0:
        return
    get_pip = project / PY4GODOT_DIR / "get_pip.py"
    if not get_pip.is_file():
        raise BuildError(
            f"{python} has no pip and {get_pip} is missing.\n"
            "py4godot releases ship addons/py4godot/get_pip.py; reinstall py4godot, or run "
            f"`{python} -m ensurepip` yourself."
        )
    say(f"installing pip into py4godot's Python ({get_pip.name})")
    result = subprocess.run([str(python), str(get_pip)], capture_output=True, text=True)
    if result.returncode != 0 or subprocess.run(check, capture_output=True).returncode != 0:
        raise BuildError(
            f"`{format_command([python, get_pip])}` failed (exit {result.returncode}):\n"
            + relevant_pip_lines(result.stdout + result.stderr)
        )


def relevant_pip_lines(output: str, tail: int = 8) -> str:
    """The lines of pip's output that say what went wrong, plus its last lines."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    picked = [line for line in lines if any(m in line.lower() for m in PIP_PROBLEM_MARKERS)]
    for line in lines[-tail:]:
        if line not in picked:
            picked.append(line)
    return "\n".join(f"    {line}" for line in picked) or "    (pip printed nothing)"


def copy_addon(project: Path) -> Path:
    """Copy the addon (with the core package inside) to PROJECT/addons/godot_livekit."""
    destination = project / "addons" / ADDON_NAME
    if destination.resolve() == ADDON_DIR.resolve():
        say(f"{destination} is this checkout's addon; not copying it onto itself")
        return destination
    staging = destination.with_name(f".{ADDON_NAME}.installing")
    if staging.exists():
        shutil.rmtree(staging)
    for name, data in addon_contents().items():
        target = staging / Path(name).relative_to(f"addons/{ADDON_NAME}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if destination.exists():
        shutil.rmtree(destination)
    os.replace(staging, destination)
    return destination


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


def cmd_install(args: argparse.Namespace) -> int:
    """`install --project PATH`: the addon into PATH/addons, the core into py4godot's Python."""
    project = Path(args.project).expanduser().resolve()
    if not (project / "project.godot").is_file():
        raise BuildError(f"{project} is not a Godot project (no project.godot there)")
    python = find_py4godot_python(project)
    say(f"py4godot Python {interpreter_version(python)}: {python}")
    wheelhouse = Path(args.wheelhouse).resolve() if args.wheelhouse else None
    if wheelhouse is not None and not wheelhouse.is_dir():
        raise BuildError(f"--wheelhouse {wheelhouse} is not a folder")
    ensure_pip(python, project)
    pip_install_core(python, wheelhouse)
    destination = copy_addon(project)
    check = subprocess.run(
        [str(python), "-c", "import godot_livekit"], capture_output=True, text=True
    )
    if check.returncode != 0:
        raise BuildError(
            f"installed, but `import godot_livekit` fails in {python}:\n"
            + relevant_pip_lines(check.stderr)
        )
    say(f"installed: {destination} and godot-livekit in {python}")
    say("enable the plugin in Project > Project Settings > Plugins (adds LiveKitPoller)")
    return 0


def wheelhouse_digest() -> str:
    """Changes when dependencies or the interpreter change."""
    key = pyproject_digest() + sys.version
    return hashlib.sha256(key.encode()).hexdigest()


def ensure_wheelhouse() -> Path:
    """Wheels of the core's dependencies and build requirements in .tools/wheelhouse.

    The packaging test installs into a fresh interpreter inside the private network
    namespace, where no index is reachable; it installs from these wheels instead.
    """
    digest = wheelhouse_digest()
    if WHEELHOUSE_STAMP.exists() and WHEELHOUSE_STAMP.read_text().strip() == digest:
        return WHEELHOUSE_DIR
    import tomllib

    with PYPROJECT.open("rb") as handle:
        build_requires = list(tomllib.load(handle)["build-system"]["requires"])
    say("collecting dependency wheels into .tools/wheelhouse (for the packaging test)")
    WHEELHOUSE_DIR.mkdir(parents=True, exist_ok=True)
    pip = [VENV_PYTHON, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check"]
    run_checked([*pip, "--wheel-dir", WHEELHOUSE_DIR, REPO_ROOT, *build_requires])
    WHEELHOUSE_STAMP.write_text(digest + "\n")
    return WHEELHOUSE_DIR


# ------------------------------------------------------------------------ argparse


def add_no_args(_parser: argparse.ArgumentParser) -> None:
    """Subcommand without options."""


def add_rest_args(parser: argparse.ArgumentParser) -> None:
    """Everything after the subcommand name is passed through (see main)."""
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="passed through unchanged")


def add_demo_args(parser: argparse.ArgumentParser) -> None:
    """`demo [--url U --api-key K --api-secret S]`."""
    parser.add_argument("--url", help="existing LiveKit server (default: embedded local one)")
    parser.add_argument("--api-key")
    parser.add_argument("--api-secret")
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="passed to the demo")


def add_server_args(parser: argparse.ArgumentParser) -> None:
    """`server [--port 7880]`."""
    parser.add_argument("--port", type=int, default=7880)
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="passed to the dev server")


def add_token_args(parser: argparse.ArgumentParser) -> None:
    """`token --identity X --room Y [--api-key K --api-secret S --ttl SECONDS]`."""
    parser.add_argument("--identity", required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--api-key")
    parser.add_argument("--api-secret")
    parser.add_argument("--ttl", type=int, help="lifetime in seconds")


def add_bench_args(parser: argparse.ArgumentParser) -> None:
    """`bench [--minutes 3] [--quick] [--port 7880]`."""
    parser.add_argument("--minutes", type=float, help="length of the drift run (default 3)")
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--port", type=int, default=7880, help="local server port (namespace)")
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="passed to bench.run")


def add_soak_args(parser: argparse.ArgumentParser) -> None:
    """`soak [--minutes 10] [--interval 60]`."""
    parser.add_argument("--minutes", type=float, default=10.0, help="length (default 10)")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between reports")
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="passed to the soak tool")


def add_package_args(parser: argparse.ArgumentParser) -> None:
    """`package [--output ZIP]`."""
    parser.add_argument("--output", help="zip path (default dist/godot-livekit-addon-<ver>.zip)")


def add_install_args(parser: argparse.ArgumentParser) -> None:
    """`install --project PATH [--wheelhouse DIR]`."""
    parser.add_argument("--project", required=True, help="Godot project folder (has py4godot)")
    parser.add_argument(
        "--wheelhouse", help="install offline from this folder of wheels (pip --no-index)"
    )


@dataclass(frozen=True)
class Subcommand:
    """One entry of the dispatch table."""

    help: str | None
    add_arguments: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[argparse.Namespace], int]
    passes_all_args: bool = False  # the rest of the command line goes to args.rest as-is


SUBCOMMANDS: dict[str, Subcommand] = {
    "setup": Subcommand("create .venv, install, find/build livekit-server", add_no_args, cmd_setup),
    "test": Subcommand(
        "run pytest in a private network namespace", add_rest_args, cmd_test, passes_all_args=True
    ),
    "demo": Subcommand("run the scripted demo", add_demo_args, cmd_demo),
    "server": Subcommand("run a local dev server in the foreground", add_server_args, cmd_server),
    "token": Subcommand("print a dev access token", add_token_args, cmd_token),
    "lint": Subcommand("ruff + gdlint", add_no_args, cmd_lint),
    "package": Subcommand("zip the addon into dist/", add_package_args, cmd_package),
    "install": Subcommand(
        "addon + core into a Godot project with py4godot", add_install_args, cmd_install
    ),
    "bench": Subcommand("benchmarks (main-thread costs, audio delay)", add_bench_args, cmd_bench),
    "soak": Subcommand("long session with resource figures", add_soak_args, cmd_soak),
    NETNS_EXEC_STEP: Subcommand(None, add_rest_args, cmd_netns_exec, passes_all_args=True),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per SUBCOMMANDS entry."""
    parser = argparse.ArgumentParser(prog="build.py", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
    for name, subcommand in SUBCOMMANDS.items():
        kwargs = {"help": subcommand.help} if subcommand.help else {}
        subcommand.add_arguments(subparsers.add_parser(name, **kwargs))
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the command line; pass-through subcommands keep their arguments verbatim."""
    subcommand = SUBCOMMANDS.get(argv[0]) if argv else None
    if subcommand is not None and subcommand.passes_all_args:
        return argparse.Namespace(subcommand=argv[0], rest=list(argv[1:]))
    return build_parser().parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and dispatch."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return SUBCOMMANDS[args.subcommand].handler(args)
    except BuildError as error:
        print(f"[build] error: {error}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
