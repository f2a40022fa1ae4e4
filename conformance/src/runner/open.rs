//! Setting the stage for a run: the IdP started or attached to, the client's secret and
//! keys; then, per sync mode, the tenant and the launched RP, and what scenarios share.

use super::*;

/// What every run starts from: its id, its tenant's name, and the stage (the IdP server, the
/// client's secret and keys, how the RP starts).
pub(crate) struct Prepared {
    /// A random id making the run's users unique.
    pub run_id: String,
    /// The tenant's name (rp.toml's issuer names it, else `run-<id>`).
    pub tenant: String,
    /// The stage.
    pub stage: Arc<Stage>,
}

/// Starts (or attaches to) the IdP and sets the stage for a run of `opts`.
pub(crate) async fn prepare(opts: &Options) -> Result<Prepared, RunError> {
    let rp = &opts.rp;
    let run_id = crate::random::hex(3);
    let named = rp
        .idp
        .issuer
        .as_deref()
        .and_then(|i| url::Url::parse(i).ok());
    let tenant = named
        .as_ref()
        .and_then(tenant_of)
        .unwrap_or_else(|| format!("run-{run_id}"));
    let server = match &opts.idp {
        IdpChoice::Attached { .. } if opts.tls => {
            return Err(RunError(
                "tls serves the embedded IdP over HTTPS; an attached IdP serves HTTPS itself (mock-idp serve --tls --plain-alongside, then --idp-plain and --idp-ca)".into(),
            ));
        }
        IdpChoice::Attached {
            url,
            token,
            plain,
            ca_file,
        } => IdpServer::attached(url, token.clone(), plain.clone(), ca_file.clone())
            .map_err(|e| RunError(e.0))?,
        IdpChoice::Embedded(addr) => {
            let from_issuer = named.as_ref().and_then(|u| {
                let port = u.port_or_known_default()?;
                format!("{}:{port}", u.host_str()?).parse().ok()
            });
            let addr = addr
                .or(from_issuer)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
            IdpServer::embedded(addr, opts.tls)
                .await
                .map_err(|e| RunError(e.0))?
        }
    };
    let secret = rp
        .client_secret
        .clone()
        .unwrap_or_else(|| crate::random::hex(16));
    let stage = Arc::new(Stage {
        rp: rp.clone(),
        server,
        secret,
        launcher: opts.launcher.clone(),
        client_keys: crate::client_keys::ClientKeys::for_run(rp).map_err(RunError)?,
    });
    Ok(Prepared {
        run_id,
        tenant,
        stage,
    })
}

/// What [`open`] brings up.
pub(crate) struct Opening<'a> {
    /// The RP as launched (adapted to a provider profile).
    pub launch_rp: &'a RpDescription,
    /// The RP as the scenarios see it.
    pub scenario_rp: &'a RpDescription,
    /// The tenant's name.
    pub name: String,
    /// The sync mode.
    pub mode: SyncMode,
    /// Where the groups go.
    pub groups: &'a GroupsAt,
    /// The IdP's shape.
    pub shape: &'a IdpShape,
    /// The run's id.
    pub run_id: &'a str,
    /// The run's lag probe.
    pub lag: &'a Arc<crate::load::LagProbe>,
}

/// Brings up the tenant and (launch mode) the RP of one sync mode; what its scenarios
/// share, and the stage's account of it (the launched RP among it).
pub(crate) async fn open(
    stage: &Arc<Stage>,
    o: Opening<'_>,
) -> Result<(Arc<Shared>, crate::stage::Up), RunError> {
    let up = stage
        .up(
            o.launch_rp,
            &o.name,
            o.mode,
            o.groups,
            TenantShape {
                profile: o.shape.reference.as_deref(),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| RunError(e.into()))?;
    let rp = &stage.rp;
    let shared = Arc::new(Shared {
        rp: o.scenario_rp.clone(),
        sites: Arc::new(Sites {
            rp: up.base_url.clone(),
            idp: up.issuer.clone(),
            login: rp.paths.login.clone(),
            callback: rp.paths.callback.clone(),
            wire: stage.server.wire(),
            trust: stage.server.trust(),
        }),
        admin: up.admin.clone(),
        run_id: o.run_id.to_owned(),
        mode: o.mode,
        tenant: o.name,
        stage: stage.clone(),
        idp: o.shape.clone(),
        rp_exit: Arc::default(),
        lag: o.lag.clone(),
    });
    Ok((shared, up))
}

/// The runs of each sync mode, at once — or one after the other when rp.toml launches the
/// RP on a fixed `base_url`, where it cannot run twice at once.
pub(crate) async fn each_mode<T>(
    rp: &RpDescription,
    runs: Vec<impl std::future::Future<Output = T>>,
) -> Vec<T> {
    if rp.launch.is_some() && rp.base_url.is_some() {
        let mut done = Vec::new();
        for run in runs {
            done.push(run.await);
        }
        done
    } else {
        join_all(runs).await
    }
}
