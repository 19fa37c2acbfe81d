extends RefCounted
## Development helpers shared by the editor dock and the demo launcher: start/stop a local
## LiveKit dev server and mint dev tokens with the godot-livekit package installed in
## py4godot's own Python:
## [br][code]<python> -m godot_livekit.tools.devserver --port PORT[/code]
## [br][code]<python> -m godot_livekit.tools.tokens --identity ID --room ROOM[/code]
## [br]The dev server runs the [code]livekit-server[/code] binary found on PATH, or the one the
## project setting [code]godot_livekit/dev/livekit_server[/code] (or
## [code]$LIVEKIT_SERVER_BIN[/code]) names.
## [br][b]How Python is found[/b] (first match wins):
## [br]1. project setting [code]godot_livekit/dev/python[/code],
## [br]2. environment variable [code]GODOT_LIVEKIT_PYTHON[/code],
## [br]3. py4godot's embedded interpreter,
## [code]res://addons/py4godot/cpython-*/python/bin/python3[/code]
## (or [code]python/python.exe[/code] on Windows) -- the one the addon itself runs in.
## [br]Only for development: an exported game mints no tokens; it gets them from your backend.

const PYTHON_SETTING: String = "godot_livekit/dev/python"
const PYTHON_ENV: String = "GODOT_LIVEKIT_PYTHON"
const SERVER_BIN_SETTING: String = "godot_livekit/dev/livekit_server"
const SERVER_BIN_ENV: String = "LIVEKIT_SERVER_BIN"
const PY4GODOT_DIR: String = "res://addons/py4godot"
const DEVSERVER_MODULE: String = "godot_livekit.tools.devserver"
const TOKENS_MODULE: String = "godot_livekit.tools.tokens"
const DEFAULT_PORT: int = 7880
const DEV_ROOM: String = "dev-room"
const DEV_IDENTITY: String = "godot-player"
const JWT_PATTERN: String = "eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+"


## ws:// URL of the local dev server on [param port].
static func server_url(port: int = DEFAULT_PORT) -> String:
	return "ws://127.0.0.1:%d" % port


## The Python interpreter to run the dev tools with, or "" when none is found.
static func find_python() -> String:
	var configured: String = _configured(PYTHON_SETTING, PYTHON_ENV)
	if not configured.is_empty():
		return configured
	return find_py4godot_python()


## py4godot's embedded interpreter (absolute path), or "" when py4godot is not installed.
static func find_py4godot_python() -> String:
	var root: String = ProjectSettings.globalize_path(PY4GODOT_DIR)
	var dir: DirAccess = DirAccess.open(root)
	if dir == null:
		return ""
	var names: PackedStringArray = dir.get_directories()
	names.sort()
	for entry: String in names:
		if not entry.begins_with("cpython-"):
			continue
		for relative: String in ["python/bin/python3", "python/python.exe"]:
			var candidate: String = root.path_join(entry).path_join(relative)
			if FileAccess.file_exists(candidate):
				return candidate
	return ""


## What is missing to run the dev tools ("" when a Python was found).
static func problem() -> String:
	if find_python().is_empty():
		return (
			(
				"no Python found: install py4godot in %s (its interpreter runs the dev tools), "
				+ "or set the project setting %s or $%s."
			)
			% [PY4GODOT_DIR, PYTHON_SETTING, PYTHON_ENV]
		)
	return ""


## Start [code]python -m godot_livekit.tools.devserver --port PORT[/code]; returns
## {"pid": int, "error": String} (pid -1 on error).
static func start_server(port: int = DEFAULT_PORT) -> Dictionary:
	var missing: String = problem()
	if not missing.is_empty():
		return {"pid": -1, "error": missing}
	var server_bin: String = _configured(SERVER_BIN_SETTING, SERVER_BIN_ENV)
	if not server_bin.is_empty():
		OS.set_environment(SERVER_BIN_ENV, server_bin)
	var python: String = find_python()
	var args: PackedStringArray = ["-m", DEVSERVER_MODULE, "--port", str(port)]
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


## Run [code]python -m godot_livekit.tools.tokens --identity ID --room ROOM[/code]
## (blocking: call it from a Thread in anything interactive). Returns
## {"token": String, "error": String}.
static func mint_token(identity: String = DEV_IDENTITY, room: String = DEV_ROOM) -> Dictionary:
	var missing: String = problem()
	if not missing.is_empty():
		return {"token": "", "error": missing}
	var python: String = find_python()
	var args: PackedStringArray = ["-m", TOKENS_MODULE, "--identity", identity, "--room", room]
	var output: Array = []
	var code: int = OS.execute(python, args, output, true)
	var text: String = "\n".join(PackedStringArray(output))
	var token: String = last_jwt(text)
	if code != 0 or token.is_empty():
		var tail: PackedStringArray = text.strip_edges().split("\n")
		var last_lines: String = "\n".join(tail.slice(maxi(tail.size() - 6, 0)))
		return {
			"token": "",
			"error": "`python -m %s` failed (exit %d):\n%s" % [TOKENS_MODULE, code, last_lines],
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
