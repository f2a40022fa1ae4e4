//! The pages: the README and the book's chapters as mdbook reads them (its `{{#include}}`
//! expanded), and the heading ids a link's `#fragment` may name.

use std::path::{Path, PathBuf};

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the checkout")
}

pub fn book_src() -> PathBuf {
    root().join("docs/src")
}

/// One Markdown page: where it lives, whether the book serves it, and its text.
pub struct Page {
    pub path: PathBuf,
    pub in_book: bool,
    /// As written, before includes are expanded (where its own runnable examples are).
    pub raw: String,
    /// As mdbook renders it: `{{#include}}` expanded.
    pub text: String,
}

impl Page {
    pub fn read(path: &Path) -> Page {
        let raw =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let in_book = path.starts_with(book_src());
        let text = if in_book {
            expand_includes(path, &raw)
        } else {
            raw.clone()
        };
        Page {
            path: path.to_owned(),
            in_book,
            raw,
            text,
        }
    }

    /// The path from the repository's root, for messages.
    pub fn name(&self) -> String {
        self.path
            .strip_prefix(root())
            .unwrap_or(&self.path)
            .display()
            .to_string()
    }
}

/// The README, the changelog and every chapter of the book.
pub fn all() -> Vec<Page> {
    let mut paths = vec![root().join("README.md"), root().join("docs/CHANGELOG.md")];
    paths.extend(markdown_under(&book_src()));
    paths.iter().map(|p| Page::read(p)).collect()
}

/// Every `.md` file under `dir`, sorted.
pub fn markdown_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// mdbook's `{{#include path}}` and `{{#include path:anchor}}` (the lines between
/// `ANCHOR: anchor` and `ANCHOR_END: anchor`), relative to the including file; lines that
/// carry anchor markers are left out, as mdbook leaves them out.
pub fn expand_includes(path: &Path, text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let Some(spec) = line
            .trim()
            .strip_prefix("{{#include ")
            .and_then(|s| s.strip_suffix("}}"))
        else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let (file, anchor) = match spec.trim().split_once(':') {
            Some((f, a)) => (f, Some(a)),
            None => (spec.trim(), None),
        };
        let included = path.parent().expect("a chapter's folder").join(file);
        let body = std::fs::read_to_string(&included)
            .unwrap_or_else(|e| panic!("{}: includes {}: {e}", path.display(), included.display()));
        let mut inside = anchor.is_none();
        let mut found = anchor.is_none();
        for l in body.lines() {
            if let Some(a) = anchor {
                if l.contains(&format!("ANCHOR: {a}")) {
                    inside = true;
                    found = true;
                    continue;
                }
                if l.contains(&format!("ANCHOR_END: {a}")) {
                    inside = false;
                    continue;
                }
            }
            if inside && !l.contains("ANCHOR:") && !l.contains("ANCHOR_END:") {
                out.push_str(l);
                out.push('\n');
            }
        }
        assert!(
            found,
            "{}: includes {}:{} but that file has no ANCHOR: {}",
            path.display(),
            included.display(),
            anchor.unwrap_or_default(),
            anchor.unwrap_or_default()
        );
    }
    out
}

/// The ids of a page's headings, as mdbook (and GitHub) make them: the heading's text in
/// lower case, spaces as `-`, other punctuation left out; a repeated id gets `-1`, `-2`….
pub fn heading_ids(text: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for event in Parser::new_ext(text, pulldown_cmark::Options::all()) {
        match event {
            Event::Start(Tag::Heading { .. }) => current = Some(String::new()),
            Event::Text(t) | Event::Code(t) if current.is_some() => {
                current.as_mut().expect("in a heading").push_str(&t)
            }
            Event::End(TagEnd::Heading(_)) => {
                let base = normalize_id(&current.take().unwrap_or_default());
                let mut id = base.clone();
                let mut n = 0;
                while ids.contains(&id) {
                    n += 1;
                    id = format!("{base}-{n}");
                }
                ids.push(id);
            }
            _ => {}
        }
    }
    ids
}

fn normalize_id(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_lowercase().next().unwrap_or(c))
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn heading_ids_are_made_as_mdbook_and_github_make_them() {
    let ids = heading_ids(
        "# Explore your RP: random lifecycles\n## Test your RP's revocation, with `curl`\n## Status\n## Status\n",
    );
    assert_eq!(
        ids,
        [
            "explore-your-rp-random-lifecycles",
            "test-your-rps-revocation-with-curl",
            "status",
            "status-1"
        ]
    );
}
