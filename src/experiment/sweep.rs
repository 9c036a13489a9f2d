//! Parameter sweeps: `key=v1,v2,…` lists over a model's [`Parameters`], and their Cartesian
//! product as [`Scenario`]s.

use super::{ExperimentError, Scenario};

/// A parameter's name and what it means (for `--params` listings and error messages).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// The name used on the command line: `name=value`.
    pub name: &'static str,
    /// What it means, in one line.
    pub description: &'static str,
}

/// A model's parameters, read and written by name as text: what a [`Sweep`] needs.
///
/// ```
/// use stepsim::experiment::{Key, Parameters, Sweep};
///
/// #[derive(Clone, Debug, Default, PartialEq)]
/// struct Shop { servers: usize, mean_service: f64 }
///
/// impl Parameters for Shop {
///     fn keys() -> Vec<Key> {
///         vec![
///             Key { name: "servers", description: "number of servers" },
///             Key { name: "mean_service", description: "mean service time" },
///         ]
///     }
///     fn get(&self, key: &str) -> Option<String> {
///         match key {
///             "servers" => Some(self.servers.to_string()),
///             "mean_service" => Some(self.mean_service.to_string()),
///             _ => None,
///         }
///     }
///     fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
///         match key {
///             "servers" => {
///                 self.servers = value.parse().map_err(|_| format!("{value:?} is not a whole number"))?
///             }
///             "mean_service" => {
///                 self.mean_service = value.parse().map_err(|_| format!("{value:?} is not a number"))?
///             }
///             _ => return Err(format!("no parameter {key}")),
///         }
///         Ok(())
///     }
/// }
///
/// let base = Shop { servers: 1, mean_service: 2.0 };
/// let sweep = Sweep::parse(&base, ["servers=1,2,3", "mean_service=1.5"])?;
/// let scenarios = sweep.scenarios(&base)?;
/// assert_eq!(scenarios.len(), 3);
/// assert_eq!(scenarios[2].label, "servers=3");
/// assert_eq!(scenarios[2].params, Shop { servers: 3, mean_service: 1.5 });
///
/// let e = Sweep::parse(&base, ["server=2"]).unwrap_err().to_string();
/// assert_eq!(e, "unknown parameter \"server\" (did you mean servers?); \
///                valid parameters: servers, mean_service");
/// assert!(base.listing().contains("mean_service  2        mean service time"));
/// # Ok::<(), stepsim::experiment::ExperimentError>(())
/// ```
pub trait Parameters: Clone {
    /// Every parameter, in listing order.
    fn keys() -> Vec<Key>;

    /// The value of `key` as text (`None` for an unknown key). `set(key, &get(key))` must
    /// leave the value unchanged.
    fn get(&self, key: &str) -> Option<String>;

    /// Parses `value` into the parameter `key`, or says what is wrong with the value (the
    /// sweep has checked the key already).
    fn set(&mut self, key: &str, value: &str) -> Result<(), String>;

    /// A listing of every parameter with its value here (call it on the defaults) and its
    /// meaning, one per line under a header: `parameter  default  meaning`.
    fn listing(&self) -> String {
        let keys = Self::keys();
        let values: Vec<String> = keys
            .iter()
            .map(|k| self.get(k.name).unwrap_or_default())
            .collect();
        let w_name = keys.iter().map(|k| k.name.len()).max().unwrap_or(0).max(9);
        let w_value = values.iter().map(String::len).max().unwrap_or(0).max(7);
        let mut out = format!(
            "{:<w_name$}  {:<w_value$}  meaning\n",
            "parameter", "default"
        );
        for (k, v) in keys.iter().zip(&values) {
            out += &format!("{:<w_name$}  {v:<w_value$}  {}\n", k.name, k.description);
        }
        out
    }
}

/// `key=v1,v2,…` lists, in the order given: their Cartesian product is the scenarios (the
/// first key varies slowest). Every value is checked against the parameters when it is added.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    axes: Vec<(String, Vec<String>)>,
}

impl Sweep {
    /// An empty sweep: one scenario, the base parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// A sweep of `args`, each `key=v1,v2,…`, checked against `base`'s parameters.
    ///
    /// Errors: an argument that is not `key=values`, an unknown key (naming the closest and
    /// listing the valid ones), a key given twice, or a value [`Parameters::set`] rejects.
    pub fn parse<P: Parameters, S: AsRef<str>>(
        base: &P,
        args: impl IntoIterator<Item = S>,
    ) -> Result<Self, ExperimentError> {
        let mut sweep = Sweep::new();
        for arg in args {
            sweep.add(base, arg.as_ref())?;
        }
        Ok(sweep)
    }

    /// Adds one `key=v1,v2,…` argument; see [`parse`](Self::parse).
    pub fn add<P: Parameters>(&mut self, base: &P, arg: &str) -> Result<(), ExperimentError> {
        let Some((key, values)) = arg.split_once('=') else {
            return Err(ExperimentError::NotKeyValue(arg.to_owned()));
        };
        let keys = P::keys();
        if !keys.iter().any(|k| k.name == key) {
            let valid: Vec<String> = keys.iter().map(|k| k.name.to_owned()).collect();
            let suggestion = valid
                .iter()
                .map(|n| (edit_distance(key, n), n))
                .min()
                .filter(|(d, _)| *d <= 3)
                .map(|(_, n)| n.clone());
            return Err(ExperimentError::UnknownKey {
                key: key.to_owned(),
                suggestion,
                valid,
            });
        }
        if self.axes.iter().any(|(k, _)| k == key) {
            return Err(ExperimentError::DuplicateKey(key.to_owned()));
        }
        let values: Vec<String> = values.split(',').map(str::to_owned).collect();
        let mut scratch = base.clone();
        for v in &values {
            scratch
                .set(key, v)
                .map_err(|reason| ExperimentError::BadValue {
                    key: key.to_owned(),
                    value: v.clone(),
                    reason,
                })?;
        }
        self.axes.push((key.to_owned(), values));
        Ok(())
    }

    /// Each key with its values, in the order given.
    pub fn axes(&self) -> &[(String, Vec<String>)] {
        &self.axes
    }

    /// The values of `key`, if the sweep sets it.
    pub fn values(&self, key: &str) -> Option<&[String]> {
        self.axes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// The keys given a single value, as `key=value`.
    pub fn fixed(&self) -> Vec<String> {
        self.axes
            .iter()
            .filter(|(_, values)| values.len() == 1)
            .map(|(k, values)| format!("{k}={}", values[0]))
            .collect()
    }

    /// How many scenarios it makes.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|(_, v)| v.len()).product()
    }

    /// Whether it makes no scenario (never: an empty sweep makes one).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The Cartesian product, the first key varying slowest. A scenario is labelled by the
    /// keys that vary (`n_coder=2 policy=newest`); if none varies, by the keys set
    /// (`t_sim=50`), or `defaults`.
    ///
    /// Errors: a value `base` rejects (a sweep checks its values against the parameters it
    /// was built with; this can only fail for other ones).
    pub fn scenarios<P: Parameters>(&self, base: &P) -> Result<Vec<Scenario<P>>, ExperimentError> {
        let mut scenarios = vec![(Vec::<String>::new(), base.clone())];
        for (key, values) in &self.axes {
            let varies = values.len() > 1;
            let mut next = Vec::with_capacity(scenarios.len() * values.len());
            for (label, params) in &scenarios {
                for v in values {
                    let mut p = params.clone();
                    p.set(key, v).map_err(|reason| ExperimentError::BadValue {
                        key: key.clone(),
                        value: v.clone(),
                        reason,
                    })?;
                    let mut label = label.clone();
                    if varies {
                        label.push(format!("{key}={v}"));
                    }
                    next.push((label, p));
                }
            }
            scenarios = next;
        }
        let fixed: Vec<String> = self
            .axes
            .iter()
            .map(|(k, values)| format!("{k}={}", values.join(",")))
            .collect();
        Ok(scenarios
            .into_iter()
            .map(|(label, params)| {
                let label = match (label.is_empty(), fixed.is_empty()) {
                    (false, _) => label.join(" "),
                    (true, false) => fixed.join(" "),
                    (true, true) => "defaults".to_owned(),
                };
                Scenario { label, params }
            })
            .collect())
    }
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}
