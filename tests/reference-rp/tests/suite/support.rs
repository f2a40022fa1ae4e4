//! Running the suite against the reference RP: started by the runner in this process
//! (launch mode through `Options::launcher`, every sync mode), attached (already running),
//! or as the `reference-rp` binary.

use std::sync::Arc;

use conformance::{
    BoxFuture, IdpChoice, Launcher, Options, Outcome, Report, RpDescription, SyncMode,
};
use mock_idp::MockIdp;
use reference_rp::{Defect, Defects, Settings};

/// Sync deadline in these tests (seconds), the RP's sync interval and its IdP timeout.
pub const DEADLINE_S: f64 = 2.0;
pub const INTERVAL_S: f64 = 0.4;
/// Longer than the deadline: a hung refresh that stalls every user's sync (defect
/// `sequential-sync`) then delays the others past the deadline, which is what the suite
/// judges.
pub const IDP_TIMEOUT_S: f64 = 2.5;
/// The RP's JWKS refetch cooldown, declared (defect `jwks-refetch-cooldown` waits 2 s).
pub const JWKS_COOLDOWN_S: f64 = 3.0;

/// The rp.toml shared by the tests: `head` adds top-level keys, `tail` tables.
pub fn rp_toml(modes: &str, head: &str, tail: &str) -> String {
    rp_toml_as("client_secret_post", modes, head, tail)
}

/// [`rp_toml`] for an RP declaring another client authentication.
pub fn rp_toml_as(client_auth: &str, modes: &str, head: &str, tail: &str) -> String {
    format!(
        r#"{head}
client_auth = "{client_auth}"
sync_modes = {modes}
groups_claim = "id_token:/groups"
group_map = {{ analysts = ["read"], admins = ["read", "write"], auditors = ["audit"] }}
sync_deadline_s = {DEADLINE_S}
idp_timeout_s = {IDP_TIMEOUT_S}
jwks_cooldown_s = {JWKS_COOLDOWN_S}
capabilities = ["grant"]

[paths]
backchannel_logout = "/backchannel-logout"
frontchannel_logout = "/frontchannel-logout"
post_logout_redirect = "/logged-out"

[me]
account = "/id"
{tail}"#
    )
}

/// The reference RP, started in this process from the contract's variables.
pub fn in_process() -> Launcher {
    Arc::new(|vars| {
        Box::pin(async move {
            let s = Settings::from_vars(|k| vars.get(k).cloned())?;
            let rp = reference_rp::start(s).await?;
            Ok(Box::new(InProcess(rp)) as Box<dyn conformance::RunningRp>)
        })
    })
}

struct InProcess(reference_rp::RunningRp);

impl conformance::RunningRp for InProcess {
    fn base_url(&self) -> &str {
        self.0.base_url()
    }

    fn stop(self: Box<Self>) -> BoxFuture<Vec<String>> {
        drop(self);
        Box::pin(async { Vec::new() })
    }

    fn exited(&mut self) -> Option<String> {
        self.0.exited().map(|why| format!("the RP exited: {why}"))
    }
}

/// Suite runs at once across this test binary (each runs its three sync modes at once, an
/// RP each). Each run's timing scenarios (a 2 s sync deadline, another user's sync watched
/// while a refresh hangs) need the CPU they measure; on a two-core machine the defect
/// table, the provider matrix and the mode tests together would starve one another.
const RUNS_AT_ONCE: usize = 3;

/// A slot among [`RUNS_AT_ONCE`]: held by each suite run and each exploration.
pub async fn slot() -> tokio::sync::SemaphorePermit<'static> {
    static GATE: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let gate = GATE.get_or_init(|| tokio::sync::Semaphore::new(RUNS_AT_ONCE));
    gate.acquire().await.expect("the gate is never closed")
}

/// Runs the suite, waiting for a slot among [`RUNS_AT_ONCE`].
pub async fn run(opts: &Options) -> Report {
    let _slot = slot().await;
    conformance::run(opts).await.expect("the run completes")
}

/// Runs the suite in launch mode, every sync mode, the reference RP in this process with
/// these defects, the IdP embedded.
pub async fn launch(defects: &[Defect]) -> Report {
    launch_with(defects, |_| {}).await
}

/// [`launch`], with the runner's options edited.
pub async fn launch_with(defects: &[Defect], edit: impl FnOnce(&mut Options)) -> Report {
    let names: Vec<&str> = defects.iter().map(|d| d.name()).collect();
    // The client assertion defects need an RP that signs assertions.
    let signs = defects.iter().any(|d| {
        matches!(
            d,
            Defect::ReusesClientAssertion | Defect::AssertionAudTokenEndpoint
        )
    });
    let auth = if signs {
        "private_key_jwt"
    } else {
        "client_secret_post"
    };
    // The PAR and DPoP defects need an RP set to push its authorization requests or to
    // send proofs, declaring it.
    let features = Features {
        par: defects
            .iter()
            .any(|d| matches!(d, Defect::ParFrontChannel | Defect::ParRepeatsFrontChannel)),
        dpop: defects.iter().any(|d| {
            matches!(
                d,
                Defect::DpopReusesProof | Defect::DpopAcceptsBearer | Defect::DpopIgnoresNonce
            )
        }),
        jar: defects
            .iter()
            .any(|d| matches!(d, Defect::JarPlainRequest | Defect::JarUnsigned)),
        registration: defects.iter().any(|d| {
            matches!(
                d,
                Defect::DcrNoInitialToken | Defect::DcrUnregisteredRedirect
            )
        }),
        jar_by_reference: false,
    };
    let mut opts = Options::new(launched_as(&names, auth, features));
    opts.launcher = Some(in_process());
    edit(&mut opts);
    run(&opts).await
}

/// The reference RP's description in launch mode, every sync mode, with these defects.
fn launched(defects: &[&str], client_auth: &str) -> RpDescription {
    launched_as(defects, client_auth, Features::default())
}

/// What the reference RP is set to do beyond the contract, and declares.
#[derive(Debug, Clone, Copy, Default)]
pub struct Features {
    /// Push its authorization requests (`PAR`, `par = true`).
    pub par: bool,
    /// Send DPoP proofs (`DPOP`, `dpop = true`).
    pub dpop: bool,
    /// Sign its authorization requests (`JAR`, `jar = true`).
    pub jar: bool,
    /// Register itself when started with `REGISTRATION_TOKEN` (`registration = true`).
    pub registration: bool,
    /// With `jar`: publish its request objects and send their `request_uri`
    /// (`JAR_BY_REFERENCE`, `[paths] request_objects`).
    pub jar_by_reference: bool,
}

/// [`launched`], the RP doing and declaring `features`.
pub fn launched_as(defects: &[&str], client_auth: &str, features: Features) -> RpDescription {
    let Features {
        par,
        dpop,
        jar,
        registration,
        jar_by_reference,
    } = features;
    let mut toml = rp_toml_as(
        client_auth,
        r#"["strict", "additive", "none"]"#,
        &format!("par = {par}\ndpop = {dpop}\njar = {jar}\nregistration = {registration}"),
        &format!(
            "[launch]\ncommand = [\"reference-rp\"]\nsync_interval_s = {INTERVAL_S}\nenv = {{ DEFECTS = {:?}, PAR = \"{par}\", DPOP = \"{dpop}\", JAR = \"{jar}\", JAR_BY_REFERENCE = \"{jar_by_reference}\" }}",
            defects.join(",")
        ),
    );
    if jar_by_reference {
        toml = toml.replace(
            "[paths]\n",
            "[paths]\nrequest_objects = \"/request-objects/\"\n",
        );
    }
    RpDescription::from_toml(&toml, "rp.toml").expect("valid rp.toml")
}

/// The explore options for the reference RP with these defects, in `mode`.
pub fn explore_options(
    defects: &[Defect],
    mode: SyncMode,
    budget_s: u64,
    seed: u64,
) -> conformance::explore::ExploreOptions {
    let names: Vec<&str> = defects.iter().map(|d| d.name()).collect();
    let mut run = Options::new(launched(&names, "client_secret_post"));
    run.launcher = Some(in_process());
    run.modes = vec![mode];
    run.progress = true;
    let mut o = conformance::explore::ExploreOptions::new(run);
    o.budget = std::time::Duration::from_secs(budget_s);
    o.shrink_budget = std::time::Duration::from_secs(120);
    o.seed = seed;
    o
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
    let attached = Attached::start(&idp, defects, tenant).await;
    let mut opts = attached.options(&idp);
    edit(&mut opts);
    run(&opts).await
}

/// An RP started once, as in a CI job that attaches the suite to it: its address chosen,
/// its tenant set up (`conformance setup`), then the RP started, which fetches discovery
/// and the JWKS at start-up.
pub struct Attached {
    /// The RP description the runner is given.
    pub desc: RpDescription,
    /// The running RP (it stops when this is dropped).
    _rp: reference_rp::RunningRp,
}

impl Attached {
    /// Sets up tenant `tenant` on `idp` and starts the reference RP against it.
    pub async fn start(idp: &MockIdp, defects: &[Defect], tenant: &str) -> Attached {
        Attached::start_with(idp, defects, tenant, |_| {}).await
    }

    /// [`Attached::start`], the RP's settings edited by `edit`.
    pub async fn start_with(
        idp: &MockIdp,
        defects: &[Defect],
        tenant: &str,
        edit: fn(&mut Settings),
    ) -> Attached {
        let issuer = format!("{}/t/{tenant}", idp.issuer());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let toml = rp_toml(
            r#"["strict"]"#,
            &format!("base_url = \"http://127.0.0.1:{port}\"\nclient_secret = \"attach-secret\""),
            &format!("[idp]\nissuer = \"{issuer}\""),
        );
        let desc = RpDescription::from_toml(&toml, "rp.toml").expect("valid rp.toml");
        let choice = IdpChoice::Attached {
            url: idp.issuer().to_owned(),
            token: None,
            plain: None,
            ca_file: None,
        };
        let set_up = conformance::setup(&desc, &choice).await.expect("setup");
        assert_eq!(set_up, issuer);
        let mut s = Settings::new(&issuer, "conformance-rp", "attach-secret");
        s.port = port;
        s.sync_interval_s = INTERVAL_S;
        s.idp_timeout_s = IDP_TIMEOUT_S;
        s.group_map = desc.group_map.clone();
        s.defects = Defects(defects.iter().copied().collect());
        edit(&mut s);
        let rp = reference_rp::start(s)
            .await
            .expect("the reference RP starts");
        Attached { desc, _rp: rp }
    }

    /// The runner's options, attached to `idp` and this RP.
    pub fn options(&self, idp: &MockIdp) -> Options {
        let mut opts = Options::new(self.desc.clone());
        opts.idp = IdpChoice::Attached {
            url: idp.issuer().to_owned(),
            token: None,
            plain: None,
            ca_file: None,
        };
        opts
    }
}

/// `(scenario id, "Verdict (mode): reason")` of every result that failed, warned or erred.
pub fn not_passing(r: &Report) -> Vec<(String, String)> {
    r.runs
        .iter()
        .flat_map(|m| m.results.iter().map(move |x| (m.sync_mode, x)))
        .filter(|(_, x)| !matches!(x.verdict, Outcome::Pass | Outcome::Skip))
        .map(|(mode, x)| {
            (
                x.id.clone(),
                format!("{:?} ({mode}): {}", x.verdict, x.reason),
            )
        })
        .collect()
}

/// Skips other than "does not apply to this sync mode".
/// What only launch mode can judge: an attach-mode run lists it as lost coverage.
pub const LAUNCH_ONLY: &[&str] = &[
    "login.discovery-issuer-mismatch",
    "idtoken.bad-signature-es256",
    "idtoken.bad-signature-ps256",
];

/// The odd skips of an attach-mode run, once each launch-only scenario is checked to be
/// there, saying why.
pub fn odd_attach_skips(r: &Report) -> Vec<(String, String)> {
    let (launch_only, odd): (Vec<_>, Vec<_>) =
        odd_skips(r).into_iter().partition(|(id, reason)| {
            LAUNCH_ONLY.contains(&id.as_str()) && reason.starts_with("attach mode:")
        });
    let ids: Vec<&str> = launch_only.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, LAUNCH_ONLY, "attach mode lists what needs launch mode");
    odd
}

/// Skips other than those of a scenario for other sync modes, or of `login.par` and
/// `login.dpop*` for an RP that does not declare pushing or DPoP (the controls that do are
/// `modes::the_correct_rp_pushing_its_requests_passes_every_scenario` and
/// `modes::the_correct_rp_proving_possession_passes_every_scenario`).
pub fn odd_skips(r: &Report) -> Vec<(String, String)> {
    let not_declared = |id: &str, reason: &str| {
        let feature = match id {
            "login.par" => "pushed authorization requests",
            "login.jar" => "signed request objects",
            "login.dpop" | "login.dpop-nonce" | "login.dpop-unbound" => "DPoP",
            "login.registration" => "dynamic client registration",
            _ => return false,
        };
        reason.starts_with(conformance::DOES_NOT_APPLY)
            && reason.contains(&format!("does not declare {feature}"))
    };
    r.runs
        .iter()
        .flat_map(|m| &m.results)
        .filter(|x| x.verdict == Outcome::Skip && !x.reason.starts_with("applies to sync mode"))
        .filter(|x| !not_declared(&x.id, &x.reason))
        .map(|x| (x.id.clone(), x.reason.clone()))
        .collect()
}
