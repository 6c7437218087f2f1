"""Benchmark of the central service against a real server process on loopback.

1. Upload of N encodings (default 1,000,000 random 1024-bit filters, Parquet): time, MB/s,
   server peak memory (VmHWM of a fresh server process).
2. A 3-agency run of M records each (default 100,000), end to end through the service,
   against the matching engine's own time for the same data in this process.

   * service: the three agencies' uploads (one after the other; each streamed, checksummed,
     encrypted, validated and stored) + starting a run + waiting for it (a long poll: the
     client learns of the end at once), from the first upload request until the client
     holds the finished run. The service's run loads the stored uploads (decrypt, parse),
     links them with the same ``MatchConfig`` and stores every agency's results.
   * engine: what ``linkage match`` does with the same files: read the three files +
     ``link`` + write the matches table.
   * overhead = service / engine - 1, the median over repetition pairs (engine and service
     alternate, so both see the same machine load); also shown for the run alone (the
     uploads excluded) and against read + link only. Target (issue 4): at most +25%.
3. Results-page latency with C concurrent clients (default 50): p50 / p99.

    python benchmarks/service.py                 # full sizes (several minutes)
    python benchmarks/service.py --quick         # small sizes, a smoke run

Timings are medians over --repeat repetitions (after --warmup unmeasured ones). The
machine's load average is printed: on a shared machine, compare runs at similar load. The
server runs with SQLite (the embedded
default) in a temporary folder unless --database-url is given.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from linkage.client import ServiceClient
from linkage.format import EncodedData, EncodedFileWriter, FileMetadata, read_encoded
from linkage.matching import MatchConfig, link, matches_table

FINGERPRINT = hashlib.sha256(b"benchmark schema").hexdigest()
KEY_ID = "bench-key"
BITS = 1024


# --- data --------------------------------------------------------------------------------


def _metadata() -> FileMetadata:
    return FileMetadata(schema_fingerprint=FINGERPRINT, key_id=KEY_ID, filter_bits=BITS,
                        max_variants=1, encoder_version="bench")


def _write(path: Path, refs: list[str], bits: np.ndarray) -> None:
    packed = np.packbits(bits, axis=1, bitorder="little").view("<u8").astype(np.uint64)
    data = EncodedData(refs=refs, variant_counts=np.ones(len(refs), np.uint8), clk=packed)
    with EncodedFileWriter(path, _metadata()) as w:
        w.write(data)


def random_file(path: Path, n: int, seed: int = 0, batch: int = 200_000) -> None:
    rng = np.random.default_rng(seed)
    with EncodedFileWriter(path, _metadata()) as w:
        for start in range(0, n, batch):
            m = min(batch, n - start)
            bits = rng.random((m, BITS)) < 0.3
            packed = np.packbits(bits, axis=1, bitorder="little").view("<u8").astype(np.uint64)
            w.write(EncodedData(refs=[f"r{start + i:08d}" for i in range(m)],
                                variant_counts=np.ones(m, np.uint8), clk=packed))


def three_agency_files(folder: Path, n: int, seed: int = 1) -> dict[str, Path]:
    """Agencies over one population: 60% of each agency's records are shared with the next
    (a person is in a, b and c when the windows overlap), 2% of bits flipped per copy."""
    rng = np.random.default_rng(seed)
    shift = int(n * 0.4)
    pop = rng.random((n + 2 * shift, BITS)) < 0.3
    out = {}
    for k, name in enumerate(("agency-a", "agency-b", "agency-c")):
        idx = np.arange(k * shift, k * shift + n)
        bits = pop[idx] ^ (rng.random((n, BITS)) < 0.02)
        order = rng.permutation(n)
        path = folder / f"{name}.parquet"
        _write(path, [f"{name[-1]}{int(i):08d}" for i in idx[order]], bits[order])
        out[name] = path
    return out


# --- server ------------------------------------------------------------------------------


class Server:
    def __init__(self, folder: Path, database_url: str | None, threads: int | None):
        self.folder = folder
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ,
                    "LINKAGE_SERVICE_DATA_DIR": str(folder),
                    "LINKAGE_SERVICE_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
                    "LINKAGE_SERVICE_MAX_UPLOAD_BYTES": str(8 * 1024**3),
                    "LINKAGE_SERVICE_RUN_POLL_SECONDS": "0.1",
                    "LINKAGE_SERVICE_LOG_LEVEL": "warning",
                    "LINKAGE_SERVICE_AUTO_MIGRATE": "true"}
        if database_url:
            self.env["LINKAGE_SERVICE_DATABASE_URL"] = database_url
        if threads:
            self.env["LINKAGE_SERVICE_RUN_THREADS"] = str(threads)
        self.proc: subprocess.Popen | None = None

    def operator_token(self) -> str:
        out = subprocess.run([sys.executable, "-c", "from service.cli import main; main()",
                              "operator", "create-token", "--name", "bench"],
                             env=self.env, check=True, capture_output=True, text=True)
        return out.stdout.strip().splitlines()[-1]

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from service.cli import main; main()", "serve", "--port",
             str(self.port)], env=self.env)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def memory(self) -> tuple[float, float]:
        """(current RSS, peak RSS) of the server process in MiB."""
        assert self.proc is not None
        fields = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)

    def cpu(self) -> float:
        """CPU seconds (user + system, all threads) the server process has used."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(60)
            self.proc = None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _setup(server: Server, agencies: list[str], **project) -> tuple[str, str, dict[str, str]]:
    op = server.operator_token()
    with httpx.Client(base_url=server.url + "/api/v1", timeout=60,
                      headers={"Authorization": f"Bearer {op}"}) as c:
        r = c.post("/projects", json={"name": "bench", "schema_fingerprint": FINGERPRINT,
                                      "key_id": KEY_ID, "filter_bits": BITS,
                                      "agencies": [{"name": a} for a in agencies], **project})
        r.raise_for_status()
        pid = r.json()["id"]
        tokens = {}
        for a in agencies:
            r = c.post("/credentials", json={"role": "agency", "subject": a})
            r.raise_for_status()
            tokens[a] = r.json()["token"]
    return op, pid, tokens


# --- measurements ------------------------------------------------------------------------


def bench_upload(folder: Path, n: int, repeat: int, database_url: str | None) -> dict:
    path = folder / "upload.parquet"
    t = time.perf_counter()
    random_file(path, n)
    print(f"  generated {n:,} encodings in {time.perf_counter() - t:.1f}s "
          f"({path.stat().st_size / 1e6:.0f} MB)", flush=True)
    size = path.stat().st_size
    server = Server(folder / "srv-upload", database_url, None)
    times = []
    server.start()
    try:
        _, pid, tokens = _setup(server, ["agency-a", "agency-b"])
        base_rss = server.memory()[0]
        with ServiceClient(server.url, tokens["agency-a"], timeout=3600) as client:
            for _ in range(repeat):
                t = time.perf_counter()
                up = client.upload(pid, path)
                times.append(time.perf_counter() - t)
                client.delete_upload(pid, up["id"])
        _rss, peak = server.memory()
    finally:
        server.stop()
    med = statistics.median(times)
    return {"records": n, "bytes": size, "seconds": med, "mb_s": size / 1e6 / med,
            "records_s": n / med, "base_rss": base_rss, "peak_rss": peak, "times": times}


def engine_time(files: dict[str, Path], config: MatchConfig, out: Path
                ) -> tuple[float, float, float, int, float, dict[str, float]]:
    """(read, read + link, read + link + write the matches table) in seconds, groups, the
    CPU seconds used and the engine's stage times: what ``linkage match`` does with the
    same files."""
    cpu = time.process_time()
    t = time.perf_counter()
    parties = {a: read_encoded(p)[1] for a, p in files.items()}
    t_read = time.perf_counter() - t
    result = link(parties, config)
    t_link = time.perf_counter() - t
    matches_table(result, parties).to_parquet(out)
    return (t_read, t_link, time.perf_counter() - t, len(result.groups),
            time.process_time() - cpu, result.durations)


def _clear_uploads(server: Server, files: dict[str, Path], pid: str,
                   tokens: dict[str, str]) -> None:
    """Delete the agencies' current uploads (left by the previous repetition), so the next
    uploads are new files to the service, not idempotent repeats. Not timed: it is the
    cleanup of the previous repetition, not part of uploading and running."""
    for a in files:
        with ServiceClient(server.url, tokens[a], timeout=3600) as client:
            for up in client.uploads(pid):
                if up["status"] == "current":
                    client.delete_upload(pid, up["id"])


def service_time(server: Server, files: dict[str, Path], pid: str, tokens: dict[str, str],
                 op: str) -> dict:
    """Upload the three files (one agency after the other, each with its own client, as
    ``linkage upload`` does), then start a run and wait for it (``linkage run start
    --wait``: the status request is a long poll, answered as soon as the run has finished,
    so no client-side polling interval is measured). Timed from the first upload request to
    the client holding the finished run."""
    _clear_uploads(server, files, pid, tokens)
    cpu = time.process_time() + server.cpu()  # the client (this process) and the server
    t0 = time.perf_counter()
    for a, path in files.items():
        with ServiceClient(server.url, tokens[a], timeout=3600) as client:
            up = client.upload(pid, path)
            if not up["created"]:
                raise RuntimeError("upload was an idempotent repeat")
    t_upload = time.perf_counter() - t0
    with ServiceClient(server.url, op, timeout=3600) as client:
        run = client.start_run(pid)
        # A long poll; ``poll`` only paces a service without long polls (an older one, when
        # comparing before and after with this script).
        done = client.wait_run(pid, run["id"], poll=0.2)
    total = time.perf_counter() - t0
    cpu = time.process_time() + server.cpu() - cpu
    if done["status"] != "succeeded":
        raise RuntimeError(f"run {done['status']}: {done.get('error')}")
    return {"upload": t_upload, "run": total - t_upload, "total": total, "cpu": cpu,
            "groups": done["summary"]["groups"], "run_id": run["id"],
            "durations": done["summary"]["durations"]}


async def _latency(url: str, pid: str, run_id: str, tokens: dict[str, str], totals: dict,
                   clients: int, requests_each: int, limit: int) -> tuple[list[float], float]:
    """Latencies of results pages with ``clients`` concurrent clients, and the wall time."""
    lat: list[float] = []
    agencies = list(tokens)
    ready = asyncio.Event()

    async def one(k: int) -> None:
        agency = agencies[k % len(agencies)]
        rng = random.Random(k)
        async with httpx.AsyncClient(base_url=url + "/api/v1", timeout=60, headers={
                "Authorization": f"Bearer {tokens[agency]}"}) as c:
            # One unmeasured request opens the keep-alive connection.
            (await c.get(f"/projects/{pid}/runs/{run_id}/results", params={"limit": 1})
             ).raise_for_status()
            await ready.wait()
            for _ in range(requests_each):
                cursor = rng.randrange(0, max(1, totals[agency] - limit))
                t = time.perf_counter()
                r = await c.get(f"/projects/{pid}/runs/{run_id}/results",
                                params={"cursor": str(cursor), "limit": limit})
                lat.append(time.perf_counter() - t)
                r.raise_for_status()

    tasks = [asyncio.create_task(one(k)) for k in range(clients)]
    await asyncio.sleep(0.5)
    start = time.perf_counter()
    ready.set()
    await asyncio.gather(*tasks)
    return lat, time.perf_counter() - start


def bench_run(folder: Path, n: int, repeat: int, clients: int, requests_each: int,
              page: int, database_url: str | None, threads: int | None,
              warmup: int = 1) -> dict:
    t = time.perf_counter()
    files = three_agency_files(folder, n)
    size = sum(p.stat().st_size for p in files.values())
    print(f"  generated 3 x {n:,} encodings in {time.perf_counter() - t:.1f}s "
          f"({size / 1e6:.0f} MB)", flush=True)
    config = MatchConfig(threads=threads)
    server = Server(folder / "srv-run", database_url, threads)
    server.start()
    try:
        op, pid, tokens = _setup(server, list(files))
        # Warm-up (not measured): first-use costs on both sides (imports, compiled kernels,
        # page cache, the server's connection pool).
        for _ in range(warmup):
            engine_time(files, config, folder / "matches.parquet")
            service_time(server, files, pid, tokens, op)
        # Engine and service repetitions alternate (in alternating order), so both see the
        # same machine load; the overhead is the median of the per-pair ratios.
        engine, svc = [], []
        for i in range(repeat):
            order = ("engine", "service") if i % 2 == 0 else ("service", "engine")
            for side in order:
                if side == "engine":
                    engine.append(engine_time(files, config, folder / "matches.parquet"))
                else:
                    svc.append(service_time(server, files, pid, tokens, op))
            e, s = engine[-1], svc[-1]
            print(f"  pair {i + 1}: engine {e[2]:.2f}s (read {e[0]:.2f}, link "
                  f"{e[1] - e[0]:.2f}, write {e[2] - e[1]:.2f}), service {s['total']:.2f}s "
                  f"(upload {s['upload']:.2f}, run {s['run']:.2f}) -> "
                  f"{100 * (s['total'] / e[2] - 1):+.0f}%; CPU seconds engine {e[4]:.2f}, "
                  f"service {s['cpu']:.2f} -> {100 * (s['cpu'] / e[4] - 1):+.0f}%; load average "
                  f"{os.getloadavg()[0]:.1f}", flush=True)
        _, peak = server.memory()
        run_id = svc[-1]["run_id"]
        with httpx.Client(base_url=server.url + "/api/v1", timeout=60) as c:
            totals = {a: c.get(f"/projects/{pid}/runs/{run_id}/results",
                               headers={"Authorization": f"Bearer {tok}"},
                               params={"limit": 1}).json()["total"]
                      for a, tok in tokens.items()}
        lat, wall = asyncio.run(_latency(server.url, pid, run_id, tokens, totals, clients,
                                         requests_each, page))
    finally:
        server.stop()
    lat.sort()
    med = statistics.median
    return {
        "records": n,
        "bytes": size,
        "engine_read": med(e[0] for e in engine),
        "engine_link": med(e[1] for e in engine),
        "engine_total": med(e[2] for e in engine),
        "engine_groups": engine[0][3],
        "service_upload": med(s["upload"] for s in svc),
        "service_run": med(s["run"] for s in svc),
        "service_total": med(s["total"] for s in svc),
        "service_groups": svc[0]["groups"],
        # Per pair: the service's upload + run against the engine's read + link + write, and
        # the run alone (start to finished, reading the stored uploads) against the same.
        "overhead": med(s["total"] / e[2] - 1 for e, s in zip(engine, svc, strict=True)),
        "overhead_run": med(s["run"] / e[2] - 1 for e, s in zip(engine, svc, strict=True)),
        "engine_cpu": med(e[4] for e in engine),
        "service_cpu": med(s["cpu"] for s in svc),
        "overhead_cpu": med(s["cpu"] / e[4] - 1 for e, s in zip(engine, svc, strict=True)),
        "overhead_link": med(s["total"] / e[1] - 1 for e, s in zip(engine, svc, strict=True)),
        # The run's own stage times (run summary ``durations``), medians.
        "service_stages": {k: med(s["durations"].get(k, 0.0) for s in svc)
                           for k in svc[0]["durations"]},
        "engine_stages": {k: med(e[5].get(k, 0.0) for e in engine) for k in engine[0][5]},
        "peak_rss": peak,
        "p50_ms": 1000 * lat[len(lat) // 2],
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "requests": len(lat),
        "req_s": len(lat) / wall,
        "clients": clients,
        "page": page,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upload-records", type=int, default=1_000_000)
    ap.add_argument("--run-records", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=40, help="requests per client")
    ap.add_argument("--page", type=int, default=100, help="results page size")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1,
                    help="unmeasured engine + service repetitions before the run pairs")
    ap.add_argument("--threads", type=int, default=None, help="engine threads (both sides)")
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--skip-upload", action="store_true")
    ap.add_argument("--skip-run", action="store_true", help="the upload measurement only")
    args = ap.parse_args()
    if args.quick:
        args.upload_records, args.run_records, args.requests, args.repeat = 50_000, 5_000, 5, 1
        args.warmup = 0
    with tempfile.TemporaryDirectory(prefix="pprl-bench-") as tmp:
        folder = Path(tmp)
        print(f"machine: {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f}; "
              f"database: {args.database_url or 'SQLite'}")
        if not args.skip_upload:
            print(f"upload of {args.upload_records:,} encodings ...", flush=True)
            u = bench_upload(folder, args.upload_records, args.repeat, args.database_url)
            print(f"| upload | records | MB | seconds (median) | MB/s | records/s | "
                  f"server RSS before | server peak RSS |\n|---|---|---|---|---|---|---|---|\n"
                  f"| parquet | {u['records']:,} | {u['bytes'] / 1e6:.0f} | {u['seconds']:.2f} | "
                  f"{u['mb_s']:.1f} | {u['records_s']:,.0f} | {u['base_rss']:.0f} MiB | "
                  f"{u['peak_rss']:.0f} MiB |", flush=True)
        if args.skip_run:
            return
        print(f"3-agency run of {args.run_records:,} records each ...", flush=True)
        r = bench_run(folder, args.run_records, args.repeat, args.clients, args.requests,
                      args.page, args.database_url, args.threads, args.warmup)
        print(f"| 3 x {r['records']:,} ({r['bytes'] / 1e6:.0f} MB) | seconds (median) | "
              f"groups |\n|---|---|---|\n"
              f"| engine: read files + link | {r['engine_link']:.2f} "
              f"(read {r['engine_read']:.2f}) | {r['engine_groups']:,} |\n"
              f"| engine: read + link + write matches (`linkage match`) | "
              f"{r['engine_total']:.2f} | |\n"
              f"| service: upload 3 files | {r['service_upload']:.2f} "
              f"({r['bytes'] / 1e6 / r['service_upload']:.0f} MB/s) | |\n"
              f"| service: run, start to finished | {r['service_run']:.2f} | |\n"
              f"| service: upload + run end to end | {r['service_total']:.2f} | "
              f"{r['service_groups']:,} |\n"
              f"| service overhead: upload + run vs engine end to end | "
              f"{100 * r['overhead']:+.1f}% (target <= +25%) | |\n"
              f"| service overhead: run alone vs engine end to end | "
              f"{100 * r['overhead_run']:+.1f}% | |\n"
              f"| service overhead: upload + run vs engine read + link only | "
              f"{100 * r['overhead_link']:+.1f}% | |\n"
              f"| CPU seconds (all threads; service: server + client) | engine "
              f"{r['engine_cpu']:.2f}, service {r['service_cpu']:.2f}: "
              f"{100 * r['overhead_cpu']:+.1f}% | |\n"
              f"| server peak RSS | {r['peak_rss']:.0f} MiB | |")
        print("(overheads: medians of the per-pair ratios)")
        print("engine stages in this process (median seconds): " + ", ".join(
            f"{k} {v:.2f}" for k, v in r["engine_stages"].items()))
        print("service run stages (median seconds): " + ", ".join(
            f"{k} {v:.2f}" for k, v in r["service_stages"].items()))
        print(f"| results page ({r['page']} rows) | clients | requests | p50 | p99 | req/s |\n"
              f"|---|---|---|---|---|---|\n"
              f"| GET .../results | {r['clients']} | {r['requests']:,} | {r['p50_ms']:.1f} ms | "
              f"{r['p99_ms']:.1f} ms | {r['req_s']:.0f} |")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
