//! `reference-rp`: the reference relying party, configured by the conformance contract's
//! environment variables (`ISSUER`, `CLIENT_ID`, `CLIENT_SECRET`, `PORT`, `SYNC_MODE`, …)
//! plus `DEFECTS=a,b` to switch on mistakes.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match reference_rp::Settings::from_vars(|k| std::env::var(k).ok()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("reference-rp: {e}");
            return ExitCode::from(2);
        }
    };
    let rp = match reference_rp::start(settings).await {
        Ok(rp) => rp,
        Err(e) => {
            eprintln!("reference-rp: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "reference-rp ready base_url={} jwks_uri={}",
        rp.base_url(),
        rp.jwks_uri()
    );
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
