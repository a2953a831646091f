//! The parts of an account a person types: username, display name, password. Each is parsed
//! once at the edge; inside, only the parsed types travel.

pub mod agent;
pub mod input;
pub mod role;
pub mod throttle;
pub mod token;

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::FieldError;

/// A login name: 1–64 characters of lowercase letters, digits, `.`, `_` and `-`, starting with
/// a letter or digit. Stored lowercased, so `Alice` and `alice` are one user on both engines.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    pub const MAX_LEN: usize = 64;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        // ASCII-lowercased, so no other character becomes one it allows (the Kelvin sign
        // would become `k`): what is stored is what was typed.
        let name = input.trim().to_ascii_lowercase();
        let error = |message: &str| Err(FieldError::new("username", message));
        if name.is_empty() {
            return error("Enter a username.");
        }
        if name.chars().count() > Self::MAX_LEN {
            return error("Use at most 64 characters for the username.");
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return error("Use only letters, digits, '.', '_' and '-' in the username.");
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return error("Start the username with a letter or a digit.");
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name shown in the header, in lists and in the audit log: 1–100 characters. Empty means
/// "same as the username".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_LEN: usize = 100;

    /// Parses a display name, falling back to the username when none is given.
    pub fn parse(input: &str, username: &Username) -> Result<Self, FieldError> {
        Self::check(input)?;
        let name = input.trim();
        Ok(Self(if name.is_empty() {
            username.as_str().to_owned()
        } else {
            name.to_owned()
        }))
    }

    /// What a display name may not be (empty is fine: the username stands in). Judged on the
    /// text as sent, spaces around it included, so the API document can state the rule.
    pub fn check(input: &str) -> Result<(), FieldError> {
        if input.chars().count() > Self::MAX_LEN {
            return Err(FieldError::new(
                "display_name",
                "Use at most 100 characters for the display name.",
            ));
        }
        if input.chars().any(char::is_control) {
            return Err(FieldError::new(
                "display_name",
                "Remove line breaks and control characters from the display name.",
            ));
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 12 to 1024 characters. Its `Debug` never shows it, so it cannot reach a log
/// by accident, and its memory is wiped when it is dropped.
#[derive(Clone)]
pub struct Password(SecretString);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    pub const MIN_LEN: usize = 12;
    /// Long enough for any passphrase, short enough that hashing it is not a denial of service.
    pub const MAX_LEN: usize = 1024;

    /// Checks a password someone chooses; `field` names the form field it came from.
    pub fn parse_new(input: &str, field: &str) -> Result<Self, FieldError> {
        let length = input.chars().count();
        if length < Self::MIN_LEN {
            return Err(FieldError::new(
                field,
                format!(
                    "Use at least {} characters for the password ({length} given).",
                    Self::MIN_LEN
                ),
            ));
        }
        if length > Self::MAX_LEN {
            return Err(FieldError::new(
                field,
                "Use at most 1024 characters for the password.",
            ));
        }
        Ok(Self(input.into()))
    }

    /// Wraps a password someone types to log in: any length is checked against the hash,
    /// but over-long input is cut off at the limit rather than hashed in full.
    pub fn attempt(input: &str) -> Self {
        Self(
            input
                .chars()
                .take(Self::MAX_LEN + 1)
                .collect::<String>()
                .into(),
        )
    }

    /// The secret itself, for hashing and verifying only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_trimmed_lowercased_and_checked() {
        assert_eq!(Username::parse("  Alice.B ").unwrap().as_str(), "alice.b");
        let cases = [
            ("", "Enter a username."),
            ("   ", "Enter a username."),
            ("-dash", "Start the username with a letter or a digit."),
            (
                "has space",
                "Use only letters, digits, '.', '_' and '-' in the username.",
            ),
            (
                "émile",
                "Use only letters, digits, '.', '_' and '-' in the username.",
            ),
        ];
        for (input, message) in cases {
            let error = Username::parse(input).unwrap_err();
            assert_eq!(
                (error.field.as_str(), error.message.as_str()),
                ("username", message)
            );
        }
        assert!(Username::parse(&"a".repeat(64)).is_ok());
        assert_eq!(
            Username::parse(&"a".repeat(65)).unwrap_err().message,
            "Use at most 64 characters for the username."
        );
    }

    #[test]
    fn display_names_default_to_the_username() {
        let username = Username::parse("alice").unwrap();
        assert_eq!(
            DisplayName::parse(" ", &username).unwrap().as_str(),
            "alice"
        );
        assert_eq!(
            DisplayName::parse(" Alice Liddell ", &username)
                .unwrap()
                .as_str(),
            "Alice Liddell"
        );
        assert_eq!(
            DisplayName::parse(&"x".repeat(101), &username)
                .unwrap_err()
                .field,
            "display_name"
        );
        assert!(DisplayName::parse("a\nb", &username).is_err());
        assert!(DisplayName::parse("Alice\n", &username).is_err());
        assert!(DisplayName::parse(&format!(" {} ", "x".repeat(99)), &username).is_err());
    }

    #[test]
    fn passwords_need_twelve_characters_and_never_show_in_debug() {
        let short = Password::parse_new("elevenchars", "password").unwrap_err();
        assert_eq!(
            short.message,
            "Use at least 12 characters for the password (11 given)."
        );
        // Characters, not bytes: twelve accented letters are enough.
        assert!(Password::parse_new(&"é".repeat(12), "password").is_ok());
        assert!(Password::parse_new(&"x".repeat(1025), "new_password").is_err());
        let password = Password::parse_new("correct horse battery", "password").unwrap();
        assert_eq!(format!("{password:?}"), "Password(***)");
        assert_eq!(Password::attempt(&"x".repeat(5000)).expose().len(), 1025);
    }
}
