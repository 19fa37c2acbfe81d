extends Node3D
## Spatial voice chat: your microphone is published as a LiveKit audio track, and every
## remote voice plays from an AudioStreamPlayer3D standing where that participant says
## it is (data messages on the "position" topic). Arrow keys move you.
##
## Microphone: an AudioStreamMicrophone plays into a muted bus whose AudioEffectCapture is
## drained in [method _process] into [code]LiveKitAudioSource.capture_frame[/code].
## Remote audio: [code]LiveKitAudioStream.poll(playback)[/code] fills each voice's
## AudioStreamGenerator in [method _process]. Signal handlers only add or remove nodes.

const DemoCommon: GDScript = preload("res://demo_scenes/demo_common.gd")
const MIC_BUS: String = "LiveKitMic"
const POSITION_TOPIC: String = "position"
const VOICE_SAMPLE_RATE: float = 48000.0
const VOICE_BUFFER_SECONDS: float = 0.2
const SPEED: float = 6.0
const ARENA_HALF_SIZE: float = 18.0
const SEND_INTERVAL: float = 0.1
const HEARTBEAT_INTERVAL: float = 1.0
const CAMERA_OFFSET: Vector3 = Vector3(0.0, 11.0, 9.0)
const FOLLOW_RATE: float = 8.0

var _room: Object
var _audio_source: Object
var _audio_track: Object
var _capture: AudioEffectCapture
var _mic_player: AudioStreamPlayer
var _mic_on: bool = true
var _connected: bool = false
var _avatar_mesh: CapsuleMesh = CapsuleMesh.new()
## identity -> {"node": Node3D, "target": Vector3}
var _avatars: Dictionary = {}
## track sid -> {"stream": LiveKitAudioStream, "player": AudioStreamPlayer3D,
## "playback": AudioStreamGeneratorPlayback, "identity": String}
var _voices: Dictionary = {}
var _since_sent: float = 0.0
var _since_heartbeat: float = 0.0
var _last_sent: Vector3 = Vector3.INF

@onready var _player: Node3D = $LocalPlayer
@onready var _listener: AudioListener3D = $LocalPlayer/Listener
@onready var _camera: Camera3D = $Camera
@onready var _avatars_root: Node3D = $Avatars
@onready var _status: Label = %Status
@onready var _mic_button: CheckButton = %MicButton
@onready var _leave_button: Button = %LeaveButton


func _ready() -> void:
	_listener.make_current()
	_mic_button.button_pressed = _mic_on
	_mic_button.toggled.connect(_on_mic_toggled)
	_leave_button.pressed.connect(_on_leave_pressed)
	_setup_microphone()
	_room = LiveKit.new_room()
	if _room != null:
		_room.connect("connected", _on_connected)
		_room.connect("connection_failed", _on_connection_failed)
		_room.connect("disconnected", _on_disconnected)
		_room.connect("track_subscribed", _on_track_subscribed)
		_room.connect("track_unsubscribed", _on_track_unsubscribed)
		_room.connect("participant_connected", _on_participant_connected)
		_room.connect("participant_disconnected", _on_participant_disconnected)
		_room.connect("data_received", _on_data_received)
	DemoCommon.connect_room(_room, _status)


func _exit_tree() -> void:
	_close_voices()
	if _mic_player != null:
		_mic_player.stop()
	if _room != null:
		_room.disconnect_from_room()


func _process(delta: float) -> void:
	_move_player(delta)
	_send_microphone()
	_send_position(delta)
	for sid: String in _voices:
		var voice: Dictionary = _voices[sid]
		voice["stream"].poll(voice["playback"], VOICE_SAMPLE_RATE)
	var weight: float = clampf(FOLLOW_RATE * delta, 0.0, 1.0)
	for identity: String in _avatars:
		var avatar: Dictionary = _avatars[identity]
		var node: Node3D = avatar["node"]
		node.position = node.position.lerp(avatar["target"], weight)


func _setup_microphone() -> void:
	var bus: int = AudioServer.get_bus_index(MIC_BUS)
	if bus == -1:
		bus = AudioServer.bus_count
		AudioServer.add_bus(bus)
		AudioServer.set_bus_name(bus, MIC_BUS)
		# Muted so you do not hear yourself; the capture effect still sees the samples.
		AudioServer.set_bus_mute(bus, true)
	for index: int in AudioServer.get_bus_effect_count(bus):
		var effect: AudioEffect = AudioServer.get_bus_effect(bus, index)
		if effect is AudioEffectCapture:
			_capture = effect
	if _capture == null:
		_capture = AudioEffectCapture.new()
		_capture.buffer_length = 0.5
		AudioServer.add_bus_effect(bus, _capture)
	_mic_player = AudioStreamPlayer.new()
	_mic_player.stream = AudioStreamMicrophone.new()
	_mic_player.bus = MIC_BUS
	add_child(_mic_player)
	_mic_player.play()


func _send_microphone() -> void:
	var available: int = _capture.get_frames_available()
	if available <= 0:
		return
	if _audio_source == null or not _mic_on:
		_capture.clear_buffer()
		return
	var stereo: PackedVector2Array = _capture.get_buffer(available)
	var mono: PackedFloat32Array = PackedFloat32Array()
	mono.resize(stereo.size())
	for index: int in stereo.size():
		var frame: Vector2 = stereo[index]
		mono[index] = (frame.x + frame.y) * 0.5
	_audio_source.capture_frame(mono, int(AudioServer.get_mix_rate()), 1, mono.size())


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
	var local_participant: Object = _room.get_local_participant()
	local_participant.publish_data(
		message.to_utf8_buffer(), false, PackedStringArray(), POSITION_TOPIC
	)


func _on_connected() -> void:
	_connected = true
	_audio_source = LiveKit.create_audio_source(int(VOICE_SAMPLE_RATE), 1, 200)
	_audio_track = LiveKit.create_local_audio_track("microphone", _audio_source)
	if _audio_track == null:
		_status.text = "Connected, but the microphone track could not be created."
		return
	var local_participant: Object = _room.get_local_participant()
	local_participant.publish_track(_audio_track, {"source": LiveKit.SOURCE_MICROPHONE})
	if not _mic_on:
		_audio_track.mute()
	_status.text = "Connected as %s. Arrow keys move you." % DemoCommon.describe(local_participant)
	for participant: Object in _room.get_remote_participants().values():
		_avatar_for(participant)


func _on_connection_failed(error: String) -> void:
	_status.text = "Connection failed: " + error


func _on_disconnected() -> void:
	_status.text = "Disconnected."
	_connected = false
	_close_voices()
	for identity: String in _avatars.keys():
		_remove_avatar(identity)
	_audio_source = null
	_audio_track = null


func _on_participant_connected(participant: Object) -> void:
	_avatar_for(participant)
	_last_sent = Vector3.INF  # tell the newcomer where we are on the next send


func _on_participant_disconnected(participant: Object) -> void:
	var identity: String = DemoCommon.identity_of(participant)
	for sid: String in _voices.keys():
		if _voices[sid]["identity"] == identity:
			_close_voice(sid)
	_remove_avatar(identity)


func _on_track_subscribed(track: Object, _publication: Object, participant: Object) -> void:
	if track == null or track.get_kind() != LiveKit.TRACK_KIND_AUDIO:
		return
	var sid: String = track.get_sid()
	if _voices.has(sid):
		return
	var stream: Object = LiveKit.audio_stream_from_track(track)
	if stream == null:
		return
	var avatar: Node3D = _avatar_for(participant)
	var generator: AudioStreamGenerator = AudioStreamGenerator.new()
	generator.mix_rate = VOICE_SAMPLE_RATE
	generator.buffer_length = VOICE_BUFFER_SECONDS
	var player: AudioStreamPlayer3D = AudioStreamPlayer3D.new()
	player.stream = generator
	player.unit_size = 4.0
	player.max_distance = 40.0
	avatar.add_child(player)
	player.play()
	_voices[sid] = {
		"stream": stream,
		"player": player,
		"playback": player.get_stream_playback(),
		"identity": DemoCommon.identity_of(participant),
	}


func _on_track_unsubscribed(track: Object, _publication: Object, _participant: Object) -> void:
	if track != null and _voices.has(str(track.get_sid())):
		_close_voice(str(track.get_sid()))


func _on_data_received(
	data: PackedByteArray, participant: Object, _kind: int, topic: String
) -> void:
	if topic != POSITION_TOPIC or participant == null:
		return
	var parsed: Variant = JSON.parse_string(DemoCommon.text_of(data))
	if not (parsed is Dictionary and parsed.has("x") and parsed.has("z")):
		return
	_avatar_for(participant)
	var target: Vector3 = Vector3(float(parsed["x"]), 0.0, float(parsed["z"]))
	_avatars[DemoCommon.identity_of(participant)]["target"] = target


func _on_mic_toggled(enabled: bool) -> void:
	_mic_on = enabled
	if _audio_track == null:
		return
	if enabled:
		_audio_track.unmute()
	else:
		_audio_track.mute()


func _on_leave_pressed() -> void:
	_close_voices()
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
	_avatars_root.add_child(node)
	_avatars[identity] = {"node": node, "target": Vector3.ZERO}
	return node


func _remove_avatar(identity: String) -> void:
	if not _avatars.has(identity):
		return
	var node: Node3D = _avatars[identity]["node"]
	node.queue_free()
	_avatars.erase(identity)


func _close_voice(sid: String) -> void:
	var voice: Dictionary = _voices[sid]
	voice["stream"].close()
	var player: AudioStreamPlayer3D = voice["player"]
	player.stop()
	player.queue_free()
	_voices.erase(sid)


func _close_voices() -> void:
	for sid: String in _voices.keys():
		_close_voice(sid)
