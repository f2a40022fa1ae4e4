//! The crates stand on floors: each declares them in its `lib.rs` documentation (a list of
//! `N. what: `module`, …`), and this test holds the code to them. Every module is on one
//! floor; a module's `crate::` imports (its tests aside) reach only its own floor or those
//! below; and no import circle runs inside a floor. A failure names the import.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A crate's source folder.
fn src(krate: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("src")
}

/// The floors `lib.rs` declares: module → floor number.
fn declared(src: &Path) -> BTreeMap<String, usize> {
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let mut floors = BTreeMap::new();
    let start = lib
        .find("## How it is built: floors")
        .expect("lib.rs declares its floors under \"## How it is built: floors\"");
    for line in lib[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("//!"))
    {
        let line = line.trim_start_matches("//!").trim();
        let Some((n, rest)) = line.split_once(". ") else {
            continue;
        };
        let Ok(n) = n.parse::<usize>() else { continue };
        let modules = rest.rsplit_once(": ").map_or("", |(_, m)| m);
        for m in modules.split(", ") {
            let m = m.trim().trim_matches('`');
            assert!(
                floors.insert(m.to_owned(), n).is_none(),
                "{}: `{m}` is on two floors",
                src.display()
            );
        }
    }
    assert!(!floors.is_empty(), "{}: no floors declared", src.display());
    floors
}

/// Every top-level module's source files: `x.rs`, or `x/` with all beneath it.
fn modules(src: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut out: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(src).expect("src") {
        let path = entry.expect("an entry").path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            out.insert(name, rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.entry(name).or_default().push(path);
        }
    }
    out
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The crate modules a file's code (not its `#[cfg(test)] mod tests`) names by
/// `crate::module`, with the line of the first mention.
fn imports(file: &Path, known: &BTreeSet<String>) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(file).expect("a source file");
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut out = BTreeMap::new();
    for (n, line) in code.lines().enumerate() {
        let line = line.split("//").next().unwrap_or("");
        for (i, _) in line.match_indices("crate::") {
            let before = line[..i].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let name: String = line[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if known.contains(&name) {
                out.entry(name).or_insert(n + 1);
            }
        }
    }
    out
}

/// The problems of one crate: modules on no floor, imports up a floor, circles in a floor.
fn problems(krate: &str) -> Vec<String> {
    problems_in(krate, &src(krate))
}

fn problems_in(krate: &str, src: &Path) -> Vec<String> {
    let src = src.to_path_buf();
    let floors = declared(&src);
    let modules = modules(&src);
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    let mut problems = Vec::new();
    for m in &known {
        if !floors.contains_key(m) {
            problems.push(format!("{krate}: module `{m}` is on no floor (lib.rs)"));
        }
    }
    for m in floors.keys() {
        if !known.contains(m) {
            problems.push(format!(
                "{krate}: lib.rs puts `{m}` on a floor, but there is no such module"
            ));
        }
    }
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (m, files) in &modules {
        let Some(&floor) = floors.get(m) else {
            continue;
        };
        for file in files {
            for (to, line) in imports(file, &known) {
                if &to == m {
                    continue;
                }
                let Some(&to_floor) = floors.get(&to) else {
                    continue;
                };
                let root = src.parent().and_then(Path::parent).unwrap_or(&src);
                let shown = file.strip_prefix(root).unwrap_or(file);
                if to_floor > floor {
                    problems.push(format!(
                        "{krate}: {}:{line} imports `crate::{to}` (floor {to_floor}) from `{m}` (floor {floor}): an import up a floor",
                        shown.display()
                    ));
                } else if to_floor == floor {
                    edges.entry(m).or_default().insert(known.get(&to).unwrap());
                }
            }
        }
    }
    // A circle inside a floor: a module that reaches itself.
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<Vec<&str>> = vec![vec![start]];
        while let Some(path) = todo.pop() {
            let last = path[path.len() - 1];
            for next in edges.get(last).into_iter().flatten() {
                if next == start {
                    problems.push(format!(
                        "{krate}: an import circle on one floor: {} → {start}",
                        path.join(" → ")
                    ));
                    break;
                }
                if seen.insert(*next) {
                    let mut longer = path.clone();
                    longer.push(next);
                    todo.push(longer);
                }
            }
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

#[test]
fn mock_idp_stands_on_its_floors() {
    let p = problems("mock-idp");
    assert!(p.is_empty(), "{}", p.join("\n"));
}

#[test]
fn conformance_stands_on_its_floors() {
    let p = problems("conformance");
    assert!(p.is_empty(), "{}", p.join("\n"));
}

/// The check fails where it should: an import up a floor and a circle are named.
#[test]
fn an_import_up_a_floor_or_a_circle_is_named() {
    let dir = std::env::temp_dir().join(format!("floors-{}", std::process::id()));
    let src = dir.join("demo").join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("lib.rs"),
        "//! ## How it is built: floors\n//!\n//! 1. bottom: `a`, `b`\n//! 2. top: `c`, `lib`\n",
    )
    .unwrap();
    std::fs::write(src.join("a.rs"), "use crate::c::X;\nuse crate::b::Y;\n").unwrap();
    std::fs::write(src.join("b.rs"), "use crate::a::Z;\n").unwrap();
    std::fs::write(
        src.join("c.rs"),
        "use crate::a::Z;\n#[cfg(test)]\nmod tests {\n    use crate::c::W;\n}\n",
    )
    .unwrap();
    let floors = declared(&src);
    assert_eq!(floors["a"], 1);
    assert_eq!(floors["c"], 2);
    let known: BTreeSet<String> = ["a", "b", "c", "lib"].map(String::from).into();
    assert_eq!(imports(&src.join("a.rs"), &known).get("c"), Some(&1));
    assert!(!imports(&src.join("c.rs"), &known).contains_key("c"));
    let p = problems_in("demo", &src);
    assert!(
        p.iter()
            .any(|p| p.contains("demo/src/a.rs:1 imports `crate::c` (floor 2) from `a` (floor 1)")),
        "{p:?}"
    );
    assert!(p.iter().any(|p| p.contains("circle")), "{p:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
