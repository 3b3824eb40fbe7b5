"""Mesh overhead benchmark: the same read through the gateway with the mesh off and on, side
by side in one run.

    python -m pivotal_mesh.bench [--duration 8] [--rounds 2] [--rpc GetMe]

Starts `pivotal up` and `pivotal up --mesh` at the same time (embedded mode, temporary state,
free ports), registers an organization and logs in on each, then drives the same REST read
through each gateway with h2load (`apt-get install nghttp2-client`), alternating rounds.
Prints throughput, p50 and p99 per setup (loaded and one request at a time), the throughput
ratio mesh/plain, the p50 and p99 the mesh adds, and the sidecars' CPU and memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pivotal_gateway.bench import CASES, Product, Result, _merged, h2load, owner_token

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def sidecar_pids(product: Product) -> list[int]:
    """The sidecar Envoys of a `pivotal up --mesh` (configuration in <state>/mesh/envoy/)."""
    marker = str(product.workdir / "state" / "mesh" / "envoy")
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@dataclass
class Usage:
    cpu_seconds: float
    rss_bytes: int


def usage(pids: list[int]) -> Usage:
    cpu, rss = 0.0, 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1]) * 1024
        except OSError:
            continue
    return Usage(cpu, rss)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per loaded run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per setup")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--streams", type=int, default=16, help="streams in flight per client")
    parser.add_argument("--rpc", choices=sorted(CASES), default="GetMe")
    args = parser.parse_args(argv)
    if shutil.which("h2load") is None:
        raise SystemExit("h2load is missing: apt-get install -y nghttp2-client")

    workdir = Path(tempfile.mkdtemp(prefix="pivotal-mesh-bench-"))
    for name in ("plain", "mesh"):
        (workdir / name).mkdir()
    products = {"plain": Product(workdir / "plain"),
                "mesh": Product(workdir / "mesh", args=("--mesh",))}
    loaded: dict[str, list[Result]] = {"plain": [], "mesh": []}
    single: dict[str, list[Result]] = {"plain": [], "mesh": []}
    busy_seconds, sidecar_cpu = 0.0, 0.0
    try:
        for product in products.values():
            product.wait_ready(120)
        auth = {label: {"authorization": f"Bearer {owner_token(p.base_url)}"}
                for label, p in products.items()}
        path = CASES[args.rpc][1]
        for label, product in products.items():  # both answer the read before timing it
            request = urllib.request.Request(product.base_url + path, headers=auth[label])
            with urllib.request.urlopen(request, timeout=10) as reply:
                json.loads(reply.read())
        sidecars = sidecar_pids(products["mesh"])

        def run(label: str, clients: int, streams: int, duration: float,
                requests: int | None = None) -> Result:
            return h2load(label, products[label].base_url + path, auth[label], None,
                          clients=clients, streams=streams, duration=duration,
                          workdir=workdir, requests=requests)

        for _ in range(8):  # one request at a time, alternating
            for label in products:
                single[label].append(run(label, 1, 1, 0, requests=300))
        before, started = usage(sidecars), time.monotonic()
        for _ in range(args.rounds):
            for label in products:
                result = run(label, args.clients, args.streams, args.duration)
                loaded[label].append(result)
                if label == "mesh":
                    busy_seconds += result.seconds
        after = usage(sidecars)
        sidecar_cpu = after.cpu_seconds - before.cpu_seconds
        elapsed = time.monotonic() - started
    finally:
        for product in products.values():
            product.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    merged = {k: _merged(v) for k, v in loaded.items()}
    alone = {k: _merged(v) for k, v in single.items()}
    print(f"{args.rpc} ({path}) through the gateway, h2load HTTP/2; loaded: {args.clients} "
          f"connections x {args.streams} streams, {args.rounds} x {args.duration}s per setup, "
          f"alternating; unloaded: 8 x 300 requests one at a time; {os.cpu_count()} CPUs "
          "shared by h2load, both products and their Envoys")
    print(f"{'setup':<7}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'unloaded p50':>14}"
          f"{'unloaded p99':>14}")
    for label in products:
        result, one = merged[label], alone[label]
        print(f"{label:<7}{result.rps:>9.0f}{result.percentile(.5):>9.2f}"
              f"{result.percentile(.99):>9.2f}{one.percentile(.5):>14.2f}"
              f"{one.percentile(.99):>14.2f}")
    ratio = merged["mesh"].rps / merged["plain"].rps
    print(f"throughput ratio mesh/plain {ratio:.2f} (target >= 0.8)")
    added_p50 = merged["mesh"].percentile(.5) - merged["plain"].percentile(.5)
    print(f"added by the mesh: p50 {added_p50:+.2f} ms, "
          f"p99 {merged['mesh'].percentile(.99) - merged['plain'].percentile(.99):+.2f} ms "
          f"loaded; p50 {alone['mesh'].percentile(.5) - alone['plain'].percentile(.5):+.2f} ms, "
          f"p99 {alone['mesh'].percentile(.99) - alone['plain'].percentile(.99):+.2f} ms "
          "unloaded")
    print(f"sidecars ({len(sidecars)} Envoys): {sidecar_cpu / max(busy_seconds, 1e-9):.2f} CPU "
          f"while the mesh setup was loaded ({sidecar_cpu:.1f} CPU-s over {elapsed:.0f} s of "
          f"alternating runs), RSS {after.rss_bytes / 2**20:.0f} MiB in total")


if __name__ == "__main__":
    main()
