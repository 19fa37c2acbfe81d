extends Control
## Screen share: publish a monitor or a window as a SOURCE_SCREENSHARE video track, and
## watch the screens other participants share.
##
## The capture is polled by hand in [method _process] ([code]set_auto_poll(false)[/code],
## then [code]poll()[/code] / [code]get_image()[/code] / [code]capture_frame()[/code]), as
## the API reference recommends; signal handlers only add or remove shares.

const DemoCommon: GDScript = preload("res://demo_scenes/demo_common.gd")
const TRACK_NAME: String = "screen"
const MAX_WIDTH: int = 1920
const MAX_HEIGHT: int = 1080
const PERMISSION_COLORS: Array[Color] = [
	Color(0.55, 0.9, 0.55), Color(1.0, 0.8, 0.4), Color(1.0, 0.45, 0.4)
]

var _room: Object
var _capture: Object
var _video_source: Object
var _video_track: Object
var _published_sid: String = ""
var _source_size: Vector2i = Vector2i.ZERO
## Entries of the target list: {"kind": "monitor" or "window", "info": Dictionary}
var _targets: Array[Dictionary] = []
## track sid -> {"stream": LiveKitVideoStream, "identity": String, "caption": String}
var _shares: Dictionary = {}
var _viewing: String = ""

@onready var _status: Label = %Status
@onready var _permissions: Label = %Permissions
@onready var _target_list: OptionButton = %TargetList
@onready var _refresh_button: Button = %RefreshButton
@onready var _share_button: Button = %ShareButton
@onready var _stop_button: Button = %StopButton
@onready var _local_preview: TextureRect = %LocalPreview
@onready var _share_list: OptionButton = %ShareList
@onready var _remote_view: TextureRect = %RemoteView
@onready var _leave_button: Button = %LeaveButton


func _ready() -> void:
	_refresh_button.pressed.connect(_refresh_targets)
	_share_button.pressed.connect(_on_share_pressed)
	_stop_button.pressed.connect(_stop_sharing)
	_share_list.item_selected.connect(_on_share_selected)
	_leave_button.pressed.connect(_on_leave_pressed)
	_show_permissions()
	_refresh_targets()
	_rebuild_share_list()
	_update_buttons()
	_room = LiveKit.new_room()
	if _room != null:
		_room.connect("connected", _on_connected)
		_room.connect("connection_failed", _on_connection_failed)
		_room.connect("disconnected", _on_disconnected)
		_room.connect("track_subscribed", _on_track_subscribed)
		_room.connect("track_unsubscribed", _on_track_unsubscribed)
		_room.connect("participant_disconnected", _on_participant_disconnected)
		_room.connect("local_track_published", _on_local_track_published)
	DemoCommon.connect_room(_room, _status)


func _exit_tree() -> void:
	_close_capture()
	for sid: String in _shares.keys():
		_remove_share(sid)
	if _room != null:
		_room.disconnect_from_room()


func _process(_delta: float) -> void:
	if _capture != null and _capture.poll():
		var image: Variant = _capture.get_image()
		if image is Image:
			_publish_frame(image)
		var preview: Variant = _capture.get_texture()
		if preview is Texture2D and _local_preview.texture != preview:
			_local_preview.texture = preview
	if _shares.has(_viewing):
		var texture: Variant = _shares[_viewing]["stream"].get_texture()
		if texture is Texture2D and _remote_view.texture != texture:
			_remote_view.texture = texture


func _show_permissions() -> void:
	var report: Dictionary = LiveKit.check_permissions()
	var status: int = int(report.get("status", LiveKit.PERMISSION_ERROR))
	var lines: PackedStringArray = [str(report.get("summary", "unknown"))]
	for detail: Variant in report.get("details", []):
		lines.append("- " + str(detail))
	_permissions.text = "\n".join(lines)
	var color: Color = PERMISSION_COLORS[clampi(status, 0, PERMISSION_COLORS.size() - 1)]
	_permissions.add_theme_color_override("font_color", color)


func _refresh_targets() -> void:
	_targets.clear()
	_target_list.clear()
	for monitor: Dictionary in LiveKit.get_monitors():
		_targets.append({"kind": "monitor", "info": monitor})
		_target_list.add_item(
			(
				"Monitor: %s (%dx%d)"
				% [monitor.get("name", "?"), monitor.get("width", 0), monitor.get("height", 0)]
			)
		)
	for window: Dictionary in LiveKit.get_windows():
		_targets.append({"kind": "window", "info": window})
		_target_list.add_item("Window: %s" % str(window.get("name", "?")).left(60))
	if _targets.is_empty():
		_target_list.add_item("(nothing to capture)")
	_update_buttons()


func _on_share_pressed() -> void:
	var index: int = _target_list.selected
	if _capture != null or index < 0 or index >= _targets.size():
		return
	var target: Dictionary = _targets[index]
	if target["kind"] == "monitor":
		_capture = LiveKit.create_screen_capture_for_monitor(target["info"])
	else:
		_capture = LiveKit.create_screen_capture_for_window(target["info"])
	if _capture == null:
		_status.text = "Could not create the screen capture (see the errors)."
		return
	_capture.set_auto_poll(false)
	_capture.start()
	_status.text = "Sharing %s." % _target_list.get_item_text(index)
	_update_buttons()


func _publish_frame(image: Image) -> void:
	if _video_source == null:
		_source_size = _fit(image.get_size())
		_video_source = LiveKit.create_video_source(_source_size.x, _source_size.y)
		_video_track = LiveKit.create_local_video_track(TRACK_NAME, _video_source)
		if _video_track == null:
			_status.text = "Could not create the screen-share track."
			_close_capture()
			return
		var local_participant: Object = _room.get_local_participant()
		local_participant.publish_track(_video_track, {"source": LiveKit.SOURCE_SCREENSHARE})
	var frame: Image = image
	if image.get_size() != _source_size:
		frame = image.duplicate() as Image
		frame.resize(_source_size.x, _source_size.y, Image.INTERPOLATE_BILINEAR)
	_video_source.capture_frame(frame, 0, 0)


func _stop_sharing() -> void:
	if _video_track != null and _room != null:
		var sid: String = str(_video_track.get_sid())
		if sid.is_empty():
			sid = _published_sid
		var local_participant: Variant = _room.get_local_participant()  # 0 once disconnected
		if not sid.is_empty() and local_participant is Object:
			local_participant.unpublish_track(sid)
	_close_capture()
	_status.text = "Stopped sharing."


func _close_capture() -> void:
	if _capture != null:
		_capture.close()
	_capture = null
	_video_track = null
	_video_source = null
	_published_sid = ""
	_local_preview.texture = null
	_update_buttons()


func _update_buttons() -> void:
	var connected: bool = _room != null and _room.get_connection_state() == LiveKit.STATE_CONNECTED
	_share_button.disabled = _capture != null or _targets.is_empty() or not connected
	_stop_button.disabled = _capture == null
	_target_list.disabled = _capture != null


func _on_connected() -> void:
	_status.text = (
		"Connected to '%s'. Pick a monitor or window and press Share." % [_room.get_name()]
	)
	_update_buttons()


func _on_connection_failed(error: String) -> void:
	_status.text = "Connection failed: " + error


func _on_disconnected() -> void:
	_status.text = "Disconnected."
	_close_capture()
	for sid: String in _shares.keys():
		_remove_share(sid)


func _on_local_track_published(publication: Object, _track: Object) -> void:
	if publication != null and publication.get_source() == LiveKit.SOURCE_SCREENSHARE:
		_published_sid = publication.get_sid()


func _on_track_subscribed(track: Object, _publication: Object, participant: Object) -> void:
	if track == null or track.get_kind() != LiveKit.TRACK_KIND_VIDEO:
		return
	if track.get_source() != LiveKit.SOURCE_SCREENSHARE:
		return
	var sid: String = track.get_sid()
	if _shares.has(sid):
		return
	var stream: Object = LiveKit.video_stream_from_track(track)
	if stream == null:
		return
	var caption: String = "%s's screen" % DemoCommon.describe(participant)
	_shares[sid] = {
		"stream": stream, "identity": DemoCommon.identity_of(participant), "caption": caption
	}
	if _viewing.is_empty():
		_viewing = sid
	_rebuild_share_list()


func _on_track_unsubscribed(track: Object, _publication: Object, _participant: Object) -> void:
	if track != null and _shares.has(str(track.get_sid())):
		_remove_share(str(track.get_sid()))


func _on_participant_disconnected(participant: Object) -> void:
	var identity: String = DemoCommon.identity_of(participant)
	for sid: String in _shares.keys():
		if _shares[sid]["identity"] == identity:
			_remove_share(sid)


func _on_share_selected(index: int) -> void:
	_viewing = str(_share_list.get_item_metadata(index))
	_remote_view.texture = null


func _on_leave_pressed() -> void:
	_close_capture()
	DemoCommon.back_to_launcher(get_tree(), _room)
	_room = null


func _remove_share(sid: String) -> void:
	_shares[sid]["stream"].close()
	_shares.erase(sid)
	if _viewing == sid:
		_viewing = "" if _shares.is_empty() else str(_shares.keys()[0])
		_remote_view.texture = null
	_rebuild_share_list()


func _rebuild_share_list() -> void:
	_share_list.clear()
	if _shares.is_empty():
		_share_list.add_item("(nobody is sharing)")
		_share_list.set_item_metadata(0, "")
		return
	for sid: String in _shares:
		_share_list.add_item(_shares[sid]["caption"])
		var index: int = _share_list.item_count - 1
		_share_list.set_item_metadata(index, sid)
		if sid == _viewing:
			_share_list.select(index)


static func _fit(frame_size: Vector2i) -> Vector2i:
	var width_room: float = float(MAX_WIDTH) / frame_size.x
	var factor: float = minf(1.0, minf(width_room, float(MAX_HEIGHT) / frame_size.y))
	var width: int = maxi(2, int(frame_size.x * factor) & ~1)
	var height: int = maxi(2, int(frame_size.y * factor) & ~1)
	return Vector2i(width, height)
