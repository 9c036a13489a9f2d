//! What the property-test files share: their proptest settings, and counting the situations
//! the generated models exercise (a property is only as good as the models it sees).

use proptest::test_runner::Config as ProptestConfig;
use std::cell::RefCell;
use std::collections::BTreeMap;

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

/// Runs `sample` (models that record their situations with [`hit`]) and asserts that each
/// of `expected` occurred at least once.
pub fn assert_exercised(expected: &[&'static str], sample: impl FnOnce()) {
    COVERAGE.with(|c| c.borrow_mut().clear());
    sample();
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
