use crate::support::{launch, not_passing, odd_skips};
use reference_rp::Defect;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scratch() {
    let names = std::env::var("SCRATCH").unwrap_or_default();
    let defects: Vec<Defect> = names
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let r = launch(&defects).await;
    for (id, v) in not_passing(&r) {
        println!("NP {id}: {v}");
    }
    for (id, v) in odd_skips(&r) {
        println!("SKIP {id}: {v}");
    }
    println!("wall {} ms", r.wall_time_ms);
}
