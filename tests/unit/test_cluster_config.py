"""The multi-node configuration, without starting anything: node configs, Redis command line,
RESP parsing, the `--nodes` options of build.py and the dev server, and the system-tool
check of set-up."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType

import pytest
from godot_livekit_dev.build_tools import environment
from godot_livekit_dev.build_tools.cli import parse
from godot_livekit_dev.build_tools.common import BuildError

from godot_livekit.tools import devserver
from godot_livekit.tools.cluster import (
    NODE_PORT_STEP,
    REDIS_PACKAGE,
    LocalCluster,
    RedisServer,
    encode_command,
    read_reply,
    redis_missing_message,
)
from godot_livekit.tools.devserver import LocalServer

REPO = Path(__file__).resolve().parents[2]


def load_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("godot_livekit_build_script", REPO / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------- node configs


def test_each_node_has_its_own_ports_and_all_share_one_redis(tmp_path: Path) -> None:
    cluster = LocalCluster(3, port=9000, udp_port=9002, redis_port=9100, log_dir=tmp_path)
    configs = cluster.configs()
    assert [c["port"] for c in configs] == [9000, 9000 + NODE_PORT_STEP, 9000 + 2 * NODE_PORT_STEP]
    assert [c["rtc"]["udp_port"] for c in configs] == [9002, 9012, 9022]
    assert {c["redis"]["address"] for c in configs} == {"127.0.0.1:9100"}
    assert cluster.urls == ["ws://127.0.0.1:9000", "ws://127.0.0.1:9010", "ws://127.0.0.1:9020"]
    assert [n.log_path for n in cluster.nodes] == [tmp_path / f"node-{i}.log" for i in (1, 2, 3)]
    assert cluster.redis.log_path == tmp_path / "redis.log"


def test_nodes_keep_the_single_node_offline_settings(tmp_path: Path) -> None:
    cluster = LocalCluster(2, node_ips=["10.77.0.1", "10.77.0.2"], log_dir=tmp_path)
    ips = ["10.77.0.1", "10.77.0.2"]
    for node, config, ip in zip(cluster.nodes, cluster.configs(), ips, strict=True):
        rtc = config["rtc"]
        assert rtc["node_ip"] == ip
        assert rtc["use_external_ip"] is False
        assert rtc["tcp_port"] == 0
        assert rtc["stun_servers"] == [f"{ip}:3478"]
        assert config["keys"] == {cluster.api_key: cluster.api_secret}
        assert node.bind_addresses == ["127.0.0.1", ip]
        # the config is what the server gets (strict YAML: JSON with known keys only)
        assert json.loads(node.config_body()) == config
    single = LocalServer(node_ip="10.77.0.1").config()
    assert {k: v for k, v in cluster.configs()[0].items() if k != "redis"} == {
        **single,
        "logging": {"level": "info"},
    }


def test_a_single_server_config_has_no_redis() -> None:
    assert "redis" not in LocalServer().config()
    assert LocalServer(redis_address="127.0.0.1:7379").config()["redis"] == {
        "address": "127.0.0.1:7379"
    }


def test_explicit_ports_and_bad_layouts(tmp_path: Path) -> None:
    cluster = LocalCluster(2, ports=[1111, 2222], udp_ports=[3333, 4444], log_dir=tmp_path)
    assert [(n.port, n.udp_port) for n in cluster.nodes] == [(1111, 3333), (2222, 4444)]
    with pytest.raises(ValueError, match="at least one node"):
        LocalCluster(0, log_dir=tmp_path)
    with pytest.raises(ValueError, match="one entry per node"):
        LocalCluster(2, ports=[1111], log_dir=tmp_path)
    with pytest.raises(ValueError, match="overlap"):
        LocalCluster(2, ports=[1111, 2222], udp_ports=[2222, 4444], log_dir=tmp_path)
    with pytest.raises(ValueError, match="overlap"):
        LocalCluster(2, port=7880, redis_port=7890, log_dir=tmp_path)


def test_redis_command_binds_locally_and_persists_nothing(tmp_path: Path) -> None:
    redis = RedisServer(binary="/usr/bin/redis-server", port=7001, log_path=tmp_path / "r.log")
    command = redis.command(tmp_path / "data")
    options = dict(zip(command[1::2], command[2::2], strict=True))
    assert options == {
        "--bind": "127.0.0.1",
        "--port": "7001",
        "--protected-mode": "yes",
        "--save": "",
        "--appendonly": "no",
        "--dir": str(tmp_path / "data"),
        "--daemonize": "no",
        "--logfile": str(tmp_path / "r.log"),
    }
    assert redis.address == "127.0.0.1:7001"


def test_missing_redis_names_the_debian_package() -> None:
    assert f"`{REDIS_PACKAGE}`" in redis_missing_message()
    assert "apt-get install redis-server" in redis_missing_message()


# ------------------------------------------------------------------------------ RESP


def test_resp_encoding_and_replies() -> None:
    assert encode_command("HGET", "room_node_map", "r1") == (
        b"*3\r\n$4\r\nHGET\r\n$13\r\nroom_node_map\r\n$2\r\nr1\r\n"
    )
    assert read_reply(io.BytesIO(b"$5\r\nND_ab\r\n")) == "ND_ab"
    assert read_reply(io.BytesIO(b"$-1\r\n")) is None
    assert read_reply(io.BytesIO(b"+PONG\r\n")) == "PONG"
    assert read_reply(io.BytesIO(b":42\r\n")) == 42
    assert read_reply(io.BytesIO(b"*2\r\n$4\r\nsave\r\n$0\r\n\r\n")) == ["save", ""]
    with pytest.raises(RuntimeError, match="WRONGTYPE"):
        read_reply(io.BytesIO(b"-WRONGTYPE Operation against a key\r\n"))
    with pytest.raises(RuntimeError, match="closed"):
        read_reply(io.BytesIO(b"$5\r"))


# ----------------------------------------------------------------------- command lines


def test_build_py_server_forwards_nodes() -> None:
    build = load_build_script()
    _, call = parse(build.SUBCOMMANDS, ["server", "--nodes", "2"], "test")
    assert call.args.nodes == 2
    assert call.forwarded == ["--port", "7880", "--nodes", "2"]
    _, call = parse(build.SUBCOMMANDS, ["server"], "test")
    assert call.args.nodes == 1


def test_dev_server_refuses_a_single_log_file_for_several_nodes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        devserver.main(["--nodes", "2", "--log-file", "x.log"])
    assert exit_info.value.code == 2
    assert "--log-dir" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        devserver.main(["--nodes", "0"])
    args = devserver.build_parser().parse_args(["--nodes", "2"])
    assert (args.nodes, args.redis_port, args.log_dir) == (2, 7379, None)


# ------------------------------------------------------------------------ set-up check


def test_a_required_system_tool_that_cannot_be_installed_is_an_error_naming_its_package(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    absent = environment.SystemTool("godot-livekit-absent-tool", "absent-pkg", "a test")
    monkeypatch.setattr(environment, "_can_apt_install", lambda: None)  # as a non-root user
    with pytest.raises(BuildError, match=r"apt-get install absent-pkg"):
        environment.ensure_system_tools([absent], required=True)
    environment.ensure_system_tools([absent])  # not required: a warning only
    assert "absent-pkg" in capsys.readouterr().err
    assert environment.REDIS.package == "redis-server"


def test_a_missing_library_is_installed_by_all_its_packages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A library is checked by its own test (not a program on PATH), and every package it
    names goes to one apt-get install."""
    installed: list[list[str]] = []
    present = {"now": False}
    library = environment.SystemTool(
        "libexample", "libexample1 libexample-dri", "a test", lambda: present["now"]
    )

    def fake_run(command: list[str], **_: object) -> object:
        if "install" in command:
            installed.append(command[command.index("-qq") + 1 :])
            present["now"] = True
        return type("Done", (), {"returncode": 0})()

    monkeypatch.setattr(environment, "_can_apt_install", lambda: "/usr/bin/apt-get")
    monkeypatch.setattr(environment.subprocess, "run", fake_run)
    environment.ensure_system_tools([library], required=True)
    assert installed == [["libexample1", "libexample-dri"]]
    environment.ensure_system_tools([library], required=True)  # present now: nothing to do
    assert len(installed) == 1
    assert environment.MESA_EGL.package.split() == ["libegl1", "libegl-mesa0", "libgl1-mesa-dri"]


def test_server_log_lines_of_one_room_are_redacted(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    secret = "s3cret-value-of-the-test"
    log.write_text(
        "\n".join(
            [
                'INFO room started {"room": "alpha-1"}',
                'INFO room started {"room": "beta-2"}',
                f'WARN token {secret} for {{"room": "alpha-1"}}',
                'INFO closing {"room": "beta-2"}',
                'INFO closing {"room": "alpha-1"}',
            ]
        )
        + "\n"
    )
    server = LocalServer(log_path=log, api_secret=secret)
    lines = server.log_text(2, containing="alpha-1").splitlines()
    assert lines == [
        'WARN token <api-secret> for {"room": "alpha-1"}',
        'INFO closing {"room": "alpha-1"}',
    ]
    assert len(server.log_text(10).splitlines()) == 5
    assert server.log_text(10, containing="gamma") == ""
