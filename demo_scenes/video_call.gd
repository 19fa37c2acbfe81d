extends Control
## Video call grid: publishes a moving test pattern as the camera track and shows one
## tile per remote video track.
##
## Tiles are video tiles: each stream hands the GPU its Y, U and V planes
## ([code]LiveKit.video_tile_from_track[/code]) and the tile's material converts them to RGB,
## so the CPU copies 1.5 bytes per pixel and converts nothing. Signal handlers only create or
## remove tiles; the per-frame work (drawing the pattern, capture_frame) happens in
## [method _process].

const DemoCommon: GDScript = preload("res://demo_scenes/demo_common.gd")
const WIDTH: int = 640
const HEIGHT: int = 360
const FRAMES_PER_SECOND: float = 15.0
const TILE_SIZE: Vector2 = Vector2(320, 180)
const BOX_SIZE: int = 72
const BAR_HEIGHT: int = 240
const BACKGROUND: Color = Color(0.08, 0.08, 0.1)
const BAR_COLORS: Array[Color] = [
	Color(0.75, 0.75, 0.75),
	Color(0.75, 0.75, 0.0),
	Color(0.0, 0.75, 0.75),
	Color(0.0, 0.75, 0.0),
	Color(0.75, 0.0, 0.75),
	Color(0.75, 0.0, 0.0),
	Color(0.0, 0.0, 0.75),
]

var _room: Object
var _video_source: Object
var _video_track: Object
var _pattern: Image
var _preview: ImageTexture
var _since_frame: float = 0.0
## track sid -> {"stream": LiveKitVideoStream, "tile": Control, "view": TextureRect,
## "identity": String, "publication_sid": String}
var _tiles: Dictionary = {}

@onready var _status: Label = %Status
@onready var _grid: GridContainer = %Grid
@onready var _local_view: TextureRect = %LocalView
@onready var _pause_button: CheckButton = %PauseButton
@onready var _leave_button: Button = %LeaveButton


func _ready() -> void:
	_leave_button.pressed.connect(_on_leave_pressed)
	_pause_button.toggled.connect(_on_pause_toggled)
	_pattern = Image.create_empty(WIDTH, HEIGHT, false, Image.FORMAT_RGBA8)
	_draw_pattern(0.0)
	_preview = ImageTexture.create_from_image(_pattern)
	_local_view.texture = _preview
	_room = LiveKit.new_room()
	if _room != null:
		_room.connect("connected", _on_connected)
		_room.connect("connection_failed", _on_connection_failed)
		_room.connect("disconnected", _on_disconnected)
		_room.connect("track_subscribed", _on_track_subscribed)
		_room.connect("track_unsubscribed", _on_track_unsubscribed)
		_room.connect("participant_disconnected", _on_participant_disconnected)
	DemoCommon.connect_room(_room, _status)


func _exit_tree() -> void:
	_close_tiles()
	if _room != null:
		_room.disconnect_from_room()


func _process(delta: float) -> void:
	_since_frame += delta
	if _since_frame >= 1.0 / FRAMES_PER_SECOND:
		_since_frame = 0.0
		_draw_pattern(Time.get_ticks_msec() / 1000.0)
		_preview.update(_pattern)
		if _video_source != null:
			_video_source.capture_frame(_pattern, 0, 0)


func _on_connected() -> void:
	_video_source = LiveKit.create_video_source(WIDTH, HEIGHT)
	_video_track = LiveKit.create_local_video_track("test-pattern", _video_source)
	if _video_track == null:
		_status.text = "Connected, but the video track could not be created."
		return
	var local_participant: Object = _room.get_local_participant()
	local_participant.publish_track(_video_track, {"source": LiveKit.SOURCE_CAMERA})
	_status.text = (
		"Connected to '%s' as %s: publishing a test pattern."
		% [_room.get_name(), DemoCommon.describe(local_participant)]
	)


func _on_connection_failed(error: String) -> void:
	_status.text = "Connection failed: " + error


func _on_disconnected() -> void:
	_status.text = "Disconnected."
	_close_tiles()
	_video_source = null
	_video_track = null


func _on_track_subscribed(track: Object, publication: Object, participant: Object) -> void:
	if track == null or track.get_kind() != LiveKit.TRACK_KIND_VIDEO:
		return
	var sid: String = track.get_sid()
	if _tiles.has(sid):
		return
	var stream: Object = LiveKit.video_tile_from_track(track)
	if stream == null:
		return
	var caption: String = DemoCommon.describe(participant)
	if track.get_source() == LiveKit.SOURCE_SCREENSHARE:
		caption += " (screen)"
	var tile: VBoxContainer = _make_tile(caption)
	var view: TextureRect = tile.get_child(0)
	view.texture = stream.get_texture()  # the Y plane: the tile takes the video's size
	view.material = stream.get_material()  # Y, U, V -> RGB on the GPU
	_tiles[sid] = {
		"stream": stream,
		"tile": tile,
		"view": view,
		"identity": DemoCommon.identity_of(participant),
		"publication_sid": "" if publication == null else str(publication.get_sid()),
	}
	_relayout()


func _on_track_unsubscribed(track: Object, publication: Object, _participant: Object) -> void:
	var track_sid: String = "" if track == null else str(track.get_sid())
	var publication_sid: String = "" if publication == null else str(publication.get_sid())
	for sid: String in _tiles.keys():
		var tile: Dictionary = _tiles[sid]
		if (
			sid == track_sid
			or (publication_sid != "" and tile["publication_sid"] == publication_sid)
		):
			_remove_tile(sid)


func _on_participant_disconnected(participant: Object) -> void:
	var identity: String = DemoCommon.identity_of(participant)
	for sid: String in _tiles.keys():
		if _tiles[sid]["identity"] == identity:
			_remove_tile(sid)


func _on_pause_toggled(paused: bool) -> void:
	if _video_track == null:
		return
	if paused:
		_video_track.mute()
	else:
		_video_track.unmute()


func _on_leave_pressed() -> void:
	_close_tiles()
	DemoCommon.back_to_launcher(get_tree(), _room)
	_room = null


func _make_tile(caption: String) -> VBoxContainer:
	var tile: VBoxContainer = VBoxContainer.new()
	tile.size_flags_horizontal = Control.SIZE_EXPAND_FILL
	tile.size_flags_vertical = Control.SIZE_EXPAND_FILL
	var view: TextureRect = TextureRect.new()
	view.custom_minimum_size = TILE_SIZE
	view.size_flags_horizontal = Control.SIZE_EXPAND_FILL
	view.size_flags_vertical = Control.SIZE_EXPAND_FILL
	view.expand_mode = TextureRect.EXPAND_IGNORE_SIZE
	view.stretch_mode = TextureRect.STRETCH_KEEP_ASPECT_CENTERED
	tile.add_child(view)
	var label: Label = Label.new()
	label.text = caption
	label.horizontal_alignment = HORIZONTAL_ALIGNMENT_CENTER
	tile.add_child(label)
	_grid.add_child(tile)
	return tile


func _remove_tile(sid: String) -> void:
	var tile: Dictionary = _tiles[sid]
	tile["stream"].close()
	var node: Control = tile["tile"]
	node.queue_free()
	_tiles.erase(sid)
	_relayout()


func _close_tiles() -> void:
	for sid: String in _tiles.keys():
		_remove_tile(sid)


func _relayout() -> void:
	var count: int = _tiles.size() + 1
	_grid.columns = maxi(1, ceili(sqrt(float(count))))


func _draw_pattern(seconds: float) -> void:
	_pattern.fill(BACKGROUND)
	var bar_width: int = ceili(float(WIDTH) / BAR_COLORS.size())
	var shift: int = int(seconds * 80.0) % WIDTH
	for index: int in BAR_COLORS.size():
		var x: int = (index * bar_width + shift) % WIDTH
		var color: Color = BAR_COLORS[index]
		_pattern.fill_rect(Rect2i(x, 0, bar_width, BAR_HEIGHT), color)
		if x + bar_width > WIDTH:
			_pattern.fill_rect(Rect2i(0, 0, x + bar_width - WIDTH, BAR_HEIGHT), color)
	var box_x: int = int((sin(seconds * 2.0) * 0.5 + 0.5) * (WIDTH - BOX_SIZE))
	var box_y: int = HEIGHT - BOX_SIZE - 24
	_pattern.fill_rect(Rect2i(box_x, box_y, BOX_SIZE, BOX_SIZE), Color.WHITE)
