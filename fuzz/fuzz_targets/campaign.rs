//! Fuzzes the random-model campaign: the fuzzer's bytes are the model's choices (see
//! `tests/campaign/driver.rs`). Any failure of the campaign's checks, an engine panic, or
//! two runs of the same bytes that differ, is a crash — except the known engine defects
//! (`driver::KNOWN_DEFECTS`, reproduced in `tests/preemption_news.rs`), so that the fuzzer
//! looks for others; `STEPSIM_FUZZ_KNOWN=1` makes those crash too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

#[path = "../../tests/campaign/driver.rs"]
mod driver;

use driver::{ByteChoices, Config, known_defect, run_model};

/// More failure signatures to ignore, as `|`-separated substrings in `STEPSIM_FUZZ_IGNORE`,
/// so that the fuzzer looks for others.
fn ignored() -> &'static [String] {
    static IGNORED: OnceLock<Vec<String>> = OnceLock::new();
    IGNORED.get_or_init(|| {
        std::env::var("STEPSIM_FUZZ_IGNORE")
            .map(|v| {
                v.split('|')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// Whether the known engine defects crash too (`STEPSIM_FUZZ_KNOWN`).
fn known_crash() -> bool {
    static KNOWN: OnceLock<bool> = OnceLock::new();
    *KNOWN.get_or_init(|| std::env::var_os("STEPSIM_FUZZ_KNOWN").is_some())
}

fuzz_target!(|data: &[u8]| {
    let config = Config::default();
    let first = run_model(Box::new(ByteChoices::new(data)), &config);
    let again = run_model(Box::new(ByteChoices::new(data)), &config);
    let mut problems: Vec<String> = first
        .failures
        .iter()
        .filter(|f| !ignored().iter().any(|s| f.signature.contains(s.as_str())))
        .filter(|f| known_crash() || known_defect(&f.signature).is_none())
        .map(|f| format!("{} (step {})\n    {}", f.signature, f.step, f.detail))
        .collect();
    if first.summary != again.summary || first.trace != again.trace {
        problems.push("the same input gave another run (nondeterminism)".to_owned());
    }
    if !problems.is_empty() {
        panic!("campaign failure:\n{}", problems.join("\n"));
    }
});
