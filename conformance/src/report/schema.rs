//! The JSON report's schema (JSON Schema 2020-12), generated from the report's own types
//! and published as `conformance/report.schema.json`: a change to `report.json`'s shape
//! shows there, in review (CHANGELOG: a breaking change). A test holds the file to the
//! types; `UPDATE_SCHEMA=1 cargo test -p conformance schema` rewrites it.

use serde_json::Value;

use super::Report;

/// The schema of `report.json`.
pub fn schema() -> Value {
    // What `report.json` holds as written (a field left out when empty is not required).
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let root = generator.into_root_schema_for::<Report>();
    let mut s = serde_json::to_value(root).unwrap_or_default();
    if let Some(o) = s.as_object_mut() {
        o.insert(
            "description".into(),
            "report.json, written by `conformance run --report DIR`: one run per sync mode, a result per scenario with its verdict, reason and evidence".into(),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_published_schema_is_the_reports_own() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("report.schema.json");
        let now = serde_json::to_string_pretty(&super::schema()).unwrap() + "\n";
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &now).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == now,
            "{} is not the report's schema: run UPDATE_SCHEMA=1 cargo test -p conformance schema, review the change (CHANGELOG: breaking?)",
            path.display()
        );
    }
}
