//! RPs that misbehave at the HTTP level — a redirect loop, a page that never answers, a
//! 50 MB body, hundreds of cookies — get an `error` that names what happened (never a pass
//! or a fail: the suite could not judge), said once for the run, in bounded time. (Not the
//! reference RP: small hostile ones, here because this binary's long runs hide the wait.)

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use conformance::{BoxFuture, Launcher, Options, Outcome, RpDescription, RunningRp, SyncMode};
use warp::Filter;
use warp::http::{Response, StatusCode};

/// How the RP's login page misbehaves.
#[derive(Debug, Clone, Copy)]
enum Misbehaviour {
    RedirectLoop,
    Hangs,
    HugeBody,
    Cookies,
}

struct Hostile {
    base_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl RunningRp for Hostile {
    fn base_url(&self) -> &str {
        &self.base_url
    }
    fn stop(self: Box<Self>) -> BoxFuture<Vec<String>> {
        self.task.abort();
        Box::pin(async { Vec::new() })
    }
}

fn login_page(m: Misbehaviour) -> BoxFuture<Response<warp::hyper::body::Bytes>> {
    Box::pin(async move {
        match m {
            Misbehaviour::RedirectLoop => Response::builder()
                .status(StatusCode::FOUND)
                .header("location", "/login")
                .body(Default::default())
                .unwrap(),
            Misbehaviour::Hangs => {
                std::future::pending::<()>().await;
                unreachable!()
            }
            Misbehaviour::HugeBody => Response::builder()
                .status(StatusCode::OK)
                .body(vec![b'x'; 50 << 20].into())
                .unwrap(),
            Misbehaviour::Cookies => {
                let mut r = Response::builder().status(StatusCode::OK);
                for i in 0..300 {
                    r = r.header("set-cookie", format!("c{i}={}; Path=/", "v".repeat(40)));
                }
                r.body("no login here".into()).unwrap()
            }
        }
    })
}

fn launcher(m: Misbehaviour) -> Launcher {
    Arc::new(move |vars: BTreeMap<String, String>| {
        Box::pin(async move {
            let port: u16 = vars["PORT"].parse().map_err(|e| format!("PORT: {e}"))?;
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .map_err(|e| e.to_string())?;
            let health = warp::path("healthz").map(|| "ok");
            let me = warp::path("me")
                .map(|| warp::reply::with_status("no session", StatusCode::UNAUTHORIZED));
            let login = warp::path("login").then(move || login_page(m));
            let routes = health.or(me).or(login);
            let task = tokio::spawn(warp::serve(routes).incoming(listener).run());
            Ok(Box::new(Hostile {
                base_url: format!("http://127.0.0.1:{port}"),
                task,
            }) as Box<dyn RunningRp>)
        })
    })
}

/// The login scenario against an RP misbehaving this way: its verdict and reason, and how
/// long the run took.
async fn judge(m: Misbehaviour) -> (Outcome, String, Duration) {
    let rp = RpDescription::from_toml(
        "[launch]\ncommand = [\"in-process\"]\nsync_interval_s = 0.5\n",
        "rp.toml",
    )
    .unwrap();
    let mut opts = Options::new(rp);
    opts.launcher = Some(launcher(m));
    opts.modes = vec![SyncMode::Strict];
    opts.only = vec!["login.code-flow".into(), "login.state-mismatch".into()];
    let started = Instant::now();
    let report = conformance::run(&opts).await.expect("the run completes");
    let r = report.runs[0]
        .results
        .iter()
        .find(|r| r.id == "login.code-flow")
        .unwrap();
    let other = &report.runs[0].results[1];
    assert_eq!(other.verdict, Outcome::Skip);
    assert!(
        report
            .lost_coverage()
            .values()
            .any(|ids| ids.contains(&other.id))
    );
    // Said once: the other scenarios are skipped with that reason, as coverage lost.
    assert_eq!(report.runs[0].no_login.as_deref(), Some(r.reason.as_str()));
    (r.verdict, r.reason.clone(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_rp_is_an_error_that_names_what_happened() {
    let cases = [
        (Misbehaviour::RedirectLoop, "more than 12 hops"),
        (
            Misbehaviour::Hangs,
            "no answer within 30 s (the browser's patience): the RP hangs",
        ),
        (Misbehaviour::HugeBody, "larger than"),
        (Misbehaviour::Cookies, "hundreds of Set-Cookie"),
    ];
    let runs = cases.map(|(m, _)| tokio::spawn(judge(m)));
    for ((m, want), run) in cases.into_iter().zip(runs) {
        let (verdict, reason, took) = run.await.unwrap();
        eprintln!("{m:?}: {verdict:?} in {took:?}: {reason}");
        assert_eq!(verdict, Outcome::Error, "{m:?}: {reason}");
        assert!(reason.contains(want), "{m:?}: {reason}");
        // Two tries of the browser's patience at most, whatever the catalogue's size.
        assert!(took < Duration::from_secs(75), "{m:?} took {took:?}");
    }
}
