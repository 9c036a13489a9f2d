"""Reference models for stepsim's trace-equality tests, run on SimPy 4.1.1.

Usage: ``python3 tests/simpy/models.py NAME`` prints the trace of model NAME as CSV, in the
exact format of stepsim's ``TraceLog::to_csv()``; ``--list`` prints the model names. The
committed traces in ``tests/simpy/traces/`` are rewritten by ``tests/simpy/regenerate.sh``,
and ``tests/simpy_traces.rs`` ports every model to stepsim and compares the traces.

Every process is a *script*: a list of operations interpreted by ``script()`` below, and the
Rust test interprets the same lists. A process logs ``started`` first, then the kind of every
wake right after each ``yield`` returns (``slept``, ``got``, ``put``, ``acquired``,
``joined``, ``first:<i>``, ``interrupted``), and ``done`` just before it returns.

The ``pid`` column is stepsim's process slot: slots are numbered in spawn order from 0 and
reused once a process's exit event has been processed, most recently freed first (a slab).
``TraceEnv`` reproduces this by freeing a slot after SimPy has processed the process's own
event (whose callbacks resume its joiners).

Where stepsim deliberately differs from SimPy, these models do by hand what stepsim does
automatically, and stay clear of the instants where the two cannot agree:

* A first-of (``req | timeout``, ``store.get() | timeout``, ``store.put(x) | timeout``)
  withdraws its losing branches in stepsim. Naive SimPy leaves the losing request queued
  (an orphan that later takes a slot or an item nobody collects), so ``script()`` cancels it
  explicitly (``req.cancel()`` / ``get.cancel()`` / ``put.cancel()``) as soon as the process
  resumes.
* An interrupt withdraws the interrupted wait in stepsim. Here the ``except Interrupt``
  handler cancels the pending get / put / request explicitly.
* stepsim withdraws losing branches the moment the winner completes, SimPy only when the
  process resumes (one event later); and an interrupt that lands after the wait was already
  satisfied is *queued* by stepsim, while SimPy delivers it and orphans the satisfied request.
  The models avoid both situations; ``script()`` asserts that no losing or interrupted
  request had already been satisfied, so a scenario that strays into them fails loudly here
  instead of producing a trace that stepsim is not meant to reproduce.
* A process that finishes while holding resource slots releases them in stepsim (like a
  ``with res.request()`` block); ``script()`` releases them before returning, in resource
  creation order.

Three models (``join_exited``, ``join_finishing``, ``first_of_join_exited``) are not
workarounds but the smallest cases of a join of a process that has already finished, where
SimPy's order is the least obvious; their Rust tests pin that stepsim follows it.

``preempt_grant_in_flight`` is where stepsim deliberately differs (README): a slot granted to
a process whose wake is still on its way is not preempted until that process has been told.
Its Rust test checks that every other process's trace is SimPy's and that this one differs
exactly as documented.
"""

import sys

import simpy


def fmt_time(t):
    """Rust's `{}` formatting of an f64 for simple values: `3`, `2.5`."""
    s = repr(float(t))
    return s[:-2] if s.endswith(".0") else s


class Me:
    """A process as the script sees it: its slot, its name, its SimPy process."""

    def __init__(self, env, pid, name):
        self.env = env
        self.pid = pid
        self.name = name
        self.proc = None

    def log(self, event):
        self.env.lines.append(f"{fmt_time(self.env.now)},{self.pid},{self.name},{event}")


class TraceEnv(simpy.Environment):
    def __init__(self):
        super().__init__()
        self.lines = ["time,pid,name,event"]
        self.free = []  # freed slots, most recent last
        self.slots = 0
        self.slot_of = {}  # Process -> slot, while the slot is taken
        self.procs = {}  # name -> Me
        self.queues = []
        self.resources = []

    def spawn(self, name, ops):
        assert name not in self.procs, f"process names must be unique: {name}"
        if self.free:
            pid = self.free.pop()
        else:
            pid = self.slots
            self.slots += 1
        me = Me(self, pid, name)
        me.proc = self.process(script(self, me, ops))
        self.slot_of[me.proc] = pid
        self.procs[name] = me
        return me

    def step(self):
        event = self._queue[0][3] if self._queue else None
        super().step()
        # stepsim frees a slot when the process's exit event has been processed.
        if isinstance(event, simpy.Process) and event in self.slot_of:
            self.free.append(self.slot_of.pop(event))

    def store(self, capacity=float("inf")):
        self.queues.append(simpy.Store(self, capacity))

    def resource(self, capacity):
        self.resources.append(simpy.Resource(self, capacity))

    def preemptive_resource(self, capacity):
        self.resources.append(simpy.PreemptiveResource(self, capacity))


def script(env, me, ops):
    """Interprets one process's operations (see the ``OPS`` comment below)."""
    held = []  # (resource index, request) in acquisition order
    me.log("started")
    for op in ops:
        kind, args = op[0], op[1:]
        if kind == "sleep":
            (dt,) = args
            try:
                yield env.timeout(dt)
                me.log("slept")
            except simpy.Interrupt:
                me.log("interrupted")
        elif kind == "sleep_resume":
            (left,) = args
            while True:
                since = env.now
                try:
                    yield env.timeout(left)
                    me.log("slept")
                    break
                except simpy.Interrupt:
                    me.log("interrupted")
                    left = max(left - (env.now - since), 0.0)
        elif kind == "get":
            (q,) = args
            get = env.queues[q].get()
            try:
                yield get
                me.log("got")
            except simpy.Interrupt:
                assert not get.triggered, f"{me.name}: interrupted after its get succeeded"
                get.cancel()
                me.log("interrupted")
        elif kind == "put":
            q, item = args
            put = env.queues[q].put(item)
            try:
                yield put
                me.log("put")
            except simpy.Interrupt:
                assert not put.triggered, f"{me.name}: interrupted after its put succeeded"
                put.cancel()
                me.log("interrupted")
        elif kind == "acquire":
            (r,) = args
            req = env.resources[r].request()
            try:
                yield req
                held.append((r, req))
                me.log("acquired")
            except simpy.Interrupt:
                assert not req.triggered, f"{me.name}: interrupted after its request succeeded"
                req.cancel()
                me.log("interrupted")
        elif kind == "acquire_at":
            # A request with a priority (lower first) that preempts, on a preemptive resource.
            r, level = args
            req = env.resources[r].request(priority=level, preempt=True)
            try:
                yield req
                held.append((r, req))
                me.log("acquired")
            except simpy.Interrupt as i:
                if isinstance(i.cause, simpy.resources.resource.Preempted):
                    # Preempted at `yield req`: the grant was on its way and is gone.
                    me.log("preempted")
                else:
                    assert not req.triggered, f"{me.name}: interrupted after its request succeeded"
                    req.cancel()
                    me.log("interrupted")
        elif kind == "sleep_held":
            # A sleep while holding slots of a preemptive resource: a preemption ends it and
            # the slot is gone (the script forgets it).
            (dt,) = args
            try:
                yield env.timeout(dt)
                me.log("slept")
            except simpy.Interrupt as i:
                assert isinstance(i.cause, simpy.resources.resource.Preempted)
                held[:] = [(hr, q) for hr, q in held if q in env.resources[hr].users]
                me.log("preempted")
        elif kind == "release":
            (r,) = args
            at = next(i for i, (hr, _) in enumerate(held) if hr == r)
            _, req = held.pop(at)
            env.resources[r].release(req)
        elif kind in ("first_get", "first_put", "first_acquire", "first_join"):
            if kind == "first_join":
                name, timeout = args
                request = env.procs[name].proc
            elif kind == "first_get":
                q, timeout = args
                request = env.queues[q].get()
            elif kind == "first_put":
                q, item, timeout = args
                request = env.queues[q].put(item)
            else:
                r, timeout = args
                request = env.resources[r].request()
            timer = env.timeout(timeout)
            cond = request | timer
            try:
                value = yield cond
            except simpy.Interrupt:
                assert not cond.triggered, f"{me.name}: interrupted after its first-of completed"
                if kind != "first_join":
                    request.cancel()
                me.log("interrupted")
                continue
            if request in value:
                if kind == "first_acquire":
                    held.append((r, request))
                me.log("first:0")
            elif kind == "first_join":
                me.log("first:1")
            else:
                assert not request.triggered, f"{me.name}: losing request was satisfied"
                request.cancel()
                me.log("first:1")
        elif kind == "join":
            (name,) = args
            try:
                yield env.procs[name].proc
                me.log("joined")
            except simpy.Interrupt:
                me.log("interrupted")
        elif kind == "spawn":
            name, child_ops = args
            env.spawn(name, child_ops)
        elif kind == "interrupt":
            (name,) = args
            env.procs[name].proc.interrupt("stop")
        else:
            raise ValueError(f"unknown op {op!r}")
    # Slots still held go back as the process finishes (stepsim's Done; SimPy's `with`).
    for r, req in sorted(held, key=lambda h: h[0]):
        env.resources[r].release(req)
    me.log("done")


# OPS: ("sleep", dt) | ("sleep_resume", dt) sleeps the rest after each interrupt
#    | ("get", q) | ("put", q, item) | ("acquire", r) | ("release", r)
#    | ("first_get", q, t) | ("first_put", q, item, t) | ("first_acquire", r, t)
#    | ("first_join", name, t)
#    | ("join", name) | ("spawn", name, ops) | ("interrupt", name)
#    | ("acquire_at", r, level): a preempting request on a preemptive resource
#    | ("sleep_held", dt): a sleep that a preemption ends
# An interrupted wait is abandoned (the script goes on with its next op), except
# "sleep_resume". Queues and resources are numbered in creation order.


def store_unbounded(env):
    """Consumers and producers on an unbounded store, with several puts and gets at once."""
    env.store()
    env.spawn("c1", [("get", 0), ("sleep", 1), ("get", 0), ("sleep", 1)])
    env.spawn("c2", [("get", 0), ("sleep", 0.5), ("get", 0), ("sleep", 0.5)])
    env.spawn(
        "p1",
        [("sleep", 1), ("put", 0, 1), ("put", 0, 2), ("sleep", 1.5), ("put", 0, 3), ("put", 0, 4)],
    )
    env.spawn("p2", [("sleep", 1), ("put", 0, 5)])
    env.spawn("early", [("put", 0, 0)])
    env.spawn("late", [("sleep", 2), ("get", 0), ("get", 0), ("sleep", 0), ("get", 0)])


def store_bounded(env):
    """A store of capacity 2: putters block, and each get lets the head putter in."""
    env.store(2)
    env.spawn("p1", [("put", 0, i) for i in range(1, 6)])
    env.spawn("p2", [("put", 0, 6), ("put", 0, 7)])
    env.spawn(
        "c1",
        [
            ("sleep", 1), ("get", 0), ("get", 0), ("sleep", 1), ("get", 0), ("get", 0),
            ("sleep", 0.5), ("get", 0), ("get", 0),
        ],
    )
    env.spawn("c2", [("sleep", 1), ("get", 0), ("sleep", 2), ("get", 0)])
    env.spawn("p3", [("sleep", 0.5), ("first_put", 0, 8, 0.25), ("first_put", 0, 9, 10)])


def resource(env):
    """A resource of capacity 2 and one of capacity 1, with releases and requests at once;
    u2 and u4 finish while holding slots."""
    env.resource(2)
    env.resource(1)
    env.spawn(
        "u0",
        [("acquire", 0), ("sleep", 3), ("release", 0), ("acquire", 1), ("sleep", 1),
         ("release", 1)],
    )
    env.spawn("u1", [("acquire", 0), ("sleep", 2), ("release", 0)])
    env.spawn(
        "u2", [("acquire", 0), ("sleep", 1), ("release", 0), ("acquire", 0), ("sleep", 1)]
    )
    env.spawn("u3", [("sleep", 1), ("acquire", 0), ("sleep", 2), ("release", 0)])
    env.spawn(
        "u4",
        [("sleep", 1), ("acquire", 1), ("sleep", 2.5), ("release", 1), ("acquire", 0),
         ("acquire", 1), ("sleep", 1)],
    )
    env.spawn("u5", [("sleep", 2), ("acquire", 1), ("sleep", 0.5), ("release", 1)])


def first_of(env):
    """Reneging on a resource and a mailbox with timeouts; losers are withdrawn."""
    env.resource(1)
    env.store()
    env.spawn("holder", [("acquire", 0), ("sleep", 5), ("release", 0)])
    env.spawn("impatient", [("first_acquire", 0, 2), ("sleep", 1)])
    env.spawn("patient", [("sleep", 1), ("first_acquire", 0, 10), ("sleep", 1), ("release", 0)])
    env.spawn("late", [("sleep", 3), ("first_acquire", 0, 1)])
    env.spawn("free", [("sleep", 7), ("first_acquire", 0, 1), ("release", 0)])
    env.spawn("g1", [("first_get", 0, 3), ("first_get", 0, 3), ("first_get", 0, 4)])
    env.spawn("g2", [("sleep", 0.5), ("first_get", 0, 0.25), ("get", 0)])
    env.spawn(
        "sender",
        [("sleep", 1), ("put", 0, 1), ("sleep", 6), ("put", 0, 2), ("put", 0, 3), ("put", 0, 4)],
    )
    env.spawn("g3", [("sleep", 7.5), ("first_get", 0, 0), ("first_get", 0, 0)])


def interrupts(env):
    """Interrupting sleeps (one at the instant it would end, one twice at once), a get, a
    first-of and a join."""
    env.store()
    env.spawn(
        "boss",
        [("sleep", 3), ("interrupt", "sleeper"), ("interrupt", "exact"), ("sleep", 1),
         ("interrupt", "waiter"), ("sleep", 1), ("interrupt", "fo"), ("interrupt", "joiner")],
    )
    env.spawn("sleeper", [("sleep_resume", 10)])
    env.spawn("exact", [("sleep", 3), ("sleep", 1)])
    env.spawn("waiter", [("get", 0), ("sleep", 1), ("get", 0)])
    env.spawn("fo", [("sleep", 0.1), ("first_get", 0, 10), ("sleep", 1)])
    env.spawn("joiner", [("join", "sleeper"), ("join", "sleeper")])
    env.spawn("boss2", [("sleep", 3), ("interrupt", "sleeper")])
    env.spawn("feeder", [("sleep", 5.5), ("put", 0, 1), ("sleep", 1), ("put", 0, 2)])


def interrupted_requests(env):
    """Interrupting a blocked put and a queued resource request: neither takes effect, and
    the processes behind them move up."""
    env.store(1)
    env.resource(1)
    env.spawn("filler", [("put", 0, 1)])
    env.spawn("bp", [("put", 0, 2), ("sleep", 2), ("put", 0, 3)])
    env.spawn("bp2", [("sleep", 0.5), ("put", 0, 4)])
    env.spawn("c", [("sleep", 2), ("get", 0), ("sleep", 0.5), ("get", 0), ("get", 0)])
    env.spawn("h", [("acquire", 0), ("sleep", 3), ("release", 0)])
    env.spawn("w1", [("acquire", 0), ("acquire", 0), ("sleep", 1)])
    env.spawn("w2", [("acquire", 0), ("sleep", 1), ("release", 0)])
    env.spawn("boss", [("sleep", 1), ("interrupt", "bp"), ("interrupt", "w1")])


def join(env):
    """Joining running children, two joiners on one process, and slot reuse by processes
    spawned after others have exited."""
    env.spawn(
        "parent",
        [("spawn", "kid1", [("sleep", 2)]), ("spawn", "kid2", [("sleep", 1)]),
         ("join", "kid1"), ("spawn", "kid3", [("sleep", 1)]), ("join", "kid3"),
         ("spawn", "kid4", [("sleep", 0)]), ("join", "kid4")],
    )
    env.spawn("fan", [("sleep", 0.5), ("join", "kid1"), ("sleep", 0), ("join", "kid3")])
    env.spawn("watcher", [("sleep", 2), ("sleep", 0)])
    env.spawn("spawner", [("sleep", 1.5), ("spawn", "kid5", [("sleep", 1.5)]), ("join", "kid5")])


def same_instant(env):
    """Everything at t=0 and t=1: urgent starts of spawned processes, yields, puts that feed
    getters queued before them, and a release and a request in the same step."""
    env.store()
    env.store(1)
    env.resource(1)
    env.spawn("a", [("put", 0, 1), ("sleep", 0), ("put", 0, 2), ("get", 1), ("sleep", 0)])
    env.spawn("b", [("get", 0), ("put", 1, 10), ("put", 1, 11), ("sleep", 0)])
    env.spawn("c", [("get", 0), ("spawn", "d", [("get", 0), ("acquire", 0)]), ("sleep", 0)])
    env.spawn(
        "e",
        [("acquire", 0), ("put", 0, 3), ("sleep", 1), ("release", 0), ("acquire", 0),
         ("put", 0, 4)],
    )
    env.spawn("f", [("sleep", 1), ("get", 1), ("sleep", 0), ("acquire", 0)])
    env.spawn("g", [("sleep", 1), ("sleep", 0), ("sleep", 0), ("get", 0)])


def preempt_grant_in_flight(env):
    """A slot granted to `b` is taken by a better request before `b`'s wake is processed.
    SimPy preempts `b` at once: `b` never sees the grant and is interrupted at its request.
    stepsim does not preempt a process that has not yet been told it holds the slot: `b`
    wakes with `acquired`, starts its sleep, and is preempted then, at the same instant (see
    README "Where stepsim deliberately differs"; tests/simpy_traces.rs checks this one
    difference)."""
    env.preemptive_resource(1)
    env.spawn("a", [("acquire_at", 0, 0), ("sleep", 1), ("release", 0)])
    env.spawn("b", [("acquire_at", 0, 5), ("sleep_held", 3)])
    env.spawn("c", [("sleep", 1), ("sleep", 0), ("sleep", 0), ("acquire_at", 0, 1), ("sleep", 2)])


def join_exited(env):
    """Joining a process whose exit has already been processed. SimPy's Process._resume sees
    the process event already processed and continues *synchronously*, in the same step,
    ahead of `other`, whose timer is also due at t=2."""
    env.spawn("kid", [("sleep", 1)])
    env.spawn("parent", [("sleep", 2), ("join", "kid")])
    env.spawn("other", [("sleep", 2)])


def join_finishing(env):
    """Joining a process that has returned but whose exit event is still pending: SimPy
    resumes the joiner from that exit event, before `y`'s zero sleep scheduled after it."""
    env.spawn("kid", [("sleep", 1)])
    env.spawn("y", [("sleep", 1), ("sleep", 0)])
    env.spawn("parent", [("sleep", 1), ("join", "kid")])


def first_of_join_exited(env):
    """A first-of whose join branch names a process that has already exited. SimPy's
    Condition sees the process event processed and triggers at once: the process resumes one
    event later, ahead of `other`'s zero sleep."""
    env.spawn("kid", [("sleep", 1)])
    env.spawn("parent", [("sleep", 2), ("first_join", "kid", 5)])
    env.spawn("other", [("sleep", 2), ("sleep", 0)])


MODELS = {
    f.__name__: f
    for f in [
        store_unbounded,
        store_bounded,
        resource,
        first_of,
        interrupts,
        interrupted_requests,
        join,
        same_instant,
        join_exited,
        join_finishing,
        first_of_join_exited,
        preempt_grant_in_flight,
    ]
}


def run(name):
    env = TraceEnv()
    MODELS[name](env)
    env.run()
    return "\n".join(env.lines) + "\n"


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} NAME | --list   (models: {', '.join(MODELS)})")
    if argv[1] == "--list":
        print("\n".join(MODELS))
    elif argv[1] in MODELS:
        sys.stdout.write(run(argv[1]))
    else:
        sys.exit(f"unknown model {argv[1]!r}; models: {', '.join(MODELS)}")


if __name__ == "__main__":
    main(sys.argv)
