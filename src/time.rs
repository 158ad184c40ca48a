//! Virtual time: integer nanoseconds from the start of a run.
//!
//! Nothing here reads a clock. Instants and spans are plain integers, so
//! two runs of the same scenario compute the same times on every machine.
//! Durations written by people ("20ms", "1.5s", "250us") are parsed here
//! without going through floating point. A sum past the last instant
//! stops there ([`SimTime::MAX`]); the engine refuses to go on from it.

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

    /// The last instant a run can reach, about 584 years in; sums that
    /// would go past it stop here.
    pub const MAX: SimTime = SimTime(u64::MAX);

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

    /// The longest duration a scenario may write: a million seconds,
    /// about 11.6 days, well past SMTP's usual 4 to 5 days of retries
    /// (RFC 5321 §4.5.4.1) and far from where integer time would run out.
    pub const LONGEST: SimDuration = SimDuration(1_000_000 * NANOS_PER_SECOND);

    /// Parses a duration such as `20ms`, `1.5s`, `250us`, `0`, `300ns`,
    /// `30min` or `2h`.
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
            .ok_or_else(|| format!("`{text}` has no unit (use ns, us, ms, s, min or h)"))?;
        let (number, unit) = text.split_at(split);
        if unit.starts_with(['e', 'E'])
            && unit.len() > 1
            && !unit[1..].starts_with(char::is_alphabetic)
        {
            return Err(format!(
                "`{text}` uses an exponent; write the number out, like 1.5s or 250us"
            ));
        }
        let scale = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS_PER_SECOND,
            "min" => 60 * NANOS_PER_SECOND,
            "h" => 3600 * NANOS_PER_SECOND,
            _ => {
                return Err(format!(
                    "`{unit}` is not a unit of time (use ns, us, ms, s, min or h)"
                ));
            }
        };
        let too_long = || {
            format!(
                "`{text}` is longer than the longest duration a scenario may use, 1000000s (about 11.6 days)"
            )
        };
        match parse_scaled(number, scale) {
            Ok(nanos) if nanos <= SimDuration::LONGEST.0 => Ok(SimDuration(nanos)),
            Ok(_) | Err(Scaled::TooLong) => Err(too_long()),
            Err(Scaled::TooFine) => Err(format!(
                "`{text}` is finer than one nanosecond, the finest time seqsim keeps"
            )),
            Err(Scaled::Malformed) => Err(format!(
                "`{text}` is not a duration like 20ms, 1.5s or 250us"
            )),
        }
    }
}

/// Why a decimal number could not be scaled to whole nanoseconds.
#[derive(Debug, PartialEq, Eq)]
enum Scaled {
    /// Not digits with at most one point.
    Malformed,
    /// It has digits below one nanosecond.
    TooFine,
    /// It does not fit in 64 bits of nanoseconds.
    TooLong,
}

/// Multiplies a decimal number written as text by `scale`, exactly.
fn parse_scaled(number: &str, scale: u64) -> Result<u64, Scaled> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(Scaled::Malformed);
    }
    let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits_ok(whole) || !digits_ok(fraction) {
        return Err(Scaled::Malformed);
    }
    let whole_value: u64 = if whole.trim_start_matches('0').is_empty() {
        0
    } else {
        whole.parse().map_err(|_| Scaled::TooLong)?
    };
    let nanos = whole_value.checked_mul(scale).ok_or(Scaled::TooLong)?;
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        return Ok(nanos);
    }
    // The fraction is digits / 10^len; it gives whole nanoseconds only
    // if 10^len divides digits × scale. A scale is at most 3.6 × 10^12,
    // so more than 13 significant decimals can never come out whole.
    if fraction.len() > 13 {
        return Err(Scaled::TooFine);
    }
    let digits: u128 = fraction.parse().map_err(|_| Scaled::Malformed)?;
    let product = digits * u128::from(scale);
    let denominator = 10u128.pow(fraction.len() as u32);
    if !product.is_multiple_of(denominator) {
        return Err(Scaled::TooFine);
    }
    let extra = u64::try_from(product / denominator).map_err(|_| Scaled::TooLong)?;
    let nanos = nanos.checked_add(extra).ok_or(Scaled::TooLong)?;
    Ok(nanos)
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
    fn minutes_and_hours_are_60_and_3600_seconds() {
        assert_eq!(
            SimDuration::parse("30min"),
            Ok(SimDuration::from_secs(1800))
        );
        assert_eq!(SimDuration::parse("1.5h"), Ok(SimDuration::from_secs(5400)));
        // 1e-11 min is 0.6 ns: not a whole number of nanoseconds.
        assert!(SimDuration::parse("0.00000000001min").is_err());
        // 1e-10 min is 6 ns.
        assert_eq!(
            SimDuration::parse("0.0000000001min"),
            Ok(SimDuration::from_nanos(6))
        );
    }

    #[test]
    fn each_kind_of_bad_number_says_what_is_wrong() {
        let why = |text| SimDuration::parse(text).unwrap_err();
        assert!(why("0.1ns").contains("finer than one nanosecond"));
        assert!(why("1e300s").contains("exponent"));
        assert!(why("99999999999999999999s").contains("longer than"));
        assert!(why("1000001s").contains("longer than"));
        assert_eq!(SimDuration::parse("1000000s"), Ok(SimDuration::LONGEST));
        assert!(why("1.2.3s").contains("not a duration"));
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
