//! Where each key path of a YAML document is written: line and column.
//!
//! serde tells what is wrong with a value but not where it stands once
//! deserialization succeeded; validation needs the place too. This walks
//! the document's parse events once and remembers the position of every
//! mapping key, scalar value and sequence item under its key path, e.g.
//! `participants[2].smtp_server.mailboxes[0]`. A path whose value is a
//! scalar is found at the scalar, since that is what an error is about;
//! a mapping or list is found at its key.
//!
//! It also finds where a document nests lists and mappings deeper than
//! any scenario needs, before serde_yaml reads it: libyaml's scanner,
//! under serde_yaml, takes time growing with the square of the nesting
//! depth (40,000 levels of `[` take seconds), so such a document is
//! refused first, reading no further than the place it goes too deep.
//!
//! The same walk notes the first key given twice in one mapping, with
//! the places of both, since serde only says that a field is duplicated
//! and places the error at the mapping's start.

use std::collections::BTreeMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::error::ScenarioError;

/// The most lists and mappings a scenario may hold inside one another,
/// the document's own top mapping counting as one. The bundled
/// scenarios need 6; serde_yaml gives up at 128 with a vaguer message.
pub const MAX_NESTING: usize = 64;

/// A line and column, both counted from one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// The line, from one.
    pub line: usize,
    /// The column, from one.
    pub column: usize,
}

/// The position of every key path in one document.
#[derive(Debug, Default)]
pub struct Positions {
    by_path: BTreeMap<String, Position>,
    scalars: BTreeMap<String, Position>,
    first_duplicate: Option<DuplicateKey>,
}

/// A key written a second time in the same mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The key path, e.g. `participants[0].host`.
    pub path: String,
    /// The key as written.
    pub key: String,
    /// Where the key is first written.
    pub first: Position,
    /// Where it is written again.
    pub again: Position,
}

impl Positions {
    /// Indexes `text`; a document that does not parse gives an empty index.
    pub fn of(text: &str) -> Positions {
        let mut walker = Walker::default();
        let _ = Parser::new_from_str(text).load(&mut walker, false);
        Positions {
            by_path: walker.by_path,
            scalars: walker.scalars,
            first_duplicate: walker.first_duplicate,
        }
    }

    /// Returns the first key, in the order of the text, that its mapping
    /// already holds.
    pub fn first_duplicate(&self) -> Option<&DuplicateKey> {
        self.first_duplicate.as_ref()
    }

    /// Returns where `path` is written, or its nearest written ancestor.
    pub fn find(&self, path: &str) -> Option<Position> {
        let mut path = path;
        loop {
            if let Some(position) = self.scalars.get(path).or_else(|| self.by_path.get(path)) {
                return Some(*position);
            }
            path = parent_of(path)?;
        }
    }
}

/// Returns where `text` first opens a list or mapping deeper than
/// [`MAX_NESTING`], reading no further; `None` when it never does or
/// stops being YAML first (that error is serde_yaml's to report).
///
/// Known shortcoming: yaml-rust2 reads flow lists and mappings (`[`,
/// `{`) ahead to their end before it reports them, and gives up at 256
/// levels; when they nest that deep the place found is that 256th
/// level, not the first one past the limit.
pub fn too_deep(text: &str) -> Option<Position> {
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0usize;
    loop {
        match parser.next_token() {
            Ok((Event::MappingStart(..) | Event::SequenceStart(..), mark)) => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(position_of(mark));
                }
            }
            Ok((Event::MappingEnd | Event::SequenceEnd, _)) => depth = depth.saturating_sub(1),
            Ok((Event::StreamEnd, _)) => return None,
            Err(error) if error.info() == SCANNER_DEPTH_LIMIT => {
                return Some(position_of(*error.marker()));
            }
            Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// How yaml-rust2 says flow collections nest deeper than it reads.
const SCANNER_DEPTH_LIMIT: &str = "recursion limit exceeded";

/// Converts a parser's mark (column from zero) into a position.
fn position_of(mark: Marker) -> Position {
    Position {
        line: mark.line(),
        column: mark.col() + 1,
    }
}

/// Refuses a scenario `file` whose `text` nests deeper than
/// [`MAX_NESTING`], naming the place.
pub fn check_nesting(file: &str, text: &str) -> Result<(), ScenarioError> {
    match too_deep(text) {
        Some(position) => Err(ScenarioError::at(
            file,
            text,
            Some(position),
            None,
            format!("{}; no scenario needs more", nesting_limit()),
        )),
        None => Ok(()),
    }
}

/// Says how deep lists and mappings may nest, for errors.
pub fn nesting_limit() -> String {
    let limit = MAX_NESTING;
    format!("lists and mappings may be nested at most {limit} deep (the top mapping counts as one)")
}

/// Strips the last `.key` or `[n]` of a path.
fn parent_of(path: &str) -> Option<&str> {
    let cut = path.rfind(['.', '['])?;
    Some(&path[..cut])
}

/// One open container while walking.
#[derive(Debug)]
enum Frame {
    Mapping {
        path: String,
        key: Option<String>,
        keys: BTreeMap<String, Position>,
    },
    Sequence {
        path: String,
        next: usize,
    },
}

/// Receives parse events and records positions.
#[derive(Debug, Default)]
struct Walker {
    stack: Vec<Frame>,
    by_path: BTreeMap<String, Position>,
    scalars: BTreeMap<String, Position>,
    first_duplicate: Option<DuplicateKey>,
}

impl Walker {
    /// Returns the path of the value about to be read, or `None` when the
    /// next scalar is a mapping key.
    fn value_path(&self) -> Option<String> {
        match self.stack.last() {
            None => Some(String::new()),
            Some(Frame::Mapping { key: None, .. }) => None,
            Some(Frame::Mapping {
                path,
                key: Some(key),
                ..
            }) => Some(join_key(path, key)),
            Some(Frame::Sequence { path, next }) => Some(format!("{path}[{next}]")),
        }
    }

    /// Notes that the current value is complete, moving its parent on.
    fn finish_value(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Mapping { key, .. }) => *key = None,
            Some(Frame::Sequence { next, .. }) => *next += 1,
            None => {}
        }
    }

    /// Handles a scalar: a key to remember or a value to place.
    fn on_scalar(&mut self, text: String, mark: Marker) {
        match self.value_path() {
            Some(path) => {
                let position = Position {
                    line: mark.line(),
                    column: mark.col() + 1,
                };
                self.scalars.insert(path, position);
                self.mark_containers(position);
                self.finish_value();
            }
            None => {
                let Some(Frame::Mapping { path, key, keys }) = self.stack.last_mut() else {
                    return;
                };
                let key_path = join_key(path, &text);
                let position = position_of(mark);
                if let Some(&first) = keys.get(&text) {
                    self.first_duplicate.get_or_insert(DuplicateKey {
                        path: key_path.clone(),
                        key: text.clone(),
                        first,
                        again: position,
                    });
                } else {
                    keys.insert(text.clone(), position);
                }
                *key = Some(text);
                self.remember_key(&key_path, mark);
            }
        }
    }

    /// Handles a key written with no value: the key is where its value
    /// is found, since the parser places the empty value at whatever
    /// follows. An empty key is a key like any other.
    fn on_absent_value(&mut self, mark: Marker) {
        match self.value_path() {
            Some(_) => self.finish_value(),
            None => self.on_scalar(String::new(), mark),
        }
    }

    /// Opens a mapping or sequence at the current value's path.
    ///
    /// Its own position is that of its first key or item (the parser's
    /// mark for a block mapping lies past the first key), or of the key
    /// it stands under.
    fn open(&mut self, _mark: Marker, mapping: bool) {
        let path = self.value_path().unwrap_or_default();
        let frame = if mapping {
            Frame::Mapping {
                path,
                key: None,
                keys: BTreeMap::new(),
            }
        } else {
            Frame::Sequence { path, next: 0 }
        };
        self.stack.push(frame);
    }

    /// Closes the innermost container.
    fn close(&mut self) {
        self.stack.pop();
        self.finish_value();
    }

    /// Records a key's position, which is also where the mapping holding
    /// it starts when it is the first.
    fn remember_key(&mut self, path: &str, mark: Marker) {
        let position = Position {
            line: mark.line(),
            column: mark.col() + 1,
        };
        self.by_path.insert(path.to_string(), position);
        self.mark_containers(position);
    }

    /// Gives every open container that has no position yet this one.
    fn mark_containers(&mut self, position: Position) {
        for frame in &self.stack {
            let path = match frame {
                Frame::Mapping { path, .. } | Frame::Sequence { path, .. } => path,
            };
            self.by_path.entry(path.clone()).or_insert(position);
        }
    }
}

impl MarkedEventReceiver for Walker {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::Scalar(text, TScalarStyle::Plain, ..) if text.is_empty() => {
                self.on_absent_value(mark)
            }
            Event::Scalar(text, ..) => self.on_scalar(text, mark),
            Event::MappingStart(..) => self.open(mark, true),
            Event::SequenceStart(..) => self.open(mark, false),
            Event::MappingEnd | Event::SequenceEnd => self.close(),
            Event::Alias(_) => self.finish_value(),
            _ => {}
        }
    }
}

/// Appends a mapping key to a path.
fn join_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str =
        "title: x\nparticipants:\n  - id: a\n    name: A\n  - id: b\n    tags: [1, 2]\n";

    #[test]
    fn keys_and_items_are_found_where_written() {
        let positions = Positions::of(DOCUMENT);
        assert_eq!(
            positions.find("title"),
            Some(Position { line: 1, column: 8 })
        );
        assert_eq!(
            positions.find("participants[1].id"),
            Some(Position { line: 5, column: 9 })
        );
        assert_eq!(
            positions.find("participants[0].name"),
            Some(Position {
                line: 4,
                column: 11
            })
        );
        assert_eq!(
            positions.find("participants[1].tags[1]"),
            Some(Position {
                line: 6,
                column: 15
            })
        );
        assert_eq!(
            positions.find("participants[1].tags"),
            Some(Position { line: 6, column: 5 })
        );
    }

    #[test]
    fn nesting_too_deep_is_found_where_the_level_past_the_limit_opens() {
        // The top mapping is level 1, so the 64th `[` opens level 65: on
        // line 2, after `title: ` (7 columns) and 63 other `[`.
        let deep = format!("seed: 1\ntitle: {}{}\n", "[".repeat(70), "]".repeat(70));
        assert_eq!(
            too_deep(&deep),
            Some(Position {
                line: 2,
                column: 71
            })
        );
        let limit = format!("title: {}{}\n", "[".repeat(63), "]".repeat(63));
        assert_eq!(too_deep(&limit), None);
        assert_eq!(too_deep(DOCUMENT), None);
        // Past 255 open `[` the scanner stops: the 256th is at column
        // 7 + 256.
        let deeper = format!("title: {}{}\n", "[".repeat(300), "]".repeat(300));
        assert_eq!(
            too_deep(&deeper),
            Some(Position {
                line: 1,
                column: 263
            })
        );
    }

    #[test]
    fn a_key_given_twice_is_noted_at_both_places() {
        let text = "title: x\nparticipants:\n  - {id: a, host: h, id: b}\n  - id: c\n    id: d\n";
        let duplicate = Positions::of(text).first_duplicate().cloned();
        // Line 3 is `  - {id: a, host: h, id: b}`: the first `id` at
        // column 6, the second at 22.
        assert_eq!(
            duplicate,
            Some(DuplicateKey {
                path: "participants[0].id".to_string(),
                key: "id".to_string(),
                first: Position { line: 3, column: 6 },
                again: Position {
                    line: 3,
                    column: 22
                },
            })
        );
        assert_eq!(Positions::of(DOCUMENT).first_duplicate(), None);
        // The same key in two mappings is no duplicate.
        let apart = "a: {k: 1}\nb: {k: 2}\n";
        assert_eq!(Positions::of(apart).first_duplicate(), None);
    }

    #[test]
    fn unknown_path_falls_back_to_its_nearest_ancestor() {
        let positions = Positions::of(DOCUMENT);
        assert_eq!(
            positions.find("participants[1].missing"),
            positions.find("participants[1]")
        );
    }
}
