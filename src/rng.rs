//! Random streams: independent generators derived from the master seed.
//!
//! Each stream is a PCG-64 generator ([`rand_pcg::Pcg64`]) whose state and stream selector
//! are derived from `(master seed, key)` with SplitMix64, so streams with different keys are
//! independent and a stream's draws depend only on its key. Give each process or purpose its
//! own key and adding a process leaves every other draw unchanged.
//!
//! ```
//! use rand::RngExt;
//! use rand_distr::{Distribution, Exp};
//! use stepsim::{Boxed, Simulation};
//!
//! let sim = Simulation::<Boxed<()>>::new(2024);
//! let mut arrivals = sim.stream(1);
//! let mut service = sim.stream_named("service");
//! let gap = Exp::new(0.5).unwrap().sample(&mut arrivals);
//! let coin: bool = service.random();
//! // Same seed and key, same draws:
//! let again = Simulation::<Boxed<()>>::new(2024).stream(1);
//! assert_eq!(Exp::new(0.5).unwrap().sample(&mut again.clone()), gap);
//! # let _ = coin;
//! ```

/// The generator type of every stream.
pub type Stream = rand_pcg::Pcg64;

fn splitmix64(state: &mut u64) -> u64 {
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
pub(crate) fn name_key(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
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
    fn name_keys_are_stable() {
        // FNV-1a reference values.
        assert_eq!(name_key(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(name_key("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
