//! Tokens presented to the IdP — bearer tokens at userinfo and the groups endpoint, the
//! `token` of introspection and revocation, `id_token_hint` at logout — malformed,
//! oversized, truncated, tampered, or validly signed by the IdP's own key but wrong (another
//! `typ`, `alg`, issuer, an expiry past, a claim missing or of the wrong type): always
//! refused cleanly (4xx with an RFC-shaped error, introspection `active: false`), never
//! accepted, never a 5xx, and no refused token revokes the real one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::*;

/// How a presented token is made from a real one.
#[derive(Debug, Clone)]
enum Forge {
    /// Bytes changed, no new signature.
    Text(TextHarm),
    /// Header and claims changed, then signed with the IdP's own key.
    Resigned(Vec<ClaimHarm>),
    /// Header changed (and maybe the claims), signature kept.
    Unsigned(Vec<ClaimHarm>),
}

#[derive(Debug, Clone)]
enum TextHarm {
    Truncate(usize),
    FlipByte(usize),
    Insert(usize, char),
    Parts(usize),
    Oversized(usize),
    EmptySignature,
    Garbage(String),
}

#[derive(Debug, Clone)]
enum ClaimHarm {
    Header(&'static str, Value),
    DropHeader(&'static str),
    Claim(&'static str, Value),
    Drop(&'static str),
}

/// Each of these, applied to a real access token and re-signed, makes it not a live
/// access token of this IdP.
fn breaking() -> impl Strategy<Value = ClaimHarm> {
    prop_oneof![
        Just(ClaimHarm::Header("typ", json!("JWT"))),
        Just(ClaimHarm::Header("typ", json!("at+JWT "))),
        Just(ClaimHarm::DropHeader("typ")),
        Just(ClaimHarm::Header("alg", json!("none"))),
        Just(ClaimHarm::Header("alg", json!("HS256"))),
        Just(ClaimHarm::Header("alg", json!("PS256"))),
        Just(ClaimHarm::Header("kid", json!("mock-rs256-404"))),
        Just(ClaimHarm::DropHeader("kid")),
        Just(ClaimHarm::Claim("iss", json!("http://evil.test"))),
        Just(ClaimHarm::Claim("exp", json!(T0 - 1))),
        Just(ClaimHarm::Claim("exp", json!("never"))),
        Just(ClaimHarm::Claim("jti", json!(7))),
        Just(ClaimHarm::Claim("jti", json!("no-such-grant.x"))),
        Just(ClaimHarm::Claim("client_id", json!("other-rp"))),
        Just(ClaimHarm::Drop("jti")),
        Just(ClaimHarm::Drop("exp")),
        Just(ClaimHarm::Drop("iss")),
        Just(ClaimHarm::Drop("client_id")),
    ]
}

fn noise() -> impl Strategy<Value = ClaimHarm> {
    prop_oneof![
        Just(ClaimHarm::Header("crit", json!(["exp"]))),
        Just(ClaimHarm::Header("jku", json!("http://evil.test/jwks"))),
        Just(ClaimHarm::Claim("scope", json!("openid admin"))),
        Just(ClaimHarm::Claim("sub", json!("someone-else"))),
        Just(ClaimHarm::Claim("aud", json!(["demo-rp", "evil"]))),
        Just(ClaimHarm::Claim("groups", json!("x".repeat(5000)))),
    ]
}

fn forge() -> impl Strategy<Value = Forge> {
    let text = prop_oneof![
        any::<usize>().prop_map(TextHarm::Truncate),
        any::<usize>().prop_map(TextHarm::FlipByte),
        (any::<usize>(), any::<char>()).prop_map(|(i, c)| TextHarm::Insert(i, c)),
        (0usize..6).prop_map(TextHarm::Parts),
        (60_000usize..2_000_000).prop_map(TextHarm::Oversized),
        Just(TextHarm::EmptySignature),
        "\\PC{0,300}".prop_map(TextHarm::Garbage),
    ];
    prop_oneof![
        text.prop_map(Forge::Text),
        (breaking(), prop::collection::vec(noise(), 0..3)).prop_map(|(b, mut n)| {
            n.insert(0, b);
            Forge::Resigned(n)
        }),
        prop::collection::vec(prop_oneof![breaking(), noise()], 1..4).prop_map(Forge::Unsigned),
    ]
}

fn part(jwt: &str, i: usize) -> Value {
    let p = jwt.split('.').nth(i).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

fn harm(header: &mut Value, claims: &mut Value, harms: &[ClaimHarm]) {
    for h in harms {
        match h {
            ClaimHarm::Header(k, v) => header[*k] = v.clone(),
            ClaimHarm::DropHeader(k) => {
                header.as_object_mut().unwrap().remove(*k);
            }
            ClaimHarm::Claim(k, v) => claims[*k] = v.clone(),
            ClaimHarm::Drop(k) => {
                claims.as_object_mut().unwrap().remove(*k);
            }
        }
    }
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn make(idp: &Idp, real: &str, f: &Forge) -> String {
    match f {
        Forge::Text(t) => {
            let mut s: Vec<char> = real.chars().collect();
            match t {
                TextHarm::Truncate(i) => s.truncate(i % s.len()),
                TextHarm::FlipByte(i) => {
                    let i = i % s.len();
                    s[i] = if s[i] == 'A' { 'B' } else { 'A' };
                }
                TextHarm::Insert(i, c) => s.insert(i % s.len(), *c),
                TextHarm::Parts(n) => {
                    let parts: Vec<&str> = real.split('.').collect();
                    return (0..*n).map(|i| parts[i % 3]).collect::<Vec<_>>().join(".");
                }
                TextHarm::Oversized(n) => return format!("{real}{}", "A".repeat(*n)),
                TextHarm::EmptySignature => {
                    return format!("{}.", real.rsplit_once('.').unwrap().0);
                }
                TextHarm::Garbage(g) => return g.clone(),
            }
            s.into_iter().collect()
        }
        Forge::Resigned(harms) | Forge::Unsigned(harms) => {
            let (mut header, mut claims) = (part(real, 0), part(real, 1));
            harm(&mut header, &mut claims, harms);
            if let Forge::Resigned(_) = f {
                let key = idp.tenant.key_for(mock_idp::SigningAlg::RS256).unwrap();
                key.sign_with_header(&header, &claims).unwrap()
            } else {
                let sig = real.rsplit('.').next().unwrap();
                format!("{}.{}.{sig}", b64(&header), b64(&claims))
            }
        }
    }
}

fn clean_refusal(
    res: &warp::http::Response<bytes::Bytes>,
    what: &str,
) -> Result<(), TestCaseError> {
    let s = res.status().as_u16();
    prop_assert!((400..500).contains(&s), "{what}: {s} {}", body(res));
    let v: Value = serde_json::from_slice(res.body()).unwrap_or(Value::Null);
    prop_assert!(
        v["error"].is_string(),
        "{what}: not RFC-shaped: {}",
        body(res)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn presented_tokens_that_are_not_the_real_one_are_refused(f in forge()) {
        let idp = idp();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let t = idp.tokens("alice").await;
            let real = t["access_token"].as_str().unwrap();
            let forged = make(&idp, real, &f);
            prop_assume!(forged != real);
            let bearer = format!("Bearer {forged}");
            // In the header when it can be one, else in the body (RFC 6750 §2.2).
            let fits = warp::http::HeaderValue::from_str(&bearer).is_ok();
            for path in ["/userinfo", "/groups"] {
                let res = if fits {
                    idp.post(path, &[], &[("authorization", &bearer)]).await
                } else {
                    idp.post(path, &[("access_token", &forged)], &[]).await
                };
                clean_refusal(&res, path)?;
            }
            // Introspection and revocation, as the client: 200 (inactive; nothing revoked) or
            // a clean refusal (e.g. 413 for a body past 64 KiB).
            for path in ["/introspect", "/revoke"] {
                let form = [("token", forged.as_str()), ("client_id", "demo-rp"), ("client_secret", "demo-secret")];
                let res = idp.post(path, &form, &[]).await;
                match res.status().as_u16() {
                    200 if path == "/introspect" => prop_assert_eq!(json(&res), json!({"active": false})),
                    200 => {}
                    _ => clean_refusal(&res, path)?,
                }
            }
            prop_assert_eq!(&idp.introspect(real).await["active"], &json!(true), "the real token survives");
            // The same forgery of the ID token as a logout hint.
            let hint = make(&idp, t["id_token"].as_str().unwrap(), &f);
            let res = idp.post("/end_session", &[("id_token_hint", &hint)], &[]).await;
            prop_assert!(res.status().as_u16() < 500, "end_session: {}", res.status());
            Ok(())
        })?;
    }
}
