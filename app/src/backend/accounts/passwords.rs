//! Password hashing with Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes, one lane,
//! as OWASP recommends). Hashing is deliberately slow, so it runs on Tokio's blocking threads,
//! never on the threads that serve requests, one hash at a time, each in a working memory
//! handed back to the system when it ends (see [`RESERVED_BLOCKS`]).

use std::sync::{Arc, LazyLock};

use argon2::{
    password_hash::{Output, ParamsString, PasswordHash, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};

use crate::backend::StorageError;
use crate::domain::Password;

/// A valid hash of a password nobody knows, with the same parameters as real ones: verifying
/// against it when a username does not exist costs what a real check costs, so response times
/// do not reveal which usernames exist.
const UNKNOWN_USER_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c3dpdGNoeWFyZC11bmtub3du$4Y5tYxZzZzFk6uT0wq2k2QdN0tXb3c1qJk9fJqS3m0A";

/// Hashes take turns: a burst of logins, which anyone can send, must not take 19 MiB each at
/// once, and one at a time leaves the other cores to serve pages while logins queue (a hash
/// takes about 40 ms).
static TURN: LazyLock<Arc<tokio::sync::Mutex<()>>> = LazyLock::new(Arc::default);

/// The room each hash reserves for Argon2's working memory, in 1 KiB blocks: 33 MiB, more than
/// glibc's largest mmap threshold (32 MiB on 64-bit, see mallopt(3)), so the buffer is always
/// a mapping of its own that goes back to the system when the hash ends; only the 19 MiB
/// Argon2 uses are ever touched. A 19 MiB buffer instead raises glibc's threshold when freed,
/// later ones come from the heap and fragmentation keeps them: the server grew from 29 to
/// 147 MB over its first seven logins (found by the soak benchmark). A buffer kept for good
/// fixed that but held 19 MiB for the server's whole life.
const RESERVED_BLOCKS: usize = 33 * 1024;

/// Runs `work` on a blocking thread with a working memory of its own, once it is its turn.
async fn in_workspace<T: Send + 'static>(
    work: impl FnOnce(&mut Vec<Block>) -> Result<T, String> + Send + 'static,
) -> Result<T, StorageError> {
    // The turn moves into the blocking task: a request given up mid-hash ends its turn only
    // when the hash does.
    let turn = TURN.clone().lock_owned().await;
    tokio::task::spawn_blocking(move || {
        let mut memory = Vec::with_capacity(RESERVED_BLOCKS);
        let done = work(&mut memory);
        drop(turn);
        done
    })
    .await
    .map_err(|e| StorageError::PasswordHash(e.to_string()))?
    .map_err(StorageError::PasswordHash)
}

/// Argon2 of `password` and `salt` into `out`, in `memory` sized to what `argon` needs.
fn argon2_into(
    argon: &Argon2,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> Result<(), String> {
    memory.resize(argon.params().block_count(), Block::default());
    argon
        .hash_password_into_with_memory(password, salt, out, memory.as_mut_slice())
        .map_err(|e| e.to_string())
}

/// Hashes a new password, with a fresh random salt, in PHC string form.
pub async fn hash(password: &Password) -> Result<String, StorageError> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| StorageError::Random(e.to_string()))?;
    let password = password.clone();
    in_workspace(move |memory| {
        let argon = Argon2::default();
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        argon2_into(
            &argon,
            password.expose().as_bytes(),
            &salt,
            &mut out,
            memory,
        )?;
        let encoded = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(argon.params()).map_err(|e| e.to_string())?,
            salt: Some(encoded.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
        };
        Ok(phc.to_string())
    })
    .await
}

/// Whether `attempt` matches `stored` (a PHC string), or, with `None`, spends the same time
/// and answers no.
pub async fn verify(attempt: &Password, stored: Option<&str>) -> Result<bool, StorageError> {
    let known = stored.is_some();
    let stored = stored.unwrap_or(UNKNOWN_USER_HASH).to_owned();
    let attempt = attempt.clone();
    let matches = in_workspace(move |memory| {
        let invalid = |e: argon2::password_hash::Error| e.to_string();
        let phc = PasswordHash::new(&stored).map_err(invalid)?;
        let expected = phc.hash.ok_or("the stored hash has no output")?;
        let salt = phc.salt.ok_or("the stored hash has no salt")?;
        let argon = Argon2::new(
            Algorithm::try_from(phc.algorithm).map_err(invalid)?,
            Version::try_from(phc.version.unwrap_or(Version::V0x13.into()))
                .map_err(|e| e.to_string())?,
            Params::try_from(&phc).map_err(invalid)?,
        );
        let mut salt_bytes = [0u8; 64];
        let salt = salt.decode_b64(&mut salt_bytes).map_err(invalid)?;
        let mut out = vec![0u8; expected.len()];
        argon2_into(&argon, attempt.expose().as_bytes(), salt, &mut out, memory)?;
        // `Output` compares in constant time.
        Ok(Output::new(&out).map_err(invalid)? == expected)
    })
    .await?;
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

    /// Hashes made by the `argon2` crate's own API (as every stored hash before the shared
    /// working memory was) verify, and ours verify with it: the PHC strings are the same kind.
    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crates_own() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let password = Password::parse_new("correct horse battery", "password").unwrap();
        let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
        let theirs = Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .unwrap()
            .to_string();
        assert!(verify(&password, Some(&theirs)).await.unwrap());
        assert!(!verify(&Password::attempt("correct horse"), Some(&theirs))
            .await
            .unwrap());
        let ours = hash(&password).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_err());
    }

    #[tokio::test]
    async fn an_unknown_user_never_matches() {
        let attempt = Password::attempt("anything at all");
        assert!(!verify(&attempt, None).await.unwrap());
    }
}
