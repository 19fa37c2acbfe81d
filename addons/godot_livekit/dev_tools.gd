extends RefCounted
## Development helpers shared by the editor dock and the demo launcher: find a Python
## interpreter and this repository's build.py, start/stop the local dev server
## ([code]python build.py server[/code]) and mint dev tokens
## ([code]python build.py token --identity ... --room ...[/code]).
##
## [b]How build.py is found[/b] (first match wins):
## [br]1. project setting [code]godot_livekit/dev/build_py[/code] (absolute path),
## [br]2. environment variable [code]GODOT_LIVEKIT_BUILD_PY[/code],
## [br]3. [code]build.py[/code] in the project folder or one of its three parent folders.
## [br][b]How Python is found[/b] (first match wins):
## [br]1. project setting [code]godot_livekit/dev/python[/code],
## [br]2. environment variable [code]GODOT_LIVEKIT_PYTHON[/code],
## [br]3. the checkout's [code].venv[/code] interpreter next to build.py,
## [br]4. [code]python3[/code], [code]python[/code] (and [code]py[/code] on Windows) on PATH.
## [br]Only for development: an exported game has neither; it gets tokens from your backend.

const BUILD_PY_SETTING: String = "godot_livekit/dev/build_py"
const PYTHON_SETTING: String = "godot_livekit/dev/python"
const BUILD_PY_ENV: String = "GODOT_LIVEKIT_BUILD_PY"
const PYTHON_ENV: String = "GODOT_LIVEKIT_PYTHON"
const DEFAULT_PORT: int = 7880
const DEV_ROOM: String = "dev-room"
const DEV_IDENTITY: String = "godot-player"
const PARENT_LEVELS: int = 3
const JWT_PATTERN: String = "eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+"


## ws:// URL of the local dev server on [param port].
static func server_url(port: int = DEFAULT_PORT) -> String:
	return "ws://127.0.0.1:%d" % port


## Absolute path of build.py, or "" when it cannot be found.
static func find_build_py() -> String:
	var configured: String = _configured(BUILD_PY_SETTING, BUILD_PY_ENV)
	if not configured.is_empty():
		return configured if FileAccess.file_exists(configured) else ""
	var folder: String = ProjectSettings.globalize_path("res://").simplify_path()
	for _level: int in range(PARENT_LEVELS + 1):
		var candidate: String = folder.path_join("build.py")
		if FileAccess.file_exists(candidate):
			return candidate
		var parent: String = folder.get_base_dir()
		if parent == folder or parent.is_empty():
			break
		folder = parent
	return ""


## A Python interpreter to run build.py with, or "" when none is found.
static func find_python(build_py: String = "") -> String:
	var configured: String = _configured(PYTHON_SETTING, PYTHON_ENV)
	if not configured.is_empty():
		return configured if _runs(configured) else ""
	if not build_py.is_empty():
		var root: String = build_py.get_base_dir()
		for venv_python: String in [
			root.path_join(".venv/bin/python"), root.path_join(".venv/Scripts/python.exe")
		]:
			if FileAccess.file_exists(venv_python) and _runs(venv_python):
				return venv_python
	var names: Array[String] = ["python3", "python"]
	if OS.get_name() == "Windows":
		names = ["python", "py"]
	for command: String in names:
		if _runs(command):
			return command
	return ""


## What is missing to run build.py ("" when python and build.py were both found).
static func problem() -> String:
	var build_py: String = find_build_py()
	if build_py.is_empty():
		return (
			(
				"build.py not found (looked in the project folder and its parents). Set the "
				+ "project setting %s or $%s to the godot-livekit checkout's build.py."
			)
			% [BUILD_PY_SETTING, BUILD_PY_ENV]
		)
	if find_python(build_py).is_empty():
		return (
			(
				"no Python found (checked the project setting %s, $%s, the .venv next to "
				+ "build.py and python3/python on PATH). Install Python 3.11+ or set one of them."
			)
			% [PYTHON_SETTING, PYTHON_ENV]
		)
	return ""


## Start [code]python build.py server --port PORT[/code]; returns
## {"pid": int, "error": String} (pid -1 on error).
static func start_server(port: int = DEFAULT_PORT) -> Dictionary:
	var missing: String = problem()
	if not missing.is_empty():
		return {"pid": -1, "error": missing}
	var build_py: String = find_build_py()
	var python: String = find_python(build_py)
	var args: PackedStringArray = [build_py, "server", "--port", str(port)]
	var pid: int = OS.create_process(python, args, false)
	if pid <= 0:
		return {"pid": -1, "error": "could not start %s %s" % [python, " ".join(args)]}
	return {"pid": pid, "error": ""}


## Ask the dev server process to stop (SIGTERM on Linux/macOS so it also stops the
## livekit-server it started; a hard kill on Windows). Check [method is_running] later
## and call [method force_stop] if it is still there.
static func stop_server(pid: int) -> void:
	if pid <= 0 or not OS.is_process_running(pid):
		return
	if OS.get_name() == "Windows":
		OS.kill(pid)
		return
	var output: Array = []
	if OS.execute("kill", ["-TERM", str(pid)], output, true) != 0:
		OS.kill(pid)


## Kill the dev server process outright.
static func force_stop(pid: int) -> void:
	if pid > 0 and OS.is_process_running(pid):
		OS.kill(pid)


## True while the process [param pid] runs.
static func is_running(pid: int) -> bool:
	return pid > 0 and OS.is_process_running(pid)


## Run [code]python build.py token --identity ID --room ROOM[/code] (blocking: call it
## from a Thread in anything interactive). Returns {"token": String, "error": String}.
static func mint_token(identity: String = DEV_IDENTITY, room: String = DEV_ROOM) -> Dictionary:
	var missing: String = problem()
	if not missing.is_empty():
		return {"token": "", "error": missing}
	var build_py: String = find_build_py()
	var python: String = find_python(build_py)
	var args: PackedStringArray = [build_py, "token", "--identity", identity, "--room", room]
	var output: Array = []
	var code: int = OS.execute(python, args, output, true)
	var text: String = "\n".join(PackedStringArray(output))
	var token: String = last_jwt(text)
	if code != 0 or token.is_empty():
		var tail: PackedStringArray = text.strip_edges().split("\n")
		var last_lines: String = "\n".join(tail.slice(maxi(tail.size() - 6, 0)))
		return {
			"token": "",
			"error": "`python build.py token` failed (exit %d):\n%s" % [code, last_lines],
		}
	return {"token": token, "error": ""}


## The last JSON Web Token in [param text], or "".
static func last_jwt(text: String) -> String:
	var regex: RegEx = RegEx.create_from_string(JWT_PATTERN)
	var found: Array[RegExMatch] = regex.search_all(text)
	return found[-1].get_string() if not found.is_empty() else ""


static func _configured(setting: String, env_name: String) -> String:
	if ProjectSettings.has_setting(setting):
		var value: String = str(ProjectSettings.get_setting(setting)).strip_edges()
		if not value.is_empty():
			return value
	return OS.get_environment(env_name).strip_edges()


static func _runs(command: String) -> bool:
	var output: Array = []
	return OS.execute(command, ["--version"], output, true) == 0
