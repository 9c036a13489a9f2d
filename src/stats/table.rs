//! Readable statistics tables and long-format CSV.

use super::{StatsError, Summary, Tally, TimeWeighted};
use std::fmt::{self, Write as _};
use std::io;

/// The header line of the statistics CSV format: one row per statistic, long format.
pub const CSV_HEADER: &str = "name,statistic,value";

/// The order of the known statistics in a [`StatsTable`]'s columns; others follow in order
/// of first appearance.
const ORDER: [&str; 14] = [
    "n",
    "duration",
    "mean",
    "std_dev",
    "min",
    "max",
    "p50",
    "p90",
    "p95",
    "time_at_zero",
    "current",
    "ci95_half_width",
    "sum",
    "rejected",
];

/// The label of a statistic in a two-column table.
fn label(stat: &str) -> &str {
    match stat {
        "std_dev" => "std.deviation",
        "min" => "minimum",
        "max" => "maximum",
        "p50" => "median",
        "p90" => "90% percentile",
        "p95" => "95% percentile",
        "time_at_zero" => "time at zero",
        "current" => "current level",
        "ci95_half_width" => "95% ci ±",
        "rejected" => "rejected (NaN, inf)",
        other => other,
    }
}

/// A number for a table: integers in full (below 1e15), otherwise six significant digits,
/// in scientific notation outside [1e-4, 1e9).
pub(crate) fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    let trim = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    let a = x.abs();
    if (1e-4..1e9).contains(&a) {
        let magnitude = a.log10().floor() as i32;
        let decimals = (5 - magnitude).max(0) as usize;
        trim(format!("{x:.decimals$}"))
    } else {
        let s = format!("{x:.5e}");
        match s.split_once('e') {
            Some((mantissa, exp)) => format!("{}e{exp}", trim(mantissa.to_owned())),
            None => s,
        }
    }
}

/// Writes named statistics as an aligned two-column table (labels left, values right,
/// `-` for a value that does not exist).
pub(crate) fn write_column(
    f: &mut fmt::Formatter<'_>,
    stats: &[(&'static str, Option<f64>)],
) -> fmt::Result {
    let rows: Vec<(&str, String)> = stats
        .iter()
        .map(|&(s, v)| (label(s), v.map_or_else(|| "-".to_owned(), fmt_num)))
        .collect();
    let lw = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let vw = rows
        .iter()
        .map(|(_, v)| v.chars().count())
        .max()
        .unwrap_or(0);
    for (l, v) in rows {
        writeln!(f, "{l:<lw$}  {v:>vw$}")?;
    }
    Ok(())
}

fn csv_field(name: &str) -> String {
    if name.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", name.replace('"', "\"\""))
    } else {
        name.to_owned()
    }
}

/// Several named statistics as one table (one row each, like salabim's
/// `print_statistics` for a whole model), or as long-format CSV.
///
/// Columns are the statistics any row has, in a fixed order (`n`, `duration`, `mean`,
/// `std_dev`, `min`, `max`, `p50`, `p90`, `p95`, `time_at_zero`, `current`,
/// `ci95_half_width`, …); a cell a row does not have is blank.
///
/// ```
/// use stepsim::stats::{StatsTable, Tally, TimeWeighted};
/// let mut wait = Tally::new();
/// for w in [0.5, 1.5, 4.0] { wait.add(w); }
/// let mut queue = TimeWeighted::new(0.0, 0.0)?;
/// queue.set(1.0, 2.0)?;
/// let table = StatsTable::new()
///     .title("Shop")
///     .tally("wait", &wait)
///     .time_weighted("queue length", &queue, 4.0)?;
/// println!("{table}");
/// assert_eq!(table.to_string().lines().nth(1).unwrap().split_whitespace().collect::<Vec<_>>(),
///            ["name", "n", "duration", "mean", "std_dev", "min", "max", "time_at_zero", "current"]);
/// assert!(table.to_csv().starts_with("name,statistic,value\nwait,n,3\nwait,mean,2\n"));
/// # Ok::<(), stepsim::stats::StatsError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatsTable {
    title: Option<String>,
    rows: Vec<Row>,
}

/// A row of a [`StatsTable`]: its name and its named statistics.
type Row = (String, Vec<(&'static str, Option<f64>)>);

impl StatsTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A title line above the table.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// A row of a tally's [`statistics`](Tally::statistics).
    pub fn tally(self, name: impl Into<String>, tally: &Tally) -> Self {
        self.row(name, tally.statistics())
    }

    /// A row of a time-weighted level's [`statistics`](TimeWeighted::statistics) up to
    /// `now`. Errors: `now` before its last update, or not finite.
    pub fn time_weighted(
        self,
        name: impl Into<String>,
        level: &TimeWeighted,
        now: f64,
    ) -> Result<Self, StatsError> {
        Ok(self.row(name, level.statistics(now)?))
    }

    /// A row of a summary's [`statistics`](Summary::statistics) (e.g. across replications).
    pub fn summary(self, name: impl Into<String>, summary: &Summary) -> Self {
        self.row(name, summary.statistics())
    }

    /// A row of any named statistics (`None`: the value does not exist).
    pub fn row(
        mut self,
        name: impl Into<String>,
        statistics: Vec<(&'static str, Option<f64>)>,
    ) -> Self {
        self.rows.push((name.into(), statistics));
        self
    }

    /// The columns: every statistic some row has a value for, known ones in [`ORDER`].
    fn columns(&self) -> Vec<&'static str> {
        let present = |s: &str| {
            self.rows
                .iter()
                .any(|(_, stats)| stats.iter().any(|&(n, v)| n == s && v.is_some()))
        };
        let mut cols: Vec<&'static str> = ORDER.into_iter().filter(|s| present(s)).collect();
        for (_, stats) in &self.rows {
            for &(s, v) in stats {
                if v.is_some() && !cols.contains(&s) {
                    cols.push(s);
                }
            }
        }
        cols
    }

    /// The table as long-format CSV, header ([`CSV_HEADER`]) included: one line
    /// `name,statistic,value` per statistic of each row, the value in Rust's shortest
    /// round-trip format, empty if it does not exist. Names containing a comma, a quote or
    /// a line break are quoted (RFC 4180).
    pub fn to_csv(&self) -> String {
        let mut out = String::from(CSV_HEADER);
        out.push('\n');
        for (name, stats) in &self.rows {
            let name = csv_field(name);
            for &(s, v) in stats {
                let v = v.map_or_else(String::new, |v| v.to_string());
                let _ = writeln!(out, "{name},{s},{v}");
            }
        }
        out
    }

    /// Writes [`to_csv`](Self::to_csv) to any writer (a file, stdout).
    pub fn write_csv<W: io::Write>(&self, mut out: W) -> io::Result<()> {
        out.write_all(self.to_csv().as_bytes())
    }
}

impl fmt::Display for StatsTable {
    /// An aligned table: a title line if set, a header, a rule, one line per row.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cols = self.columns();
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|(_, stats)| {
                cols.iter()
                    .map(|c| {
                        stats
                            .iter()
                            .find(|(n, _)| n == c)
                            .and_then(|&(_, v)| v)
                            .map_or_else(String::new, fmt_num)
                    })
                    .collect()
            })
            .collect();
        let name_w = self
            .rows
            .iter()
            .map(|(n, _)| n.chars().count())
            .chain(std::iter::once(4))
            .max()
            .unwrap_or(4);
        let widths: Vec<usize> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                cells
                    .iter()
                    .map(|r| r[i].chars().count())
                    .chain(std::iter::once(c.len()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        if let Some(t) = &self.title {
            writeln!(f, "{t}")?;
        }
        write!(f, "{:<name_w$}", "name")?;
        for (c, w) in cols.iter().zip(&widths) {
            write!(f, "  {c:>w$}")?;
        }
        writeln!(f)?;
        let total = name_w + widths.iter().map(|w| w + 2).sum::<usize>();
        writeln!(f, "{}", "-".repeat(total))?;
        for ((name, _), row) in self.rows.iter().zip(&cells) {
            let mut line = format!("{name:<name_w$}");
            for (cell, w) in row.iter().zip(&widths) {
                let _ = write!(line, "  {cell:>w$}");
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(10.0), "10");
        assert_eq!(fmt_num(-3.0), "-3");
        assert_eq!(fmt_num(1.4), "1.4");
        assert_eq!(fmt_num(82.5 / 9.0), "9.16667");
        assert_eq!(fmt_num(3.027_650_354_097_491_7), "3.02765");
        assert_eq!(fmt_num(9.999_999_9), "10");
        assert_eq!(fmt_num(123_456.789), "123457");
        assert_eq!(fmt_num(0.000_123_456_78), "0.000123457");
        assert_eq!(fmt_num(1.5e-7), "1.5e-7");
        assert_eq!(fmt_num(2.5e20), "2.5e20");
        assert_eq!(fmt_num(f64::NAN), "NaN");
    }

    #[test]
    fn tally_display_is_a_two_column_table() {
        let mut t = Tally::new().keeping_values();
        for x in 1..=10 {
            t.add(f64::from(x));
        }
        let text = t.to_string();
        let want = "\
n                    10
mean                5.5
std.deviation   3.02765
minimum               1
maximum              10
median              5.5
90% percentile      9.1
95% percentile     9.55
";
        assert_eq!(text, want);
        let empty = Tally::new().to_string();
        let mean: Vec<&str> = empty.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(mean, ["mean", "-"]);
    }

    #[test]
    fn time_weighted_display() {
        let mut tw = TimeWeighted::new(0.0, 0.0).unwrap();
        tw.set(2.0, 3.0).unwrap();
        tw.set(5.0, 1.0).unwrap();
        tw.advance(10.0).unwrap();
        let want = "\
duration            10
mean               1.4
std.deviation  1.11355
minimum              0
maximum              3
time at zero         2
current level        1
";
        assert_eq!(tw.to_string(), want);
    }

    #[test]
    fn table_and_csv() {
        let mut wait = Tally::new();
        for w in [0.5, 1.5, 4.0] {
            wait.add(w);
        }
        let mut q = TimeWeighted::new(0.0, 0.0).unwrap();
        q.set(1.0, 2.0).unwrap();
        let reps = Summary::of(&[1.0, 2.0, 3.0]).unwrap();
        let table = StatsTable::new()
            .title("Shop")
            .tally("wait", &wait)
            .time_weighted("queue, main", &q, 4.0)
            .unwrap()
            .summary("wait \"per rep\"", &reps);
        let want = "\
Shop
name            n  duration  mean   std_dev  min  max  time_at_zero  current  ci95_half_width
---------------------------------------------------------------------------------------------
wait            3               2   1.80278  0.5    4
queue, main               4   1.5  0.866025    0    2             1        2
wait \"per rep\"  3               2         1    1    3                                 2.48414
";
        let got = table.to_string();
        assert_eq!(got, want, "\n{got}");
        let csv = table.to_csv();
        assert!(csv.starts_with("name,statistic,value\nwait,n,3\nwait,mean,2\n"));
        assert!(csv.contains("\n\"queue, main\",duration,4\n"));
        assert!(csv.contains("\n\"wait \"\"per rep\"\"\",ci95_half_width,2.4841"));
        assert!(table.clone().time_weighted("late", &q, 0.5).is_err());
        let mut bytes = Vec::new();
        table.write_csv(&mut bytes).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), csv);
        // An empty tally's missing values are empty CSV fields.
        let empty = StatsTable::new().tally("none", &Tally::new()).to_csv();
        assert!(empty.contains("none,mean,\n"));
    }
}
