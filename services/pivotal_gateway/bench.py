"""Gateway overhead benchmark: the same read RPC (identity's `GetMe`, "read my profile"),
REST through the gateway vs direct gRPC, side by side in one run.

    python -m pivotal_gateway.bench [--duration 8] [--rounds 2] [--rpc GetMe]

Starts `pivotal up` (embedded mode, temporary state, free ports), registers an
organization and logs in through the gateway, then drives both paths with h2load
(`apt-get install nghttp2-client`): HTTP/2 to both, the same connections and streams in
flight, alternating rounds. Prints throughput, p50 and p99 per path, the throughput ratio and
the p50 the gateway adds, under load and unloaded (one request at a time).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

GET_ME = "/pivotal.identity.v1.UserService/GetMe"
SERVICES = ("identity", "quotation", "project", "time", "billing")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, body: dict, token: str | None = None) -> dict:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


@dataclass
class Result:
    label: str
    requests: int
    succeeded: int
    seconds: float
    latencies_us: list[int]

    @property
    def rps(self) -> float:
        return self.succeeded / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_us)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000.0  # ms


def h2load(label: str, url: str, headers: dict[str, str], body: Path | None, *, clients: int,
           streams: int, duration: float, workdir: Path, requests: int | None = None,
           warm_up: int = 1, http1: bool = False) -> Result:
    """One h2load run: for `duration` seconds (after a `warm_up` s warm-up), or `requests`
    requests; HTTP/1.1 instead of HTTP/2 with `http1` (also used by `pivotal bench`)."""
    log = workdir / f"{label}-{uuid.uuid4().hex[:6]}.log"
    command = ["h2load", "-c", str(clients), "-m", str(streams), "-t", "1",
               "--log-file", str(log), *(["--h1"] if http1 else [])]
    if requests:
        command += ["-n", str(requests)]
    else:
        command += ["-D", str(max(1, round(duration)))]
        command += ["--warm-up-time", str(warm_up)] if warm_up else []
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if body is not None:
        command += ["-d", str(body)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    latencies, ok = [], 0
    for line in log.read_text().splitlines():
        _, status, latency = line.split("\t")[:3]
        latencies.append(int(latency))
        ok += status.startswith("2")
    summary = next(line for line in output.splitlines() if line.startswith("requests:"))
    total = int(summary.split()[1])
    log.unlink()
    if requests:
        finished = next(line for line in output.splitlines() if line.startswith("finished in"))
        value = finished.split()[2].rstrip(",")
        duration = float(value[:-2]) / 1000 if value.endswith("ms") else float(value[:-1])
    return Result(label, total, ok, duration if requests else max(1, round(duration)),
                  latencies)


class Product:
    """`pivotal up` (plus `args`, e.g. `--mesh`) with free ports and a temporary state folder."""

    def __init__(self, workdir: Path, args: tuple[str, ...] = ()) -> None:
        self.workdir = workdir
        self.ports = {name: _free_port() for name in SERVICES}
        self.gateway_port = _free_port()
        env = {**os.environ, "PIVOTAL_STATE_DIR": str(workdir / "state"),
               "PIVOTAL_LOG_LEVEL": "WARNING",
               "PIVOTAL_GATEWAY_PORT": str(self.gateway_port),
               "PIVOTAL_GATEWAY_ADMIN_PORT": str(_free_port()),
               "PIVOTAL_GATEWAY_CONFIG_DIR": str(workdir / "gateway"),
               # Measuring the proxy, not the protection: the route's own limit out of the way.
               "PIVOTAL_GATEWAY_RATE_LIMIT_PER_SECOND": "1000000",
               "PIVOTAL_GATEWAY_RATE_LIMIT_BURST": "1000000",
               **{f"PIVOTAL_{n.upper()}_PORT": str(p) for n, p in self.ports.items()}}
        self.log = (workdir / "up.log").open("w")
        pivotal = shutil.which("pivotal", path=str(Path(sys.executable).parent)) or "pivotal"
        self.process = subprocess.Popen([pivotal, "up", *args], env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self.base_url = f"http://127.0.0.1:{self.gateway_port}"

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("pivotal up exited; see its log")
            try:
                with urllib.request.urlopen(self.base_url + "/ready", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise SystemExit("the gateway never became ready")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def owner_token(base_url: str) -> str:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    password = "correct horse battery staple"
    _post(base_url + "/v1/organizations:register", {
        "organization": {"displayName": "Bench Ltd", "currencyCode": "EUR"},
        "owner": {"email": email, "givenName": "Ada", "familyName": "Lovelace"},
        "password": password})
    return _post(base_url + "/v1/auth:login", {"email": email, "password": password})[
        "accessToken"]


CASES = {
    # the read RPC of the issue: authenticated (JWT at the gateway and again in identity),
    # a database read, transcoded to JSON
    "GetMe": (GET_ME, "/v1/users/me"),
    # a public, cheap read: what the proxy itself costs
    "GetJwks": ("/pivotal.identity.v1.KeyService/GetJwks", "/.well-known/jwks.json"),
}


def _merged(results: list[Result]) -> Result:
    return Result(results[0].label, sum(r.requests for r in results),
                  sum(r.succeeded for r in results), sum(r.seconds for r in results),
                  [latency for r in results for latency in r.latencies_us])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per loaded run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per path")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--streams", type=int, default=16, help="streams in flight per client")
    parser.add_argument("--rpc", choices=sorted(CASES), action="append",
                        help="which read RPC(s) to measure (default: both)")
    args = parser.parse_args(argv)
    if shutil.which("h2load") is None:
        raise SystemExit("h2load is missing: apt-get install -y nghttp2-client")

    workdir = Path(tempfile.mkdtemp(prefix="pivotal-bench-"))
    product = Product(workdir)
    report = []
    try:
        product.wait_ready()
        token = owner_token(product.base_url)
        frame = workdir / "empty.bin"
        frame.write_bytes(b"\x00" + struct.pack(">I", 0))  # an empty request message
        auth = {"authorization": f"Bearer {token}"}
        grpc_headers = {**auth, "content-type": "application/grpc", "te": "trailers"}
        _sanity(product, auth)
        for name in args.rpc or list(CASES):
            grpc_path, rest_path = CASES[name]
            direct_url = f"http://127.0.0.1:{product.ports['identity']}{grpc_path}"
            rest_url = product.base_url + rest_path

            def run(label, url, headers, body, clients, streams, duration, requests=None):
                return h2load(label, url, headers, body, clients=clients, streams=streams,
                              duration=duration, workdir=workdir, requests=requests)

            loaded = {"direct gRPC": [], "REST via gateway": []}
            single = {"direct gRPC": [], "REST via gateway": []}
            # One request at a time (short alternating runs, pooled), before any load.
            for _ in range(8):
                single["direct gRPC"].append(run("grpc1", direct_url, grpc_headers, frame,
                                                 1, 1, 0, requests=300))
                single["REST via gateway"].append(run("rest1", rest_url, auth, None, 1, 1, 0,
                                                      requests=300))
            for _ in range(args.rounds):
                loaded["direct gRPC"].append(run("grpc", direct_url, grpc_headers, frame,
                                                 args.clients, args.streams, args.duration))
                loaded["REST via gateway"].append(run("rest", rest_url, auth, None,
                                                      args.clients, args.streams, args.duration))
            report.append((name, {k: _merged(v) for k, v in loaded.items()},
                           {k: _merged(v) for k, v in single.items()}))
    finally:
        product.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"h2load, HTTP/2 to both; loaded: {args.clients} connections x {args.streams} streams, "
          f"{args.rounds} x {args.duration}s per path, alternating; unloaded: 1 request at a "
          f"time, 8 x 300 requests per path, alternating; {os.cpu_count()} CPUs shared by "
          "h2load, Envoy and the services (pivotal up, embedded mode)")
    print(f"{'rpc':<9}{'path':<18}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'unloaded p50':>14}{'unloaded req/s':>16}")
    for name, loaded, single in report:
        for label in ("direct gRPC", "REST via gateway"):
            result, alone = loaded[label], single[label]
            print(f"{name:<9}{label:<18}{result.rps:>9.0f}{result.percentile(.5):>9.2f}"
                  f"{result.percentile(.99):>9.2f}{alone.percentile(.5):>14.2f}"
                  f"{alone.rps:>16.0f}")
        ratio = loaded["REST via gateway"].rps / loaded["direct gRPC"].rps
        added = single["REST via gateway"].percentile(.5) - single["direct gRPC"].percentile(.5)
        print(f"{name:<9}throughput ratio REST/direct {ratio:.2f} (target >= 0.85); "
              f"p50 added unloaded {added:+.2f} ms (target <= 1 ms)")


def _sanity(product: Product, auth: dict[str, str]) -> None:
    """Both paths answer with the profile (h2load itself only sees HTTP statuses)."""
    import grpc

    check = urllib.request.Request(product.base_url + "/v1/users/me", headers=auth)
    with urllib.request.urlopen(check, timeout=5) as reply:
        assert "user" in json.loads(reply.read())
    with grpc.insecure_channel(f"127.0.0.1:{product.ports['identity']}") as channel:
        assert channel.unary_unary(GET_ME)(b"", metadata=tuple(auth.items()), timeout=5)


if __name__ == "__main__":
    main()
