//! The `mock-idp` command: `serve`, `check`, `profiles` and `keys generate` (the binary's
//! `main`, and the same command in the Python wheel, which ships it from the `conformance`
//! crate).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::{MockIdp, SigningAlg};
use clap::{Parser, Subcommand};

/// A mock OpenID Provider for testing relying parties.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the IdP until interrupted.
    Serve {
        /// Config file (default: the built-in demo tenant, fixtures/idp.toml).
        #[arg(long, env = "MOCK_IDP_CONFIG")]
        config: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, env = "MOCK_IDP_ADDR", default_value = "127.0.0.1:9400")]
        addr: SocketAddr,
        /// Pin the issuer URL (default: the config's issuer path on the bound address).
        #[arg(long, env = "MOCK_IDP_ISSUER")]
        issuer: Option<String>,
        /// Bearer token for the admin API; required to listen on a non-loopback address.
        #[arg(long, env = "MOCK_IDP_ADMIN_TOKEN")]
        admin_token: Option<String>,
        /// Shape the tenant like a real provider (see `mock-idp profiles`); a config
        /// file's own keys win over it.
        #[arg(long, env = "MOCK_IDP_PROFILE", conflicts_with = "profile_file")]
        profile: Option<String>,
        /// Shape the tenant like this profile file (e.g. one `conformance preflight
        /// --write-profile` captured from a real tenant).
        #[arg(long, env = "MOCK_IDP_PROFILE_FILE")]
        profile_file: Option<PathBuf>,
        /// Serve HTTPS with a throw-away CA made at start (its PEM goes to --tls-ca-out;
        /// the RP trusts it), or with --tls-cert/--tls-key.
        #[arg(long, env = "MOCK_IDP_TLS")]
        tls: bool,
        /// Serve HTTPS with this certificate chain (PEM) instead of a generated one.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key (PEM) of --tls-cert.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Where to write the generated CA's certificate (default: mock-idp-ca-<port>.pem
        /// in the temporary directory).
        #[arg(long)]
        tls_ca_out: Option<PathBuf>,
        /// With --tls: also serve the same tenants over plain HTTP on a second loopback
        /// port (printed as plain=…), for a harness whose own clients speak no TLS
        /// (`conformance run --idp https://… --idp-plain …`). Discovery and tokens still
        /// name the https issuer.
        #[arg(long)]
        plain_alongside: bool,
        /// RSA keys to keep ready for tenants created at runtime (each tenant gets keys
        /// of its own; a ready one makes creation sub-millisecond). Given, the pool fills
        /// from start-up; otherwise it holds 8 and fills from the first tenant created.
        #[arg(long, env = "MOCK_IDP_KEY_POOL")]
        key_pool: Option<usize>,
    },
    /// Check a config file and exit.
    Check {
        /// The config file.
        config: PathBuf,
        /// Check it shaped like this provider profile (a name, or a profile file's path).
        #[arg(long)]
        profile: Option<String>,
    },
    /// List the provider profiles, one line each.
    Profiles,
    /// Manage signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Write a new private key (PKCS#8 PEM) for the config's [[keys]].
    Generate {
        /// Algorithm: RS256 and PS256 make an RSA 2048 key, ES256 a P-256 key.
        #[arg(long, default_value = "RS256")]
        alg: String,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Parses the command line and runs the command; the process's exit code.
#[tokio::main]
pub async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            // A line per request (target mock_idp::http) only when asked for: writing it
            // to stderr on every request halved the throughput; the journal keeps them.
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,mock_idp::http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse().command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-idp: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A profile file's path as a profile reference (see `crate::profiles::is_file`).
fn file_reference(path: &std::path::Path) -> String {
    let s = path.display().to_string();
    if crate::profiles::is_file(&s) {
        s
    } else {
        format!("./{s}")
    }
}

async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Serve {
            config,
            addr,
            issuer,
            admin_token,
            profile,
            profile_file,
            tls,
            tls_cert,
            tls_key,
            tls_ca_out,
            plain_alongside,
            key_pool,
        } => {
            if let Some(n) = key_pool {
                crate::key_pool::warm(n);
            }
            let tls_on = tls || tls_cert.is_some();
            if plain_alongside && !tls_on {
                return Err("--plain-alongside needs --tls (or --tls-cert): without TLS the server is plain already".into());
            }
            let mut b = MockIdp::builder().addr(addr);
            if plain_alongside {
                b = b.plain_alongside();
            }
            match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => b = b.tls_files(cert, key),
                _ if tls => b = b.tls(),
                _ => {}
            }
            if let Some(p) = profile.or(profile_file.map(|f| file_reference(&f))) {
                b = b.profile(p);
            }
            if let Some(token) = admin_token {
                b = b.admin_token(token);
            }
            if let Some(path) = config {
                b = b.config_file(path);
            }
            if let Some(i) = issuer {
                b = b.issuer(i);
            }
            let idp = b.start().await.map_err(|e| e.to_string())?;
            let ca = match idp.ca_pem() {
                None => String::new(),
                Some(pem) => {
                    let path = tls_ca_out.unwrap_or_else(|| {
                        std::env::temp_dir().join(format!("mock-idp-ca-{}.pem", idp.addr().port()))
                    });
                    std::fs::write(&path, pem)
                        .map_err(|e| format!("cannot write the CA to {}: {e}", path.display()))?;
                    format!(" ca={}", path.display())
                }
            };
            let plain = idp
                .plain_url()
                .map_or_else(String::new, |p| format!(" plain={p}"));
            println!(
                "mock-idp ready issuer={} addr={}{ca}{plain}",
                idp.issuer(),
                idp.addr()
            );
            // Ctrl-C or SIGTERM (what CI runners and service managers send): stop accepting,
            // finish the requests in flight, exit 0.
            // (Windows has no SIGTERM: Ctrl-C only.)
            #[cfg(unix)]
            let term = async {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .map_err(|e| format!("cannot wait for SIGTERM: {e}"))?;
                term.recv().await;
                Ok::<(), String>(())
            };
            #[cfg(not(unix))]
            let term = std::future::pending::<Result<(), String>>();
            tokio::select! {
                r = tokio::signal::ctrl_c() => r.map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?,
                r = term => r?,
            }
            idp.shutdown().await;
            Ok(())
        }
        Command::Profiles => {
            for p in crate::profiles::PROFILES {
                println!("{:<13} {}", p.name, p.description);
            }
            Ok(())
        }
        Command::Check { config, profile } => {
            let c = match profile {
                Some(p) => crate::Config::from_file_with_profile(&config, &p),
                None => crate::Config::from_file(&config),
            }
            .map_err(|e| e.to_string())?;
            println!(
                "{}: ok ({} clients, {} users, {} keys)",
                config.display(),
                c.clients.len(),
                c.users.len(),
                c.keys.len()
            );
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Generate { alg, out },
        } => {
            let alg = match alg.as_str() {
                "RS256" => SigningAlg::RS256,
                "PS256" => SigningAlg::PS256,
                "ES256" => SigningAlg::ES256,
                other => {
                    return Err(format!(
                        "unknown --alg {other:?}: use RS256, PS256 or ES256"
                    ));
                }
            };
            let pem = crate::generate_pem(alg)?;
            std::fs::write(&out, pem)
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            println!("wrote {} ({alg} private key, PKCS#8 PEM)", out.display());
            Ok(())
        }
    }
}
