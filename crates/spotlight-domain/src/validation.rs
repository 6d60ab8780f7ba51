//! Field-path validation errors (`steps[2].target.selectors: empty`), collected
//! rather than stopping at the first, so a client can show every problem at once.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            path: path.into(),
            message: message.into(),
        });
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
    pub fn single(path: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::new();
        e.add(path, message);
        e
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

/// The NUL character (U+0000) is refused in every text a client sends, by one
/// rule for both stores: PostgreSQL cannot hold it in `text` or `jsonb`, and a
/// name or id that only one store could keep is not worth keeping.
pub const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// Whether `s` holds a NUL character.
pub fn has_nul(s: &str) -> bool {
    s.as_bytes().contains(&0)
}

/// The path (`steps[2].title`, `.` for the value itself) of the first string
/// or object key in `v` that holds a NUL character.
pub fn nul_path(v: &serde_json::Value) -> Option<String> {
    fn walk(v: &serde_json::Value, path: &mut String) -> bool {
        use serde_json::Value;
        match v {
            Value::String(s) => has_nul(s),
            Value::Array(a) => a.iter().enumerate().any(|(i, x)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(x, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Value::Object(m) => m.iter().any(|(k, x)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&k.replace('\0', "\\u0000"));
                let found = has_nul(k) || walk(x, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(v, &mut path).then(|| if path.is_empty() { ".".into() } else { path })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_is_found_with_its_path() {
        assert_eq!(nul_path(&json!({"a": [1, "x"], "b": "ok"})), None);
        assert_eq!(
            nul_path(&json!({"a": [1, "x\u{0}y"]})).as_deref(),
            Some("a[1]")
        );
        assert_eq!(
            nul_path(&json!({"p": {"q": "\u{0}"}})).as_deref(),
            Some("p.q")
        );
        assert_eq!(nul_path(&json!({"k\u{0}": 1})).as_deref(), Some("k\\u0000"));
        assert_eq!(nul_path(&json!("\u{0}")).as_deref(), Some("."));
    }
}
