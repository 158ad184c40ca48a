//! Reads the keys whose value is a whole number or a word: a fault's
//! `smtp` (a reply code or a command verb) and a remark's `occurrence`
//! (a count or `last`).
//!
//! serde tries each variant of an enum without a tag on a buffered copy
//! and, when none fits, says only that the value matched no variant,
//! placed at the mapping around it. Here a scalar is always accepted as
//! a number or as its text, so the checks in [`super::validate`] and
//! [`super::faults`] refuse a bad one at its key, saying what is
//! expected; only a list or a mapping is refused while reading.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, Error, Visitor};

use super::raw::{RawOccurrence, RawSmtpMatch};

/// A scalar read as a whole number when it is one, or else as its text.
enum NumberOrWord {
    Number(u64),
    Word(String),
}

/// Reads a [`NumberOrWord`]; `expected` says what the key takes.
struct ScalarVisitor {
    expected: &'static str,
}

impl Visitor<'_> for ScalarVisitor {
    type Value = NumberOrWord;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expected)
    }

    fn visit_u64<E: Error>(self, value: u64) -> Result<NumberOrWord, E> {
        Ok(NumberOrWord::Number(value))
    }

    fn visit_i64<E: Error>(self, value: i64) -> Result<NumberOrWord, E> {
        Ok(u64::try_from(value).map_or_else(
            |_| NumberOrWord::Word(value.to_string()),
            NumberOrWord::Number,
        ))
    }

    fn visit_u128<E: Error>(self, value: u128) -> Result<NumberOrWord, E> {
        Ok(NumberOrWord::Word(value.to_string()))
    }

    fn visit_i128<E: Error>(self, value: i128) -> Result<NumberOrWord, E> {
        Ok(NumberOrWord::Word(value.to_string()))
    }

    fn visit_f64<E: Error>(self, value: f64) -> Result<NumberOrWord, E> {
        Ok(NumberOrWord::Word(value.to_string()))
    }

    fn visit_bool<E: Error>(self, value: bool) -> Result<NumberOrWord, E> {
        Ok(NumberOrWord::Word(value.to_string()))
    }

    fn visit_str<E: Error>(self, value: &str) -> Result<NumberOrWord, E> {
        Ok(NumberOrWord::Word(value.to_string()))
    }
}

/// Reads a scalar at the place the deserializer stands.
fn scalar<'de, D: Deserializer<'de>>(
    deserializer: D,
    expected: &'static str,
) -> Result<NumberOrWord, D::Error> {
    deserializer.deserialize_any(ScalarVisitor { expected })
}

impl<'de> Deserialize<'de> for RawSmtpMatch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawSmtpMatch, D::Error> {
        let expected = "an SMTP command verb or reply code, like RCPT or 550";
        Ok(match scalar(deserializer, expected)? {
            NumberOrWord::Number(number) => u16::try_from(number).map_or_else(
                |_| RawSmtpMatch::Verb(number.to_string()),
                RawSmtpMatch::Code,
            ),
            NumberOrWord::Word(word) => RawSmtpMatch::Verb(word),
        })
    }
}

impl<'de> Deserialize<'de> for RawOccurrence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawOccurrence, D::Error> {
        let expected = "a count from 1, or `last`";
        Ok(match scalar(deserializer, expected)? {
            NumberOrWord::Number(number) => usize::try_from(number).map_or_else(
                |_| RawOccurrence::Word(number.to_string()),
                RawOccurrence::Nth,
            ),
            NumberOrWord::Word(word) => RawOccurrence::Word(word),
        })
    }
}
