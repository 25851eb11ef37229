"""The server as a user meets it: warm-up, the CLI search, concurrency, memory.

    .venv/bin/python bench/server_latency.py [--hours 1] [--concurrency 20] [--requests 100] [--json]
        [--home DIR] [--warmup-only] [--rounds N] [--baseline-code DIR]

Builds a synthetic library of ``--hours`` hours in a temp data dir (the same generator as
bench/search_latency.py, through the real store code paths), then starts the real ``scenespark
serve`` on it in a child process and measures, each against a baseline from the same run:
  warm-up        the time from the start of the process to its first successful search (sent as
                 soon as the port answers), and the latency of health polled beside it while
                 the server says "warming"
  cli search     wall of ``scenespark search QUERY --json`` against the running server, vs the
                 start-up of a bare ``python -c pass`` (the floor any CLI pays)
  concurrency    ``--concurrency`` clients sending ``--requests`` searches in all; p50/p95 and
                 requests/s, vs the p95 of the same searches sent one at a time
  memory         peak RSS (VmHWM) of the server after all of the above
Every step has a time limit; the server is stopped (SIGINT, then SIGKILL) whatever happens.

Start-up is measured ``--rounds`` times (a fresh server each round). ``--baseline-code DIR`` runs
``serve`` from another checkout (e.g. the main branch) in alternate rounds on the same library:
a before/after in one run on a noisy machine. ``--home DIR`` keeps the library there and reuses
it on the next run (built when DIR has none).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WARMUP_LIMIT_S = 180.0
CLI_RUNS = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stats_ms(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {"n": 0}
    a = np.asarray(seconds) * 1000.0
    p50, p95 = np.percentile(a, [50, 95]).tolist()
    return {"n": len(a), "p50_ms": round(p50, 1), "p95_ms": round(p95, 1), "max_ms": round(float(a.max()), 1)}  # fmt: skip


def request(url: str, body: dict[str, Any] | None = None, timeout_s: float = 30.0) -> tuple[int, Any]:  # fmt: skip
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident set size of a live process (Linux /proc), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        return None
    return None


def build_library(home: Path, hours: float, seed: int) -> dict[str, Any]:
    """The synthetic library of bench/search_latency.py, built in ``home``; closed after."""
    from bench.search_latency import Library
    from scenespark.config import apply_offline_env, load_settings
    from scenespark.engine import Engine

    apply_offline_env()
    engine = Engine(load_settings(home=home))
    try:
        lib = Library(engine, np.random.default_rng(seed))
        lib.grow_to(hours)
        queries = [q[1] for q in lib.queries(200)]
        return {"hours": round(lib.hours, 2), "vectors": lib.vectors, "queries": queries}
    finally:
        engine.close()


def library_in(home: Path, hours: float, seed: int) -> dict[str, Any]:
    """The library at ``home``: reused when a previous run left one (same hours and seed)."""
    marker = home / "bench-library.json"
    if marker.is_file():
        kept = json.loads(marker.read_text())
        if kept.get("hours_asked") == hours and kept.get("seed") == seed:
            print(f"reusing the library in {home}", file=sys.stderr)
            return kept["library"]
    print(f"building a {hours} h library ...", file=sys.stderr)
    lib = build_library(home, hours, seed)
    marker.write_text(json.dumps({"hours_asked": hours, "seed": seed, "library": lib}))
    return lib


class Server:
    """``scenespark serve`` from checkout ``code`` in a child process; stopped on exit."""

    def __init__(
        self, code: Path, home: Path, log_path: Path, settings: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.env = os.environ | {"SCENESPARK_HOME": str(home), "PYTHONPATH": str(code)}
        self.env |= settings or {}
        self.env |= {"SCENESPARK_PORT": str(self.port), "SCENESPARK_HOST": "127.0.0.1"}
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        self.code = code
        self.log_path = log_path
        self.log = log_path.open("w")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve"],
            env=self.env,
            cwd=code,
            stdout=self.log,
            stderr=self.log,
        )

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


def search_settings(args: argparse.Namespace) -> dict[str, str]:
    """The server's search settings for the run: the query cache off unless asked for."""
    return {"SCENESPARK_SEARCH_QUERY_CACHE": "2048" if args.query_cache else "0"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)  # fmt: skip
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--home", type=Path, help="keep (and reuse) the library here")
    parser.add_argument("--warmup-only", action="store_true", help="start-up, health and RSS only")
    parser.add_argument("--rounds", type=int, default=1, help="server starts to measure")
    parser.add_argument("--baseline-code", type=Path, help="a checkout to compare start-up with")
    parser.add_argument(
        "--compare-search",
        action="store_true",
        help="measure the CLI and concurrent searches on the baseline checkout too",
    )
    parser.add_argument(
        "--query-cache",
        action="store_true",
        help="keep the server's cache of query vectors on (off by default: every timed search "
        "embeds its query, the case of a new query)",
    )
    args = parser.parse_args()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    report: dict[str, Any] = {
        "machine": machine,
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory(prefix="scenespark-bench-server-") as tmp:
        home = args.home.resolve() if args.home else Path(tmp) / "home"
        lib = library_in(home, args.hours, args.seed)
        queries = lib["queries"]
        report["library"] = {k: v for k, v in lib.items() if k != "queries"}
        codes = [("this checkout", ROOT)]
        if args.baseline_code:
            codes.insert(0, ("baseline", args.baseline_code.resolve()))
        rounds: list[dict[str, Any]] = []
        for i in range(max(1, args.rounds)):
            for label, code in codes:
                last = i == args.rounds - 1 and (code == ROOT or args.compare_search)
                log_path = Path(tmp) / f"serve-{i}-{len(rounds)}.log"
                server = Server(code, home, log_path, search_settings(args))
                try:
                    result = measure(server, queries, args, full=last and not args.warmup_only)
                finally:
                    server.stop()
                    if "error" in result:
                        print(server.log_path.read_text()[-2000:], file=sys.stderr)
                ready = [x for x in server.log_path.read_text().splitlines() if "ready for" in x]
                result["warmup_log"] = ready[-1].split(": ", 1)[-1] if ready else ""
                rounds.append({"code": label, **result})
                if "error" in result:
                    break
        report["rounds"] = rounds
        report |= {k: v for k, v in rounds[-1].items() if k != "code"}
    report["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 1 if "error" in report else 0


def measure(
    srv: Server, queries: list[str], args: argparse.Namespace, *, full: bool
) -> dict[str, Any]:
    server, started, base, env = srv.process, srv.started, srv.base, srv.env
    out: dict[str, Any] = {}
    health_warming: list[float] = []
    statuses: list[str] = []
    listening_s = first_search_s = None
    deadline = started + WARMUP_LIMIT_S
    while listening_s is None and time.perf_counter() < deadline and server.poll() is None:
        try:
            request(f"{base}/health", timeout_s=30)
            listening_s = time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    searched = threading.Event()

    def poll_health() -> None:  # beside the first search: does health answer at once?
        while not searched.is_set() and time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                _code, body = request(f"{base}/health", timeout_s=30)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return
            status = (body or {}).get("status", "?")
            if not statuses or statuses[-1] != status:
                statuses.append(status)
            if status == "warming":
                health_warming.append(time.perf_counter() - t0)
            searched.wait(0.1)

    poller = threading.Thread(target=poll_health)
    poller.start()
    try:
        while listening_s is not None and time.perf_counter() < deadline:
            code, _ = request(f"{base}/search", {"query": queries[0], "top_k": 10}, timeout_s=120)
            if code == 200:
                first_search_s = time.perf_counter() - started
                break
            time.sleep(0.1)
    finally:
        searched.set()
        poller.join(timeout=35)
    if first_search_s is None:
        return {"error": "the server never answered a search in time"}
    out["warmup"] = {
        "listening_s": round(listening_s or 0.0, 2),
        "first_search_s": round(first_search_s, 2),
        "health_while_warming": stats_ms(health_warming),
        "health_statuses_seen": statuses,
    }
    health_after = []
    for _ in range(20):
        t0 = time.perf_counter()
        request(f"{base}/health")
        health_after.append(time.perf_counter() - t0)
    out["warmup"]["health_when_ready"] = stats_ms(health_after)
    if not full:
        out["serve_peak_rss_mb"] = peak_rss_mb(server.pid)
        return out

    def run(cmd: list[str]) -> float:
        t0 = time.perf_counter()
        done = subprocess.run(cmd, env=env, cwd=srv.code, capture_output=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{cmd[2:]} failed: {done.stderr.decode()[-300:]}")
        return time.perf_counter() - t0

    py = sys.executable
    bare = [run([py, "-c", "pass"]) for _ in range(CLI_RUNS)]
    cli = [run([py, "-m", "server.cli", "search", q, "--json"]) for q in queries[1 : 1 + CLI_RUNS]]
    out["cli"] = {"python -c pass (baseline)": stats_ms(bare), "scenespark search": stats_ms(cli)}

    def one(q: str) -> float:
        t0 = time.perf_counter()
        code, _ = request(f"{base}/search", {"query": q, "top_k": 10}, timeout_s=120)
        if code != 200:
            raise RuntimeError(f"search answered {code}")
        return time.perf_counter() - t0

    batch = [queries[i % len(queries)] for i in range(args.requests)]
    serial = [one(q) for q in batch[:40]]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        concurrent = list(pool.map(one, batch))
    wall = time.perf_counter() - t0
    out["concurrency"] = {
        "one at a time (baseline)": stats_ms(serial),
        f"{args.concurrency} concurrent": stats_ms(concurrent),
        "requests_per_s": round(len(batch) / wall, 1),
        "serial_requests_per_s": round(len(serial) / sum(serial), 1),
    }
    out["serve_peak_rss_mb"] = peak_rss_mb(server.pid)
    return out


def print_table(r: dict[str, Any]) -> None:
    print(f"machine: {r['machine']}; load average before {r['loadavg_before']}, after {r['loadavg_after']}")  # fmt: skip
    print(f"library: {r['library']['hours']} h, {r['library']['vectors']} vectors")
    if "error" in r:
        print(f"ERROR: {r['error']}")
        return
    for n, one in enumerate(r.get("rounds", [])):
        if "warmup" in one:
            ww = one["warmup"]
            hw = ww["health_while_warming"]
            print(
                f"round {n} ({one['code']}): listening {ww['listening_s']} s, first search "
                f"{ww['first_search_s']} s, health while warming p95 {hw.get('p95_ms', '-')} ms "
                f"(n={hw['n']}), peak RSS {one.get('serve_peak_rss_mb')} MB"
            )
            if one.get("warmup_log"):
                print(f"    server: {one['warmup_log']}")
    w = r["warmup"]
    print(f"serve: listening after {w['listening_s']} s, first search answered {w['first_search_s']} s after start")  # fmt: skip
    print(f"health statuses seen: {' -> '.join(w['health_statuses_seen'])}")
    print(f"{'operation':34} {'n':>4} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}")
    rows = {
        "health while warming": w["health_while_warming"],
        "health when ready": w["health_when_ready"],
        **r.get("cli", {}),
        **{k: v for k, v in r.get("concurrency", {}).items() if isinstance(v, dict)},
    }
    for name, s in rows.items():
        if s.get("n"):
            print(f"{name:34} {s['n']:>4} {s['p50_ms']:9.1f} {s['p95_ms']:9.1f} {s['max_ms']:9.1f}")
        else:
            print(f"{name:34} {0:>4} {'-':>9}")
    c = r.get("concurrency")
    if c:
        print(
            f"requests/s: concurrent {c['requests_per_s']}, "
            f"one at a time {c['serial_requests_per_s']}"
        )
    print(f"serve peak RSS: {r['serve_peak_rss_mb']} MB")


if __name__ == "__main__":
    raise SystemExit(main())
