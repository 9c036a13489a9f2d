"""The "orphan request" trap, measured: a naive SimPy transcription of stepsim's team model.

Two coders take jobs from their own queue or the shared queue with `own.get() | shared.get()`
and catch `simpy.Interrupt`, as a newcomer would write them. Nothing cancels a request that
an interrupt or a lost race leaves behind, so:

- discard mode (an interrupter every Exp(5) ticks): an idle coder's pending `shared.get()`
  stays queued after the interrupt, ahead of the coder's next one, and later takes a job
  that nobody receives;
- integration work (t_integration=0.2, no interrupts): when both queues hold a job as the
  coder asks, both gets succeed, the coder keeps one, and the other job is gone.

Every job is counted as in the stepsim example (created = completed + discarded + waiting +
in progress); what is left over was lost. Run: `pip install simpy; python3 docs/orphan_trap.py`.
Compare `cargo run --release --example team -- interrupts=discard --reps 100`, which
accounts for every job.
"""
import random

import simpy


def run(seed, interrupts, t_integration, t_sim=200.0, n_coder=2):
    rng = random.Random(seed)
    env = simpy.Environment()
    shared = simpy.Store(env)
    own = [simpy.Store(env) for _ in range(n_coder)]
    count = dict(created=0, completed=0, discarded=0, in_progress=0)

    def manager():
        while True:
            count["created"] += 1
            yield shared.put(("regular", rng.lognormvariate(0.5, 0.6)))
            yield env.timeout(rng.expovariate(1 / 2.0))

    def coder(me):
        while True:
            job = None
            try:
                mine, any_ = own[me].get(), shared.get()
                got = yield mine | any_
                job = got[mine] if mine in got else got[any_]
                if job[0] == "regular":
                    count["in_progress"] += 1
                yield env.timeout(job[1])
                if job[0] == "regular":
                    count["in_progress"] -= 1
                    count["completed"] += 1
                    if t_integration > 0:
                        for q in own:
                            q.put(("integration", t_integration))
            except simpy.Interrupt:
                if job is not None and job[0] == "regular":
                    count["in_progress"] -= 1
                    count["discarded"] += 1

    def interrupter(coders):
        while True:
            yield env.timeout(rng.expovariate(1 / 5.0))
            rng.choice(coders).interrupt()

    env.process(manager())
    coders = [env.process(coder(i)) for i in range(n_coder)]
    if interrupts:
        env.process(interrupter(coders))
    env.run(until=t_sim)
    waiting = sum(1 for q in [shared, *own] for job in q.items if job[0] == "regular")
    accounted = count["completed"] + count["discarded"] + waiting + count["in_progress"]
    return count["created"], count["created"] - accounted


if __name__ == "__main__":
    for label, interrupts, t_integration in [
        ("interrupts=discard", True, 0.0),
        ("t_integration=0.2", False, 0.2),
    ]:
        created = lost = 0
        for seed in range(100):
            c, l = run(seed, interrupts, t_integration)
            created += c
            lost += l
        print(f"{label}: {lost} of {created} jobs lost over 100 seeds ({100 * lost / created:.1f}%)")
