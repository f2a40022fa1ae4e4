//! The book builds with mdbook, without a warning, and every chapter of SUMMARY.md becomes
//! a page with every heading id the links check expects of it. CI installs mdbook (`.ci/run`); without it, outside CI, this
//! test says so and passes, as the browser test does without chromium.

use std::process::Command;

use crate::pages::{self, Page};

/// The version CI installs: `cargo install --locked mdbook --version` this.
pub const MDBOOK_VERSION: &str = "0.4.52";

fn mdbook() -> Option<String> {
    let program = std::env::var("MDBOOK").unwrap_or_else(|_| "mdbook".into());
    let out = Command::new(&program).arg("--version").output().ok()?;
    out.status.success().then_some(program)
}

#[test]
fn the_book_builds_and_every_chapter_is_a_page() {
    let Some(mdbook) = mdbook() else {
        let how = format!(
            "cargo install --locked mdbook --version {MDBOOK_VERSION} --no-default-features --features search"
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "mdbook is not installed, so the book was not built ({how})"
        );
        eprintln!(
            "SKIPPED: mdbook is not installed, so the book was not built; install it with {how}"
        );
        return;
    };
    let out_dir = std::env::temp_dir().join(format!("sso-harness-book-{}", std::process::id()));
    let out = Command::new(&mdbook)
        .arg("build")
        .arg(pages::root().join("docs"))
        .arg("--dest-dir")
        .arg(&out_dir)
        .output()
        .expect("mdbook runs");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "mdbook build failed:\n{log}");
    assert!(
        !log.contains("[WARN]") && !log.contains("[ERROR]"),
        "mdbook build warned:\n{log}"
    );
    for chapter in pages::markdown_under(&pages::book_src()) {
        if chapter.ends_with("SUMMARY.md") {
            continue;
        }
        let rel = chapter
            .strip_prefix(pages::book_src())
            .expect("under the book");
        let html = out_dir.join(rel).with_extension("html");
        let page = std::fs::read_to_string(&html).unwrap_or_else(|e| {
            panic!("{} was not built ({}): {e}", rel.display(), html.display())
        });
        let ids = pages::heading_ids(&Page::read(&chapter).text);
        assert!(!ids.is_empty(), "{} has no heading", rel.display());
        for id in ids {
            assert!(
                page.contains(&format!("id=\"{id}\"")),
                "{} has no heading id {id:?}: the links check makes ids as mdbook does not",
                html.display()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn ci_installs_the_mdbook_this_test_names() {
    let ci = std::fs::read_to_string(pages::root().join(".ci/run")).expect(".ci/run");
    assert!(
        ci.contains(&format!("mdbook_version={MDBOOK_VERSION}")),
        ".ci/run does not install mdbook {MDBOOK_VERSION}"
    );
}
