//! What the account forms and the REST API send, as typed: the same structs serve both, and
//! the use cases check each field. Passwords are held as `SecretString`: `Debug` shows
//! `[REDACTED]`, the memory is wiped when dropped, and only serializing (a form posting to
//! its server function) writes them out.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

use super::{role::Role, DisplayName, Password, Username};
use crate::domain::{FieldError, FieldErrors};

/// Writes a secret out as plain text: only for sending it to the server that checks it.
fn expose<S: Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

/// What a login form or `POST /api/v1/session` sends.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Credentials {
    pub username: String,
    #[serde(serialize_with = "expose")]
    #[cfg_attr(feature = "ssr", schema(value_type = String))]
    pub password: SecretString,
}

/// A new user's details, as the admin page, the first-run setup or the API send them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewUserInput {
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::username))]
    pub username: String,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::display_name))]
    pub display_name: String,
    #[cfg_attr(feature = "ssr", schema(value_type = crate::domain::Role))]
    pub role: String,
    #[serde(serialize_with = "expose")]
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::password))]
    pub password: SecretString,
}

impl NewUserInput {
    /// Checks every field (but the role, where `forced_role` decides it), reporting every
    /// problem at once.
    pub fn parse(
        &self,
        forced_role: Option<Role>,
    ) -> Result<(Username, DisplayName, Role, Password), FieldErrors> {
        crate::check_fields! {
            username = Username::parse(&self.username),
            display_name_ok = DisplayName::check(&self.display_name),
            role = forced_role.map_or_else(|| parse_role_field(&self.role), Ok),
            password = Password::parse_new(self.password.expose_secret(), "password"),
        }
        let () = display_name_ok;
        let display_name = DisplayName::parse(&self.display_name, &username)?;
        Ok((username, display_name, role, password))
    }
}

/// A role typed into a form or a JSON body.
pub fn parse_role_field(input: &str) -> Result<Role, FieldError> {
    input
        .trim()
        .parse::<Role>()
        .map_err(|e| FieldError::new("role", e.to_string()))
}

impl PasswordChange {
    /// The new password, checked with its confirmation; both problems reported at once.
    pub fn new_password(&self) -> Result<Password, FieldErrors> {
        crate::check_fields! {
            password = Password::parse_new(self.new_password.expose_secret(), "new_password"),
            same = confirmed(
                &self.new_password,
                &self.new_password_confirmation,
                FieldError::new(
                    "new_password_confirmation",
                    "The two new passwords differ; type the same password twice.",
                ),
            ),
        }
        let () = same;
        Ok(password)
    }
}

/// The confirmation of a new password: the same text typed twice, or `differ`.
pub fn confirmed(
    password: &SecretString,
    confirmation: &SecretString,
    differ: FieldError,
) -> Result<(), FieldError> {
    if password.expose_secret() == confirmation.expose_secret() {
        Ok(())
    } else {
        Err(differ)
    }
}

impl NewTokenInput {
    /// Checks every field, reporting every problem at once: name, role and lifetime.
    pub fn parse(&self) -> Result<(String, Role, Option<std::time::Duration>), FieldErrors> {
        crate::check_fields! {
            name = super::token::parse_token_name(&self.name),
            role = parse_role_field(&self.role),
            lifetime = super::token::parse_token_lifetime(&self.expires),
        }
        Ok((name, role, lifetime))
    }
}

/// What the change-password form sends.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PasswordChange {
    #[serde(serialize_with = "expose")]
    pub current_password: SecretString,
    #[serde(serialize_with = "expose")]
    pub new_password: SecretString,
    #[serde(serialize_with = "expose")]
    pub new_password_confirmation: SecretString,
}

/// An admin's new password for a user.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PasswordReset {
    pub id: i64,
    #[serde(serialize_with = "expose")]
    pub password: SecretString,
}

/// An admin's change to a user: role and whether the account is active.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct UserUpdate {
    pub id: i64,
    pub role: String,
    pub active: bool,
}

/// A new token's details as the admin page, the API or the command line give them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewTokenInput {
    pub name: String,
    #[cfg_attr(feature = "ssr", schema(value_type = crate::domain::Role))]
    pub role: String,
    /// `90d`, `12h`, a number of days, or `never`; empty or left out means 90 days.
    #[serde(default)]
    pub expires: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show_in_debug_but_travel_to_the_server() {
        let credentials = Credentials {
            username: "ada".into(),
            password: "correct horse battery staple".into(),
        };
        assert!(!format!("{credentials:?}").contains("horse"));
        let json = serde_json::to_string(&credentials).expect("serializes");
        assert_eq!(
            json,
            r#"{"username":"ada","password":"correct horse battery staple"}"#
        );
        let back: Credentials = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(
            back.password.expose_secret(),
            "correct horse battery staple"
        );
    }
}
