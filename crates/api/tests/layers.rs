//! The layers of `aura-api` import each other in one direction only.
//!
//! Reads the crate's sources (no compilation of them), collects every `crate::…` and `super::…`
//! path outside test modules, and fails when
//! - two top-level modules (`routes`, `db`, `domain`, `providers`, `workers`, `ai`, …) reach each
//!   other, directly or around a longer loop, or
//! - two modules inside one layer (e.g. `routes::campaigns` and `routes::delivery`) do.
//!
//! A module's parent (the `mod.rs` that declares it) is not counted: declaring a child and the
//! child using its parent's helpers is how a layer is built. The failure names every import on the
//! loop, with its file and line, so the fix starts from the message.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One import: who, of what, where.
#[derive(Clone, Debug)]
struct Import {
    from: String,
    to: String,
    at: String,
}

fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("readable src")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file without its `#[cfg(test)]` items and without comments, line numbers kept.
fn code_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut skip_depth: Option<i32> = None;
    let mut pending_cfg_test = false;
    for raw in text.lines() {
        let line = match raw.find("//") {
            Some(i) => &raw[..i],
            None => raw,
        };
        let trimmed = line.trim();
        if let Some(depth) = skip_depth.as_mut() {
            *depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
            if *depth <= 0 {
                skip_depth = None;
            }
            lines.push(String::new());
            continue;
        }
        if trimmed.starts_with("#[cfg(test)]") {
            pending_cfg_test = true;
            lines.push(String::new());
            continue;
        }
        if pending_cfg_test && !trimmed.is_empty() {
            pending_cfg_test = false;
            let depth = line.matches('{').count() as i32 - line.matches('}').count() as i32;
            if depth > 0 {
                skip_depth = Some(depth);
            }
            lines.push(String::new());
            continue;
        }
        lines.push(line.to_owned());
    }
    lines
}

/// Expands `a::{b, c::{d, e}}` into `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree
        .replace(" as ", "@")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(p).into_iter().map(move |e| format!("{prefix}{e}")))
        .collect()
}

/// Every module path a file's code names, with the line it is named on.
fn named_paths(module: &str, is_mod_file: bool, lines: &[String]) -> Vec<(String, usize)> {
    // `super` of `a::b` (in a/b.rs) is `a`; of `a::b` in a/b/mod.rs it is also `a`.
    let _ = is_mod_file;
    let parent = module.rsplit_once("::").map(|(p, _)| p).unwrap_or("");
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        let trimmed = line.trim_start();
        let use_start = trimmed
            .strip_prefix("pub use ")
            .or_else(|| trimmed.strip_prefix("pub(crate) use "))
            .or_else(|| trimmed.strip_prefix("use "));
        if let Some(rest) = use_start {
            // A use statement, possibly over several lines.
            let mut stmt = rest.to_owned();
            let first = i;
            while !stmt.contains(';') && i + 1 < lines.len() {
                i += 1;
                stmt.push_str(&lines[i]);
            }
            let stmt = stmt.split(';').next().unwrap_or("").to_owned();
            for path in expand(&stmt) {
                let path = path.split('@').next().unwrap_or("").to_owned();
                if let Some(p) = path.strip_prefix("crate::") {
                    found.push((p.to_owned(), first + 1));
                } else if let Some(p) = path.strip_prefix("super::") {
                    found.push((join(parent, p), first + 1));
                }
            }
            i += 1;
            continue;
        }
        for (prefix, base) in [("crate::", ""), ("super::", parent)] {
            let mut rest = line.as_str();
            while let Some(at) = rest.find(prefix) {
                let before = rest[..at].chars().last();
                let after = &rest[at + prefix.len()..];
                rest = after;
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let path: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                found.push((join(base, path.trim_end_matches(':')), i + 1));
            }
        }
        i += 1;
    }
    found
}

fn join(base: &str, path: &str) -> String {
    if base.is_empty() {
        path.to_owned()
    } else {
        format!("{base}::{path}")
    }
}

/// The longest known module a path starts with.
fn resolve(path: &str, modules: &BTreeSet<String>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|m| modules.contains(m))
}

fn imports() -> Vec<Import> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut all = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        if module.is_empty() || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("readable source");
        let is_mod_file = file.file_name().is_some_and(|n| n == "mod.rs");
        for (path, line) in named_paths(&module, is_mod_file, &code_lines(&text)) {
            if let Some(to) = resolve(&path, &modules) {
                if to != module && !to.is_empty() {
                    all.push(Import {
                        from: module.clone(),
                        to,
                        at: format!(
                            "src/{}:{line}",
                            file.strip_prefix(&src).expect("under src").display()
                        ),
                    });
                }
            }
        }
    }
    all
}

/// The loops of a graph: its strongly connected components of more than one node.
fn loops(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    let nodes: BTreeSet<&String> = edges
        .keys()
        .chain(edges.values().flat_map(|v| v.iter()))
        .collect();
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for next in edges.get(&n).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut out: Vec<BTreeSet<String>> = Vec::new();
    for n in &nodes {
        if out.iter().any(|c| c.contains(*n)) {
            continue;
        }
        let component: BTreeSet<String> = nodes
            .iter()
            .filter(|m| **m == *n || (reaches[*n].contains(**m) && reaches[*m].contains(*n)))
            .map(|m| (*m).clone())
            .collect();
        if component.len() > 1 {
            out.push(component);
        }
    }
    out
}

fn explain(
    title: &str,
    component: &BTreeSet<String>,
    imports: &[(String, String, &Import)],
) -> String {
    let mut message = format!(
        "{title}: {} import each other.\n",
        component.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    let mut shown = BTreeSet::new();
    for (from, to, import) in imports {
        if component.contains(from) && component.contains(to) && shown.insert((from, to)) {
            message.push_str(&format!(
                "  {from} -> {to}: `{}` uses `{}` at {}\n",
                import.from, import.to, import.at
            ));
        }
    }
    message
}

fn layer(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

/// The child of `layer` that `module` lives in (`routes::ai::personas` → `routes::ai`).
fn unit(module: &str) -> Option<String> {
    let mut parts = module.split("::");
    let (first, second) = (parts.next()?, parts.next()?);
    Some(format!("{first}::{second}"))
}

#[test]
fn no_import_cycles_between_layers_or_within_a_layer() {
    let all = imports();
    assert!(
        all.len() > 100,
        "the scan found only {} imports: the scanner is broken",
        all.len()
    );

    let mut problems = Vec::new();

    let mut between = BTreeMap::<String, BTreeSet<String>>::new();
    let mut between_imports = Vec::new();
    for import in &all {
        let (a, b) = (layer(&import.from), layer(&import.to));
        if a != b {
            between
                .entry(a.to_owned())
                .or_default()
                .insert(b.to_owned());
            between_imports.push((a.to_owned(), b.to_owned(), import));
        }
    }
    for component in loops(&between) {
        problems.push(explain("layers in a cycle", &component, &between_imports));
    }

    let mut within = BTreeMap::<String, BTreeSet<String>>::new();
    let mut within_imports = Vec::new();
    for import in &all {
        if layer(&import.from) != layer(&import.to) {
            continue;
        }
        let (Some(a), Some(b)) = (unit(&import.from), unit(&import.to)) else {
            continue; // the layer's own mod.rs: a parent, not a sibling
        };
        if a != b {
            within.entry(a.clone()).or_default().insert(b.clone());
            within_imports.push((a, b, import));
        }
    }
    for component in loops(&within) {
        problems.push(explain(
            "modules of one layer in a cycle",
            &component,
            &within_imports,
        ));
    }

    assert!(
        problems.is_empty(),
        "imports go both ways (a layer may use what is below it, never what uses it):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_scanner_reads_use_trees_and_inline_paths() {
    let lines = code_lines(
        "use crate::{db, domain::{campaign, org::TimeZone}};\nuse super::helpers as h;\nfn f() { crate::workers::send::wake(); }\n#[cfg(test)]\nmod tests {\n    use crate::routes;\n}\n",
    );
    let paths: Vec<String> = named_paths("routes::campaigns", false, &lines)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        paths,
        [
            "db",
            "domain::campaign",
            "domain::org::TimeZone",
            "routes::helpers",
            "workers::send::wake"
        ]
    );
    let mut edges = BTreeMap::<String, BTreeSet<String>>::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        edges.entry(a.into()).or_default().insert(b.into());
    }
    let found = loops(&edges);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].iter().cloned().collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
}
