//! Password hashing with Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes, one lane,
//! as OWASP recommends). Hashing is deliberately slow, so it runs on Tokio's blocking threads,
//! never on the threads that serve requests.

use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use crate::backend::StorageError;
use crate::domain::Password;

/// A valid hash of a password nobody knows, with the same parameters as real ones: verifying
/// against it when a username does not exist costs what a real check costs, so response times
/// do not reveal which usernames exist.
const UNKNOWN_USER_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c3dpdGNoeWFyZC11bmtub3du$4Y5tYxZzZzFk6uT0wq2k2QdN0tXb3c1qJk9fJqS3m0A";

/// Hashes a new password, with a fresh random salt, in PHC string form.
pub async fn hash(password: &Password) -> Result<String, StorageError> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| StorageError::Random(e.to_string()))?;
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| StorageError::PasswordHash(e.to_string()))?
    .map_err(StorageError::PasswordHash)
}

/// Whether `attempt` matches `stored` (a PHC string), or, with `None`, spends the same time
/// and answers no.
pub async fn verify(attempt: &Password, stored: Option<&str>) -> Result<bool, StorageError> {
    let known = stored.is_some();
    let stored = stored.unwrap_or(UNKNOWN_USER_HASH).to_owned();
    let attempt = attempt.clone();
    let matches = tokio::task::spawn_blocking(move || {
        let hash = PasswordHash::new(&stored).map_err(|e| e.to_string())?;
        Ok::<_, String>(
            Argon2::default()
                .verify_password(attempt.expose().as_bytes(), &hash)
                .is_ok(),
        )
    })
    .await
    .map_err(|e| StorageError::PasswordHash(e.to_string()))?
    .map_err(StorageError::PasswordHash)?;
    Ok(known && matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let password = Password::parse_new("correct horse battery", "password").unwrap();
        let stored = hash(&password).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!stored.contains("correct horse"));
        assert!(verify(&password, Some(&stored)).await.unwrap());
        let wrong = Password::attempt("correct horse battery!");
        assert!(!verify(&wrong, Some(&stored)).await.unwrap());
        // Two hashes of one password differ: each has its own salt.
        assert_ne!(stored, hash(&password).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_never_matches() {
        let attempt = Password::attempt("anything at all");
        assert!(!verify(&attempt, None).await.unwrap());
    }
}
