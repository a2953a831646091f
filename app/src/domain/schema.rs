//! How the field rules of this module read in the REST API's OpenAPI document. Each function
//! describes one parser (`Name::parse`, `bounded_text`…) for `#[schema(schema_with = …)]`, so
//! a client generated from the document sends what the parser accepts: the document is a
//! contract, checked by Schemathesis (`scripts/schemathesis.sh`).

use utoipa::openapi::{schema::SchemaType, Object, ObjectBuilder, Type};

use super::catalog::Name;

/// The control characters `bounded_text` refuses (all but tab, line feed and carriage
/// return), as the inside of a regular-expression class.
const CONTROL: &str = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F";

/// White space `Username::parse` trims, as the inside of a class: only the ASCII kinds, on
/// which Rust, JavaScript and Python agree.
const SPACE: &str = r"\t\n\u000B\u000C\r ";

fn string(nullable: bool) -> ObjectBuilder {
    let kind = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new().schema_type(kind)
}

/// A closed set of words (`word_enum!`), by their names on the wire.
pub trait Words {
    /// What one of them is called in messages: "tier", "severity".
    const WHAT: &'static str;
    /// Every name, in declaration order.
    const WIRE: &'static [&'static str];
}

/// One of `W`'s words.
pub fn words<W: Words>() -> Object {
    string(false)
        .enum_values(Some(W::WIRE.iter().copied()))
        .description(Some(format!("The {}, by its name on the wire.", W::WHAT)))
        .build()
}

/// A list filter on one of `W`'s words; empty (as a form sends it) means no filter.
pub fn filter<W: Words>() -> Object {
    string(false)
        .enum_values(Some(std::iter::once("").chain(W::WIRE.iter().copied())))
        .description(Some(format!("Only this {}; empty for every one.", W::WHAT)))
        .build()
}

/// A name (`Name::parse`): services, environments.
pub fn name() -> Object {
    string(false)
        .pattern(Some(r"^[a-z0-9][a-z0-9._-]*$"))
        .max_length(Some(Name::MAX_LEN))
        .description(Some(
            "Lowercase letters, digits, '-', '_' and '.', starting with a letter or digit.",
        ))
        .build()
}

/// A new user's login name (`Username::parse`): trimmed of spaces, then case-insensitive. The
/// length limit sits in the pattern, since the spaces around it do not count.
pub fn username() -> Object {
    string(false)
        .pattern(Some(format!(
            r"^[{SPACE}]*[A-Za-z0-9][A-Za-z0-9._-]{{0,{}}}[{SPACE}]*$",
            super::accounts::Username::MAX_LEN - 1
        )))
        .description(Some(
            "1-64 letters, digits, '.', '_' and '-', starting with a letter or digit; stored \
             lowercased.",
        ))
        .build()
}

/// A display name (`DisplayName::check`): no control characters at all; empty means the
/// username.
pub fn display_name() -> Object {
    string(false)
        .pattern(Some(r"^[^\u0000-\u001F\u007F-\u009F]*$"))
        .max_length(Some(super::accounts::DisplayName::MAX_LEN))
        .description(Some("No control characters; empty for the username."))
        .build()
}

/// A new password (`Password::parse_new`), counted in characters; no NUL, which no field of
/// any request may hold.
pub fn password() -> Object {
    string(false)
        .pattern(Some(r"^[^\u0000]*$"))
        .min_length(Some(super::accounts::Password::MIN_LEN))
        .max_length(Some(super::accounts::Password::MAX_LEN))
        .build()
}

/// A version as deployments and releases record it (`Version::parse`).
pub fn version() -> Object {
    string(false)
        .pattern(Some(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$"))
        .max_length(Some(super::deployments::MAX_VERSION))
        .description(Some(
            "ASCII letters, digits, '.', '_', '+' and '-', starting with a letter or digit.",
        ))
        .build()
}

/// Free text of at most `MAX` characters, maybe empty (`bounded_text`).
pub fn text<const MAX: usize>() -> Object {
    free_text(false, MAX)
}

/// [`text`], or `null`.
pub fn optional_text<const MAX: usize>() -> Object {
    free_text(true, MAX)
}

/// Text of at most `MAX` characters that must say something: not empty, not only spaces.
pub fn required_text<const MAX: usize>() -> Object {
    said_text(false, MAX)
}

/// `null` (no change), or [`required_text`].
pub fn some_text<const MAX: usize>() -> Object {
    said_text(true, MAX)
}

fn said_text(nullable: bool, max: usize) -> Object {
    string(nullable)
        .pattern(Some(format!(r"^[^{CONTROL}]*[^\s{CONTROL}][^{CONTROL}]*$")))
        .max_length(Some(max))
        .description(Some(
            "Not blank; no control characters but tab and line breaks.",
        ))
        .build()
}

fn free_text(nullable: bool, max: usize) -> Object {
    string(nullable)
        .pattern(Some(format!(r"^[^{CONTROL}]*$")))
        .max_length(Some(max))
        .description(Some("No control characters but tab and line breaks."))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(object: Object) -> serde_json::Value {
        serde_json::to_value(object).expect("JSON")
    }

    #[test]
    fn the_text_patterns_escape_the_control_characters_for_the_document() {
        let required = json(required_text::<10>());
        assert_eq!(required["maxLength"], 10);
        let pattern = required["pattern"].as_str().expect("pattern");
        assert!(pattern.contains(r"\u0000-\u0008"), "{pattern}");
        assert!(pattern.contains(r"[^\s"), "{pattern}");
        assert_eq!(
            json(optional_text::<5>())["type"],
            serde_json::json!(["string", "null"])
        );
        assert_eq!(json(name())["maxLength"], 64);
        assert_eq!(json(password())["minLength"], 12);
    }

    /// The username pattern, tried with a Rust regex as a client would: what it allows,
    /// `Username::parse` accepts, and what it forbids, the parser refuses.
    #[test]
    fn the_username_pattern_says_what_the_parser_accepts() {
        let pattern = json(username())["pattern"]
            .as_str()
            .expect("pattern")
            .to_owned();
        let allows = |text: &str| regex::Regex::new(&pattern).expect("regex").is_match(text);
        let long = "a".repeat(64);
        let too_long = "a".repeat(65);
        for text in ["alice", " Alice.B ", "\tbob-1\n", "9", long.as_str()] {
            assert!(allows(text), "{text:?}");
            assert!(
                super::super::accounts::Username::parse(text).is_ok(),
                "{text:?}"
            );
        }
        for text in [
            "",
            " ",
            "-alice",
            "al ice",
            "élodie",
            "\u{212A}elvin",
            too_long.as_str(),
        ] {
            assert!(!allows(text), "{text:?}");
            assert!(
                super::super::accounts::Username::parse(text).is_err(),
                "{text:?}"
            );
        }
    }
}
