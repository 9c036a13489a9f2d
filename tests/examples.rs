//! Runs every example program and compares its standard output, byte for byte, with
//! `tests/expected/NAME.txt` (an example may be given arguments, such as a small `--reps`).
//!
//! The test first runs `cargo build --examples` (with the same profile and target
//! directory as its own binary, found from `std::env::current_exe()`: `target/<profile>/
//! deps/examples-…` → `target/<profile>/examples/NAME`). Under a plain `cargo test` the
//! examples are already built and this is a no-op; under `cargo test --test examples` it
//! makes sure no stale example binary is checked.
//!
//! After an intended change of an example's output, regenerate the expected files with
//! `STEPSIM_BLESS=1 cargo test --test examples` and review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `target/<profile>/examples`, after (re)building the examples once per test run.
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("path of the test binary");
        let deps = exe.parent().expect("the test binary lives in deps/");
        let profile_dir = deps.parent().expect("deps/ lives in the profile dir");
        build_examples(profile_dir);
        profile_dir.join("examples")
    })
}

/// Builds every example with the same profile and target directory as this test.
fn build_examples(profile_dir: &Path) {
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => panic!("unexpected target layout: {}", profile_dir.display()),
    };
    let target_dir = profile_dir.parent().expect("a target dir");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // The features this test was built with (an example may need one, such as
    // `checkpoint`'s serde): building with others would rebuild and check other binaries.
    let features: Vec<&str> = [
        ("serde", cfg!(feature = "serde")),
        ("plot", cfg!(feature = "plot")),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--examples", "--profile", profile])
        .arg(format!("--features={}", features.join(",")))
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        .status();
    match status {
        Ok(status) => assert!(status.success(), "building the examples failed"),
        // No cargo to run (the test binary was started by hand): use what is built.
        Err(e) => eprintln!("warning: could not run cargo ({e}); using the built examples"),
    }
}

/// The path of a compiled example.
fn example_binary(name: &str) -> PathBuf {
    let path = examples_dir()
        .join(name)
        .with_extension(std::env::consts::EXE_EXTENSION);
    assert!(path.exists(), "example binary {} not found", path.display());
    path
}

fn expected_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expected")
        .join(format!("{name}.txt"))
}

/// Runs the example (with `args`) and compares its output with the expected file.
fn check(name: &str, args: &[&str]) {
    let output = Command::new(example_binary(name))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running example {name}: {e}"));
    let stdout = String::from_utf8(output.stdout).expect("utf-8 output");
    assert!(
        output.status.success(),
        "example {name} failed ({}):\n{}\n{stdout}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );

    let path = expected_path(name);
    if std::env::var_os("STEPSIM_BLESS").is_some() {
        std::fs::write(&path, &stdout).expect("write the expected file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with STEPSIM_BLESS=1 cargo test --test examples",
            path.display()
        )
    });
    if stdout != expected {
        let line = stdout
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| stdout.lines().count().min(expected.lines().count()));
        panic!(
            "example {name}: output differs from {} at line {}\n\
             expected: {:?}\n\
             actual:   {:?}\n\
             --- full actual output ---\n{stdout}",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            stdout.lines().nth(line),
        );
    }
}

macro_rules! examples {
    ($($name:ident $([$($arg:literal),*])?),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name), &[$($($arg),*)?]);
            }
        )*

        /// Every file in `examples/` has a test above (and so an expected output).
        #[test]
        fn every_example_is_checked() {
            // `checkpoint` needs the serde feature: checked below when it is on.
            let checked = [$(stringify!($name),)* "checkpoint"];
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
            for entry in std::fs::read_dir(dir).expect("examples/") {
                let path = entry.expect("dir entry").path();
                if path.extension().is_some_and(|e| e == "rs") {
                    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                    assert!(
                        checked.contains(&stem.as_str()),
                        "examples/{stem}.rs has no output test in tests/examples.rs"
                    );
                }
            }
        }
    };
}

examples!(
    sleep,
    producer_consumer,
    bounded_queue,
    priority_queue,
    resource_contention,
    renege,
    interrupt_resume,
    // Paced against the wall clock (half a second); the output is in simulated time. Not
    // `--strict` here: a test machine under load may fall behind by more than 25 ms.
    realtime,
    // SimPy 4.1.2's example programs, ported: the expected files are SimPy's own `*.out`.
    bank_renege,
    carwash,
    movie_renege,
    process_communication,
    // The modeler's examples, each with a SimPy twin in `examples/simpy/`; a few
    // replications here (their default is 100).
    emergency_department["--reps", "5"],
    breakdowns["--reps", "5"],
);

/// The team example's shards as separate processes (as a Slurm job array or a Kubernetes
/// indexed Job runs them, see docs/cluster.md): three `--shard K/3 --json` runs, then
/// `--merge`, give byte for byte the JSON of one process. Small, since it runs in debug.
#[test]
fn team_shards_in_three_processes_merge_into_the_one_process_json() {
    let team = example_binary("team");
    let args = [
        "interrupts=none,resume",
        "n_coder=1,2",
        "t_sim=40",
        "--reps",
        "4",
    ];
    let run = |extra: &[&str]| {
        let output = Command::new(&team)
            .args(args)
            .args(extra)
            .output()
            .expect("running the team example");
        assert!(
            output.status.success(),
            "team {extra:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    };
    let dir = std::env::temp_dir().join(format!("stepsim-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let parts: Vec<PathBuf> = (1..=3)
        .map(|k| {
            let path = dir.join(format!("part{k}.json"));
            std::fs::write(&path, run(&["--shard", &format!("{k}/3"), "--json"])).unwrap();
            path
        })
        .collect();
    let merged = Command::new(&team)
        .arg("--merge")
        .args(&parts)
        .arg("--json")
        .output()
        .expect("running the merge");
    assert!(
        merged.status.success(),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let whole = run(&["--json"]);
    assert!(whole.starts_with(b"{\n  \"schema\": \"stepsim-team/1\""));
    assert!(
        merged.stdout == whole,
        "the merged JSON differs from one process's"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The checkpoint example (the serde feature: `cargo test --all-features --test examples
/// checkpoint`, which `.ci/run` runs): its table, and the same table from a second run of
/// the program that restores what a first one saved.
#[cfg(feature = "serde")]
mod checkpoint {
    use super::*;

    #[test]
    fn checkpoint() {
        check("checkpoint", &[]);
    }

    #[test]
    fn a_second_run_restores_what_the_first_saved() {
        let exe = example_binary("checkpoint");
        let file = std::env::temp_dir().join(format!("stepsim-warm-{}.json", std::process::id()));
        let run = |args: &[&std::ffi::OsStr]| {
            let out = Command::new(&exe)
                .args(args)
                .output()
                .expect("running checkpoint");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).expect("utf-8")
        };
        let saved = run(&["--save".as_ref(), file.as_os_str()]);
        assert!(saved.contains("saved to"), "{saved}");
        let restored = run(&["--restore".as_ref(), file.as_os_str()]);
        std::fs::remove_file(&file).ok();
        // The one-process run prints the warm state and the table, then its own check.
        let whole = run(&[]);
        let table: String = whole.lines().take(7).map(|l| format!("{l}\n")).collect();
        assert_eq!(restored, table);
    }
}
