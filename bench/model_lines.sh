#!/usr/bin/env bash
# Lines of model code: each modeler's example against its SimPy twin.
#
# Counts non-blank, non-comment lines, leaving out lines that only close brackets
# (`}`, `)`, `]`, `});`, `})?;`, `],` …). Comments are `//`, `///` and `//!` lines in Rust;
# `#` lines and docstrings (string literals standing as statements) in Python. A line of
# code with a comment after it counts. Prints rust lines, python lines and their ratio per
# example; the target of the modeler's-API issue is <= 1.5 (at most 2.0).
#
#   bench/model_lines.sh            # the examples of the modeler's-API issue
#   bench/model_lines.sh NAME...    # examples/NAME.rs against examples/simpy/NAME.py
set -euo pipefail
cd "$(dirname "$0")/.."
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(emergency_department breakdowns)
python3 - "${names[@]}" <<'PY'
import io, re, sys, tokenize

CLOSING = re.compile(r"^[)\]}][)\]};,?.]*$")

def rust_lines(path):
    n = 0
    for line in open(path, encoding="utf-8"):
        s = line.strip()
        if s and not s.startswith("//") and not CLOSING.match(s):
            n += 1
    return n

def python_lines(path):
    source = open(path, encoding="utf-8").read()
    skip = set()  # lines of docstrings
    prev = tokenize.NEWLINE
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.STRING and prev in (tokenize.NEWLINE, tokenize.INDENT,
                                                    tokenize.DEDENT, tokenize.NL):
            skip.update(range(tok.start[0], tok.end[0] + 1))
        if tok.type not in (tokenize.COMMENT,):
            prev = tok.type if tok.type != tokenize.NL else prev
    n = 0
    for i, line in enumerate(source.splitlines(), 1):
        s = line.strip()
        if s and not s.startswith("#") and i not in skip and not CLOSING.match(s):
            n += 1
    return n

print(f"{'example':24} {'rust':>6} {'python':>7} {'ratio':>6}")
for name in sys.argv[1:]:
    r, p = rust_lines(f"examples/{name}.rs"), python_lines(f"examples/simpy/{name}.py")
    print(f"{name:24} {r:6} {p:7} {r / p:6.2f}")
PY
