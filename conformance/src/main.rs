//! `conformance`: run the relying-party conformance suite.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use conformance::{ExpectedFailures, Format, IdpChoice, Options, RpDescription, SyncMode};

#[derive(Parser)]
#[command(
    name = "conformance",
    version,
    about = "Conformance suite for OpenID Connect relying parties"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print every scenario: id, category, sync modes, description.
    List {
        /// The catalogue as Markdown, with each requirement (what SCENARIOS.md holds).
        #[arg(long)]
        markdown: bool,
    },
    /// Run the scenarios against an RP described by an rp.toml.
    Run(Box<Run>),
    /// Rehearse a real provider before go-live: act as the RP (rp.toml) against it —
    /// discovery, one login, one refresh, the group mapping — and report readiness.
    /// Exit 0 ready, 1 not ready, 2 bad usage.
    Preflight(Box<Preflight>),
    /// Explore the RP: random lifecycles of several users at once, checked against a
    /// model of the contract; a disagreement is shrunk to the shortest replayable plan.
    /// Exit 0 none, 1 a confirmed disagreement (or no login), 2 bad usage.
    Explore(Box<Explore>),
    /// Attach mode: create (or rebuild) the tenant the RP will use, on a running mock IdP,
    /// before the RP starts; print its issuer. `run` keeps the tenant's issuer and keys.
    Setup(Setup),
}

/// Where the IdP is: embedded (the default) or a running `mock-idp serve`.
#[derive(clap::Args)]
struct IdpArgs {
    /// Use a running mock IdP (its issuer URL) instead of an embedded one.
    #[arg(long, env = "CONFORMANCE_IDP")]
    idp: Option<String>,
    /// The running mock IdP's admin token.
    #[arg(long, env = "MOCK_IDP_ADMIN_TOKEN")]
    admin_token: Option<String>,
    /// For a running mock IdP served over HTTPS, optional: the same server's plain origin,
    /// which the runner's own clients then use instead of TLS (`mock-idp serve --tls
    /// --plain-alongside` prints it as plain=…).
    #[arg(long, requires = "idp")]
    idp_plain: Option<String>,
    /// For a running mock IdP (or a proxy in front of it) served over HTTPS: its CA file
    /// (`ca=…` in mock-idp's ready line), which the runner trusts besides the system's roots
    /// and hands to a launched RP as with --tls.
    #[arg(long, requires = "idp")]
    idp_ca: Option<PathBuf>,
    /// Address of the embedded IdP (default: rp.toml's idp.issuer, else a random port).
    #[arg(long)]
    idp_addr: Option<SocketAddr>,
    /// Serve the embedded IdP over HTTPS with a throw-away CA: the launched RP is told its
    /// file (IDP_CA_FILE, SSL_CERT_FILE, REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS), so that
    /// it runs with an https issuer, as in production.
    #[arg(long, conflicts_with = "idp")]
    tls: bool,
}

impl IdpArgs {
    fn choice(self) -> IdpChoice {
        match self.idp {
            Some(url) => IdpChoice::Attached {
                url,
                token: self.admin_token,
                plain: self.idp_plain,
                ca_file: self.idp_ca,
            },
            None => IdpChoice::Embedded(self.idp_addr),
        }
    }
}

#[derive(clap::Args)]
struct Run {
    /// The RP description.
    #[arg(long, env = "CONFORMANCE_RP")]
    rp: PathBuf,
    /// Only scenarios matching these globs (comma-separated), e.g. `login.*,idtoken.alg-*`.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Write the report files here.
    #[arg(long, env = "CONFORMANCE_REPORT")]
    report: Option<PathBuf>,
    /// Report formats to write.
    #[arg(long, value_delimiter = ',', default_value = "json,junit,md,html")]
    format: Vec<Format>,
    /// Scenarios known to fail: `id-or-glob reason` per line.
    #[arg(long)]
    expected_failures: Option<PathBuf>,
    #[command(flatten)]
    idp: IdpArgs,
    /// Scenarios run at once.
    #[arg(long, default_value_t = 16)]
    jobs: usize,
    /// Only these sync modes (comma-separated) of those rp.toml declares.
    #[arg(long, value_delimiter = ',')]
    mode: Vec<SyncMode>,
    /// Run against these provider profiles of the mock IdP (comma-separated, or `all`; see
    /// `mock-idp profiles`), one after the other, and print the scenario × profile matrix.
    /// Launch mode only.
    #[arg(long, value_delimiter = ',')]
    idp_profile: Vec<String>,
    /// Run against a provider profile file too (e.g. one `conformance preflight
    /// --write-profile` captured from a real tenant); may be repeated. Launch mode only.
    #[arg(long)]
    idp_profile_file: Vec<PathBuf>,
    /// Per-scenario time limit in seconds (default: longer than the scenario's longest
    /// wait; see `default_timeout`).
    #[arg(long)]
    scenario_timeout: Option<f64>,
    /// Treat a skipped scenario as a failure (exit 1), except one that does not apply to
    /// the sync mode: no coverage is lost silently.
    #[arg(long)]
    fail_on_skip: bool,
}

#[derive(clap::Args)]
struct Explore {
    /// The RP description.
    #[arg(long, env = "CONFORMANCE_RP")]
    rp: PathBuf,
    /// How long to explore each sync mode (the modes explore at once): `90s`, `10m`, `1h`.
    #[arg(long, default_value = "120s", value_parser = conformance::explore::parse_duration)]
    budget: std::time::Duration,
    /// How long shrinking one disagreement may take.
    #[arg(long, default_value = "180s", value_parser = conformance::explore::parse_duration)]
    shrink_budget: std::time::Duration,
    /// The seed of the random lifecycles (printed on every run; default: a random one).
    #[arg(long)]
    seed: Option<u64>,
    /// Users explored at once, each a lane of its own.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    users: u16,
    /// Actions per lane, at most.
    #[arg(long, default_value_t = 18)]
    max_actions: usize,
    /// Run exactly this replay file (written by an earlier explore) instead of exploring.
    #[arg(long)]
    replay: Option<PathBuf>,
    /// Write explore.json, explore.md, explore.html and the replay files here.
    #[arg(long, env = "CONFORMANCE_REPORT")]
    report: Option<PathBuf>,
    /// Only these sync modes (comma-separated) of those rp.toml declares.
    #[arg(long, value_delimiter = ',')]
    mode: Vec<SyncMode>,
    #[command(flatten)]
    idp: IdpArgs,
}

#[derive(clap::Args)]
struct Preflight {
    /// The issuer URL exactly as the app is configured with it.
    #[arg(long)]
    issuer: String,
    /// The app's client id at the provider.
    #[arg(long)]
    client_id: String,
    /// The app's client secret (better from the environment than the command line);
    /// none for an app on private_key_jwt.
    #[arg(
        long,
        env = "PREFLIGHT_CLIENT_SECRET",
        hide_env_values = true,
        default_value = ""
    )]
    client_secret: String,
    /// The app's private key (PEM: RSA signs RS256, EC P-256 ES256), for an app that
    /// authenticates with private_key_jwt.
    #[arg(long)]
    client_key: Option<PathBuf>,
    /// The kid its public key is registered under at the provider.
    #[arg(long, requires = "client_key")]
    client_key_id: Option<String>,
    /// The app's description: scopes, client authentication, groups claim, group map,
    /// token limits (default: the standard scopes, client_secret_post, id_token:/groups,
    /// no group map).
    #[arg(long)]
    rp: Option<PathBuf>,
    /// The redirect URI registered for the app, on loopback (preflight listens there;
    /// default http://127.0.0.1:<free port><rp.toml's callback path>).
    #[arg(long)]
    redirect_uri: Option<String>,
    /// Send login_hint, and follow the authorization URL without a person (against
    /// mock-idp this completes the login; a provider showing a page falls back to you).
    #[arg(long)]
    login_hint: Option<String>,
    /// Who does the person's part of the login: `person` (you, in your browser) or
    /// `chromium` (a headless Chromium fills in the provider's pages as --login-user, for
    /// CI; needs chromium and chromedriver).
    #[arg(long, default_value = "person", value_parser = ["person", "chromium"])]
    login_with: String,
    /// The test user the headless browser logs in as (--login-with chromium).
    #[arg(long, required_if_eq("login_with", "chromium"))]
    login_user: Option<String>,
    /// That user's password (better from the environment than the command line).
    #[arg(long, env = "PREFLIGHT_LOGIN_PASSWORD", hide_env_values = true)]
    login_password: Option<String>,
    /// Seconds a person (or the headless browser) has to log in.
    #[arg(long, default_value_t = 300)]
    login_timeout: u64,
    /// Do not open the authorization URL in the desktop's browser.
    #[arg(long)]
    no_open: bool,
    /// The provider (okta, entra, keycloak, google, auth0, adfs, pingfederate), when the
    /// issuer does not tell: fixes are then given in its console's words.
    #[arg(long)]
    provider: Option<String>,
    /// Write the tenant's shape here as a mock-idp profile file (no secret, token or
    /// personal data), for `mock-idp serve --profile-file` and
    /// `conformance run --idp-profile-file`.
    #[arg(long)]
    write_profile: Option<PathBuf>,
    /// Write the readiness report here (preflight.json, preflight.md, preflight.html).
    #[arg(long)]
    report: Option<PathBuf>,
    /// CA certificates (PEM) to trust besides the system's: a provider behind a private
    /// CA (an on-premises Keycloak or AD FS).
    #[arg(long)]
    ca_file: Option<PathBuf>,
}

#[derive(clap::Args)]
struct Setup {
    /// The RP description (its `[idp] issuer` names the tenant).
    #[arg(long, env = "CONFORMANCE_RP")]
    rp: PathBuf,
    /// The running mock IdP (its default issuer URL).
    #[arg(long, env = "CONFORMANCE_IDP")]
    idp: String,
    /// The running mock IdP's admin token.
    #[arg(long, env = "MOCK_IDP_ADMIN_TOKEN")]
    admin_token: Option<String>,
    /// For an IdP served over HTTPS, optional: the same server's plain origin, which the
    /// runner then uses instead of TLS (`mock-idp serve --tls --plain-alongside` prints it
    /// as plain=…).
    #[arg(long)]
    idp_plain: Option<String>,
    /// For an IdP (or a proxy in front of it) served over HTTPS: its CA file, which the
    /// runner trusts besides the system's roots.
    #[arg(long)]
    idp_ca: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    conformance::group::kill_on_panic();
    match Cli::parse().command {
        Command::List { markdown: true } => {
            print!("{}", conformance::catalogue_markdown());
            ExitCode::SUCCESS
        }
        Command::List { markdown: false } => {
            print!("{}", conformance::catalogue_table());
            ExitCode::SUCCESS
        }
        Command::Preflight(p) => match preflight(*p).await {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("conformance preflight: {e}");
                ExitCode::from(2)
            }
        },
        Command::Explore(x) => supervise("conformance explore", explore(*x)).await,
        Command::Setup(s) => {
            let rp = match RpDescription::from_file(&s.rp) {
                Ok(rp) => rp,
                Err(e) => {
                    eprintln!("conformance: {e}");
                    return ExitCode::from(2);
                }
            };
            let idp = IdpChoice::Attached {
                url: s.idp,
                token: s.admin_token,
                plain: s.idp_plain,
                ca_file: s.idp_ca,
            };
            match conformance::setup(&rp, &idp).await {
                Ok(issuer) => {
                    println!("ISSUER={issuer}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("conformance: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Run(r) => supervise("conformance", run(*r)).await,
    }
}

/// Runs a command's work in a task of its own, so that an interruption finds its RPs still
/// registered and kills each one's whole process group before anything else; its exit
/// status (0 ok, 1 a failure found, 2 bad usage, 128 + the signal when interrupted).
async fn supervise(
    name: &str,
    work: impl std::future::Future<Output = Result<bool, String>> + Send + 'static,
) -> ExitCode {
    let mut task = tokio::spawn(work);
    let done = tokio::select! {
        done = &mut task => done.unwrap_or_else(|e| Err(format!("crashed: {e}"))),
        (signal, code) = interrupted() => {
            let n = conformance::group::kill_all();
            task.abort();
            eprintln!("{name}: {signal}: stopped, and with it {n} launched RP(s)");
            return ExitCode::from(code);
        }
    };
    match done {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::from(2)
        }
    }
}

/// Ctrl-C or SIGTERM: the signal's name and the exit status it asks for (128 + signal).
async fn interrupted() -> (&'static str, u8) {
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    // Windows has no SIGTERM: Ctrl-C (and Ctrl-Break's default) only.
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        Ok(()) = tokio::signal::ctrl_c() => ("interrupted (SIGINT)", 130),
        () = term => ("terminated (SIGTERM)", 143),
    }
}

async fn run(r: Run) -> Result<bool, String> {
    let rp = RpDescription::from_file(&r.rp).map_err(|e| e.to_string())?;
    let catalogue = conformance::catalogue();
    let ids: Vec<&str> = catalogue.iter().map(|s| s.id).collect();
    for pattern in &r.only {
        if !ids.iter().any(|id| conformance::matches(pattern, id)) {
            return Err(format!(
                "--only {pattern:?} matches no scenario (see `conformance list`)"
            ));
        }
    }
    let expected = match &r.expected_failures {
        Some(path) => ExpectedFailures::from_file(path, &ids)?,
        None => ExpectedFailures::default(),
    };
    let mut opts = Options::new(rp);
    opts.only = r.only;
    opts.jobs = r.jobs;
    opts.modes = r.mode;
    opts.idp_profiles = profiles(&r.idp_profile)?;
    for f in &r.idp_profile_file {
        let path = std::fs::canonicalize(f)
            .map_err(|e| format!("--idp-profile-file {}: {e}", f.display()))?;
        let reference = path.display().to_string();
        mock_idp::profiles::get(&reference).map_err(|e| format!("--idp-profile-file: {e}"))?;
        opts.idp_profiles.push(reference);
    }
    opts.expected = expected;
    opts.report_dir = r.report.clone();
    opts.progress = true;
    opts.scenario_timeout = r.scenario_timeout.map(std::time::Duration::from_secs_f64);
    opts.tls = r.idp.tls;
    opts.idp = r.idp.choice();
    let report = conformance::run(&opts).await.map_err(|e| e.to_string())?;
    eprint!("{}", conformance::report::summary(&report));
    if let Some(dir) = &r.report {
        report.write(dir, &r.format)?;
        eprintln!("report: {}", dir.display());
    }
    let lost = report.lost_coverage();
    Ok(report.ok() && (!r.fail_on_skip || lost.is_empty()))
}

/// Explores (or replays); whether the RP held to the model, or a usage error.
async fn explore(x: Explore) -> Result<bool, String> {
    use conformance::explore::{ExploreOptions, Replay, explore, page};
    let rp = RpDescription::from_file(&x.rp).map_err(|e| e.to_string())?;
    let mut run = Options::new(rp);
    run.modes = x.mode;
    run.report_dir = x.report.clone();
    run.progress = true;
    run.tls = x.idp.tls;
    run.idp = x.idp.choice();
    let mut opts = ExploreOptions::new(run);
    opts.budget = x.budget;
    opts.shrink_budget = x.shrink_budget;
    opts.seed = x.seed.unwrap_or(opts.seed);
    opts.users = x.users.into();
    opts.max_actions = x.max_actions;
    if let Some(path) = &x.replay {
        opts.replay = Some(Replay::from_file(path).map_err(|e| e.to_string())?);
    }
    eprintln!("conformance explore: seed {}", opts.seed);
    let report = explore(&opts).await.map_err(|e| e.to_string())?;
    eprint!("{}", report.summary());
    if let Some(dir) = &x.report {
        for f in page::write(&report, dir)? {
            eprintln!(
                "replay: conformance explore --rp {} --replay {}",
                x.rp.display(),
                f.display()
            );
        }
        eprintln!("report: {}", dir.display());
    }
    Ok(report.ok())
}

/// Runs a preflight; whether the provider is ready, or a usage error.
async fn preflight(p: Preflight) -> Result<bool, String> {
    use conformance::preflight;
    let rp = match &p.rp {
        Some(path) => RpDescription::for_preflight(path).map_err(|e| e.to_string())?,
        None => RpDescription::preflight_default(),
    };
    url::Url::parse(&p.issuer).map_err(|e| format!("--issuer {:?}: {e}", p.issuer))?;
    let provider = p
        .provider
        .as_deref()
        .map(preflight::Provider::from_name)
        .transpose()
        .map_err(|e| format!("--provider: {e}"))?;
    let opts = preflight::PreflightOptions {
        issuer: p.issuer,
        client_id: p.client_id,
        client_secret: p.client_secret,
        rp,
        redirect_uri: p.redirect_uri,
        login_hint: p.login_hint,
        login_with: match (p.login_with.as_str(), p.login_user) {
            ("chromium", Some(user)) => {
                preflight::LoginWith::Chromium(preflight::Credentials {
                    user,
                    password: p.login_password.ok_or(
                        "--login-with chromium: the test user's password is needed (PREFLIGHT_LOGIN_PASSWORD or --login-password)",
                    )?,
                })
            }
            _ => preflight::LoginWith::Person,
        },
        login_timeout: std::time::Duration::from_secs(p.login_timeout),
        open_browser: !p.no_open,
        provider,
        write_profile: p.write_profile,
        ca_file: p.ca_file,
        client_key: match &p.client_key {
            None => None,
            Some(file) => Some(preflight::ClientKey {
                pem: std::fs::read_to_string(file)
                    .map_err(|e| format!("--client-key {}: {e}", file.display()))?,
                kid: p.client_key_id.clone(),
            }),
        },
    };
    let r = preflight::preflight(&opts)
        .await
        .map_err(|e| e.to_string())?;
    print!("{}", preflight::terminal(&r));
    if let Some(dir) = &p.report {
        std::fs::create_dir_all(dir).map_err(|e| format!("--report {}: {e}", dir.display()))?;
        for (name, text) in [
            ("preflight.json", preflight::json(&r)),
            ("preflight.md", preflight::markdown(&r)),
            ("preflight.html", preflight::html(&r)),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        eprintln!("report: {}", dir.display());
    }
    Ok(r.ready)
}

/// `all`, or names checked against the mock IdP's profiles.
fn profiles(asked: &[String]) -> Result<Vec<String>, String> {
    let known = mock_idp::profiles::PROFILES;
    if asked.iter().any(|p| p == "all") {
        return Ok(known.iter().map(|p| p.name.to_string()).collect());
    }
    for p in asked {
        mock_idp::profiles::get(p).map_err(|e| format!("--idp-profile: {e}"))?;
    }
    Ok(asked.to_vec())
}
