//! YAML syntax errors and keys given twice, found before the document is
//! read into scenario types.
//!
//! serde_yaml parses the whole document first but hands a syntax error
//! over only once the values before it have been read, so a type error
//! early in the file would hide an unclosed `[` at its end. Here the
//! document is parsed on its own when reading it failed, and a syntax
//! error wins. A list or mapping still open where the file ends is
//! reported at its `[` or `{`, since that is what needs closing.
//!
//! A key given twice is refused at its second place, naming the first:
//! YAML requires the keys of a mapping to differ, and serde places its
//! own "duplicate field" error at the mapping's start.

use serde::Deserialize;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Scanner, TokenType};

use super::error::ScenarioError;
use super::positions::{Position, Positions};

/// Refuses a document in which a mapping has the same key twice.
pub fn refuse_duplicate_keys(
    file: &str,
    text: &str,
    positions: &Positions,
) -> Result<(), ScenarioError> {
    let Some(duplicate) = positions.first_duplicate() else {
        return Ok(());
    };
    let first = duplicate.first;
    let message = format!(
        "the key `{}` is given twice in this mapping, first at line {} (column {}); \
         expected each key once",
        duplicate.key, first.line, first.column
    );
    let path = Some(duplicate.path.clone());
    Err(ScenarioError::at(
        file,
        text,
        Some(duplicate.again),
        path,
        message,
    ))
}

/// Returns the document's YAML syntax error, if it has one.
pub fn syntax_error(file: &str, text: &str) -> Option<ScenarioError> {
    let deserializer = serde_yaml::Deserializer::from_str(text);
    let error = serde::de::IgnoredAny::deserialize(deserializer).err()?;
    Some(describe(file, text, &error))
}

/// Turns a serde_yaml syntax error into a located error, explaining a
/// list or mapping the file ends inside.
pub fn describe(file: &str, text: &str, error: &serde_yaml::Error) -> ScenarioError {
    let reported = error.location().map(|l| Position {
        line: l.line(),
        column: l.column(),
    });
    let message = super::strip_location(&error.to_string());
    if message.contains("more than one document")
        && let Some(second) = second_document(text)
    {
        let why = "YAML syntax: a second document starts here; a scenario file holds one \
                   (remove this `---` and what follows it, or merge the two)";
        return ScenarioError::at(file, text, Some(second), None, why);
    }
    let in_flow = message.contains("while parsing a flow");
    if in_flow
        && reported == Some(end_of(text))
        && let Some(unclosed) = unclosed_at_end(text)
    {
        let message = ends_inside(&unclosed, text.lines().count());
        return ScenarioError::at(file, text, Some(unclosed[0].at), None, message);
    }
    if reported == Some(end_of(text))
        && let Some(quote) = unclosed_quote(&message, text)
    {
        return ScenarioError::at(file, text, Some(quote.0), None, quote.1);
    }
    let message = super::with_tab_hint(message, text, reported);
    ScenarioError::at(file, text, reported, None, message)
}

/// Finds the quote the file ends inside from serde_yaml's `message`,
/// which names where the quoted text starts ("while scanning a quoted
/// scalar at 3:8"), and says what is wrong there.
fn unclosed_quote(message: &str, text: &str) -> Option<(Position, String)> {
    let (_, place) = message.split_once("while scanning a quoted scalar at ")?;
    let (line, column) = place.split_once(':')?;
    let column: String = column.chars().take_while(char::is_ascii_digit).collect();
    let at = Position {
        line: line.parse().ok()?,
        column: column.parse().ok()?,
    };
    let quote = text
        .lines()
        .nth(at.line.checked_sub(1)?)?
        .chars()
        .nth(at.column.checked_sub(1)?)?;
    let lines = text.lines().count();
    let why = format!(
        "YAML syntax: the text quoted here by `{quote}` is not closed; the file ends \
         after line {lines}, where the closing `{quote}` was expected"
    );
    Some((at, why))
}

/// Returns where the second document of `text` starts, if it has one.
fn second_document(text: &str) -> Option<Position> {
    let mut parser = Parser::new_from_str(text);
    let mut documents = 0;
    loop {
        match parser.next_token().ok()? {
            (Event::DocumentStart, mark) => {
                documents += 1;
                if documents == 2 {
                    return Some(Position {
                        line: mark.line(),
                        column: mark.col() + 1,
                    });
                }
            }
            (Event::StreamEnd, _) => return None,
            _ => {}
        }
    }
}

/// A `[` or `{` not yet closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Opener {
    /// Where it is written.
    at: Position,
    /// `true` for `[`, `false` for `{`.
    list: bool,
}

impl Opener {
    /// The character that opens it.
    fn opening(self) -> char {
        if self.list { '[' } else { '{' }
    }

    /// The character that closes it.
    fn closing(self) -> char {
        if self.list { ']' } else { '}' }
    }

    /// What it opens, in words.
    fn kind(self) -> &'static str {
        if self.list { "list" } else { "mapping" }
    }
}

/// Says that the file, of `lines` lines, ends inside `unclosed`
/// (innermost first).
fn ends_inside(unclosed: &[Opener], lines: usize) -> String {
    let inner = unclosed[0];
    let mut message = format!(
        "YAML syntax: the {} opened here by `{}` is not closed; the file ends after \
         line {lines}, where `{}` was expected",
        inner.kind(),
        inner.opening(),
        inner.closing(),
    );
    if unclosed.len() > 1 {
        let outer: Vec<String> = unclosed[1..]
            .iter()
            .map(|o| format!("the `{}` at {}:{}", o.opening(), o.at.line, o.at.column))
            .collect();
        let closers: String = unclosed.iter().map(|o| o.closing()).collect();
        let (verb, all) = if outer.len() == 1 {
            ("is", "both")
        } else {
            ("are", "them all")
        };
        message.push_str(&format!(
            " (nor {verb} {}; close {all} with `{closers}`)",
            outer.join(", ")
        ));
    }
    message
}

/// Returns the `[` and `{` still open where the text ends, innermost
/// first; `None` when none is.
///
/// The scanner is stricter than serde_yaml's parser about indentation
/// inside brackets; where it gives up, the brackets open at that point
/// are the answer, which is right when the parser, too, found the
/// file ending inside them.
fn unclosed_at_end(text: &str) -> Option<Vec<Opener>> {
    let mut open = Vec::new();
    let mut scanner = Scanner::new(text.chars());
    while let Ok(Some(token)) = scanner.next_token() {
        let at = Position {
            line: token.0.line(),
            column: token.0.col() + 1,
        };
        match token.1 {
            TokenType::FlowSequenceStart => open.push(Opener { at, list: true }),
            TokenType::FlowMappingStart => open.push(Opener { at, list: false }),
            TokenType::FlowSequenceEnd | TokenType::FlowMappingEnd => {
                open.pop();
            }
            TokenType::StreamEnd => break,
            _ => {}
        }
    }
    open.reverse();
    (!open.is_empty()).then_some(open)
}

/// Returns where serde_yaml reports the end of `text`: the start of
/// the line after the last, as it ends an unfinished last line itself.
fn end_of(text: &str) -> Position {
    Position {
        line: text.lines().count() + 1,
        column: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unclosed_list_is_found_at_its_bracket() {
        // `participants: ` takes 14 columns, so `[` is column 15.
        let text = "title: x\nparticipants: [\n";
        assert_eq!(
            unclosed_at_end(text),
            Some(vec![Opener {
                at: Position {
                    line: 2,
                    column: 15
                },
                list: true
            }])
        );
        assert_eq!(end_of(text), Position { line: 3, column: 1 });
        assert_eq!(end_of("a: ["), Position { line: 2, column: 1 });
    }

    #[test]
    fn a_second_document_is_found_at_its_marker() {
        assert_eq!(
            second_document("title: x\n---\ntitle: y\n"),
            Some(Position { line: 2, column: 1 })
        );
        assert_eq!(second_document("---\ntitle: x\n"), None);
    }

    #[test]
    fn closed_brackets_are_not_reported() {
        assert_eq!(unclosed_at_end("a: [1, {b: 2}]\n"), None);
        assert_eq!(unclosed_at_end("a: '[not a bracket'\n"), None);
    }

    #[test]
    fn nested_unclosed_brackets_are_listed_innermost_first() {
        let openers = unclosed_at_end("links: [ {between: [a, b]").unwrap();
        let places: Vec<(usize, bool)> = openers.iter().map(|o| (o.at.column, o.list)).collect();
        // `links: ` is 7 columns: `[` at 8, `{` at 10.
        assert_eq!(places, [(10, false), (8, true)]);
    }
}
