//! What the property-test files share: their proptest settings, delays drawn from a plan,
//! and counting the situations the generated models exercise (a property is only as good as
//! the models it sees). Each test file uses a part of it.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Debug;
use stepsim::Stream;
use stepsim::rand::RngExt;
use stepsim::rand_distr::{Distribution, Exp};

/// Settings for `cases` cases. Failures found are pinned as plain regression tests in the
/// test files, not in a regressions file.
pub fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

thread_local! {
    static COVERAGE: RefCell<BTreeMap<&'static str, u64>> = const { RefCell::new(BTreeMap::new()) };
}

/// Counts a situation worth exercising.
pub fn hit(what: &'static str) {
    COVERAGE.with(|c| *c.borrow_mut().entry(what).or_default() += 1);
}

/// Runs `n` plans drawn deterministically from `plans` (models that record their situations
/// with [`hit`]) and asserts that each of `expected` occurred at least once.
pub fn assert_exercised<P: Strategy>(
    expected: &[&'static str],
    plans: P,
    n: usize,
    mut run: impl FnMut(&P::Value),
) {
    COVERAGE.with(|c| c.borrow_mut().clear());
    let mut runner = TestRunner::deterministic();
    for _ in 0..n {
        run(&plans.new_tree(&mut runner).unwrap().current());
    }
    let coverage = COVERAGE.with(|c| c.borrow().clone());
    eprintln!("{coverage:#?}");
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|what| !coverage.contains_key(what))
        .collect();
    assert!(
        missing.is_empty(),
        "never exercised: {missing:?}\n{coverage:#?}"
    );
}

/// Runs the same plan twice: the traces and the outcome summaries must be identical.
pub fn assert_same_twice<S: PartialEq + Debug>(
    mut run: impl FnMut() -> Result<(String, S), TestCaseError>,
) -> Result<(), TestCaseError> {
    let (trace, summary) = run()?;
    let (trace_again, summary_again) = run()?;
    proptest::prop_assert_eq!(summary, summary_again);
    proptest::prop_assert!(
        trace == trace_again,
        "the traces differ:\n{}\n---\n{}",
        trace,
        trace_again
    );
    Ok(())
}

/// Where a delay comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Delay {
    /// This value (multiples of 0.5, so that events tie).
    Fixed(f64),
    /// A multiple of 0.5 in 0..=2.5 drawn from the process's stream.
    Grid,
    /// Exponential with this mean, drawn from the process's stream.
    Exp(f64),
}

impl Delay {
    /// Draws the delay (from `rng` unless fixed).
    pub fn draw(self, rng: &mut Stream) -> f64 {
        match self {
            Delay::Fixed(d) => d,
            Delay::Grid => f64::from(rng.random_range(0..6u32)) * 0.5,
            Delay::Exp(mean) => Exp::new(1.0 / mean).unwrap().sample(rng),
        }
    }
}

/// Delays: mostly fixed on a half-unit grid (so that events tie), some drawn.
pub fn delay() -> impl Strategy<Value = Delay> {
    prop_oneof![
        3 => (0u32..6).prop_map(|k| Delay::Fixed(f64::from(k) * 0.5)),
        2 => Just(Delay::Grid),
        1 => (1u32..4).prop_map(|m| Delay::Exp(f64::from(m))),
    ]
}

/// A process made of a closure, for small models in tests.
pub struct Closure<C>(pub C);

impl<M, C> stepsim::Process<M> for Closure<C>
where
    M: stepsim::Model,
    C: FnMut(
            &mut stepsim::Context<'_, M>,
            stepsim::Wake<M::Item, M::Cause>,
        ) -> stepsim::Command<M::Item>
        + 'static,
{
    fn step(
        &mut self,
        cx: &mut stepsim::Context<'_, M>,
        wake: stepsim::Wake<M::Item, M::Cause>,
    ) -> stepsim::Command<M::Item> {
        (self.0)(cx, wake)
    }
}

/// A boxed process made of a closure.
pub fn f<M: stepsim::Model>(
    c: impl FnMut(
        &mut stepsim::Context<'_, M>,
        stepsim::Wake<M::Item, M::Cause>,
    ) -> stepsim::Command<M::Item>
    + 'static,
) -> Box<dyn stepsim::Process<M>> {
    Box::new(Closure(c))
}

/// Takes a slot of `r` at once and holds it for `hold`, then finishes (releasing it).
pub fn holder<M: stepsim::Model>(
    r: stepsim::ResourceId,
    hold: f64,
) -> Box<dyn stepsim::Process<M>> {
    use stepsim::{Command, Outcome, Wake};
    f(move |_, w| match w {
        Wake::Started => Command::Acquire(r),
        Wake::Completed(Outcome::Acquired(_)) => Command::Sleep(hold),
        _ => Command::Done,
    })
}
