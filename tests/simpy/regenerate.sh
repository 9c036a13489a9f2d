#!/usr/bin/env sh
# Rewrites tests/simpy/traces/*.csv from the SimPy reference models (tests/simpy/models.py).
# The traces are compared with stepsim's by tests/simpy_traces.rs.
set -eu
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import simpy, sys; sys.exit(simpy.__version__ != "4.1.1")' 2>/dev/null; then
    "$PYTHON" -m pip install simpy==4.1.1
fi
mkdir -p traces
for model in $("$PYTHON" models.py --list); do
    "$PYTHON" models.py "$model" > "traces/$model.csv"
    echo "wrote traces/$model.csv"
done
