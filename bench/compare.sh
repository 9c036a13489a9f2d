#!/usr/bin/env bash
# Runs stepsim (benches/compare.rs, release build) and SimPy (bench/simpy_bench.py) back to
# back on this machine and prints markdown tables: the models, and the scale test.
#
#   bench/compare.sh                 # scale 5 (SimPy models), W1 and W2 at their full size; ~10 minutes
#   bench/compare.sh --quick         # scale 1, short W1/W2, one run each: a smoke test (~1 min)
#   bench/compare.sh --runs 5        # runs per model and side (median reported; default 3)
#   bench/compare.sh --scale 2       # the SimPy workloads' scale
#   bench/compare.sh --models "w1 w2"  # a subset (timeouts mmc pipeline interrupts firstof w1 w2)
#   bench/compare.sh --no-scale      # skip the scale/memory test
#   bench/compare.sh --raw FILE      # also keep every raw result line in FILE
#
# Needs cargo and python3; installs simpy 4.1.1 with pip if it is missing. Uses
# $CARGO_TARGET_DIR if set, $PYTHON instead of python3 if set.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
runs=""
scale=""
models="timeouts mmc pipeline interrupts firstof w1 w2"
do_scale=1
raw=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1 ;;
        --runs) runs="$2"; shift ;;
        --scale) scale="$2"; shift ;;
        --models) models="$2"; shift ;;
        --no-scale) do_scale=0 ;;
        --raw) raw="$2"; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

PY="${PYTHON:-python3}"
if [[ $quick == 1 ]]; then
    scale="${scale:-1}"; wscale=1; runs="${runs:-1}"; scale_mode=quick
else
    scale="${scale:-5}"; wscale=10; runs="${runs:-3}"; scale_mode=full
fi

if ! "$PY" -c 'import simpy' 2>/dev/null; then
    echo "installing simpy 4.1.1 ..." >&2
    "$PY" -m pip install --quiet 'simpy==4.1.1'
fi

echo "building stepsim's benchmark (release) ..." >&2
exe=$(cargo bench --bench compare --no-run --message-format=json 2>/dev/null |
    "$PY" -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "compare" and m.get("executable"):
        print(m["executable"])
')
if [[ -z "$exe" ]]; then
    cargo bench --bench compare --no-run  # show the error
    exit 1
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
log() { tee -a "$out" >&2; }

for m in $models; do
    case "$m" in
        w1|w2) s=$wscale ;;
        *) s=$scale ;;
    esac
    for ((r = 1; r <= runs; r++)); do
        count=""
        [[ $r == 1 ]] && count="--count"
        "$PY" bench/simpy_bench.py "$m" "$s" $count | log
        "$exe" "$m" "$s" | log
        if [[ $m == w1 ]]; then
            "$exe" bare "$s" | log
            "$exe" barecal "$s" | log
        fi
    done
done

if [[ $do_scale == 1 ]]; then
    for ((r = 1; r <= runs; r++)); do
        for n in 1000 100000 1000000; do
            "$exe" scale "$n" $([[ $scale_mode == quick ]] && echo quick) | log
        done
    done
    "$PY" bench/simpy_bench.py memory 100000 | log
    "$PY" bench/simpy_bench.py memory-rss 100000 | log
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
[[ -n $raw ]] && cp "$out" "$raw"

echo
echo "Machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1)," \
    "$(free -g | awk '/^Mem:/{print $2}') GiB RAM; $(uname -sr); rustc $(rustc --version | cut -d' ' -f2);" \
    "$("$PY" --version 2>&1), simpy $("$PY" -c 'import simpy; print(simpy.__version__)')."
echo "Medians of $runs run(s) per side; SimPy workloads at scale $scale."
echo
"$PY" bench/report.py "$out"
