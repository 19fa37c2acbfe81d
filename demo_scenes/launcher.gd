extends Control
## Demo launcher: pick the server URL and a token, then open one of the demos.
##
## With an empty token and godot-livekit installed in py4godot's Python, a dev token is
## minted for the identity field (see
## addons/godot_livekit/dev_tools.gd); otherwise paste one (for the local dev server,
## [code]python build.py server[/code] prints one).

const DemoCommon: GDScript = preload("res://demo_scenes/demo_common.gd")
const DevTools: GDScript = preload("res://addons/godot_livekit/dev_tools.gd")
const DEMOS: Dictionary = {
	"VideoCallButton": "res://demo_scenes/video_call.tscn",
	"SpatialVoiceButton": "res://demo_scenes/spatial_voice.tscn",
	"TextChatButton": "res://demo_scenes/text_chat.tscn",
	"ScreenShareButton": "res://demo_scenes/screen_share.tscn",
}

var _mint_thread: Thread
var _pending_scene: String = ""

@onready var _url_edit: LineEdit = %UrlEdit
@onready var _token_edit: LineEdit = %TokenEdit
@onready var _identity_edit: LineEdit = %IdentityEdit
@onready var _status: Label = %Status
@onready var _buttons: HBoxContainer = %DemoButtons


func _ready() -> void:
	_url_edit.text = DemoCommon.url()
	_token_edit.text = DemoCommon.token()
	var identity: String = DemoCommon.identity()
	if identity.is_empty():
		identity = "player-%04d" % (randi() % 10000)
	_identity_edit.text = identity
	for button_name: String in DEMOS:
		var button: Button = _buttons.get_node(button_name)
		button.pressed.connect(_on_demo_pressed.bind(DEMOS[button_name]))
	var reason: String = LiveKit.unavailable_reason()
	if not reason.is_empty():
		_status.text = reason
	else:
		_status.text = "Ready. Start a server with `python build.py server` (or the LiveKit dock)."


func _exit_tree() -> void:
	if _mint_thread != null and _mint_thread.is_started():
		_mint_thread.wait_to_finish()


func _on_demo_pressed(scene_path: String) -> void:
	if _pending_scene != "":
		return
	var url: String = _url_edit.text.strip_edges()
	var token: String = _token_edit.text.strip_edges()
	var identity: String = _identity_edit.text.strip_edges()
	if url.is_empty():
		_status.text = "Enter the server URL (ws://127.0.0.1:7880 for the local dev server)."
		return
	if not token.is_empty():
		_open(scene_path, url, token, identity)
		return
	var missing: String = DevTools.problem()
	if not missing.is_empty():
		_status.text = (
			"Paste a token: run `python build.py server` (prints one) or "
			+ "`python build.py token --identity NAME --room dev-room`. (%s)" % missing
		)
		return
	if identity.is_empty():
		_status.text = "Enter an identity for the dev token."
		return
	_pending_scene = scene_path
	_status.text = "Minting a dev token for '%s' (godot_livekit.tools.tokens) ..." % identity
	_mint_thread = Thread.new()
	_mint_thread.start(_mint.bind(identity))


func _mint(identity: String) -> void:
	var minted: Dictionary = DevTools.mint_token(identity, DemoCommon.DEV_ROOM)
	_on_minted.call_deferred(minted)


func _on_minted(minted: Dictionary) -> void:
	_mint_thread.wait_to_finish()
	_mint_thread = null
	var scene_path: String = _pending_scene
	_pending_scene = ""
	if not str(minted["error"]).is_empty():
		_status.text = str(minted["error"])
		return
	var token: String = minted["token"]
	_token_edit.text = token
	_open(scene_path, _url_edit.text.strip_edges(), token, _identity_edit.text.strip_edges())


func _open(scene_path: String, url: String, token: String, identity: String) -> void:
	DemoCommon.remember(url, token, identity)
	get_tree().change_scene_to_file(scene_path)
