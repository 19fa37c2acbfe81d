"""The headless demo (`python build.py demo`) runs every step and prints every signal.

Real parts: the demo's own embedded livekit-server (port 7890, beside the session server
on 7880), the livekit SDK over the test namespace's network.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from godot_livekit_dev.demo import main

EXPECTED_LINES = [
    "alice <- connected()",
    "bob   <- connected()",
    "alice <- participant_connected(participant=bob)",
    "bob   <- data_received(data=b'hello everyone' (14 bytes), participant=alice, "
    "kind=RELIABLE, topic='chat')",
    "bob   <- data_received(data=b'hello bob' (9 bytes), participant=alice, "
    "kind=RELIABLE, topic='chat')",
    "alice <- data_received(data=b'hi alice!' (9 bytes), participant=bob, "
    "kind=RELIABLE, topic='chat')",
    "bob   <- rpc_method_invoked(method='greet', request_id=",
    "alice <- rpc_response_received(method='greet', "
    "result=\"Hello alice! bob received 'how are you?'\")",
    "bob   <- participant_metadata_changed(participant=alice, "
    "old_metadata='{\"level\": 1}', new_metadata='{\"level\": 2}')",
    "bob   <- participant_name_changed(participant=alice, "
    "old_name='Alice', new_name='Alice the Brave')",
    "bob   <- participant_attributes_changed(participant=alice, "
    "changed_attributes={'hp': '100', 'team': 'blue'})",
    "bob   :: alice's attributes {'team': 'red'} -> {'hp': '100', 'team': 'blue'}",
    "bob   <- disconnected()",
    "alice <- participant_disconnected(participant=bob)",
    "alice <- disconnected()",
    "alice <- track_subscribed(track=<LiveKitRemoteVideoTrack",
    "alice <- track_subscribed(track=<LiveKitRemoteAudioTrack",
    "alice :: received tone at ",
    "alice <- participant_disconnected(participant=bot)",
]


def test_demo_runs_every_step_and_prints_each_signal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # demo_output/ lands here
    code = main(["--port", "7890"])
    captured = capsys.readouterr()
    transcript = captured.out
    context = f"\n--- stdout ---\n{transcript}\n--- stderr ---\n{captured.err}"
    assert code == 0, f"demo exited with {code}{context}"

    for expected in EXPECTED_LINES:
        assert expected in transcript, f"missing {expected!r}{context}"

    (rpc_error,) = [line for line in transcript.splitlines() if "rpc_error(" in line]
    expected = "error_message='Method not supported at destination (code 1400)')"
    assert "alice <- rpc_error(method='teleport', " + expected in rpc_error, rpc_error
    assert rpc_error.endswith("(code 1400)')"), rpc_error

    (tone,) = [line for line in transcript.splitlines() if "received tone at " in line]
    hertz = float(tone.split("received tone at ", 1)[1].split(" Hz", 1)[0])
    assert abs(hertz - 440.0) <= 5.0, tone  # a few Hz of spread when frames were dropped
    assert "step 16/16: alice disconnects" in transcript
    (saved,) = [line for line in transcript.splitlines() if "saved a received frame to " in line]
    png = Path(saved.split("saved a received frame to ", 1)[1].strip())
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    summary = transcript.strip().splitlines()[-1]
    assert summary.startswith("demo finished: ") and "all steps passed" in summary, summary
    signal_lines = [line for line in transcript.splitlines() if " <- " in line]
    assert f"demo finished: {len(signal_lines)} signals" in summary, summary
    assert "eyJ" not in transcript + captured.err  # no token ever printed
