//! rp.toml: defaults, and errors that name the line and the field.

use conformance::{ClientAuth, RpDescription, SyncMode};

fn err(text: &str) -> String {
    RpDescription::from_toml(text, "rp.toml")
        .unwrap_err()
        .to_string()
}

#[test]
fn defaults_follow_the_contract() {
    let rp = RpDescription::from_toml(
        "base_url = \"http://127.0.0.1:8081\"\nclient_secret = \"s\"\ngroup_map = { a = [\"r\"] }\n",
        "rp.toml",
    )
    .unwrap();
    assert_eq!(rp.client_auth, ClientAuth::ClientSecretPost);
    assert_eq!(rp.sync_modes, vec![SyncMode::Strict]);
    assert_eq!(rp.sync_deadline_s, 600.0);
    assert_eq!(rp.idp_timeout_s, 10.0);
    assert_eq!(rp.paths.callback, "/login/oauth2/callback");
    assert_eq!(rp.me.permissions.0, "/permissions");
    assert_eq!(String::from(rp.groups_claim), "id_token:/groups");
}

#[test]
fn errors_name_the_line_and_the_field() {
    let base = "base_url = \"http://127.0.0.1:8081\"\nclient_secret = \"s\"\ngroup_map = { a = [\"r\"] }\n";
    let e = err(&format!("{base}sync_mode = [\"strict\"]\n"));
    assert!(
        e.starts_with("rp.toml:4: unknown field `sync_mode`, expected one of"),
        "{e}"
    );
    let e = err(&format!("{base}\n[me]\nsub = \"sub\"\n"));
    assert_eq!(
        e,
        "rp.toml:6: \"sub\" is not a JSON pointer: it must start with /"
    );
    let e = err(&format!("{base}groups_claim = \"token:/groups\"\n"));
    assert_eq!(
        e,
        "rp.toml:4: \"token\": the token is id_token or access_token"
    );
    let e = err(&format!("{base}sync_modes = [\"sometimes\"]\n"));
    assert!(
        e.starts_with("rp.toml:4: unknown variant `sometimes`"),
        "{e}"
    );
    let e = err(&format!("{base}sync_deadline_s = 0\n"));
    assert_eq!(
        e,
        "rp.toml:4: sync_deadline_s: a positive number of seconds"
    );
    let e = err(&format!("{base}jwks_cooldown_s = -1\n"));
    assert_eq!(
        e,
        "rp.toml:4: jwks_cooldown_s: zero or a positive number of seconds"
    );
    let e = err(&format!("{base}idp_timeout_s = -1\n"));
    assert_eq!(e, "rp.toml:4: idp_timeout_s: a positive number of seconds");
    let e = err("client_secret = \"s\"\n");
    assert_eq!(
        e,
        "rp.toml: base_url: required unless [launch] starts the RP"
    );
    let e = err("base_url = \"http://127.0.0.1:1\"\n");
    assert!(e.contains("client_secret: required in attach mode"), "{e}");
    let e = err(&format!(
        "{base}[idp]\nissuer = \"http://127.0.0.1:9400\"\n"
    ));
    assert!(e.starts_with("rp.toml:5: idp.issuer"), "{e}");
    let e = err("base_url = \"http://127.0.0.1:1\"\nclient_secret = \"s\"\n");
    assert!(
        e.starts_with("rp.toml: group_map: required in attach mode"),
        "{e}"
    );
    let e = err("[launch]\ncommand = []\n");
    assert_eq!(e, "rp.toml:2: launch.command: name a program");
}

#[test]
fn the_catalogue_has_stable_unique_ids() {
    let all = conformance::catalogue();
    let mut ids: Vec<&str> = all.iter().map(|s| s.id).collect();
    assert!(ids.iter().all(|id| id.starts_with(&format!(
        "{}.",
        all.iter().find(|s| s.id == *id).unwrap().category.as_str()
    ))));
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "ids are unique");
    assert!(ids.contains(&"login.code-flow") && ids.contains(&"idtoken.alg-none"));
}

#[test]
fn a_launched_rp_without_a_group_map_gets_one_every_permission_scenario_can_use() {
    let rp = RpDescription::from_toml("[launch]\ncommand = [\"rp\"]\n", "rp.toml").unwrap();
    assert_eq!(rp.group_map, conformance::default_group_map());
    assert_eq!(rp.group_map["auditors"], ["audit"]);
}

#[test]
fn scenarios_md_is_the_catalogue() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/SCENARIOS.md");
    let want = conformance::catalogue_markdown();
    if std::env::var_os("UPDATE_SCENARIOS").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "conformance/SCENARIOS.md is stale: run UPDATE_SCENARIOS=1 cargo test -p conformance --test rp_toml"
    );
}

#[test]
fn the_rp_s_public_keys_go_with_private_key_jwt_only() {
    let base = "base_url = \"http://127.0.0.1:8081\"\nclient_secret = \"s\"\ngroup_map = { a = [\"r\"] }\n";
    let e = err(&format!("{base}client_auth = \"private_key_jwt\"\n"));
    assert!(
        e.starts_with("rp.toml:4: client_jwks or client_jwks_uri: required with private_key_jwt in attach mode"),
        "{e}"
    );
    let e = err(&format!(
        "{base}client_auth = \"private_key_jwt\"\nclient_jwks = \"k.json\"\nclient_jwks_uri = \"http://127.0.0.1:8081/jwks\"\n"
    ));
    assert_eq!(
        e,
        "rp.toml:6: client_jwks_uri: give client_jwks or client_jwks_uri, not both"
    );
    let e = err(&format!(
        "{base}client_jwks_uri = \"http://127.0.0.1:8081/jwks\"\n"
    ));
    assert!(
        e.contains("serve only client_auth = \"private_key_jwt\""),
        "{e}"
    );
    let e = err(&format!(
        "{base}client_auth = \"private_key_jwt\"\nclient_jwks_uri = \"not a url\"\n"
    ));
    assert!(
        e.starts_with("rp.toml:5: client_jwks_uri \"not a url\""),
        "{e}"
    );
    let ok = RpDescription::from_toml(
        &format!("{base}client_auth = \"private_key_jwt\"\nclient_jwks_uri = \"http://127.0.0.1:8081/jwks\"\n"),
        "rp.toml",
    )
    .unwrap();
    assert_eq!(ok.client_auth, ClientAuth::PrivateKeyJwt);
}
