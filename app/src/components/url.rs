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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("/audit?actor=a b&x"), "/audit%3Factor%3Da%20b%26x");
        assert_eq!(encode("ünïcode"), "%C3%BCn%C3%AFcode");
    }
}
