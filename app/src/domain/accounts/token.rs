//! API token names and lifetimes, as typed in the admin page or on the command line.

use std::time::Duration;

use crate::domain::FieldError;

/// Parses a token name: 1–64 characters of letters, digits, `.`, `_` and `-` (it names a CI
/// pipeline or a script, and is typed on command lines).
pub fn parse_token_name(input: &str) -> Result<String, FieldError> {
    let name = input.trim();
    let error = |message: &str| Err(FieldError::new("name", message));
    if name.is_empty() {
        return error("Enter a name for the token, such as the pipeline that will use it.");
    }
    if name.chars().count() > 64 {
        return error("Use at most 64 characters for the token name.");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return error("Use only letters, digits, '.', '_' and '-' in the token name.");
    }
    Ok(name.to_owned())
}

/// The longest lifetime a token may be given: a token that must outlive this should be
/// rotated instead.
pub const MAX_TOKEN_DAYS: u64 = 3650;

/// The lifetime of a token when none is given: a forgotten token stops working by itself.
pub const DEFAULT_TOKEN_DAYS: u64 = 90;

/// Parses a lifetime such as `90d`, `12h` or `30` (days); empty means
/// [`DEFAULT_TOKEN_DAYS`], and `never` no expiry, which has to be asked for.
pub fn parse_token_lifetime(input: &str) -> Result<Option<Duration>, FieldError> {
    let text = input.trim().to_lowercase();
    if text.is_empty() {
        return Ok(Some(Duration::from_secs(DEFAULT_TOKEN_DAYS * 86_400)));
    }
    if text == "never" {
        return Ok(None);
    }
    let (number, unit_seconds) = match text.strip_suffix('d') {
        Some(days) => (days, 86_400),
        None => match text.strip_suffix('h') {
            Some(hours) => (hours, 3_600),
            None => (text.as_str(), 86_400),
        },
    };
    let count: u64 = number.trim().parse().map_err(|_| {
        FieldError::new(
            "expires",
            format!(
                "\"{input}\" is not a lifetime; write days like 90d, hours like 12h, or never."
            ),
        )
    })?;
    if count == 0 {
        return Err(FieldError::new(
            "expires",
            "A token must live at least one hour.",
        ));
    }
    let seconds = count.saturating_mul(unit_seconds);
    if seconds > MAX_TOKEN_DAYS * 86_400 {
        return Err(FieldError::new(
            "expires",
            "Choose a lifetime of at most 3650 days, or never.",
        ));
    }
    Ok(Some(Duration::from_secs(seconds)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names_are_checked() {
        assert_eq!(parse_token_name(" ci-main ").unwrap(), "ci-main");
        assert!(parse_token_name("").is_err());
        assert!(parse_token_name("has space").is_err());
        assert!(parse_token_name(&"n".repeat(65)).is_err());
    }

    #[test]
    fn lifetimes_read_days_hours_or_never_and_default_to_ninety_days() {
        assert_eq!(
            parse_token_lifetime("90d").unwrap(),
            Some(Duration::from_secs(90 * 86_400))
        );
        assert_eq!(
            parse_token_lifetime("12h").unwrap(),
            Some(Duration::from_secs(12 * 3_600))
        );
        assert_eq!(
            parse_token_lifetime("7").unwrap(),
            Some(Duration::from_secs(7 * 86_400))
        );
        assert_eq!(
            parse_token_lifetime(" ").unwrap(),
            Some(Duration::from_secs(90 * 86_400)),
            "a token expires unless never is asked for"
        );
        assert_eq!(parse_token_lifetime("Never").unwrap(), None);
        for bad in ["0d", "-1d", "soon", "3651d", "1.5d"] {
            let error = parse_token_lifetime(bad).unwrap_err();
            assert_eq!(error.field, "expires", "{bad}");
        }
    }
}
