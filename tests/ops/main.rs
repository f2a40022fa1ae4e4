//! Real OpenID Providers that nobody here wrote, each in its own folder with a pinned
//! install script and a start script configured like a customer's tenant, judged by
//! `conformance preflight` the way a customer rehearses one: the provider's own login and
//! consent pages finished by a headless Chromium (`--login-with chromium`), the app
//! described by an rp.toml. Each folder commits `findings*.md`, every preflight line and the
//! verdict; the test fails when a run differs, and runs each three times in a row, since a
//! finding that changes between runs is not a finding. `UPDATE_FINDINGS=1` rewrites the
//! tables after a look.
//!
//! Without chromium and chromedriver the test says so and passes only outside CI (`CI`
//! unset): CI installs them, so there their absence fails the test.

#[path = "../rps/install.rs"]
mod install;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use conformance::RpDescription;
use conformance::preflight::{self, Credentials, LoginWith, PreflightOptions, Readiness};
use tokio::io::{AsyncBufReadExt, BufReader};

const CLIENT_ID: &str = "sso-app";
const CLIENT_SECRET: &str = "rehearsal-secret-0123456789";
const CALLBACK: &str = "/login/oauth2/callback";

/// The folder of one provider.
fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ops").join(name)
}

/// Runs the folder's pinned install script, once per test process.
fn install(name: &str) {
    install::install(&dir(name));
}

/// Whether a headless Chromium can be driven here; outside CI, a missing one is said and
/// the test passes, in CI it fails.
fn browser_here() -> bool {
    let found = |c: &str| {
        Command::new(c)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let here = found("chromedriver") && Path::new("/usr/bin/chromium").exists();
    if !here {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium and chromium-driver for the real-provider tests"
        );
        eprintln!("no chromium/chromedriver here: the real-provider preflights are not run");
    }
    here
}

/// A free loopback port (for the redirect URI registered at the provider before preflight
/// listens on it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Where a provider's own output goes: `target/tmp/ops-<name>.log`.
fn log(name: &str) -> Stdio {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ops-{name}.log"));
    std::fs::File::create(&path)
        .map(Stdio::from)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A provider started by its `start.sh`, killed when dropped.
struct Op {
    issuer: String,
    _child: tokio::process::Child,
}

/// Starts the provider in `name` with the app's client registered for `redirect_uri`; its
/// start script prints `{"issuer": ...}` once it listens.
async fn start(name: &str, redirect_uri: &str, env: &[(&str, &str)]) -> Op {
    let mut child = tokio::process::Command::new("bash")
        .arg(dir(name).join("start.sh"))
        .envs(env.iter().copied())
        .env("PORT", "0")
        .env("CLIENT_ID", CLIENT_ID)
        .env("CLIENT_SECRET", CLIENT_SECRET)
        .env("REDIRECT_URI", redirect_uri)
        .stdout(Stdio::piped())
        .stderr(log(name))
        .kill_on_drop(true)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: cannot start: {e}"));
    let stdout = child.stdout.take().expect("its stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(l) = lines.next_line().await.expect("its stdout") {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&l)
                && let Some(i) = v["issuer"].as_str()
            {
                return i.to_owned();
            }
        }
        panic!("{name}: the provider exited before it listened");
    })
    .await
    .unwrap_or_else(|_| panic!("{name}: the provider did not listen within 120 s"));
    // The rest of its output goes on being read, so the provider never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Op {
        issuer: first,
        _child: child,
    }
}

/// The findings table: one row per preflight line (the run's own addresses written as
/// placeholders), and the verdict.
fn table(title: &str, r: &Readiness, issuer: &str) -> String {
    let origin = url::Url::parse(issuer)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let redact = |s: &str| {
        let s = s
            .replace(issuer, "{issuer}")
            .replace(&r.redirect_uri, "{redirect_uri}")
            .replace(&origin, "{origin}");
        // Token sizes follow the issuer's port digits and the provider's random values.
        let mut out = String::new();
        let mut words = s.split(' ').peekable();
        while let Some(w) = words.next() {
            let next_chars = words.peek().is_some_and(|n| n.starts_with("chars"));
            if next_chars && w.chars().all(|c| c.is_ascii_digit()) {
                out.push('N');
            } else {
                out.push_str(w);
            }
            out.push(' ');
        }
        out.pop();
        random_ids(&out).replace('|', "\\|")
    };
    let mut out = format!(
        "# {title}: `conformance preflight`'s findings\n\n\
         Written by `UPDATE_FINDINGS=1 cargo test -p sso-tests --test ops`; the test fails when a \
         run differs. `{{issuer}}`, `{{origin}}` and `{{redirect_uri}}` stand for the run's own addresses, N \
         for a token's size, `{{kids}}` for the provider's key ids, `{{random}}` for its random \
         identifiers.\n\n\
         | check | status | what was seen | fix |\n|---|---|---|---|\n"
    );
    for c in &r.checks {
        // Key ids are the provider's random names for its keys.
        let detail = match (c.id, c.detail.find(" key(s) ("), c.detail.find(");")) {
            ("discovery.jwks", Some(a), Some(b)) if a < b => {
                format!("{} key(s) ({{kids}}{}", &c.detail[..a], &c.detail[b..])
            }
            _ => c.detail.clone(),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            c.id,
            c.status.as_str(),
            redact(&detail),
            c.fix.as_deref().map(redact).unwrap_or_default()
        ));
    }
    let problems = r
        .checks
        .iter()
        .filter(|c| c.status == preflight::Status::Problem)
        .count();
    out.push_str(&format!(
        "\n**{}** ({problems} problem(s) in {} checks)\n",
        if r.ready { "READY" } else { "NOT READY" },
        r.checks.len()
    ));
    out
}

/// Preflights the provider in `name` as the app `rp_file` describes, three times, each
/// against a freshly started provider; each table must be `findings_file`.
async fn judge(name: &str, rp_file: &str, findings_file: &str, user: &str, password: &str) {
    judge_with(name, rp_file, findings_file, user, password, &[]).await;
}

/// [`judge`] with the provider started with `env` besides the client's.
async fn judge_with(
    name: &str,
    rp_file: &str,
    findings_file: &str,
    user: &str,
    password: &str,
    env: &[(&str, &str)],
) {
    install(name);
    if !browser_here() {
        return;
    }
    let rp = RpDescription::for_preflight(&dir(name).join(rp_file)).expect("its rp.toml");
    let path = dir(name).join(findings_file);
    for run in 1..=3 {
        let redirect_uri = format!("http://127.0.0.1:{}{CALLBACK}", free_port());
        let op = start(name, &redirect_uri, env).await;
        let mut opts = PreflightOptions::new(&op.issuer, CLIENT_ID, CLIENT_SECRET);
        opts.rp = rp.clone();
        opts.redirect_uri = Some(redirect_uri);
        opts.open_browser = false;
        opts.login_timeout = Duration::from_secs(60);
        opts.login_with = LoginWith::Chromium(Credentials {
            user: user.to_owned(),
            password: password.to_owned(),
        });
        let r = preflight::preflight(&opts).await.expect("preflight runs");
        let got = table(name, &r, &op.issuer);
        if run == 1 && std::env::var_os("UPDATE_FINDINGS").is_some() {
            std::fs::write(&path, &got).expect("the findings are written");
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            got == want,
            "{name} ({rp_file}), run {run} of 3: the findings differ from {}:\n{}",
            path.display(),
            changes(&want, &got)
        );
    }
}

/// `s` with the providers' random identifiers (pairwise subs, interaction ids in page
/// addresses: runs of 20 or more letters, digits, `-` and `_`, with a digit, a capital and a
/// small letter) written `{random}`.
fn random_ids(s: &str) -> String {
    let is_id_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let random = run.len() >= 20
            && run.chars().any(|c| c.is_ascii_digit())
            && run.chars().any(|c| c.is_ascii_uppercase())
            && run.chars().any(|c| c.is_ascii_lowercase());
        out.push_str(if random { "{random}" } else { run });
        run.clear();
    };
    for c in s.chars() {
        if is_id_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn changes(want: &str, got: &str) -> String {
    let w: Vec<&str> = want.lines().collect();
    let g: Vec<&str> = got.lines().collect();
    let mut out = String::new();
    for l in w.iter().filter(|l| !g.contains(l)) {
        out.push_str(&format!("- {l}\n"));
    }
    for l in g.iter().filter(|l| !w.contains(l)) {
        out.push_str(&format!("+ {l}\n"));
    }
    out
}

/// panva's oidc-provider, stock: offline_access only with a consent prompt, so an app that
/// does not send prompt=consent gets no refresh token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oidc_provider() {
    judge(
        "node-oidc-provider",
        "rp.toml",
        "findings.md",
        "alice",
        "any",
    )
    .await;
}

/// The same tenant, the app sending prompt=consent: ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oidc_provider_with_consent() {
    judge(
        "node-oidc-provider",
        "rp-consent.toml",
        "findings-consent.md",
        "alice",
        "any",
    )
    .await;
}

/// juanifioren's django-oidc-provider: Django's login page and the provider's consent page;
/// a refresh token on every code exchange, rotated on use; groups in the ID token by hook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_django_oidc_provider() {
    judge(
        "python-django-oidc-provider",
        "rp.toml",
        "findings.md",
        "alice",
        "alice-password",
    )
    .await;
}

/// The same provider, a test user in no group: the one login cannot tell a user without
/// groups from a provider that sends none (the hook sends an empty list: the claim is there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_django_oidc_provider_user_without_groups() {
    judge(
        "python-django-oidc-provider",
        "rp.toml",
        "findings-no-groups.md",
        "bob",
        "bob-password",
    )
    .await;
}

/// Glewlwyd (C, Debian's package) with its admin console's defaults: PKCE off, so the app's
/// PKCE login is refused; groups in the ID token, which a refresh does not return.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_glewlwyd() {
    judge(
        "c-glewlwyd",
        "rp.toml",
        "findings.md",
        "alice",
        "alice-password",
    )
    .await;
}

/// Glewlwyd with PKCE turned on, the app reading the groups from the access token, where
/// Glewlwyd joins them into one string with commas.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_glewlwyd_pkce_access_token_groups() {
    judge_with(
        "c-glewlwyd",
        "rp-access-token.toml",
        "findings-pkce-access-token.md",
        "alice",
        "alice-password",
        &[("PKCE_ALLOWED", "1")],
    )
    .await;
}
