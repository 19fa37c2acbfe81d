"""LiveKitVideoStream for GDScript: a remote video track as an ImageTexture.

py4godot scripts cannot have static methods callable from GDScript, so the reference's static
``from_track(track)`` / ``from_participant(participant, source)`` are instance methods that
initialise this object and return it; GDScript uses ``LiveKit.video_stream_from_track(track)``
/ ``LiveKit.video_stream_from_participant(participant, source)``.

Each new frame is copied once into the stream's Image (``set_data``) and uploaded to its one
ImageTexture (``update``) inside the same poll that emits ``frame_received`` -- the
LiveKitPoller's frame when ``auto_poll`` is on. ``get_texture()`` is null before the first
frame and the same ImageTexture afterwards.

Video tiles (beyond the reference): ``set_mode(MODE_I420)`` (``LiveKit.VIDEO_MODE_I420``, or
``LiveKit.video_tile_from_track``) hands Godot the decoder's Y, U and V planes instead of RGBA:
three FORMAT_R8 textures (``get_y_texture``/``get_u_texture``/``get_v_texture``; Y full size, U
and V half) updated in place, 1.5 bytes per pixel copied instead of 4, and ``get_material()``
(CanvasItems) / ``get_material_3d()`` (meshes) convert them to RGB on the GPU
(bridge/tiles.py, video_tiles/). In that mode ``get_texture()``/``get_image()`` are the Y plane's,
so a TextureRect or Sprite2D takes the video's size from it. The textures and materials exist
from the switch on (black until the first I420 frame) and stay the same objects for the
stream's life; switching back to MODE_RGBA updates the RGBA texture again.

Lifetime: ``close()`` stops the native stream and lets go of the Images, ImageTextures and
materials; a stream the game drops is closed and freed by the LiveKitPoller within a second.
"""

from __future__ import annotations

from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.RefCounted import RefCounted
from py4godot.signals import signal

import godot_livekit
from addons.godot_livekit.bridge.declarations import AutoPollDeclaration
from addons.godot_livekit.bridge.members import FramePollMembers
from addons.godot_livekit.bridge.objects import core_of, guard
from addons.godot_livekit.bridge.tiles import PlaneTextures

_Core = godot_livekit.LiveKitVideoStream


@gdclass
class LiveKitVideoStream(FramePollMembers, AutoPollDeclaration, RefCounted):
    MODE_RGBA = 0
    MODE_I420 = 1
    LK_CREATE_HINT = "from_track() or from_participant()"

    frame_received = signal()

    def __init__(self) -> None:
        super().__init__()
        self._lk_mode = _Core.MODE_RGBA
        self._lk_planes = PlaneTextures()

    @guard()
    def from_track(self, track: Any) -> Any:
        """Reference static ``from_track``: frames of a subscribed remote video track."""
        core = _Core.from_track(core_of(track, "track"))
        return None if core is None else self._lk_start(core)

    @guard()
    def from_participant(self, participant: Any, source: int) -> Any:
        """Reference static ``from_participant``: ``participant``'s video from ``source``."""
        return self._lk_start(_Core.from_participant(core_of(participant, "participant"), source))

    @guard(False)
    def is_active(self) -> bool:
        return self._lk().is_active()

    @guard(0)
    def get_frames_received(self) -> int:
        return self._lk().get_frames_received()

    @guard(0)
    def get_frames_dropped(self) -> int:
        return self._lk().get_frames_dropped()

    # -- video tiles (MODE_I420) -------------------------------------------------------------

    @guard()
    def set_mode(self, mode: int) -> None:
        """MODE_RGBA (0, the default) or MODE_I420 (1); works on a live stream."""
        if isinstance(mode, bool) or mode not in (_Core.MODE_RGBA, _Core.MODE_I420):
            raise ValueError(f"set_mode: mode must be MODE_RGBA (0) or MODE_I420 (1), got {mode!r}")
        self._lk_mode = mode
        if mode == _Core.MODE_I420:
            self._lk_planes.ensure()
        if self._lk_core is not None:
            self._lk_core.set_mode(mode)

    @guard(0)
    def get_mode(self) -> int:
        return self._lk_mode

    @guard()
    def get_texture(self) -> Any:
        """MODE_RGBA: the frame's ImageTexture (null before the first frame); MODE_I420: the Y
        plane's (draw it with get_material())."""
        if self._lk_mode == _Core.MODE_I420:
            return self._lk_plane_texture(0)
        return self._lk_frames.texture

    @guard()
    def get_image(self) -> Any:
        """MODE_RGBA: the frame as an RGBA8 Image (null before the first frame); MODE_I420:
        the Y plane's FORMAT_R8 Image."""
        if self._lk_mode == _Core.MODE_I420:
            self._lk_planes.ensure()
            return self._lk_planes.images[0]
        return self._lk_frames.image

    @guard()
    def get_y_texture(self) -> Any:
        """The Y plane (FORMAT_R8, the frame's size)."""
        return self._lk_plane_texture(0)

    @guard()
    def get_u_texture(self) -> Any:
        """The U plane (FORMAT_R8, ceil(width/2) x ceil(height/2))."""
        return self._lk_plane_texture(1)

    @guard()
    def get_v_texture(self) -> Any:
        """The V plane (FORMAT_R8, ceil(width/2) x ceil(height/2))."""
        return self._lk_plane_texture(2)

    @guard()
    def get_material(self) -> Any:
        """A ShaderMaterial for CanvasItems (TextureRect, Sprite2D) that draws the planes in
        colour; the same object for the stream's life."""
        return self._lk_planes.material("canvas")

    @guard()
    def get_material_3d(self) -> Any:
        """The same for meshes (an unshaded spatial ShaderMaterial)."""
        return self._lk_planes.material("3d")

    def _lk_plane_texture(self, index: int) -> Any:
        self._lk_planes.ensure()
        return self._lk_planes.textures[index]

    def _lk_start(self, core: Any) -> Any:
        core.set_mode(self._lk_mode)
        return super()._lk_start(core)

    def _lk_on_core_signal(self, name: str, *args: Any) -> None:
        if name == "frame_received" and self._lk_mode == _Core.MODE_I420:
            planes = self._lk_core.get_planes()
            if planes is not None:
                self._lk_planes.show(planes)
            self._lk_emit(name, *args)
            return
        super()._lk_on_core_signal(name, *args)

    def _lk_close(self) -> None:
        super()._lk_close()
        self._lk_planes.clear()
