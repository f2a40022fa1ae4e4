//! Running the suite against an in-process reference RP (attach mode) or the binary
//! (launch mode).

use conformance::{IdpChoice, Options, Report, RpDescription};
use mock_idp::MockIdp;
use reference_rp::{Defect, Defects, Settings};

/// Sync deadline in these tests (seconds) and the RP's sync interval.
pub const DEADLINE_S: f64 = 5.0;
pub const INTERVAL_S: f64 = 0.2;

/// The rp.toml shared by the tests; `extra` adds top-level keys and tables.
pub fn rp_toml(head: &str, tail: &str) -> String {
    format!(
        r#"{head}
client_auth = "client_secret_post"
sync_modes = ["strict"]
groups_claim = "id_token:/groups"
group_map = {{ analysts = ["read"], admins = ["read", "write"] }}
sync_deadline_s = {DEADLINE_S}
capabilities = ["grant"]

[me]
account = "/id"
{tail}"#
    )
}

/// Runs the suite in attach mode: a standalone mock IdP, the reference RP in this
/// process with these defects, the runner attached to both.
pub async fn attach(defects: &[Defect], tenant: &str) -> Report {
    attach_with(defects, tenant, |_| {}).await
}

/// [`attach`], with the runner's options edited.
pub async fn attach_with(
    defects: &[Defect],
    tenant: &str,
    edit: impl FnOnce(&mut Options),
) -> Report {
    let idp = MockIdp::start().await;
    let issuer = format!("{}/t/{tenant}", idp.issuer());
    let mut s = Settings::new(&issuer, "conformance-rp", "attach-secret");
    s.sync_interval_s = INTERVAL_S;
    s.group_map = [
        ("analysts", vec!["read"]),
        ("admins", vec!["read", "write"]),
    ]
    .into_iter()
    .map(|(g, p)| (g.to_owned(), p.into_iter().map(str::to_owned).collect()))
    .collect();
    s.defects = Defects(defects.iter().copied().collect());
    let rp = reference_rp::start(s)
        .await
        .expect("the reference RP starts");
    let toml = rp_toml(
        &format!(
            "base_url = \"{}\"\nclient_secret = \"attach-secret\"",
            rp.base_url()
        ),
        &format!("[idp]\nissuer = \"{issuer}\""),
    );
    let desc = RpDescription::from_toml(&toml, "rp.toml").expect("valid rp.toml");
    let mut opts = Options::new(desc);
    opts.idp = IdpChoice::Attached {
        url: idp.issuer().to_owned(),
        token: None,
    };
    edit(&mut opts);
    conformance::run(&opts).await.expect("the run completes")
}

/// `(scenario id, verdict)` of every result that did not pass.
pub fn not_passing(r: &Report) -> Vec<(String, String)> {
    r.runs
        .iter()
        .flat_map(|m| &m.results)
        .filter(|x| x.verdict != conformance::Outcome::Pass)
        .map(|x| (x.id.clone(), format!("{:?}: {}", x.verdict, x.reason)))
        .collect()
}
