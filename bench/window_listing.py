"""X11 window listing on a real Xvfb: the shipped lister against the alternatives.

    .venv/bin/python -m bench.window_listing [--windows 50] [--rounds 40]

Starts a private Xvfb (tests/support/xvfb.py), draws ``--windows`` named top-level windows
plus unnamed and unmapped ones (every lister must skip those) and times one full listing
(connect, list, disconnect: what ``get_windows()`` does) with:

- the shipped lister (``godot_livekit.screen_capture.x11``: xcffib, three pipelined passes:
  attributes, then geometry and ``_NET_WM_NAME`` of the shown windows, then ``WM_NAME``
  where that was missing);
- the former hand-made ctypes binding of libxcb, loaded from git (commit ``FORMER_COMMIT``)
  when the repository has it: the baseline of the ratios;
- xcffib and python-xlib one request at a time, on the former binding's plan (the same
  requests in the same order: this compares the libraries' cost per request);
- python-xlib pipelined (deferred requests, all five requests per window in one pass),
  when python-xlib is installed (``pip install python-xlib``; it is not a dependency).

The listers take turns round by round, so the load of a shared machine falls on each alike;
the table gives wall time (what the calling thread waits) and its CPU time.
Times are also given in X round trips, measured in the same run (an xcffib
``GetInputFocus``). Then each lister meets a window destroyed mid-listing, twice: stale ids
in ``_NET_CLIENT_LIST`` (what a window manager's list holds after a window closes), and a
thread that keeps creating and destroying windows while the lister walks the root's
children. It prints what each lister returned or raised.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests" / "support"))

from xvfb import BLUE, GREEN, RED, XClient, start_xvfb  # noqa: E402

from godot_livekit.screen_capture import x11  # noqa: E402

from .stats import Stats, fmt_ms, ratio, table, time_calls  # noqa: E402

FORMER_COMMIT = "ef02d62"  # the last commit with the hand-made XCB ctypes binding
FORMER_PATH = "python/godot_livekit/screen_capture.py"
CHURN_LISTINGS = 40
CHURN_MAX_WINDOWS = 20_000  # the churn thread's bound, whatever happens

Lister = Callable[[str], list[dict[str, Any]]]


# ------------------------------------------------------------------------ the listers


def list_shipped(display: str) -> list[dict[str, Any]]:
    return x11.list_windows(display)


def list_xcffib_sequential(display: str) -> list[dict[str, Any]]:
    """xcffib, waiting for each reply before the next request (as the former code did)."""
    import xcffib
    import xcffib.xproto

    conn: Any = xcffib.connect(display=display)
    try:
        core = conn.core
        root = conn.setup.roots[conn.pref_screen].root

        def atom(name: str) -> int:
            return int(core.InternAtom(True, len(name), name.encode()).reply().atom)

        client_list, net_wm_name, utf8 = (
            atom("_NET_CLIENT_LIST"),
            atom("_NET_WM_NAME"),
            atom("UTF8_STRING"),
        )
        managed = None
        if client_list:
            prop = core.GetProperty(False, root, client_list, 33, 0, 1 << 16).reply()
            if prop.type and prop.format == 32:
                managed = list(prop.value.to_atoms())
        candidates = managed if managed is not None else list(core.QueryTree(root).reply().children)
        found = []
        for window in candidates:
            try:
                attributes = core.GetWindowAttributes(window).reply()
                if attributes.map_state != 2 or attributes._class == 2:
                    continue
                if managed is None and attributes.override_redirect:
                    continue
                name = ""
                if net_wm_name and utf8:
                    prop = core.GetProperty(False, window, net_wm_name, utf8, 0, 1024).reply()
                    name = prop.value.buf().rstrip(b"\0").decode("utf-8", "replace")
                if not name:
                    prop = core.GetProperty(False, window, 39, 0, 0, 1024).reply()
                    encoding = "latin-1" if prop.type == 31 else "utf-8"
                    name = prop.value.buf().rstrip(b"\0").decode(encoding, "replace")
                if managed is None and not name:
                    continue
                geometry = core.GetGeometry(window).reply()
                origin = core.TranslateCoordinates(window, root, 0, 0).reply()
            except xcffib.Error:
                continue
            found.append(_entry(window, name, origin.dst_x, origin.dst_y, geometry))
        return found
    finally:
        conn.disconnect()


def _python_xlib_names(display: Any) -> tuple[Any, int, int, int]:
    root = display.screen().root
    atoms = [display.intern_atom(n, True) for n in ("_NET_CLIENT_LIST", "_NET_WM_NAME")]
    return root, atoms[0], atoms[1], display.intern_atom("UTF8_STRING", True)


def _python_xlib_candidates(root: Any, client_list: int) -> tuple[list[int], bool]:
    from Xlib import Xatom

    if client_list:
        prop = root.get_full_property(client_list, Xatom.WINDOW)
        if prop is not None and prop.format == 32:
            return [int(w) for w in prop.value], True
    return [child.id for child in root.query_tree().children], False


def list_python_xlib_sequential(display_name: str) -> list[dict[str, Any]]:
    """python-xlib's usual API: every call waits for its reply."""
    from Xlib import X, Xatom, error
    from Xlib import display as xdisplay

    display = xdisplay.Display(display_name)
    try:
        root, client_list, net_wm_name, utf8 = _python_xlib_names(display)
        candidates, managed = _python_xlib_candidates(root, client_list)
        found = []
        for window_id in candidates:
            window = display.create_resource_object("window", window_id)
            try:
                attributes = window.get_attributes()
                if attributes.map_state != X.IsViewable or attributes.win_class == X.InputOnly:
                    continue
                if not managed and attributes.override_redirect:
                    continue
                name = ""
                if net_wm_name and utf8:
                    prop = window.get_full_property(net_wm_name, utf8)
                    if prop is not None:
                        name = bytes(prop.value).rstrip(b"\0").decode("utf-8", "replace")
                if not name:
                    prop = window.get_full_property(Xatom.WM_NAME, X.AnyPropertyType)
                    if prop is not None:
                        encoding = "latin-1" if prop.property_type == Xatom.STRING else "utf-8"
                        raw = prop.value if isinstance(prop.value, bytes) else bytes(prop.value)
                        name = raw.rstrip(b"\0").decode(encoding, "replace")
                if not managed and not name:
                    continue
                geometry = window.get_geometry()
                origin = root.translate_coords(window, 0, 0)
            except (error.BadWindow, error.BadDrawable):
                continue
            found.append(_entry(window_id, name, origin.x, origin.y, geometry))
        return found
    finally:
        display.close()


def list_python_xlib_pipelined(display_name: str) -> list[dict[str, Any]]:
    """python-xlib with deferred protocol requests: all sent, then all replies read."""
    from Xlib import X, Xatom, error
    from Xlib import display as xdisplay
    from Xlib.protocol import request

    display = xdisplay.Display(display_name)
    try:
        root, client_list, net_wm_name, utf8 = _python_xlib_names(display)
        candidates, managed = _python_xlib_candidates(root, client_list)
        wire = display.display
        batches = []
        for window in candidates:
            batch = [
                request.GetWindowAttributes(display=wire, defer=True, window=window),
                request.GetGeometry(display=wire, defer=True, drawable=window),
                request.TranslateCoords(
                    display=wire, defer=True, src_wid=window, dst_wid=root.id, src_x=0, src_y=0
                ),
                request.GetProperty(
                    display=wire,
                    defer=True,
                    delete=False,
                    window=window,
                    property=Xatom.WM_NAME,
                    type=X.AnyPropertyType,
                    long_offset=0,
                    long_length=1024,
                ),
            ]
            if net_wm_name and utf8:
                batch.append(
                    request.GetProperty(
                        display=wire,
                        defer=True,
                        delete=False,
                        window=window,
                        property=net_wm_name,
                        type=utf8,
                        long_offset=0,
                        long_length=1024,
                    )
                )
            batches.append(batch)
        found = []
        for window, batch in zip(candidates, batches, strict=True):
            try:
                for reply in batch:
                    reply.reply()
            except (error.BadWindow, error.BadDrawable):
                continue
            attributes, geometry, origin, wm_name, *net = batch
            if attributes.map_state != X.IsViewable or attributes.win_class == X.InputOnly:
                continue
            if not managed and attributes.override_redirect:
                continue
            name = ""
            if net and net[0].property_type == utf8:
                name = bytes(net[0].value[1]).rstrip(b"\0").decode("utf-8", "replace")
            if not name:
                encoding = "latin-1" if wm_name.property_type == Xatom.STRING else "utf-8"
                value = wm_name.value[1] if wm_name.property_type else b""
                raw = value if isinstance(value, bytes) else bytes(value)
                name = raw.rstrip(b"\0").decode(encoding, "replace")
            if not managed and not name:
                continue
            found.append(_entry(window, name, origin.x, origin.y, geometry))
        return found
    finally:
        display.close()


def _entry(window: int, name: str, x: int, y: int, geometry: Any) -> dict[str, Any]:
    return {
        "id": int(window),
        "name": name,
        "x": int(x),
        "y": int(y),
        "width": int(geometry.width),
        "height": int(geometry.height),
    }


def load_former() -> ModuleType | None:
    """The former screen_capture module from git, or None when the commit is not there."""
    try:
        source = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "show", f"{FORMER_COMMIT}:{FORMER_PATH}"],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    name = "godot_livekit._former_screen_capture"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "godot_livekit"
    sys.modules[name] = module  # dataclasses look their module up there
    exec(compile(source, f"{FORMER_COMMIT}:{FORMER_PATH}", "exec"), module.__dict__)
    return module


def former_lister(module: ModuleType) -> Lister:
    def list_former(display: str) -> list[dict[str, Any]]:
        os.environ["DISPLAY"] = display
        result: list[dict[str, Any]] = module._x11_windows()
        return result

    return list_former


# ------------------------------------------------------------------------- scenarios


def draw_windows(x: XClient, count: int) -> list[int]:
    """``count`` named windows, plus count/5 unnamed and count/5 unmapped ones."""
    colors = (RED, GREEN, BLUE)
    named = [
        x.window((i * 13) % 600, (i * 7) % 440, 40, 30, colors[i % 3], name=f"bench window {i}")
        for i in range(count)
    ]
    for i in range(count // 5):
        x.window(i, i, 10, 10, RED)  # unnamed
        x.window(i, i, 10, 10, BLUE, name="unmapped", mapped=False)
    return named


def time_round_trip(display: str, reps: int) -> Stats:
    import xcffib
    import xcffib.xproto

    conn: Any = xcffib.connect(display=display)
    try:
        return time_calls(lambda: conn.core.GetInputFocus().reply(), reps, warmup=20)
    finally:
        conn.disconnect()


def timing_table(listers: dict[str, Lister], display: str, rounds: int, trip: Stats) -> str:
    """Wall and CPU time of each lister, the listers taking turns each round (so that the
    load of a shared machine falls on all of them alike); ratios to the first lister."""
    wall: dict[str, list[int]] = {label: [] for label in listers}
    cpu: dict[str, list[int]] = {label: [] for label in listers}
    for round_number in range(rounds + 3):
        for label, lister in listers.items():
            wall_start, cpu_start = time.perf_counter_ns(), time.thread_time_ns()
            lister(display)
            if round_number >= 3:  # the first rounds warm up
                cpu[label].append(time.thread_time_ns() - cpu_start)
                wall[label].append(time.perf_counter_ns() - wall_start)
    first = next(iter(listers))
    base_wall, base_cpu = Stats.of(wall[first]).median_ns, Stats.of(cpu[first]).median_ns
    rows = []
    for label in listers:
        wall_stats, cpu_stats = Stats.of(wall[label]), Stats.of(cpu[label])
        rows.append(
            [
                label,
                fmt_ms(wall_stats.median_ns),
                fmt_ms(wall_stats.p95_ns),
                ratio(wall_stats.median_ns, base_wall),
                f"{wall_stats.median_ns / trip.median_ns:.0f}",
                fmt_ms(cpu_stats.median_ns),
                ratio(cpu_stats.median_ns, base_cpu),
            ]
        )
    headers = ["lister", "wall", "p95", "vs first", "in round trips", "CPU", "vs first"]
    return table(headers, rows)


def tracking_rows(display: str, window: int, former: ModuleType | None) -> list[list[str]]:
    """Per-frame cost of reading a window's rectangle: former (3 round trips) vs shipped."""
    readers: dict[str, Callable[[], object]] = {}
    closers: list[Callable[[], None]] = []
    if former is not None:
        tracker = former._WindowTracker(former._Target("window", display, window_id=window))
        readers[f"former ctypes libxcb ({FORMER_COMMIT})"] = tracker.rect
        closers.append(tracker.close)
    connection = x11.XConnection(display)
    closers.append(connection.close)
    readers["shipped: xcffib, pipelined"] = lambda: connection.window_rect(window)
    rows = []
    baseline_ns = float("nan")
    try:
        for label, read in readers.items():
            stats = time_calls(read, 400, warmup=20)
            if baseline_ns != baseline_ns:
                baseline_ns = stats.median_ns
            rows.append([label, fmt_ms(stats.median_ns), ratio(stats.median_ns, baseline_ns)])
    finally:
        for close in closers:
            close()
    return rows


def outcome(call: Callable[[], list[dict[str, Any]]]) -> tuple[list[dict[str, Any]] | None, str]:
    try:
        return call(), ""
    except Exception as error:
        return None, f"{type(error).__name__}: {error}"[:60]


def stale_client_list(
    x: XClient, display: str, listers: dict[str, Lister], live: list[int]
) -> list[list[str]]:
    """_NET_CLIENT_LIST holding ``live`` plus five windows destroyed before the listing."""
    stale = [x.window(0, 0, 5, 5, RED, name="doomed") for _ in range(5)]
    for window in stale:
        x.destroy(window)
    x.set_window_list(x.root, "_NET_CLIENT_LIST", live[:10] + stale + live[10:])
    rows: list[list[str]] = []
    try:
        for label, lister in listers.items():
            result, error = outcome(partial(lister, display))
            listed = "-" if result is None else str(len(result))
            rows.append([label, listed, str(len(live)), error or "stale ids skipped"])
    finally:
        x.delete_property(x.root, "_NET_CLIENT_LIST")
    return rows


def churn(display: str, listers: dict[str, Lister]) -> tuple[list[list[str]], int]:
    """A thread creates and destroys named windows while each lister walks the tree."""
    stop = threading.Event()
    made = [0]

    def run() -> None:
        client = XClient(display)
        try:
            while not stop.is_set() and made[0] < CHURN_MAX_WINDOWS:
                window = client.window(300, 300, 20, 20, GREEN, name="churn")
                client.destroy(window)
                made[0] += 1
        finally:
            client.close()

    thread = threading.Thread(target=run, name="churn", daemon=True)
    thread.start()
    rows: list[list[str]] = []
    try:
        for label, lister in listers.items():
            errors: dict[str, int] = {}
            churned = 0
            for _ in range(CHURN_LISTINGS):
                result, error = outcome(partial(lister, display))
                if result is None:
                    errors[error] = errors.get(error, 0) + 1
                else:
                    churned += sum(1 for w in result if w["name"] == "churn")
            summary = "; ".join(f"{n}x {e}" for e, n in errors.items()) or "no error"
            rows.append(
                [
                    label,
                    f"{CHURN_LISTINGS - sum(errors.values())}/{CHURN_LISTINGS}",
                    str(churned),
                    summary,
                ]
            )
    finally:
        stop.set()
        thread.join(timeout=10)
    return rows, made[0]


# ------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.window_listing")
    parser.add_argument("--windows", type=int, default=50, help="named windows to list")
    parser.add_argument("--rounds", type=int, default=40, help="timed listings per lister")
    args = parser.parse_args(argv)

    listers: dict[str, Lister] = {}
    former = load_former()
    if former is not None:
        listers[f"former ctypes libxcb ({FORMER_COMMIT})"] = former_lister(former)
    listers["shipped: xcffib, pipelined"] = list_shipped
    listers["xcffib, one request at a time"] = list_xcffib_sequential
    if importlib.util.find_spec("Xlib") is not None:
        listers["python-xlib, one request at a time"] = list_python_xlib_sequential
        listers["python-xlib, pipelined"] = list_python_xlib_pipelined
    else:
        print("python-xlib is not installed: `.venv/bin/pip install python-xlib` to compare it")

    server = start_xvfb()
    x = XClient(server.display)
    try:
        live = draw_windows(x, args.windows)
        expected = sorted(list_shipped(server.display), key=lambda w: w["id"])
        assert [w["id"] for w in expected] == sorted(live), "the shipped lister is wrong"
        round_trip = time_round_trip(server.display, 400)
        print(
            f"X server: Xvfb {server.display}; {args.windows} named windows listed out of "
            f"{args.windows + 2 * (args.windows // 5)} top-level ones; {args.rounds} rounds"
        )
        print(f"one X round trip (xcffib GetInputFocus): {fmt_ms(round_trip.median_ns)}\n")

        for label, lister in listers.items():
            result = sorted(lister(server.display), key=lambda w: w["id"])
            assert result == expected, f"{label} lists something else: {result}"
        print("Every lister returns the same windows.")
        print("Listing time (connect + list + disconnect), no window manager (QueryTree)")
        print(timing_table(listers, server.display, args.rounds, round_trip))
        x.set_window_list(x.root, "_NET_CLIENT_LIST", live)
        try:
            print("\nListing time with a window manager's _NET_CLIENT_LIST")
            print(timing_table(listers, server.display, args.rounds, round_trip))
        finally:
            x.delete_property(x.root, "_NET_CLIENT_LIST")

        print("\nWindows destroyed mid-listing: 5 stale ids in _NET_CLIENT_LIST")
        print(
            table(
                ["lister", "listed", "live", "outcome"],
                stale_client_list(x, server.display, listers, live),
            )
        )

        print("\nWindow tracking: one window's rectangle, as the capture thread reads it per frame")
        print(
            table(["reader", "median", "vs first"], tracking_rows(server.display, live[0], former))
        )

        rows, made = churn(server.display, listers)
        print(
            f"\nWindows destroyed mid-listing: {CHURN_LISTINGS} listings per lister while a "
            f"thread created and destroyed {made} windows"
        )
        print(table(["lister", "listings ok", "churn windows seen", "errors"], rows))
    finally:
        x.close()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
