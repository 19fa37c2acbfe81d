"""Active speakers: the room names who is talking, from the server's speaker updates.

Real parts: livekit-server (it measures the audio levels and decides who speaks), the livekit
SDK, WebRTC over the test namespace's network; alice really sends a loud tone and then
silence.
"""

from __future__ import annotations

from media_helpers import tone_feeder
from peers import wait_until

from godot_livekit import LiveKitAudioSource, LiveKitLocalAudioTrack

SPEAKER_WAIT = 20.0


def test_active_speakers_name_the_participant_who_is_talking(alice_bob) -> None:
    alice, bob = alice_bob
    source = LiveKitAudioSource.create(48000, 1, 200)
    track = LiveKitLocalAudioTrack.create("voice", source)
    alice.local.publish_track(track, {})
    feeder = tone_feeder(source, 440.0).start()
    alice_at_bob = bob.room.get_remote_participants()["alice"]
    try:
        wait_until(
            [alice, bob],
            lambda: any(alice_at_bob in args[0] for args in bob.args_of("active_speakers_changed")),
            SPEAKER_WAIT,
            "bob hears alice speak",
        )
        assert alice_at_bob.is_speaking()
        assert bob.room.get_active_speakers() == [alice_at_bob]
        assert not bob.local.is_speaking()
        # alice hears herself named too: the local participant is in her own list
        wait_until(
            [alice, bob],
            lambda: alice.local.is_speaking(),
            SPEAKER_WAIT,
            "alice sees herself speaking",
        )
    finally:
        feeder.stop()
    track.mute()  # silence: the server takes her off the list
    wait_until(
        [alice, bob],
        lambda: not alice_at_bob.is_speaking() and bob.room.get_active_speakers() == [],
        SPEAKER_WAIT,
        "alice no longer speaking at bob",
    )
    assert bob.args_of("active_speakers_changed")[-1] == ([],)
