//! Credentials out of operation logs. A driver's URL, an HTTP error or a driver's answer can
//! carry a password in a URL's user-info (`https://deploy:s3cret@host/`) or a token in its
//! query string (`?token=…`), and every viewer reads operation logs. Each URL in a line keeps
//! its scheme, host and path; user-info, query and fragment become `***`.

/// `text` with the credentials of every URL in it masked (see the module documentation).
pub fn credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        // The scheme: the letters right before `://`.
        let scheme_start = rest[..at]
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let url_end = rest[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .map_or(rest.len(), |i| at + i);
        out.push_str(&rest[..scheme_start]);
        out.push_str(&mask(&rest[scheme_start..url_end]));
        rest = &rest[url_end..];
    }
    out.push_str(rest);
    out
}

/// One URL, masked.
fn mask(url: &str) -> String {
    let Some((scheme, after)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, tail) = after.split_at(authority_end);
    let host = match authority.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => authority.to_owned(),
    };
    let (path, hidden) = match tail.find(['?', '#']) {
        Some(i) => (&tail[..i], Some(&tail[i..i + 1])),
        None => (tail, None),
    };
    match hidden {
        Some(mark) => format!("{scheme}://{host}{path}{mark}***"),
        None => format!("{scheme}://{host}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::credentials;

    #[test]
    fn user_info_queries_and_fragments_are_masked_and_the_rest_kept() {
        for (line, expected) in [
            (
                "https://deploy:s3cret@lb.internal:8443/switch answered 500",
                "https://***@lb.internal:8443/switch answered 500",
            ),
            (
                "POST http://lb.internal/api?token=abc&x=1 failed: refused",
                "POST http://lb.internal/api?*** failed: refused",
            ),
            (
                "see \"https://user@h/p#access_token=t\" and https://h2/ok",
                "see \"https://***@h/p#***\" and https://h2/ok",
            ),
            ("https://h:9/p?", "https://h:9/p?***"),
            ("redis://:pw@cache", "redis://***@cache"),
            (
                "no urls here, just a ratio 3:4 and an @mention",
                "no urls here, just a ratio 3:4 and an @mention",
            ),
            (
                "http://lb.internal/health answered 200",
                "http://lb.internal/health answered 200",
            ),
            ("", ""),
            ("://", "://"),
            ("ünïcode://ü:p@h/ä?q", "ünïcode://***@h/ä?***"),
        ] {
            assert_eq!(credentials(line), expected, "{line}");
        }
    }

    #[test]
    fn no_secret_survives_in_any_position() {
        for line in [
            "https://a:SECRET@h",
            "x https://a:SECRET@h/p?SECRET y",
            "https://h/p?k=SECRET#SECRET",
            "https://h?SECRET",
            "https://h#SECRET",
            "[https://SECRET@h]",
        ] {
            assert!(
                !credentials(line).contains("SECRET"),
                "{line} → {}",
                credentials(line)
            );
        }
    }
}
