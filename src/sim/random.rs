//! Seeded random streams, one per consumer, named by a stable string.
//!
//! Every consumer (a link's jitter, a connection's initial sequence
//! number, a resolver's ids and ports) gets its own ChaCha20 stream: the
//! key comes from the scenario seed, the stream number from a hash of the
//! consumer's name. Adding a host therefore never shifts another
//! consumer's draws.

use std::fmt::{self, Write};
use std::net::Ipv4Addr;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// Returns the stream named `name` under `seed`.
pub fn stream(seed: u64, name: &str) -> ChaCha20Rng {
    stream_numbered(seed, stable_hash(name))
}

/// Returns the stream whose name `name` formats to, under `seed`: the
/// same stream as [`stream`] with the formatted name, without building
/// the name as a string.
pub fn stream_formatted(seed: u64, name: fmt::Arguments) -> ChaCha20Rng {
    let mut hash = Fnv1a::new();
    hash.write_fmt(name).expect("hashing never fails");
    stream_numbered(seed, hash.0)
}

/// A stream's name being written piece by piece, hashed as it goes: the
/// same stream as [`stream`] with the name written out, without the
/// formatting machinery (which costs more than the hash for numbers and
/// addresses).
pub struct StreamName(Fnv1a);

impl StreamName {
    /// Starts an empty name.
    pub fn new() -> StreamName {
        StreamName(Fnv1a::new())
    }

    /// Appends `text`.
    pub fn text(mut self, text: &str) -> StreamName {
        self.0.add(text);
        self
    }

    /// Appends `number` in decimal, as `{}` writes it.
    pub fn decimal(mut self, number: u64) -> StreamName {
        self.0.add(itoa::Buffer::new().format(number));
        self
    }

    /// Appends `address` in dotted decimal, as `{}` writes it.
    pub fn address(self, address: Ipv4Addr) -> StreamName {
        let [a, b, c, d] = address.octets();
        self.decimal(a.into())
            .text(".")
            .decimal(b.into())
            .text(".")
            .decimal(c.into())
            .text(".")
            .decimal(d.into())
    }

    /// Returns the stream of this name under `seed`.
    pub fn stream(self, seed: u64) -> ChaCha20Rng {
        stream_numbered(seed, self.0.0)
    }
}

impl Default for StreamName {
    fn default() -> StreamName {
        StreamName::new()
    }
}

/// Returns the ChaCha20 stream number `number` under `seed`.
fn stream_numbered(seed: u64, number: u64) -> ChaCha20Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let mut random = ChaCha20Rng::from_seed(key);
    random.set_stream(number);
    random
}

/// Hashes a name with 64-bit FNV-1a, whose result never varies by
/// platform, process or version.
fn stable_hash(name: &str) -> u64 {
    let mut hash = Fnv1a::new();
    hash.add(name);
    hash.0
}

/// A 64-bit FNV-1a hash being computed, fed text in pieces.
struct Fnv1a(u64);

impl Fnv1a {
    /// Starts the hash of the empty text.
    fn new() -> Fnv1a {
        const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
        Fnv1a(OFFSET_BASIS)
    }

    /// Feeds the bytes of `text`.
    fn add(&mut self, text: &str) {
        self.add_bytes(text.as_bytes());
    }

    /// Feeds `bytes`.
    fn add_bytes(&mut self, bytes: &[u8]) {
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        self.0 = bytes.iter().fold(self.0, |hash, &byte| {
            (hash ^ u64::from(byte)).wrapping_mul(PRIME)
        });
    }
}

impl Write for Fnv1a {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.add(text);
        Ok(())
    }
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
    fn a_formatted_name_gives_the_stream_of_the_name_written_out() {
        let (host, port) = ("sender-1", 49152);
        assert_eq!(
            stream_formatted(7, format_args!("tcp-isn/{host}:{port}")).next_u64(),
            stream(7, "tcp-isn/sender-1:49152").next_u64()
        );
    }

    #[test]
    fn a_name_written_in_pieces_gives_the_stream_of_the_name_written_out() {
        let name = StreamName::new()
            .text("tcp-isn/sender-1:")
            .decimal(49152)
            .text("/")
            .address(Ipv4Addr::new(192, 0, 2, 25))
            .text(":")
            .decimal(25);
        assert_eq!(
            name.stream(7).next_u64(),
            stream(7, "tcp-isn/sender-1:49152/192.0.2.25:25").next_u64()
        );
    }

    #[test]
    fn decimals_are_written_without_padding() {
        let hash = |name: StreamName| name.0.0;
        assert_eq!(hash(StreamName::new().decimal(0)), stable_hash("0"));
        assert_eq!(hash(StreamName::new().decimal(7)), stable_hash("7"));
        assert_eq!(hash(StreamName::new().decimal(65535)), stable_hash("65535"));
        assert_eq!(
            hash(StreamName::new().decimal(u64::MAX)),
            stable_hash("18446744073709551615")
        );
        assert_eq!(
            hash(StreamName::new().address(Ipv4Addr::new(10, 0, 100, 255))),
            stable_hash("10.0.100.255")
        );
    }

    #[test]
    fn fnv1a_matches_its_published_test_vectors() {
        assert_eq!(stable_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(stable_hash("foobar"), 0x8594_4171_f739_67e8);
    }
}
