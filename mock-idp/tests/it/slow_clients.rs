//! Slow and abusive clients: connections that send half their headers, or nothing, and a
//! body past the limit. The server keeps serving everyone else at once, closes the slow
//! ones after the header timeout, and refuses the body without reading it all.

use std::time::{Duration, Instant};

use mock_idp::MockIdp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMIT: Duration = Duration::from_millis(800);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_do_not_hold_the_server() {
    let idp = MockIdp::builder()
        .header_read_timeout(LIMIT)
        .start()
        .await
        .unwrap();
    let addr = idp.addr();
    let mut slow = Vec::new();
    for i in 0..600 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        if i % 2 == 0 {
            // Half a request, then nothing: a slow-headers client.
            s.write_all(b"GET /jwks HTTP/1.1\r\nHost: idp\r\nX-Slow: ")
                .await
                .unwrap();
        }
        slow.push(s);
    }
    // Everyone else is served meanwhile, at once.
    let http = reqwest::Client::new();
    let started = Instant::now();
    for _ in 0..20 {
        let res = http.get(idp.discovery_url()).send().await.unwrap();
        assert_eq!(res.status(), 200);
    }
    assert!(
        started.elapsed() < LIMIT,
        "served in {:?}",
        started.elapsed()
    );
    // The slow and idle ones are closed once the header timeout passes: each read ends
    // (end of stream, or an error) within the limit and a margin, none is answered 200.
    let started = Instant::now();
    for s in slow.iter_mut() {
        let mut buf = [0u8; 512];
        let read = tokio::time::timeout(LIMIT * 4, s.read(&mut buf))
            .await
            .expect("the server closes a connection that sends no complete headers");
        if let Ok(n) = read {
            assert!(!String::from_utf8_lossy(&buf[..n]).contains(" 200 "));
        }
    }
    assert!(started.elapsed() < LIMIT * 4);
}

#[tokio::test]
async fn a_body_past_the_limit_is_refused_without_reading_it_all() {
    let idp = MockIdp::start().await;
    let mut s = TcpStream::connect(idp.addr()).await.unwrap();
    // Announces 100 MB, sends 1 MB of it.
    s.write_all(
        b"POST /token HTTP/1.1\r\nHost: idp\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 104857600\r\n\r\n",
    )
    .await
    .unwrap();
    let chunk = vec![b'a'; 1 << 20];
    let _ = s.write_all(&chunk).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413"), "{text:.200}");
    assert!(text.contains("invalid_request"), "{text:.400}");
}
