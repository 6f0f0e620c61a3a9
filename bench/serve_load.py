"""Load test of ``seqlab serve`` on loopback: many concurrent clients against a Seq2Seq model, with
request batching on and with batching off (``--max-batch-size 1``), in the same run.

For each batch size the script starts a real ``python -m seqlab serve`` process on 127.0.0.1,
waits until ``/health/ready``, runs ``--warmup`` seconds of load (not counted), then ``--seconds``
seconds of load from ``--clients`` asyncio clients (httpx), each sending one translation request
after another on its own keep-alive connection (a random validation source, beam search with the
run's beam size); the clients are a few lines of asyncio over raw sockets, so that generating the
load costs little of the CPU the server needs. It records every
request's latency and status, the server's resident memory (RSS) when ready, after the warm-up and
at the end, and the batcher's counters (``GET /stats``); then sends SIGTERM and checks the server
drains and exits 0.

Printed per batch size: requests/s, p50 and p99 latency, 2xx / 4xx / 5xx counts, lost requests
(sent but never answered: connection errors or client time-outs), the mean batch the model saw, and
RSS. Goals (issue 7): zero 5xx, zero lost, RSS growth < 5 % (end against after warm-up: the warm-up
is where the allocator reaches its working size), and batching >= 2x the requests/s of batch 1.

Run from the repository root::

    .venv/bin/python bench/serve_load.py                        # trains configs/tiny_seq2seq.yaml once
    .venv/bin/python bench/serve_load.py --run-dir runs/g2p --clients 50 --seconds 60
    .venv/bin/python bench/serve_load.py --seconds 10 --batch-sizes 32   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
DEFAULT_RUN = REPO / "runs" / "bench_serve_s2s"
SOURCES = REPO / "tests" / "fixtures" / "tiny_s2s_valid.tsv"


@dataclass
class Load:
    """What the clients saw in one measured window."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    lost: int = 0
    sent: int = 0
    seconds: float = 0.0

    def count(self, low: int, high: int) -> int:
        return sum(n for status, n in self.statuses.items() if low <= status < high)


def train_default_run() -> Path:
    """The tiny reversal Seq2Seq recipe, trained once into runs/bench_serve_s2s."""
    if (DEFAULT_RUN / "model.safetensors").is_file():
        return DEFAULT_RUN
    print(f"training configs/tiny_seq2seq.yaml into {DEFAULT_RUN} (once) ...", flush=True)
    subprocess.run(
        [sys.executable, "-m", "seqlab", "train", "configs/tiny_seq2seq.yaml", "--run-dir", str(DEFAULT_RUN)],
        cwd=REPO,
        check=True,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
        stdout=subprocess.DEVNULL,
    )
    return DEFAULT_RUN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(run_dir: Path, batch_size: int, threads: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        sys.executable, "-m", "seqlab", "serve", f"s2s={run_dir}", "--port", str(port),
        "--max-batch-size", str(batch_size), "--threads", str(threads), "--log-level", "warning",
    ]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    env.pop("SEQLAB_TOKEN", None)
    proc = subprocess.Popen(command, cwd=REPO, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with status {proc.returncode}")
        try:
            if httpx.get(url + "/health/ready", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not become ready in 120 s")


class Connection:
    """A minimal keep-alive HTTP/1.1 client on one socket: a load generator must cost far less CPU
    than the server it measures (on 2 cores both share the machine), which httpx does not."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, timeout: float) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        try:
            lines = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
            status = int(lines.split(b" ", 2)[1])
            length = 0
            for line in lines.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
                if name.strip().lower() == b"connection" and value.strip().lower() == b"close":
                    self.writer.close()
                    self.writer = None
            payload = await asyncio.wait_for(self.reader.readexactly(length), timeout)
        except BaseException:
            self.close()
            raise
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def client(url: str, texts: list[str], deadline: float, load: Load, seed: int) -> None:
    rng = random.Random(seed)
    host, port = url.removeprefix("http://").split(":")
    connection = Connection(host, int(port))
    bodies = [json.dumps({"text": text}).encode() for text in texts]
    while time.monotonic() < deadline:
        start = time.perf_counter()
        load.sent += 1
        try:
            status, _ = await connection.post("/models/s2s/translate", rng.choice(bodies), timeout=60)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
            load.lost += 1
            continue
        load.latencies.append(time.perf_counter() - start)
        load.statuses[status] = load.statuses.get(status, 0) + 1
    connection.close()


async def run_load(url: str, texts: list[str], clients: int, seconds: float) -> Load:
    load = Load()
    start = time.monotonic()
    deadline = start + seconds
    await asyncio.gather(*(client(url, texts, deadline, load, seed) for seed in range(clients)))
    load.seconds = time.monotonic() - start
    return load


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def measure(run_dir: Path, batch_size: int, args: argparse.Namespace, texts: list[str]) -> dict:
    proc, url = start_server(run_dir, batch_size, args.threads)
    server = psutil.Process(proc.pid)
    try:
        rss_ready = server.memory_info().rss
        asyncio.run(run_load(url, texts, args.clients, args.warmup))
        rss_warm = server.memory_info().rss
        before = httpx.get(url + "/stats").json()
        load = asyncio.run(run_load(url, texts, args.clients, args.seconds))
        rss_end = server.memory_info().rss
        after = httpx.get(url + "/stats").json()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            exit_status = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            exit_status = "killed"
    batches = after["batches"] - before["batches"]
    return {
        "max_batch_size": batch_size,
        "requests": len(load.latencies),
        "seconds": round(load.seconds, 2),
        "requests_per_s": len(load.latencies) / load.seconds,
        "p50_ms": 1000 * percentile(load.latencies, 50),
        "p99_ms": 1000 * percentile(load.latencies, 99),
        "mean_ms": 1000 * statistics.fmean(load.latencies) if load.latencies else float("nan"),
        "2xx": load.count(200, 300),
        "4xx": load.count(400, 500),
        "5xx": load.count(500, 600),
        "statuses": load.statuses,
        "sent": load.sent,
        "lost": load.lost,
        "mean_batch": (after["texts"] - before["texts"]) / batches if batches else 0.0,
        "rss_ready_mib": rss_ready / 2**20,
        "rss_after_warmup_mib": rss_warm / 2**20,
        "rss_end_mib": rss_end / 2**20,
        "rss_growth_pct": 100 * (rss_end / rss_warm - 1),
        "exit_status_after_sigterm": exit_status,
    }


def print_table(rows: list[dict]) -> None:
    header = (
        f"{'batch':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'2xx':>7} {'4xx':>5} {'5xx':>5} "
        f"{'lost':>5} {'mean batch':>10} {'RSS ready/warm/end MiB':>24} {'growth':>7} {'exit':>5}"
    )
    print(header)
    for r in rows:
        rss = f"{r['rss_ready_mib']:.0f}/{r['rss_after_warmup_mib']:.0f}/{r['rss_end_mib']:.0f}"
        print(
            f"{r['max_batch_size']:>5} {r['requests_per_s']:>8.1f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
            f"{r['2xx']:>7} {r['4xx']:>5} {r['5xx']:>5} {r['lost']:>5} {r['mean_batch']:>10.2f} "
            f"{rss:>24} {r['rss_growth_pct']:>6.1f}% {r['exit_status_after_sigterm']!s:>5}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, help="a trained Seq2Seq run (default: the tiny recipe)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds per batch size")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    parser.add_argument(
        "--batch-sizes", default="32,1", help="server --max-batch-size values, comma-separated (default 32,1)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads in the server (default 1)")
    parser.add_argument("--out", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    if args.seconds > 600 or args.clients > 500:
        raise SystemExit("bounded on purpose: at most 600 s and 500 clients per batch size")
    run_dir = args.run_dir or train_default_run()
    texts = [line.split("\t")[0] for line in SOURCES.read_text(encoding="utf-8").splitlines() if line.strip()]
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; server torch "
        f"threads {args.threads}; {args.clients} clients x {args.seconds:g} s after {args.warmup:g} s "
        f"warm-up; model {run_dir}"
    )
    rows = [measure(run_dir, int(size), args, texts) for size in args.batch_sizes.split(",")]
    print_table(rows)
    if len(rows) >= 2 and rows[-1]["requests_per_s"] > 0:
        print(f"batching speed-up: {rows[0]['requests_per_s'] / rows[-1]['requests_per_s']:.2f}x requests/s")
    goals = {
        "zero 5xx": all(r["5xx"] == 0 for r in rows),
        "zero lost": all(r["lost"] == 0 for r in rows),
        "RSS growth < 5 %": all(r["rss_growth_pct"] < 5 for r in rows),
        "exit 0 after SIGTERM": all(r["exit_status_after_sigterm"] == 0 for r in rows),
    }
    if len(rows) >= 2:
        goals["batching >= 2x batch 1"] = rows[0]["requests_per_s"] >= 2 * rows[-1]["requests_per_s"]
    for goal, met in goals.items():
        print(f"goal {goal}: {'met' if met else 'NOT met'}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
