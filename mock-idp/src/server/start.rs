//! Starting the server: the configuration resolved (file, profile, edits, users, clients), the port bound, the tenant built, HTTPS set up, the accept loop spawned.

use super::*;

/// The configured issuer's path on the bound address (an unspecified IP becomes 127.0.0.1).
pub(super) fn issuer_on(configured: &str, bound: SocketAddr, scheme: &str) -> String {
    let host = if bound.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], bound.port()))
    } else {
        bound
    };
    let path = url::Url::parse(configured)
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    format!("{scheme}://{host}{path}")
}

impl Builder {
    pub(super) fn resolve_config(&self) -> Result<(Config, KeyFiles), StartError> {
        let profile = self.profile.as_deref();
        let (mut config, files) = match (&self.config, &self.config_file) {
            (Some(c), _) => {
                let c = match profile {
                    Some(p) => c.with_profile(p)?,
                    None => c.clone(),
                };
                (c, KeyFiles::Dir(PathBuf::from(".")))
            }
            (None, Some(path)) => {
                let dir = path.parent().map(Path::to_owned).unwrap_or_default();
                let c = match profile {
                    Some(p) => Config::from_file_with_profile(path, p)?,
                    None => Config::from_file(path)?,
                };
                (c, KeyFiles::Dir(dir))
            }
            (None, None) => match profile {
                Some(p) => (Config::builtin_with_profile(p)?, KeyFiles::BuiltIn),
                None => (Config::builtin(), KeyFiles::BuiltIn),
            },
        };
        for edit in &self.edits.0 {
            edit(&mut config);
        }
        for u in &self.extra_users {
            config.users.retain(|x| x.username != u.username);
            config.users.push(u.clone());
        }
        for c in &self.extra_clients {
            config.clients.retain(|x| x.id != c.id);
            config.clients.push(c.clone());
        }
        Ok((config, self.key_files.clone().unwrap_or(files)))
    }

    /// Serves HTTPS with a throw-away CA made at start, and a certificate it signs for
    /// Binds, builds the tenant and serves until the [`MockIdp`] is dropped.
    pub async fn start(self) -> Result<MockIdp, StartError> {
        let (config, files) = self.resolve_config()?;
        if !self.addr.ip().is_loopback() && self.admin_token.is_none() {
            return Err(StartError::Setup(format!(
                "refusing to serve the admin API on {} (not loopback) without an admin token: \
                 pass --admin-token (or MOCK_IDP_ADMIN_TOKEN), or bind to 127.0.0.1",
                self.addr
            )));
        }
        let listener = TcpListener::bind(self.addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: self.addr,
                source,
            })?;
        let bound = listener.local_addr().map_err(|source| StartError::Bind {
            addr: self.addr,
            source,
        })?;
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let issuer = match &self.issuer {
            Some(i) => i.clone(),
            None => issuer_on(&config.issuer, bound, scheme),
        };
        let tls = match &self.tls {
            None => None,
            Some(TlsSource::Files(cert, key)) => {
                Some(crate::tls::Tls::from_files(cert, key).map_err(StartError::Setup)?)
            }
            Some(TlsSource::Generated) => {
                let mut hosts = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
                let issuer_host = url::Url::parse(&issuer)
                    .ok()
                    .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_owned()));
                let bound_ip =
                    Some(bound.ip().to_string()).filter(|_| !bound.ip().is_unspecified());
                for h in [issuer_host, bound_ip].into_iter().flatten() {
                    if !hosts.contains(&h) {
                        hosts.push(h);
                    }
                }
                Some(crate::tls::Tls::generate(&hosts).map_err(StartError::Setup)?)
            }
        };
        let mut tenant = Tenant::new(config, issuer, &files, self.clock.clone(), self.seed)
            .map_err(StartError::Setup)?;
        tenant.admin_token = self.admin_token.clone();
        let tenant = Arc::new(tenant);
        let (stop, stopped) = oneshot::channel::<()>();
        let registry = Arc::new(Registry::new(tenant.clone()));
        let routes = crate::http::routes_for(registry.clone());
        let limits = crate::serve::Limits {
            header_read_timeout: self.header_read_timeout,
            max_connections: crate::serve::MAX_CONNECTIONS,
        };
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        let plain = if self.plain_alongside && acceptor.is_some() {
            let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
            let listener =
                TcpListener::bind(loopback)
                    .await
                    .map_err(|source| StartError::Bind {
                        addr: loopback,
                        source,
                    })?;
            let addr = listener.local_addr().map_err(|source| StartError::Bind {
                addr: loopback,
                source,
            })?;
            let (stop, stopped) = oneshot::channel::<()>();
            let task = tokio::spawn(crate::serve::serve(
                listener,
                routes.clone(),
                limits,
                None,
                async move {
                    let _ = stopped.await;
                },
            ));
            Some(Plain {
                addr,
                stop: Some(stop),
                task,
            })
        } else {
            None
        };
        let task = tokio::spawn(crate::serve::serve(
            listener,
            routes,
            limits,
            acceptor,
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(MockIdp {
            addr: bound,
            ca_pem: tls.and_then(|t| t.ca_pem),
            tenant,
            registry,
            stop: Some(stop),
            task,
            plain,
        })
    }
}
