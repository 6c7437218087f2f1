"""Encoder throughput: records/s, peak memory and output size, and the ratio to clkhash.

    python benchmarks/encode.py                      # 100,000 and 1,000,000 records
    python benchmarks/encode.py --sizes 20000 --clkhash-records 20000

Records come from the synthetic generator (one agency, the benchmark mix of cultures and
scripts). Each size is encoded by `linkage encode`'s pipeline in a fresh process (both cores),
so that peak memory (main process + workers) is measured per size.

clkhash pins cryptography<41, which this project cannot share an environment with; it runs
from its own virtual environment (.venv-clkhash, created on first use with pip) on the same
CSV in the same run, with an equivalent schema: name bigrams, date of birth, sex, nationality,
place of birth bigrams, document trigrams, 1024 bits, both cores. clkhash cannot transliterate
or normalise, so it gets the same raw strings; that only makes its work easier.

clkhash's runner reads its CSV before starting the clock and writes nothing, so beside the
end-to-end figure the table also gives ours timed the same way ("in memory": records already
in a DataFrame, chunks sent to the same 2-process pool, nothing written). The "I/O floor"
table is what no encoder of this input can avoid here: reading the CSV (the pipeline's pandas
reader, and pyarrow's multi-threaded one) and writing an output of our size. The last lines
compare it with the time a 20x-clkhash encoder would have.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLKHASH_VENV = ROOT / ".venv-clkhash"

CLKHASH_SCHEMA = {
    "version": 3,
    "clkConfig": {"l": 1024, "kdf": {"type": "HKDF", "hash": "SHA256", "keySize": 64}},
    "features": [
        {"identifier": name, "format": {"type": "string", "encoding": "utf-8"},
         "hashing": {"comparison": {"type": "ngram", "n": n}, "strategy": {"bitsPerToken": k},
                     "hash": {"type": "blakeHash"}, "missingValue": {"sentinel": ""}}}
        for name, n, k in [
            ("given_name", 2, 10), ("family_name", 2, 10), ("date_of_birth", 2, 12),
            ("sex", 1, 6), ("nationality", 2, 6), ("place_of_birth", 2, 4),
            ("document_number", 3, 4),
        ]
    ],
}

CLKHASH_RUNNER = r"""
import csv, json, sys, time
from clkhash import clk
from clkhash.schema import from_json_dict
schema = from_json_dict(json.loads(sys.argv[2]))
cols = [f["identifier"] for f in json.loads(sys.argv[2])["features"]]
with open(sys.argv[1], encoding="utf-8") as fh:
    rows = [[r[c] for c in cols] for r in csv.DictReader(fh)][: int(sys.argv[3])]
t = time.perf_counter()
clks = clk.generate_clks(rows, schema, "benchmark secret", validate=False, max_workers=2)
print(json.dumps({"records": len(clks), "seconds": time.perf_counter() - t}))
"""


def make_records(n: int, seed: int, out: Path) -> Path:
    """One agency's records from the synthetic generator, as CSV."""
    from synthetic_data import GeneratorConfig, default_agencies, generate

    data = generate(GeneratorConfig(people=n, agencies=default_agencies(1)), seed, workers=2)
    frame = next(iter(data.agencies.values()))
    path = out / f"records-{n}.csv"
    frame.to_csv(path, index=False)
    return path


def _descendants_rss_mb(root: int) -> tuple[float, int]:
    """Summed RSS (MB) of the processes below ``root`` (the forkserver and its workers are
    not waited-for children, so getrusage cannot see them), and how many there are."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        parent[int(d)] = int(fields["PPid"])
        rss[int(d)] = int(fields.get("VmRSS", "0 kB").split()[0])
    below, frontier = set(), {root}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier} - below
        below |= frontier
    return sum(rss[p] for p in below) / 1024, len(below)


def _own_peak_mb() -> float:
    """This process's peak RSS since exec (VmHWM). Not getrusage's ru_maxrss: Linux keeps
    that across fork + exec, so a child started by a parent holding the generated records
    would report the parent's size."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def encode_once(csv_path: Path, out_path: Path) -> dict:
    """Run the encode pipeline in this (fresh) process and report time and peak memory
    (this process by getrusage; the worker processes by sampling /proc every 0.5 s)."""
    import threading

    from linkage.encode import encode_file
    from linkage.keys import generate_key
    from linkage.schema import default_schema

    peak_workers = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            peak_workers[0] = max(peak_workers[0], _descendants_rss_mb(os.getpid())[0])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    report = encode_file(default_schema(), generate_key(), csv_path, out_path, on_error="skip")
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    return {
        "records": report.records_encoded,
        "seconds": seconds,
        "peak_main_mb": _own_peak_mb(),
        "peak_worker_mb": peak_workers[0],
        "output_mb": out_path.stat().st_size / 2**20,
    }


def encode_in_memory(csv_path: Path) -> dict:
    """Records/s of the encoding alone, timed as clkhash's runner times itself: the records
    are already in memory, chunks go to the same 2-process pool as `linkage encode`, and
    nothing is written."""
    import pandas as pd

    from linkage.encode import DEFAULT_CHUNK, _encode_in_worker, _pool
    from linkage.keys import generate_key
    from linkage.schema import default_schema

    schema = default_schema()
    frame = pd.read_csv(csv_path, usecols=schema.input_columns(), dtype=str,
                        keep_default_na=False, na_filter=False)
    pool = _pool(schema, generate_key(), 2, None)
    try:
        pool.submit(_encode_in_worker, frame.iloc[:10], 1, "skip").result()  # workers up
        start = time.perf_counter()
        futures = [pool.submit(_encode_in_worker, frame.iloc[i : i + DEFAULT_CHUNK], i + 1, "skip")
                   for i in range(0, len(frame), DEFAULT_CHUNK)]
        records = sum(f.result().table.num_rows for f in futures)
        seconds = time.perf_counter() - start
    finally:
        pool.shutdown()
    return {"records": records, "seconds": seconds}


def fixed_costs(csv_path: Path, records: int = 200_000) -> dict:
    """Microseconds per record and core, inside the encoder, of the work the security rules
    fix whatever the implementation: HMAC of each batch's distinct tokens (no cache beyond
    the batch), the keyed record reference, and setting the bits (the C extension)."""
    import pandas as pd

    import linkage.bloom.encoder as enc_module
    from linkage.encode import DEFAULT_CHUNK
    from linkage.keys import generate_key
    from linkage.schema import default_schema

    spent = {"token_words": 0.0, "or_cell_bits": 0.0, "references": 0.0}

    def timed(name, fn):
        def run(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start
        return run

    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, na_filter=False, nrows=records)
    saved = {name: getattr(enc_module, name) for name in ("token_words", "or_cell_bits")}
    try:
        for name, fn in saved.items():
            setattr(enc_module, name, timed(name, fn))
        encoder = enc_module.BatchEncoder(default_schema(), generate_key())
        encoder.references = timed("references", encoder.references)  # type: ignore[method-assign]
        n = sum(encoder.encode(frame.iloc[i : i + DEFAULT_CHUNK], on_error="skip").data.n_records
                for i in range(0, len(frame), DEFAULT_CHUNK))
    finally:
        for name, fn in saved.items():
            setattr(enc_module, name, fn)
    return {name: 1e6 * seconds / n for name, seconds in spent.items()}


def io_floor(csv_path: Path, encoded_path: Path) -> dict:
    """Seconds for the I/O any encoder of this input must do, with no encoding at all:
    reading the input (the pipeline's own chunked pandas reader, and pyarrow's
    multi-threaded reader as the fastest there is here) and writing an output of the size
    ours has (the encoded table read back, then written again)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from linkage.encode import DEFAULT_CHUNK, _read_chunks
    from linkage.schema import default_schema

    start = time.perf_counter()
    for _ in _read_chunks(csv_path, default_schema().input_columns(), DEFAULT_CHUNK):
        pass
    read_pandas = time.perf_counter() - start
    start = time.perf_counter()
    pacsv.read_csv(csv_path)
    read_arrow = time.perf_counter() - start
    table = pq.read_table(encoded_path)
    start = time.perf_counter()
    pq.write_table(table, encoded_path.with_suffix(".again.parquet"))
    write = time.perf_counter() - start
    return {"read_pandas": read_pandas, "read_arrow": read_arrow, "write": write}


def run_in_memory(csv_path: Path) -> dict:
    cmd = [sys.executable, __file__, "--in-memory-once", str(csv_path)]
    return json.loads(subprocess.check_output(cmd, text=True).strip().splitlines()[-1])


def run_ours(csv_path: Path, out_dir: Path) -> dict:
    out = out_dir / (csv_path.stem + ".clk.parquet")
    cmd = [sys.executable, __file__, "--encode-once", str(csv_path), str(out)]
    return json.loads(subprocess.check_output(cmd, text=True).strip().splitlines()[-1])


def ensure_clkhash() -> Path | None:
    python = CLKHASH_VENV / "bin" / "python"
    if not python.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(CLKHASH_VENV)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", "clkhash"], check=True)
        except (subprocess.CalledProcessError, OSError) as exc:
            print(f"clkhash unavailable ({exc}); no ratio")
            return None
    return python


def run_clkhash(python: Path, csv_path: Path, n: int) -> dict:
    out = subprocess.check_output(
        [str(python), "-c", CLKHASH_RUNNER, str(csv_path), json.dumps(CLKHASH_SCHEMA), str(n)],
        text=True,
    )
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeats", type=int, default=3, help="runs per size; medians quoted")
    ap.add_argument("--clkhash-records", type=int, default=1_000_000,
                    help="clkhash encodes min(size, this) records of each size")
    ap.add_argument("--no-clkhash", action="store_true")
    ap.add_argument("--encode-once", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--in-memory-once", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.encode_once:
        print(json.dumps(encode_once(Path(args.encode_once[0]), Path(args.encode_once[1]))))
        return
    if args.in_memory_once:
        print(json.dumps(encode_in_memory(Path(args.in_memory_once))))
        return

    from linkage.bloom import hashing

    print(f"cores: {os.cpu_count()}; batch HMAC extension: "
          f"{'yes' if hashing._hmac is not None else 'NO (hmac.digest fallback)'}")
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        rows = []
        floors: list[tuple[int, dict]] = []
        sources: list[Path] = []
        ours_small = None
        for n in args.sizes:
            src = make_records(n, seed=7, out=tmpdir)
            runs = [run_ours(src, tmpdir) for _ in range(args.repeats if n <= 200_000 else 1)]
            rate = statistics.median(r["records"] / r["seconds"] for r in runs)
            last = runs[-1]
            mem = [run_in_memory(src) for _ in range(args.repeats if n <= 200_000 else 1)]
            mem_rate = statistics.median(r["records"] / r["seconds"] for r in mem)
            rows.append((n, rate, last["peak_main_mb"], last["peak_worker_mb"], last["output_mb"],
                         mem_rate))
            floors.append((n, io_floor(src, tmpdir / (src.stem + ".clk.parquet"))))
            sources.append(src)
            ours_small = ours_small or (src, rate)
        print(f"\n{'records':>10} {'records/s':>11} {'peak main MB':>13} {'peak workers MB':>15} "
              f"{'output MB':>10} {'in-memory records/s':>20}")
        for n, rate, pm, pw, size, mem_rate in rows:
            print(f"{n:>10,} {rate:>11,.0f} {pm:>13,.0f} {pw:>15,.0f} {size:>10,.1f} "
                  f"{mem_rate:>20,.0f}")
        print("records/s: `linkage encode` end to end (read CSV, encode, write the file); "
              "in-memory: encoding only, timed as clkhash times itself")

        print(f"\nI/O floor, no encoding (seconds): {'records':>10} {'read (pandas)':>14} "
              f"{'read (pyarrow)':>15} {'write output':>13}")
        for n, f in floors:
            print(f"{'':>33} {n:>10,} {f['read_pandas']:>14.2f} {f['read_arrow']:>15.2f} "
                  f"{f['write']:>13.2f}")
        costs = fixed_costs(sources[-1])
        print(f"\nfixed costs per record and core, inside the encoder: token HMAC "
              f"{costs['token_words']:.2f} us, reference HMAC {costs['references']:.2f} us, "
              f"setting bits {costs['or_cell_bits']:.2f} us")
        fixed = sum(costs.values())
        if args.no_clkhash or ours_small is None:
            return
        python = ensure_clkhash()
        if python is None:
            return
        print("\nclkhash 0.18 (2 workers) on the same records, and the ratios:")
        for (size, rate, *_, mem_rate), (_, f), src in zip(rows, floors, sources, strict=True):
            n = min(size, args.clkhash_records)
            ck = [run_clkhash(python, src, n) for _ in range(args.repeats if n <= 200_000 else 1)]
            ck_rate = statistics.median(r["records"] / r["seconds"] for r in ck)
            budget = size / (20 * ck_rate)
            floor = f["read_arrow"] + f["write"]
            print(f"{size:>10,} records: clkhash {ck_rate:,.0f} records/s ({n:,} records); ours / "
                  f"clkhash {rate / ck_rate:.1f}x end to end, {mem_rate / ck_rate:.1f}x in memory; "
                  f"a 20x encoder has {budget:.2f} s, of which the I/O floor takes {floor:.2f} s "
                  f"(pyarrow read + write; {f['read_pandas'] + f['write']:.2f} s with pandas' "
                  f"reader) and the fixed costs on 2 cores {fixed * size / 2e6:.2f} s more")


if __name__ == "__main__":
    main()
