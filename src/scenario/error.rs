//! The one error type for everything wrong with a scenario file.
//!
//! Each error names the file, the line and column when known, the key
//! path, and what was expected, and shows the offending line with the
//! offending value underlined, drawn by the annotate-snippets crate.
//! A control character quoted in the file name, key path or message (a
//! CR or LF in a value, say) is shown as `\r`, `\n`, `\t` or `\u{..}`,
//! so it can be seen and cannot move the terminal's cursor.

use std::fmt;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::positions::Position;

/// Something wrong with a scenario file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    /// The file as the user named it.
    pub file: String,
    /// Where in the file, when known.
    pub position: Option<Position>,
    /// The key path, e.g. `participants[2].address`, when known.
    pub path: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
    /// The text of the offending line, when known.
    pub source_line: Option<String>,
}

impl ScenarioError {
    /// Builds an error about the whole file.
    pub fn whole_file(file: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: file.to_string(),
            position: None,
            path: None,
            message: message.into(),
            source_line: None,
        }
    }

    /// Builds an error at a place in `text`.
    pub fn at(
        file: &str,
        text: &str,
        position: Option<Position>,
        path: Option<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        let source_line = position.and_then(|p| text.lines().nth(p.line.saturating_sub(1)));
        ScenarioError {
            file: file.to_string(),
            position,
            path: path.filter(|p| !p.is_empty()),
            message: message.into(),
            source_line: source_line.map(str::to_string),
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", visible(&self.file))?;
        if let Some(position) = self.position {
            write!(f, ":{}:{}", position.line, position.column)?;
        }
        write!(f, ": ")?;
        if let Some(path) = &self.path {
            write!(f, "at `{}`: ", visible(path))?;
        }
        write!(f, "{}", visible(&self.message))?;
        if let (Some(position), Some(line)) = (self.position, &self.source_line) {
            write!(f, "\n{}", snippet(line, position))?;
        }
        Ok(())
    }
}

/// Returns `text` with each control character written as an escape.
pub(crate) fn visible(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            '\t' => shown.push_str("\\t"),
            c if c.is_control() => shown.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => shown.push(c),
        }
    }
    shown
}

/// Draws the offending line with the value at `position` underlined.
fn snippet(line: &str, position: Position) -> String {
    let start = byte_offset(line, position.column);
    let end = start + token_len(&line[start..]);
    let source = Snippet::source(line)
        .line_start(position.line)
        .fold(false)
        .annotation(AnnotationKind::Primary.span(start..end.max(start)));
    let report = [Group::with_level(Level::ERROR).element(source)];
    let drawn = Renderer::plain().render(&report);
    drawn.trim_end().to_string()
}

/// Returns the byte offset of a column counted in characters from one.
fn byte_offset(line: &str, column: usize) -> usize {
    line.char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line.len(), |(offset, _)| offset)
}

/// Returns the length of the YAML token a line starts with: a quoted
/// string, or text up to a flow delimiter, a comment or the line end.
fn token_len(rest: &str) -> usize {
    let mut chars = rest.char_indices();
    let negative_number =
        rest.starts_with('-') && rest[1..].starts_with(|c: char| c.is_ascii_digit());
    match chars.next() {
        Some((_, '-')) if negative_number => plain_token_len(rest),
        Some((_, '{' | '[' | '-' | '\t')) => 1,
        Some((_, quote @ ('"' | '\''))) => chars
            .find(|(_, c)| *c == quote)
            .map_or(rest.len(), |(i, _)| i + 1),
        Some(_) => plain_token_len(rest),
        None => 0,
    }
}

/// Returns the length of the plain scalar or key a line starts with.
fn plain_token_len(rest: &str) -> usize {
    let delimiter = rest.find([',', ']', '}', '#']).unwrap_or(rest.len());
    let end = rest
        .find(": ")
        .map_or(delimiter, |colon| colon.min(delimiter));
    let token = rest[..end].trim_end();
    token
        .strip_suffix(':')
        .map_or(token.len(), |key| key.len())
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_shows_place_path_message_and_underlined_value() {
        let text = "title: t\nlinks:\n  - { between: [a, dsn], latency: 10ms }\n";
        let position = Some(Position {
            line: 3,
            column: 20,
        });
        let error = ScenarioError::at(
            "f.yaml",
            text,
            position,
            Some("links[0].between[1]".into()),
            "no participant has id `dsn`",
        );
        let expected = "f.yaml:3:20: at `links[0].between[1]`: no participant has id `dsn`\n  |\n3 |   - { between: [a, dsn], latency: 10ms }\n  |                    ^^^";
        assert_eq!(error.to_string(), expected);
    }

    #[test]
    fn tokens_end_at_flow_delimiters_and_quotes() {
        assert_eq!(token_len("dsn], latency"), 3);
        assert_eq!(token_len("\"a, b\" x"), 6);
        assert_eq!(token_len("latency: 5"), 7);
        assert_eq!(token_len("-15, x"), 3);
        assert_eq!(token_len("- item"), 1);
        assert_eq!(token_len(""), 0);
    }
}
