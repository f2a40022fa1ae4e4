//! A bad config file gets an error naming the field and the line.

use mock_idp::Config;

fn err(toml: &str) -> mock_idp::ConfigError {
    Config::from_toml(toml, "t.toml").expect_err("must be refused")
}

const KEYS: &str = "[[keys]]\nkid = \"k\"\nalg = \"RS256\"\npem_file = \"keys/rsa-1.pem\"\n";

#[test]
fn the_built_in_config_is_valid() {
    let c = Config::builtin();
    assert_eq!(c.clients[0].id, "demo-rp");
    assert_eq!(c.users.len(), 3);
}

#[test]
fn syntax_errors_name_the_line() {
    let e = err("issuer = \"http://x\"\n\n[lifetimes\ncode = 1\n");
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.to_string().starts_with("t.toml:3"), "{e}");
}

#[test]
fn unknown_and_mistyped_fields_are_named() {
    let e = err(&format!(
        "issuer = \"http://x\"\nsigning_algo = \"RS256\"\n{KEYS}"
    ));
    assert_eq!(e.line, Some(2), "{e}");
    assert!(e.message.contains("signing_algo"), "{e}");
    let e = err(&format!(
        "issuer = \"http://x\"\n{KEYS}[lifetimes]\ncode = \"soon\"\n"
    ));
    assert_eq!(e.line, Some(7), "{e}");
    assert_eq!(e.field.as_deref(), Some("code"), "{e}");
    let e = err(&format!(
        "issuer = \"http://x\"\n{KEYS}[[clients]]\nsecret = \"s\"\n"
    ));
    assert!(e.message.contains("missing field `id`"), "{e}");
}

#[test]
fn semantic_errors_name_field_and_line() {
    let users =
        "[[users]]\nusername = \"a\"\nsub = \"1\"\n\n[[users]]\nusername = \"a\"\nsub = \"2\"\n";
    let e = err(&format!("issuer = \"http://x\"\n{KEYS}{users}"));
    assert_eq!(e.field.as_deref(), Some("users[1].username"), "{e}");
    assert_eq!(e.line, Some(11), "{e}");
    let client = "[[clients]]\nid = \"c\"\nsecret = \"s\"\nredirect_uris = [\n  \"http://ok/cb\",\n  \"not a url\",\n]\n";
    let e = err(&format!("issuer = \"http://x\"\n{KEYS}{client}"));
    assert_eq!(
        e.field.as_deref(),
        Some("clients[0].redirect_uris[1]"),
        "{e}"
    );
    assert_eq!(e.line, Some(11), "{e}");
    let e = err(&format!(
        "issuer = \"http://x\"\nsigning_alg = \"ES256\"\n{KEYS}"
    ));
    assert_eq!(e.field.as_deref(), Some("signing_alg"));
    assert_eq!(e.line, Some(2));
    let e = err("issuer = \"ftp://x\"\n");
    assert_eq!(e.field.as_deref(), Some("issuer"));
    let e = err(&format!(
        "issuer = \"http://x\"\n{KEYS}[[groups.placements]]\ntoken = \"id_token\"\npointer = \"groups\"\n"
    ));
    assert_eq!(
        e.field.as_deref(),
        Some("groups.placements[0].pointer"),
        "{e}"
    );
    assert_eq!(e.line, Some(8), "{e}");
    let e = err(&format!(
        "issuer = \"http://x\"\n{KEYS}[[clients]]\nid = \"c\"\nredirect_uris = [\"http://a/cb\"]\n"
    ));
    assert_eq!(e.field.as_deref(), Some("clients[0].secret"), "{e}");
}

#[test]
fn a_missing_file_is_named() {
    let e = Config::from_file(std::path::Path::new("/nonexistent/idp.toml")).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/idp.toml") && e.message.contains("cannot read"));
}

#[tokio::test]
async fn missing_key_files_stop_the_start() {
    let dir = std::env::temp_dir().join(format!("mock-idp-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("idp.toml");
    std::fs::write(&file, format!("issuer = \"http://x\"\n{KEYS}")).unwrap();
    let e = mock_idp::MockIdp::builder()
        .config_file(&file)
        .start()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("keys/rsa-1.pem"), "{e}");
}

#[tokio::test]
async fn configs_built_in_code_are_validated_too() {
    let mut dup = Config::builtin().users[0].clone();
    dup.username = "alice-2".into();
    let e = mock_idp::MockIdp::builder()
        .user(dup)
        .start()
        .await
        .unwrap_err();
    let e = e.to_string();
    assert!(
        e.contains("users[3].sub") && e.contains("duplicate sub"),
        "{e}"
    );
}
