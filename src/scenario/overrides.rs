//! Command-line overrides: `--set path=value` changes one value of the
//! scenario before it is read, e.g. `seed=7`, `links[0].latency=50ms` or
//! `participants[2].smtp_server.mailboxes=[c3po]`.
//!
//! The value is read as YAML and put into the document's tree, so it is
//! checked exactly like a value written in the file; an error about it
//! names the `--set` argument instead of a line. A path must lead to an
//! existing mapping or list item; only its last key may be new (an error
//! about a missing key on the way shows how to set it whole, e.g.
//! `a.b={c: 1}` for `a.b.c=1`), and an unknown key is refused when the
//! scenario is read.

use std::fmt;

use serde_yaml::{Mapping, Value};

use super::error::visible;
use super::positions;

/// One step of a path: a mapping key or a list index.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// One `--set path=value` argument, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    /// The flag that gave it, as errors name it: `--set`, or `--set-a`
    /// and `--set-b` for one side of a diff.
    pub flag: String,
    /// The argument as given.
    pub argument: String,
    /// The path, written as in error messages, e.g. `links[0].latency`.
    pub path: String,
    segments: Vec<Segment>,
    value: Value,
}

impl Setting {
    /// Parses `path=value` given with `--set`.
    pub fn parse(argument: &str) -> Result<Setting, String> {
        Setting::parse_given_by("--set", argument)
    }

    /// Parses `path=value` given with `flag`, which errors name.
    pub fn parse_given_by(flag: &str, argument: &str) -> Result<Setting, String> {
        let shown = visible(argument);
        let (path, value) = argument.split_once('=').ok_or_else(|| {
            format!("{flag} `{shown}`: expected path=value, e.g. links[0].latency=50ms")
        })?;
        let segments = parse_path(path).map_err(|why| format!("{flag} `{shown}`: {why}"))?;
        if let Some(place) = positions::too_deep(value) {
            // The argument is not repeated: it is thousands of brackets.
            return Err(format!(
                "{flag} {path}=...: at column {} of the value: {}",
                place.column,
                positions::nesting_limit()
            ));
        }
        let value = serde_yaml::from_str(value).map_err(|error| {
            let why = out_of_range_number(&error.to_string())
                .unwrap_or_else(|| format!("the value is not YAML: {error}"));
            format!("{flag} `{shown}`: {why}")
        })?;
        Ok(Setting {
            flag: flag.to_string(),
            argument: argument.to_string(),
            path: path.to_string(),
            segments,
            value,
        })
    }

    /// Puts the value into the document.
    pub fn apply(&self, document: &mut Value) -> Result<(), String> {
        let mut node = document;
        let mut walked = String::new();
        let (last, leading) = self
            .segments
            .split_last()
            .expect("a parsed path has a segment");
        for (at, segment) in leading.iter().enumerate() {
            if lacks_key(node, segment) {
                return Err(self.missing_key(&walked, at));
            }
            node = step_into(node, segment, &walked)?;
            walked = join(&walked, segment);
        }
        match (last, node) {
            (Segment::Key(key), Value::Mapping(mapping)) => set_key(mapping, key),
            (Segment::Index(index), Value::Sequence(items)) => {
                let count = items.len();
                items
                    .get_mut(*index)
                    .ok_or_else(|| too_few(&walked, count, *index))
            }
            (segment, _) => Err(not_a_container(&walked, segment)),
        }
        .map(|slot| *slot = self.value.clone())
    }

    /// Describes a key on the way that the scenario lacks, `at` being its
    /// segment, and says how to add it: only the last key of a path may
    /// be new, so the missing key is given its whole value instead.
    ///
    /// Keys are not created on the way: a misspelt one would then be
    /// refused as an unknown key of the file, not of the `--set`.
    fn missing_key(&self, walked: &str, at: usize) -> String {
        let missing = join(walked, &self.segments[at]);
        let rest = &self.segments[at + 1..];
        let written_value = self.argument.split_once('=').map_or("", |(_, v)| v).trim();
        let flag = &self.flag;
        let example = match nest_in_mappings(rest, written_value) {
            Some(whole) => format!(": {flag} '{missing}={whole}'"),
            None => format!(", e.g. {flag} '{missing}=[...]'"),
        };
        let how = format!("only the last key of a path may be new, so set `{missing}` whole");
        format!("no key `{missing}` in the scenario; {how}{example}")
    }

    /// Tells whether `path` is the set path or lies under it.
    pub fn covers(&self, path: &str) -> bool {
        path == self.path
            || path.starts_with(&format!("{}.", self.path))
            || path.starts_with(&format!("{}[", self.path))
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.flag, visible(&self.argument))
    }
}

/// Says which whole number a tree of YAML values cannot hold, from
/// serde_yaml's message ("invalid type: integer `N` as u128"), when that
/// is what it is about: no key of a scenario takes one past 64 bits.
fn out_of_range_number(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("integer `")?;
    let (number, rest) = rest.split_once('`')?;
    if !(rest.starts_with(" as u128") || rest.starts_with(" as i128")) {
        return None;
    }
    let side = if number.starts_with('-') {
        format!("below {}", i64::MIN)
    } else {
        format!("past {}", u64::MAX)
    };
    Some(format!(
        "the number {number} is out of range: no key of a scenario takes a whole number {side}"
    ))
}

/// Parses `a.b[2].c` into segments: keys, each followed by any indexes.
fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    if path.is_empty() {
        return Err("the path is empty (expected e.g. links[0].latency=50ms)".to_string());
    }
    let mut segments = Vec::new();
    let mut rest = path;
    loop {
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let key = &rest[..end];
        if key.is_empty() {
            return Err(format!("`{path}` has an empty key"));
        }
        check_key(key)?;
        segments.push(Segment::Key(key.to_string()));
        rest = &rest[end..];
        while let Some(after) = rest.strip_prefix('[') {
            let (number, tail) = after.split_once(']').unwrap_or((after, ""));
            let index = number
                .parse()
                .map_err(|_| format!("`[{number}]` is not a list index like [0]"))?;
            segments.push(Segment::Index(index));
            rest = tail;
        }
        if rest.is_empty() {
            return Ok(segments);
        }
        rest = rest
            .strip_prefix('.')
            .ok_or_else(|| format!("`{path}`: expected `.` or `[` after `]`"))?;
    }
}

/// Checks that a key is a plain word.
fn check_key(key: &str) -> Result<(), String> {
    match key
        .chars()
        .find(|c| !(c.is_alphanumeric() || *c == '_' || *c == '-'))
    {
        Some(bad) => Err(format!("`{bad}` is not allowed in a key name")),
        None => Ok(()),
    }
}

/// Tells whether `segment` is a key that the mapping `node` lacks.
fn lacks_key(node: &Value, segment: &Segment) -> bool {
    match (segment, node) {
        (Segment::Key(key), Value::Mapping(mapping)) => !mapping.contains_key(key.as_str()),
        _ => false,
    }
}

/// Writes `value` under the keys of `path` as YAML flow mappings, e.g.
/// `{c: {d: 1}}` for the keys `c`, `d` and the value `1`; `None` when
/// the path holds a list index.
fn nest_in_mappings(path: &[Segment], value: &str) -> Option<String> {
    path.iter()
        .rev()
        .try_fold(value.to_string(), |inner, segment| match segment {
            Segment::Key(key) => Some(format!("{{{key}: {inner}}}")),
            Segment::Index(_) => None,
        })
}

/// Moves one segment down the tree; the key or item must exist.
fn step_into<'v>(
    node: &'v mut Value,
    segment: &Segment,
    walked: &str,
) -> Result<&'v mut Value, String> {
    match (segment, node) {
        (Segment::Key(key), Value::Mapping(mapping)) => mapping
            .get_mut(key.as_str())
            .ok_or_else(|| format!("no key `{}` in the scenario", join(walked, segment))),
        (Segment::Index(index), Value::Sequence(items)) => {
            let count = items.len();
            items
                .get_mut(*index)
                .ok_or_else(|| too_few(walked, count, *index))
        }
        (segment, _) => Err(not_a_container(walked, segment)),
    }
}

/// Returns the slot for a key, creating it when absent.
fn set_key<'m>(mapping: &'m mut Mapping, key: &str) -> Result<&'m mut Value, String> {
    let key = Value::String(key.to_string());
    if !mapping.contains_key(&key) {
        mapping.insert(key.clone(), Value::Null);
    }
    Ok(mapping.get_mut(&key).expect("the key was just inserted"))
}

/// Describes an index past the end of a list.
fn too_few(walked: &str, count: usize, index: usize) -> String {
    match count {
        0 => format!("`{walked}` is empty, so it has no item [{index}]"),
        1 => format!("`{walked}` has 1 item, {walked}[0]; there is no [{index}]"),
        _ => format!(
            "`{walked}` has {count} items, {walked}[0] to {walked}[{}]; there is no [{index}]",
            count - 1
        ),
    }
}

/// Describes a key or index applied to a value that has none.
fn not_a_container(walked: &str, segment: &Segment) -> String {
    let place = if walked.is_empty() {
        "the scenario".to_string()
    } else {
        format!("`{walked}`")
    };
    match segment {
        Segment::Key(key) => format!("{place} is not a mapping, so it has no key `{key}`"),
        Segment::Index(index) => format!("{place} is not a list, so it has no item [{index}]"),
    }
}

/// Appends a segment to a written path.
fn join(walked: &str, segment: &Segment) -> String {
    match segment {
        Segment::Key(key) if walked.is_empty() => key.clone(),
        Segment::Key(key) => format!("{walked}.{key}"),
        Segment::Index(index) => format!("{walked}[{index}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        serde_yaml::from_str("seed: 1\nlinks:\n  - { between: [a, b], latency: 10ms }\n").unwrap()
    }

    #[test]
    fn sets_nested_values_and_new_last_keys() {
        let mut doc = document();
        Setting::parse("links[0].latency=50ms")
            .unwrap()
            .apply(&mut doc)
            .unwrap();
        Setting::parse("links[0].jitter=2ms")
            .unwrap()
            .apply(&mut doc)
            .unwrap();
        Setting::parse("seed=7").unwrap().apply(&mut doc).unwrap();
        let expected: Value = serde_yaml::from_str(
            "seed: 7\nlinks:\n  - { between: [a, b], latency: 50ms, jitter: 2ms }\n",
        )
        .unwrap();
        assert_eq!(doc, expected);
    }

    #[test]
    fn values_are_read_as_yaml() {
        let mut doc = document();
        Setting::parse("links[0].between=[b, a]")
            .unwrap()
            .apply(&mut doc)
            .unwrap();
        assert_eq!(doc["links"][0]["between"][0], Value::String("b".into()));
    }

    #[test]
    fn missing_items_and_keys_are_named() {
        let mut doc = document();
        let error = Setting::parse("links[3].latency=1ms")
            .unwrap()
            .apply(&mut doc)
            .unwrap_err();
        assert_eq!(error, "`links` has 1 item, links[0]; there is no [3]");
        let error = Setting::parse("participants[0].id=x")
            .unwrap()
            .apply(&mut doc)
            .unwrap_err();
        assert_eq!(
            error,
            "no key `participants` in the scenario; only the last key of a path may be new, \
             so set `participants` whole, e.g. --set 'participants=[...]'"
        );
        let error = Setting::parse("tcp.limits.mss=536")
            .unwrap()
            .apply(&mut doc)
            .unwrap_err();
        assert_eq!(
            error,
            "no key `tcp` in the scenario; only the last key of a path may be new, \
             so set `tcp` whole: --set 'tcp={limits: {mss: 536}}'"
        );
        let error = Setting::parse("seed.x=1")
            .unwrap()
            .apply(&mut doc)
            .unwrap_err();
        assert_eq!(error, "`seed` is not a mapping, so it has no key `x`");
    }

    #[test]
    fn malformed_arguments_are_refused() {
        assert!(Setting::parse("seed").is_err());
        assert!(Setting::parse("links[x].latency=1ms").is_err());
        assert!(Setting::parse("a..b=1").is_err());
        assert!(Setting::parse("a b=1").is_err());
        assert_eq!(
            Setting::parse("=1").unwrap_err(),
            "--set `=1`: the path is empty (expected e.g. links[0].latency=50ms)"
        );
        assert_eq!(
            Setting::parse("a..b=1").unwrap_err(),
            "--set `a..b=1`: `a..b` has an empty key"
        );
    }

    #[test]
    fn covers_the_path_and_what_lies_under_it() {
        let setting = Setting::parse("links[0]={between: [a, b], latency: 1ms}").unwrap();
        assert!(setting.covers("links[0]") && setting.covers("links[0].latency"));
        assert!(!setting.covers("links[01]") && !setting.covers("links"));
    }
}
