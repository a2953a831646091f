//! Building links: values put into a path or a query string are percent-encoded.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986's unreserved characters, and `/` (so a local path given as
/// `?next=` stays readable).
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// A value percent-encoded for a query string or a path segment.
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, ENCODED).to_string()
}

/// `key=value&…` of the pairs whose value is set, each value encoded, in the given order.
pub fn query<'a>(pairs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> String {
    pairs
        .into_iter()
        .filter_map(|(key, value)| value.map(|v| format!("{key}={}", encode(v))))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("/audit?actor=a b&x"), "/audit%3Factor%3Da%20b%26x");
        assert_eq!(encode("ünïcode"), "%C3%BCn%C3%AFcode");
    }

    #[test]
    fn a_query_holds_only_the_values_set() {
        let pairs = [("a", Some("1 2")), ("b", None), ("c", Some("x&y"))];
        assert_eq!(query(pairs), "a=1%202&c=x%26y");
        assert_eq!(query([("a", None)]), "");
    }
}
