//! A fast hash for the small integer keys a host looks things up by:
//! connection ids and the ends of a connection.
//!
//! The standard hasher (SipHash) resists collisions chosen by an attacker
//! and costs tens of nanoseconds per key; a host looks up a key or two
//! for every segment, and its keys come from the scenario, not from an
//! adversary. This is the multiply-and-rotate hash rustc uses for its own
//! tables (FxHash). Maps hashed with it are only ever looked up, never
//! iterated, so their order cannot reach the output.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A hash map keyed by ids or ends, hashed with [`IdHasher`].
pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// The constant of rustc's FxHash: odd, so multiplying by it loses no
/// bit of a key, with its bits evenly mixed, so the product spreads a
/// key over the whole word.
const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

/// Hashes integers by folding each into the state with a rotation, an
/// exclusive or and a multiplication.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdHasher {
    hash: u64,
}

impl IdHasher {
    /// Folds one word into the state.
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.add(u64::from(byte));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, Hash};
    use std::net::Ipv4Addr;

    use super::*;

    /// Hashes one key as the maps do.
    fn hash_of(key: impl Hash) -> u64 {
        BuildHasherDefault::<IdHasher>::default().hash_one(key)
    }

    #[test]
    fn a_word_hashes_to_its_product_with_the_multiplier() {
        assert_eq!(hash_of(1u32), MULTIPLIER);
        assert_eq!(hash_of(3u32), MULTIPLIER.wrapping_mul(3));
    }

    #[test]
    fn consecutive_ids_fill_distinct_low_bits() {
        let buckets: std::collections::BTreeSet<u64> =
            (0u32..256).map(|id| hash_of(id) & 0xff).collect();
        assert_eq!(
            buckets.len(),
            256,
            "an odd multiplier is a bijection mod 256"
        );
    }

    #[test]
    fn ends_differing_in_any_part_hash_apart() {
        let ends = (25u16, Ipv4Addr::new(10, 0, 0, 1), 50000u16);
        let base = hash_of(ends);
        assert_ne!(base, hash_of((26u16, ends.1, ends.2)));
        assert_ne!(base, hash_of((ends.0, Ipv4Addr::new(10, 0, 0, 2), ends.2)));
        assert_ne!(base, hash_of((ends.0, ends.1, 50001u16)));
    }
}
