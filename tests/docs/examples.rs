//! Every example marked runnable (```` ```sh runnable ````) runs, as written, against a live
//! mock IdP on the built-in defaults (a fresh one per example, on a random port: the
//! examples' `http://127.0.0.1:9400` is rewritten to it), and prints what it says: each
//! `# → …` line (with its `#    ` continuation lines) must match a line of the example's
//! output, in order, `…` standing for any text.

use std::time::Duration;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

use crate::pages::{self, Page};

/// The address the docs use: the built-in default of `mock-idp serve`.
const DOCUMENTED: &str = "http://127.0.0.1:9400";

/// The longest an example may take: a few dozen requests to a local server.
const PATIENCE: Duration = Duration::from_secs(60);

struct Example {
    page: String,
    line: usize,
    script: String,
}

fn runnable(page: &Page) -> Vec<Example> {
    let mut found = Vec::new();
    let mut current: Option<(usize, String)> = None;
    let parser = Parser::new_ext(&page.raw, pulldown_cmark::Options::all()).into_offset_iter();
    for (event, range) in parser {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info)))
                if info.split_whitespace().any(|w| w == "runnable") =>
            {
                current = Some((page.raw[..range.start].lines().count() + 1, String::new()));
            }
            Event::Text(t) if current.is_some() => {
                current.as_mut().expect("in a block").1.push_str(&t)
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some((line, script)) = current.take() {
                    found.push(Example {
                        page: page.name(),
                        line,
                        script,
                    });
                }
            }
            _ => {}
        }
    }
    found
}

/// The `# → …` lines of a script, each with its continuation lines joined.
fn expectations(script: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for line in script.lines() {
        let line = line.trim_start();
        if let Some(e) = line.strip_prefix("# → ") {
            out.push(e.trim_end().to_owned());
            open = true;
        } else if let (true, Some(more)) = (open, line.strip_prefix("#    ")) {
            out.last_mut()
                .expect("an open expectation")
                .push_str(more.trim());
        } else {
            open = false;
        }
    }
    out
}

/// Whether `line` is `pattern`, each `…` of the pattern standing for any text.
fn matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split('…').collect();
    let (first, rest) = parts.split_first().expect("split yields one part at least");
    let Some(mut left) = line.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return left.is_empty();
    };
    for part in middle {
        match left.find(part) {
            Some(at) => left = &left[at + part.len()..],
            None => return false,
        }
    }
    left.ends_with(last)
}

async fn run(example: &Example) -> Result<usize, String> {
    let idp = mock_idp::MockIdp::start().await;
    let issuer = idp.issuer().trim_end_matches('/').to_owned();
    let script = example.script.replace(DOCUMENTED, &issuer);
    // A folder of its own: an example that writes a file leaves nothing in the checkout.
    let cwd = std::env::temp_dir().join(format!(
        "sso-harness-example-{}-{}",
        std::process::id(),
        example.line
    ));
    std::fs::create_dir_all(&cwd).map_err(|e| format!("{}: {e}", cwd.display()))?;
    let child = tokio::process::Command::new("bash")
        .current_dir(&cwd)
        .args(["-euo", "pipefail", "-c", &script])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(PATIENCE, child)
        .await
        .map_err(|_| format!("did not finish within {PATIENCE:?}"))?
        .map_err(|e| format!("cannot run bash: {e}"))?;
    let _ = std::fs::remove_dir_all(&cwd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let printed = || {
        format!(
            "it printed:\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    };
    if !out.status.success() {
        return Err(format!("exited {}; {}", out.status, printed()));
    }
    let wanted = expectations(&script);
    let mut lines = stdout.lines().map(|l| l.trim_end_matches('\r'));
    for want in &wanted {
        if !lines.any(|l| matches(want, l)) {
            return Err(format!(
                "no line (after the previous expectation's) matches\n  {want}\n{}",
                printed()
            ));
        }
    }
    Ok(wanted.len())
}

#[tokio::test]
async fn every_runnable_example_runs_against_a_live_mock_idp_and_prints_what_it_says() {
    let examples: Vec<Example> = pages::all().iter().flat_map(runnable).collect();
    assert!(
        examples.len() >= 3,
        "only {} runnable examples found",
        examples.len()
    );
    let mut failed = Vec::new();
    for example in &examples {
        match run(example).await {
            Ok(checked) => println!(
                "{}:{}: ran, {checked} expected outputs seen",
                example.page, example.line
            ),
            Err(why) => failed.push(format!("{}:{}: {why}", example.page, example.line)),
        }
    }
    assert!(
        failed.is_empty(),
        "examples that do not do what the docs say:\n{}",
        failed.join("\n\n")
    );
}

#[test]
fn an_expectation_matches_with_ellipses_and_nothing_else() {
    assert!(matches(
        "location: http://x/cb?code=…&state=s1&iss=…",
        "location: http://x/cb?code=abc&state=s1&iss=http://i"
    ));
    assert!(!matches(
        "location: http://x/cb?code=…&state=s1",
        "location: http://x/cb?code=abc&state=s2"
    ));
    assert!(matches(
        "{\"a\":\"eyJ…\",\"b\":1}",
        "{\"a\":\"eyJhbGc…\",\"b\":1}"
    ));
    assert!(!matches("{\"b\":1}", "{\"b\":1,\"c\":2}"));
    assert_eq!(
        expectations("curl x\n# → {\"a\":1,\n#    \"b\":2}\necho\n#    not this"),
        ["{\"a\":1,\"b\":2}"]
    );
}
