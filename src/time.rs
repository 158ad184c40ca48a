//! Virtual time: integer nanoseconds from the start of a run.
//!
//! Nothing here reads a clock. Instants and spans are plain integers, so
//! two runs of the same scenario compute the same times on every machine.
//! Durations written by people ("20ms", "1.5s", "250us") are parsed here
//! without going through floating point.

use std::fmt;
use std::ops::{Add, Sub};

use serde::{Serialize, Serializer};

/// Nanoseconds in one second.
const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// An instant of virtual time, in nanoseconds since the run started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(u64);

/// A span of virtual time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);

    /// Builds an instant from nanoseconds since the start.
    pub const fn from_nanos(nanos: u64) -> Self {
        SimTime(nanos)
    }

    /// Returns the nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Returns the span from `earlier` to `self`, or zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// Builds a span from nanoseconds.
    pub const fn from_nanos(nanos: u64) -> Self {
        SimDuration(nanos)
    }

    /// Builds a span from milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        SimDuration(millis * 1_000_000)
    }

    /// Builds a span from whole seconds.
    pub const fn from_secs(secs: u64) -> Self {
        SimDuration(secs * NANOS_PER_SECOND)
    }

    /// Returns the span in nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Parses a duration such as `20ms`, `1.5s`, `250us`, `0` or `300ns`.
    ///
    /// The number may have a fractional part, which must come out as whole
    /// nanoseconds. A bare `0` needs no unit; any other number does.
    pub fn parse(text: &str) -> Result<SimDuration, String> {
        let text = text.trim();
        if text == "0" {
            return Ok(SimDuration::ZERO);
        }
        if text.starts_with('-') {
            return Err(format!(
                "`{text}` is negative; a duration is 0 or more, like 20ms"
            ));
        }
        if !text.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            return Err(format!(
                "`{text}` is not a duration like 20ms, 1.5s or 250us"
            ));
        }
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("`{text}` has no unit (use ns, us, ms or s)"))?;
        let (number, unit) = text.split_at(split);
        let scale = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS_PER_SECOND,
            _ => {
                return Err(format!(
                    "`{unit}` is not a unit of time (use ns, us, ms or s)"
                ));
            }
        };
        parse_scaled(number, scale)
            .map(SimDuration)
            .ok_or_else(|| format!("`{text}` is not a duration like 20ms, 1.5s or 250us"))
    }
}

/// Multiplies a decimal number written as text by `scale`, exactly.
fn parse_scaled(number: &str, scale: u64) -> Option<u64> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits_ok(whole) || !digits_ok(fraction) {
        return None;
    }
    let whole_value: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut nanos = whole_value.checked_mul(scale)?;
    let mut place = scale;
    for digit in fraction.chars() {
        let digit = u64::from(digit.to_digit(10)?);
        if place == 1 {
            if digit != 0 {
                return None;
            }
            continue;
        }
        place /= 10;
        nanos = nanos.checked_add(digit * place)?;
    }
    Some(nanos)
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;

    fn add(self, span: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(span.0))
    }
}

impl Add for SimDuration {
    type Output = SimDuration;

    fn add(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(other.0))
    }
}

impl Sub for SimTime {
    type Output = SimDuration;

    fn sub(self, earlier: SimTime) -> SimDuration {
        self.since(earlier)
    }
}

/// Prints seconds with six decimals (microseconds), e.g. `0.020000`.
///
/// Nanoseconds below a microsecond are cut, not rounded; the JSON trace
/// keeps the full value.
impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0 / NANOS_PER_SECOND;
        let micros = (self.0 % NANOS_PER_SECOND) / 1_000;
        write!(f, "{secs}.{micros:06}")
    }
}

/// Prints the shortest exact form with a unit, e.g. `20ms` or `1500us`.
impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = [(NANOS_PER_SECOND, "s"), (1_000_000, "ms"), (1_000, "us")];
        for (scale, unit) in units {
            if self.0 >= scale && self.0.is_multiple_of(scale) {
                return write!(f, "{}{unit}", self.0 / scale);
            }
        }
        if self.0 == 0 {
            write!(f, "0")
        } else {
            write!(f, "{}ns", self.0)
        }
    }
}

impl Serialize for SimTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit() {
        assert_eq!(SimDuration::parse("20ms"), Ok(SimDuration::from_millis(20)));
        assert_eq!(
            SimDuration::parse("1.5s"),
            Ok(SimDuration::from_millis(1500))
        );
        assert_eq!(
            SimDuration::parse("250us"),
            Ok(SimDuration::from_nanos(250_000))
        );
        assert_eq!(SimDuration::parse("7ns"), Ok(SimDuration::from_nanos(7)));
        assert_eq!(SimDuration::parse("0"), Ok(SimDuration::ZERO));
        assert_eq!(
            SimDuration::parse(".25s"),
            Ok(SimDuration::from_millis(250))
        );
    }

    #[test]
    fn fractions_must_come_out_as_whole_nanoseconds() {
        assert_eq!(
            SimDuration::parse("1.000000000s"),
            Ok(SimDuration::from_secs(1))
        );
        assert_eq!(
            SimDuration::parse("2.000ns"),
            Ok(SimDuration::from_nanos(2))
        );
        assert!(SimDuration::parse("1.05ns").is_err());
        assert!(SimDuration::parse("0.0000000001s").is_err());
    }

    #[test]
    fn durations_without_unit_or_number_are_refused() {
        for bad in [
            "20",
            "ms",
            "-5ms",
            "1.2.3s",
            "5 parsecs",
            "",
            "0.5ns",
            "1e3ms",
        ] {
            assert!(SimDuration::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn instants_print_as_seconds_with_six_decimals() {
        assert_eq!(SimTime::from_nanos(0).to_string(), "0.000000");
        assert_eq!(SimTime::from_nanos(20_000_000).to_string(), "0.020000");
        assert_eq!(SimTime::from_nanos(61_500_000_999).to_string(), "61.500000");
    }

    #[test]
    fn durations_print_in_their_largest_exact_unit() {
        assert_eq!(SimDuration::from_millis(20).to_string(), "20ms");
        assert_eq!(SimDuration::from_millis(1500).to_string(), "1500ms");
        assert_eq!(SimDuration::from_secs(2).to_string(), "2s");
        assert_eq!(SimDuration::from_nanos(250_000).to_string(), "250us");
    }
}
