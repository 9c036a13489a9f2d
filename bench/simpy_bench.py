#!/usr/bin/env python3
"""SimPy's side of the stepsim comparison (bench/compare.sh runs both sides).

    python3 bench/simpy_bench.py MODEL [SCALE] [--count]
    python3 bench/simpy_bench.py memory [N]        # bytes per live sleeping process (tracemalloc)
    python3 bench/simpy_bench.py memory-rss [N]    # the same from ru_maxrss (no tracemalloc)
    python3 bench/simpy_bench.py selfcheck         # wake-up formulas and the mmc copy, scale 1

MODEL is one of timeouts, mmc, pipeline, interrupts, firstof (the five workloads of
simpy_models.py, an unmodified copy of the reference file, default scale 5), w1 (1,000
processes sleeping Exp(1) until t = 1,000 x SCALE, default 10) or w2 (M/M/1, lambda 0.9, mu 1,
100,000 x SCALE customers, default 10).

Prints one line, in the same format as stepsim's side (benches/compare.rs):

    simpy MODEL scale=S events=WAKEUPS seconds=T checksum=... [theory=...]

Events are process wake-ups (generator resumptions). Timing them inside the model would slow
SimPy down, so they are derived from the model's result with the formulas below, which
`selfcheck` verifies against a count made by wrapping every process's generator. The
interrupts model has no closed formula: its wake-ups are counted in a second, untimed run
when --count is given (and printed as events=na otherwise).
"""
import os
import random
import resource
import sys
import time

import simpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simpy_models as ref  # noqa: E402  (the reference workloads, unmodified)


# ----- M/M/c: the reference `mmc`, parameterised, and also returning the waits -----

def mmc_waits(seed, c, lam, mu, n):
    """`simpy_models.mmc` line for line, with (seed, c, lambda, mu, N) as parameters; it also
    returns the list of waits for the Erlang C check. mmc_waits(2, 3, 2.7, 1.0, scale*100_000)
    is exactly the reference mmc (selfcheck verifies it)."""
    env = simpy.Environment(); rng = random.Random(seed); res = simpy.Resource(env, capacity=c)
    waits = []; N = n
    def cust(env):
        t0 = env.now
        with res.request() as req:
            yield req
            waits.append(env.now - t0)
            yield env.timeout(rng.expovariate(mu))
    def src(env):
        for _ in range(N):
            env.process(cust(env))
            yield env.timeout(rng.expovariate(lam))
    env.process(src(env)); env.run()
    return len(waits), sum(waits) / len(waits), waits


def w1(scale):
    # 1,000 processes, each sleeping Exp(1) repeatedly until t = 1,000 * scale
    env = simpy.Environment(); rng = random.Random(6); n = [0]
    def p(env):
        while True:
            yield env.timeout(rng.expovariate(1.0)); n[0] += 1
    for _ in range(1000): env.process(p(env))
    env.run(until=scale * 1000)
    return n[0]


def erlang_c_wait(c, lam, mu):
    """Mean wait in queue of M/M/c: C(c, a) / (c mu - lambda)."""
    a = lam / mu; rho = a / c
    term, total = 1.0, 0.0
    for k in range(c):
        total += term
        term *= a / (k + 1)
    top = term / (1 - rho)
    return top / (total + top) / (c * mu - lam)


def batch_means(x, batches=20):
    n = len(x); size = n // batches
    means = [sum(x[b * size:(b + 1) * size]) / size for b in range(batches)]
    m = sum(means) / batches
    var = sum((v - m) ** 2 for v in means) / (batches - 1)
    return sum(x) / n, (var / batches) ** 0.5


def theory(waits, c, lam, mu):
    mean, se = batch_means(waits)
    wq = erlang_c_wait(c, lam, mu)
    z = (mean - wq) / se
    return f"Wq:{wq:.4f},se:{se:.4f},z:{z:.2f},{'ok' if abs(z) < 3 else 'FAIL'}"


# ----- the models: run, wake-up count, checksum -----
# Each entry: (run(scale) -> result, wakeups(scale, result) or None, checksum(result), theory)

def _mmc(scale):
    return mmc_waits(2, 3, 2.7, 1.0, scale * 100_000)

def _w2(scale):
    return mmc_waits(7, 1, 0.9, 1.0, scale * 100_000)

MODELS = {
    # each of scale*1000 processes: start + 100 timeouts
    "timeouts": (ref.timeouts, lambda s, r: s * 1000 * 101,
                 lambda r: f"n:{r[0]},now:{r[1]:.3f}", None),
    # source: start + N timeouts; customer: start, request, service timeout
    "mmc": (_mmc, lambda s, r: 4 * s * 100_000 + 1,
            lambda r: f"served:{r[0]},mean_wait:{r[1]:.4f}", (3, 2.7, 1.0)),
    # producer 2N+1, 4 stages 3N+1 each, consumer N+1
    "pipeline": (ref.pipeline, lambda s, r: 15 * s * 100_000 + 6,
                 lambda r: f"done:{r[0]},now:{r[1]:.1f}", None),
    "interrupts": (ref.interrupts, None,
                   lambda r: f"finished:{r[0]},interrupts:{r[1]}", None),
    # source N+1; customer: start, first-of, and the service timeout if served
    "firstof": (ref.firstof, lambda s, r: 3 * s * 100_000 + 1 + r[0],
                lambda r: f"served:{r[0]},reneged:{r[1]}", None),
    # each process: start + one wake-up per timeout
    "w1": (w1, lambda s, r: r + 1000, lambda r: f"wakeups:{r}", None),
    "w2": (_w2, lambda s, r: 4 * s * 100_000 + 1,
           lambda r: f"served:{r[0]},mean_wait:{r[1]:.4f}", (1, 0.9, 1.0)),
}


def counted(gen, box):
    """Wraps a process generator, counting its resumptions (wake-ups) in box[0]."""
    box[0] += 1
    try:
        ev = next(gen)
    except StopIteration as stop:
        return stop.value
    while True:
        try:
            value = yield ev
        except GeneratorExit:
            gen.close()
            raise
        except BaseException as exc:
            box[0] += 1
            try:
                ev = gen.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            box[0] += 1
            try:
                ev = gen.send(value)
            except StopIteration as stop:
                return stop.value


def count_wakeups(run, scale):
    """Runs a model with every process generator wrapped by `counted` (untimed)."""
    box = [0]
    original = simpy.Environment.process
    simpy.Environment.process = lambda env, gen: simpy.Process(env, counted(gen, box))
    try:
        result = run(scale)
    finally:
        simpy.Environment.process = original
    return box[0], result


def bench(name, scale, count):
    run, wakeups, checksum, params = MODELS[name]
    t = time.perf_counter()
    result = run(scale)
    dt = time.perf_counter() - t
    line = f"simpy {name} scale={scale}"
    if wakeups is not None:
        events = wakeups(scale, result)
    elif count:
        events, _ = count_wakeups(run, scale)
    else:
        events = "na"
    line += f" events={events} seconds={dt:.4f} checksum={checksum(result)}"
    if params:
        line += f" theory={theory(result[2], *params)}"
    print(line, flush=True)


def _sleepers(n):
    env = simpy.Environment(); rng = random.Random(6)
    def p(env):
        while True:
            yield env.timeout(rng.expovariate(1.0))
    for _ in range(n): env.process(p(env))
    for _ in range(n): env.step()  # every process starts and sleeps
    return env


def memory(n):
    """Bytes per live sleeping process: W1's processes, all started and asleep."""
    import tracemalloc
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    env = _sleepers(n)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(env._queue) == n
    print(f"simpy memory n={n} bytes_per_proc={(current - before) / n:.1f} "
          f"peak_bytes_per_proc={(peak - before) / n:.1f}", flush=True)


def memory_rss(n):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    env = _sleepers(n)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert len(env._queue) == n
    print(f"simpy memory-rss n={n} rss_bytes_per_proc={(after - before) * 1024 / n:.1f}",
          flush=True)


def selfcheck():
    ok = True
    r = ref.mmc(1); mine = mmc_waits(2, 3, 2.7, 1.0, 100_000)
    same = r == mine[:2]
    ok &= same
    print(f"mmc copy == reference mmc: {same} {r} {mine[:2]}")
    for name, (run, wakeups, _, _) in MODELS.items():
        scale = 1
        counted_events, result = count_wakeups(run, scale)
        formula = wakeups(scale, result) if wakeups else None
        good = formula is None or formula == counted_events
        ok &= good
        print(f"{name}: counted={counted_events} formula={formula} {'ok' if good else 'MISMATCH'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not args:
        sys.exit(__doc__)
    name = args[0]
    if name == "selfcheck":
        selfcheck()
    elif name == "memory":
        memory(int(args[1]) if len(args) > 1 else 100_000)
    elif name == "memory-rss":
        memory_rss(int(args[1]) if len(args) > 1 else 100_000)
    elif name in MODELS:
        default = 10 if name in ("w1", "w2") else 5
        bench(name, int(args[1]) if len(args) > 1 else default, "--count" in sys.argv)
    else:
        sys.exit(f"unknown model {name}; one of {', '.join(MODELS)}, memory, memory-rss, selfcheck")
