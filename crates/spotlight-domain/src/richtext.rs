//! Rich text for step and content bodies: a safe HTML subset — p, b, i, em,
//! strong, a[href: http, https, mailto], ul, ol, li, br, code, img[src: https].
//! Sanitised on save (here, with ammonia) and again in the SDK.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

pub const MAX_BODY_BYTES: usize = 64 * 1024;

fn cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut b = ammonia::Builder::empty();
        b.tags(HashSet::from([
            "p", "b", "i", "em", "strong", "a", "ul", "ol", "li", "br", "code", "img",
        ]))
        .tag_attributes(HashMap::from([
            ("a", HashSet::from(["href"])),
            ("img", HashSet::from(["src", "alt"])),
        ]))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .attribute_filter(|element, attribute, value| {
            // Images only over https (no tracking pixels over http, no data: URLs).
            if element == "img" && attribute == "src" && !value.starts_with("https://") {
                None
            } else {
                Some(value.into())
            }
        });
        b
    })
}

/// The body with everything outside the allowlist removed.
pub fn sanitize(html: &str) -> String {
    cleaner().clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_allowlist() {
        let html = r#"<p>Hi <b>there</b>, <em>see</em> <a href="https://x.test/a">docs</a></p><ul><li>one</li></ul><img src="https://cdn.test/i.png" alt="i"><br><code>x</code>"#;
        let out = sanitize(html);
        assert!(out.contains("<b>there</b>"));
        assert!(
            out.contains(
                r#"<a href="https://x.test/a" rel="noopener noreferrer nofollow">docs</a>"#
            ),
            "{out}"
        );
        assert!(
            out.contains(r#"<img src="https://cdn.test/i.png" alt="i">"#),
            "{out}"
        );
        assert!(out.contains("<li>one</li>"));
    }

    #[test]
    fn removes_everything_else() {
        let cases = [
            (r#"<img src="http://x.test/p.gif">"#, "http:"),
            (r#"<img src="data:image/png;base64,AAAA">"#, "data:"),
            (r#"<a href="javascript:alert(1)">x</a>"#, "javascript"),
            (r#"<a href="/relative">x</a>"#, "/relative"),
            (r#"<p onclick="alert(1)">x</p>"#, "onclick"),
            (r#"<p style="color:red">x</p>"#, "style"),
            ("<script>alert(1)</script>", "script"),
            ("<iframe src=https://x.test></iframe>", "iframe"),
        ];
        for (html, gone) in cases {
            let out = sanitize(html);
            assert!(!out.contains(gone), "{html} -> {out}");
        }
    }
}
