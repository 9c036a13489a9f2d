#!/usr/bin/env python3
"""Turns the raw lines of bench/compare.sh into markdown tables (medians over runs).

Input lines: `<side> <model> key=value ...` as printed by benches/compare.rs (side `stepsim`,
or `bare` for the scale test) and bench/simpy_bench.py (side `simpy`).
"""
import math
import statistics
import sys
from collections import defaultdict

NAMES = {
    "timeouts": "timeouts",
    "mmc": "mmc (M/M/3)",
    "pipeline": "pipeline",
    "interrupts": "interrupts",
    "firstof": "firstof (renege)",
    "w1": "W1 sleep loop",
    "w2": "W2 M/M/1",
}


def parse(path):
    runs = defaultdict(list)  # (side, model) -> [dict]
    scale = defaultdict(list)  # (side, n) -> [dict]
    memory = {}
    order = []
    for line in open(path):
        parts = line.split()
        if len(parts) < 3 or parts[0] not in ("simpy", "stepsim", "bare"):
            continue
        side, model = parts[0], parts[1]
        kv = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
        if model == "scale":
            scale[(side, int(kv["n"]))].append(kv)
        elif model.startswith("memory"):
            memory[model] = kv
        else:
            runs[(side, model)].append(kv)
            if model not in order and model not in ("bare", "barecal"):
                order.append(model)
    return runs, scale, memory, order


def med(rows, key):
    return statistics.median(float(r[key]) for r in rows)


def events(rows):
    """The wake-up count (the same in every run; a run without a count prints `na`)."""
    for r in rows:
        if r["events"] != "na":
            return int(r["events"])
    return None


def fmt_s(x):
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def fmt_n(n):
    return "?" if n is None else f"{n:,}"


def main(path):
    runs, scale, memory, order = parse(path)
    print("| model | wake-ups SimPy | wake-ups stepsim | SimPy s | stepsim s | speed-up "
          "| stepsim ns/wake-up | × bare heap | stepsim allocs | checksum SimPy | checksum stepsim |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|")
    notes = []
    for model in order:
        py, rs = runs.get(("simpy", model), []), runs.get(("stepsim", model), [])
        if not py or not rs:
            continue
        py_s, rs_s = med(py, "seconds"), med(rs, "seconds")
        py_n, rs_n = events(py), events(rs)
        # Speed-up per wake-up: the two sides' random paths differ slightly in length.
        if py_n and rs_n:
            speedup = (py_s / py_n) / (rs_s / rs_n)
        else:
            speedup = py_s / rs_s
        bare = ""
        if model == "w1" and runs.get(("stepsim", "bare")):
            bare_rows = runs[("stepsim", "bare")]
            bare_s = med(bare_rows, "seconds")
            bare = f"{rs_s / bare_s:.2f}"
            notes.append(f"- Bare heap (W1 as a loop over a `BinaryHeap` of packed integer keys "
                         f"`(time bits, seq, id)`, top rescheduled in place, no engine, "
                         f"same random streams): {fmt_s(bare_s)} s for {fmt_n(events(bare_rows))} "
                         f"wake-ups ({bare_s * 1e9 / events(bare_rows):.0f} ns each), checksum "
                         f"`{bare_rows[0]['checksum']}`.")
            cal_rows = runs.get(("stepsim", "barecal"))
            if cal_rows:
                cal_s = med(cal_rows, "seconds")
                notes.append(f"- Bare calendar queue (the same loop over a minimal fixed-width "
                             f"calendar queue): {fmt_s(cal_s)} s "
                             f"({cal_s * 1e9 / events(cal_rows):.0f} ns each, stepsim "
                             f"{rs_s / cal_s:.2f}× that), checksum `{cal_rows[0]['checksum']}`.")
        allocs = int(rs[0]["allocs"])
        print(f"| {NAMES.get(model, model)} | {fmt_n(py_n)} | {fmt_n(rs_n)} | {fmt_s(py_s)} "
              f"| {fmt_s(rs_s)} | **{speedup:.0f}×** | {rs_s * 1e9 / rs_n:.0f} | {bare} "
              f"| {allocs:,} | `{py[0]['checksum']}` | `{rs[0]['checksum']}` |")
        if "theory" in rs[0]:
            def th(row):
                f = row["theory"].split(",")
                return f"{row['checksum'].split('mean_wait:')[1]} (±{f[1][3:]}, z = {f[2][2:]}, {f[3]})"
            wq = rs[0]["theory"].split(",")[0][3:]
            notes.append(f"- {NAMES[model]} mean wait in queue: queueing theory (Erlang C) {wq}; "
                         f"SimPy {th(py[0])}; stepsim {th(rs[0])} (± one standard error by batch "
                         f"means, 20 batches; ok when |z| < 3).")
    print()
    for n in notes:
        print(n)
    print("- Speed-up is per wake-up (the sides' random draws differ, so path lengths differ "
          "slightly); wake-ups are process resumptions (`step` calls / generator resumptions). "
          "`stepsim allocs` counts every heap allocation during the timed run, the model's "
          "own included.")

    if not scale:
        return
    print()
    print("| live processes | horizon | wake-ups | stepsim ns/wake-up | bare heap ns/wake-up "
          "| stepsim / bare | ns/wake-up ÷ log₂ n | stepsim bytes/process | of which engine "
          "| bare heap bytes/process | allocs in run |")
    print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for n in sorted({n for (_, n) in scale}):
        rs, bare = scale.get(("stepsim", n)), scale.get(("bare", n))
        if not rs or not bare:
            continue
        rs_ns, bare_ns = med(rs, "ns_per_event"), med(bare, "ns_per_event")
        print(f"| {n:,} | {float(rs[0]['until']):g} | {int(rs[0]['events']):,} | {rs_ns:.0f} "
              f"| {bare_ns:.0f} | {rs_ns / bare_ns:.2f} | {rs_ns / math.log2(n):.1f} "
              f"| {float(rs[0]['bytes_per_proc']):.0f} | {float(rs[0]['engine_bytes_per_proc']):.0f} "
              f"| {float(bare[0]['bytes_per_proc']):.0f} | {int(rs[0]['allocs'])} |")
    print()
    proc = scale[next(k for k in scale if k[0] == "stepsim")][0]["proc_size"]
    line = (f"- Bytes per live sleeping process: heap bytes allocated after all processes "
            f"started and went to sleep, divided by their number (a counting allocator; capacity "
            f"slack of the growing vectors included). The process value itself (a `Pcg64` "
            f"stream) is {proc} bytes; *of which engine* is the rest.")
    print(line)
    if "memory" in memory:
        m = memory["memory"]
        rss = memory.get("memory-rss", {}).get("rss_bytes_per_proc")
        print(f"- SimPy with {int(m['n']):,} sleeping processes (the same W1 process): "
              f"{float(m['bytes_per_proc']):.0f} bytes per process by tracemalloc"
              + (f", {float(rss):.0f} by ru_maxrss" if rss else "") + ".")


if __name__ == "__main__":
    main(sys.argv[1])
