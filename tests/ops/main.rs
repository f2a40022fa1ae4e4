//! Real OpenID Providers that nobody here wrote, each in its own folder with a pinned
//! install script and a start script configured like a customer's tenant, judged by
//! `conformance preflight` the way a customer rehearses one: the provider's own login and
//! consent pages finished by a headless Chromium (`--login-with chromium`), the app
//! described by an rp.toml. Each folder commits `findings*.md`, every preflight line and the
//! verdict; the test fails when a run differs, and runs each three times in a row, since a
//! finding that changes between runs is not a finding. `UPDATE_FINDINGS=1` rewrites the
//! tables after a look. Each run captures the tenant's profile, and the rehearsal loop
//! must close on it: preflight on mock-idp serving the capture finds the same, line for
//! line.
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
use mock_idp::{MockIdp, UserConfig};
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

/// A provider started by its `start.sh`. Dropped, its process group is asked to stop
/// (SIGTERM: the start scripts remove their files) and killed a moment later, so that no
/// server a script started outlives the test.
struct Op {
    issuer: String,
    child: tokio::process::Child,
}

impl Drop for Op {
    fn drop(&mut self) {
        let Some(pid) = self.child.id() else {
            return;
        };
        let group = format!("-{pid}");
        let signal = |s: &str| {
            std::process::Command::new("kill")
                .args([s, "--", &group])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|st| st.success())
        };
        if signal("-TERM") {
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            // The leader is reaped here; the group is gone once its servers have exited.
            while std::time::Instant::now() < deadline
                && (!matches!(self.child.try_wait(), Ok(Some(_))) || signal("-0"))
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            signal("-KILL");
        }
    }
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
        child,
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
        let s = match &r.profile_written {
            Some(p) => s.replace(p.as_str(), "{profile}"),
            None => s,
        };
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
         identifiers, `{{profile}}` for the profile file captured.\n\n\
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

/// One provider configuration judged: the folder, the app's rp.toml, the committed
/// findings, the test user (and the groups the provider puts them in, in its order), and
/// the provider's start environment besides the client's.
struct Case<'a> {
    name: &'a str,
    rp_file: &'a str,
    findings: &'a str,
    user: &'a str,
    password: &'a str,
    groups: &'a [&'a str],
    env: &'a [(&'a str, &'a str)],
}

impl Case<'_> {
    /// Preflights the provider three times, each against a freshly started provider; each
    /// table must be the committed findings. Each run captures the tenant's profile, and
    /// the rehearsal loop must close on the first's: preflight against mock-idp serving that
    /// profile (the same client, the same test user) finds what it found on the provider.
    async fn judge(&self) {
        let name = self.name;
        install(name);
        if !browser_here() {
            return;
        }
        let rp = RpDescription::for_preflight(&dir(name).join(self.rp_file)).expect("its rp.toml");
        let path = dir(name).join(self.findings);
        let captured = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "ops-{name}-{}.profile.toml",
            self.findings.trim_end_matches(".md")
        ));
        for run in 1..=3 {
            let redirect_uri = format!("http://127.0.0.1:{}{CALLBACK}", free_port());
            let op = start(name, &redirect_uri, self.env).await;
            let mut opts = self.options(&op.issuer, &rp, redirect_uri);
            opts.write_profile = Some(captured.clone());
            let r = preflight::preflight(&opts).await.expect("preflight runs");
            let got = table(name, &r, &op.issuer);
            if run == 1 && std::env::var_os("UPDATE_FINDINGS").is_some() {
                std::fs::write(&path, &got).expect("the findings are written");
            }
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                got == want,
                "{name} ({}), run {run} of 3: the findings differ from {}:\n{}",
                self.rp_file,
                path.display(),
                changes(&want, &got)
            );
            if run == 1 {
                self.rehearse(&r, &captured, &rp, &got).await;
            }
        }
    }

    fn options(&self, issuer: &str, rp: &RpDescription, redirect_uri: String) -> PreflightOptions {
        let mut opts = PreflightOptions::new(issuer, CLIENT_ID, CLIENT_SECRET);
        opts.rp = rp.clone();
        opts.redirect_uri = Some(redirect_uri);
        opts.open_browser = false;
        opts.login_timeout = Duration::from_secs(60);
        opts.login_with = LoginWith::Chromium(Credentials {
            user: self.user.to_owned(),
            password: self.password.to_owned(),
        });
        opts
    }

    /// The rehearsal loop: mock-idp serving the captured profile, with the app's client and
    /// the provider's test user as its ID token described them, preflighted the same way,
    /// gives the same findings (but for the pages the headless browser went through, which
    /// are the provider's own and not its tenant's shape).
    async fn rehearse(&self, real: &Readiness, captured: &Path, rp: &RpDescription, want: &str) {
        let name = self.name;
        let id = real
            .tokens
            .iter()
            .find(|t| t.name == "id_token")
            .and_then(|t| t.claims.clone())
            .unwrap_or_else(|| panic!("{name}: the real run shows its ID token"));
        let text = |k: &str| id.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        // The test user's own claims (given_name, nickname…), as the provider holds them:
        // every claim but the protocol's, the groups and those the user's fields give.
        let protocol = [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "azp",
            "at_hash",
            "c_hash",
            "sid",
            "groups",
            "email",
            "email_verified",
            "name",
            "preferred_username",
        ];
        let claims = id
            .as_object()
            .map(|c| {
                c.iter()
                    .filter(|(k, _)| !protocol.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let user = UserConfig {
            username: self.user.to_owned(),
            sub: text("sub").expect("the ID token's sub"),
            email: text("email"),
            email_verified: id.get("email_verified").and_then(|v| v.as_bool()),
            name: text("name"),
            preferred_username: text("preferred_username").filter(|p| p != self.user),
            groups: self.groups.iter().map(|g| (*g).to_owned()).collect(),
            password: Some(self.password.to_owned()),
            claims,
            disabled: false,
        };
        let redirect_uri = format!("http://127.0.0.1:{}{CALLBACK}", free_port());
        let registered = redirect_uri.clone();
        let mock = MockIdp::builder()
            .profile(captured.display().to_string())
            .edit_config(move |c| {
                let client = &mut c.clients[0];
                client.id = CLIENT_ID.to_owned();
                client.secret = Some(CLIENT_SECRET.to_owned());
                client.redirect_uris = vec![registered.clone()];
                c.users.clear();
            })
            .user(user)
            .start()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{name}: mock-idp does not start on the captured profile {}: {e}",
                    captured.display()
                )
            });
        let mut opts = self.options(mock.issuer(), rp, redirect_uri);
        opts.write_profile = Some(captured.with_extension("rehearsed.toml"));
        let r = preflight::preflight(&opts)
            .await
            .expect("preflight runs on the mock");
        let got = table(name, &r, mock.issuer());
        assert_eq!(
            id_token_shapes(&r),
            id_token_shapes(real),
            "{name} ({}): the ID tokens of mock-idp serving the captured profile ({}) are not \
             shaped like the provider's (header, claim names; login and refresh)",
            self.rp_file,
            captured.display(),
        );
        assert!(
            without_pages(&got) == without_pages(want),
            "{name} ({}): preflight on mock-idp serving the profile captured from the provider \
             ({}) finds otherwise:\n{}",
            self.rp_file,
            captured.display(),
            changes(&without_pages(want), &without_pages(&got))
        );
    }
}

/// The ID tokens a run saw (the login's, the refresh's): their header as typed (`alg`,
/// `typ`) and the names of their claims.
fn id_token_shapes(r: &Readiness) -> Vec<(String, String, Vec<String>)> {
    r.tokens
        .iter()
        .filter(|t| t.name.starts_with("id_token"))
        .map(|t| {
            let header = t.header.clone().unwrap_or_default();
            let typed = format!("alg {} typ {}", header["alg"], header["typ"]);
            let names = t
                .claims
                .as_ref()
                .and_then(|c| c.as_object())
                .map(|c| c.keys().cloned().collect())
                .unwrap_or_default();
            (t.name.clone(), typed, names)
        })
        .collect()
}

/// A findings table without the pages the headless browser saw (the provider's own login
/// pages, not its tenant's shape).
fn without_pages(table: &str) -> String {
    table
        .lines()
        .map(|l| match l.find(" (the headless browser's pages:") {
            Some(i) if l.starts_with("| `login.redirect`") => {
                let rest = &l[i..];
                let end = rest.find(") |").map_or(l.len(), |j| i + j + 1);
                format!("{}{}", &l[..i], &l[end..])
            }
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `s` with the providers' random identifiers (pairwise subs, interaction ids in page
/// addresses: runs of 20 or more letters, digits, `-` and `_`, with a capital and a small
/// letter — a random id may hold no digit: one of 43 base64url characters in about 1,400
/// does not) written `{random}`.
fn random_ids(s: &str) -> String {
    let is_id_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let random = run.len() >= 20
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
    oidc_provider("rp.toml", "findings.md").judge().await;
}

/// panva's oidc-provider tenant (user alice, any password, in two groups) preflighted for
/// the app of `rp_file`, against `findings`.
fn oidc_provider(rp_file: &'static str, findings: &'static str) -> Case<'static> {
    Case {
        name: "node-oidc-provider",
        rp_file,
        findings,
        user: "alice",
        password: "any",
        groups: &["engineering", "admins"],
        env: &[],
    }
}

/// The same tenant, the app sending prompt=consent: ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oidc_provider_with_consent() {
    oidc_provider("rp-consent.toml", "findings-consent.md")
        .judge()
        .await;
}

/// The same tenant, the app with consent pushing its authorization requests (RFC 9126):
/// oidc-provider's pushed authorization request endpoint takes the app's push
/// (client_secret_post) and the browser carries client_id and request_uri alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oidc_provider_pushing_its_requests() {
    oidc_provider("rp-par.toml", "findings-par.md")
        .judge()
        .await;
}

/// juanifioren's django-oidc-provider: Django's login page and the provider's consent page;
/// a refresh token on every code exchange, rotated on use; groups in the ID token by hook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_django_oidc_provider() {
    Case {
        name: "python-django-oidc-provider",
        rp_file: "rp.toml",
        findings: "findings.md",
        user: "alice",
        password: "alice-password",
        groups: &["admins", "engineering"],
        env: &[],
    }
    .judge()
    .await;
}

/// The same provider, a test user in no group: the one login cannot tell a user without
/// groups from a provider that sends none (the hook sends an empty list: the claim is there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_django_oidc_provider_user_without_groups() {
    Case {
        name: "python-django-oidc-provider",
        rp_file: "rp.toml",
        findings: "findings-no-groups.md",
        user: "bob",
        password: "bob-password",
        groups: &[],
        env: &[],
    }
    .judge()
    .await;
}

/// Glewlwyd (C, Debian's package) with its admin console's defaults: PKCE off, so the app's
/// PKCE login is refused; groups in the ID token, which a refresh does not return.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_glewlwyd() {
    Case {
        name: "c-glewlwyd",
        rp_file: "rp.toml",
        findings: "findings.md",
        user: "alice",
        password: "alice-password",
        groups: &["engineering", "admins"],
        env: &[],
    }
    .judge()
    .await;
}

/// Glewlwyd with PKCE turned on, the app reading the groups from the access token, where
/// Glewlwyd joins them into one string with commas.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_glewlwyd_pkce_access_token_groups() {
    Case {
        name: "c-glewlwyd",
        rp_file: "rp-access-token.toml",
        findings: "findings-pkce-access-token.md",
        user: "alice",
        password: "alice-password",
        groups: &["engineering", "admins"],
        env: &[("PKCE_ALLOWED", "1")],
    }
    .judge()
    .await;
}

#[test]
fn random_identifiers_are_written_random_with_or_without_a_digit() {
    let seen = "{issuer}/interaction/PnnHRHDoheEYrySvqTFmdyUdYVPO_GmPI_QdkpbyOsp: username; \
                {issuer}/interaction/x3Kd9fQ2mZ7pL0aB4cD8e: button";
    assert_eq!(
        random_ids(seen),
        "{issuer}/interaction/{random}: username; {issuer}/interaction/{random}: button"
    );
    for kept in [
        "token_endpoint_auth_methods_supported",
        "python-django-oidc-provider",
        "openid-configuration",
    ] {
        assert_eq!(random_ids(kept), kept);
    }
}
