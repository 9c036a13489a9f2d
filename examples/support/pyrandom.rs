//! A random generator that reproduces CPython's `random` module, draw for draw.
//!
//! Used by the ports of SimPy's example programs (and their tests) so that a port consumes
//! exactly the random numbers the Python program does and prints exactly what it prints. It
//! is not part of stepsim's API: models should use the simulation's independent streams
//! (`cx.rng()`, `sim.new_stream(key)`), which are faster, statistically better and keyed
//! per process or purpose.
//!
//! Include it from an example with
//!
//! ```text
//! #[path = "support/pyrandom.rs"]
//! mod pyrandom;
//! ```
//!
//! What is reproduced (CPython 3.11, `random.Random`):
//! - the Mersenne Twister MT19937 and its seeding by `random.seed(n)` for an integer `n`
//!   (`init_by_array` with `|n|` split into 32-bit words, least significant first);
//! - `random()`: 53 bits from two 32-bit outputs, `(a >> 5, b >> 6)`;
//! - `getrandbits(k)`: 32-bit words, least significant first, the last one truncated;
//! - `randint(a, b)` = `randrange(a, b + 1)`, through `_randbelow_with_getrandbits`
//!   (draw `n.bit_length()` bits, reject while `>= n`);
//! - `choice(seq)` = `seq[_randbelow(len(seq))]`;
//! - `uniform(a, b)` = `a + (b - a) * random()`;
//! - `expovariate(lambd)` = `-log(1.0 - random()) / lambd`;
//! - `normalvariate(mu, sigma)`: Kinderman–Monahan with `NV_MAGICCONST`.
//!
//! `tests/pyrandom.rs` checks every function against values printed by CPython.

// Each example uses only some of these functions.
#![allow(dead_code)]

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// `4 * exp(-0.5) / sqrt(2.0)`, as CPython's `random.NV_MAGICCONST` (the same `f64`).
pub const NV_MAGICCONST: f64 = 1.7155277699214135;

/// CPython's `random.Random`: MT19937 with Python's seeding and derived functions.
#[derive(Clone)]
pub struct PyRandom {
    mt: [u32; N],
    index: usize,
}

impl PyRandom {
    /// A generator in the state of `random.seed(seed)`. Python seeds with `abs(n)`, so a
    /// negative seed `-n` is `PyRandom::new(n)`.
    pub fn new(seed: u128) -> Self {
        let mut words = Vec::with_capacity(4);
        let mut rest = seed;
        while rest != 0 {
            words.push(rest as u32);
            rest >>= 32;
        }
        PyRandom::from_seed_words(&words)
    }

    /// A generator seeded with an integer of any size, given as the 32-bit words of its
    /// absolute value, least significant first (what CPython's `random_seed` passes to
    /// `init_by_array`). No words is the seed 0.
    pub fn from_seed_words(words: &[u32]) -> Self {
        let mut rng = PyRandom {
            mt: [0; N],
            index: N,
        };
        // CPython strips high zero words, but always keeps one word.
        let used = words.iter().rposition(|&w| w != 0).map_or(1, |i| i + 1);
        let mut key = words[..used.min(words.len())].to_vec();
        key.resize(used, 0);
        rng.init_by_array(&key);
        rng
    }

    fn init_genrand(&mut self, seed: u32) {
        self.mt[0] = seed;
        for i in 1..N {
            let prev = self.mt[i - 1];
            self.mt[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        self.index = N;
    }

    fn init_by_array(&mut self, key: &[u32]) {
        self.init_genrand(19_650_218);
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            let prev = self.mt[i - 1];
            self.mt[i] = (self.mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                self.mt[0] = self.mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = self.mt[i - 1];
            self.mt[i] = (self.mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                self.mt[0] = self.mt[N - 1];
                i = 1;
            }
        }
        self.mt[0] = 0x8000_0000; // MSB is 1, assuring a non-zero initial array
    }

    /// Regenerates the 624 words of state.
    fn twist(&mut self) {
        for k in 0..N {
            let y = (self.mt[k] & UPPER_MASK) | (self.mt[(k + 1) % N] & LOWER_MASK);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            self.mt[k] = self.mt[(k + M) % N] ^ (y >> 1) ^ mag;
        }
        self.index = 0;
    }

    /// The next 32-bit output of MT19937 (`genrand_uint32`).
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.twist();
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random.random()`: a float in `[0, 1)` with 53 random bits.
    pub fn random(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `random.getrandbits(k)` for `k <= 128`: an integer of `k` random bits.
    pub fn getrandbits(&mut self, k: u32) -> u128 {
        assert!(k <= 128, "getrandbits: at most 128 bits here (asked {k})");
        if k <= 32 {
            // CPython's fast path; `getrandbits(0)` draws nothing.
            return if k == 0 {
                0
            } else {
                u128::from(self.next_u32() >> (32 - k))
            };
        }
        let mut result = 0u128;
        let mut left = k;
        let mut shift = 0;
        while left > 0 {
            let mut word = self.next_u32();
            if left < 32 {
                word >>= 32 - left; // drop the least significant bits
            }
            result |= u128::from(word) << shift;
            shift += 32;
            left = left.saturating_sub(32);
        }
        result
    }

    /// `random._randbelow(n)` (`_randbelow_with_getrandbits`): an integer in `[0, n)`.
    pub fn randbelow(&mut self, n: u128) -> u128 {
        assert!(n > 0, "randbelow: empty range");
        let k = 128 - n.leading_zeros(); // n.bit_length()
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }

    /// `random.randint(a, b)`: an integer in `[a, b]`, both included.
    pub fn randint(&mut self, a: i64, b: i64) -> i64 {
        assert!(a <= b, "randint: empty range ({a}, {b})");
        let width = (i128::from(b) - i128::from(a) + 1) as u128;
        (i128::from(a) + self.randbelow(width) as i128) as i64
    }

    /// `random.choice(seq)`: one element of a non-empty slice.
    pub fn choice<'a, T>(&mut self, seq: &'a [T]) -> &'a T {
        assert!(
            !seq.is_empty(),
            "choice: cannot choose from an empty sequence"
        );
        &seq[self.randbelow(seq.len() as u128) as usize]
    }

    /// `random.uniform(a, b)`.
    pub fn uniform(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.random()
    }

    /// `random.expovariate(lambd)`: exponential with rate `lambd` (mean `1 / lambd`).
    pub fn expovariate(&mut self, lambd: f64) -> f64 {
        -(1.0 - self.random()).ln() / lambd
    }

    /// `random.normalvariate(mu, sigma)`: normal, by Kinderman and Monahan's
    /// ratio-of-uniforms method (two draws per attempt).
    pub fn normalvariate(&mut self, mu: f64, sigma: f64) -> f64 {
        loop {
            let u1 = self.random();
            let u2 = 1.0 - self.random();
            let z = NV_MAGICCONST * (u1 - 0.5) / u2;
            let zz = z * z / 4.0;
            if zz <= -u2.ln() {
                return mu + z * sigma;
            }
        }
    }
}
