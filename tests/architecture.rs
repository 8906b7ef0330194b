//! The arrows of ARCHITECTURE.md, checked on the source: each top-level module imports only the modules
//! below it, only the data layers name `sea_orm`, and the module graph has no cycle. A wrong import fails
//! this test before it can spread.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each module of `src/` and the modules it may import (`crate::…`). Keep in step with ARCHITECTURE.md.
const ALLOWED: &[(&str, &[&str])] = &[
    ("error", &[]),
    ("vocabulary", &[]),
    ("spreadsheet", &[]),
    ("config", &["error"]),
    ("telemetry", &["config"]),
    ("monitor", &["vocabulary", "error"]),
    ("auth", &["error", "config", "vocabulary"]),
    (
        "service",
        &[
            "auth",
            "monitor",
            "spreadsheet",
            "error",
            "config",
            "vocabulary",
        ],
    ),
    (
        "events",
        &[
            "service",
            "monitor",
            "auth",
            "error",
            "config",
            "vocabulary",
            "telemetry",
        ],
    ),
    (
        "sources",
        &[
            "service",
            "spreadsheet",
            "monitor",
            "auth",
            "error",
            "config",
            "vocabulary",
            "telemetry",
        ],
    ),
    (
        "report",
        &[
            "service",
            "monitor",
            "auth",
            "error",
            "config",
            "vocabulary",
        ],
    ),
    (
        "seed",
        &[
            "service",
            "monitor",
            "auth",
            "error",
            "config",
            "vocabulary",
        ],
    ),
    (
        "graphql",
        &[
            "service",
            "events",
            "sources",
            "report",
            "monitor",
            "auth",
            "error",
            "config",
            "vocabulary",
        ],
    ),
    (
        "http",
        &[
            "graphql",
            "service",
            "events",
            "report",
            "auth",
            "error",
            "config",
            "vocabulary",
            "telemetry",
        ],
    ),
    (
        "startup",
        &[
            "http",
            "graphql",
            "service",
            "events",
            "sources",
            "seed",
            "auth",
            "error",
            "config",
            "vocabulary",
            "telemetry",
        ],
    ),
    (
        "cli",
        &[
            "startup",
            "http",
            "graphql",
            "service",
            "events",
            "sources",
            "report",
            "seed",
            "auth",
            "error",
            "config",
            "vocabulary",
            "telemetry",
        ],
    ),
];

/// Modules that may name `sea_orm`: those that build queries, and `error`, where a `DbErr` becomes an
/// `AppError`. Everything above them goes through services.
const DATA_LAYERS: &[&str] = &["service", "seed", "events", "sources", "startup", "error"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments (doc links may name any module).
fn code_of(path: &Path) -> String {
    std::fs::read_to_string(path)
        .expect("readable file")
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// (module, imported modules, names `sea_orm`) for every top-level module of `src/`.
fn imports() -> BTreeMap<String, (BTreeSet<String>, bool)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut out: BTreeMap<String, (BTreeSet<String>, bool)> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let first = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("");
        let module = first.trim_end_matches(".rs").to_owned();
        if matches!(module.as_str(), "lib" | "main") {
            continue;
        }
        let code = code_of(&file);
        let entry = out.entry(module.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != module {
                entry.0.insert(name);
            }
        }
        // A log filter naming the crate is text, not an import.
        if code.contains("sea_orm::") || code.contains("use sea_orm") {
            entry.1 = true;
        }
    }
    out
}

#[test]
fn every_module_imports_only_what_architecture_md_allows() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let found = imports();
    assert!(found.len() >= 10, "the walk found the modules: {found:?}");
    let mut wrong = Vec::new();
    for (module, (uses, names_sea_orm)) in &found {
        let Some(may) = allowed.get(module.as_str()) else {
            wrong.push(format!("{module} is not in ALLOWED (and ARCHITECTURE.md)"));
            continue;
        };
        for used in uses {
            if !may.contains(&used.as_str()) {
                wrong.push(format!("{module} imports crate::{used}"));
            }
        }
        if *names_sea_orm && !DATA_LAYERS.contains(&module.as_str()) {
            wrong.push(format!("{module} names sea_orm; it should call a service"));
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows that run the wrong way: {wrong:#?}"
    );
}

#[test]
fn the_allowed_arrows_have_no_cycle() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, &'a [&'a str]>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(node) {
            return;
        }
        assert!(!path.contains(&node), "cycle: {path:?} -> {node}");
        path.push(node);
        for next in graph.get(node).copied().unwrap_or(&[]) {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(node);
    }
    let mut done = BTreeSet::new();
    for node in allowed.keys() {
        visit(node, &allowed, &mut Vec::new(), &mut done);
    }
}
