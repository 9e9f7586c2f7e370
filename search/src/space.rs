//! Search spaces: named dimensions (integer, float on a linear or log scale, categorical), each
//! optionally conditional on an earlier one, and the configurations sampled from them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::SearchError;

/// The values a dimension ranges over.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Domain {
    /// Integers `low..=high`, uniform on a linear or (`log`, `low ≥ 1`) logarithmic scale.
    Int {
        /// Smallest value.
        low: i64,
        /// Largest value.
        high: i64,
        /// Sample `ln x` uniformly.
        #[serde(default)]
        log: bool,
    },
    /// Reals `low..=high`, uniform on a linear or (`log`, `low > 0`) logarithmic scale.
    Float {
        /// Smallest value.
        low: f64,
        /// Largest value.
        high: f64,
        /// Sample `ln x` uniformly.
        #[serde(default)]
        log: bool,
    },
    /// One of a list of named choices.
    Categorical {
        /// The choices.
        choices: Vec<String>,
    },
}

/// A sampled value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// An integer.
    Int(i64),
    /// A real.
    Float(f64),
    /// A categorical choice.
    Choice(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Choice(v) => write!(f, "{v}"),
        }
    }
}

/// When a dimension exists: a condition on an earlier dimension's value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "if", rename_all = "snake_case")]
pub enum Condition {
    /// The parent (an integer) is at least `min`: e.g. `units_3` exists when `layers ≥ 3`.
    AtLeast {
        /// The earlier dimension.
        parent: String,
        /// The smallest parent value for which this dimension exists.
        min: i64,
    },
    /// The parent (a categorical) is one of `choices`: e.g. `momentum` exists when
    /// `optimizer` is `sgd`.
    OneOf {
        /// The earlier dimension.
        parent: String,
        /// The parent values for which this dimension exists.
        choices: Vec<String>,
    },
}

impl Condition {
    fn parent(&self) -> &str {
        match self {
            Condition::AtLeast { parent, .. } | Condition::OneOf { parent, .. } => parent,
        }
    }

    /// Whether the condition holds in `config` (false when the parent is absent).
    pub fn holds(&self, config: &Config) -> bool {
        match (self, config.get(self.parent())) {
            (Condition::AtLeast { min, .. }, Some(Value::Int(v))) => v >= min,
            (Condition::OneOf { choices, .. }, Some(Value::Choice(c))) => choices.contains(c),
            _ => false,
        }
    }
}

/// One named dimension of a [`Space`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dimension {
    /// Its name, the key in a [`Config`].
    pub name: String,
    /// Its values.
    #[serde(flatten)]
    pub domain: Domain,
    /// When it exists (always, if `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
}

/// A sampled configuration: the value of every active dimension, by name.
pub type Config = BTreeMap<String, Value>;

/// Typed reads of a [`Config`].
pub trait ConfigExt {
    /// The integer `name`, if present and an integer.
    fn int(&self, name: &str) -> Option<i64>;
    /// The real `name` (an integer reads as a real), if present.
    fn float(&self, name: &str) -> Option<f64>;
    /// The choice `name`, if present and categorical.
    fn choice(&self, name: &str) -> Option<&str>;
}

impl ConfigExt for Config {
    fn int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(Value::Int(v)) => Some(*v),
            _ => None,
        }
    }

    fn float(&self, name: &str) -> Option<f64> {
        match self.get(name) {
            Some(Value::Float(v)) => Some(*v),
            Some(Value::Int(v)) => Some(*v as f64),
            _ => None,
        }
    }

    fn choice(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(Value::Choice(v)) => Some(v),
            _ => None,
        }
    }
}

/// An ordered list of dimensions; a conditional dimension comes after its parent.
///
/// ```
/// use strata_search::{Condition, Space};
/// let space = Space::new()
///     .with_int("layers", 1, 3, false)
///     .with_int_if("units_2", 16, 256, true, Condition::AtLeast { parent: "layers".into(), min: 2 })
///     .with_float("lr", 1e-4, 1e-1, true)
///     .with_categorical("activation", &["relu", "tanh"]);
/// assert_eq!(space.dimensions().len(), 4);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Space {
    dimensions: Vec<Dimension>,
}

impl Space {
    /// An empty space.
    pub fn new() -> Self {
        Self::default()
    }

    /// The dimensions, in order.
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dimensions
    }

    /// Adds a dimension.
    ///
    /// # Panics
    /// If [`Space::validate`] would refuse the result (a bad range, a repeated name, a
    /// condition on a missing or later dimension).
    pub fn with(mut self, dimension: Dimension) -> Self {
        self.dimensions.push(dimension);
        if let Err(e) = self.validate() {
            panic!("Space::with: {e}");
        }
        self
    }

    /// Adds integers `low..=high` (logarithmic if `log`).
    pub fn with_int(self, name: &str, low: i64, high: i64, log: bool) -> Self {
        self.with(Dimension {
            name: name.into(),
            domain: Domain::Int { low, high, log },
            condition: None,
        })
    }

    /// Adds integers `low..=high` that exist when `condition` holds.
    pub fn with_int_if(
        self,
        name: &str,
        low: i64,
        high: i64,
        log: bool,
        condition: Condition,
    ) -> Self {
        self.with(Dimension {
            name: name.into(),
            domain: Domain::Int { low, high, log },
            condition: Some(condition),
        })
    }

    /// Adds reals `low..=high` (logarithmic if `log`).
    pub fn with_float(self, name: &str, low: f64, high: f64, log: bool) -> Self {
        self.with(Dimension {
            name: name.into(),
            domain: Domain::Float { low, high, log },
            condition: None,
        })
    }

    /// Adds reals `low..=high` that exist when `condition` holds.
    pub fn with_float_if(
        self,
        name: &str,
        low: f64,
        high: f64,
        log: bool,
        condition: Condition,
    ) -> Self {
        self.with(Dimension {
            name: name.into(),
            domain: Domain::Float { low, high, log },
            condition: Some(condition),
        })
    }

    /// Adds a categorical dimension.
    pub fn with_categorical(self, name: &str, choices: &[&str]) -> Self {
        let choices = choices.iter().map(|c| c.to_string()).collect();
        self.with(Dimension {
            name: name.into(),
            domain: Domain::Categorical { choices },
            condition: None,
        })
    }

    /// Adds a categorical dimension that exists when `condition` holds.
    pub fn with_categorical_if(self, name: &str, choices: &[&str], condition: Condition) -> Self {
        let choices = choices.iter().map(|c| c.to_string()).collect();
        self.with(Dimension {
            name: name.into(),
            domain: Domain::Categorical { choices },
            condition: Some(condition),
        })
    }

    /// Checks every dimension: non-empty ranges (`low ≤ high`, positive `low` on a log
    /// scale, finite bounds), at least one choice, unique names, conditions on an earlier
    /// dimension of the right kind.
    ///
    /// # Errors
    /// [`SearchError::Space`] naming the dimension and the problem.
    pub fn validate(&self) -> Result<(), SearchError> {
        for (i, d) in self.dimensions.iter().enumerate() {
            let bad = |reason: String| {
                Err(SearchError::Space {
                    dimension: d.name.clone(),
                    reason,
                })
            };
            if d.name.is_empty() {
                return bad("the name is empty".into());
            }
            if self.dimensions[..i].iter().any(|e| e.name == d.name) {
                return bad("the name is used twice".into());
            }
            match &d.domain {
                Domain::Int { low, high, log } => {
                    if low > high {
                        return bad(format!("low {low} > high {high}"));
                    }
                    if *log && *low < 1 {
                        return bad(format!("a log scale needs low ≥ 1, not {low}"));
                    }
                }
                Domain::Float { low, high, log } => {
                    if !(low.is_finite() && high.is_finite()) || low > high {
                        return bad(format!("the range {low}..={high} is empty or not finite"));
                    }
                    if *log && *low <= 0.0 {
                        return bad(format!("a log scale needs low > 0, not {low}"));
                    }
                }
                Domain::Categorical { choices } => {
                    if choices.is_empty() {
                        return bad("there are no choices".into());
                    }
                }
            }
            if let Some(c) = &d.condition {
                let parent = self.dimensions[..i].iter().find(|e| e.name == c.parent());
                let fits = match (c, parent.map(|p| &p.domain)) {
                    (Condition::AtLeast { .. }, Some(Domain::Int { .. })) => true,
                    (
                        Condition::OneOf { choices, .. },
                        Some(Domain::Categorical { choices: all }),
                    ) => choices.iter().all(|x| all.contains(x)),
                    _ => false,
                };
                if !fits {
                    return bad(format!(
                        "the condition {c:?} needs an earlier {} dimension {:?} (with those choices)",
                        if matches!(c, Condition::AtLeast { .. }) {
                            "integer"
                        } else {
                            "categorical"
                        },
                        c.parent()
                    ));
                }
            }
        }
        Ok(())
    }

    /// Reads a space from a JSON file: `{"dimensions": [{"name": "lr", "type": "float", "low":
    /// 1e-4, "high": 0.1, "log": true}, {"name": "units_2", "type": "int", "low": 16, "high":
    /// 256, "condition": {"if": "at_least", "parent": "layers", "min": 2}}, …]}`.
    ///
    /// # Errors
    /// [`SearchError::Io`] if the file cannot be read, [`SearchError::Parse`] for JSON that is
    /// not a space, with the line and column, and [`SearchError::Space`] for a space that
    /// [`Space::validate`] refuses.
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Self, SearchError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SearchError::Io {
            action: "reading",
            path: path.to_path_buf(),
            source,
        })?;
        let space: Space = serde_json::from_str(&text).map_err(|e| SearchError::Parse {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        space.validate()?;
        Ok(space)
    }

    /// The dimensions active in `config` so far, in order (a dimension is active when it has
    /// no condition or its condition holds).
    pub fn is_active(&self, dimension: &Dimension, config: &Config) -> bool {
        dimension.condition.as_ref().is_none_or(|c| c.holds(config))
    }

    /// Whether `config` holds exactly the active dimensions, each in its domain.
    pub fn contains(&self, config: &Config) -> bool {
        let mut seen = 0;
        for d in &self.dimensions {
            let active = self.is_active(d, config);
            match (active, config.get(&d.name)) {
                (false, None) => {}
                (true, Some(v)) if in_domain(&d.domain, v) => seen += 1,
                _ => return false,
            }
        }
        seen == config.len()
    }
}

fn in_domain(domain: &Domain, value: &Value) -> bool {
    match (domain, value) {
        (Domain::Int { low, high, .. }, Value::Int(v)) => (low..=high).contains(&v),
        (Domain::Float { low, high, .. }, Value::Float(v)) => (low..=high).contains(&v),
        (Domain::Categorical { choices }, Value::Choice(c)) => choices.contains(c),
        _ => false,
    }
}
