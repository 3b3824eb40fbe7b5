"""Starts the servers of every scenario, measures them in interleaved rounds, prints the
table (and writes it into docs/performance.md when asked)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pivotal_gateway.bench import h2load
from pivotal_runtime.settings import SERVICE_NAMES

from pivotal_bench import measure
from pivotal_bench.scenarios import (
    NOOP,
    PGBENCH,
    READS,
    WRITE,
    Scenario,
    read_scenarios,
    scaled_name,
)
from pivotal_bench.support import register_and_login, throwaway_database

READY_TIMEOUT_SECONDS = 120
INSTALL_HINT = "apt-get install -y nghttp2-client wrk"
DOCS_BEGIN, DOCS_END = "<!-- bench:begin -->", "<!-- bench:end -->"


@dataclass(frozen=True)
class Options:
    duration: int = 5
    rounds: int = 3
    processes: int = 1
    threads: int = 4
    clients: int = 16  # SO_REUSEPORT spreads connections, not requests: enough of them
    streams: int = 4
    postgres_url: str | None = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    only: tuple[str, ...] = ()
    write: bool = True
    scaling: bool = True  # the read direct with twice the processes, too

    @property
    def scaled(self) -> int | None:
        return 2 * self.processes if self.scaling else None


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Target:
    """One server process (tree) under test."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int,
                 workdir: Path) -> None:
        self.name, self.command, self.port = name, command, port
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Target:
        log = self.log_path.open("w")
        self.process = subprocess.Popen(self.command, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT)
        return self

    def wait(self, probe: Callable[[], bool]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited; its log: {self.log_path}\n"
                                 + self.log_path.read_text()[-3000:])
            try:
                if probe():
                    return
            except Exception:  # noqa: BLE001 (not up yet: any failure means "try again")
                pass
            time.sleep(0.3)
        raise SystemExit(f"{self.name} never became ready; its log: {self.log_path}")

    def pids(self) -> list[int]:
        return measure.process_tree(self.process.pid)

    def worker_pids(self) -> list[int]:
        pids = self.pids()
        return pids[1:] if len(pids) > 1 else pids  # without the supervisor

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _grpc_ok(port: int, method: str, token: str | None = None, request: bytes = b"") -> bool:
    import grpc

    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        channel.unary_unary(method)(request, metadata=metadata, timeout=5)
    return True


def _http_ok(url: str, token: str) -> bool:
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as reply:
        return reply.status == 200


class Bench:
    def __init__(self, options: Options, progress: Callable[[str], None] = print) -> None:
        self.options = options
        self.progress = progress
        self.workdir = Path(tempfile.mkdtemp(prefix="pivotal-bench-"))
        self.targets: dict[str, Target] = {}
        self.tokens: dict[str, str] = {}
        self.ports = {name: _free_port() for name in SERVICE_NAMES}  # nothing listens there
        self.database_url: str | None = None  # a throwaway database
        self.write_schema = f"bench_write_{uuid.uuid4().hex[:8]}"
        self.frames: dict[bytes, Path] = {}
        self._cleanup = ExitStack()

    # --- servers ---------------------------------------------------------------------------
    def _common_env(self) -> dict[str, str]:
        return {"PIVOTAL_WORKERS": str(self.options.processes),
                "PIVOTAL_MAX_WORKERS": str(self.options.threads),
                "PIVOTAL_LOG_LEVEL": "INFO",
                "PIVOTAL_IDENTITY_KEY_ENCRYPTION_KEY": "bench-" + "k" * 40,
                **{f"PIVOTAL_{n.upper()}_PORT": str(p) for n, p in self.ports.items()}}

    def _pivotal(self) -> str:
        return shutil.which("pivotal", path=str(Path(sys.executable).parent)) or "pivotal"

    def start_noop(self) -> None:
        port = _free_port()
        target = Target("noop", [sys.executable, "-m", "pivotal_bench.noop", str(port)],
                        self._common_env(), port, self.workdir).start()
        target.wait(lambda: _grpc_ok(port, NOOP.path))
        self.targets["noop"] = target

    def start_service(self, service: str, mode: str, processes: int | None = None) -> None:
        """`pivotal serve <service>`; with `processes`, a second server of the same mode on
        the same data (its name ends in `-x<processes>`)."""
        port = _free_port()
        env = {**self._common_env(), f"PIVOTAL_{service.upper()}_PORT": str(port),
               "PIVOTAL_STATE_DIR": str(self.workdir / "state")}
        if processes:
            env["PIVOTAL_WORKERS"] = str(processes)
        if mode == "services":
            env.update(PIVOTAL_MODE="services", PIVOTAL_DATABASE_URL=self.database_url)
        name = f"{service}-{mode}" + (f"-x{processes}" if processes else "")
        target = Target(name, [self._pivotal(), "serve", service, "--migrate"],
                        env, port, self.workdir).start()
        target.wait(lambda: _grpc_ok(port, "/grpc.health.v1.Health/Check"))
        self.targets[target.name] = target
        if service == "identity" and mode not in self.tokens:
            self.tokens[mode] = register_and_login(f"127.0.0.1:{port}")

    def start_gateway(self) -> None:
        identity = self.targets["identity-embedded"]
        port = _free_port()
        env = {**self._common_env(), "PIVOTAL_IDENTITY_PORT": str(identity.port),
               "PIVOTAL_GATEWAY_PORT": str(port), "PIVOTAL_GATEWAY_ADMIN_PORT": str(_free_port()),
               "PIVOTAL_GATEWAY_CONFIG_DIR": str(self.workdir / "gateway"),
               "PIVOTAL_GATEWAY_RATE_LIMIT_PER_SECOND": "1000000",
               "PIVOTAL_GATEWAY_RATE_LIMIT_BURST": "1000000"}
        target = Target("gateway", [self._pivotal(), "gateway"], env, port,
                        self.workdir).start()
        token = self.tokens["embedded"]
        target.wait(lambda: _http_ok(f"http://127.0.0.1:{port}/v1/users/me", token))
        self.targets["gateway"] = target

    def start_fastapi(self) -> None:
        port = _free_port()
        env = {**self._common_env(), "PIVOTAL_STATE_DIR": str(self.workdir / "state")}
        target = Target("fastapi", [sys.executable, "-m", "pivotal_bench.fastapi_peer",
                                    str(port)], env, port, self.workdir).start()
        token = self.tokens["embedded"]
        target.wait(lambda: _http_ok(f"http://127.0.0.1:{port}/v1/users/me", token))
        self.targets["fastapi"] = target

    # --- PostgreSQL ------------------------------------------------------------------------
    def create_database(self) -> bool:
        import sqlalchemy as sa

        try:
            self.database_url = self._cleanup.enter_context(
                throwaway_database(self.options.postgres_url))
        except sa.exc.OperationalError as error:
            self.progress(f"PostgreSQL unreachable ({error.orig}): services-mode and write "
                          "scenarios skipped")
            return False
        return True

    # --- runs ------------------------------------------------------------------------------
    def _frame(self, request: bytes) -> Path:
        if request not in self.frames:
            path = self.workdir / f"request-{len(self.frames)}.bin"
            path.write_bytes(b"\x00" + struct.pack(">I", len(request)) + request)
            self.frames[request] = path
        return self.frames[request]

    def run_h2load(self, scenario: Scenario, sample: measure.Sample, seconds: int,
                   measured: bool = True) -> None:
        target = self.targets[scenario.target]
        token = self.tokens.get("services" if "-services" in scenario.target else "embedded")
        headers = {"authorization": f"Bearer {token}"} if token else {}
        if scenario.grpc:
            headers.update({"content-type": "application/grpc", "te": "trailers"})
        clients, streams = self.options.clients, self.options.streams
        if not scenario.grpc:  # HTTP/1.1: one request in flight per connection
            clients, streams = clients * streams, 1
        pids = target.pids()
        if scenario.target == "gateway":
            pids += self.targets["identity-embedded"].pids()
        cpu_before, loader_before = measure.cpu_seconds(pids), measure.children_cpu_seconds()
        started = time.perf_counter()
        result = h2load(scenario.target, f"http://127.0.0.1:{target.port}{scenario.path}",
                        headers, self._frame(scenario.request) if scenario.grpc else None,
                        clients=clients, streams=streams, duration=seconds,
                        workdir=self.workdir, warm_up=0, http1=not scenario.grpc)
        if not measured:
            return
        sample.wall += time.perf_counter() - started
        sample.server_cpu += measure.cpu_seconds(pids) - cpu_before
        sample.loader_cpu += measure.children_cpu_seconds() - loader_before
        sample.calls += result.succeeded
        sample.failed += result.requests - result.succeeded
        sample.seconds += result.seconds
        sample.latencies_us += list(result.latencies_us)
        workers = target.worker_pids()
        sample.processes = len(workers)
        sample.rss += [measure.rss_megabytes(pid) for pid in workers]

    def run_write(self, sample: measure.Sample) -> None:
        outs = [self.workdir / f"write-{uuid.uuid4().hex[:6]}.json"
                for _ in range(self.options.processes)]
        started = time.perf_counter()
        writers = [subprocess.Popen([sys.executable, "-m", "pivotal_bench.writer",
                                     self.database_url, self.write_schema,
                                     str(self.options.threads), str(self.options.duration),
                                     str(out)]) for out in outs]
        for writer in writers:
            writer.wait()
        wall = time.perf_counter() - started
        results = [json.loads(out.read_text()) for out in outs]
        latencies = [value for result in results for value in result["latencies_us"]]
        sample.calls += len(latencies)
        sample.seconds += self.options.duration
        sample.wall += wall
        sample.server_cpu += sum(result["cpu_seconds"] for result in results)
        sample.latencies_us += latencies
        sample.processes = self.options.processes

    def run_pgbench(self, sample: measure.Sample) -> None:
        from sqlalchemy.engine import make_url

        from pivotal_bench.writer import pgbench_script

        url = make_url(self.database_url)
        script = self.workdir / "write.sql"
        script.write_text(pgbench_script(self.write_schema))
        prefix = self.workdir / f"pgbench-{uuid.uuid4().hex[:6]}"
        connections = self.options.processes * self.options.threads
        command = [shutil.which("pgbench") or "pgbench", "-n", "-h", url.host or "127.0.0.1",
                   "-p", str(url.port or 5432), "-U", url.username or "postgres",
                   "-c", str(connections), "-j", str(self.options.processes),
                   "-T", str(self.options.duration), "-f", str(script), "-l",
                   "--log-prefix", str(prefix), url.database]
        env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
        loader_before = measure.children_cpu_seconds()
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        sample.wall += time.perf_counter() - started
        sample.loader_cpu += measure.children_cpu_seconds() - loader_before
        for log in self.workdir.glob(prefix.name + "*"):
            lines = log.read_text().splitlines()
            sample.latencies_us += [int(line.split()[2]) for line in lines]
            sample.calls += len(lines)
            log.unlink()
        sample.seconds += self.options.duration
        sample.processes = 1

    # --- the whole run ---------------------------------------------------------------------
    def run(self) -> Report:
        options = self.options
        postgres = bool(options.postgres_url) and self.create_database()
        try:
            return self._run(postgres)
        finally:
            for target in reversed(list(self.targets.values())):
                target.stop()
            self._cleanup.close()  # drops the database
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _run(self, postgres: bool) -> Report:
        options = self.options
        scenarios = [NOOP] + [s for read in READS for s in read_scenarios(
            read, postgres=postgres, scaled=options.scaled)]
        if options.only:
            scenarios = [s for s in scenarios
                         if s is NOOP or any(o.lower() in s.name.lower() for o in options.only)]
        needed = {s.target for s in scenarios}
        self.progress(f"starting servers: {', '.join(sorted(needed))} "
                      f"({options.processes} process(es), {options.threads} threads each)")
        self.start_noop()
        for read in READS:
            for mode in ("embedded", "services"):
                name = f"{read.service}-{mode}"
                scaled = f"{name}-x{options.scaled}"
                if name in needed or scaled in needed or (
                        mode == "embedded" and needed & {"gateway", "fastapi"}):
                    self.start_service(read.service, mode)
                if scaled in needed:
                    self.start_service(read.service, mode, options.scaled)
        if "gateway" in needed:
            self.start_gateway()
        if "fastapi" in needed:
            self.start_fastapi()
        write = postgres and options.write and (not options.only or any(
            o.lower() in (WRITE + PGBENCH).lower() for o in options.only))
        if write:
            from pivotal_bench.writer import create_schema

            create_schema(self.database_url, self.write_schema)
        samples = {s.name: measure.Sample() for s in scenarios}
        if write:
            samples.update({WRITE: measure.Sample(), PGBENCH: measure.Sample()})
        self.progress("warming up (2 s per scenario)")
        for scenario in scenarios:
            self.run_h2load(scenario, measure.Sample(), 2, measured=False)
        for round_ in range(options.rounds):
            self.progress(f"round {round_ + 1} of {options.rounds}")
            for scenario in scenarios:
                self.run_h2load(scenario, samples[scenario.name], options.duration)
            if write:
                self.run_write(samples[WRITE])
                self.run_pgbench(samples[PGBENCH])
        return Report(options, samples)


@dataclass
class Report:
    options: Options
    samples: dict[str, measure.Sample]

    def ratio(self, name: str, baseline: str) -> float | None:
        if name not in self.samples or baseline not in self.samples:
            return None
        base = self.samples[baseline].rate
        return self.samples[name].rate / base if base else None

    def table(self) -> str:
        o = self.options
        lines = [
            (f"{o.clients} connections x {o.streams} streams (gRPC, HTTP/2) or "
            f"{o.clients * o.streams} connections (REST, HTTP/1.1) in flight; {o.rounds} "
            f"interleaved rounds of {o.duration} s; {o.processes} process(es) x "
            f"{o.threads} threads per server; write: {o.processes} x {o.threads} writers vs "
            f"pgbench -c {o.processes * o.threads}"),
            "",
            ("| scenario | processes | req/s | x no-op | p50 ms | p99 ms | p99/p50 "
            "| server CPU ms/call | RSS MB/process | load generator CPU % | failed |"),
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, sample in self.samples.items():
            ratio = None if name in (WRITE, PGBENCH) else self.ratio(name, NOOP.name)
            p50, p99 = sample.percentile(0.5), sample.percentile(0.99)
            rss = f"{sample.rss_per_process:.0f}" if sample.rss_per_process else "-"
            cpu = f"{sample.cpu_ms_per_call:.3f}" if sample.server_cpu else "-"  # pgbench
            lines.append(
                f"| {name} | {sample.processes} | {sample.rate:,.0f} | "
                f"{'-' if ratio is None else f'{ratio:.3f}'} | {p50:.2f} | {p99:.2f} | "
                f"{p99 / p50 if p50 else 0:.1f} | {cpu} | "
                f"{rss} | {sample.loader_cpu_percent:.1f} | "
                f"{sample.failed} |")
        lines.append("")
        for read in READS:
            for label, name, base, target in (
                ("direct embedded / no-op", f"{read.name} direct, embedded", NOOP.name, ">= 0.25"),
                ("direct services / no-op", f"{read.name} direct, services", NOOP.name, ">= 0.25"),
                ("REST via gateway / FastAPI peer", f"{read.name} REST via gateway",
                 f"{read.name} FastAPI + uvicorn", ">= 1.2"),
                ("REST via gateway / direct embedded", f"{read.name} REST via gateway",
                 f"{read.name} direct, embedded", ">= 0.85"),
                *[(f"{o.scaled} processes / {o.processes}", scaled_name(read, mode, o.scaled),
                   f"{read.name} direct, {mode}", ">= 1.8 on as many cores")
                  for mode in ("services", "embedded") if o.scaled],
            ):
                value = self.ratio(name, base)
                if value is not None:
                    lines.append(f"- {read.name} {label}: **{value:.3f}** (target {target})")
        write = self.ratio(WRITE, PGBENCH)
        if write is not None:
            lines.append(f"- write with its outbox row / pgbench: **{write:.3f}** "
                         "(target >= 0.4)")
        return "\n".join(lines)


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def write_docs(report: Report, path: Path, command: str) -> None:
    """Replaces the table between the bench markers of docs/performance.md."""
    text = path.read_text()
    if DOCS_BEGIN not in text or DOCS_END not in text:
        raise SystemExit(f"{path} has no {DOCS_BEGIN} ... {DOCS_END} section")
    head, _, rest = text.partition(DOCS_BEGIN)
    _, _, tail = rest.partition(DOCS_END)
    body = (f"{DOCS_BEGIN}\nMeasured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()} "
            f"with `{command}`:\n\n{report.table()}\n{DOCS_END}")
    path.write_text(head + body + tail)


def missing_tools(options: Options) -> list[str]:
    missing = [tool for tool in ("h2load",) if shutil.which(tool) is None]
    if options.postgres_url and options.write and shutil.which("pgbench") is None:
        missing.append("pgbench (ships with PostgreSQL: apt-get install -y postgresql-client)")
    return missing


def elapsed_hint(options: Options, scenarios: int = 6) -> str:
    seconds = options.rounds * (scenarios + 2) * (options.duration + 1) + 2 * scenarios + 60
    return f"about {seconds // 60 + 1} minutes"
