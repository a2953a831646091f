//! Secrets Switchyard hands out (API tokens, setup links) and how it stores them: random
//! values from the operating system, kept only as SHA-256 digests. They carry 256 bits of
//! entropy, so a fast digest is enough; passwords, which people choose, use Argon2 instead
//! (see `passwords`).

use sha2::{Digest, Sha256};

use super::StorageError;

/// A new secret: `prefix` followed by 64 hex digits (32 random bytes). The prefix tells a
/// reader (or a secret scanner) what the string is.
pub fn new_secret(prefix: &str) -> Result<String, StorageError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|error| StorageError::Random(error.to_string()))?;
    Ok(format!("{prefix}{}", hex(&bytes)))
}

/// The digest stored in place of a secret, in hex.
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Whether `given` is `secret`. Their digests are compared, not the texts, so the time the
/// comparison takes says nothing about how much of the secret a guess got right.
pub fn same(secret: &str, given: &str) -> bool {
    Sha256::digest(secret.as_bytes()) == Sha256::digest(given.as_bytes())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_and_stored_as_digests() {
        let a = new_secret("sy_").unwrap();
        let b = new_secret("sy_").unwrap();
        assert!(a.starts_with("sy_") && a.len() == 3 + 64);
        assert_ne!(a, b);
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
