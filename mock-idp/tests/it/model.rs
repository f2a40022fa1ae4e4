//! Model-based property test of the lifecycle: random sequences of login, refresh (and replay
//! of spent tokens), clock advance, delete / disable / enable, group changes and key rotation,
//! checked against a small reference model after every step:
//! - no refresh token works, or introspects active, after revocation or expiry;
//! - a rotating family has at most one live token (exactly one until it dies);
//! - the groups in every new token equal the directory's at issue time;
//! - every new ID token's `kid` is published in the JWKS.

use std::collections::BTreeMap;

use mock_idp::UserPatch;
use proptest::prelude::*;
use serde_json::json;

use crate::support::*;

const USERS: [&str; 3] = ["alice", "bob", "carol"];
const GROUPS: [&str; 3] = ["analysts", "admins", "ops"];
const IDLE: i64 = 300;
const ABSOLUTE: i64 = 1000;

#[derive(Debug, Clone)]
enum Op {
    Login(usize),
    Refresh(usize),
    Advance(i64),
    Delete(usize),
    Disable(usize),
    Enable(usize),
    SetGroups(usize, Vec<usize>),
    RotateKey,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..3usize).prop_map(Op::Login),
        6 => (0..16usize).prop_map(Op::Refresh),
        2 => (0..400i64).prop_map(Op::Advance),
        1 => (0..3usize).prop_map(Op::Delete),
        1 => (0..3usize).prop_map(Op::Disable),
        1 => (0..3usize).prop_map(Op::Enable),
        2 => ((0..3usize), prop::collection::vec(0..3usize, 0..3)).prop_map(|(u, g)| Op::SetGroups(u, g)),
        1 => Just(Op::RotateKey),
    ]
}

#[derive(Debug, Clone)]
struct UserModel {
    exists: bool,
    disabled: bool,
    groups: Vec<String>,
}

#[derive(Debug, Clone)]
struct TokenModel {
    token: String,
    family: usize,
    user: usize,
    spent: bool,
    idle_deadline: i64,
    absolute_deadline: i64,
}

#[derive(Debug, Default)]
struct Model {
    now: i64,
    users: Vec<UserModel>,
    tokens: Vec<TokenModel>,
    dead_families: Vec<usize>,
    families: usize,
}

impl Model {
    fn user_active(&self, u: usize) -> bool {
        self.users[u].exists && !self.users[u].disabled
    }

    /// Whether the token is still good as a refresh token.
    fn live(&self, t: &TokenModel) -> bool {
        !t.spent
            && !self.dead_families.contains(&t.family)
            && self.now < t.idle_deadline
            && self.now < t.absolute_deadline
            && self.user_active(t.user)
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

async fn check_new_tokens(
    idp: &Idp,
    m: &Model,
    user: usize,
    body: &serde_json::Value,
) -> Result<(), TestCaseError> {
    let id = body["id_token"].as_str().unwrap();
    let groups: Vec<String> = serde_json::from_value(claims(id)["groups"].clone()).unwrap();
    prop_assert_eq!(
        &groups,
        &m.users[user].groups,
        "ID token groups = directory groups"
    );
    let at_groups: Vec<String> =
        serde_json::from_value(claims(body["access_token"].as_str().unwrap())["groups"].clone())
            .unwrap();
    prop_assert_eq!(&at_groups, &m.users[user].groups);
    let kid = header(id)["kid"].as_str().unwrap().to_owned();
    let jwks = json(&idp.get("/jwks", None).await);
    prop_assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid.as_str()),
        "kid {} published",
        kid
    );
    Ok(())
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let idp = idp_with(|c| {
        let p = &mut c.clients[0].refresh_policy;
        p.rotate = true;
        p.idle = Some(IDLE as u64);
        p.absolute = Some(ABSOLUTE as u64);
    });
    let mut m = Model {
        now: T0,
        users: vec![
            UserModel {
                exists: true,
                disabled: false,
                groups: vec!["analysts".into()],
            },
            UserModel {
                exists: true,
                disabled: false,
                groups: sorted(vec!["admins".into(), "analysts".into()]),
            },
            UserModel {
                exists: true,
                disabled: false,
                groups: vec![],
            },
        ],
        ..Model::default()
    };
    // Directory groups are written sorted so the model compares lists exactly.
    for (u, name) in USERS.iter().enumerate() {
        idp.tenant
            .patch_user(
                name,
                UserPatch {
                    groups: Some(m.users[u].groups.clone()),
                    ..Default::default()
                },
            )
            .unwrap();
    }
    for op in ops {
        match op {
            Op::Login(u) => {
                let res = idp.authorize(&[("login_hint", USERS[u])], None).await;
                if !m.user_active(u) {
                    prop_assert_ne!(res.status(), 302, "an inactive user must not get a code");
                    continue;
                }
                let code = param(&location(&res), "code").unwrap();
                let res = idp.exchange(&code, &[]).await;
                prop_assert_eq!(res.status(), 200);
                let body = json(&res);
                check_new_tokens(&idp, &m, u, &body).await?;
                m.tokens.push(TokenModel {
                    token: body["refresh_token"].as_str().unwrap().to_owned(),
                    family: m.families,
                    user: u,
                    spent: false,
                    idle_deadline: m.now + IDLE,
                    absolute_deadline: m.now + ABSOLUTE,
                });
                m.families += 1;
            }
            Op::Refresh(i) => {
                let Some(t) = m.tokens.get(i % m.tokens.len().max(1)).cloned() else {
                    continue;
                };
                let expect_ok = m.live(&t);
                let res = idp
                    .post(
                        "/token",
                        &[
                            ("grant_type", "refresh_token"),
                            ("refresh_token", &t.token),
                            ("client_id", "demo-rp"),
                            ("client_secret", "demo-secret"),
                        ],
                        &[],
                    )
                    .await;
                prop_assert_eq!(
                    res.status() == 200,
                    expect_ok,
                    "refresh of {:?} at {}: {}",
                    t,
                    m.now,
                    body(&res)
                );
                let idx = m.tokens.iter().position(|x| x.token == t.token).unwrap();
                if expect_ok {
                    let body = json(&res);
                    check_new_tokens(&idp, &m, t.user, &body).await?;
                    m.tokens[idx].spent = true;
                    m.tokens.push(TokenModel {
                        token: body["refresh_token"].as_str().unwrap().to_owned(),
                        idle_deadline: m.now + IDLE,
                        spent: false,
                        ..t
                    });
                } else if t.spent {
                    // Reuse of a spent token revokes its whole family.
                    m.dead_families.push(t.family);
                }
            }
            Op::Advance(s) => {
                idp.tenant.clock.advance(s);
                m.now += s;
            }
            Op::Delete(u) => {
                if m.users[u].exists {
                    idp.tenant.delete_user(USERS[u]).unwrap();
                    m.users[u].exists = false;
                }
            }
            Op::Disable(u) | Op::Enable(u) if m.users[u].exists => {
                let disabled = matches!(op, Op::Disable(_));
                idp.tenant
                    .patch_user(
                        USERS[u],
                        UserPatch {
                            disabled: Some(disabled),
                            ..Default::default()
                        },
                    )
                    .unwrap();
                m.users[u].disabled = disabled;
            }
            Op::Disable(_) | Op::Enable(_) => {}
            Op::SetGroups(u, g) if m.users[u].exists => {
                let groups = sorted(g.iter().map(|i| GROUPS[*i].to_owned()).collect());
                idp.tenant
                    .patch_user(
                        USERS[u],
                        UserPatch {
                            groups: Some(groups.clone()),
                            ..Default::default()
                        },
                    )
                    .unwrap();
                m.users[u].groups = groups;
            }
            Op::SetGroups(..) => {}
            Op::RotateKey => {
                idp.tenant
                    .rotate_key(mock_idp::SigningAlg::RS256, 60)
                    .unwrap();
            }
        }
        // Invariants over every token the model knows.
        let mut live_per_family: BTreeMap<usize, usize> = BTreeMap::new();
        for t in &m.tokens {
            let active = idp.introspect(&t.token).await["active"] == json!(true);
            prop_assert_eq!(active, m.live(t), "introspection of {:?} at {}", t, m.now);
            if active {
                *live_per_family.entry(t.family).or_default() += 1;
            }
        }
        prop_assert!(
            live_per_family.values().all(|n| *n == 1),
            "one live token per family: {:?}",
            live_per_family
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_lifecycle_matches_the_model(ops in prop::collection::vec(op(), 1..30)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(run(ops))?;
    }
}
