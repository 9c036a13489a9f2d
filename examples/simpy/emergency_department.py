"""Emergency department, in SimPy: the twin of examples/emergency_department.rs.

The same model, parameters, run length, warm-up and replications as the stepsim example
(its module docs give the details), written as a SimPy user would write it. Run with
`python3 examples/simpy/emergency_department.py [--reps N]`.
"""
import random
import statistics
import sys

import simpy

ARRIVAL_MEAN = 5.0  # minutes between arrivals, exponential
TRIAGE = (2.0, 4.0)  # uniform
CLASSES = ["critical", "urgent", "routine"]
P_CLASS = [0.1, 0.3, 0.6]
TREATMENT_MEAN = [15.0, 10.0, 7.0]  # exponential
CRITICAL, ROUTINE = 0, 2
PATIENCE = 60.0  # routine patients leave after waiting this long for a doctor
HANDOVER_EVERY, HANDOVER_TAKES = 480.0, 10.0
DAY = 1440.0
WARMUP, END = DAY, 30 * DAY


def t975(df):
    """The 0.975 quantile of Student's t: scipy's, else Hill's expansion (within 1e-4 for df >= 29)."""
    try:
        from scipy.stats import t
        return t.ppf(0.975, df)
    except ImportError:
        z = statistics.NormalDist().inv_cdf(0.975)
        return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


class Stats:
    def __init__(self):
        self.waits = [[] for _ in CLASSES]
        self.reneged = 0
        self.samples = []  # (nurse busy, nurse queue, doctors busy, doctors queue) each minute


def arrivals(env, rng, nurse, doctors, stats):
    while True:
        yield env.timeout(rng.expovariate(1 / ARRIVAL_MEAN))
        env.process(patient(env, rng, nurse, doctors, stats))


def patient(env, rng, nurse, doctors, stats):
    with nurse.request() as req:
        yield req
        yield env.timeout(rng.uniform(*TRIAGE))
    c = rng.choices(range(len(CLASSES)), P_CLASS)[0]
    left = rng.expovariate(1 / TREATMENT_MEAN[c])
    queued, first = env.now, True
    while left > 0:
        with doctors.request(priority=c + 1, preempt=c == CRITICAL) as req:
            if first and c == ROUTINE:
                got = yield req | env.timeout(PATIENCE)
                if req not in got:
                    stats.reneged += env.now >= WARMUP
                    return
            else:
                yield req
            if first and env.now >= WARMUP:
                stats.waits[c].append(env.now - queued)
            first = False
            try:
                start = env.now
                yield env.timeout(left)
                left = 0
            except simpy.Interrupt:  # preempted: carry on with what is left
                left -= env.now - start


def handover(env, doctors):
    """Every 480 minutes, takes both doctors for 10 (preempting whoever they treat)."""
    while True:
        yield env.timeout(HANDOVER_EVERY - env.now % HANDOVER_EVERY)
        with doctors.request(priority=0) as a, doctors.request(priority=0) as b:
            yield a & b
            yield env.timeout(HANDOVER_TAKES)


def sampler(env, nurse, doctors, stats):
    while True:
        yield env.timeout(1.0)
        if env.now > WARMUP:
            stats.samples.append(
                (nurse.count, len(nurse.queue), doctors.count / 2, len(doctors.queue)))


def replication(seed):
    rng, env, stats = random.Random(seed), simpy.Environment(), Stats()
    nurse, doctors = simpy.Resource(env, 1), simpy.PreemptiveResource(env, 2)
    env.process(arrivals(env, rng, nurse, doctors, stats))
    env.process(handover(env, doctors))
    env.process(sampler(env, nurse, doctors, stats))
    env.run(until=END)
    means = [statistics.mean(column) for column in zip(*stats.samples)]
    return {**{f"wait for a doctor, {name}": statistics.mean(stats.waits[c])
               for c, name in enumerate(CLASSES)},
            "reneged (routine)": stats.reneged,
            "nurse utilization": means[0], "nurse queue": means[1],
            "doctors utilization": means[2], "doctors queue": means[3]}


def main():
    reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 100
    results = [replication(seed) for seed in range(reps)]
    print(f"emergency department (SimPy): {reps} replications of 30 days, 1 day warm-up")
    for metric in results[0]:
        values = [r[metric] for r in results]
        half_width = t975(reps - 1) * statistics.stdev(values) / reps**0.5
        print(f"{metric:28}  {statistics.mean(values):.6g} ± {half_width:.6g} (95%, n={reps})")

if __name__ == "__main__":
    main()
