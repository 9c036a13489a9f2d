#!/usr/bin/env bash
# Instruction counts of benches/compare.rs's models under callgrind (deterministic: they do
# not depend on the machine's load), with each model's checksum, as a markdown table.
#
#   bench/instructions.sh                    # every model at scale 1 (~3 minutes)
#   bench/instructions.sh w1 w2              # a subset
#   bench/instructions.sh --base REV [m..]   # also REV's counts (built in a temporary
#                                            # worktree) and the change, side by side
#
# Needs valgrind. Uses $CARGO_TARGET_DIR if set.
set -euo pipefail
cd "$(dirname "$0")/.."

base=""
if [[ "${1:-}" == "--base" ]]; then
    base="$2"
    shift 2
fi
case "${1:-}" in -h|--help) sed -n '2,10p' "$0"; exit 0 ;; esac
models=("$@")
if [[ ${#models[@]} == 0 ]]; then
    models=(w1 w2 mmc firstof pipeline interrupts timeouts bare bare64 barecal)
fi
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 2; }

# The benchmark binary of the tree in $1 (built with cargo's own target directory there).
binary() {
    (cd "$1" && cargo bench --bench compare --no-run --message-format=json 2>/dev/null) |
        python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "compare" and m.get("executable"):
        print(m["executable"])' | tail -1
}

# "instructions checksum" of model $2 run by binary $1 at scale 1.
count() {
    local out
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "$2" 1 >"$out" 2>"$out.err"
    local n
    n=$(grep -o 'refs: *[0-9,]*' "$out.err" | tr -dc '0-9')
    echo "$n $(grep -o 'checksum=.*' "$out" | head -1 | cut -d= -f2- | cut -d' ' -f1)"
    rm -f "$out" "$out.err"
}

now_bin=$(binary .)
if [[ -n "$base" ]]; then
    tmp=$(mktemp -d)
    git worktree add -q --detach "$tmp/base" "$base"
    trap 'git worktree remove --force "$tmp/base"; rm -rf "$tmp"' EXIT
    base_bin=$(binary "$tmp/base")
    echo "| model (scale 1) | $base | now | change | checksum |"
    echo "|---|--:|--:|--:|---|"
else
    echo "| model (scale 1) | instructions | checksum |"
    echo "|---|--:|---|"
fi
for m in "${models[@]}"; do
    read -r n sum < <(count "$now_bin" "$m")
    if [[ -n "$base" ]]; then
        read -r b bsum < <(count "$base_bin" "$m")
        same=$([[ "$sum" == "$bsum" ]] && echo "=" || echo "≠ ($bsum before)")
        python3 -c "b,n=$b,$n; print(f'| $m | {b/1e6:,.1f} M | {n/1e6:,.1f} M | {100*(n-b)/b:+.1f}% | $sum $same |')"
    else
        python3 -c "n=$n; print(f'| $m | {n/1e6:,.1f} M | $sum |')"
    fi
done
