//! Every link of the README and the book resolves: a relative link to a file that exists,
//! its `#fragment` to a heading of that page; a link of the book stays inside the book (its
//! pages are served without the repository around them); every chapter is in SUMMARY.md.
//! Links to other sites are checked for form only: CI reaches package registries, not the
//! web, and the list of them is printed for a reviewer.

use std::path::{Component, Path, PathBuf};

use pulldown_cmark::{Event, Parser, Tag};

use crate::pages::{self, Page};

/// A link's destination and the line it is on.
struct Link {
    dest: String,
    line: usize,
}

fn links(page: &Page) -> Vec<Link> {
    let parser = Parser::new_ext(&page.text, pulldown_cmark::Options::all()).into_offset_iter();
    parser
        .filter_map(|(event, range)| match event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => Some(Link {
                dest: dest_url.to_string(),
                line: page.text[..range.start].lines().count().max(1),
            }),
            _ => None,
        })
        .collect()
}

/// `a/./b/../c` → `a/c`, without touching the file system (the target may not exist).
fn tidy(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// What is wrong with one link of a page, if anything.
fn problem(page: &Page, dest: &str) -> Option<String> {
    if dest.contains("://") || dest.starts_with("mailto:") {
        return url::Url::parse(dest)
            .err()
            .map(|e| format!("not a URL: {e}"));
    }
    let (file, fragment) = match dest.split_once('#') {
        Some((f, frag)) => (f, Some(frag)),
        None => (dest, None),
    };
    let target = if file.is_empty() {
        page.path.clone()
    } else {
        tidy(&page.path.parent().expect("a page's folder").join(file))
    };
    let root = pages::root();
    if !target.starts_with(&root) {
        return Some("points outside the repository".into());
    }
    if page.in_book && !target.starts_with(pages::book_src()) {
        return Some(
            "points outside the book (docs/src): the built book does not serve it; name the file in backticks instead"
                .into(),
        );
    }
    if !target.exists() {
        return Some(format!("no such file: {}", target.display()));
    }
    let fragment = fragment?;
    if target.extension().is_none_or(|e| e != "md") {
        return Some("a #fragment into a file that is not a page".into());
    }
    let ids = pages::heading_ids(&Page::read(&target).text);
    (!ids.iter().any(|id| id == fragment)).then(|| {
        format!(
            "no heading #{fragment} in {} (its headings: {})",
            target.strip_prefix(&root).unwrap_or(&target).display(),
            ids.join(", ")
        )
    })
}

#[test]
fn every_link_of_the_readme_and_the_book_resolves() {
    let mut broken = Vec::new();
    let mut checked = 0;
    let mut external = std::collections::BTreeSet::new();
    for page in pages::all() {
        for link in links(&page) {
            checked += 1;
            if link.dest.contains("://") {
                external.insert(link.dest.clone());
            }
            if let Some(why) = problem(&page, &link.dest) {
                broken.push(format!(
                    "{}:{}: ({}) {why}",
                    page.name(),
                    link.line,
                    link.dest
                ));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} links found: is the parser reading the pages?"
    );
    println!("{checked} links checked; links to other sites (form checked, not fetched):");
    for url in &external {
        println!("  {url}");
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_chapter_is_in_the_summary_and_every_summary_entry_exists() {
    let summary = Page::read(&pages::book_src().join("SUMMARY.md"));
    let listed: Vec<PathBuf> = links(&summary)
        .iter()
        .map(|l| tidy(&pages::book_src().join(&l.dest)))
        .collect();
    for path in &listed {
        assert!(
            path.exists(),
            "SUMMARY.md lists {} but it does not exist",
            path.display()
        );
    }
    for chapter in pages::markdown_under(&pages::book_src()) {
        if chapter.ends_with("SUMMARY.md") {
            continue;
        }
        assert!(
            listed.contains(&chapter),
            "{} is not in SUMMARY.md: the book would not show it",
            chapter.display()
        );
    }
}

#[test]
fn a_link_that_leaves_the_book_or_names_a_missing_heading_is_caught() {
    let chapter = Page {
        path: pages::book_src().join("ci/run.md"),
        in_book: true,
        raw: String::new(),
        text: String::new(),
    };
    assert!(problem(&chapter, "../../README.md").is_some_and(|w| w.contains("outside the book")));
    assert!(problem(&chapter, "../mock/admin-api.md#no-such-heading").is_some());
    assert!(problem(&chapter, "../mock/missing.md").is_some());
    assert_eq!(problem(&chapter, "../mock/admin-api.md"), None);
    assert_eq!(
        problem(&chapter, "https://www.rfc-editor.org/rfc/rfc6749"),
        None
    );
}
