//! Checks the `faults` list, the links' bandwidth, queue and one-way
//! settings, and the participants' `tcp` settings.
//!
//! Each value refused names its key path, as everywhere else.

use std::collections::BTreeSet;

use super::ScenarioError;
use super::raw::{
    RawFault, RawLink, RawMatch, RawOneWay, RawOutage, RawPartition, RawSmtpMatch, RawTcp,
};
use super::validate::Checker;
use crate::protocol::tcp;
use crate::sim::faults::{
    Action, Faults, Flags, Outage, Partition, Pattern, Rule, SmtpPattern, Window,
};
use crate::sim::topology::Direction;
use crate::time::{SimDuration, SimTime};
use crate::trace::Layer;

/// The TCP flag names a rule may list.
const FLAG_NAMES: [&str; 5] = ["SYN", "ACK", "FIN", "RST", "PSH"];

/// The most resends a TCP setting may ask for. Real stacks stop far
/// sooner (Linux: 15 data, 6 SYN); the bound keeps every run finite.
pub(super) const MAX_RESENDS: u32 = 100;

impl Checker<'_> {
    /// Checks every fault, sorting rules, outages and partitions apart.
    pub(super) fn faults(&self, raw: &[RawFault]) -> Result<Faults, ScenarioError> {
        let mut faults = Faults::default();
        for (index, fault) in raw.iter().enumerate() {
            self.fault(index, fault, &mut faults)?;
        }
        Ok(faults)
    }

    /// Checks one fault, which must be of exactly one kind, and files it.
    fn fault(
        &self,
        index: usize,
        raw: &RawFault,
        faults: &mut Faults,
    ) -> Result<(), ScenarioError> {
        let path = format!("faults[{index}]");
        let number = index + 1;
        let kinds = [
            raw.drop.is_some(),
            raw.delay.is_some(),
            raw.duplicate.is_some(),
            raw.host_down.is_some(),
            raw.partition.is_some(),
        ];
        if kinds.iter().filter(|&&given| given).count() != 1 {
            let message =
                "expected exactly one of `drop`, `delay`, `duplicate`, `host_down` or `partition`";
            return Err(self.error(&path, message));
        }
        if let Some(pattern) = &raw.drop {
            let rule = self.rule(&format!("{path}.drop"), number, Action::Drop, pattern)?;
            faults.rules.push(rule);
        } else if let Some(pattern) = &raw.delay {
            let key = format!("{path}.delay");
            let by = self.delay_by(&key, pattern)?;
            faults
                .rules
                .push(self.rule(&key, number, Action::Delay(by), pattern)?);
        } else if let Some(pattern) = &raw.duplicate {
            let key = format!("{path}.duplicate");
            faults
                .rules
                .push(self.rule(&key, number, Action::Duplicate, pattern)?);
        } else if let Some(outage) = &raw.host_down {
            let key = format!("{path}.host_down");
            faults.outages.push(self.outage(&key, number, outage)?);
        } else if let Some(partition) = &raw.partition {
            let key = format!("{path}.partition");
            faults
                .partitions
                .push(self.partition(&key, number, partition)?);
        }
        Ok(())
    }

    /// Reads the `by` a delay rule needs.
    fn delay_by(&self, path: &str, raw: &RawMatch) -> Result<SimDuration, ScenarioError> {
        let Some(by) = &raw.by else {
            return Err(self.error(path, "a delay needs `by`, e.g. `by: 300ms`"));
        };
        self.duration(&format!("{path}.by"), by)
    }

    /// Checks one rule and writes it in words.
    fn rule(
        &self,
        path: &str,
        number: usize,
        action: Action,
        raw: &RawMatch,
    ) -> Result<Rule, ScenarioError> {
        if raw.by.is_some() && !matches!(action, Action::Delay(_)) {
            let message = "`by` goes with `delay` only";
            return Err(self.error(&format!("{path}.by"), message));
        }
        if raw.occurrence == Some(0) {
            let message = "expected a count from 1 (leave it out for every message)";
            return Err(self.error(&format!("{path}.occurrence"), message));
        }
        let pattern = self.pattern(path, raw)?;
        let window = self.window(path, raw.since.as_deref(), raw.until.as_deref())?;
        Ok(Rule {
            number,
            action,
            description: describe(action, raw),
            pattern,
            occurrence: raw.occurrence,
            window,
        })
    }

    /// Checks what a rule matches.
    fn pattern(&self, path: &str, raw: &RawMatch) -> Result<Pattern, ScenarioError> {
        let participant = |key: &str, id: &Option<String>| match id {
            Some(id) => self
                .participant_index(&format!("{path}.{key}"), id)
                .map(Some),
            None => Ok(None),
        };
        let link = match &raw.link {
            Some([a, b]) => Some(self.fault_link(path, a, b)?),
            None => None,
        };
        Ok(Pattern {
            from: participant("from", &raw.from)?,
            to: participant("to", &raw.to)?,
            link,
            layer: self.layer(path, raw.layer.as_deref())?,
            flags: self.flags(path, raw.flags.as_deref())?,
            smtp: self.smtp_match(path, raw.smtp.as_ref())?,
            text: self.match_text(path, raw.text.as_deref())?,
        })
    }

    /// Checks the two ends of the link a rule matches: distinct
    /// participants, as in `links`.
    fn fault_link(&self, path: &str, a: &str, b: &str) -> Result<(usize, usize), ScenarioError> {
        let a = self.participant_index(&format!("{path}.link[0]"), a)?;
        let b = self.participant_index(&format!("{path}.link[1]"), b)?;
        if a == b {
            return Err(self.error(
                &format!("{path}.link"),
                "a link joins two different participants",
            ));
        }
        Ok((a, b))
    }

    /// Reads a layer name.
    fn layer(&self, path: &str, raw: Option<&str>) -> Result<Option<Layer>, ScenarioError> {
        let Some(name) = raw else { return Ok(None) };
        let layer = match name.to_ascii_lowercase().as_str() {
            "dns" => Layer::Dns,
            "tcp" => Layer::Tcp,
            "smtp" => Layer::Smtp,
            "http" => Layer::Http,
            "data" => Layer::Data,
            _ => {
                let message =
                    format!("`{name}` is not a layer (expected dns, tcp, smtp, http or data)");
                return Err(self.error(&format!("{path}.layer"), message));
            }
        };
        Ok(Some(layer))
    }

    /// Reads TCP flag names joined by `_`, `,`, `+` or spaces.
    fn flags(&self, path: &str, raw: Option<&str>) -> Result<Option<Flags>, ScenarioError> {
        let Some(text) = raw else { return Ok(None) };
        let mut names = BTreeSet::new();
        let words = text.split(['_', ',', '+', ' ']).filter(|w| !w.is_empty());
        for word in words {
            let name = word.to_ascii_uppercase();
            if !FLAG_NAMES.contains(&name.as_str()) {
                let message = format!(
                    "`{word}` is not a TCP flag (expected SYN, ACK, FIN, RST or PSH, \
                     joined like SYN_ACK)"
                );
                return Err(self.error(&format!("{path}.flags"), message));
            }
            if !names.insert(name) {
                let message = format!("`{word}` is named twice in `{text}`");
                return Err(self.error(&format!("{path}.flags"), message));
            }
        }
        if names.is_empty() {
            let message = "expected TCP flags, e.g. SYN or SYN_ACK";
            return Err(self.error(&format!("{path}.flags"), message));
        }
        Ok(Some(Flags { names }))
    }

    /// Reads an SMTP verb or reply code.
    fn smtp_match(
        &self,
        path: &str,
        raw: Option<&RawSmtpMatch>,
    ) -> Result<Option<SmtpPattern>, ScenarioError> {
        let key = format!("{path}.smtp");
        let quoted_code = match raw {
            Some(RawSmtpMatch::Verb(text)) => text.parse::<u16>().ok().map(RawSmtpMatch::Code),
            _ => None,
        };
        match quoted_code.as_ref().or(raw) {
            None => Ok(None),
            Some(RawSmtpMatch::Code(code)) if (200..600).contains(code) => {
                Ok(Some(SmtpPattern::Reply(*code)))
            }
            Some(RawSmtpMatch::Code(code)) => Err(self.error(
                &key,
                format!("{code} is not an SMTP reply code (expected 200 to 599)"),
            )),
            Some(RawSmtpMatch::Verb(verb))
                if !verb.is_empty() && verb.chars().all(|c| c.is_ascii_alphabetic()) =>
            {
                Ok(Some(SmtpPattern::Command(verb.to_ascii_uppercase())))
            }
            Some(RawSmtpMatch::Verb(verb)) => Err(self.error(
                &key,
                format!("`{verb}` is not an SMTP command verb or reply code, like RCPT or 550"),
            )),
        }
    }

    /// Refuses an empty text, which would match everything.
    fn match_text(&self, path: &str, raw: Option<&str>) -> Result<Option<String>, ScenarioError> {
        match raw {
            Some("") => Err(self.error(
                &format!("{path}.text"),
                "expected some text to look for (leave `text` out to match any message)",
            )),
            other => Ok(other.map(str::to_string)),
        }
    }

    /// Reads a `since`/`until` window; `until` must come after `since`.
    fn window(
        &self,
        path: &str,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<Window, ScenarioError> {
        let instant = |key: &str, text: Option<&str>| match text {
            Some(text) => self
                .duration(&format!("{path}.{key}"), text)
                .map(|d| Some(SimTime::ZERO + d)),
            None => Ok(None),
        };
        let since = instant("since", since)?.unwrap_or(SimTime::ZERO);
        let until = instant("until", until)?;
        if until.is_some_and(|until| until <= since) {
            let message = "`until` must come after `since`";
            return Err(self.error(&format!("{path}.until"), message));
        }
        Ok(Window { since, until })
    }

    /// Checks a host's outage.
    fn outage(&self, path: &str, number: usize, raw: &RawOutage) -> Result<Outage, ScenarioError> {
        let host = self.participant_index(&format!("{path}.host"), &raw.host)?;
        let window = self.window(path, raw.since.as_deref(), raw.until.as_deref())?;
        Ok(Outage {
            number,
            host,
            window,
        })
    }

    /// Checks a partition: two or more groups, no host in two of them.
    fn partition(
        &self,
        path: &str,
        number: usize,
        raw: &RawPartition,
    ) -> Result<Partition, ScenarioError> {
        if raw.groups.len() < 2 {
            let message = "a partition needs at least two groups, e.g. [[a, b], [c]]";
            return Err(self.error(&format!("{path}.groups"), message));
        }
        let mut seen = BTreeSet::new();
        let mut groups = Vec::new();
        for (g, ids) in raw.groups.iter().enumerate() {
            let mut group = BTreeSet::new();
            if ids.is_empty() {
                let message = "a group needs at least one participant";
                return Err(self.error(&format!("{path}.groups[{g}]"), message));
            }
            for (i, id) in ids.iter().enumerate() {
                let key = format!("{path}.groups[{g}][{i}]");
                let host = self.participant_index(&key, id)?;
                if !seen.insert(host) {
                    return Err(self.error(&key, format!("`{id}` is in two groups")));
                }
                group.insert(host);
            }
            groups.push(group);
        }
        let window = self.window(path, raw.since.as_deref(), raw.until.as_deref())?;
        Ok(Partition {
            number,
            groups,
            window,
        })
    }

    /// Checks a participant's TCP settings over the defaults.
    pub(super) fn tcp(
        &self,
        path: &str,
        raw: Option<&RawTcp>,
    ) -> Result<tcp::Config, ScenarioError> {
        let mut config = tcp::Config::default();
        let Some(raw) = raw else { return Ok(config) };
        let path = format!("{path}.tcp");
        if let Some(tries) = raw.max_retransmissions {
            let key = format!("{path}.max_retransmissions");
            config.max_retransmissions = self.resend_count(&key, tries)?;
        }
        if let Some(tries) = raw.max_syn_retransmissions {
            let key = format!("{path}.max_syn_retransmissions");
            config.max_syn_retransmissions = self.resend_count(&key, tries)?;
        }
        if let Some(text) = &raw.min_rto {
            config.min_rto = self.positive(&format!("{path}.min_rto"), text)?;
        }
        if let Some(text) = &raw.max_rto {
            config.max_rto = self.positive(&format!("{path}.max_rto"), text)?;
        }
        if config.min_rto > config.max_rto {
            return Err(self.crossed_rto_bounds(&path, raw, &config));
        }
        if let Some(mss) = raw.mss {
            if mss < 64 {
                let message = format!("an MSS of {mss} is too small (expected 64 or more)");
                return Err(self.error(&format!("{path}.mss"), message));
            }
            config.mss = mss;
        }
        Ok(config)
    }

    /// Describes a `min_rto` above `max_rto`, at `max_rto` when it is
    /// written, else at `min_rto` (above the default `max_rto`).
    fn crossed_rto_bounds(&self, path: &str, raw: &RawTcp, config: &tcp::Config) -> ScenarioError {
        let (min, max) = (config.min_rto, config.max_rto);
        let (key, fix) = match raw.max_rto {
            Some(_) => ("max_rto", format!("give a max_rto of at least {min}")),
            None => (
                "min_rto",
                format!("the default max_rto is {max}; give a larger one too"),
            ),
        };
        let why = format!("min_rto {min} is above max_rto {max}; {fix}");
        self.error(&format!("{path}.{key}"), why)
    }

    /// Checks a count of resends against [`MAX_RESENDS`].
    fn resend_count(&self, path: &str, tries: u32) -> Result<u32, ScenarioError> {
        if tries > MAX_RESENDS {
            let why = format!("expected 0 to {MAX_RESENDS} resends; got {tries}");
            return Err(self.error(path, why));
        }
        Ok(tries)
    }

    /// Reads a duration that must be more than zero.
    pub(super) fn positive(&self, path: &str, text: &str) -> Result<SimDuration, ScenarioError> {
        let duration = self.duration(path, text)?;
        if duration == SimDuration::ZERO {
            return Err(self.error(path, "expected a duration above zero"));
        }
        Ok(duration)
    }

    /// Reads the settings a link has both ways.
    pub(super) fn both_ways(&self, path: &str, raw: &RawLink) -> Result<Direction, ScenarioError> {
        let mut direction =
            Direction::with_latency(self.duration(&format!("{path}.latency"), &raw.latency)?);
        if let Some(text) = &raw.jitter {
            direction.jitter = self.duration(&format!("{path}.jitter"), text)?;
        }
        if let Some(loss) = raw.loss {
            direction.loss = self.probability(&format!("{path}.loss"), loss)?;
        }
        direction.bandwidth = self.bandwidth(path, raw.bandwidth.as_deref())?;
        direction.queue = raw.queue;
        self.queue_has_bandwidth(path, &direction)?;
        Ok(direction)
    }

    /// Returns the two directions of a link, `one_way` settings applied.
    pub(super) fn directions(
        &self,
        path: &str,
        ends: (usize, usize),
        raw: &RawLink,
    ) -> Result<[Direction; 2], ScenarioError> {
        let both = self.both_ways(path, raw)?;
        let mut directions = [both.clone(), both];
        let mut given = [false; 2];
        for (index, one_way) in raw.one_way.iter().enumerate() {
            let key = format!("{path}.one_way[{index}]");
            let from = self.any_participant_index(&format!("{key}.from"), &one_way.from)?;
            let side = match from {
                f if f == ends.0 => 0,
                f if f == ends.1 => 1,
                _ => {
                    let message = format!("`{}` is not an end of this link", one_way.from);
                    return Err(self.error(&format!("{key}.from"), message));
                }
            };
            if std::mem::replace(&mut given[side], true) {
                let message = format!("the direction from `{}` is set twice", one_way.from);
                return Err(self.error(&format!("{key}.from"), message));
            }
            self.one_way(&key, one_way, &mut directions[side])?;
        }
        Ok(directions)
    }

    /// Applies one direction's own settings.
    fn one_way(
        &self,
        path: &str,
        raw: &RawOneWay,
        direction: &mut Direction,
    ) -> Result<(), ScenarioError> {
        if let Some(text) = &raw.latency {
            direction.latency = self.duration(&format!("{path}.latency"), text)?;
        }
        if let Some(text) = &raw.jitter {
            direction.jitter = self.duration(&format!("{path}.jitter"), text)?;
        }
        if let Some(loss) = raw.loss {
            direction.loss = self.probability(&format!("{path}.loss"), loss)?;
        }
        if raw.bandwidth.is_some() {
            direction.bandwidth = self.bandwidth(path, raw.bandwidth.as_deref())?;
        }
        if raw.queue.is_some() {
            direction.queue = raw.queue;
        }
        self.queue_has_bandwidth(path, direction)
    }

    /// Refuses a queue limit on a direction that sends at once.
    fn queue_has_bandwidth(&self, path: &str, direction: &Direction) -> Result<(), ScenarioError> {
        if direction.queue.is_some() && direction.bandwidth.is_none() {
            let message = "a queue needs a `bandwidth` (a link that sends at once never queues)";
            return Err(self.error(&format!("{path}.queue"), message));
        }
        Ok(())
    }

    /// Reads a bandwidth such as `10Mbit/s`.
    fn bandwidth(&self, path: &str, raw: Option<&str>) -> Result<Option<u64>, ScenarioError> {
        let Some(text) = raw else { return Ok(None) };
        let key = format!("{path}.bandwidth");
        parse_bandwidth(text)
            .map(Some)
            .map_err(|why| self.error(&key, why))
    }
}

/// Parses a bandwidth: a number, then `bit/s`, `kbit/s`, `Mbit/s` or
/// `Gbit/s` (powers of 1000); returns bits per second, at least 1.
pub fn parse_bandwidth(text: &str) -> Result<u64, String> {
    let expected = || {
        format!(
            "`{text}` is not a bandwidth (expected a number and bit/s, kbit/s, Mbit/s or Gbit/s, like 10Mbit/s)"
        )
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(expected)?;
    let (number, unit) = trimmed.split_at(split);
    let scale: u64 = match unit.trim() {
        "bit/s" | "bps" => 1,
        "kbit/s" | "kbps" => 1_000,
        "Mbit/s" | "Mbps" => 1_000_000,
        "Gbit/s" | "Gbps" => 1_000_000_000,
        _ => return Err(expected()),
    };
    let bits = scaled(number, scale).ok_or_else(expected)?;
    if bits == 0 {
        return Err(format!(
            "`{text}` is no bandwidth (expected at least 1 bit/s)"
        ));
    }
    Ok(bits)
}

/// Multiplies a decimal number by a power of ten, refusing fractions of
/// a bit and numbers too large.
fn scaled(number: &str, scale: u64) -> Option<u64> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || fraction.contains('.') {
        return None;
    }
    let digits = u32::try_from(fraction.len()).ok()?;
    let divisor = 10u64.checked_pow(digits)?;
    let value: u64 = format!("{whole}{fraction}").parse().ok()?;
    let product = u128::from(value) * u128::from(scale);
    if product % u128::from(divisor) != 0 {
        return None;
    }
    u64::try_from(product / u128::from(divisor)).ok()
}

/// Writes a rule in words, e.g. `drop the 1st SYN_ACK`.
fn describe(action: Action, raw: &RawMatch) -> String {
    let verb = match action {
        Action::Drop => "drop".to_string(),
        Action::Delay(by) => format!("delay by {by}"),
        Action::Duplicate => "duplicate".to_string(),
    };
    let which = match raw.occurrence {
        Some(n) => format!("the {}", ordinal(n)),
        None => "every".to_string(),
    };
    let mut words = format!("{verb} {which} {}", subject(raw));
    if let Some(text) = &raw.text {
        words.push_str(&format!(" containing \"{text}\""));
    }
    for (word, id) in [("from", &raw.from), ("to", &raw.to)] {
        if let Some(id) = id {
            words.push_str(&format!(" {word} {id}"));
        }
    }
    if let Some([a, b]) = &raw.link {
        words.push_str(&format!(" on the link {a} - {b}"));
    }
    words
}

/// Names what a rule looks for: flags, an SMTP line, a layer or a message.
fn subject(raw: &RawMatch) -> String {
    if let Some(flags) = &raw.flags {
        return flags.to_ascii_uppercase();
    }
    match &raw.smtp {
        Some(RawSmtpMatch::Code(code)) => return format!("SMTP {code} reply"),
        Some(RawSmtpMatch::Verb(verb)) => return format!("SMTP {}", verb.to_ascii_uppercase()),
        None => {}
    }
    match &raw.layer {
        Some(layer) => format!("{} message", layer.to_ascii_uppercase()),
        None => "message".to_string(),
    }
}

/// Writes a count as an English ordinal: 1st, 2nd, 3rd, 4th, 11th, 21st.
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bandwidth_units_are_powers_of_a_thousand() {
        assert_eq!(parse_bandwidth("10Mbit/s"), Ok(10_000_000));
        assert_eq!(parse_bandwidth("64kbit/s"), Ok(64_000));
        assert_eq!(parse_bandwidth("1.5Mbit/s"), Ok(1_500_000));
        assert_eq!(parse_bandwidth("9600 bit/s"), Ok(9_600));
        assert_eq!(parse_bandwidth("1Gbit/s"), Ok(1_000_000_000));
    }

    #[test]
    fn bad_bandwidths_are_refused() {
        for bad in ["fast", "10", "10MB/s", "0bit/s", "0.5bit/s", "1..2kbit/s"] {
            assert!(parse_bandwidth(bad).is_err(), "{bad} was taken");
        }
    }

    #[test]
    fn ordinals_follow_english() {
        let written: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            written,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"
            ]
        );
    }
}
