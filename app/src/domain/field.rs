//! The one shape of a refusal about input: which field, and what to do about it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A message about one form field or JSON member, shown beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field's name, as in the form and the JSON body.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FieldError {}

/// Every problem found with one form or request, each at its field, in form order: a person
/// fixes them all in one go instead of meeting them one submit at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl From<FieldError> for FieldErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let messages: Vec<&str> = self.0.iter().map(|e| e.message.as_str()).collect();
        f.write_str(&messages.join(" "))
    }
}

/// Checks every field of an input and binds each value, or returns every error found at once
/// (as [`FieldErrors`], converted by `?`-style `From` into the function's error). Each check
/// may fail with one [`FieldError`] or several ([`FieldErrors`]):
///
/// ```text
/// check_fields! {
///     username = Username::parse(&input.username),
///     password = Password::parse_new(&input.password, "password"),
/// }
/// ```
#[macro_export]
macro_rules! check_fields {
    ($($name:ident = $check:expr),+ $(,)?) => {
        let mut errors = Vec::new();
        $(
            let $name = match $check {
                Ok(value) => Some(value),
                Err(error) => {
                    errors.extend($crate::domain::FieldErrors::from(error).0);
                    None
                }
            };
        )+
        if !errors.is_empty() {
            return Err($crate::domain::FieldErrors(errors).into());
        }
        $(let Some($name) = $name else { unreachable!("every field was checked above") };)+
    };
}
