//! Closed sets of words (tiers, strategies, statuses…): one macro gives each the same shape,
//! so every one is spelled the same in URLs, JSON, forms and the database.

/// Declares a fieldless enum with its wire names, `ALL`, `as_str`, `Display`, serde and a
/// `parse(field, text)` whose error names the field and lists the choices.
#[macro_export]
macro_rules! word_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in URLs, JSON, forms and the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }

            /// Parses the wire name; the error names `field` and the choices.
            pub fn parse(field: &str, text: &str) -> Result<Self, $crate::domain::FieldError> {
                let text = text.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == text)
                    .ok_or_else(|| {
                        let choices: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        $crate::domain::FieldError::new(
                            field,
                            format!(
                                "\"{}\" is not a {}; choose {}.",
                                text,
                                $what,
                                $crate::domain::words::or_list(&choices)
                            ),
                        )
                    })
            }
        }

        // Written out rather than derived: the derive does not see a `rename` whose name
        // comes through a macro, and would describe the Rust names instead of the wire's.
        #[cfg(feature = "ssr")]
        impl $crate::domain::schema::Words for $name {
            const WHAT: &'static str = $what;
            const WIRE: &'static [&'static str] = &[$($wire),+];
        }

        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::domain::schema::words::<$name>().into()
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {}

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// `a, b or c`.
pub fn or_list(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The trimmed text of an optional field, `None` when it is missing or blank.
pub fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Checks free text against a length limit in characters; trims it.
pub fn bounded_text(field: &str, text: &str, max: usize) -> Result<String, super::FieldError> {
    let text = text.trim();
    if text.chars().count() > max {
        return Err(super::FieldError::new(
            field,
            format!("Use at most {max} characters."),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(super::FieldError::new(
            field,
            "Remove the control characters.",
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::word_enum! {
        Colour, "colour" { Red = "red", DarkBlue = "dark_blue" }
    }

    #[test]
    fn words_round_trip_and_unknown_ones_name_the_choices() {
        for colour in Colour::ALL {
            assert_eq!(Colour::parse("c", colour.as_str()), Ok(*colour));
        }
        let error = Colour::parse("colour", "green").unwrap_err();
        assert_eq!(error.field, "colour");
        assert_eq!(
            error.message,
            "\"green\" is not a colour; choose red or dark_blue."
        );
        assert_eq!(
            serde_json::to_string(&Colour::DarkBlue).unwrap(),
            "\"dark_blue\""
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_api_document_describes_the_wire_names() {
        let schema = serde_json::to_value(<Colour as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["type"], "string");
        assert_eq!(schema["enum"], serde_json::json!(["red", "dark_blue"]));
        assert_eq!(<Colour as utoipa::ToSchema>::name(), "Colour");
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(or_list(&["a", "b", "c"]), "a, b or c");
        assert_eq!(or_list(&["a"]), "a");
    }

    #[test]
    fn bounded_text_trims_and_refuses_long_or_control_text() {
        assert_eq!(bounded_text("n", "  hi ", 5).unwrap(), "hi");
        assert_eq!(bounded_text("n", "abcdef", 5).unwrap_err().field, "n");
        assert!(bounded_text("n", "a\u{7}b", 5).is_err());
        assert!(bounded_text("n", "line\nline", 20).is_ok());
    }
}
