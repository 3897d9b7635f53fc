"""Bounded load test of the assistant API on loopback: N clients for a fixed time.

    .venv/bin/python benchmarks/bench_load.py [--clients 32] [--duration 600]
                                               [--base-url http://127.0.0.1:8000] [--api-key KEY]
                                               [--out benchmarks/results/load.json]

Without --base-url it starts `rxassist serve` on free loopback ports (and stops it after).
Each client loops: one consultation request (a mix of complete ones, which ask the model, and
incomplete ones, answered without it), then the next; after a 429 it waits the Retry-After it
was given, as a well-behaved client would. Every request ends in exactly one bucket:

    ok (200)   busy (429)   client_error (other 4xx)   server_error (5xx)   lost (no answer)

The goal: 0 server errors and 0 lost. Reports p50/p95 latency of the 200s and of all answers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
CONSULTATIONS = [
    "58 year old man, essential hypertension, no known allergies, currently taking metformin",
    "34 yo woman, 20 weeks pregnant, UTI, allergic to sulfa, on levothyroxine",
    "6 year old boy, 20 kg, acute otitis media, no allergies, no medications",
    "45 yo woman, not pregnant, migraine, allergies unknown, medications unknown",
    "patient has a cough",                           # incomplete: a question back, no model call
    "Age: 200, UTI",                                 # impossible value: 400
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(api_key: str | None) -> tuple[subprocess.Popen, str]:
    port, model_port = free_port(), free_port()
    cmd = [sys.executable, "-m", "rxassist.cli", "serve", "--port", str(port),
           "--model-port", str(model_port)]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if api_key:
        env["RXASSIST_API_KEY"] = api_key
    log = open(Path(tempfile.gettempdir()) / "rxassist-bench-load-serve.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 1200
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"rxassist serve exited with {proc.returncode}; see {log.name}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit("rxassist serve did not become healthy")


# The complete consultations only: every turn asks the model (the "consultations per minute").
COMPLETE = CONSULTATIONS[:4]


async def client(i: int, base: str, headers: dict, until: float, timeout: float,
                 results: list, texts: list[str] = CONSULTATIONS) -> None:
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=timeout) as http:
        n = i
        while time.monotonic() < until:
            text = texts[n % len(texts)]
            n += 1
            start = time.monotonic()
            try:
                r = await http.post("/v1/chat/completions", json={
                    "model": "rxassist", "messages": [{"role": "user", "content": text}]})
                status = r.status_code
            except httpx.HTTPError as e:
                results.append(("lost", time.monotonic() - start, type(e).__name__))
                continue
            took = time.monotonic() - start
            bucket = ("ok" if status == 200 else "busy" if status == 429 else
                      "server_error" if status >= 500 else "client_error")
            results.append((bucket, took, status))
            if status == 429:
                await asyncio.sleep(float(r.headers.get("retry-after", "1")))


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 3)


async def run(base: str, clients: int, duration: float, api_key: str | None,
              timeout: float, texts: list[str] = CONSULTATIONS) -> dict:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    results: list = []
    until = time.monotonic() + duration
    started = time.monotonic()
    await asyncio.gather(*(client(i, base, headers, until, timeout, results, texts)
                           for i in range(clients)))
    wall = time.monotonic() - started
    counts = Counter(b for b, _, _ in results)
    ok = [t for b, t, _ in results if b == "ok"]
    answered = [t for b, t, _ in results if b != "lost"]
    return {"clients": clients, "duration_s": duration, "wall_s": round(wall, 1),
            "requests": len(results), "ok": counts["ok"], "busy_429": counts["busy"],
            "client_error_4xx": counts["client_error"], "server_error_5xx": counts["server_error"],
            "lost": counts["lost"], "ok_per_min": round(counts["ok"] / wall * 60, 1),
            "status_codes": dict(Counter(str(s) for _, _, s in results)),
            "ok_p50_s": pct(ok, 0.5), "ok_p95_s": pct(ok, 0.95),
            "all_p50_s": pct(answered, 0.5), "all_p95_s": pct(answered, 0.95)}


def _command_line() -> str:
    """How this run was started, the key left out."""
    argv, out, hide = sys.argv[1:], [], False
    for a in argv:
        out.append("KEY" if hide else ("--api-key=KEY" if a.startswith("--api-key=") else a))
        hide = a == "--api-key"
    return " ".join(["benchmarks/bench_load.py", *out])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--duration", type=float, default=600, help="seconds (default 10 minutes)")
    p.add_argument("--base-url", default=None, help="a running assistant API (default: start one)")
    p.add_argument("--api-key", default=os.environ.get("RXASSIST_API_KEY"))
    p.add_argument("--timeout", type=float, default=1200,
                   help="client timeout per request; must exceed the server's --deadline")
    p.add_argument("--complete-only", action="store_true",
                   help="send only complete consultations (each one asks the model)")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "load.json")
    args = p.parse_args()
    if not 1 <= args.clients <= 256 or not 1 <= args.duration <= 3600:
        p.error("--clients must be 1..256 and --duration 1..3600 seconds")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    proc = None
    base = args.base_url
    if base is None:
        proc, base = start_server(args.api_key)
    try:
        report = asyncio.run(run(base, args.clients, args.duration, args.api_key, args.timeout,
                                 COMPLETE if args.complete_only else CONSULTATIONS))
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    report = {"date_utc": started_at, "command": _command_line(), **report}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0 if report["server_error_5xx"] == 0 and report["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
