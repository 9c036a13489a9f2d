//! Random streams: independent generators derived from the master seed.
//!
//! Each stream is a PCG-64 generator ([`Stream`], `rand_pcg::Pcg64`) whose state and stream
//! selector are derived from `(master seed, key)` with SplitMix64, so streams with different
//! keys are independent and a stream's draws depend only on its key. That is what keeps
//! scenarios comparable (common random numbers): adding a process leaves every other draw
//! unchanged.
//!
//! # A process's own stream: `cx.rng()`
//! [`Context::rng`](crate::Context::rng) is the running process's stream: made on its first
//! use and kept, out of line, for the process's life, so each draw carries on from the last
//! (a process that never draws pays nothing). Its key is fixed when the process is spawned:
//!
//! - a process spawned **with a name** ([`spawn_named`](crate::Simulation::spawn_named)) is
//!   keyed by its name and by how many processes were spawned with that name before it (by
//!   anyone): the first `"tester-1"` gets one stream, a second process named `"tester-1"`
//!   another, and so on. A name is the way to pin a process's draws: they stay the same
//!   whatever is spawned around it, as long as the processes of that name are spawned in the
//!   same order. (The simulation remembers one count per distinct name.)
//! - a process spawned **without a name** is keyed by its spawner's key and by how many
//!   processes that spawner had spawned without a name before it. Processes spawned from
//!   outside any process ([`Simulation::spawn`](crate::Simulation::spawn), or a context from
//!   [`Simulation::context`](crate::Simulation::context)) have one root spawner. So adding a
//!   process, named or spawned by another spawner, does not change anyone's draws; adding
//!   one to the *same* spawner's unnamed spawns shifts the keys of those spawned after it.
//!
//! Outside any process — [`Simulation::rng`](crate::Simulation::rng), or `rng` on a context
//! from [`Simulation::context`](crate::Simulation::context) — there is one more stream, the
//! simulation's own, kept in the simulation and independent of the processes' streams.
//!
//! ```
//! use stepsim::rand_distr::{Distribution, Exp};
//! use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
//!
//! /// Sleeps an exponential time, five times, drawing from its own stream.
//! struct Sleeper { left: u32, slept: Vec<f64> }
//! impl Process<Boxed<()>> for Sleeper {
//!     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, _: Wake<()>) -> Command<()> {
//!         if self.left == 0 {
//!             return Command::Done;
//!         }
//!         self.left -= 1;
//!         let dt = Exp::new(0.5).unwrap().sample(cx.rng());
//!         self.slept.push(dt);
//!         Command::Sleep(dt)
//!     }
//! }
//!
//! let mut sim = Simulation::<Boxed<()>>::new(2024);
//! sim.spawn(Box::new(Sleeper { left: 5, slept: Vec::new() }));
//! sim.run()?;
//! assert!(sim.now() > 0.0); // five different gaps, not one gap five times
//! # Ok::<(), stepsim::Error>(())
//! ```
//!
//! Use the `rand` and `rand_distr` that stepsim re-exports (`stepsim::rand`,
//! `stepsim::rand_distr`): a model that depends on other versions of them gets errors such
//! as "the trait bound `Lcg128Xsl64: Rng` is not satisfied" when it samples from a stream.
//!
//! # Streams for a purpose: `new_stream`
//! [`Simulation::new_stream`](crate::Simulation::new_stream) (`new_stream_named`, and the
//! same on a context) *makes* a stream: a fresh generator at each call, starting from the
//! beginning, so two calls with one key draw the same numbers. Make one per purpose (the
//! arrivals, the service times), keep it, and give each purpose its own key. Their keys are
//! the model's own; the processes' keys are hashed apart from them.
//!
//! ```
//! use stepsim::rand::RngExt;
//! use stepsim::rand_distr::{Distribution, Exp};
//! use stepsim::{Boxed, Simulation};
//!
//! let sim = Simulation::<Boxed<()>>::new(2024);
//! let mut arrivals = sim.new_stream(1);
//! let mut service = sim.new_stream_named("service");
//! let gap = Exp::new(0.5).unwrap().sample(&mut arrivals);
//! let coin: bool = service.random();
//! // Same seed and key, same draws:
//! let mut again = Simulation::<Boxed<()>>::new(2024).new_stream(1);
//! assert_eq!(Exp::new(0.5).unwrap().sample(&mut again), gap);
//! # let _ = coin;
//! ```

/// The generator type of every stream.
pub type Stream = rand_pcg::Pcg64;

const fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn derive_stream(seed: u64, key: u64) -> Stream {
    let mut s = seed ^ splitmix64(&mut key.clone());
    let hi = splitmix64(&mut s) as u128;
    let lo = splitmix64(&mut s) as u128;
    let sel_hi = splitmix64(&mut s) as u128;
    let sel_lo = splitmix64(&mut s) as u128;
    Stream::new((hi << 64) | lo, (sel_hi << 64) | sel_lo)
}

/// FNV-1a, 64 bit: a stable hash of a stream's name.
pub(crate) const fn name_key(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let mut h = 0xcbf2_9ce4_8422_2325_u64;
    let mut i = 0;
    while i < bytes.len() {
        h = (h ^ bytes[i] as u64).wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    h
}

/// Mixes two words into a key of the domain `domain` (SplitMix64 twice).
const fn mix(domain: u64, a: u64, b: u64) -> u64 {
    let mut s = domain ^ a;
    let h = splitmix64(&mut s);
    let mut t = h ^ b;
    splitmix64(&mut t)
}

const CHILD: u64 = name_key("stepsim/child");
const NAMED: u64 = name_key("stepsim/named");

/// The key of the root spawner, the parent of processes spawned from outside any process.
pub(crate) const ROOT_KEY: u64 = name_key("stepsim/root");

/// The key of the simulation's own stream (`Simulation::rng`).
pub(crate) const OUTSIDE_KEY: u64 = name_key("stepsim/outside");

/// The key of the `n`-th process (from 0) spawned without a name by the spawner `parent`.
pub(crate) const fn child_key(parent: u64, n: u64) -> u64 {
    mix(CHILD, parent, n)
}

/// The key of the `n`-th process (from 0) spawned with the name whose hash is `name`.
pub(crate) const fn named_key(name: u64, n: u64) -> u64 {
    mix(NAMED, name, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_key_same_draws_different_keys_differ() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut s = derive_stream(7, 1);
                move |_| s.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut s = derive_stream(7, 1);
                move |_| s.next_u64()
            })
            .collect();
        let c: Vec<u64> = (0..4)
            .map({
                let mut s = derive_stream(7, 2);
                move |_| s.next_u64()
            })
            .collect();
        let d: Vec<u64> = (0..4)
            .map({
                let mut s = derive_stream(8, 1);
                move |_| s.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn process_keys_are_stable_and_apart() {
        // Pinned: changing them would change every model's draws.
        assert_eq!(child_key(ROOT_KEY, 0), 0x11c1_bae5_d04a_d95b);
        assert_eq!(named_key(name_key("a"), 0), 0x7371_3a8b_3cc8_dfb2);
        let keys = [
            child_key(ROOT_KEY, 0),
            child_key(ROOT_KEY, 1),
            child_key(child_key(ROOT_KEY, 0), 0),
            named_key(name_key("a"), 0),
            named_key(name_key("a"), 1),
            named_key(name_key("b"), 0),
            OUTSIDE_KEY,
            ROOT_KEY,
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn name_keys_are_stable() {
        // FNV-1a reference values.
        assert_eq!(name_key(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(name_key("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
