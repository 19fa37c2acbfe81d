extends Control
## Text chat over LiveKit data messages (topic "chat", reliable) plus an RPC:
## [code]/roll [identity] [sides][/code] asks another participant to roll a die with
## [code]perform_rpc(identity, "roll_dice", ...)[/code]; their client answers with
## [code]respond_to_rpc[/code] from its [code]rpc_method_invoked[/code] handler.
## [code]/name NEW NAME[/code] renames you.

const DemoCommon: GDScript = preload("res://demo_scenes/demo_common.gd")
const CHAT_TOPIC: String = "chat"
const ROLL_METHOD: String = "roll_dice"
const RPC_TIMEOUT: float = 8.0
const DEFAULT_SIDES: int = 6
const MAX_SIDES: int = 1000
const ME_COLOR: Color = Color(0.55, 0.8, 1.0)
const THEM_COLOR: Color = Color(1.0, 0.85, 0.5)
const INFO_COLOR: Color = Color(0.65, 0.65, 0.65)
const ERROR_COLOR: Color = Color(1.0, 0.45, 0.4)

var _room: Object
var _local: Object

@onready var _status: Label = %Status
@onready var _log: RichTextLabel = %Log
@onready var _people: ItemList = %People
@onready var _input: LineEdit = %Input
@onready var _send_button: Button = %SendButton
@onready var _leave_button: Button = %LeaveButton


func _ready() -> void:
	_send_button.pressed.connect(_on_send_pressed)
	_input.text_submitted.connect(_on_text_submitted)
	_leave_button.pressed.connect(_on_leave_pressed)
	_room = LiveKit.new_room()
	if _room != null:
		_room.connect("connected", _on_connected)
		_room.connect("connection_failed", _on_connection_failed)
		_room.connect("disconnected", _on_disconnected)
		_room.connect("reconnecting", _on_reconnecting)
		_room.connect("reconnected", _on_reconnected)
		_room.connect("participant_connected", _on_participant_connected)
		_room.connect("participant_disconnected", _on_participant_disconnected)
		_room.connect("participant_name_changed", _on_participant_name_changed)
		_room.connect("data_received", _on_data_received)
	_info("Type a message and press Enter. /roll [identity] [sides] rolls a die on another")
	_info("participant's client (RPC roll_dice); /name NEW NAME renames you.")
	DemoCommon.connect_room(_room, _status)


func _exit_tree() -> void:
	if _room != null:
		_room.disconnect_from_room()


func _on_connected() -> void:
	_local = _room.get_local_participant()
	for signal_name: String in ["rpc_method_invoked", "rpc_response_received", "rpc_error"]:
		var handler: Callable = Callable(self, "_on_" + signal_name)
		if not _local.is_connected(signal_name, handler):
			_local.connect(signal_name, handler)
	_local.register_rpc_method(ROLL_METHOD)
	_status.text = "Connected to '%s' as %s." % [_room.get_name(), DemoCommon.describe(_local)]
	_info("Connected.")
	_refresh_people()


func _on_connection_failed(error: String) -> void:
	_status.text = "Connection failed: " + error
	_error("Connection failed: " + error)


func _on_disconnected() -> void:
	_status.text = "Disconnected."
	_info("Disconnected.")
	_local = null
	_people.clear()


func _on_reconnecting() -> void:
	_info("Connection lost, reconnecting ...")


func _on_reconnected() -> void:
	_info("Reconnected.")


func _on_participant_connected(participant: Object) -> void:
	_info("%s joined." % DemoCommon.describe(participant))
	_refresh_people()


func _on_participant_disconnected(participant: Object) -> void:
	_info("%s left." % DemoCommon.describe(participant))
	_refresh_people()


func _on_participant_name_changed(participant: Object, old_name: String, new_name: String) -> void:
	var who: String = DemoCommon.identity_of(participant)
	_info("%s is now called '%s' (was '%s')." % [who, new_name, old_name])
	_refresh_people()


# participant is untyped: an unknown sender arrives as 0 (py4godot has no null for GDScript)
func _on_data_received(
	data: PackedByteArray, participant: Variant, _kind: int, topic: String
) -> void:
	if topic != CHAT_TOPIC:
		return
	_line(DemoCommon.describe(participant) + ": ", THEM_COLOR, DemoCommon.text_of(data))


func _on_rpc_method_invoked(
	method: String, request_id: String, caller_identity: String, payload: String, _timeout: float
) -> void:
	if method != ROLL_METHOD:
		return
	var sides: int = DEFAULT_SIDES
	var parsed: Variant = JSON.parse_string(payload)
	if parsed is Dictionary and parsed.has("sides"):
		sides = clampi(int(parsed["sides"]), 2, MAX_SIDES)
	var roll: int = randi_range(1, sides)
	var answer: Dictionary = {"roll": roll, "sides": sides, "by": DemoCommon.describe(_local)}
	_local.respond_to_rpc(request_id, JSON.stringify(answer))
	_info("%s asked you to roll a d%d: you rolled %d." % [caller_identity, sides, roll])


func _on_rpc_response_received(method: String, result: String) -> void:
	if method != ROLL_METHOD:
		return
	var parsed: Variant = JSON.parse_string(result)
	if not (parsed is Dictionary and parsed.has("roll")):
		_error("Unexpected roll_dice answer: " + result)
		return
	var text: String = "rolled %d on a d%d" % [int(parsed["roll"]), int(parsed.get("sides", 0))]
	_line(str(parsed.get("by", "?")) + " ", THEM_COLOR, text)


func _on_rpc_error(method: String, error_message: String) -> void:
	_error("RPC %s failed: %s" % [method, error_message])


func _on_text_submitted(_text: String) -> void:
	_on_send_pressed()


func _on_send_pressed() -> void:
	var text: String = _input.text.strip_edges()
	_input.clear()
	if text.is_empty():
		return
	if _local == null:
		_error("Not connected yet.")
		return
	if text.begins_with("/roll"):
		_roll(text.substr(5).strip_edges())
	elif text.begins_with("/name "):
		var new_name: String = text.substr(6).strip_edges()
		_local.set_name(new_name)
		_info("Renaming you to '%s' ..." % new_name)
	else:
		_local.publish_data(text.to_utf8_buffer(), true, PackedStringArray(), CHAT_TOPIC)
		_line("You: ", ME_COLOR, text)


func _roll(arguments: String) -> void:
	var words: PackedStringArray = arguments.split(" ", false)
	var remote: Dictionary = _room.get_remote_participants()
	var target: String = ""
	var sides: int = DEFAULT_SIDES
	for word: String in words:
		if word.is_valid_int():
			sides = clampi(word.to_int(), 2, MAX_SIDES)
		else:
			target = word
	if target.is_empty():
		if remote.is_empty():
			_error("Nobody else is here to roll for you.")
			return
		target = str(remote.keys()[0])
	_local.perform_rpc(target, ROLL_METHOD, JSON.stringify({"sides": sides}), RPC_TIMEOUT)
	_info("Asking %s to roll a d%d ..." % [target, sides])


func _on_leave_pressed() -> void:
	DemoCommon.back_to_launcher(get_tree(), _room)
	_room = null


func _refresh_people() -> void:
	_people.clear()
	if _room == null:
		return
	if _local != null:
		_people.add_item(DemoCommon.describe(_local) + " (you)")
	var remote: Dictionary = _room.get_remote_participants()
	for identity: String in remote:
		_people.add_item(DemoCommon.describe(remote[identity]))


func _info(text: String) -> void:
	_line("", INFO_COLOR, text)


func _error(text: String) -> void:
	_line("", ERROR_COLOR, text)


func _line(prefix: String, color: Color, text: String) -> void:
	if prefix.is_empty():
		_log.push_color(color)
		_log.add_text(text)
		_log.pop()
	else:
		_log.push_color(color)
		_log.add_text(prefix)
		_log.pop()
		_log.add_text(text)
	_log.newline()
