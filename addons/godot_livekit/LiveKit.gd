class_name LiveKit
extends RefCounted
## The GDScript way to make godot-livekit objects, and every enum value of the API.
##
## The addon's classes are Python scripts (py4godot), and py4godot registers no global
## class names, so GDScript cannot write [code]LiveKitRoom.new()[/code]. Use this class
## instead:
## [codeblock]
## var room: Object = LiveKit.new_room()
## room.connect("connected", _on_connected)
## room.connect_to_room("ws://127.0.0.1:7880", token, {})
## if room.get_connection_state() == LiveKit.STATE_CONNECTED:
##     pass
## [/codeblock]
## Objects are returned as [Object]; call their methods as in the API reference.
##
## [b]Enum names.[/b] Names that exist in more than one reference class are prefixed
## with the enum they belong to:
## [br]- [code]LiveKitParticipant.KIND_*[/code] -> [code]PARTICIPANT_KIND_*[/code]
## [br]- [code]LiveKitTrack.KIND_*[/code] (TrackKind) -> [code]TRACK_KIND_*[/code]
## [br]- [code]LiveKitTrack.STATE_*[/code] (StreamState) -> [code]STREAM_STATE_*[/code]
## [br]- [code]LiveKitDataTrackSubscription.MODE_*[/code] -> [code]DATA_TRACK_MODE_*[/code]
## [br]Every other value keeps its reference name: [code]STATE_*[/code]
## (LiveKitRoom.ConnectionState), [code]SOURCE_*[/code] (LiveKitTrack.TrackSource),
## [code]PERMISSION_*[/code] (LiveKitScreenCapture.PermissionLevel) and
## [code]ENCRYPTION_*[/code] (LiveKitE2eeOptions.EncryptionType).
##
## [b]Lifetimes.[/b] Keep each object you use in a variable or a node property, and call
## [code]room.disconnect_from_room()[/code] / [code]stream.close()[/code] /
## [code]capture.close()[/code] when you are done. An object the game drops is disconnected or
## closed and freed by the [code]LiveKitPoller[/code] autoload within a second. A signal
## handler (lambda) that captures its own room keeps that room alive, as it would any
## RefCounted: disconnect such rooms explicitly.
##
## [b]How objects are made.[/b] Scripts are loaded lazily (not preloaded), so this class
## compiles even when py4godot is missing; [method is_available] tells whether they load.
## py4godot scripts have no [code]new()[/code] method (only GDScript and C# scripts do),
## so [method instantiate] creates the script's base class with [ClassDB] and attaches
## the script with [method Object.set_script]. The reference's static methods are
## instance methods on the Python side that initialise the object and return it.

# LiveKitRoom.ConnectionState
const STATE_DISCONNECTED: int = 0
const STATE_CONNECTED: int = 1
const STATE_RECONNECTING: int = 2

# LiveKitRoom.data_received(data, participant, kind, topic): kind
const DATA_KIND_LOSSY: int = 0
const DATA_KIND_RELIABLE: int = 1

# LiveKitParticipant.ParticipantKind (reference names KIND_*)
const PARTICIPANT_KIND_STANDARD: int = 0
const PARTICIPANT_KIND_INGRESS: int = 1
const PARTICIPANT_KIND_EGRESS: int = 2
const PARTICIPANT_KIND_SIP: int = 3
const PARTICIPANT_KIND_AGENT: int = 4

# LiveKitTrack.TrackKind (reference names KIND_*)
const TRACK_KIND_UNKNOWN: int = 0
const TRACK_KIND_AUDIO: int = 1
const TRACK_KIND_VIDEO: int = 2

# LiveKitTrack.TrackSource
const SOURCE_UNKNOWN: int = 0
const SOURCE_CAMERA: int = 1
const SOURCE_MICROPHONE: int = 2
const SOURCE_SCREENSHARE: int = 3
const SOURCE_SCREENSHARE_AUDIO: int = 4

# LiveKitTrack.StreamState (reference names STATE_*)
const STREAM_STATE_UNKNOWN: int = 0
const STREAM_STATE_ACTIVE: int = 1
const STREAM_STATE_PAUSED: int = 2

# LiveKitScreenCapture.PermissionLevel
const PERMISSION_OK: int = 0
const PERMISSION_WARNING: int = 1
const PERMISSION_ERROR: int = 2

# LiveKitE2eeOptions.EncryptionType
const ENCRYPTION_NONE: int = 0
const ENCRYPTION_GCM: int = 1
const ENCRYPTION_CUSTOM: int = 2

# -- large rooms (issue 12) -------------------------------------------------------------
# LiveKitRoom: the "delivery" option of register_text/byte_stream_handler
const STREAM_WHOLE: int = 0
const STREAM_CHUNKS: int = 1
# LiveKitDataTrackSubscription.MODE_* (LiveKitRemoteDataTrack.subscribe(mode, queue_size))
const DATA_TRACK_MODE_LATEST: int = 0
const DATA_TRACK_MODE_ORDERED: int = 1
# LiveKitRemoteTrackPublication.set_video_quality(quality)
const VIDEO_QUALITY_LOW: int = 0
const VIDEO_QUALITY_MEDIUM: int = 1
const VIDEO_QUALITY_HIGH: int = 2
# -- end large rooms

# --- video tiles (LiveKitVideoStream modes; beyond the reference) ---------------------
## LiveKitVideoStream.set_mode(): RGBA on the CPU (the default) or the decoder's I420 planes
## as three single-channel textures, drawn by [method video_tile_from_track]'s material.
const VIDEO_MODE_RGBA: int = 0
const VIDEO_MODE_I420: int = 1
# --- end video tiles ------------------------------------------------------------------

const ADDON_DIR: String = "res://addons/godot_livekit"
const ROOM_SCRIPT: String = ADDON_DIR + "/LiveKitRoom.py"
const AUDIO_SOURCE_SCRIPT: String = ADDON_DIR + "/LiveKitAudioSource.py"
const VIDEO_SOURCE_SCRIPT: String = ADDON_DIR + "/LiveKitVideoSource.py"
const LOCAL_AUDIO_TRACK_SCRIPT: String = ADDON_DIR + "/LiveKitLocalAudioTrack.py"
const LOCAL_VIDEO_TRACK_SCRIPT: String = ADDON_DIR + "/LiveKitLocalVideoTrack.py"
const AUDIO_STREAM_SCRIPT: String = ADDON_DIR + "/LiveKitAudioStream.py"
const VIDEO_STREAM_SCRIPT: String = ADDON_DIR + "/LiveKitVideoStream.py"
const SCREEN_CAPTURE_SCRIPT: String = ADDON_DIR + "/LiveKitScreenCapture.py"
const E2EE_OPTIONS_SCRIPT: String = ADDON_DIR + "/LiveKitE2eeOptions.py"
const PROBE_SCRIPT: String = ADDON_DIR + "/LiveKitProbe.py"
# -- voice nodes (not in the original API) --
const MICROPHONE_SCRIPT: String = ADDON_DIR + "/LiveKitMicrophone.py"
const SPATIAL_VOICE_SCRIPT: String = ADDON_DIR + "/LiveKitSpatialVoice.py"
## Every script this class constructs objects from.
const SCRIPTS: Array[String] = [
	ROOM_SCRIPT,
	AUDIO_SOURCE_SCRIPT,
	VIDEO_SOURCE_SCRIPT,
	LOCAL_AUDIO_TRACK_SCRIPT,
	LOCAL_VIDEO_TRACK_SCRIPT,
	AUDIO_STREAM_SCRIPT,
	VIDEO_STREAM_SCRIPT,
	SCREEN_CAPTURE_SCRIPT,
	E2EE_OPTIONS_SCRIPT,
	# -- voice nodes --
	MICROPHONE_SCRIPT,
	SPATIAL_VOICE_SCRIPT,
]

# -- large rooms (issue 12) -------------------------------------------------------------
const PROXIMITY_SCRIPT: String = ADDON_DIR + "/LiveKitProximity.py"
const TEXT_STREAM_WRITER_SCRIPT: String = ADDON_DIR + "/LiveKitTextStreamWriter.py"
const BYTE_STREAM_WRITER_SCRIPT: String = ADDON_DIR + "/LiveKitByteStreamWriter.py"
const LOCAL_DATA_TRACK_SCRIPT: String = ADDON_DIR + "/LiveKitLocalDataTrack.py"
const REMOTE_DATA_TRACK_SCRIPT: String = ADDON_DIR + "/LiveKitRemoteDataTrack.py"
const DATA_TRACK_SUBSCRIPTION_SCRIPT: String = ADDON_DIR + "/LiveKitDataTrackSubscription.py"
## The large-room scripts: the proximity filter this class makes, and the objects the addon
## makes for you (stream writers, data tracks, subscriptions). [method is_available] checks
## them too.
const LARGE_ROOM_SCRIPTS: Array[String] = [
	PROXIMITY_SCRIPT,
	TEXT_STREAM_WRITER_SCRIPT,
	BYTE_STREAM_WRITER_SCRIPT,
	LOCAL_DATA_TRACK_SCRIPT,
	REMOTE_DATA_TRACK_SCRIPT,
	DATA_TRACK_SUBSCRIPTION_SCRIPT,
]
# -- end large rooms

static var _loaded: Dictionary = {}


## A new, unconnected LiveKitRoom.
static func new_room() -> Object:
	return instantiate(ROOM_SCRIPT)


## LiveKitAudioSource.create(sample_rate, num_channels, queue_size_ms).
static func create_audio_source(
	sample_rate: int = 48000, num_channels: int = 1, queue_size_ms: int = 200
) -> Object:
	var source: Object = instantiate(AUDIO_SOURCE_SCRIPT)
	if source == null:
		return null
	return _made(source.create(sample_rate, num_channels, queue_size_ms), "create_audio_source")


## LiveKitVideoSource.create(width, height).
static func create_video_source(width: int, height: int) -> Object:
	var source: Object = instantiate(VIDEO_SOURCE_SCRIPT)
	if source == null:
		return null
	return _made(source.create(width, height), "create_video_source")


## LiveKitLocalAudioTrack.create(name, source): [param source] is a LiveKitAudioSource.
static func create_local_audio_track(track_name: String, source: Object) -> Object:
	var track: Object = instantiate(LOCAL_AUDIO_TRACK_SCRIPT)
	if track == null:
		return null
	return _made(track.create(track_name, source), "create_local_audio_track")


## LiveKitLocalVideoTrack.create(name, source): [param source] is a LiveKitVideoSource.
static func create_local_video_track(track_name: String, source: Object) -> Object:
	var track: Object = instantiate(LOCAL_VIDEO_TRACK_SCRIPT)
	if track == null:
		return null
	return _made(track.create(track_name, source), "create_local_video_track")


## LiveKitVideoStream.from_track(track): frames of a subscribed remote video track.
static func video_stream_from_track(track: Object) -> Object:
	var stream: Object = instantiate(VIDEO_STREAM_SCRIPT)
	if stream == null:
		return null
	return _made(stream.from_track(track), "video_stream_from_track")


## LiveKitVideoStream.from_participant(participant, source), e.g. [constant SOURCE_CAMERA].
static func video_stream_from_participant(participant: Object, source: int) -> Object:
	var stream: Object = instantiate(VIDEO_STREAM_SCRIPT)
	if stream == null:
		return null
	return _made(stream.from_participant(participant, source), "video_stream_from_participant")


# --- video tiles -----------------------------------------------------------------------


## A LiveKitVideoStream of [param track] in [constant VIDEO_MODE_I420]: no RGBA conversion, the
## planes go to the GPU. Show it with two lines:
## [codeblock]
## $Tile.texture = stream.get_texture()    # the Y plane: the node takes the video's size
## $Tile.material = stream.get_material()  # get_material_3d() for a mesh
## [/codeblock]
static func video_tile_from_track(track: Object) -> Object:
	var stream: Object = video_stream_from_track(track)
	if stream != null:
		stream.set_mode(VIDEO_MODE_I420)
	return stream


## [method video_tile_from_track] for [param participant]'s video from [param source].
static func video_tile_from_participant(participant: Object, source: int) -> Object:
	var stream: Object = video_stream_from_participant(participant, source)
	if stream != null:
		stream.set_mode(VIDEO_MODE_I420)
	return stream


# --- end video tiles -------------------------------------------------------------------


## LiveKitAudioStream.from_track(track): audio of a subscribed remote audio track.
static func audio_stream_from_track(track: Object) -> Object:
	var stream: Object = instantiate(AUDIO_STREAM_SCRIPT)
	if stream == null:
		return null
	return _made(stream.from_track(track), "audio_stream_from_track")


## LiveKitAudioStream.from_participant(participant, source), e.g. [constant SOURCE_MICROPHONE].
static func audio_stream_from_participant(participant: Object, source: int) -> Object:
	var stream: Object = instantiate(AUDIO_STREAM_SCRIPT)
	if stream == null:
		return null
	return _made(stream.from_participant(participant, source), "audio_stream_from_participant")


# -- voice nodes (not in the original API) -------------------------------------------------


## A new LiveKitMicrophone node (an AudioStreamPlayer): add it to the tree, then
## [code]publish(room.get_local_participant())[/code]. Removing it from the tree unpublishes.
static func new_microphone() -> Node:
	return instantiate(MICROPHONE_SCRIPT) as Node


## A new LiveKitSpatialVoice node (an AudioStreamPlayer3D) that plays the microphone of the
## participant [param identity] in [param room], following it through resubscriptions,
## republishing and reconnects: add it where that participant stands.
static func new_spatial_voice(room: Object = null, identity: String = "") -> Node:
	var voice: Object = instantiate(SPATIAL_VOICE_SCRIPT)
	if voice == null:
		return null
	if room != null:
		voice.set_room(room)
	voice.set_identity(identity)
	return voice as Node


# -- end of voice nodes ----------------------------------------------------------------------


## LiveKitScreenCapture.get_monitors(): dictionaries with id, name, x, y, width, height, scale.
static func get_monitors() -> Array:
	var query: Object = instantiate(SCREEN_CAPTURE_SCRIPT)
	if query == null:
		return []
	var monitors: Variant = query.get_monitors()
	return monitors if monitors is Array else []


## LiveKitScreenCapture.get_windows(): dictionaries with id, name, x, y, width, height.
static func get_windows() -> Array:
	var query: Object = instantiate(SCREEN_CAPTURE_SCRIPT)
	if query == null:
		return []
	var windows: Variant = query.get_windows()
	return windows if windows is Array else []


## LiveKitScreenCapture.check_permissions(): status ([constant PERMISSION_OK] ...),
## summary and details.
static func check_permissions() -> Dictionary:
	var query: Object = instantiate(SCREEN_CAPTURE_SCRIPT)
	if query == null:
		return {
			"status": PERMISSION_ERROR,
			"summary": "godot-livekit is not available",
			"details": [unavailable_reason()],
		}
	var report: Variant = query.check_permissions()
	return report if report is Dictionary else {}


## LiveKitScreenCapture.create(): capture of the primary monitor.
static func create_screen_capture() -> Object:
	var capture: Object = instantiate(SCREEN_CAPTURE_SCRIPT)
	if capture == null:
		return null
	return _made(capture.create(), "create_screen_capture")


## LiveKitScreenCapture.create_for_monitor(monitor): a dictionary from [method get_monitors].
static func create_screen_capture_for_monitor(monitor: Dictionary) -> Object:
	var capture: Object = instantiate(SCREEN_CAPTURE_SCRIPT)
	if capture == null:
		return null
	return _made(capture.create_for_monitor(monitor), "create_screen_capture_for_monitor")


## LiveKitScreenCapture.create_for_window(window): a dictionary from [method get_windows].
static func create_screen_capture_for_window(window: Dictionary) -> Object:
	var capture: Object = instantiate(SCREEN_CAPTURE_SCRIPT)
	if capture == null:
		return null
	return _made(capture.create_for_window(window), "create_screen_capture_for_window")


## New LiveKitE2eeOptions, for the [code]"e2ee"[/code] key of connect_to_room's options.
static func new_e2ee_options() -> Object:
	return instantiate(E2EE_OPTIONS_SCRIPT)


# -- large rooms (issue 12) -------------------------------------------------------------


## A LiveKitProximity for [param room]: keeps the room subscribed only to the media of the
## participants near the listener (feed it positions every frame).
static func create_proximity(room: Object) -> Object:
	var proximity: Object = instantiate(PROXIMITY_SCRIPT)
	if proximity == null:
		return null
	return _made(proximity.create(room), "create_proximity")


# -- end large rooms


## True when every addon script loads and registers its class (py4godot installed, the
## Python side importable in py4godot's interpreter).
static func is_available() -> bool:
	return unavailable_reason().is_empty()


## Why the addon cannot make objects, or "" when it can. py4godot swallows an exception
## raised while a script loads (the script then registers no class), so a script that loads
## with an empty base type means the Python side failed; LiveKitProbe.py names the error.
static func unavailable_reason() -> String:
	for path: String in SCRIPTS + LARGE_ROOM_SCRIPTS:
		var script: Script = _script(path)
		if script == null:
			return (
				(
					"cannot load %s: install py4godot in addons/py4godot and godot-livekit's "
					+ "Python package into its interpreter (python build.py install --project .)"
				)
				% path
			)
		if script.get_instance_base_type().is_empty():
			var error: String = _import_error()
			if error.is_empty():
				error = "see the errors py4godot printed when it loaded the script"
			return "%s registered no class: %s" % [path, error]
	return ""


## An instance of the script at [param path] (any script language), or null with an error.
static func instantiate(path: String) -> Object:
	var script: Script = _script(path)
	if script == null:
		push_error("LiveKit: " + unavailable_reason())
		return null
	if script.has_method("new"):
		return script.call("new")
	var base_type: StringName = script.get_instance_base_type()
	if base_type.is_empty() or not ClassDB.can_instantiate(base_type):
		push_error("LiveKit: %s has no instantiable base class (%s)" % [path, base_type])
		return null
	var instance: Object = ClassDB.instantiate(base_type)
	instance.set_script(script)
	if instance.get_script() != script:
		push_error("LiveKit: could not attach %s to a new %s" % [path, base_type])
		if not (instance is RefCounted):
			instance.free()
		return null
	return instance


static func _import_error() -> String:
	var probe_script: Script = _script(PROBE_SCRIPT)
	if probe_script == null or probe_script.get_instance_base_type().is_empty():
		return "py4godot could not run %s either" % PROBE_SCRIPT
	var probe: Object = ClassDB.instantiate(probe_script.get_instance_base_type())
	probe.set_script(probe_script)
	var error: Variant = probe.call("import_error")
	return str(error) if error is String else "the Python side could not be probed"


static func _script(path: String) -> Script:
	if _loaded.has(path):
		return _loaded[path]
	var script: Script = null
	if ResourceLoader.exists(path):
		script = load(path) as Script
	if script != null:
		_loaded[path] = script
	return script


static func _made(result: Variant, what: String) -> Object:
	if result is Object:
		return result
	push_error("LiveKit.%s failed (see the errors above)" % what)
	return null
