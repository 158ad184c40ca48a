//! The one error type for everything wrong with a scenario file.
//!
//! Each error names the file, the line and column when known, the key
//! path, and what was expected, and shows the offending line with a caret
//! under the column.

use std::fmt;

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
        write!(f, "{}", self.file)?;
        if let Some(position) = self.position {
            write!(f, ":{}:{}", position.line, position.column)?;
        }
        write!(f, ": ")?;
        if let Some(path) = &self.path {
            write!(f, "at `{path}`: ")?;
        }
        write!(f, "{}", self.message)?;
        if let (Some(position), Some(line)) = (self.position, &self.source_line) {
            let number = position.line.to_string();
            let pad = " ".repeat(number.len());
            let caret_pad = " ".repeat(position.column.saturating_sub(1));
            write!(f, "\n{pad} |\n{number} | {line}\n{pad} | {caret_pad}^")?;
        }
        Ok(())
    }
}
