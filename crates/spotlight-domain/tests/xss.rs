//! Every payload of the shared XSS corpus comes out of the sanitiser harmless:
//! only allowlisted tags and attributes survive, URLs keep only allowed schemes,
//! and the output stays harmless when parsed again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use spotlight_domain::richtext::sanitize;

const ALLOWED_TAGS: &[&str] = &[
    "p", "b", "i", "em", "strong", "a", "ul", "ol", "li", "br", "code", "img",
];

fn corpus() -> Vec<String> {
    let text = include_str!("../../../testdata/xss-corpus.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("# "))
        .map(str::to_owned)
        .collect()
}

fn assert_harmless(payload: &str, out: &str) {
    let tag = regex::Regex::new(r"<(/?)([A-Za-z0-9]+)([^>]*)>").unwrap();
    let attr = regex::Regex::new(r#"\s([A-Za-z_:-]+)="([^"]*)""#).unwrap();
    for t in tag.captures_iter(out) {
        let name = &t[2];
        assert!(
            ALLOWED_TAGS.contains(&name),
            "tag <{name}> survived {payload:?}: {out}"
        );
        let attrs = &t[3];
        let mut remaining = attrs.to_owned();
        for a in attr.captures_iter(attrs) {
            let (key, value) = (&a[1], &a[2]);
            remaining = remaining.replacen(&a[0], "", 1);
            let ok = match (name, key) {
                ("a", "href") => ["https://", "http://", "mailto:"]
                    .iter()
                    .any(|s| value.starts_with(s)),
                ("a", "rel") => value == "noopener noreferrer nofollow",
                ("img", "src") => value.starts_with("https://"),
                ("img", "alt") => true,
                _ => false,
            };
            assert!(
                ok,
                "attribute {key}={value:?} on <{name}> survived {payload:?}: {out}"
            );
        }
        assert!(
            remaining.trim().trim_end_matches('/').is_empty(),
            "unparsed attribute text {remaining:?} in {out}"
        );
    }
}

/// Harmless as produced, and still harmless once reparsed (what a browser does
/// with it): mutation XSS lives in the difference between the two.
fn assert_harmless_twice(payload: &str) {
    let out = sanitize(payload);
    assert_harmless(payload, &out);
    assert_harmless(payload, &sanitize(&out));
}

#[test]
fn every_corpus_payload_comes_out_harmless() {
    let corpus = corpus();
    assert!(corpus.len() >= 100, "corpus has {} payloads", corpus.len());
    for payload in &corpus {
        assert_harmless_twice(payload);
        // Also inside allowed wrappers, where parsers change context.
        assert_harmless_twice(&format!("<p>{payload}</p><ul><li>{payload}</li></ul>"));
    }
}
