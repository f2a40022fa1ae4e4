//! Random identifiers (states, nonces, key ids, file names).

/// `n` random bytes as lower-case hex.
pub(crate) fn hex(n: usize) -> String {
    (0..n)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}
