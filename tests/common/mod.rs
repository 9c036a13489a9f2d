//! What the property-test files share: their proptest settings, and counting the situations
//! the generated models exercise (a property is only as good as the models it sees).

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Debug;

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
