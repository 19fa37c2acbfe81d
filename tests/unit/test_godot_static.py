"""Static checks of the Godot side (no engine needed): GDScript parses and lints, every
res:// path in scenes, project.godot and plugin.cfg exists, scenes are well formed, the
LiveKitPoller autoload is a py4godot class of that name, and the methods, signals and
enum constants the GDScript uses exist in the API reference or the addon's Python files.
"""

from __future__ import annotations

import ast
import configparser
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from gdtoolkit.parser import parser as gd_parser
from reference import load_reference

REPO = Path(__file__).resolve().parents[2]
ADDON = REPO / "addons" / "godot_livekit"
DEMOS = REPO / "demo_scenes"
PROJECT_FILE = REPO / "project.godot"
LIVEKIT_GD = ADDON / "LiveKit.gd"
GDLINT = Path(sys.executable).parent / "gdlint"

GD_FILES = sorted([*ADDON.rglob("*.gd"), *DEMOS.rglob("*.gd")])
SCENE_FILES = sorted([*ADDON.rglob("*.tscn"), *DEMOS.rglob("*.tscn"), *REPO.glob("*.tscn")])
RESOURCE_FILES = sorted([*ADDON.rglob("*.tres"), *DEMOS.rglob("*.tres")])
EXPECTED_DEMOS = ("launcher", "video_call", "spatial_voice", "text_chat", "screen_share")

# Methods every Godot Object has (GDScript calls them on LiveKit objects too).
OBJECT_METHODS = {
    "connect",
    "disconnect",
    "is_connected",
    "emit_signal",
    "has_method",
    "has_signal",
    "call",
    "call_deferred",
    "callv",
    "get",
    "set",
    "get_script",
    "set_script",
    "free",
}
# Reference enum names that clash across classes, and their LiveKit.gd prefix.
ENUM_PREFIXES = {
    ("LiveKitParticipant", "ParticipantKind"): ("KIND_", "PARTICIPANT_KIND_"),
    ("LiveKitTrack", "TrackKind"): ("KIND_", "TRACK_KIND_"),
    ("LiveKitTrack", "StreamState"): ("STATE_", "STREAM_STATE_"),
}


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def res_to_path(res: str) -> Path:
    assert res.startswith("res://"), res
    return REPO / res.removeprefix("res://")


def ids(paths: list[Path]) -> list[str]:
    return [rel(p) for p in paths]


# ------------------------------------------------------------------------- .tscn model


@dataclass
class Section:
    """One `[header key=value ...]` section of a Godot text resource and its properties."""

    kind: str
    attrs: dict[str, str]
    props: dict[str, str] = field(default_factory=dict)
    line: int = 0


_HEADER = re.compile(r"^\[(\w+)(.*)\]\s*$")
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s\]]+)')
_PROP = re.compile(r"^([\w/:.\-]+)\s*=\s*(.*)$")


def unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def parse_text_resource(path: Path) -> list[Section]:
    """Sections of a .tscn/.tres/project.godot-like file (enough for these checks)."""
    sections: list[Section] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        header = _HEADER.match(line)
        if header:
            attrs = {k: unquote(v) for k, v in _ATTR.findall(header.group(2))}
            sections.append(Section(header.group(1), attrs, line=number))
            continue
        prop = _PROP.match(line)
        if prop and sections:
            sections[-1].props[prop.group(1)] = prop.group(2)
    return sections


def godot_ini(path: Path) -> configparser.ConfigParser:
    """project.godot / plugin.cfg as an INI file (values keep their quotes)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # keep key case
    text = path.read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith(";"))
    parser.read_string("[__top__]\n" + body)
    return parser


# --------------------------------------------------------------------- GDScript helpers


_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')


def gd_code(path: Path) -> str:
    """GDScript source without comments and with string literals blanked."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        blanked = _STRING.sub('""', line)
        if "#" in blanked:
            blanked = blanked[: blanked.index("#")]
        lines.append(blanked)
    return "\n".join(lines)


def gd_strings(path: Path) -> list[str]:
    """Contents of the string literals of a GDScript file."""
    return [unquote(m.group(0)) for m in _STRING.finditer(path.read_text(encoding="utf-8"))]


def gd_consts(path: Path) -> dict[str, str]:
    """`const NAME[: T] = value` (value text) of a GDScript file."""
    found = {}
    for match in re.finditer(
        r"^const\s+(\w+)\s*(?::\s*[\w\[\]]+)?\s*:?=\s*(.+)$",
        path.read_text(encoding="utf-8"),
        re.M,
    ):
        found[match.group(1)] = match.group(2).strip()
    return found


def gd_static_funcs(path: Path) -> set[str]:
    return set(re.findall(r"^static func (\w+)\(", path.read_text(encoding="utf-8"), re.M))


def preloaded_scripts(path: Path) -> dict[str, Path]:
    """`const Alias ... = preload("res://x.gd")` aliases of a GDScript file."""
    aliases = {}
    for name, value in gd_consts(path).items():
        match = re.fullmatch(r'preload\("(res://[^"]+\.gd)"\)', value)
        if match:
            aliases[name] = res_to_path(match.group(1))
    return aliases


def livekit_script_paths() -> dict[str, str]:
    """The *_SCRIPT constants of LiveKit.gd, resolved to res:// paths."""
    consts = gd_consts(LIVEKIT_GD)
    addon_dir = unquote(consts["ADDON_DIR"])
    resolved = {}
    for name, value in consts.items():
        match = re.fullmatch(r'ADDON_DIR \+ "(/[^"]+)"', value)
        if match:
            resolved[name] = addon_dir + match.group(1)
    return resolved


# ----------------------------------------------------------------- reference / addon


def reference_methods() -> set[str]:
    return {m.name for c in load_reference() for m in c.methods}


def reference_signals() -> set[str]:
    return {s.name for c in load_reference() for s in c.signals}


def addon_python_files() -> list[Path]:
    """The py4godot classes plus the member mixins they inherit methods from."""
    return [*sorted(ADDON.glob("*.py")), ADDON / "bridge" / "members.py"]


def addon_python_members() -> tuple[set[str], set[str]]:
    """Public method names and signal names declared in the addon's py4godot classes."""
    methods: set[str] = set()
    signals: set[str] = set()
    for path in addon_python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if not node.name.startswith("_"):
                    methods.add(node.name)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                func = node.value.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if called == "signal":
                    signals |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return methods, signals


def object_typed_names(code: str) -> set[str]:
    """Variables and parameters declared `: Object` (how GDScript holds LiveKit objects)."""
    return set(re.findall(r"\b(\w+)\s*:\s*Object\b", code))


def livekit_calls(code: str) -> Iterator[tuple[str, str, int]]:
    """(receiver, method, argument count) for calls on Object-typed names and on
    `["stream"]` dictionary entries (strings are blanked in `code`)."""
    names = object_typed_names(code)
    for match in re.finditer(r"\b(\w+)\.([a-z_][a-z0-9_]*)\(", code):
        if match.group(1) in names:
            yield match.group(1), match.group(2), argument_count(code, match.end())
    for match in re.finditer(r'\[""\]\.([a-z_][a-z0-9_]*)\(', code):
        yield "[...]", match.group(1), argument_count(code, match.end())


def argument_count(code: str, start: int) -> int:
    """Arguments of the call whose "(" ends just before `start`."""
    depth, commas, seen = 1, 0, False
    for char in code[start:]:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                break
        elif char == "," and depth == 1:
            commas += 1
        if not char.isspace() and depth >= 1:
            seen = True
    return commas + 1 if seen else 0


def addon_python_arities() -> dict[str, set[int]]:
    """Method name -> accepted argument counts, over the addon's py4godot classes."""
    arities: dict[str, set[int]] = {}
    for path in addon_python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                positional = len(node.args.args) - 1  # self
                required = positional - len(node.args.defaults)
                arities.setdefault(node.name, set()).update(range(required, positional + 1))
    return arities


# ------------------------------------------------------------------------------ tests


def test_expected_files_exist() -> None:
    for name in EXPECTED_DEMOS:
        assert (DEMOS / f"{name}.tscn").is_file(), f"demo_scenes/{name}.tscn missing"
        assert (DEMOS / f"{name}.gd").is_file(), f"demo_scenes/{name}.gd missing"
    for name in ("LiveKit.gd", "plugin.gd", "plugin.cfg", "LiveKitPoller.py"):
        assert (ADDON / name).is_file(), f"addons/godot_livekit/{name} missing"
    assert PROJECT_FILE.is_file()


@pytest.mark.parametrize("path", GD_FILES, ids=ids(GD_FILES))
def test_gdscript_parses(path: Path) -> None:
    gd_parser.parse(path.read_text(encoding="utf-8"))


def test_gdlint_passes() -> None:
    assert GDLINT.is_file(), f"gdlint not found next to {sys.executable} (pip install gdtoolkit)"
    assert GD_FILES
    result = subprocess.run(
        [str(GDLINT), *map(str, GD_FILES)], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_gdscript_is_typed() -> None:
    """Every function declares its return type and every parameter its type."""
    problems = []
    for path in GD_FILES:
        code = gd_code(path)
        for match in re.finditer(r"^(?:static )?func (\w+)\(([^)]*)\)\s*(->)?", code, re.M):
            name, params, arrow = match.groups()
            if arrow is None:
                problems.append(f"{rel(path)}: func {name} has no return type")
            for param in filter(None, (p.strip() for p in params.split(","))):
                if ":" not in param:
                    problems.append(f"{rel(path)}: func {name}: parameter {param!r} is untyped")
        for match in re.finditer(r"^var (\w+)\s*(:)?", code, re.M):
            if match.group(2) is None:
                problems.append(f"{rel(path)}: var {match.group(1)} is untyped")
    assert not problems, "\n".join(problems)


TEXT_RESOURCES = SCENE_FILES + RESOURCE_FILES


@pytest.mark.parametrize("path", TEXT_RESOURCES, ids=ids(TEXT_RESOURCES))
def test_scene_is_well_formed(path: Path) -> None:
    sections = parse_text_resource(path)
    assert sections and sections[0].kind in {"gd_scene", "gd_resource"}, "bad header"
    assert sections[0].attrs.get("format") == "3", "Godot 4 text format is format=3"
    ext = {s.attrs["id"]: s for s in sections if s.kind == "ext_resource"}
    sub = {s.attrs["id"]: s for s in sections if s.kind == "sub_resource"}
    declared_ext = [s.attrs["id"] for s in sections if s.kind == "ext_resource"]
    declared_sub = [s.attrs["id"] for s in sections if s.kind == "sub_resource"]
    assert len(set(declared_ext)) == len(declared_ext), "duplicate ext_resource id"
    assert len(set(declared_sub)) == len(declared_sub), "duplicate sub_resource id"
    if "load_steps" in sections[0].attrs:
        assert int(sections[0].attrs["load_steps"]) == len(ext) + len(sub) + 1, "load_steps"
    text = path.read_text(encoding="utf-8")
    for used in re.findall(r'ExtResource\("([^"]+)"\)', text):
        assert used in ext, f"ExtResource({used!r}) is not declared"
    for used in re.findall(r'SubResource\("([^"]+)"\)', text):
        assert used in sub, f"SubResource({used!r}) is not declared"
    for section in ext.values():
        assert section.attrs.get("path", "").startswith("res://"), section.attrs
        target = res_to_path(section.attrs["path"])
        assert target.is_file(), f"{section.attrs['path']} does not exist"
        if section.attrs.get("type") == "Script":
            assert target.suffix in {".gd", ".py"}, target
    if sections[0].kind == "gd_scene":
        nodes = [s for s in sections if s.kind == "node"]
        assert nodes and "parent" not in nodes[0].attrs, "the first node must be the root"
        seen = {"."}
        for node in nodes[1:]:
            parent = node.attrs.get("parent")
            assert parent in seen, f"node {node.attrs['name']}: unknown parent {parent!r}"
            seen.add(node.attrs["name"] if parent == "." else f"{parent}/{node.attrs['name']}")
        for node in nodes:
            script = node.props.get("script")
            if script is not None:
                match = re.fullmatch(r'ExtResource\("([^"]+)"\)', script)
                assert match and ext[match.group(1)].attrs.get("type") == "Script", script


def scene_nodes(path: Path) -> tuple[set[str], set[str], Path | None]:
    """(node paths relative to the root, unique names, root script) of a .tscn."""
    sections = parse_text_resource(path)
    ext = {s.attrs["id"]: s.attrs for s in sections if s.kind == "ext_resource"}
    nodes = [s for s in sections if s.kind == "node"]
    paths: set[str] = set()
    unique: set[str] = set()
    for node in nodes[1:]:
        parent = node.attrs["parent"]
        node_path = node.attrs["name"] if parent == "." else f"{parent}/{node.attrs['name']}"
        paths.add(node_path)
        if node.props.get("unique_name_in_owner") == "true":
            unique.add(node.attrs["name"])
    script = None
    match = re.fullmatch(r'ExtResource\("([^"]+)"\)', nodes[0].props.get("script", ""))
    if match:
        script = res_to_path(ext[match.group(1)]["path"])
    return paths, unique, script


@pytest.mark.parametrize("path", SCENE_FILES, ids=ids(SCENE_FILES))
def test_scene_script_node_references_exist(path: Path) -> None:
    """`$Path` and `%Unique` in the root script name nodes that the scene has."""
    paths, unique, script = scene_nodes(path)
    assert script is not None, "demo scenes carry their script on the root node"
    code = gd_code(script)
    for name in re.findall(r"(?<![\w)\]\"'])%([A-Za-z_]\w*)", code):
        assert name in unique, f"{rel(script)} uses %{name}, not a unique node of {rel(path)}"
    for node_path in re.findall(r"\$([A-Za-z_][\w/]*)", code):
        assert node_path in paths, f"{rel(script)} uses ${node_path}, not a node of {rel(path)}"


def test_project_godot() -> None:
    project = godot_ini(PROJECT_FILE)
    assert project.get("__top__", "config_version") == "5"
    main_scene = unquote(project.get("application", "run/main_scene"))
    assert main_scene == "res://demo_scenes/launcher.tscn"
    assert res_to_path(main_scene).is_file()
    assert unquote(project.get("application", "config/name"))
    autoloads = dict(project.items("autoload"))
    assert set(autoloads) == {"LiveKitPoller"}, autoloads
    for value in autoloads.values():
        assert unquote(value).startswith("*res://"), "autoloads are enabled singletons (*res://)"
        assert res_to_path(unquote(value).removeprefix("*")).is_file(), value
    plugins = re.findall(r'"(res://[^"]+)"', project.get("editor_plugins", "enabled"))
    assert plugins == ["res://addons/godot_livekit/plugin.cfg"]
    assert all(res_to_path(p).is_file() for p in plugins)
    assert project.get("audio", "driver/enable_input") == "true", "the voice demo needs input"


def test_autoload_is_the_poller_class() -> None:
    autoload = unquote(godot_ini(PROJECT_FILE).get("autoload", "LiveKitPoller"))
    path = res_to_path(autoload.removeprefix("*"))
    assert path.name == "LiveKitPoller.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    assert "LiveKitPoller" in classes, "py4godot needs the class name to equal the file name"
    decorators = [ast.unparse(d) for d in classes["LiveKitPoller"].decorator_list]
    assert any(d.split("(")[0].endswith(("gdclass", "gdtool")) for d in decorators), decorators
    # the plugin registers the same autoload
    consts = gd_consts(ADDON / "plugin.gd")
    assert unquote(consts["AUTOLOAD_NAME"]) == "LiveKitPoller"
    assert "*" + unquote(consts["AUTOLOAD_PATH"]) == autoload


def test_plugin_cfg() -> None:
    plugin = godot_ini(ADDON / "plugin.cfg")
    for key in ("name", "description", "author", "version", "script"):
        assert unquote(plugin.get("plugin", key)), f"plugin.cfg lacks {key}"
    assert (ADDON / unquote(plugin.get("plugin", "script"))).is_file()
    with (REPO / "pyproject.toml").open("rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    assert unquote(plugin.get("plugin", "version")) == version, "plugin.cfg vs pyproject version"
    source = (ADDON / "plugin.gd").read_text(encoding="utf-8")
    assert source.startswith("@tool") and "extends EditorPlugin" in source
    for needed in ("add_autoload_singleton", "remove_autoload_singleton", "clipboard_set"):
        assert needed in source, f"plugin.gd does not call {needed}"


@pytest.mark.parametrize("path", GD_FILES, ids=ids(GD_FILES))
def test_res_paths_in_gdscript_exist(path: Path) -> None:
    for text in gd_strings(path):
        for res in re.findall(r"res://[\w./-]+\.\w+", text):
            assert res_to_path(res).is_file(), f"{rel(path)} refers to missing {res}"


def test_livekit_scripts_exist() -> None:
    scripts = livekit_script_paths()
    assert len(scripts) >= 9, scripts
    for name, res in scripts.items():
        path = res_to_path(res)
        assert path.is_file(), f"LiveKit.{name} = {res} does not exist"
        class_name = path.stem
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert any(
            isinstance(node, ast.ClassDef) and node.name == class_name for node in tree.body
        ), f"{res} has no class {class_name} (py4godot needs class name == file name)"


def gd_function_body(path: Path, name: str) -> str:
    """The text of ``func name(...)`` up to the next top-level declaration."""
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"^(static )?func {name}\(.*?(?=^\S)", text + "\n~", re.M | re.S)
    assert match, f"{rel(path)} has no func {name}"
    return match.group(0)


def test_availability_sees_a_script_py4godot_loaded_without_its_class() -> None:
    """py4godot swallows a failing import and still loads the script (base type ""): the
    façade must check the base type and ask the probe script for the reason."""
    body = gd_function_body(LIVEKIT_GD, "unavailable_reason")
    assert "get_instance_base_type().is_empty()" in body and "_import_error()" in body
    probe = res_to_path(livekit_script_paths()["PROBE_SCRIPT"])
    assert "def import_error(self)" in probe.read_text(encoding="utf-8")
    imports = [
        node
        for node in ast.parse(probe.read_text(encoding="utf-8")).body
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    modules = {n.module if isinstance(n, ast.ImportFrom) else n.names[0].name for n in imports}
    assert all(m in {"__future__", "importlib", "sys"} or m.startswith("py4godot") for m in modules)


def test_dev_tools_run_the_installed_package_with_py4godots_python() -> None:
    dev_tools = ADDON / "dev_tools.gd"
    text = dev_tools.read_text(encoding="utf-8")
    assert "build.py" not in text and "cpython-" in text and "python/bin/python3" in text
    consts = gd_consts(dev_tools)
    for name in ("DEVSERVER_MODULE", "TOKENS_MODULE"):
        module = unquote(consts[name])
        source = REPO / "python" / (module.replace(".", "/") + ".py")
        assert source.is_file(), f"{module} is not in the package"
        assert '__name__ == "__main__"' in source.read_text(encoding="utf-8")


def test_livekit_enum_constants_match_reference() -> None:
    consts = gd_consts(LIVEKIT_GD)
    expected: dict[str, int] = {}
    for cls in load_reference():
        for enum in cls.enums:
            prefix = ENUM_PREFIXES.get((cls.name, enum.name))
            for name, value in enum.values.items():
                mapped = prefix[1] + name.removeprefix(prefix[0]) if prefix else name
                assert mapped not in expected, f"{mapped} would be defined twice"
                expected[mapped] = value
    for name, value in expected.items():
        assert name in consts, f"LiveKit.gd lacks {name}"
        assert consts[name] == str(value), f"LiveKit.{name} = {consts[name]}, expected {value}"
    documented = LIVEKIT_GD.read_text(encoding="utf-8")
    for (_cls, _enum), (old, new) in ENUM_PREFIXES.items():
        assert f"{new}*" in documented, f"LiveKit.gd does not document the {old}* -> {new}* map"


def test_livekit_has_the_factories() -> None:
    funcs = gd_static_funcs(LIVEKIT_GD)
    wanted = {
        "new_room",
        "create_audio_source",
        "create_video_source",
        "create_local_audio_track",
        "create_local_video_track",
        "video_stream_from_track",
        "video_stream_from_participant",
        "audio_stream_from_track",
        "audio_stream_from_participant",
        "get_monitors",
        "get_windows",
        "check_permissions",
        "create_screen_capture",
        "create_screen_capture_for_monitor",
        "create_screen_capture_for_window",
        "new_e2ee_options",
    }
    assert wanted <= funcs, wanted - funcs
    # each factory calls the reference's static method of the same name on the instance
    statics = {m.name for c in load_reference() for m in c.methods if m.static}
    code = gd_code(LIVEKIT_GD)
    called = set(re.findall(r"\b\w+\.([a-z_]+)\(", code))
    assert statics <= called | {"create"}, statics - called


def test_gdscript_calls_exist_in_reference_or_addon() -> None:
    """Methods called on LiveKit objects exist (with an accepted number of arguments), and so
    do the signals connected on them and the LiveKit/helper members the scripts use."""
    py_methods, py_signals = addon_python_members()
    allowed_methods = reference_methods() | py_methods | OBJECT_METHODS
    allowed_signals = reference_signals() | py_signals
    arities = addon_python_arities()
    livekit_funcs = gd_static_funcs(LIVEKIT_GD)
    livekit_consts = set(gd_consts(LIVEKIT_GD))
    problems = []
    checked = 0
    for path in GD_FILES:
        code = gd_code(path)
        for receiver, method, count in livekit_calls(code):
            checked += 1
            if method not in allowed_methods:
                problems.append(f"{rel(path)}: {receiver}.{method}() is not in the API")
            elif method in arities and count not in arities[method]:
                problems.append(
                    f"{rel(path)}: {receiver}.{method}() with {count} argument(s); the addon "
                    f"accepts {sorted(arities[method])}"
                )
        raw = path.read_text(encoding="utf-8")
        for signal_name in re.findall(r'\b\w+\.connect\("(\w+)"', raw):
            checked += 1
            if signal_name not in allowed_signals:
                problems.append(f"{rel(path)}: signal {signal_name!r} is not in the API")
        for signal_name in re.findall(r"for signal_name: String in \[([^\]]+)\]", raw):
            for name in re.findall(r'"(\w+)"', signal_name):
                if name not in allowed_signals:
                    problems.append(f"{rel(path)}: signal {name!r} is not in the API")
        for member in re.findall(r"\bLiveKit\.(\w+)", code):
            if member not in livekit_funcs | livekit_consts:
                problems.append(f"{rel(path)}: LiveKit.{member} is not defined in LiveKit.gd")
        for alias, target in preloaded_scripts(path).items():
            defined = gd_static_funcs(target) | set(gd_consts(target))
            for member in re.findall(rf"\b{alias}\.(\w+)", code):
                if member not in defined:
                    problems.append(f"{rel(path)}: {alias}.{member} is not in {rel(target)}")
    assert checked > 50, f"the cross-check found only {checked} calls; is the regex broken?"
    assert not problems, "\n".join(problems)


# Python files Godot may see that are not py4godot classes (they are harmless to load).
NON_CLASS_PY_ALLOWED = {"build.py"}


def godot_visible_files(suffix: str) -> Iterator[Path]:
    """Files the Godot editor scans: not hidden, not under a folder with a .gdignore."""
    stack = [REPO]
    while stack:
        folder = stack.pop()
        if (folder / ".gdignore").exists() or (folder != REPO and folder.name.startswith(".")):
            continue
        for entry in sorted(folder.iterdir()):
            if entry.is_dir():
                if (entry / "project.godot").exists():
                    continue  # a nested project is not scanned
                stack.append(entry)
            elif entry.suffix == suffix and not entry.name.startswith("."):
                yield entry


def test_godot_sees_only_py4godot_scripts() -> None:
    """py4godot runs every .py file Godot loads as a script: any Python file the editor can
    see must be a py4godot class named like its file (the rest sit behind a .gdignore)."""
    ignored_roots = {"dist", "build", "demo_output"}  # generated, git-ignored
    problems = []
    for path in godot_visible_files(".py"):
        if path.relative_to(REPO).parts[0] in ignored_roots or rel(path) in NON_CLASS_PY_ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        classes = [
            node
            for node in tree.body
            if isinstance(node, ast.ClassDef)
            and any(
                ast.unparse(d).split("(")[0] in {"gdclass", "gdtool"} for d in node.decorator_list
            )
        ]
        if [c.name for c in classes] != [path.stem]:
            problems.append(f"{rel(path)}: not one @gdclass named {path.stem} (add a .gdignore?)")
    assert not problems, "\n".join(problems)


# --- shaders (video tiles) ------------------------------------------------------------------
# No Godot shading-language checker is packaged for Python or Debian; these are the checks a
# text scan can make: every res:// path exists, a .gdshader declares a known shader_type once,
# brackets balance. tests/unit/test_addon_video_tiles.py checks the tile shaders' uniforms.

SHADER_FILES = sorted(
    [*ADDON.rglob("*.gdshader"), *ADDON.rglob("*.gdshaderinc"), *DEMOS.rglob("*.gdshader")]
)
SHADER_TYPES = {"spatial", "canvas_item", "particles", "sky", "fog"}


@pytest.mark.parametrize("path", SHADER_FILES, ids=ids(SHADER_FILES))
def test_shader_files_are_well_formed(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)
    for res in re.findall(r"res://[\w./-]+\.\w+", text):
        assert res_to_path(res).is_file(), f"{rel(path)} refers to missing {res}"
    kinds = re.findall(r"^\s*shader_type\s+(\w+)\s*;", code, re.M)
    if path.suffix == ".gdshader":
        assert len(kinds) == 1 and kinds[0] in SHADER_TYPES, kinds
    else:
        assert not kinds, "an include must not declare shader_type"
    for opening, closing in ("()", "[]", "{}"):
        assert code.count(opening) == code.count(closing), f"unbalanced {opening}{closing}"


def test_addon_ships_shaders() -> None:
    assert SHADER_FILES, "the video tile shaders are missing"
