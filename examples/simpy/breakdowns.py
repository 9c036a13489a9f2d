"""Machine breakdowns, in SimPy: the twin of examples/breakdowns.rs.

The same model, parameters, run length and replications as the stepsim example (its module
docs give the details), written as a SimPy user would write it, after SimPy's own machine
shop example. Run with `python3 examples/simpy/breakdowns.py [--reps N]`.
"""
import random
import statistics
import sys

import simpy

MACHINES = 5
PART_MEAN, PART_SD, PART_MIN = 8.0, 1.5, 0.5  # minutes per part, normal, floored
MTTF = 200.0  # mean running time to a breakdown, exponential
REPAIR = (15.0, 45.0)  # uniform
SIDE_JOB = 45.0  # the repairman's other work, at a lower priority
WEEKS = 4
END = WEEKS * 7 * 24 * 60.0


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
        self.parts = [0] * MACHINES
        self.downtime = [0.0] * MACHINES
        self.repairing = self.side_work = 0.0
        self.side_jobs = 0


def machine(env, i, rng, repairman, stats):
    ttf = rng.expovariate(1 / MTTF)  # running time left until the next breakdown
    while True:
        left = max(PART_MIN, rng.normalvariate(PART_MEAN, PART_SD))
        while left > ttf:  # it breaks down before the part is done
            yield env.timeout(ttf)
            left -= ttf
            broke = env.now
            with repairman.request(priority=1) as req:  # the top priority: never preempted
                yield req
                repair = rng.uniform(*REPAIR)
                stats.repairing += repair
                yield env.timeout(repair)
            stats.downtime[i] += env.now - broke
            ttf = rng.expovariate(1 / MTTF)
        yield env.timeout(left)
        ttf -= left
        stats.parts[i] += 1


def side_jobs(env, repairman, stats):
    while True:
        left = SIDE_JOB
        while left:
            with repairman.request(priority=2) as req:
                yield req
                start = env.now
                try:
                    yield env.timeout(left)
                    left = 0
                except simpy.Interrupt:  # preempted by a repair: carry on later
                    left -= env.now - start
                stats.side_work += env.now - start
        stats.side_jobs += 1


def replication(seed):
    rng, env, stats = random.Random(seed), simpy.Environment(), Stats()
    repairman = simpy.PreemptiveResource(env, capacity=1)
    for i in range(MACHINES):
        env.process(machine(env, i, rng, repairman, stats))
    env.process(side_jobs(env, repairman, stats))
    env.run(until=END)
    return {**{f"parts, machine {i + 1}": stats.parts[i] for i in range(MACHINES)},
            "downtime per machine (min)": statistics.mean(stats.downtime),
            "repairman: repairing": stats.repairing / END,
            "repairman: side jobs": stats.side_work / END,
            "side jobs done": stats.side_jobs}


def main():
    reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 100
    results = [replication(seed) for seed in range(reps)]
    print(f"machine breakdowns (SimPy): {reps} replications of {WEEKS} weeks")
    for metric in results[0]:
        values = [r[metric] for r in results]
        half_width = t975(reps - 1) * statistics.stdev(values) / reps**0.5
        print(f"{metric:28}  {statistics.mean(values):.6g} ± {half_width:.6g} (95%, n={reps})")

if __name__ == "__main__":
    main()
