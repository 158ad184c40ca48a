//! Seeded random streams, one per consumer, named by a stable string.
//!
//! Every consumer (a link's jitter, a connection's initial sequence
//! number, a resolver's ids and ports) gets its own ChaCha20 stream: the
//! key comes from the scenario seed, the stream number from a hash of the
//! consumer's name. Adding a host therefore never shifts another
//! consumer's draws.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// Returns the stream named `name` under `seed`.
pub fn stream(seed: u64, name: &str) -> ChaCha20Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let mut random = ChaCha20Rng::from_seed(key);
    random.set_stream(stable_hash(name));
    random
}

/// Hashes a name with 64-bit FNV-1a, whose result never varies by
/// platform, process or version.
fn stable_hash(name: &str) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    name.bytes().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use rand_core::Rng;

    use super::*;

    #[test]
    fn same_seed_and_name_give_the_same_draws() {
        assert_eq!(
            stream(7, "link/a-b").next_u64(),
            stream(7, "link/a-b").next_u64()
        );
    }

    #[test]
    fn names_and_seeds_separate_streams() {
        let base = stream(7, "link/a-b").next_u64();
        assert_ne!(base, stream(7, "link/a-c").next_u64());
        assert_ne!(base, stream(8, "link/a-b").next_u64());
    }

    #[test]
    fn fnv1a_matches_its_published_test_vectors() {
        assert_eq!(stable_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(stable_hash("foobar"), 0x8594_4171_f739_67e8);
    }
}
