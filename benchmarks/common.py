"""Helpers shared by the HTTP benchmarks: serve an app with gunicorn, load it, measure.

Client-side figures come from ``wrk --latency`` (or a threaded Python generator
when wrk is not installed). Server-side latency comes from gunicorn's access log
with the request time in microseconds (``%(D)s``), parsed after the run, so the
server's own view of p50/p99 is reported next to the client's.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
ACCESS_LOG_FORMAT = "%(s)s %(D)s"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


GUNICORN_CONFIG = ROOT / "gunicorn.conf.py"


def configured_workers() -> int:
    """How many workers gunicorn.conf.py asks for on this machine."""
    return runpy.run_path(str(GUNICORN_CONFIG))["workers"]


@dataclass
class Server:
    """A gunicorn process serving ``app_spec``; access log with request times."""

    app_spec: str
    env: dict
    workers: int | None = None  # None: gunicorn.conf.py's
    threads: int = 1
    chdir: Path = ROOT
    port: int = field(default_factory=free_port)
    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-log-")))
    process: subprocess.Popen | None = None

    @property
    def access_log(self) -> Path:
        return self.log_dir / f"access-{self.port}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/", timeout: float = 60) -> None:
        workers = ["--workers", str(self.workers)] if self.workers else []
        command = [
            str(VENV_BIN / "gunicorn"),
            "--config",
            str(GUNICORN_CONFIG),
            *workers,
            "--threads",
            str(self.threads),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--chdir",
            str(self.chdir),
            "--access-logfile",
            str(self.access_log),
            "--access-logformat",
            ACCESS_LOG_FORMAT,
            "--error-logfile",
            str(self.log_dir / f"error-{self.port}.log"),
            "--backlog",
            "2048",
            self.app_spec,
        ]
        self.process = subprocess.Popen(
            command, env={**os.environ, **self.env}, cwd=self.chdir, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.log_dir}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", ready_path)
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def log_mark(self) -> int:
        """The access log's current line count: pass it to server_latencies()."""
        if not self.access_log.exists():
            return 0
        with self.access_log.open() as log:
            return sum(1 for _ in log)

    def server_latencies(self, since_line: int) -> tuple[list[float], dict[str, int]]:
        """Request times in ms logged after ``since_line``, and a count per status."""
        times: list[float] = []
        statuses: dict[str, int] = {}
        # gunicorn flushes its access log on its own schedule: give it a moment.
        time.sleep(1.0)
        with self.access_log.open() as log:
            for number, line in enumerate(log):
                if number < since_line:
                    continue
                parts = line.split()
                if len(parts) != 2:
                    continue
                statuses[parts[0]] = statuses.get(parts[0], 0) + 1
                times.append(int(parts[1]) / 1000.0)
        times.sort()
        return times, statuses


@dataclass
class LoadResult:
    requests_per_second: float
    requests: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int
    non_2xx: int
    tool: str
    raw: str = ""


def combine(results: list[LoadResult]) -> LoadResult:
    """Several rounds as one: overall req/s, median p50, worst p90/p99."""
    requests = sum(r.requests for r in results)
    seconds = sum(r.requests / r.requests_per_second for r in results if r.requests_per_second)
    p50s = sorted(r.p50_ms for r in results)
    return LoadResult(
        requests_per_second=requests / seconds if seconds else 0.0,
        requests=requests,
        p50_ms=p50s[len(p50s) // 2],
        p90_ms=max(r.p90_ms for r in results),
        p99_ms=max(r.p99_ms for r in results),
        errors=sum(r.errors for r in results),
        non_2xx=sum(r.non_2xx for r in results),
        tool=results[0].tool,
    )


def write_wrk_script(path: Path, entries: list[tuple[str, str | None]]) -> None:
    """A wrk Lua script cycling through (path, Authorization header) pairs."""

    def lua_string(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["local entries = {"]
    for url, auth in entries:
        lines.append(f"  {{{lua_string(url)}, {lua_string(auth or '')}}},")
    lines += [
        "}",
        "local count = #entries",
        "local position = 0",
        "local thread_number = 0",
        "setup = function(thread)",
        "  thread_number = thread_number + 1",
        "  thread:set('offset', thread_number * 7919)",
        "end",
        "init = function(args)",
        "  position = (offset or 0) % count",
        "end",
        "request = function()",
        "  position = position % count + 1",
        "  local entry = entries[position]",
        "  local headers = {}",
        "  if entry[2] ~= '' then headers['Authorization'] = entry[2] end",
        "  return wrk.format('GET', entry[1], headers)",
        "end",
    ]
    path.write_text("\n".join(lines) + "\n")


_DURATION_RE = re.compile(r"([\d.]+)(us|ms|s|m)\b")


def _to_ms(text: str) -> float:
    match = _DURATION_RE.match(text.strip())
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(
    base_url: str, script: Path, duration: int, connections: int, threads: int = 1
) -> LoadResult:
    command = [
        shutil.which("wrk") or "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        base_url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.MULTILINE))
    errors = 0
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket_errors:
        errors = sum(int(n) for n in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return LoadResult(
        requests_per_second=rps,
        requests=total,
        p50_ms=_to_ms(latency.get("50", "nan")),
        p90_ms=_to_ms(latency.get("90", "nan")),
        p99_ms=_to_ms(latency.get("99", "nan")),
        errors=errors,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        tool="wrk",
        raw=output,
    )


def run_python_load(
    base_url: str, entries: list[tuple[str, str | None]], duration: int, connections: int
) -> LoadResult:
    """Fallback when wrk is missing: one thread per connection, closed loop."""
    host, port = base_url.removeprefix("http://").split(":")
    stop_at = time.monotonic() + duration
    latencies: list[float] = []
    counters = {"errors": 0, "non_2xx": 0}
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[float] = []
        errors = non_2xx = 0
        while time.monotonic() < stop_at:
            url, auth = entries[rng.randrange(len(entries))]
            headers = {"Authorization": auth} if auth else {}
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
                conn.request("GET", url, headers=headers)
                response = conn.getresponse()
                response.read()
                conn.close()
            except OSError:
                errors += 1
                continue
            mine.append((time.perf_counter() - started) * 1000)
            if not 200 <= response.status < 400:
                non_2xx += 1
        with lock:
            latencies.extend(mine)
            counters["errors"] += errors
            counters["non_2xx"] += non_2xx

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    return LoadResult(
        requests_per_second=len(latencies) / elapsed,
        requests=len(latencies),
        p50_ms=percentile(latencies, 0.50),
        p90_ms=percentile(latencies, 0.90),
        p99_ms=percentile(latencies, 0.99),
        errors=counters["errors"],
        non_2xx=counters["non_2xx"],
        tool="python",
    )


def load(
    base_url: str,
    entries: list[tuple[str, str | None]],
    script: Path,
    duration: int,
    connections: int,
) -> LoadResult:
    if shutil.which("wrk"):
        return run_wrk(base_url, script, duration, connections)
    return run_python_load(base_url, entries, duration, connections)


def machine() -> str:
    """CPUs, their model and the Python version, for the head of a results file."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs{f' ({model})' if model else ''}, Python {sys.version.split()[0]}"


def machine_description() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{machine()}, load average {load} when the report was written"


# --------------------------------------------------------------------------- CPU accounting

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class CpuSample:
    """CPU seconds: the machine's busy total and a few groups of processes."""

    busy: float
    server: float
    database: float
    load_generator: float


@dataclass
class CpuSnapshot:
    busy: float
    processes: dict[int, tuple[str, float]]  # pid -> (group, CPU seconds so far)
    own: float  # this process and its finished children (wrk)


def cpu_snapshot(server: Server) -> CpuSnapshot:
    """CPU used so far by the server's processes (gunicorn's master and workers
    share its process group), PostgreSQL's, this process and its children."""
    with open("/proc/stat") as stat:
        ticks = [int(x) for x in stat.readline().split()[1:9]]
    processes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat_line = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        name = stat_line[stat_line.index("(") + 1 : stat_line.rindex(")")]
        fields = stat_line[stat_line.rindex(")") + 2 :].split()
        if server.process is not None and int(fields[2]) == server.process.pid:
            group = "server"
        elif name.startswith("postgres"):
            group = "database"
        else:
            continue
        processes[int(entry.name)] = (group, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    own = os.times()
    return CpuSnapshot(
        # user, nice, system, irq, softirq: not idle, I/O wait or stolen time
        busy=(ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]) / CLOCK_TICKS,
        processes=processes,
        own=own.user + own.system + own.children_user + own.children_system,
    )


def cpu_used(before: CpuSnapshot, after: CpuSnapshot) -> CpuSample:
    """CPU spent between two snapshots (a process that exited in between is not counted)."""
    groups = {"server": 0.0, "database": 0.0}
    for pid, (group, seconds) in after.processes.items():
        previous = before.processes.get(pid)
        groups[group] += seconds - (previous[1] if previous and previous[0] == group else 0.0)
    return CpuSample(
        busy=after.busy - before.busy,
        server=groups["server"],
        database=groups["database"],
        load_generator=after.own - before.own,
    )
