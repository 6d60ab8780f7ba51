//! Saved audiences and themes: the two small documents.

use crate::object::{document, ObjectKind};
use crate::validation::ValidationErrors;
use crate::{audience, tour};
use serde::{Deserialize, Serialize};

/// A reusable audience rule, referenced by tours and content as `audience_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub rule: String,
}

document!(Audience, ObjectKind::Audience);

impl Audience {
    /// Checks every field (see [`Document::validate`]).
    pub fn validate(&mut self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        tour::check_name(&mut e, &self.name);
        if self.description.chars().count() > 1000 {
            e.add("description", "must be at most 1000 characters");
        }
        match audience::parse(&self.rule) {
            Ok(parsed) => self.rule = parsed.to_string(),
            Err(err) => e.add("rule", err.to_string()),
        }
        e.into_result()
    }
}

/// Design tokens, applied by the SDK as CSS variables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThemeTokens {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backdrop: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font_size_px: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius_px: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spacing_px: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z_index_base: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    pub name: String,
    #[serde(default)]
    pub tokens: ThemeTokens,
    /// Overrides applied when the host page prefers a dark colour scheme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dark: Option<ThemeTokens>,
}

/// `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, or `rgb()/rgba()/hsl()/hsla()` with
/// numbers, commas, spaces, `%`, `.` and `/` only — nothing that could break out
/// of a CSS declaration.
pub fn valid_colour(c: &str) -> bool {
    if let Some(hex) = c.strip_prefix('#') {
        return matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let Some((func, rest)) = c.split_once('(') else {
        return false;
    };
    matches!(func, "rgb" | "rgba" | "hsl" | "hsla")
        && rest.ends_with(')')
        && rest[..rest.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b',' | b' ' | b'%' | b'.' | b'/'))
        && c.len() <= 64
}

fn safe_css_text(s: &str) -> bool {
    s.len() <= 200
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " ,.-_'\"#%()/".contains(c))
        && !s.contains("url(")
        && !s.contains("expression(")
}

fn check_tokens(e: &mut ValidationErrors, prefix: &str, t: &ThemeTokens) {
    for (field, value) in [
        ("primary", &t.primary),
        ("background", &t.background),
        ("text", &t.text),
        ("muted", &t.muted),
        ("backdrop", &t.backdrop),
    ] {
        if let Some(v) = value {
            if !valid_colour(v) {
                e.add(
                    format!("{prefix}.{field}"),
                    "must be a colour like #1a73e8 or rgb(26, 115, 232)",
                );
            }
        }
    }
    if let Some(f) = &t.font_family {
        if !safe_css_text(f) {
            e.add(
                format!("{prefix}.font_family"),
                "must be a plain font list like \"Inter, sans-serif\"",
            );
        }
    }
    if let Some(s) = &t.shadow {
        if !safe_css_text(s) {
            e.add(
                format!("{prefix}.shadow"),
                "must be a plain box-shadow value",
            );
        }
    }
    for (field, value, max) in [
        ("font_size_px", t.font_size_px, 64),
        ("radius_px", t.radius_px, 64),
        ("spacing_px", t.spacing_px, 64),
    ] {
        if value.is_some_and(|v| v > max) {
            e.add(
                format!("{prefix}.{field}"),
                format!("must be at most {max}"),
            );
        }
    }
    if t.z_index_base
        .is_some_and(|z| !(0..=2_147_483_000).contains(&z))
    {
        e.add(
            format!("{prefix}.z_index_base"),
            "must be between 0 and 2147483000",
        );
    }
}

document!(Theme, ObjectKind::Theme);

impl Theme {
    /// Checks every field (see [`Document::validate`]).
    pub fn validate(&mut self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        tour::check_name(&mut e, &self.name);
        check_tokens(&mut e, "tokens", &self.tokens);
        if let Some(d) = &self.dark {
            check_tokens(&mut e, "dark", d);
        }
        e.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours() {
        for ok in [
            "#fff",
            "#1a73e8",
            "#1a73e8cc",
            "rgb(1, 2, 3)",
            "hsla(210, 50%, 40%, .5)",
            "rgb(1 2 3 / 50%)",
        ] {
            assert!(valid_colour(ok), "{ok}");
        }
        for bad in [
            "red",
            "#ggg",
            "#12345",
            "rgb(1,2,3);background:url(x)",
            "url(x)",
            "rgb(1,2,3",
            "",
        ] {
            assert!(!valid_colour(bad), "{bad}");
        }
    }

    #[test]
    fn themes_and_audiences_validate() {
        let mut t: Theme = serde_json::from_value(serde_json::json!({
            "name": "Brand", "tokens": {"primary": "#123456", "font_family": "Inter, sans-serif", "radius_px": 8},
            "dark": {"background": "#000"}
        }))
        .unwrap();
        t.validate().unwrap();
        let mut bad: Theme = serde_json::from_value(serde_json::json!({
            "name": "x", "tokens": {"primary": "red;}", "font_family": "x;} body{display:none", "radius_px": 999}
        }))
        .unwrap();
        let paths: Vec<String> = bad
            .validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(
            paths,
            ["tokens.primary", "tokens.font_family", "tokens.radius_px"]
        );

        let mut a = Audience {
            name: "Pros".into(),
            description: String::new(),
            rule: "plan=\"pro\"  AND seats>1".into(),
        };
        a.validate().unwrap();
        assert_eq!(a.rule, "plan = \"pro\" and seats > 1", "stored canonical");
        let mut a = Audience {
            name: "Bad".into(),
            description: String::new(),
            rule: "plan =".into(),
        };
        let err = a.validate().unwrap_err();
        assert_eq!(err.0[0].path, "rule");
        assert!(
            err.0[0].message.contains("column 7"),
            "{}",
            err.0[0].message
        );
    }
}
