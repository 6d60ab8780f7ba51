//! Page rules: which URLs a tour or announcement shows on. A rule matches the
//! path (query and fragment ignored) exactly, by glob (`/app/*/settings`: `*` is
//! one path segment, `**` any number of them, `?` one character), or by regular
//! expression — optionally restricted to a host (exact or `*.example.com`).
//! Regular expressions use the `regex` crate: linear time, no backtracking, so
//! no pattern can be made catastrophic; their compiled size is bounded too.

use serde::{Deserialize, Serialize};

pub const MAX_PATTERN_BYTES: usize = 500;
const REGEX_SIZE_LIMIT: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageMatch {
    Exact,
    Glob,
    Regex,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageRule {
    #[serde(rename = "match")]
    pub kind: PageMatch,
    pub pattern: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// A rule ready to test URLs against.
#[derive(Debug, Clone)]
pub struct CompiledPageRule {
    path: PathMatcher,
    host: Option<regex::Regex>,
}

/// Exact paths compare as strings; globs and regexes run the (linear-time) regex.
#[derive(Debug, Clone)]
enum PathMatcher {
    Exact(String),
    Pattern(regex::Regex),
}

fn glob_to_regex(glob: &str, segment_sep: char) -> String {
    let mut out = String::from("^");
    let mut chars = glob.chars().peekable();
    let sep = regex::escape(&segment_sep.to_string());
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                out.push_str(".*");
            }
            '*' => out.push_str(&format!("[^{sep}]*")),
            '?' => out.push_str(&format!("[^{sep}]")),
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    out
}

fn build(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => "regular expression is too large".to_owned(),
            e => format!("invalid regular expression: {e}"),
        })
}

/// `/a/b/` and `/a/b` are the same page.
fn normalise_path(path: &str) -> &str {
    if path.len() > 1 {
        path.strip_suffix('/').unwrap_or(path)
    } else {
        path
    }
}

impl PageRule {
    /// Validates and compiles; the error says what is wrong with the pattern.
    pub fn compile(&self) -> Result<CompiledPageRule, String> {
        if self.pattern.is_empty() {
            return Err("pattern must not be empty".into());
        }
        if self.pattern.len() > MAX_PATTERN_BYTES {
            return Err(format!("pattern must be at most {MAX_PATTERN_BYTES} bytes"));
        }
        let path = match self.kind {
            PageMatch::Exact | PageMatch::Glob if !self.pattern.starts_with('/') => {
                return Err("path patterns start with `/`".into())
            }
            PageMatch::Exact => PathMatcher::Exact(normalise_path(&self.pattern).to_owned()),
            PageMatch::Glob => {
                PathMatcher::Pattern(build(&glob_to_regex(normalise_path(&self.pattern), '/'))?)
            }
            PageMatch::Regex => PathMatcher::Pattern(build(&self.pattern)?),
        };
        let host = match &self.host {
            None => None,
            Some(h) if h.is_empty() || h.len() > 253 || h.contains(['/', ':', ' ']) => {
                return Err("host must be a host name like app.example.com or *.example.com".into())
            }
            Some(h) => Some(build(&glob_to_regex(&h.to_ascii_lowercase(), '.'))?),
        };
        Ok(CompiledPageRule { path, host })
    }
}

/// A page URL taken apart once, to test against many rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageUrl {
    host: Option<String>,
    path: String,
}

impl PageUrl {
    /// A full URL (`https://host/path?query`) or a bare path; `None` for anything else.
    pub fn parse(url: &str) -> Option<PageUrl> {
        match url::Url::parse(url) {
            Ok(u) => Some(PageUrl::from_url(&u)),
            Err(_) if url.starts_with('/') => {
                let end = url.find(['?', '#']).unwrap_or(url.len());
                Some(PageUrl {
                    host: None,
                    path: normalise_path(&url[..end]).to_owned(),
                })
            }
            Err(_) => None,
        }
    }

    /// The page of an already parsed URL.
    pub fn from_url(u: &url::Url) -> PageUrl {
        PageUrl {
            host: u.host_str().map(str::to_ascii_lowercase),
            path: normalise_path(u.path()).to_owned(),
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }
}

impl CompiledPageRule {
    /// Tests a full URL (`https://host/path?query`) or a bare path.
    pub fn matches(&self, url: &str) -> bool {
        PageUrl::parse(url).is_some_and(|u| self.matches_page(&u))
    }

    pub fn matches_page(&self, page: &PageUrl) -> bool {
        if let Some(h) = &self.host {
            match &page.host {
                Some(host) if h.is_match(host) => {}
                _ => return false,
            }
        }
        match &self.path {
            PathMatcher::Exact(p) => *p == page.path,
            PathMatcher::Pattern(r) => r.is_match(&page.path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(kind: PageMatch, pattern: &str, host: Option<&str>) -> CompiledPageRule {
        PageRule {
            kind,
            pattern: pattern.into(),
            host: host.map(Into::into),
        }
        .compile()
        .unwrap()
    }

    #[test]
    fn exact_glob_and_regex() {
        let exact = rule(PageMatch::Exact, "/settings", None);
        assert!(exact.matches("https://app.test/settings"));
        assert!(exact.matches("https://app.test/settings/?tab=1#x"));
        assert!(!exact.matches("https://app.test/settings/billing"));

        let glob = rule(PageMatch::Glob, "/app/*/settings", None);
        assert!(glob.matches("https://a.test/app/42/settings"));
        assert!(!glob.matches("https://a.test/app/42/x/settings"));
        assert!(!glob.matches("https://a.test/app/settings"));
        let deep = rule(PageMatch::Glob, "/docs/**", None);
        assert!(deep.matches("/docs/a/b/c"));
        let dot = rule(PageMatch::Glob, "/file.html", None);
        assert!(
            !dot.matches("/fileXhtml"),
            "glob metacharacters are literal"
        );

        let re = rule(PageMatch::Regex, r"^/projects/\d+$", None);
        assert!(re.matches("https://a.test/projects/12"));
        assert!(!re.matches("https://a.test/projects/x"));
    }

    #[test]
    fn hosts() {
        let r = rule(PageMatch::Glob, "/**", Some("*.acme.test"));
        assert!(r.matches("https://eu.acme.test/x"));
        assert!(!r.matches("https://acme.test/x"));
        assert!(!r.matches("https://evil.test/eu.acme.test"));
        assert!(!r.matches("/x"), "a bare path has no host to match");
        let exact = rule(PageMatch::Exact, "/", Some("App.Acme.Test"));
        assert!(exact.matches("https://app.acme.test/"));
    }

    #[test]
    fn bad_patterns_are_refused_with_a_reason() {
        let bad = [
            (PageMatch::Exact, "settings", None),
            (PageMatch::Glob, "", None),
            (PageMatch::Regex, "(unclosed", None),
            (PageMatch::Regex, r"\w{1000}{1000}", None),
            (PageMatch::Glob, "/x", Some("https://a.test")),
        ];
        for (kind, pattern, host) in bad {
            let r = PageRule {
                kind,
                pattern: pattern.into(),
                host: host.map(Into::into),
            };
            assert!(r.compile().is_err(), "{pattern}");
        }
        let long = PageRule {
            kind: PageMatch::Glob,
            pattern: format!("/{}", "a".repeat(600)),
            host: None,
        };
        assert!(long.compile().is_err());
    }

    #[test]
    fn pathological_regexes_stay_linear() {
        // (a+)+$ is catastrophic for backtracking engines; here it is linear.
        let r = rule(PageMatch::Regex, "^/(a+)+$", None);
        let url = format!("/{}!", "a".repeat(50_000));
        let started = std::time::Instant::now();
        assert!(!r.matches(&url));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    proptest! {
        #[test]
        fn compile_and_match_are_total(p in ".{0,40}", url in ".{0,80}", kind in 0u8..3) {
            let kind = [PageMatch::Exact, PageMatch::Glob, PageMatch::Regex][kind as usize];
            if let Ok(r) = (PageRule { kind, pattern: p, host: None }).compile() {
                let _ = r.matches(&url);
            }
        }
    }
}
