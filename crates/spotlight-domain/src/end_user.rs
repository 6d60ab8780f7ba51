//! End users as the SDK names and describes them: ids and attribute maps, checked
//! the same way whether they arrive on a config request or in an `identify` event.

use serde_json::{Map, Value};

pub const MAX_ATTRIBUTES: usize = 100;

/// User ids: 1–256 printable characters; ids that claim to be anonymous must be
/// `anon-` and a version 4 UUID.
pub fn check_user_id(id: &str) -> Result<(), &'static str> {
    if id.is_empty() || id.len() > 256 || id.chars().any(char::is_control) {
        return Err("must be 1 to 256 printable characters");
    }
    if let Some(rest) = id.strip_prefix("anon-") {
        match uuid::Uuid::parse_str(rest) {
            Ok(u) if u.get_version_num() == 4 && rest.len() == 36 => {}
            _ => return Err("anonymous ids are anon- followed by a version 4 UUID"),
        }
    }
    Ok(())
}

/// Account ids (B2B: the company a user belongs to): 1–256 printable characters.
pub fn check_account_id(id: &str) -> Result<(), &'static str> {
    if id.is_empty() || id.len() > 256 || id.chars().any(char::is_control) {
        return Err("must be 1 to 256 printable characters");
    }
    Ok(())
}

/// A patch of attributes (from the tenant's backend or an import): the values
/// it sets are checked as attributes are; `null` removes one.
pub fn check_patch(patch: &Map<String, Value>) -> Result<(), &'static str> {
    let set: Map<String, Value> = patch
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    check_attributes(&set)
}

/// `before` with `patch` applied: `null` removes an attribute, any other
/// value sets it, attributes the patch does not name stay.
pub fn apply_patch(before: &Map<String, Value>, patch: &Map<String, Value>) -> Map<String, Value> {
    let mut after = before.clone();
    for (k, v) in patch {
        if v.is_null() {
            after.remove(k);
        } else {
            after.insert(k.clone(), v.clone());
        }
    }
    after
}

/// Attributes: at most 100, names of 1–100 characters, scalar values or flat lists.
pub fn check_attributes(map: &Map<String, Value>) -> Result<(), &'static str> {
    if map.len() > MAX_ATTRIBUTES {
        return Err("at most 100 attributes");
    }
    let scalar = |v: &Value| match v {
        Value::String(s) => s.len() <= 1000,
        Value::Array(a) => {
            a.len() <= 100
                && a.iter().all(|x| match x {
                    Value::String(s) => s.len() <= 1000,
                    Value::Array(_) | Value::Object(_) => false,
                    _ => true,
                })
        }
        Value::Object(_) => false,
        _ => true,
    };
    if map
        .iter()
        .any(|(k, v)| k.is_empty() || k.len() > 100 || !scalar(v))
    {
        return Err(
            "names are 1 to 100 characters; values are strings (up to 1000 characters), numbers, booleans, null, or lists of those",
        );
    }
    if map
        .iter()
        .any(|(k, v)| crate::validation::has_nul(k) || crate::validation::nul_path(v).is_some())
    {
        return Err("names and values must not contain the NUL character (U+0000)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_sets_removes_and_keeps() {
        let m = |v: Value| v.as_object().unwrap().clone();
        let before = m(serde_json::json!({"plan": "free", "legacy": true, "seats": 3}));
        let patch = m(serde_json::json!({"plan": "team", "legacy": null, "region": "eu"}));
        assert!(
            check_patch(&patch).is_ok(),
            "null is no attribute value, but a removal"
        );
        assert_eq!(
            apply_patch(&before, &patch),
            m(serde_json::json!({"plan": "team", "seats": 3, "region": "eu"}))
        );
        assert!(check_patch(&m(serde_json::json!({"a": {"nested": 1}}))).is_err());
    }

    #[test]
    fn user_ids() {
        assert!(check_user_id("u-1").is_ok());
        assert!(check_user_id("anon-6f1c3a52-8a7e-4b53-9d7e-0c8f5a4b2e11").is_ok());
        assert!(check_user_id("anon-123").is_err());
        assert!(check_user_id("").is_err());
        assert!(check_user_id(&"x".repeat(257)).is_err());
        assert!(check_user_id("a\nb").is_err());
    }

    #[test]
    fn attributes() {
        let ok: Map<String, Value> =
            serde_json::from_str(r#"{"plan":"pro","seats":3,"tags":["a","b"]}"#).unwrap();
        assert!(check_attributes(&ok).is_ok());
        let nested: Map<String, Value> = serde_json::from_str(r#"{"a":{"b":1}}"#).unwrap();
        assert!(check_attributes(&nested).is_err());
    }
}

/// A CSV cell as an attribute value: empty is no value (the attribute is left
/// as it is), `true`/`false` are booleans, numbers written plainly (no leading
/// zeros, no `+`, no exponent: `007` stays a string) are numbers, the rest is
/// text as written. A cell that looks like a spreadsheet formula stays text
/// here; CSV exports defuse such cells.
pub fn csv_value(cell: &str) -> Option<Value> {
    if cell.is_empty() {
        return None;
    }
    match cell {
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let (whole, frac) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let plain = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && (whole == "0" || !whole.starts_with('0'))
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if plain {
        if frac.is_none() {
            if let Ok(n) = cell.parse::<i64>() {
                return Some(Value::from(n));
            }
        } else if let Some(n) = cell
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            return Some(Value::Number(n));
        }
    }
    Some(Value::String(cell.to_owned()))
}

#[cfg(test)]
mod csv_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_are_typed_only_when_written_plainly() {
        assert_eq!(csv_value(""), None);
        assert_eq!(csv_value("true"), Some(json!(true)));
        assert_eq!(csv_value("12"), Some(json!(12)));
        assert_eq!(csv_value("-3.5"), Some(json!(-3.5)));
        for text in [
            "007",
            "1e5",
            "+1",
            "1.",
            ".5",
            "True",
            "=HYPERLINK(\"x\")",
            "12 seats",
        ] {
            assert_eq!(csv_value(text), Some(json!(text)), "{text}");
        }
    }
}
