//! The arrows of ARCHITECTURE.md, checked on the source: each top-level module imports only the modules
//! the table in ARCHITECTURE.md lets it (the table is the one copy of the rule: this test reads it), only
//! the data layers name `sea_orm`, and the arrows have no cycle. The sources are parsed with `syn`, so a
//! grouped `use crate::{a, b}`, a `super::super::x` that climbs out of its module and a path inside a
//! macro all count; planted examples show that each would fail the test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// What ARCHITECTURE.md's table says of one module.
#[derive(Clone, Debug, Default)]
struct Rule {
    /// The modules it may import; `None`: every module (but those listed in `except`).
    may: Option<BTreeSet<String>>,
    except: BTreeSet<String>,
    names_sea_orm: bool,
}

/// The names in backticks of a table cell: `` `error`, `vocabulary` `` → error, vocabulary.
fn ticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The "may import" cell: module names separated by commas, each possibly followed by a note in
/// brackets; `–` for none, `everything`, `everything but `x``.
fn allowed_of(cell: &str) -> (Option<BTreeSet<String>>, BTreeSet<String>) {
    let cell = cell.trim();
    if cell.starts_with("everything") {
        return (None, ticked(cell).into_iter().collect());
    }
    if cell == "–" || cell == "-" {
        return (Some(BTreeSet::new()), BTreeSet::new());
    }
    let mut depth = 0;
    let mut plain = String::new();
    for c in cell.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let names = plain
        .split(',')
        .map(|n| n.trim().trim_matches('`').to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    (Some(names), BTreeSet::new())
}

/// The table under "What each module may import" in ARCHITECTURE.md.
fn rules_of(markdown: &str) -> BTreeMap<String, Rule> {
    let section = markdown
        .split("### What each module may import")
        .nth(1)
        .expect("ARCHITECTURE.md has the section");
    let mut rules = BTreeMap::new();
    for line in section.lines().skip_while(|l| !l.starts_with('|')) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.len() < 3 || cells[0] == "module" || cells[0].starts_with("---") {
            continue;
        }
        let (may, except) = allowed_of(cells[1]);
        let sea = cells[2];
        for module in ticked(cells[0]) {
            let names_sea_orm =
                sea.starts_with("yes") || (sea.contains("only") && ticked(sea).contains(&module));
            rules.insert(
                module,
                Rule {
                    may: may.clone(),
                    except: except.clone(),
                    names_sea_orm,
                },
            );
        }
    }
    rules
}

/// What one module's files import (`crate::x`, however written) and whether they name `sea_orm`.
#[derive(Debug, Default)]
struct Found {
    uses: BTreeSet<String>,
    names_sea_orm: bool,
}

/// Walks one file: `path` is its module path under the crate (`["service", "submissions", "decide"]`).
struct Walker<'a> {
    path: Vec<String>,
    found: &'a mut Found,
}

impl Walker<'_> {
    /// The top-level module a path's first segments lead to, from the current module.
    fn note(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        match first.as_str() {
            "crate" => {
                if let Some(top) = segments.get(1) {
                    self.found.uses.insert(top.clone());
                }
            }
            "super" | "self" => {
                let mut here = self.path.clone();
                let mut rest = segments;
                while let Some(s) = rest.first() {
                    match s.as_str() {
                        "super" => {
                            here.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    rest = &rest[1..];
                }
                let top = here.first().cloned().or_else(|| rest.first().cloned());
                if let Some(top) = top {
                    self.found.uses.insert(top);
                }
            }
            "sea_orm" => self.found.names_sea_orm = true,
            _ => {}
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.note(&prefix.clone());
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.note(&prefix.clone());
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.note(&prefix.clone()),
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.use_tree(prefix, item);
                }
            }
        }
    }

    /// Paths inside macro calls are tokens, not syntax: `crate :: x` and `sea_orm ::` in them count.
    fn tokens(&mut self, tokens: proc_macro2::TokenStream) {
        let idents: Vec<String> = tokens
            .into_iter()
            .flat_map(|t| match t {
                proc_macro2::TokenTree::Group(g) => {
                    self.tokens(g.stream());
                    Vec::new()
                }
                proc_macro2::TokenTree::Ident(i) => vec![i.to_string()],
                proc_macro2::TokenTree::Punct(p) if p.as_char() == ':' => vec![":".to_owned()],
                _ => vec![" ".to_owned()],
            })
            .collect();
        for (i, word) in idents.iter().enumerate() {
            let next_is_path = idents.get(i + 1).is_some_and(|n| n == ":")
                && idents.get(i + 2).is_some_and(|n| n == ":");
            if next_is_path && (word == "crate" || word == "sea_orm") {
                let segment = idents.get(i + 3).cloned().unwrap_or_default();
                self.note(&[word.clone(), segment]);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Walker<'_> {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }
    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.note(&segments);
        syn::visit::visit_path(self, path);
    }
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.path.push(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.path.pop();
    }
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }
}

/// Reads one file's imports into `found`; `path` is its module path.
fn walk(source: &str, path: Vec<String>, found: &mut Found) -> Result<(), syn::Error> {
    let file = syn::parse_file(source)?;
    let mut walker = Walker { path, found };
    walker.visit_file(&file);
    Ok(())
}

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

/// The module path of a file under `src/`: `service/submissions/mod.rs` → service, submissions.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .components()
        .filter_map(|c| c.as_os_str().to_str().map(str::to_owned))
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "mod" {
            parts.push(stem.to_owned());
        }
    }
    parts
}

/// Every top-level module of `src/` with what it imports.
fn imports() -> BTreeMap<String, Found> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut out: BTreeMap<String, Found> = BTreeMap::new();
    for file in files {
        let path = module_path(file.strip_prefix(&src).expect("under src"));
        let Some(top) = path.first().cloned() else {
            continue;
        };
        if matches!(top.as_str(), "lib" | "main") {
            continue;
        }
        let source = std::fs::read_to_string(&file).expect("readable file");
        walk(&source, path, out.entry(top).or_default())
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
    }
    out
}

/// What breaks the rules: imports not allowed, `sea_orm` outside the data layers, modules the table
/// does not name.
fn violations(found: &BTreeMap<String, Found>, rules: &BTreeMap<String, Rule>) -> Vec<String> {
    let mut wrong = Vec::new();
    for (module, f) in found {
        let Some(rule) = rules.get(module) else {
            wrong.push(format!("{module} is not in ARCHITECTURE.md's table"));
            continue;
        };
        for used in f.uses.iter().filter(|u| *u != module) {
            let allowed = match &rule.may {
                Some(may) => may.contains(used),
                None => !rule.except.contains(used),
            };
            if !allowed {
                wrong.push(format!("{module} imports crate::{used}"));
            }
        }
        if f.names_sea_orm && !rule.names_sea_orm {
            wrong.push(format!("{module} names sea_orm; it should call a service"));
        }
    }
    wrong
}

fn rules() -> BTreeMap<String, Rule> {
    let markdown =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md");
    rules_of(&markdown)
}

#[test]
fn every_module_imports_only_what_architecture_md_allows() {
    let rules = rules();
    assert!(rules.len() >= 15, "the table was read: {rules:?}");
    let found = imports();
    assert!(found.len() >= 10, "the walk found the modules: {found:?}");
    let wrong = violations(&found, &rules);
    assert!(
        wrong.is_empty(),
        "arrows that run the wrong way: {wrong:#?}"
    );
}

#[test]
fn planted_wrong_arrows_are_found() {
    let rules = rules();
    let check = |file: &str, source: &str| {
        let path = module_path(Path::new(file));
        let mut found = BTreeMap::new();
        walk(
            source,
            path.clone(),
            found.entry(path[0].clone()).or_default(),
        )
        .expect("parses");
        violations(&found, &rules)
    };
    // A grouped import of a module above.
    assert_eq!(
        check(
            "service/x.rs",
            "use crate::{error::AppError, graphql::Schema};"
        ),
        vec!["service imports crate::graphql"]
    );
    // A `super::` that climbs out of its module into another.
    assert_eq!(
        check("auth/policy.rs", "fn f() { super::super::http::router(); }"),
        vec!["auth imports crate::http"]
    );
    // A path inside a macro call.
    assert_eq!(
        check(
            "monitor/x.rs",
            "fn f() { let _ = format!(\"{}\", crate::service::NAME); }"
        ),
        vec!["monitor imports crate::service"]
    );
    // `sea_orm` above the data layers, however imported.
    assert_eq!(
        check("graphql/x.rs", "use sea_orm::{EntityTrait as _};"),
        vec!["graphql names sea_orm; it should call a service"]
    );
    // What the table allows passes, and `super::` within a module stays in it.
    assert!(
        check(
            "service/a/b.rs",
            "use super::super::audit; use crate::auth::Role;"
        )
        .is_empty()
    );
}

#[test]
fn the_allowed_arrows_have_no_cycle() {
    let rules = rules();
    let every: Vec<String> = rules.keys().cloned().collect();
    let graph: BTreeMap<String, Vec<String>> = rules
        .iter()
        .map(|(m, r)| {
            let next = match &r.may {
                Some(may) => may.iter().cloned().collect(),
                None => every
                    .iter()
                    .filter(|o| *o != m && !r.except.contains(*o))
                    .cloned()
                    .collect(),
            };
            (m.clone(), next)
        })
        .collect();
    fn visit(
        node: &str,
        graph: &BTreeMap<String, Vec<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(node) {
            return;
        }
        assert!(!path.iter().any(|p| p == node), "cycle: {path:?} -> {node}");
        path.push(node.to_owned());
        for next in graph.get(node).cloned().unwrap_or_default() {
            visit(&next, graph, path, done);
        }
        path.pop();
        done.insert(node.to_owned());
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done);
    }
}
