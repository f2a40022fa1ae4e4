//! The pages people look at, in a real headless browser (Debian's chromium, driven by
//! playwright-core from `pages.mjs`): mock-idp's login page, form_post page, signed-out
//! page (its front-channel logout iframe reaching a stand-in RP with iss and sid, and the
//! way back to the application), the check-session iframe (Session Management: answering a
//! stand-in RP's poll unchanged, then changed after a logout), token inspector, users and
//! live journal, the preflight
//! report and a conformance report of a real third-party RP (openid-client on Node), with
//! JavaScript off, each with an accessibility smoke check.
//! Screenshots land in `target/screenshots/` (CI keeps them).
//!
//! Without chromium the test says so and passes only outside CI (`CI` unset): CI installs
//! chromium, so there the browser's absence fails the test rather than hiding it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use conformance::preflight::{self, PreflightOptions};
use conformance::{Options, RpDescription, SyncMode};
use mock_idp::MockIdp;

const CALLBACK: &str = "http://127.0.0.1/login/oauth2/callback";

/// The RFC 7636 example verifier, whose challenge the pages' authorization URL sends.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// A stand-in RP's callback on a free loopback port (the demo client's loopback redirect
/// URI matches any port, RFC 8252 §7.3): where the login page sends the browser back. A
/// code that comes back in the query is exchanged at `issuer`'s token endpoint before the
/// page answers, as an RP does, so the client holds a grant of the IdP session (what the
/// signed-out page's front-channel iframes are for).
async fn callback_server(issuer: String) -> String {
    use warp::Filter;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let callback = format!("http://127.0.0.1:{port}/login/oauth2/callback");
    let redirect_uri = callback.clone();
    let route = warp::path!("login" / "oauth2" / "callback")
        .and(warp::method())
        .and(warp::query::<std::collections::HashMap<String, String>>())
        .then(
            move |m: warp::http::Method, q: std::collections::HashMap<String, String>| {
                let (issuer, redirect_uri) = (issuer.clone(), redirect_uri.clone());
                async move {
                    let mut exchanged = "";
                    if let Some(code) = q.get("code") {
                        let res = reqwest::Client::new()
                            .post(format!("{issuer}/token"))
                            .form(&[
                                ("grant_type", "authorization_code"),
                                ("code", code),
                                ("redirect_uri", &redirect_uri),
                                ("client_id", "demo-rp"),
                                ("client_secret", "demo-secret"),
                                ("code_verifier", VERIFIER),
                            ])
                            .send()
                            .await;
                        if res.is_ok_and(|r| r.status().is_success()) {
                            exchanged = " (code exchanged)";
                        }
                    }
                    format!("callback reached: {m}{exchanged}")
                }
            },
        );
    // The RP's session check (OIDC Session Management §4.1): a page at the RP's origin that
    // loads the provider's check-session iframe, posts it "client_id session_state" and
    // shows the answer.
    let check = warp::path!("session-check").map(|| {
        warp::reply::html(
            r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>session check</title></head>
<body><main><h1>Session check</h1><p id="answer">waiting</p></main>
<script>
const q = new URLSearchParams(location.search);
const op = new URL(q.get('iframe')).origin;
window.addEventListener('message', (e) => {
  if (e.origin === op) document.getElementById('answer').textContent = e.data;
});
const frame = document.createElement('iframe');
frame.hidden = true;
frame.title = 'check session';
frame.onload = () => frame.contentWindow.postMessage('demo-rp ' + q.get('state'), op);
frame.src = q.get('iframe');
document.body.appendChild(frame);
</script></body></html>"#,
        )
    });
    tokio::spawn(warp::serve(route.or(check)).incoming(listener).run());
    callback
}

/// A stand-in RP's front-channel logout endpoint (what the IdP's signed-out page loads in
/// an iframe: each request's query, and whether a cookie came) and its signed-out page at
/// `/` (a registered post-logout redirect URI of the demo client, any loopback port).
async fn frontchannel_server() -> (String, Arc<Mutex<Vec<(String, bool)>>>) {
    use warp::Filter;
    let got: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let keep = got.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let logout = warp::path!("frontchannel-logout")
        .and(warp::query::raw())
        .and(warp::header::optional::<String>("cookie"))
        .map(move |q: String, cookie: Option<String>| {
            keep.lock().unwrap().push((q, cookie.is_some()));
            warp::reply::html("<!doctype html><title>signed out</title>")
        });
    let home = warp::path::end()
        .map(|| warp::reply::html("<!doctype html><title>RP</title><h1>signed out at the RP</h1>"));
    tokio::spawn(warp::serve(logout.or(home)).incoming(listener).run());
    (base, got)
}

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    path.exists().then_some(path)
}

fn run(script: &Path, args: &[&str]) -> String {
    let out = Command::new(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{} failed:\n{text}", script.display());
    text
}

/// An ID token for bob, got the way an RP gets one.
async fn id_token(idp: &MockIdp) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = http
        .get(format!("{}/authorize", idp.issuer()))
        .query(&[
            ("response_type", "code"),
            ("client_id", "demo-rp"),
            ("redirect_uri", CALLBACK),
            ("scope", "openid profile email offline_access"),
            ("state", "s"),
            ("nonce", "n"),
            ("login_hint", "bob"),
        ])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens: serde_json::Value = http
        .post(format!("{}/token", idp.issuer()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("client_id", "demo-rp"),
            ("client_secret", "demo-secret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["id_token"].as_str().unwrap().to_owned()
}

/// A conformance report of a real third-party RP: a few scenarios, a fail among them.
async fn conformance_report(dir: &Path) -> PathBuf {
    let rp_dir = here().join("rps/node-openid-client");
    run(&rp_dir.join("install.sh"), &[]);
    let rp = RpDescription::from_file(&rp_dir.join("rp.toml")).unwrap();
    let mut opts = Options::new(rp);
    opts.modes = vec![SyncMode::Strict];
    opts.only = [
        "login.code-flow",
        "login.state-mismatch",
        "idtoken.extra-untrusted-aud",
        "sync.uses-refresh-token",
    ]
    .map(str::to_owned)
    .to_vec();
    opts.report_dir = Some(dir.to_path_buf());
    let report = conformance::run(&opts).await.expect("the run completes");
    report
        .write(dir, &[conformance::Format::Html])
        .expect("report.html is written");
    dir.join("report.html")
}

/// An explore report of a real third-party RP: a replayed lifecycle (a login, a group change
/// awaited past the sync deadline, a second browser, a logout), in strict mode.
async fn explore_report(dir: &Path) -> PathBuf {
    use conformance::explore::{ExploreOptions, Replay, explore, page};
    let rp_dir = here().join("rps/node-openid-client");
    let rp = RpDescription::from_file(&rp_dir.join("rp.toml")).unwrap();
    let deadline = rp.sync_deadline_s;
    let plan = serde_json::json!({
        "version": 1,
        "mode": "strict",
        "lanes": [{
            "groups": ["analysts"],
            "actions": [
                {"do": "login"},
                {"do": "groups", "groups": ["admins"]},
                {"do": "idle", "s": deadline * 1.5},
                {"do": "me", "device": 0},
                {"do": "login"},
                {"do": "logout", "device": 0},
                {"do": "me", "device": 0},
                {"do": "me", "device": 1}
            ]
        }]
    });
    let mut run = Options::new(rp);
    run.modes = vec![SyncMode::Strict];
    let mut opts = ExploreOptions::new(run);
    opts.replay = Some(serde_json::from_value::<Replay>(plan).unwrap());
    let report = explore(&opts).await.expect("the replay runs");
    assert!(report.ok(), "{}", report.summary());
    page::write(&report, dir).expect("explore.html is written");
    dir.join("explore.html")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_people_look_at_work_in_a_real_browser() {
    let Some(chromium) = chromium() else {
        let msg = "no chromium at /usr/bin/chromium (set CHROMIUM, or apt-get install chromium)";
        assert!(std::env::var_os("CI").is_none(), "{msg}: CI installs it");
        eprintln!("skipped: {msg}");
        return;
    };
    run(&here().join("browser/install.sh"), &[]);
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let pages = target.join("browser-pages");
    std::fs::create_dir_all(&pages).unwrap();
    let (rp_base, frontchannel) = frontchannel_server().await;
    let front = format!("{rp_base}/frontchannel-logout");
    let idp = MockIdp::builder()
        .edit_config(move |c| {
            c.clients[0].frontchannel_logout_uri = Some(front.clone());
            c.session_management.enabled = true;
        })
        .start()
        .await
        .unwrap();

    let mut opts = PreflightOptions::unattended(idp.issuer(), "demo-rp", "demo-secret", "alice");
    opts.rp.group_map = [("analysts".to_owned(), vec!["read".to_owned()])].into();
    let readiness = preflight::preflight(&opts).await.unwrap();
    assert!(readiness.ready, "{}", preflight::terminal(&readiness));
    let preflight_html = pages.join("preflight.html");
    std::fs::write(&preflight_html, preflight::html(&readiness)).unwrap();
    let report_html = conformance_report(&pages.join("report")).await;
    let explore_html = explore_report(&pages.join("explore")).await;

    let callback = callback_server(idp.issuer().to_owned()).await;
    let authorize = format!(
        "{}/authorize?response_type=code&client_id=demo-rp&redirect_uri={callback}&scope=openid%20profile%20email%20offline_access&state=browser-test&nonce=n&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        idp.issuer()
    );
    let device: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/device_authorization", idp.issuer()))
        .form(&[("client_id", "demo-cli"), ("scope", "openid profile")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let screenshots = target.join("../screenshots");
    let cfg = serde_json::json!({
        "chromium": chromium,
        "authorizeUrl": authorize,
        "callbackPrefix": callback,
        "debugUrl": format!("{}/debug", idp.issuer()),
        "endSessionUrl": format!("{}/end_session", idp.issuer()),
        "checkSessionUrl": format!("{}/check_session", idp.issuer()),
        "sessionCheckUrl": callback.replace("/login/oauth2/callback", "/session-check"),
        "postLogoutUrl": format!("{rp_base}/"),
        "idToken": id_token(&idp).await,
        "deviceUrl": device["verification_uri"],
        "userCode": device["user_code"],
        "preflightHtml": format!("file://{}", preflight_html.display()),
        "reportHtml": format!("file://{}", report_html.display()),
        "exploreHtml": format!("file://{}", explore_html.display()),
        "out": screenshots,
    });
    let out = tokio::task::block_in_place(|| {
        Command::new("node")
            .arg(here().join("browser/pages.mjs"))
            .arg(cfg.to_string())
            .output()
            .expect("node runs")
    });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pages.mjs:\n{text}");
    // The device allowed at the page gets its tokens.
    let polled = reqwest::Client::new()
        .post(format!("{}/token", idp.issuer()))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device["device_code"].as_str().unwrap()),
            ("client_id", "demo-cli"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(polled.status(), 200, "{}", polled.text().await.unwrap());
    let checks: serde_json::Value = serde_json::from_slice(&out.stdout).expect(&text);
    assert!(checks["checks"].as_array().unwrap().len() >= 20, "{text}");
    // The signed-out page's iframes reached the RP, with iss and sid (once with scripts
    // off, once with them on, once for the accessibility check).
    let got = frontchannel.lock().unwrap().clone();
    assert!(got.len() >= 2, "{got:?}");
    for (query, _) in &got {
        let q: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
        assert_eq!(
            q.get("iss").map(String::as_str),
            Some(idp.issuer()),
            "{query}"
        );
        assert!(q.get("sid").is_some_and(|s| !s.is_empty()), "{query}");
    }
    for shot in [
        "login",
        "inspector",
        "journal",
        "preflight",
        "report",
        "signed_out",
        "device",
    ] {
        let png = screenshots.join(format!("{shot}.png"));
        assert!(
            png.metadata().is_ok_and(|m| m.len() > 1000),
            "{}",
            png.display()
        );
    }
}
