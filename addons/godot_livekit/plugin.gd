@tool
extends EditorPlugin
## Editor plugin of godot-livekit.
##
## Enabling it registers the [code]LiveKitPoller[/code] autoload (the Python node whose
## [code]_process[/code] pumps rooms, streams and captures); disabling it removes it.
## While enabled, a "LiveKit" dock starts/stops a local dev server
## ([code]python -m godot_livekit.tools.devserver[/code]) and copies a dev token to the
## clipboard ([code]python -m godot_livekit.tools.tokens[/code]), both run by py4godot's own
## Python interpreter; dev_tools.gd explains how it is found.

const DevTools: GDScript = preload("res://addons/godot_livekit/dev_tools.gd")
const AUTOLOAD_NAME: String = "LiveKitPoller"
const AUTOLOAD_PATH: String = "res://addons/godot_livekit/LiveKitPoller.py"
const STOP_GRACE_SECONDS: float = 6.0
const ERROR_COLOR: Color = Color(1.0, 0.45, 0.4)

var _dock: VBoxContainer
var _port: SpinBox
var _start_button: Button
var _stop_button: Button
var _url: LineEdit
var _status: Label
var _identity: LineEdit
var _room: LineEdit
var _token_button: Button
var _message: Label
var _timer: Timer
var _probe: HTTPRequest
var _server_pid: int = -1
var _server_ready: bool = false
var _probing: bool = false
var _stop_requested_at: float = -1.0
var _token_thread: Thread


func _enable_plugin() -> void:
	if not ProjectSettings.has_setting("autoload/" + AUTOLOAD_NAME):
		add_autoload_singleton(AUTOLOAD_NAME, AUTOLOAD_PATH)


func _disable_plugin() -> void:
	if ProjectSettings.has_setting("autoload/" + AUTOLOAD_NAME):
		remove_autoload_singleton(AUTOLOAD_NAME)


func _enter_tree() -> void:
	_dock = _build_dock()
	add_control_to_dock(DOCK_SLOT_RIGHT_UL, _dock)
	_refresh()
	var missing: String = DevTools.problem()
	if not missing.is_empty():
		_show_error(missing, false)  # only in the dock: the addon itself does not need it


func _exit_tree() -> void:
	if DevTools.is_running(_server_pid):
		DevTools.stop_server(_server_pid)
	if _token_thread != null and _token_thread.is_started():
		_token_thread.wait_to_finish()
	if _dock != null:
		remove_control_from_docks(_dock)
		_dock.queue_free()
		_dock = null


func _build_dock() -> VBoxContainer:
	var dock: VBoxContainer = VBoxContainer.new()
	dock.name = "LiveKit"

	var title: Label = Label.new()
	title.text = "Local LiveKit dev server"
	dock.add_child(title)

	var port_row: HBoxContainer = HBoxContainer.new()
	var port_label: Label = Label.new()
	port_label.text = "Port"
	port_row.add_child(port_label)
	_port = SpinBox.new()
	_port.min_value = 1024
	_port.max_value = 65535
	_port.value = DevTools.DEFAULT_PORT
	_port.size_flags_horizontal = Control.SIZE_EXPAND_FILL
	_port.value_changed.connect(_on_port_changed)
	port_row.add_child(_port)
	dock.add_child(port_row)

	var buttons: HBoxContainer = HBoxContainer.new()
	_start_button = Button.new()
	_start_button.text = "Start server"
	_start_button.pressed.connect(_on_start_pressed)
	buttons.add_child(_start_button)
	_stop_button = Button.new()
	_stop_button.text = "Stop server"
	_stop_button.pressed.connect(_on_stop_pressed)
	buttons.add_child(_stop_button)
	dock.add_child(buttons)

	_url = LineEdit.new()
	_url.editable = false
	_url.tooltip_text = "URL to pass to connect_to_room()"
	dock.add_child(_url)

	_status = Label.new()
	_status.autowrap_mode = TextServer.AUTOWRAP_WORD_SMART
	dock.add_child(_status)

	dock.add_child(HSeparator.new())
	_identity = _labelled_line_edit(dock, "Identity", DevTools.DEV_IDENTITY)
	_room = _labelled_line_edit(dock, "Room", DevTools.DEV_ROOM)
	_token_button = Button.new()
	_token_button.text = "Copy dev token"
	_token_button.tooltip_text = "Runs python -m godot_livekit.tools.tokens --identity ... --room ..."
	_token_button.pressed.connect(_on_token_pressed)
	dock.add_child(_token_button)

	_message = Label.new()
	_message.autowrap_mode = TextServer.AUTOWRAP_WORD_SMART
	_message.custom_minimum_size = Vector2(200, 0)
	dock.add_child(_message)

	_timer = Timer.new()
	_timer.wait_time = 1.0
	_timer.timeout.connect(_on_timer)
	dock.add_child(_timer)
	_probe = HTTPRequest.new()
	_probe.timeout = 1.0
	_probe.request_completed.connect(_on_probe_completed)
	dock.add_child(_probe)
	return dock


func _labelled_line_edit(parent: Control, caption: String, value: String) -> LineEdit:
	var row: HBoxContainer = HBoxContainer.new()
	var label: Label = Label.new()
	label.text = caption
	label.custom_minimum_size = Vector2(64, 0)
	row.add_child(label)
	var edit: LineEdit = LineEdit.new()
	edit.text = value
	edit.size_flags_horizontal = Control.SIZE_EXPAND_FILL
	row.add_child(edit)
	parent.add_child(row)
	return edit


func _on_port_changed(_value: float) -> void:
	_refresh()


func _on_start_pressed() -> void:
	if DevTools.is_running(_server_pid):
		return
	var started: Dictionary = DevTools.start_server(int(_port.value))
	if started["pid"] <= 0:
		_show_error(started["error"])
		return
	_server_pid = started["pid"]
	_server_ready = false
	_stop_requested_at = -1.0
	_show_info(
		(
			"Starting (livekit-server from PATH or the godot_livekit/dev/livekit_server "
			+ "setting; its output goes to the terminal that runs the editor)."
		)
	)
	_timer.start()
	_refresh()


func _on_stop_pressed() -> void:
	if not DevTools.is_running(_server_pid):
		return
	DevTools.stop_server(_server_pid)
	_stop_requested_at = Time.get_ticks_msec() / 1000.0
	_show_info("Stopping ...")
	_refresh()


func _on_timer() -> void:
	if not DevTools.is_running(_server_pid):
		if _stop_requested_at < 0.0:
			_show_error("The dev server exited; see the terminal output for the reason.")
		else:
			_show_info("Stopped.")
		_server_pid = -1
		_server_ready = false
		_stop_requested_at = -1.0
		_timer.stop()
		_refresh()
		return
	var now: float = Time.get_ticks_msec() / 1000.0
	if _stop_requested_at >= 0.0 and now - _stop_requested_at > STOP_GRACE_SECONDS:
		DevTools.force_stop(_server_pid)
		return
	if not _server_ready and not _probing:
		_probing = _probe.request("http://127.0.0.1:%d/" % int(_port.value)) == OK


func _on_probe_completed(
	result: int, response_code: int, _headers: PackedStringArray, _body: PackedByteArray
) -> void:
	_probing = false
	if result == HTTPRequest.RESULT_SUCCESS and response_code == 200 and not _server_ready:
		_server_ready = true
		_show_info("Ready. Connect to the URL above with a dev token.")
		_refresh()


func _on_token_pressed() -> void:
	if _token_thread != null and _token_thread.is_started():
		if _token_thread.is_alive():
			return
		_token_thread.wait_to_finish()
	_token_button.disabled = true
	_show_info("Minting a token ...")
	_token_thread = Thread.new()
	_token_thread.start(_mint_token.bind(_identity.text.strip_edges(), _room.text.strip_edges()))


func _mint_token(identity: String, room: String) -> void:
	var minted: Dictionary = DevTools.mint_token(identity, room)
	_on_token_minted.call_deferred(minted)


func _on_token_minted(minted: Dictionary) -> void:
	if _token_thread != null and _token_thread.is_started():
		_token_thread.wait_to_finish()
	_token_thread = null
	if _dock == null:
		return
	_token_button.disabled = false
	if not str(minted["error"]).is_empty():
		_show_error(minted["error"])
		return
	DisplayServer.clipboard_set(minted["token"])
	_show_info(
		"Token for '%s' in room '%s' copied to the clipboard." % [_identity.text, _room.text]
	)


func _refresh() -> void:
	if _dock == null:
		return
	var running: bool = DevTools.is_running(_server_pid)
	_start_button.disabled = running
	_stop_button.disabled = not running
	_port.editable = not running
	_url.text = DevTools.server_url(int(_port.value))
	if not running:
		_status.text = "Server: stopped"
	elif _server_ready:
		_status.text = "Server: running (pid %d)" % _server_pid
	else:
		_status.text = "Server: starting (pid %d)" % _server_pid


func _show_info(text: String) -> void:
	_message.remove_theme_color_override("font_color")
	_message.text = text


func _show_error(text: String, log_it: bool = true) -> void:
	_message.add_theme_color_override("font_color", ERROR_COLOR)
	_message.text = text
	if log_it:
		push_warning("godot-livekit: " + text)
