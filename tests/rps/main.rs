//! Real relying parties on widely used third-party OIDC libraries in other languages, each
//! in its own folder with an rp.toml (launch mode, every sync mode), a pinned install
//! script, and `verdicts.md`: the table the conformance suite gives it. The suite runs
//! against each and the table must not change: a verdict that moves is either a regression
//! of the suite or a change of the library, and both need a look. `UPDATE_VERDICTS=1`
//! rewrites the tables after such a look.

mod install;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use conformance::{Options, Outcome, Report, RpDescription, SyncMode};

/// The folder of one RP.
fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rps").join(name)
}

/// Runs the folder's pinned install script, once per test process.
fn install(name: &str) {
    install::install(&dir(name));
}

/// The verdict table: one row per scenario, one column per sync mode.
fn table(name: &str, r: &Report) -> String {
    let modes = [SyncMode::Strict, SyncMode::Additive, SyncMode::None];
    let mut rows: BTreeMap<(usize, String), [String; 3]> = BTreeMap::new();
    let order: Vec<&str> = conformance::catalogue().iter().map(|s| s.id).collect();
    for run in &r.runs {
        let col = modes.iter().position(|m| *m == run.sync_mode).unwrap_or(0);
        for x in &run.results {
            let key = (
                order
                    .iter()
                    .position(|id| *id == x.id)
                    .unwrap_or(usize::MAX),
                x.id.clone(),
            );
            rows.entry(key).or_default()[col] = label(x.verdict, &x.reason).to_owned();
        }
    }
    let mut out = format!(
        "# `{name}`: the conformance suite's verdicts\n\n\
         Written by `UPDATE_VERDICTS=1 cargo test -p sso-tests --test rps`; CI fails when a \
         verdict changes. Why each verdict that is not a pass is what it is: the book, \
         docs/src/ci/real-rps.md, \"What popular libraries get wrong\".\n\n\
         | scenario | strict | additive | none |\n|---|---|---|---|\n"
    );
    for ((_, id), cols) in rows {
        out.push_str(&format!(
            "| `{id}` | {} | {} | {} |\n",
            cols[0], cols[1], cols[2]
        ));
    }
    out
}

/// What a cell shows for a verdict whose timing miss the harness's own lag explains: it
/// stands for any verdict of the committed table (the run could not judge, and said why).
const LOADED: &str = "error (the machine was loaded)";

fn label(o: Outcome, reason: &str) -> &'static str {
    if o == Outcome::Error && reason.contains("the machine was loaded") {
        return LOADED;
    }
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "**fail**",
        Outcome::Warn => "*warn*",
        Outcome::Skip => "skip",
        Outcome::Error => "**error**",
    }
}

/// Installs and judges the RP in `name`; compares its table with `verdicts.md`.
async fn judge(name: &str) {
    judge_as(name, "", &[]).await;
}

/// The scenarios that use the token endpoint: what a variant of the client authentication
/// changes.
const TOKEN_ENDPOINT: &[&str] = &[
    "login.code-flow",
    "login.client-auth",
    "sync.uses-refresh-token",
    "sync.rotation",
    "revocation.refresh-expired",
];

/// The scenarios that read the authorization request: what pushing it (PAR) changes.
const AUTHORIZATION_REQUEST: &[&str] = &[
    "login.code-flow",
    "login.scopes",
    "login.par",
    "login.jar",
    "login.pkce",
    "login.state-mismatch",
    "login.idp-error",
    "idtoken.nonce-mismatch",
];

/// The scenarios that use the token endpoint, and those of DPoP: what proving possession
/// of a key changes.
const DPOP: &[&str] = &[
    "login.code-flow",
    "login.client-auth",
    "login.dpop",
    "login.dpop-nonce",
    "login.dpop-unbound",
    "sync.uses-refresh-token",
    "sync.rotation",
    "revocation.refresh-expired",
];

/// The scenarios that use each of the IdP's endpoints the apps call (discovery and the JWKS
/// at start-up, the token endpoint, a refresh, end_session): what serving the IdP over
/// HTTPS changes.
const OVER_TLS: &[&str] = &[
    "login.code-flow",
    "idtoken.bad-signature",
    "idtoken.refresh-bad-signature",
    "sync.uses-refresh-token",
    "revocation.deleted-user",
    "logout.rp-initiated",
];

/// The variant that runs the plain rp.toml with the IdP over HTTPS (`conformance run
/// --tls`): the app gets the throw-away CA through the runtimes' own variables.
const TLS: &str = "tls";

/// The TLS variant's scenarios again, with the IdP attached rather than embedded: a mock
/// IdP served over HTTPS alone (as `mock-idp serve --tls`), its CA file handed over as
/// `--idp-ca` would, which the runner trusts and the RP is told; the verdicts must be
/// those of `verdicts-tls.md` (never rewritten from this run).
async fn judge_attached_tls(name: &str) {
    install(name);
    let idp = mock_idp::MockIdp::builder()
        .tls()
        .start()
        .await
        .expect("an https mock IdP");
    let ca = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("rps-{name}-attached-ca.pem"));
    std::fs::write(&ca, idp.ca_pem().expect("its CA")).expect("the CA file is written");
    let rp = RpDescription::from_file(&dir(name).join("rp.toml")).expect("its rp.toml");
    let mut opts = Options::new(rp);
    opts.idp = conformance::IdpChoice::Attached {
        url: idp.issuer().to_owned(),
        token: None,
        plain: None,
        ca_file: Some(ca),
    };
    opts.only = OVER_TLS.iter().map(|s| (*s).to_owned()).collect();
    let verdicts = dir(name).join(format!("verdicts-{TLS}.md"));
    let run = Run {
        name: &format!("{name}-{TLS}"),
        report_dir: format!("rps-{name}-{TLS}-attached"),
        https: true,
        may_update: false,
    };
    run.compare(opts, &verdicts).await;
}

/// [`judge`] with `rp-{variant}.toml` and `verdicts-{variant}.md` (`""`: the plain
/// files; [`TLS`]: rp.toml, the IdP over HTTPS), running only `only` (empty: the
/// catalogue).
async fn judge_as(name: &str, variant: &str, only: &[&str]) {
    install(name);
    let suffix = if variant.is_empty() {
        String::new()
    } else {
        format!("-{variant}")
    };
    let rp_file = if variant == TLS {
        "rp.toml".to_owned()
    } else {
        format!("rp{suffix}.toml")
    };
    let rp = RpDescription::from_file(&dir(name).join(rp_file)).expect("its rp.toml");
    let mut opts = Options::new(rp);
    opts.tls = variant == TLS;
    opts.only = only.iter().map(|s| (*s).to_owned()).collect();
    let name_run = format!("{name}{suffix}");
    let run = Run {
        name: &name_run,
        report_dir: format!("rps-{name_run}"),
        https: opts.tls,
        may_update: true,
    };
    run.compare(opts, &dir(name).join(format!("verdicts{suffix}.md")))
        .await;
}

/// One run of the suite against a real RP, judged against a committed verdict table.
struct Run<'a> {
    /// The table's name (its heading).
    name: &'a str,
    /// Where the report goes, under the target's temporary directory.
    report_dir: String,
    /// Whether the IdP must serve HTTPS.
    https: bool,
    /// Whether `UPDATE_VERDICTS` may rewrite the table from this run.
    may_update: bool,
}

impl Run<'_> {
    /// Runs with `opts`, writes the report, and compares the verdicts with `verdicts`.
    async fn compare(&self, mut opts: Options, verdicts: &Path) {
        let name = self.name;
        let report_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(&self.report_dir);
        opts.report_dir = Some(report_dir.clone());
        let report = conformance::run(&opts).await.expect("the run completes");
        if self.https {
            assert!(
                report.idp.issuer.starts_with("https://"),
                "{name}: the issuer is {}",
                report.idp.issuer
            );
        }
        report
            .write(
                &report_dir,
                &[
                    conformance::Format::Json,
                    conformance::Format::Md,
                    conformance::Format::Html,
                ],
            )
            .expect("the report is written");
        let lost = report.lost_coverage();
        assert!(lost.is_empty(), "{name}: coverage lost to skips: {lost:?}");
        let got = table(name, &report);
        if self.may_update && std::env::var_os("UPDATE_VERDICTS").is_some() {
            // A cell that erred for the load keeps what the table had.
            let had = std::fs::read_to_string(verdicts).unwrap_or_default();
            std::fs::write(verdicts, keep_where_loaded(&had, &got))
                .expect("verdicts.md is written");
        }
        let want = std::fs::read_to_string(verdicts).unwrap_or_default();
        if got != want && same_but_for_load(&want, &got) {
            eprintln!(
                "{name}: some verdicts were errors naming the machine's load (report in {}):\n{}",
                report_dir.display(),
                changes(&want, &got)
            );
            return;
        }
        assert!(
            got == want,
            "{name}: the verdicts differ from {} (report in {}):\n{}\nwhy:\n{}",
            verdicts.display(),
            report_dir.display(),
            changes(&want, &got),
            reasons(&report, &changes(&want, &got))
        );
    }
}

/// Whether `got` is `want` but for cells that erred for the machine's load.
fn same_but_for_load(want: &str, got: &str) -> bool {
    let rows = |t: &str| -> Vec<Vec<String>> {
        t.lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| l.split(" | ").map(str::to_owned).collect())
            .collect()
    };
    let (w, g) = (rows(want), rows(got));
    w.len() == g.len()
        && w.iter().zip(&g).all(|(w, g)| {
            w.len() == g.len()
                && w.iter()
                    .zip(g)
                    .all(|(w, g)| w == g || g.trim_end_matches(" |") == LOADED)
        })
}

/// `got`, with each cell that erred for the load replaced by the same row's cell in `had`
/// (where `had` has that row).
fn keep_where_loaded(had: &str, got: &str) -> String {
    let cells = |l: &str| -> Vec<String> { l.split(" | ").map(str::to_owned).collect() };
    let old: Vec<Vec<String>> = had
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(cells)
        .collect();
    let mut out = String::new();
    for line in got.lines() {
        let mut row = cells(line);
        if line.starts_with("| `")
            && let Some(before) = old.iter().find(|o| o[0] == row[0] && o.len() == row.len())
        {
            for (cell, was) in row.iter_mut().zip(before) {
                if cell.trim_end_matches(" |") == LOADED {
                    *cell = was.clone();
                }
            }
        }
        out.push_str(&row.join(" | "));
        out.push('\n');
    }
    out
}

/// The rows that differ.
/// The report's reasons for the scenarios named in `changed` (the lines of `changes`), one
/// line a mode: what a CI log needs to tell a flake from a regression.
fn reasons(r: &Report, changed: &str) -> String {
    let mut out = String::new();
    for run in &r.runs {
        for x in &run.results {
            if changed.contains(&format!("`{}`", x.id)) {
                out.push_str(&format!(
                    "{} ({:?}): {:?}: {}\n",
                    x.id, run.sync_mode, x.verdict, x.reason
                ));
            }
        }
    }
    out
}

fn changes(want: &str, got: &str) -> String {
    let w: Vec<&str> = want.lines().filter(|l| l.starts_with("| `")).collect();
    let g: Vec<&str> = got.lines().filter(|l| l.starts_with("| `")).collect();
    let mut out = String::new();
    for l in &w {
        if !g.contains(l) {
            out.push_str(&format!("- {l}\n"));
        }
    }
    for l in &g {
        if !w.contains(l) {
            out.push_str(&format!("+ {l}\n"));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_openid_client() {
    judge("node-openid-client").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_authlib() {
    judge("python-authlib").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_openid_client_v6() {
    judge("node-openid-client-v6").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_openid_client_v6_private_key_jwt() {
    judge_as("node-openid-client-v6", "private-key-jwt", TOKEN_ENDPOINT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_openid_client_v6_pushing_its_requests() {
    judge_as("node-openid-client-v6", "par", AUTHORIZATION_REQUEST).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_openid_client_v6_signing_its_requests() {
    judge_as("node-openid-client-v6", "jar", AUTHORIZATION_REQUEST).await;
}

/// The library registering the app (RFC 7591, `dynamicClientRegistration`): the scenario
/// that starts it with an initial access token, and the login every other scenario starts
/// from, with its configured client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_openid_client_v6_registering_itself() {
    judge_as(
        "node-openid-client-v6",
        "registration",
        &["login.code-flow", "login.registration"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_openid_client_v6_proving_possession() {
    judge_as("node-openid-client-v6", "dpop", DPOP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_openid_client_v6_over_tls() {
    judge_as("node-openid-client-v6", TLS, OVER_TLS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_pyoidc() {
    judge("python-pyoidc").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_pyoidc_over_tls() {
    judge_as("python-pyoidc", TLS, OVER_TLS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_openid_client_private_key_jwt() {
    judge_as("node-openid-client", "private-key-jwt", TOKEN_ENDPOINT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_authlib_private_key_jwt() {
    judge_as("python-authlib", "private-key-jwt", TOKEN_ENDPOINT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_openid_client_over_tls() {
    judge_as("node-openid-client", TLS, OVER_TLS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_authlib_over_tls() {
    judge_as("python-authlib", TLS, OVER_TLS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_authlib_over_tls_attached() {
    judge_attached_tls("python-authlib").await;
}

#[test]
fn a_table_matches_but_for_cells_that_erred_for_the_load_and_nothing_else() {
    let want = "| `sync.background-deadline` | pass | *warn* | skip |\n";
    let loaded = format!("| `sync.background-deadline` | {LOADED} | *warn* | skip |\n");
    assert!(same_but_for_load(want, &loaded));
    let failed = "| `sync.background-deadline` | **fail** | *warn* | skip |\n";
    assert!(!same_but_for_load(want, failed));
    assert!(!same_but_for_load(want, ""), "a row lost");
    assert_eq!(
        keep_where_loaded(want, &loaded),
        want,
        "an update keeps the cell"
    );
}
