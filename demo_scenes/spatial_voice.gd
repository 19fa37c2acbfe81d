extends Node3D
## Spatial voice chat: your microphone is published as a LiveKit audio track, and every
## remote voice plays from a LiveKitSpatialVoice (an AudioStreamPlayer3D) standing where
## that participant says it is (data messages on the "position" topic). Arrow keys move
## you; with push-to-talk on, hold Space to talk. Whoever speaks lights up.
##
## Microphone: one LiveKitMicrophone node (echo cancellation, noise suppression, gain
## control); the LiveKitPoller reads it every frame. Remote audio: one LiveKitSpatialVoice
## per participant, under its avatar; it follows the participant through resubscriptions,
## republishing and reconnects by itself. Signal handlers only add or remove nodes.
##
## Large rooms: a LiveKitProximity, fed the positions this scene already has, keeps the room
## subscribed only to voices within earshot (VOICE_RANGE): the others cost no bandwidth and no
## decoding until their player comes near. Data (positions) keeps flowing from everyone. For a
## lobby, [code]set_max_participants(8)[/code] would keep just the 8 nearest.

const DemoCommon: GDScript = preload("res://demo_scenes/demo_common.gd")
const POSITION_TOPIC: String = "position"
const SPEED: float = 6.0
const ARENA_HALF_SIZE: float = 18.0
const SEND_INTERVAL: float = 0.1
const HEARTBEAT_INTERVAL: float = 1.0
const CAMERA_OFFSET: Vector3 = Vector3(0.0, 11.0, 9.0)
const FOLLOW_RATE: float = 8.0
const QUIET_COLOR: Color = Color(1.0, 1.0, 1.0)
const SPEAKING_COLOR: Color = Color(0.4, 1.0, 0.45)
const VOICE_RANGE: float = 40.0
const RANGE_HYSTERESIS: float = 2.0

var _room: Object
var _proximity: Object
var _microphone: Object
var _mic_on: bool = true
var _connected: bool = false
var _avatar_mesh: CapsuleMesh = CapsuleMesh.new()
## identity -> {"node": Node3D, "target": Vector3, "label": Label3D}
var _avatars: Dictionary = {}
var _since_sent: float = 0.0
var _since_heartbeat: float = 0.0
var _last_sent: Vector3 = Vector3.INF

@onready var _player: Node3D = $LocalPlayer
@onready var _player_label: Label3D = $LocalPlayer/Name
@onready var _listener: AudioListener3D = $LocalPlayer/Listener
@onready var _camera: Camera3D = $Camera
@onready var _avatars_root: Node3D = $Avatars
@onready var _status: Label = %Status
@onready var _mic_button: CheckButton = %MicButton
@onready var _push_to_talk_button: CheckButton = %PushToTalkButton
@onready var _leave_button: Button = %LeaveButton


func _ready() -> void:
	_listener.make_current()
	_mic_button.button_pressed = _mic_on
	_mic_button.toggled.connect(_on_mic_toggled)
	_push_to_talk_button.toggled.connect(_on_push_to_talk_toggled)
	_leave_button.pressed.connect(_on_leave_pressed)
	_room = LiveKit.new_room()
	if _room != null:
		_room.connect("connected", _on_connected)
		_room.connect("connection_failed", _on_connection_failed)
		_room.connect("disconnected", _on_disconnected)
		_room.connect("participant_connected", _on_participant_connected)
		_room.connect("participant_disconnected", _on_participant_disconnected)
		_room.connect("data_received", _on_data_received)
		_room.connect("active_speakers_changed", _on_active_speakers_changed)
		_proximity = LiveKit.create_proximity(_room)
		if _proximity != null:
			_proximity.set_radius(VOICE_RANGE)
			_proximity.set_hysteresis(RANGE_HYSTERESIS)
		# recording starts now (a level check before joining); sending once published
		_microphone = LiveKit.new_microphone()
		add_child(_microphone as Node)
	# with proximity, nothing is subscribed until it chooses (no far voices for a moment)
	DemoCommon.connect_room(_room, _status, {"auto_subscribe": _proximity == null})


func _exit_tree() -> void:
	if _proximity != null:
		_proximity.close()
	if _room != null:
		_room.disconnect_from_room()


func _process(delta: float) -> void:
	_move_player(delta)
	_send_position(delta)
	if _proximity != null:
		_proximity.set_listener_position(_player.position.x, 0.0, _player.position.z)
	if _microphone != null and _push_to_talk_button.button_pressed:
		_microphone.set_talking(Input.is_key_pressed(KEY_SPACE))
	var weight: float = clampf(FOLLOW_RATE * delta, 0.0, 1.0)
	for identity: String in _avatars:
		var avatar: Dictionary = _avatars[identity]
		var node: Node3D = avatar["node"]
		node.position = node.position.lerp(avatar["target"], weight)


func _move_player(delta: float) -> void:
	var direction: Vector2 = Input.get_vector("ui_left", "ui_right", "ui_up", "ui_down")
	if direction != Vector2.ZERO:
		var step: Vector3 = Vector3(direction.x, 0.0, direction.y) * SPEED * delta
		var moved: Vector3 = _player.position + step
		moved.x = clampf(moved.x, -ARENA_HALF_SIZE, ARENA_HALF_SIZE)
		moved.z = clampf(moved.z, -ARENA_HALF_SIZE, ARENA_HALF_SIZE)
		_player.position = moved
	var eye: Vector3 = _player.position + CAMERA_OFFSET
	_camera.look_at_from_position(eye, _player.position)


func _send_position(delta: float) -> void:
	_since_sent += delta
	_since_heartbeat += delta
	if not _connected or _since_sent < SEND_INTERVAL:
		return
	var position_now: Vector3 = _player.position
	if position_now.is_equal_approx(_last_sent) and _since_heartbeat < HEARTBEAT_INTERVAL:
		return
	_since_sent = 0.0
	_since_heartbeat = 0.0
	_last_sent = position_now
	var message: String = JSON.stringify({"x": position_now.x, "z": position_now.z})
	var local_participant: Variant = _room.get_local_participant()  # 0 once disconnected
	if local_participant is Object:
		local_participant.publish_data(
			message.to_utf8_buffer(), false, PackedStringArray(), POSITION_TOPIC
		)


func _on_connected() -> void:
	_connected = true
	var local_participant: Object = _room.get_local_participant()
	if _microphone != null:
		_microphone.set_muted(not _mic_on)
		_microphone.publish(local_participant)
	_status.text = "Connected as %s. Arrow keys move you." % DemoCommon.describe(local_participant)
	for participant: Object in _room.get_remote_participants().values():
		_avatar_for(participant)


func _on_connection_failed(error: String) -> void:
	_status.text = "Connection failed: " + error


func _on_disconnected() -> void:
	_status.text = "Disconnected."
	_connected = false
	for identity: String in _avatars.keys():
		_remove_avatar(identity)


func _on_participant_connected(participant: Object) -> void:
	_avatar_for(participant)
	_last_sent = Vector3.INF  # tell the newcomer where we are on the next send


func _on_participant_disconnected(participant: Object) -> void:
	_remove_avatar(DemoCommon.identity_of(participant))


# participant is untyped: an unknown sender arrives as 0 (py4godot has no null for GDScript)
func _on_data_received(
	data: PackedByteArray, participant: Variant, _kind: int, topic: String
) -> void:
	if topic != POSITION_TOPIC or not participant is Object:
		return
	var parsed: Variant = JSON.parse_string(DemoCommon.text_of(data))
	if not (parsed is Dictionary and parsed.has("x") and parsed.has("z")):
		return
	_avatar_for(participant)
	var target: Vector3 = Vector3(float(parsed["x"]), 0.0, float(parsed["z"]))
	var identity: String = DemoCommon.identity_of(participant)
	_avatars[identity]["target"] = target
	if _proximity != null:
		_proximity.set_participant_position(identity, target.x, 0.0, target.z)


func _on_active_speakers_changed(speakers: Array) -> void:
	var speaking: Dictionary = {}
	for speaker: Object in speakers:
		speaking[DemoCommon.identity_of(speaker)] = true
	for identity: String in _avatars:
		var label: Label3D = _avatars[identity]["label"]
		label.modulate = SPEAKING_COLOR if speaking.has(identity) else QUIET_COLOR
	var me: String = DemoCommon.identity_of(_room.get_local_participant())
	_player_label.modulate = SPEAKING_COLOR if speaking.has(me) else QUIET_COLOR


func _on_mic_toggled(enabled: bool) -> void:
	_mic_on = enabled
	if _microphone != null:
		_microphone.set_muted(not enabled)


func _on_push_to_talk_toggled(enabled: bool) -> void:
	if _microphone != null:
		_microphone.set_push_to_talk(enabled)


func _on_leave_pressed() -> void:
	DemoCommon.back_to_launcher(get_tree(), _room)
	_room = null


func _avatar_for(participant: Object) -> Node3D:
	var identity: String = DemoCommon.identity_of(participant)
	if _avatars.has(identity):
		return _avatars[identity]["node"]
	var node: Node3D = Node3D.new()
	node.name = "Avatar_%d" % _avatars.size()
	var body: MeshInstance3D = MeshInstance3D.new()
	body.mesh = _avatar_mesh
	body.position = Vector3(0.0, 1.0, 0.0)
	node.add_child(body)
	var label: Label3D = Label3D.new()
	label.text = DemoCommon.describe(participant)
	label.billboard = BaseMaterial3D.BILLBOARD_ENABLED
	label.position = Vector3(0.0, 2.6, 0.0)
	node.add_child(label)
	# the participant's voice, where its mouth is; it follows the participant by itself
	var voice: Object = LiveKit.new_spatial_voice(_room, identity)
	if voice != null:
		var player: AudioStreamPlayer3D = voice as AudioStreamPlayer3D
		player.unit_size = 4.0
		player.max_distance = VOICE_RANGE
		player.position = Vector3(0.0, 1.6, 0.0)
		node.add_child(player)
	_avatars_root.add_child(node)
	_avatars[identity] = {"node": node, "target": Vector3.ZERO, "label": label}
	if _proximity != null:  # heard where its avatar stands until it sends a position
		_proximity.set_participant_position(identity, 0.0, 0.0, 0.0)
	return node


func _remove_avatar(identity: String) -> void:
	if not _avatars.has(identity):
		return
	var node: Node3D = _avatars[identity]["node"]
	node.queue_free()  # its voice leaves the tree with it: stream closed, player stopped
	_avatars.erase(identity)
	if _proximity != null:
		_proximity.remove_participant(identity)
