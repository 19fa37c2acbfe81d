extends RefCounted
## What the demo scenes share: the server URL and token chosen in the launcher (kept on
## the Engine singleton so they survive scene changes), scene switching, and small
## helpers for participants and data messages.

const LAUNCHER_SCENE: String = "res://demo_scenes/launcher.tscn"
const DEFAULT_URL: String = "ws://127.0.0.1:7880"
const DEV_ROOM: String = "dev-room"
const _META_URL: StringName = &"godot_livekit_demo_url"
const _META_TOKEN: StringName = &"godot_livekit_demo_token"
const _META_IDENTITY: StringName = &"godot_livekit_demo_identity"


## Remember the connection settings for the next scene.
static func remember(url: String, token: String, identity: String) -> void:
	Engine.set_meta(_META_URL, url)
	Engine.set_meta(_META_TOKEN, token)
	Engine.set_meta(_META_IDENTITY, identity)


## The LiveKit server URL chosen in the launcher.
static func url() -> String:
	return str(Engine.get_meta(_META_URL, DEFAULT_URL))


## The access token chosen (or minted) in the launcher.
static func token() -> String:
	return str(Engine.get_meta(_META_TOKEN, ""))


## The identity typed in the launcher (used for dev tokens), or "".
static func identity() -> String:
	return str(Engine.get_meta(_META_IDENTITY, ""))


## Connect [param room] with the launcher's URL and token; false (and a message in
## [param status]) when there is no room or no token.
static func connect_room(room: Object, status: Label, options: Dictionary = {}) -> bool:
	if room == null:
		status.text = "godot-livekit is not available: " + LiveKit.unavailable_reason()
		return false
	if token().is_empty():
		status.text = "No token: go back to the launcher and paste one."
		return false
	status.text = "Connecting to %s ..." % url()
	room.connect_to_room(url(), token(), options)
	return true


## Leave the demo: disconnect [param room] (if any) and open the launcher.
static func back_to_launcher(tree: SceneTree, room: Object) -> void:
	if room != null:
		room.disconnect_from_room()
	tree.change_scene_to_file(LAUNCHER_SCENE)


## "name (identity)" of a participant, or "?" for none. Untyped, and tested with
## [code]is Object[/code]: where the API has no participant (a data packet from a sender the
## room does not know yet) py4godot hands GDScript 0, not null (README, "null arrives as 0").
static func describe(participant: Variant) -> String:
	if not participant is Object:
		return "?"
	var identity_text: String = participant.get_identity()
	var name_text: String = participant.get_name()
	if name_text.is_empty() or name_text == identity_text:
		return identity_text
	return "%s (%s)" % [name_text, identity_text]


## Identity of a participant, or "" for none (0 or null).
static func identity_of(participant: Variant) -> String:
	return str(participant.get_identity()) if participant is Object else ""


## UTF-8 text of a data message.
static func text_of(data: PackedByteArray) -> String:
	return data.get_string_from_utf8()
