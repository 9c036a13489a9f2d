//! stepsim (the project, a path dependency set by run.sh): processes are explicit state
//! machines. Each workload is its own `stepsim::Model` whose processes are one
//! enum (W1: one struct, its only process kind) with static dispatch, no `Box`.
//!
//! * W1: 1,000 `Sleeper`s, each a plain `Command::Sleep(d)` loop that ends with
//!   `Command::Done` when `now + d` would pass the horizon.
//! * W2/W3: a `Source` process (stream 0) sleeps the inter-arrival time, draws
//!   the service time and spawns a `Customer`; customers take a slot of
//!   stepsim's own `sim.resource(c)` with `Command::Acquire`, sleep the service
//!   time and give it back with `cx.release`.
//! * W4: the same, and a customer waits with
//!   `Command::first_of([Command::Acquire(r), Command::Sleep(patience)])`: the engine
//!   withdraws the losing branch (no slot taken, no stale timer).
//!
//! With `STEPSIM_PEERS_SERVERS=1` in the environment, W2/W3 are modelled the way the
//! callback engine models them instead: no process per customer, `c` `Server` processes
//! that `Command::Get` `(arrival, service)` items from a queue the source fills with
//! `cx.try_put` (three steps per customer instead of four, no spawn, no resource). The row
//! is then labelled so; the default is the process-per-customer model above
//! (docs/performance.md compares the two).
//!
//! The run ends when nothing is scheduled (`sim.run()`). The processes draw
//! from the harness's streams (`model::stream`, `model::draw`), never from
//! stepsim's own `Stream`s, so the checksums equal the bare loop's.

use std::cell::Cell;
use std::rc::Rc;

use rand_distr::Exp;
use stepsim::Outcome as Done;
use stepsim::{
    Capacity, Command, Context, First, Model, Process, QueueId, ResourceId, Simulation, Wake,
};

use super::{Engine, RunResult};
use crate::model::{Mmc, Outcome, Renege, SimRng, SleepLoop, draw};

pub struct StepSim;

fn unwrap_run(r: Result<stepsim::Ended, stepsim::Error>) {
    if let Err(e) = r {
        panic!("stepsim run failed: {e}");
    }
}

/// What the customers of W2-W4 count, shared with the caller.
#[derive(Default)]
struct Tally {
    served: Cell<u64>,
    reneged: Cell<u64>,
    wait_sum: Cell<f64>,
}

// ----- W1: sleep loop -----

struct SleepModel;

impl Model for SleepModel {
    type Item = ();
    type Cause = ();
    type Proc = Sleeper;
}

/// Sleeps Exp(mean) again and again until the next wake-up would pass the
/// horizon; adds its wake-ups to the shared total when it finishes.
struct Sleeper {
    rng: SimRng,
    dist: Exp<f64>,
    horizon: f64,
    wakeups: u64,
    total: Rc<Cell<u64>>,
}

impl Process<SleepModel> for Sleeper {
    fn step(&mut self, cx: &mut Context<'_, SleepModel>, wake: Wake<()>) -> Command<()> {
        if let Wake::Completed(Done::Slept) = wake {
            self.wakeups += 1;
        }
        let d = draw(&self.dist, &mut self.rng);
        if cx.now() + d > self.horizon {
            self.total.set(self.total.get() + self.wakeups);
            return Command::Done;
        }
        Command::Sleep(d)
    }
}

// ----- W2/W3: M/M/c with a resource -----

struct MmcModel;

impl Model for MmcModel {
    type Item = ();
    type Cause = ();
    type Proc = MmcProc;
}

enum MmcProc {
    /// The arrival generator (stream 0): sleeps ia_k, draws s_k, spawns customer k.
    Source {
        rng: SimRng,
        ia: Exp<f64>,
        svc: Exp<f64>,
        left: u64,
        server: ResourceId,
        tally: Rc<Tally>,
    },
    Customer {
        server: ResourceId,
        arrival: f64,
        service: f64,
        tally: Rc<Tally>,
    },
}

impl Process<MmcModel> for MmcProc {
    fn step(&mut self, cx: &mut Context<'_, MmcModel>, wake: Wake<()>) -> Command<()> {
        match self {
            MmcProc::Source {
                rng,
                ia,
                svc,
                left,
                server,
                tally,
            } => {
                if let Wake::Completed(Done::Slept) = wake {
                    let service = draw(svc, rng);
                    cx.spawn(MmcProc::Customer {
                        server: *server,
                        arrival: cx.now(),
                        service,
                        tally: tally.clone(),
                    });
                    *left -= 1;
                }
                if *left == 0 {
                    return Command::Done;
                }
                Command::Sleep(draw(ia, rng))
            }
            MmcProc::Customer {
                server,
                arrival,
                service,
                tally,
            } => match wake {
                Wake::Started => Command::Acquire(*server),
                Wake::Completed(Done::Acquired(_)) => {
                    tally.served.set(tally.served.get() + 1);
                    tally
                        .wait_sum
                        .set(tally.wait_sum.get() + (cx.now() - *arrival));
                    Command::Sleep(*service)
                }
                Wake::Completed(Done::Slept) => {
                    cx.release(*server);
                    Command::Done
                }
                other => unreachable!("a customer never gets {:?}", other.kind()),
            },
        }
    }
}

// ----- W2/W3 as server processes (STEPSIM_PEERS_SERVERS=1) -----

struct ServersModel;

impl Model for ServersModel {
    /// A customer: (arrival time, service time).
    type Item = (f64, f64);
    type Cause = ();
    type Proc = ServersProc;
}

enum ServersProc {
    /// The arrival generator (stream 0): sleeps ia_k, draws s_k, puts customer k in line.
    Source {
        rng: SimRng,
        ia: Exp<f64>,
        svc: Exp<f64>,
        left: u64,
        line: QueueId,
    },
    /// One server: gets the next customer, serves it, again.
    Server { line: QueueId, tally: Rc<Tally> },
}

impl Process<ServersModel> for ServersProc {
    fn step(
        &mut self,
        cx: &mut Context<'_, ServersModel>,
        wake: Wake<(f64, f64)>,
    ) -> Command<(f64, f64)> {
        match self {
            ServersProc::Source {
                rng,
                ia,
                svc,
                left,
                line,
            } => {
                if let Wake::Completed(Done::Slept) = wake {
                    let service = draw(svc, rng);
                    if cx.try_put(*line, (cx.now(), service)).is_err() {
                        unreachable!("the line is unbounded");
                    }
                    *left -= 1;
                }
                if *left == 0 {
                    return Command::Done;
                }
                Command::Sleep(draw(ia, rng))
            }
            ServersProc::Server { line, tally } => match wake {
                Wake::Completed(Done::Got((arrival, service))) => {
                    tally.served.set(tally.served.get() + 1);
                    tally
                        .wait_sum
                        .set(tally.wait_sum.get() + (cx.now() - arrival));
                    Command::Sleep(service)
                }
                _ => Command::Get(*line),
            },
        }
    }
}

fn servers(p: &Mmc) -> RunResult {
    let mut sim = Simulation::<ServersModel>::new(p.seed);
    let line = sim.queue(Capacity::Unbounded).expect("a queue");
    let tally = Rc::new(Tally::default());
    // The servers first: at t = 0 they wait in line before the first customer arrives.
    for _ in 0..p.servers {
        sim.spawn(ServersProc::Server {
            line,
            tally: tally.clone(),
        });
    }
    sim.spawn(ServersProc::Source {
        rng: p.rng(),
        ia: p.interarrival(),
        svc: p.service(),
        left: p.customers,
        line,
    });
    unwrap_run(sim.run());
    let served = tally.served.get();
    Ok(Outcome {
        work: served,
        wait_sum: Some(tally.wait_sum.get()),
        served: Some(served),
        reneged: None,
    })
}

fn servers_style() -> bool {
    std::env::var_os("STEPSIM_PEERS_SERVERS").is_some_and(|v| v == "1")
}

// ----- W4: renege with first-of -----

struct RenegeModel;

impl Model for RenegeModel {
    type Item = ();
    type Cause = ();
    type Proc = RenegeProc;
}

enum RenegeProc {
    /// The arrival generator (stream 0): sleeps ia_k, draws patience_k and s_k,
    /// spawns customer k.
    Source {
        rng: SimRng,
        ia: Exp<f64>,
        pat: Exp<f64>,
        svc: Exp<f64>,
        left: u64,
        servers: ResourceId,
        tally: Rc<Tally>,
    },
    Customer {
        servers: ResourceId,
        patience: f64,
        service: f64,
        tally: Rc<Tally>,
    },
}

impl Process<RenegeModel> for RenegeProc {
    fn step(&mut self, cx: &mut Context<'_, RenegeModel>, wake: Wake<()>) -> Command<()> {
        match self {
            RenegeProc::Source {
                rng,
                ia,
                pat,
                svc,
                left,
                servers,
                tally,
            } => {
                if let Wake::Completed(Done::Slept) = wake {
                    let patience = draw(pat, rng);
                    let service = draw(svc, rng);
                    cx.spawn(RenegeProc::Customer {
                        servers: *servers,
                        patience,
                        service,
                        tally: tally.clone(),
                    });
                    *left -= 1;
                }
                if *left == 0 {
                    return Command::Done;
                }
                Command::Sleep(draw(ia, rng))
            }
            RenegeProc::Customer {
                servers,
                patience,
                service,
                tally,
            } => match wake {
                // A free server wins at once (branches are tried in order).
                Wake::Started => {
                    Command::first_of([Command::Acquire(*servers), Command::Sleep(*patience)])
                }
                Wake::First(First { index: 0, .. }) => {
                    tally.served.set(tally.served.get() + 1);
                    Command::Sleep(*service)
                }
                Wake::First(_) => {
                    // Patience ran out; the Acquire was withdrawn, no slot held.
                    tally.reneged.set(tally.reneged.get() + 1);
                    Command::Done
                }
                Wake::Completed(Done::Slept) => {
                    cx.release(*servers);
                    Command::Done
                }
                other => unreachable!("a customer never gets {:?}", other.kind()),
            },
        }
    }
}

impl Engine for StepSim {
    fn name(&self) -> &'static str {
        if servers_style() {
            "stepsim 0.1 (main; W2/W3 as server processes)"
        } else {
            "stepsim 0.1 (main)"
        }
    }

    fn describe(&self) -> &'static str {
        "state-machine processes, one enum per model (static dispatch); W1 Sleep loop; W2/W3 Acquire + cx.release on sim.resource(c); W4 Command::first_of([Acquire, Sleep(patience)])"
    }

    fn sleep_loop(&self, p: &SleepLoop) -> RunResult {
        let mut sim = Simulation::<SleepModel>::new(p.seed);
        let total = Rc::new(Cell::new(0u64));
        for i in 0..p.processes {
            sim.spawn(Sleeper {
                rng: p.rng(i),
                dist: p.dist(),
                horizon: p.horizon,
                wakeups: 0,
                total: total.clone(),
            });
        }
        unwrap_run(sim.run());
        Ok(Outcome {
            work: total.get(),
            ..Outcome::default()
        })
    }

    fn mmc(&self, p: &Mmc) -> RunResult {
        if servers_style() {
            return servers(p);
        }
        let mut sim = Simulation::<MmcModel>::new(p.seed);
        let server = sim.resource(p.servers).expect("capacity >= 1");
        let tally = Rc::new(Tally::default());
        sim.spawn(MmcProc::Source {
            rng: p.rng(),
            ia: p.interarrival(),
            svc: p.service(),
            left: p.customers,
            server,
            tally: tally.clone(),
        });
        unwrap_run(sim.run());
        let served = tally.served.get();
        Ok(Outcome {
            work: served,
            wait_sum: Some(tally.wait_sum.get()),
            served: Some(served),
            reneged: None,
        })
    }

    fn renege(&self, p: &Renege) -> RunResult {
        let mut sim = Simulation::<RenegeModel>::new(p.seed);
        let servers = sim.resource(p.servers).expect("capacity >= 1");
        let tally = Rc::new(Tally::default());
        sim.spawn(RenegeProc::Source {
            rng: p.rng(),
            ia: p.interarrival(),
            pat: p.patience(),
            svc: p.service(),
            left: p.customers,
            servers,
            tally: tally.clone(),
        });
        unwrap_run(sim.run());
        let (served, reneged) = (tally.served.get(), tally.reneged.get());
        Ok(Outcome {
            work: served + reneged,
            wait_sum: None,
            served: Some(served),
            reneged: Some(reneged),
        })
    }
}
