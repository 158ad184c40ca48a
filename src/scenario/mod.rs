//! Scenarios: the YAML format, loading, and validation into checked
//! types the engine can build from without further checks.
//!
//! Loading reads the file (refusing files over a size limit and text that
//! is not UTF-8), deserializes it with unknown keys refused, applies
//! command-line overrides, then validates every value: addresses, host
//! names, durations, references between participants, DNS records and
//! mail addresses. Every error carries the file, line, column and key path.

mod addresses;
mod error;
mod faults;
mod overrides;
pub mod participants;
pub mod population;
pub mod positions;
mod raw;
mod record;
mod scalar;
pub mod script;
mod syntax;
mod text;
mod validate;

use std::io::Read;
use std::net::Ipv4Addr;

pub use error::ScenarioError;
pub use overrides::Setting;
pub use participants::Participants;
pub use positions::Position;

use crate::protocol::dns::ResolverConfig;
use crate::protocol::smtp::{Mail, ReplyTimeouts, RetryPolicy, ServerConfig};
use crate::protocol::tcp;
use crate::sim::faults::Faults;
use crate::sim::topology::LinkSpec;
use crate::time::SimDuration;
use crate::wire::dns::{Name, Record};

/// The largest scenario file accepted, in bytes.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// A checked scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Drawn above the diagram.
    pub title: String,
    /// The seed all random draws derive from.
    pub seed: u64,
    /// The hosts, in column order, a population's copies one after
    /// another; every other index in the scenario counts in this list.
    pub participants: Participants,
    /// The links, by the index of the participant as written: a link
    /// naming a population joins each of its copies.
    pub links: Vec<LinkSpec>,
    /// The script's steps, in order; empty when the models do all the work.
    pub script: Vec<script::Step>,
    /// Remarks to draw beside messages.
    pub remarks: Vec<Remark>,
    /// Fault rules, hosts down and partitions.
    pub faults: Faults,
}

/// One checked participant.
#[derive(Clone, Debug)]
pub struct Participant {
    /// The id scenarios use to name it.
    pub id: String,
    /// The name drawn at the head of its column.
    pub name: String,
    /// The group header above its column.
    pub group: Option<String>,
    /// Its host name.
    pub host: Name,
    /// Its address.
    pub address: Ipv4Addr,
    /// The index of the participant that answers its DNS queries.
    pub resolver: Option<usize>,
    /// How long its resolver waits for an answer, and how often it asks again.
    pub dns: ResolverConfig,
    /// The records it serves, when it is a DNS server.
    pub dns_records: Option<Vec<Record>>,
    /// Its configuration, when it receives mail.
    pub smtp_server: Option<Box<ServerConfig>>,
    /// Its mails, when it sends mail.
    pub smtp_client: Option<ClientSetup>,
    /// The settings of its TCP connections.
    pub tcp: tcp::Config,
}

/// A sending client's start time and mails.
#[derive(Clone, Debug)]
pub struct ClientSetup {
    /// When the client starts, from the start of the run.
    pub start: SimDuration,
    /// The mails, sent one after another; the copies of a population
    /// share them.
    pub mails: std::sync::Arc<[Mail]>,
    /// How it retries after temporary failures.
    pub retry: RetryPolicy,
    /// How long it waits for each reply.
    pub timeouts: ReplyTimeouts,
}

/// A checked remark.
#[derive(Clone, Debug)]
pub struct Remark {
    /// The sender's participant index.
    pub from: usize,
    /// The receiver's participant index, when given.
    pub to: Option<usize>,
    /// The start of the label of the message it goes with.
    pub message: String,
    /// Which of the matching messages it goes with.
    pub occurrence: Occurrence,
    /// The remark's text.
    pub text: String,
}

/// Which of the messages matching a remark it goes with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Occurrence {
    /// The n-th, counting from one.
    Nth(usize),
    /// The last one.
    Last,
}

impl std::fmt::Display for Occurrence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Occurrence::Nth(n) => write!(f, "message number {n}"),
            Occurrence::Last => write!(f, "last message"),
        }
    }
}

/// Changes applied to a scenario when it is read.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Replaces the scenario's seed (a shortcut of `--set seed=N`).
    pub seed: Option<u64>,
    /// `--set path=value` changes, applied in order before validation.
    pub sets: Vec<Setting>,
}

/// Returns the JSON Schema of the scenario format, pretty-printed, for
/// editors that complete and check scenario files.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(raw::RawScenario);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serializes");
    text.push('\n');
    text
}

/// Reads, checks and returns the scenario in `file`.
pub fn load(file: &str, overrides: &Overrides) -> Result<Scenario, ScenarioError> {
    let text = read_text(file)?;
    parse(file, &text, overrides)
}

/// Checks and returns the scenario written in `text`; `file` names it in errors.
pub fn parse(file: &str, text: &str, overrides: &Overrides) -> Result<Scenario, ScenarioError> {
    // Some editors start a UTF-8 file with a byte-order mark; it is not
    // part of the YAML.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if holds_nothing(text) {
        return Err(ScenarioError::whole_file(
            file,
            "the scenario is empty (expected at least `title` and `participants`)",
        ));
    }
    let positions = positions::Positions::of(text);
    syntax::refuse_duplicate_keys(file, text, &positions)?;
    let raw = if overrides.sets.is_empty() {
        deserialize(file, text, &positions)?
    } else {
        deserialize_with(file, text, &positions, &overrides.sets)?
    };
    let mut scenario = validate::validate(file, text, positions, raw, &overrides.sets)?;
    if let Some(seed) = overrides.seed {
        scenario.seed = seed;
    }
    Ok(scenario)
}

/// Tells whether a document holds no value: blank, or only comments.
fn holds_nothing(text: &str) -> bool {
    text.trim().is_empty()
        || matches!(
            serde_yaml::from_str::<serde_yaml::Value>(text),
            Ok(serde_yaml::Value::Null)
        )
}

/// Reads a file as UTF-8 text, refusing huge files.
pub fn read_text(file: &str) -> Result<String, ScenarioError> {
    if file.is_empty() {
        let why = "the scenario's file name is empty; expected the path of a YAML file";
        return Err(ScenarioError::whole_file("''", why));
    }
    let io_error = |error: std::io::Error| {
        ScenarioError::whole_file(file, format!("cannot read the file: {error}"))
    };
    let metadata = std::fs::metadata(file).map_err(io_error)?;
    if metadata.is_dir() {
        return Err(ScenarioError::whole_file(
            file,
            "is a directory, not a scenario file",
        ));
    }
    if metadata.len() > MAX_FILE_BYTES {
        let message = format!(
            "the file has {} bytes; scenarios may have at most {MAX_FILE_BYTES}",
            metadata.len()
        );
        return Err(ScenarioError::whole_file(file, message));
    }
    let bytes = read_at_most(file, MAX_FILE_BYTES + 1).map_err(io_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        let message = format!(
            "the file has more than {MAX_FILE_BYTES} bytes; scenarios may have at most {MAX_FILE_BYTES}"
        );
        return Err(ScenarioError::whole_file(file, message));
    }
    String::from_utf8(bytes).map_err(|error| not_utf8(file, &error))
}

/// Reads up to `limit` bytes, so a pipe or a device such as /dev/zero,
/// whose size the metadata does not tell, cannot fill the memory.
fn read_at_most(file: &str, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(file)?
        .take(limit)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Describes where a file stops being UTF-8.
fn not_utf8(file: &str, error: &std::string::FromUtf8Error) -> ScenarioError {
    let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
    let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = valid.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    let text = String::from_utf8_lossy(error.as_bytes());
    let position = Some(Position { line, column });
    ScenarioError::at(
        file,
        &text,
        position,
        None,
        "the file is not UTF-8 text (save it as UTF-8)",
    )
}

/// Deserializes the raw scenario, locating any error; a YAML syntax
/// error anywhere in the file comes before any error about a value.
fn deserialize(
    file: &str,
    text: &str,
    positions: &positions::Positions,
) -> Result<raw::RawScenario, ScenarioError> {
    let deserializer = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        if let Some(syntax_error) = syntax::syntax_error(file, text) {
            return syntax_error;
        }
        let path = error.path().to_string();
        let inner = error.into_inner();
        let reported = inner.location().map(|l| Position {
            line: l.line(),
            column: l.column(),
        });
        let written = positions.find(&path);
        // A null refused where text is required is placed by serde_yaml at
        // the mapping that holds it or at what follows; the path is exact.
        let position = if text::is_null_refusal(&inner.to_string()) {
            written.or(reported)
        } else {
            locate(reported, written)
        };
        let message = with_tab_hint(
            with_key_range(strip_path(&strip_location(&inner.to_string())), &path),
            text,
            position,
        );
        let path = (path != "." && !path.contains('?')).then_some(path);
        ScenarioError::at(file, text, position, path, message)
    })
}

/// Chooses where a deserialization error stands: where serde_yaml says,
/// unless that is on a line before the one where the error's path is
/// written.
///
/// serde reads a tagged or untagged enum from a buffered copy and then
/// serde_yaml reports a place earlier in the file, such as the start of
/// the list; an error about a value cannot stand above that value. The
/// scenario's enums are read in place ([`record`], [`scalar`]); this
/// guards any read the buffered way.
fn locate(reported: Option<Position>, path_start: Option<Position>) -> Option<Position> {
    match (reported, path_start) {
        (Some(reported), Some(start)) if reported.line < start.line => Some(start),
        (reported, start) => reported.or(start),
    }
}

/// Reads the document as a tree, applies the `--set` changes, then
/// deserializes it; an error about a set value names its `--set`.
fn deserialize_with(
    file: &str,
    text: &str,
    positions: &positions::Positions,
    sets: &[Setting],
) -> Result<raw::RawScenario, ScenarioError> {
    let mut document: serde_yaml::Value = match serde_yaml::from_str(text) {
        Ok(document) => document,
        Err(error) => return Err(file_refused(file, text, positions, &error)),
    };
    for setting in sets {
        setting
            .apply(&mut document)
            .map_err(|why| ScenarioError::whole_file(&setting.to_string(), why))?;
    }
    // Written out and read again as text, every value is a plain YAML
    // scalar, as in a file: `latency=0` then reads as a duration, the way
    // `latency: 0` does in the file, not as a number.
    let rewritten = serde_yaml::to_string(&document).expect("a YAML tree can be written out");
    let deserializer = serde_yaml::Deserializer::from_str(&rewritten);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = with_key_range(
            strip_path(&strip_location(&error.inner().to_string())),
            &path,
        );
        let setting = sets
            .iter()
            .rev()
            .find(|s| s.covers(&path) || names_unknown_key(&message, s, &path));
        if let Some(setting) = setting {
            return ScenarioError::at(&setting.to_string(), "", None, Some(path), message);
        }
        let position = positions.find(&path);
        ScenarioError::at(file, text, position, (path != ".").then_some(path), message)
    })
}

/// Says why the file, read as a tree of values before `--set` changes,
/// was refused: for its syntax, or else for whatever reading it as a
/// scenario finds first (a tree cannot hold a number past 64 bits, which
/// the scenario's own types explain better).
fn file_refused(
    file: &str,
    text: &str,
    positions: &positions::Positions,
    error: &serde_yaml::Error,
) -> ScenarioError {
    if let Some(syntax_error) = syntax::syntax_error(file, text) {
        return syntax_error;
    }
    match deserialize(file, text, positions) {
        Err(typed) => typed,
        Ok(_) => syntax::describe(file, text, error),
    }
}

/// Tells whether an unknown-field error is about the key a setting added.
fn names_unknown_key(message: &str, setting: &Setting, path: &str) -> bool {
    let added = setting
        .path
        .rsplit_once('.')
        .map_or(setting.path.as_str(), |(_, key)| key);
    let parent = setting
        .path
        .rsplit_once('.')
        .map_or("", |(parent, _)| parent);
    let parent_matches = parent == path || (parent.is_empty() && path == ".");
    parent_matches && message.starts_with(&format!("unknown field `{added}`"))
}

/// Adds a hint when the character at the error is a tab.
fn with_tab_hint(message: String, text: &str, position: Option<Position>) -> String {
    let at = position.and_then(|p| text.lines().nth(p.line - 1)?.chars().nth(p.column - 1));
    if at == Some('\t') {
        return format!("{message} (a tab: YAML indents with spaces only)");
    }
    message
}

/// Removes the key path serde_yaml puts before some messages
/// (`participants[0]: missing field ...`); the error prints the path itself.
fn strip_path(message: &str) -> String {
    let Some((head, rest)) = message.split_once(": ") else {
        return message.to_string();
    };
    let path_like = !head.is_empty()
        && head
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.[]".contains(c));
    let serde_words = [
        "invalid type",
        "invalid value",
        "unknown field",
        "missing field",
        "unknown variant",
        "expected a string, found null",
    ];
    if path_like && serde_words.iter().any(|words| rest.starts_with(words)) {
        rest.to_string()
    } else {
        message.to_string()
    }
}

/// Removes serde_yaml's own " at line L column C" after the message (the
/// error prints the place itself) and shortens later places, as in
/// "while parsing a flow mapping at line 3 column 5", to "at 3:5".
fn strip_location(message: &str) -> String {
    let mut pieces = message.split(" at line ");
    let mut text = pieces.next().unwrap_or_default().to_string();
    for (index, piece) in pieces.enumerate() {
        let (place, rest) = piece.split_once(", ").map_or((piece, ""), |(p, r)| (p, r));
        if index > 0 {
            text.push_str(&format!(" at {}", place.replace(" column ", ":")));
        }
        if !rest.is_empty() {
            text.push_str(&format!(", {rest}"));
        }
    }
    humane(&text)
}

/// Keys whose whole numbers have a narrower range than their type, by
/// how their path ends, and that range.
const KEY_RANGES: [(&str, u64, u64); 5] = [
    (".population.count", 1, population::MAX_COPIES as u64),
    (".dns_retries", 0, validate::MAX_DNS_RETRIES as u64),
    (
        ".smtp_client.max_attempts",
        1,
        validate::MAX_ATTEMPTS as u64,
    ),
    (".tcp.max_retransmissions", 0, faults::MAX_RESENDS as u64),
    (
        ".tcp.max_syn_retransmissions",
        0,
        faults::MAX_RESENDS as u64,
    ),
];

/// Says the key's own range instead of its type's, when a key of
/// [`KEY_RANGES`] was given something other than a whole number.
fn with_key_range(message: String, path: &str) -> String {
    let range = KEY_RANGES.iter().find(|(end, ..)| path.ends_with(end));
    let cut = message.find("expected a whole number");
    match (range, cut) {
        (Some((_, low, high)), Some(cut)) => format!(
            "{}expected a whole number from {low} to {high}",
            &message[..cut]
        ),
        _ => message,
    }
}

/// Replaces Rust type names in serde's messages with words.
fn humane(message: &str) -> String {
    let words = [
        (
            "expected u64",
            "expected a whole number from 0 to 18446744073709551615",
        ),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        ("expected u16", "expected a whole number from 0 to 65535"),
        ("expected usize", "expected a whole number, 0 or more"),
        ("expected f64", "expected a number"),
        ("` as u128,", "`,"),
        ("` as i128,", "`,"),
    ];
    let mut text = message.to_string();
    for (from, to) in words {
        text = text.replace(from, to);
    }
    match text.find("expected struct Raw") {
        Some(cut) => format!("{}expected a mapping of keys", &text[..cut]),
        None => text,
    }
}
