//! [`summary`]: a model's layers with their output shapes and parameter counts, as
//! `torchinfo.summary` prints them, and [`record_output`], through which layers report their
//! outputs while a summary runs.

use std::cell::RefCell;
use std::fmt;

use strata_autograd::{Var, no_grad};
use strata_tensor::{Element, Tensor};

use crate::Module;
use crate::module::short_type_name;

/// One output reported by a layer while a summary runs.
struct Event {
    /// The layer's address (with its type, identifies it in the module tree).
    addr: usize,
    /// The layer's full type name.
    type_name: &'static str,
    /// The output's shape.
    shape: Vec<usize>,
}

thread_local! {
    /// The outputs reported so far, while a [`summary`] runs on this thread; `None` otherwise.
    static RECORDER: RefCell<Option<Vec<Event>>> = const { RefCell::new(None) };
}

/// Reports `output` as the output of `module` to a [`summary`] running on this thread, and
/// returns it. Every layer of this crate calls it at the end of its `forward`; a leaf module
/// of your own can too, so its row shows an output shape. Outside a summary it only returns
/// `output` (one thread-local read).
pub fn record_output<T: Element, M: Module<T> + ?Sized>(output: Var<T>, module: &M) -> Var<T> {
    RECORDER.with(|recorder| {
        if let Some(events) = recorder.borrow_mut().as_mut() {
            events.push(Event {
                addr: module as *const M as *const () as usize,
                type_name: module.type_name(),
                shape: output.shape().to_vec(),
            });
        }
    });
    output
}

/// A model's structure as [`summary`] found it: one [`SummaryRow`] per sub-module and the
/// parameter totals. `Display` prints a table like `torchinfo.summary`:
///
/// ```text
/// LeNet5: input [1, 1, 28, 28] → output [1, 10]
/// Layer              Type        Output shape      Params
/// ───────────────────────────────────────────────────────
/// features           Sequential  [1, 400]           2,572
///   features.0       Conv2d      [1, 6, 28, 28]       156
/// …
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The model's short type name (`LeNet5`).
    pub model: String,
    /// The input shape the forward pass ran on.
    pub input_shape: Vec<usize>,
    /// The model's output shape.
    pub output_shape: Vec<usize>,
    /// Every sub-module (not the model itself), depth first in definition order.
    pub rows: Vec<SummaryRow>,
    /// Number of parameter scalars, `Σ numel`.
    pub total_params: usize,
    /// Number of parameter scalars that require a gradient.
    pub trainable_params: usize,
    /// Memory held by the parameters' values: `total_params · size_of::<T>()` bytes.
    pub param_bytes: usize,
}

/// One sub-module in a [`Summary`].
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    /// Dotted path, the prefix of its parameters' names (`features.0`).
    pub path: String,
    /// Nesting depth: 1 for a child of the model, 2 for a grandchild, …
    pub depth: usize,
    /// Short type name (`Conv2d`).
    pub kind: String,
    /// Its kind and settings ([`Module::describe`]).
    pub description: String,
    /// Shape of its output in the forward pass (the first one if it ran more than once), or
    /// `None` if it did not run or does not report its output (see [`record_output`]).
    pub output_shape: Option<Vec<usize>>,
    /// How many times its forward ran.
    pub calls: usize,
    /// Number of parameter scalars, its children's included.
    pub params: usize,
}

/// Runs `model` once on a zero input of `input_shape` and lists its sub-modules with their
/// output shapes and parameter counts (as `torchinfo.summary(model, input_size)`).
///
/// The pass runs under [`no_grad`] in evaluation mode, so nothing about the model changes:
/// batch-norm running statistics are not updated, dropout draws no random numbers, and every
/// sub-module is put back in the mode it was in (a model partly in training and partly in
/// evaluation mode stays so).
///
/// Output shapes are those layers report through [`record_output`] (every layer of this
/// crate, and [`Sequential`](crate::Sequential)); a container built with
/// [`module_parts!`](crate::module_parts) shows none except the model itself.
///
/// # Panics
/// If `forward` panics on the input (e.g. a wrong shape); the modes are restored first.
pub fn summary<T: Element, M: Module<T> + ?Sized>(model: &mut M, input_shape: &[usize]) -> Summary {
    let mut modes = Vec::new();
    collect_modes(&*model, &mut modes);
    model.set_training(false);
    let previous = RECORDER.with(|r| r.borrow_mut().replace(Vec::new()));
    let input = Var::constant(Tensor::<T>::zeros(input_shape));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        no_grad(|| model.forward(&input)).shape().to_vec()
    }));
    let events = RECORDER
        .with(|r| std::mem::replace(&mut *r.borrow_mut(), previous))
        .unwrap_or_default();
    restore_modes(&mut *model, &mut modes.into_iter());
    let output_shape = match result {
        Ok(shape) => shape,
        Err(panic) => std::panic::resume_unwind(panic),
    };

    let mut rows = Vec::new();
    for (name, child) in model.children() {
        collect_rows(child, name, 1, &events, &mut rows);
    }
    let total_params = model.num_params();
    Summary {
        model: short_type_name(model.type_name()),
        input_shape: input_shape.to_vec(),
        output_shape,
        rows,
        total_params,
        trainable_params: model
            .params()
            .iter()
            .filter(|(_, p)| p.requires_grad())
            .map(|(_, p)| p.numel())
            .sum(),
        param_bytes: total_params * std::mem::size_of::<T>(),
    }
}

/// Every module's mode, depth first (the module before its children).
fn collect_modes<T: Element, M: Module<T> + ?Sized>(module: &M, out: &mut Vec<bool>) {
    out.push(module.is_training());
    for (_, child) in module.children() {
        collect_modes(child, out);
    }
}

/// Sets the modes [`collect_modes`] listed: each module, then its children (which a
/// container's `set_training` has just overwritten).
fn restore_modes<T: Element, M: Module<T> + ?Sized>(
    module: &mut M,
    modes: &mut impl Iterator<Item = bool>,
) {
    if let Some(training) = modes.next() {
        module.set_training(training);
    }
    for (_, child) in module.children_mut() {
        restore_modes(child, modes);
    }
}

fn collect_rows<T: Element, M: Module<T> + ?Sized>(
    module: &M,
    path: String,
    depth: usize,
    events: &[Event],
    rows: &mut Vec<SummaryRow>,
) {
    let addr = module as *const M as *const () as usize;
    let type_name = module.type_name();
    let mut mine = events
        .iter()
        .filter(|e| e.addr == addr && e.type_name == type_name);
    let first = mine.next();
    rows.push(SummaryRow {
        kind: short_type_name(type_name),
        description: module.describe(),
        output_shape: first.map(|e| e.shape.clone()),
        calls: first.map_or(0, |_| 1 + mine.count()),
        params: module.num_params(),
        path: path.clone(),
        depth,
    });
    for (name, child) in module.children() {
        collect_rows(child, format!("{path}.{name}"), depth + 1, events, rows);
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: input {:?} → output {:?}",
            self.model, self.input_shape, self.output_shape
        )?;
        let cells: Vec<[String; 4]> = self
            .rows
            .iter()
            .map(|r| {
                let shape = match &r.output_shape {
                    Some(s) if r.calls > 1 => format!("{s:?} ×{}", r.calls),
                    Some(s) => format!("{s:?}"),
                    None => "--".to_string(),
                };
                [
                    format!("{}{}", "  ".repeat(r.depth - 1), r.path),
                    r.kind.clone(),
                    shape,
                    thousands(r.params),
                ]
            })
            .collect();
        let header = ["Layer", "Type", "Output shape", "Params"];
        let mut widths = header.map(|h| h.chars().count());
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, c: &[String; 4]| {
            writeln!(
                f,
                "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}",
                c[0],
                c[1],
                c[2],
                c[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            )
        };
        line(f, &header.map(String::from))?;
        let rule = "─".repeat(widths.iter().sum::<usize>() + 6);
        writeln!(f, "{rule}")?;
        for row in &cells {
            line(f, row)?;
        }
        writeln!(f, "{rule}")?;
        writeln!(f, "Total params: {}", thousands(self.total_params))?;
        writeln!(f, "Trainable params: {}", thousands(self.trainable_params))?;
        writeln!(
            f,
            "Non-trainable params: {}",
            thousands(self.total_params - self.trainable_params)
        )?;
        write!(
            f,
            "Parameter memory: {} bytes ({:.2} KiB)",
            thousands(self.param_bytes),
            self.param_bytes as f64 / 1024.0
        )
    }
}
