//! Writes a value at an RFC 6901 JSON pointer, creating the objects on the way.

use serde_json::{Map, Value};

/// Splits a pointer into its unescaped member names (`~1` → `/`, `~0` → `~`).
pub fn segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Sets `pointer` in `root` to `value`. Intermediate members that are missing, or are
/// not objects, become objects: the configured placement wins over a colliding claim.
pub fn place(root: &mut Map<String, Value>, pointer: &str, value: Value) {
    let segs = segments(pointer);
    let Some((last, parents)) = segs.split_last() else {
        return;
    };
    let mut obj = root;
    for seg in parents {
        let slot = obj
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(next) = slot else {
            unreachable!("made an object just above")
        };
        obj = next;
    }
    obj.insert(last.clone(), value);
}

/// The groups as a claim value: an array, or a string for a single group when asked, or
/// every group in one string with this separator.
pub fn groups_value(groups: &[String], single_as_string: bool, joined: Option<&str>) -> Value {
    match (groups, joined) {
        (_, Some(sep)) => Value::String(groups.join(sep)),
        ([one], None) if single_as_string => Value::String(one.clone()),
        _ => Value::Array(groups.iter().cloned().map(Value::String).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_key_with_dots_stays_one_key() {
        let mut m = Map::new();
        place(&mut m, "/resource_access/reinfer.io/roles", json!(["a"]));
        assert_eq!(
            Value::Object(m),
            json!({"resource_access": {"reinfer.io": {"roles": ["a"]}}})
        );
    }

    #[test]
    fn escapes_are_unescaped() {
        let mut m = Map::new();
        place(&mut m, "/https:~1~1example.com~1roles", json!([]));
        place(&mut m, "/a~0b", json!(1));
        assert_eq!(
            Value::Object(m),
            json!({"https://example.com/roles": [], "a~b": 1})
        );
    }

    #[test]
    fn siblings_are_kept_and_non_objects_replaced() {
        let mut m = Map::new();
        place(&mut m, "/ra/x/roles", json!(["r"]));
        place(&mut m, "/ra/y", json!("s"));
        place(&mut m, "/ra/y/roles", json!(["t"]));
        assert_eq!(
            Value::Object(m),
            json!({"ra": {"x": {"roles": ["r"]}, "y": {"roles": ["t"]}}})
        );
    }

    #[test]
    fn single_group_as_string_only_when_asked() {
        let one = vec!["g".to_owned()];
        assert_eq!(groups_value(&one, true, None), json!("g"));
        assert_eq!(groups_value(&one, false, None), json!(["g"]));
        assert_eq!(groups_value(&[], true, None), json!([]));
    }

    #[test]
    fn joined_groups_are_one_string() {
        let two = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(groups_value(&two, false, Some(",")), json!("a,b"));
        assert_eq!(groups_value(&[], false, Some(",")), json!(""));
    }
}
