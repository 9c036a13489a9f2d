//! The Python-compatible generator used by the ports of SimPy's examples
//! (`examples/support/pyrandom.rs`), checked against CPython 3.11.
//!
//! Every expected value below was printed by CPython's `random` module (`random.Random(seed)`
//! and the named method). Most checks end with one more `getrandbits(32)`: it proves that the
//! function consumed exactly as many words of the Mersenne Twister as CPython's did
//! (rejection loops included).

#[path = "../examples/support/pyrandom.rs"]
mod pyrandom;

use pyrandom::PyRandom;

/// Floats compare bit for bit: the ports print them, and Python's `%7.4f` of a value one
/// ulp off can differ.
fn assert_floats(actual: &[f64], expected: &[f64]) {
    let a: Vec<u64> = actual.iter().map(|x| x.to_bits()).collect();
    let e: Vec<u64> = expected.iter().map(|x| x.to_bits()).collect();
    assert_eq!(a, e, "\nactual:   {actual:?}\nexpected: {expected:?}");
}

fn words(rng: &mut PyRandom, n: usize) -> Vec<u32> {
    (0..n).map(|_| rng.getrandbits(32) as u32).collect()
}

#[test]
fn reference_values_from_the_issue() {
    let mut rng = PyRandom::new(42);
    assert_eq!(
        words(&mut rng, 5),
        [2746317213, 478163327, 107420369, 3184935163, 1181241943]
    );
    let mut rng = PyRandom::new(42);
    let draws: Vec<f64> = (0..3).map(|_| rng.random()).collect();
    assert_floats(
        &draws,
        &[
            0.6394267984578837,
            0.025010755222666936,
            0.27502931836911926,
        ],
    );
}

#[test]
fn seeding_matches_random_seed_for_small_and_large_ints() {
    // (seed, first three getrandbits(32), the 704th after skipping 700 more).
    let cases: [(u128, [u32; 3], u32); 8] = [
        (0, [3626764237, 1654615998, 3255389356], 2727582523),
        (1, [577090037, 2444712010, 3639700191], 2678030544),
        (42, [2746317213, 478163327, 107420369], 1422277848),
        (
            (1 << 32) - 1,
            [2728839433, 2661025012, 872737089],
            2407933903,
        ),
        (1 << 32, [485306839, 1508871100, 1794561286], 280212816),
        (
            (1 << 64) + 12345,
            [2632172, 2355889752, 3906953032],
            1183005747,
        ),
        (
            (1 << 100) + 7,
            [1786885132, 353954449, 1403444918],
            2609712062,
        ),
        (u128::MAX, [1009630920, 3360221056, 3623212703], 799480561),
    ];
    for (seed, first, after) in cases {
        let mut rng = PyRandom::new(seed);
        assert_eq!(words(&mut rng, 3), first, "seed {seed}");
        // Crosses a regeneration of the 624-word state.
        words(&mut rng, 700);
        assert_eq!(rng.getrandbits(32) as u32, after, "seed {seed}");
    }
}

#[test]
fn seeds_wider_than_128_bits_and_negative_seeds() {
    // random.seed(2**160 + 3 * 2**96 + 99): words least significant first.
    let mut rng = PyRandom::from_seed_words(&[99, 0, 0, 3, 0, 1]);
    assert_eq!(words(&mut rng, 3), [3287934124, 821801725, 649373808]);
    // High zero words are ignored, as CPython strips them.
    let mut padded = PyRandom::from_seed_words(&[42, 0, 0]);
    assert_eq!(padded.getrandbits(32), 2746317213);
    // No words is the seed 0.
    assert_eq!(PyRandom::from_seed_words(&[]).getrandbits(32), 3626764237);
    // random.seed(-7) is random.seed(7).
    assert_eq!(PyRandom::new(7).getrandbits(32), 1390851128);
}

#[test]
fn random_floats() {
    let mut rng = PyRandom::new(2024);
    let draws: Vec<f64> = (0..5).map(|_| rng.random()).collect();
    assert_floats(
        &draws,
        &[
            0.47009071843107064,
            0.7282642914232076,
            0.3037513583913575,
            0.8872982690000151,
            0.41008858946872573,
        ],
    );
}

#[test]
fn getrandbits_of_every_width() {
    let mut rng = PyRandom::new(42);
    let expected: [(u32, u128); 11] = [
        (0, 0),
        (1, 1),
        (7, 14),
        (31, 53710184),
        (32, 3184935163),
        (33, 1181241943),
        (53, 1256845828445918),
        (64, 1890702223848595625),
        (65, 32109652365136375149),
        (100, 522152611743920550222071931956),
        (128, 74398647854038315266630252853664606451),
    ];
    for (k, value) in expected {
        assert_eq!(rng.getrandbits(k), value, "getrandbits({k})");
    }
    assert_eq!(rng.getrandbits(32), 999270936);
}

#[test]
fn randint_small_ranges() {
    let mut rng = PyRandom::new(7);
    let dice: Vec<i64> = (0..12).map(|_| rng.randint(1, 6)).collect();
    assert_eq!(dice, [3, 2, 4, 6, 1, 1, 5, 1, 3, 5, 1, 5]);
    assert_eq!(rng.getrandbits(32), 922121676);

    let mut rng = PyRandom::new(7);
    let dirt: Vec<i64> = (0..8).map(|_| rng.randint(50, 99)).collect();
    assert_eq!(dirt, [70, 59, 75, 91, 53, 54, 84, 56]);

    // n = 5 draws 3 bits and rejects 5, 6 and 7.
    let mut rng = PyRandom::new(9);
    let draws: Vec<i64> = (0..10).map(|_| rng.randint(0, 4)).collect();
    assert_eq!(draws, [3, 4, 2, 2, 1, 1, 0, 2, 4, 3]);
    assert_eq!(rng.getrandbits(32), 3858160413);

    // A one-value range still draws one bit per call, as CPython does.
    let mut rng = PyRandom::new(9);
    let draws: Vec<i64> = (0..3).map(|_| rng.randint(3, 3)).collect();
    assert_eq!(draws, [3, 3, 3]);
    assert_eq!(rng.getrandbits(32), 595022250);
}

#[test]
fn randint_large_ranges_with_rejection() {
    let mut rng = PyRandom::new(123);
    let draws: Vec<i64> = (0..5)
        .map(|_| rng.randint(-1_000_000_000_000, 1_000_000_000_000))
        .collect();
    assert_eq!(
        draws,
        [
            -411364580506,
            688296611246,
            -414135357689,
            843003538954,
            923721001010
        ]
    );
    assert_eq!(rng.getrandbits(32), 163868757);

    // n = 2**62 + 2 takes 63 bits, so about half of the draws are rejected.
    let mut rng = PyRandom::new(5);
    let draws: Vec<i64> = (0..6).map(|_| rng.randint(0, (1 << 62) + 1)).collect();
    assert_eq!(
        draws,
        [
            2356064425258417221,
            3306906422018949273,
            2297105310323561332,
            478261842605716053,
            1446698121926109755,
            3429188471858335990
        ]
    );
    assert_eq!(rng.getrandbits(32), 2014636194);

    // The whole i64 range: n = 2**64 takes 65 bits.
    let mut rng = PyRandom::new(5);
    let draws: Vec<i64> = (0..4).map(|_| rng.randint(i64::MIN, i64::MAX)).collect();
    assert_eq!(
        draws,
        [
            6278314744523580143,
            8178487946830493815,
            -7135090535216748403,
            6796619034484074658
        ]
    );
    assert_eq!(rng.getrandbits(32), 1635342798);
}

#[test]
fn choice() {
    let movies = ["Python Unchained", "Kill Process", "Pulp Implementation"];
    let mut rng = PyRandom::new(31);
    let picks: Vec<&str> = (0..8).map(|_| *rng.choice(&movies)).collect();
    assert_eq!(
        picks,
        [
            "Python Unchained",
            "Kill Process",
            "Python Unchained",
            "Kill Process",
            "Python Unchained",
            "Pulp Implementation",
            "Python Unchained",
            "Python Unchained"
        ]
    );
    assert_eq!(rng.getrandbits(32), 4081367803);
}

#[test]
fn uniform() {
    let mut rng = PyRandom::new(42);
    let draws: Vec<f64> = (0..4).map(|_| rng.uniform(1.0, 3.0)).collect();
    assert_floats(
        &draws,
        &[
            2.2788535969157673,
            1.0500215104453339,
            1.5500586367382385,
            1.4464214762976455,
        ],
    );
    let mut rng = PyRandom::new(42);
    let draws: Vec<f64> = (0..3).map(|_| rng.uniform(-2.5, 10.0)).collect();
    assert_floats(
        &draws,
        &[5.492834980723547, -2.1873655597166635, 0.9378664796139908],
    );
}

#[test]
fn expovariate() {
    let mut rng = PyRandom::new(42);
    let draws: Vec<f64> = (0..4).map(|_| rng.expovariate(0.1)).collect();
    assert_floats(
        &draws,
        &[
            10.200602872748009,
            0.2532883904273889,
            3.2162406407496555,
            2.5258618567011353,
        ],
    );
    let mut rng = PyRandom::new(2);
    let draws: Vec<f64> = (0..4).map(|_| rng.expovariate(2.0)).collect();
    assert_floats(
        &draws,
        &[
            1.5621724275715314,
            1.4765997473997323,
            0.02910667972862437,
            0.044345663744985116,
        ],
    );
}

#[test]
fn normalvariate() {
    assert_eq!(
        pyrandom::NV_MAGICCONST.to_bits(),
        (4.0 * (-0.5f64).exp() / 2.0f64.sqrt()).to_bits()
    );
    // Seed 42 rejects two attempts among these six draws.
    let mut rng = PyRandom::new(42);
    let draws: Vec<f64> = (0..6).map(|_| rng.normalvariate(0.0, 1.0)).collect();
    assert_floats(
        &draws,
        &[
            0.2453263417078634,
            -0.49684447341120286,
            1.2547859310574627,
            -0.1380590627428119,
            -0.9758203332953249,
            0.5650502173449647,
        ],
    );
    assert_eq!(rng.getrandbits(32), 946785248);

    let mut rng = PyRandom::new(99);
    let draws: Vec<f64> = (0..4).map(|_| rng.normalvariate(10.0, 2.5)).collect();
    assert_floats(
        &draws,
        &[
            9.485175577377039,
            8.16708854349497,
            11.488374038330093,
            8.411416698032838,
        ],
    );
}

/// One stream shared by every kind of draw, as in the examples.
#[test]
fn mixed_draws_share_one_stream() {
    let mut rng = PyRandom::new((1 << 64) + 1);
    let mut ints = Vec::new();
    let mut floats = Vec::new();
    for _ in 0..4 {
        ints.push(rng.randint(1, 6));
        floats.push(rng.random());
        ints.push(*rng.choice(&[10, 20, 30]));
        floats.push(rng.expovariate(0.5));
        floats.push(rng.normalvariate(1.0, 0.5));
    }
    assert_eq!(ints, [1, 20, 3, 20, 5, 20, 6, 20]);
    assert_floats(
        &floats,
        &[
            0.857052778637485,
            0.5773037042949332,
            1.103856401372238,
            0.12249593092995159,
            1.8745261125619126,
            1.0505659047344924,
            0.8706465810411975,
            0.29901980306804643,
            0.6902485717742022,
            0.47399273970109834,
            9.068115800435333,
            1.245774008637623,
        ],
    );
    assert_eq!(rng.getrandbits(32), 2741763700);
}
