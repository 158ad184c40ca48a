//! Reads a DNS record key by key, so an error inside one names its key.
//!
//! Which keys a record has depends on its `type`. A tagged enum read by
//! serde copies the whole mapping into a buffer first and forgets where
//! each value was written, so a `ttl` of -5 would be blamed on the
//! record. Here every value is read in place, with the type its key
//! gives (each key means the same in every record type), and the record
//! is put together once its mapping ends.

use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, Visitor};

use super::raw::RawRecord;
use super::text::Text;

/// Every key some record type has.
const KEYS: &[&str] = &[
    "type",
    "name",
    "address",
    "preference",
    "exchange",
    "target",
    "ttl",
];

/// A record type as scenarios write it.
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Deserialize)]
enum Kind {
    A,
    MX,
    PTR,
    CNAME,
}

impl Kind {
    /// Returns the keys a record of this type has.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::A => &["type", "name", "address", "ttl"],
            Kind::MX => &["type", "name", "preference", "exchange", "ttl"],
            Kind::PTR | Kind::CNAME => &["type", "name", "target", "ttl"],
        }
    }
}

/// Reads a key, refusing one no record has, or one the record's type,
/// when already read, does not have. The refusal is made while the key
/// is read, so the YAML reader places it at the key.
struct KeySeed(Option<Kind>);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = &'static str;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<&'static str, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key of a DNS record")
    }

    fn visit_str<E: Error>(self, key: &str) -> Result<&'static str, E> {
        let allowed = self.0.map_or(KEYS, Kind::keys);
        match allowed.iter().find(|k| **k == key) {
            Some(&known) => Ok(known),
            None => Err(E::unknown_field(key, allowed)),
        }
    }
}

/// The values of a record's mapping, as read so far.
#[derive(Default)]
struct Given {
    kind: Option<Kind>,
    name: Option<String>,
    address: Option<String>,
    preference: Option<u16>,
    exchange: Option<String>,
    target: Option<String>,
    ttl: Option<Option<u32>>,
    /// The keys in the order written.
    keys: Vec<&'static str>,
}

impl Given {
    /// Reads the value of `known` into its slot.
    fn read<'de, M: MapAccess<'de>>(
        &mut self,
        known: &'static str,
        map: &mut M,
    ) -> Result<(), M::Error> {
        if self.keys.contains(&known) {
            return Err(M::Error::duplicate_field(known));
        }
        self.keys.push(known);
        match known {
            "type" => self.kind = Some(map.next_value()?),
            "name" => self.name = Some(map.next_value::<Text>()?.0),
            "address" => self.address = Some(map.next_value::<Text>()?.0),
            "preference" => self.preference = Some(map.next_value()?),
            "exchange" => self.exchange = Some(map.next_value::<Text>()?.0),
            "target" => self.target = Some(map.next_value::<Text>()?.0),
            _ => self.ttl = Some(map.next_value()?),
        }
        Ok(())
    }

    /// Puts the record together, refusing keys its type does not have
    /// (when they came before `type`) and naming the first key it lacks.
    fn record<E: Error>(self) -> Result<RawRecord, E> {
        let kind = self.kind.ok_or_else(|| E::missing_field("type"))?;
        let foreign = self.keys.iter().find(|k| !kind.keys().contains(k));
        if let Some(key) = foreign {
            return Err(E::unknown_field(key, kind.keys()));
        }
        let name = self.name.ok_or_else(|| E::missing_field("name"))?;
        let ttl = self.ttl.flatten();
        let target = || {
            self.target
                .clone()
                .ok_or_else(|| E::missing_field("target"))
        };
        Ok(match kind {
            Kind::A => RawRecord::A {
                name,
                address: self.address.ok_or_else(|| E::missing_field("address"))?,
                ttl,
            },
            Kind::MX => RawRecord::MX {
                name,
                preference: self
                    .preference
                    .ok_or_else(|| E::missing_field("preference"))?,
                exchange: self.exchange.ok_or_else(|| E::missing_field("exchange"))?,
                ttl,
            },
            Kind::PTR => RawRecord::PTR {
                name,
                target: target()?,
                ttl,
            },
            Kind::CNAME => RawRecord::CNAME {
                name,
                target: target()?,
                ttl,
            },
        })
    }
}

/// Reads one record's mapping.
struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = RawRecord;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping of keys: `type` and the record's fields")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<RawRecord, M::Error> {
        let mut given = Given::default();
        while let Some(key) = map.next_key_seed(KeySeed(given.kind))? {
            given.read(key, &mut map)?;
        }
        given.record()
    }
}

impl<'de> Deserialize<'de> for RawRecord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawRecord, D::Error> {
        deserializer.deserialize_map(RecordVisitor)
    }
}
