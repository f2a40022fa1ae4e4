//! `mock-idp serve` stops on SIGTERM as on Ctrl-C: it stops accepting, answers the
//! requests in flight, and exits 0 within its grace.

use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

fn stop_with(signal: Signal) {
    let _alone = crate::support::timing();
    let (mut idp, ready) = crate::support::spawn_serve(&[]);
    let issuer = ready.issuer();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        // A token request held 300 ms by a latency fault: in flight when the signal comes, and
        // done well within the shutdown grace (2 s).
        let armed = http
            .post(format!("{issuer}/admin/faults"))
            .json(&json!({"fault": {"kind": "latency", "ms": 300}, "times": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(armed.status(), 201);
        let slow = tokio::spawn({
            let (http, issuer) = (http.clone(), issuer.clone());
            async move {
                http.post(format!("{issuer}/token"))
                    .form(&[
                        ("grant_type", "refresh_token"),
                        ("refresh_token", "x"),
                        ("client_id", "demo-rp"),
                        ("client_secret", "demo-secret"),
                    ])
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            }
        });
        let start = Instant::now();
        loop {
            let faults: Value = http
                .get(format!("{issuer}/admin/faults"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if faults.as_array().is_some_and(|a| a.is_empty()) {
                break; // fired once, so disarmed: the request is being held
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the fault never fired"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let signalled = Instant::now();
        kill(Pid::from_raw(idp.id() as i32), signal).unwrap();
        let answered = slow.await.unwrap();
        assert!(
            matches!(answered, Ok(s) if s >= 400),
            "the request in flight was answered: {answered:?}, {:?} after the signal (fault seen {:?} after it was armed)",
            signalled.elapsed(),
            signalled - start,
        );
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = idp.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < mock_idp::SHUTDOWN_GRACE + Duration::from_secs(2),
            "still running {:?} after the signal",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(0), "{signal}");
}

#[test]
fn sigterm_answers_what_is_in_flight_and_exits_0() {
    stop_with(Signal::SIGTERM);
}

#[test]
fn ctrl_c_answers_what_is_in_flight_and_exits_0() {
    stop_with(Signal::SIGINT);
}
