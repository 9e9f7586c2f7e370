//! Each library crate's `README.md` — the page crates.io shows — is made from the crate's own
//! documentation (the `//!` lines of `src/lib.rs`, whose examples rustdoc tests), so the two
//! never disagree: `cargo xtask readme` writes them, and a test fails when one is stale.
//!
//! The conversion turns rustdoc into plain Markdown that renders on its own: intra-doc links
//! (`` [`Var`] ``, `` [`Grads`](crate::Grads) ``) become code spans, hidden example lines
//! (`# use …`) are dropped, bare code fences become `rust` fences, and a footer names the
//! other Strata crates and the licence.

use std::path::Path;

use crate::Error;

/// The published library crates: (folder, package name), in dependency order.
pub const CRATES: [(&str, &str); 12] = [
    ("io", "strata-io"),
    ("tensor", "strata-tensor"),
    ("autograd", "strata-autograd"),
    ("layers", "strata-layers"),
    ("optim", "strata-optim"),
    ("datasets", "strata-datasets"),
    ("models", "strata-models"),
    ("distributed", "strata-distributed"),
    ("tensorboard", "strata-tensorboard"),
    ("rl", "strata-rl"),
    ("onnx", "strata-onnx"),
    ("search", "strata-search"),
];

/// Usage of `cargo xtask readme`.
pub const HELP: &str = "\
Write each library crate's README.md from its crate documentation (src/lib.rs)

Usage: cargo xtask readme

The READMEs are generated: edit the `//!` lines of src/lib.rs, then run this. A test in
xtask fails while any README differs from what this would write.
";

/// The crate documentation of a `lib.rs`: its leading `//!` lines, without the marker.
pub fn crate_docs(lib_rs: &str) -> Vec<&str> {
    lib_rs
        .lines()
        .skip_while(|l| !l.starts_with("//!"))
        .take_while(|l| l.starts_with("//!"))
        .map(|l| {
            let rest = &l[3..];
            rest.strip_prefix(' ').unwrap_or(rest)
        })
        .collect()
}

/// `text` with rustdoc's intra-doc links turned into plain Markdown: `` [`x`] `` and
/// `` [`x`](path) `` become `` `x` ``, `[text](path)` becomes `text` — unless the target is a
/// URL (`://`) or an anchor (`#…`), which stay links.
pub fn unlink(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let label = &after[..close];
        let tail = &after[close + 1..];
        if let Some(target) = tail.strip_prefix('(')
            && let Some(end) = target.find(')')
        {
            let dest = &target[..end];
            if dest.contains("://") || dest.starts_with('#') {
                out.push_str(&rest[open..open + 1 + close + 1 + end + 2]);
            } else {
                out.push_str(label);
            }
            rest = &target[end + 1..];
        } else if label.starts_with('`') && label.ends_with('`') && label.len() >= 2 {
            out.push_str(label);
            rest = tail;
        } else {
            out.push('[');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Whether a code fence with the info string `lang` holds Rust for rustdoc: no language, or
/// only rustdoc's own attributes (`rust`, `ignore`, `no_run`, `should_panic`, `compile_fail`,
/// `edition…`, `ignore-…`, `standalone_crate`, `test_harness`).
fn is_rust_fence(lang: &str) -> bool {
    lang.split(',').map(str::trim).all(|t| {
        matches!(
            t,
            "" | "rust"
                | "ignore"
                | "no_run"
                | "should_panic"
                | "compile_fail"
                | "standalone_crate"
                | "test_harness"
        ) || t.starts_with("edition")
            || t.starts_with("ignore-")
    })
}

/// The README of crate `package` made from its `lib.rs` text.
pub fn readme(package: &str, lib_rs: &str) -> String {
    let docs = crate_docs(lib_rs);
    let mut out = String::new();
    if !docs.first().is_some_and(|l| l.starts_with("# ")) {
        out.push_str(&format!("# {package}\n\n"));
    }
    // Inside a fence: `Some(true)` for Rust code (hidden lines dropped), `Some(false)` other.
    let mut fence: Option<bool> = None;
    for line in docs {
        let trimmed = line.trim_start();
        if let Some(lang) = trimmed.strip_prefix("```") {
            match fence {
                None => {
                    let rust = is_rust_fence(lang);
                    fence = Some(rust);
                    out.push_str(if rust { "```rust" } else { line });
                }
                Some(_) => {
                    fence = None;
                    out.push_str("```");
                }
            }
            out.push('\n');
            continue;
        }
        match fence {
            Some(true) if trimmed == "#" || trimmed.starts_with("# ") => continue,
            Some(_) => out.push_str(line),
            None => out.push_str(&unlink(line)),
        }
        out.push('\n');
    }
    let others: Vec<String> = CRATES
        .iter()
        .filter(|(_, name)| *name != package)
        .map(|(_, name)| format!("[`{name}`](https://docs.rs/{name})"))
        .collect();
    out.push_str(&format!(
        "\n---\n\n`{package}` is one crate of Strata, a deep-learning library in Rust for \
         training networks on the CPU; the API reference is on \
         [docs.rs](https://docs.rs/{package}). The other crates: {}.\n\nLicensed under either \
         of the MIT licence or the Apache License, Version 2.0, at your option.\n",
        others.join(", ")
    ));
    out
}

/// The README of the crate in `root/folder`, as it should be.
pub fn expected(root: &Path, folder: &str, package: &str) -> Result<String, Error> {
    let path = root.join(folder).join("src").join("lib.rs");
    let lib_rs = std::fs::read_to_string(&path).map_err(|source| Error::Io {
        action: "reading",
        path: path.clone(),
        source,
    })?;
    Ok(readme(package, &lib_rs))
}

/// Writes every crate's README (only those that change).
pub fn run(root: &Path) -> Result<(), Error> {
    for (folder, package) in CRATES {
        let text = expected(root, folder, package)?;
        let path = root.join(folder).join("README.md");
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        std::fs::write(&path, text).map_err(|source| Error::Io {
            action: "writing",
            path: path.clone(),
            source,
        })?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlinks_intra_doc_links_and_keeps_urls() {
        let cases = [
            // (rustdoc, Markdown)
            ("see [`Var`] and [`Grads`]", "see `Var` and `Grads`"),
            ("a [`Step`](crate::Step) here", "a `Step` here"),
            ("the [trainer](crate::Trainer)", "the trainer"),
            (
                "[docs](https://docs.rs/x) stay",
                "[docs](https://docs.rs/x) stay",
            ),
            ("[top](#usage) stays", "[top](#usage) stays"),
            (
                "an index [0, 1) and [a] stay",
                "an index [0, 1) and [a] stay",
            ),
            ("unclosed [ bracket", "unclosed [ bracket"),
        ];
        for (doc, md) in cases {
            assert_eq!(unlink(doc), md, "{doc}");
        }
    }

    #[test]
    fn tells_rust_fences_from_others() {
        for (lang, rust) in [
            ("", true),
            ("rust", true),
            ("no_run", true),
            ("compile_fail,edition2021", true),
            ("ignore-windows", true),
            ("text", false),
            ("toml", false),
            ("sh", false),
        ] {
            assert_eq!(is_rust_fence(lang), rust, "{lang:?}");
        }
    }

    #[test]
    fn converts_crate_docs() {
        let lib = "//! Adds [`one`].\n//!\n//! ```\n//! # use x::one;\n//! assert_eq!(one(1), 2);\n//! ```\n//!\n//! ```text\n//! # kept\n//! ```\n\n//! not docs\npub fn one() {}\n";
        let md = readme("strata-x", lib);
        assert!(md.starts_with(
            "# strata-x\n\nAdds `one`.\n\n```rust\nassert_eq!(one(1), 2);\n```\n\n```text\n# kept\n```\n"
        ), "{md}");
        assert!(!md.contains("not docs"));
        assert!(md.contains("[`strata-tensor`](https://docs.rs/strata-tensor)"));
        assert!(!md.contains("[`strata-x`]"));
    }

    /// Every crate's README.md is what `cargo xtask readme` writes from its lib.rs.
    #[test]
    fn every_readme_is_current() {
        let root = crate::workspace_root();
        for (folder, package) in CRATES {
            let want = expected(root, folder, package).unwrap();
            let path = root.join(folder).join("README.md");
            let got = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                got == want,
                "{} is stale or missing: run `cargo xtask readme`",
                path.display()
            );
        }
    }
}
