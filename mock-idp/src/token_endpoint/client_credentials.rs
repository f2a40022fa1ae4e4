//! The client_credentials grant (RFC 6749 §4.4): an access token for the client itself.

use std::sync::Arc;

use super::{TokenError, TokenRequest, access_only_scope};
use crate::config::ClientConfig;
use crate::grants::Grant;
use crate::tenant::Tenant;
use crate::tokens::{Mint, TokenResponse};
use crate::types::GrantType;

pub(super) fn client_credentials(
    t: &Tenant,
    client: &ClientConfig,
    req: &TokenRequest<'_>,
) -> Result<TokenResponse, TokenError> {
    let scope = access_only_scope(&req.scope, "needs a user; client_credentials has none")?;
    let grant = Arc::new(Grant::without_login(&client.id, None, scope, t.clock.now()));
    crate::tokens::mint(
        t,
        &Mint {
            client,
            grant: &grant,
            user: None,
            nonce: None,
            code: None,
            lineage: None,
            grant_type: GrantType::ClientCredentials,
            refresh: None,
            audience: None,
            act: None,
            jkt: req.dpop_jkt,
        },
    )
    .map_err(TokenError::server_error)
}
