//! The trace as a PlantUML sequence diagram (`@startuml` ... `@enduml`).
//!
//! PlantUML reads `\n` in a label as a line break and `\\` as one
//! backslash, so a written-out `\r\n` is written `\\r\\n`. Its creole
//! markup would turn `//`, `**`, `--`, `__`, `""` and `~~` into styles and
//! `<b>` into a tag, so the first character of such a pair and every `<`
//! get the creole escape `~`, and `~` itself is written `<U+007E>`; `"`
//! inside quoted names is written `<U+0022>`. Every statement stays on one
//! line, so no text of the run can start a line of the source. Group boxes
//! are `box` blocks; the send time starts each label in grey; segments
//! without data are dotted arrows; lost messages end in a cross; remarks
//! are notes at the right of their message; a lifeline event (a timer
//! that fired) is a hexagonal note over its participant.

use std::fmt::Write;

use crate::provenance::Provenance;
use crate::render::diagram::{self, Arrow, Diagram, Item, Mark, Piece, Style, Wrapped};
use crate::render::text::printable_title;
use crate::trace::Trace;

/// The fill of group boxes: a light grey that prints well.
const BOX_COLOUR: &str = "#F4F4F4";

/// Characters that creole reads as markup when doubled.
const DOUBLED_MARKUP: &[char] = &['*', '/', '-', '_', '"'];

/// Renders the trace as PlantUML source ending in a newline.
pub fn render(trace: &Trace, provenance: &Provenance) -> String {
    let diagram = diagram::prepare(trace, |_| diagram::LABEL_WIDTH);
    let mut out = String::from("@startuml\n");
    for line in provenance.comment_lines("plantuml") {
        writeln!(out, "' {line}").unwrap();
    }
    writeln!(
        out,
        "title {}",
        escape_text(&printable_title(&diagram.title))
    )
    .unwrap();
    out.push_str("skinparam shadowing false\n");
    write_members(&mut out, &diagram);
    for item in diagram.items() {
        let arrow = match item {
            Item::Arrow(arrow) => arrow,
            Item::Mark(mark) => {
                write_mark(&mut out, &diagram, mark);
                continue;
            }
        };
        write_arrow(&mut out, &diagram, arrow);
        if !arrow.remark.is_empty() {
            writeln!(out, "note right : {}", join_lines(&arrow.remark)).unwrap();
        }
    }
    out.push_str("@enduml\n");
    out
}

/// Declares the participants, inside `box` blocks for their groups.
fn write_members(out: &mut String, diagram: &Diagram) {
    for (position, member) in diagram.members.iter().enumerate() {
        let group = diagram
            .groups
            .iter()
            .find(|run| run.members.contains(&position));
        if let Some(run) = group.filter(|run| run.members.start == position) {
            writeln!(out, "box \"{}\" {BOX_COLOUR}", quoted_text(&run.name)).unwrap();
        }
        let heading: Vec<String> = member
            .heading
            .iter()
            .map(|line| quoted_text(line))
            .collect();
        writeln!(
            out,
            "participant \"{}\" as {}",
            heading.join("\\n"),
            member.alias
        )
        .unwrap();
        if group.is_some_and(|run| run.members.end == position + 1) {
            out.push_str("end box\n");
        }
    }
}

/// Writes one message.
fn write_arrow(out: &mut String, diagram: &Diagram, arrow: &Arrow) {
    let shaft = match (arrow.style, arrow.lost) {
        (Style::Data, false) => "->",
        (Style::Control, false) => "-->",
        (Style::Data, true) => "->x",
        (Style::Control, true) => "-->x",
    };
    let from = &diagram.members[arrow.from].alias;
    let to = &diagram.members[arrow.to].alias;
    let label = join_lines(&arrow.label);
    writeln!(
        out,
        "{from} {shaft} {to} : <color:gray>{}</color> {label}",
        arrow.time
    )
    .unwrap();
}

/// Writes a lifeline event as a hexagonal note over its participant.
fn write_mark(out: &mut String, diagram: &Diagram, mark: &Mark) {
    let member = &diagram.members[mark.member].alias;
    let label = join_lines(&mark.label);
    writeln!(
        out,
        "hnote over {member} : <color:gray>{}</color> {label}",
        mark.time
    )
    .unwrap();
}

/// Joins drawn lines with PlantUML's line break.
fn join_lines(wrapped: &Wrapped) -> String {
    let lines: Vec<String> = wrapped.lines().map(|line| line_text(line)).collect();
    lines.join("\\n")
}

/// Writes one drawn line, escaped.
fn line_text(line: &[Piece]) -> String {
    let mut text = String::new();
    for piece in line {
        match piece {
            Piece::Text(plain) => text.push_str(&escape_text(plain)),
            Piece::Escape(written) => {
                text.push_str("\\\\");
                text.push_str(written);
            }
            Piece::Backslash => text.push_str("\\\\"),
        }
    }
    text
}

/// Escapes text inside double quotes: as any text, and `"` as a code point.
fn quoted_text(text: &str) -> String {
    let parts: Vec<String> = text.split('"').map(escape_text).collect();
    parts.join("<U+0022>")
}

/// Escapes backslashes, creole markup and tags so the text shows as typed.
fn escape_text(text: &str) -> String {
    let characters: Vec<char> = text.chars().collect();
    let mut escaped = String::with_capacity(text.len());
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        let doubled = characters.get(index + 1) == Some(&character);
        match character {
            '\\' => escaped.push_str("\\\\"),
            '~' => escaped.push_str("<U+007E>"),
            '<' => escaped.push_str("~<"),
            c if doubled && DOUBLED_MARKUP.contains(&c) => {
                escaped.extend(['~', c, c]);
                index += 1;
            }
            c => escaped.push(c),
        }
        index += 1;
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_out_crlf_is_written_with_doubled_backslashes() {
        let line = vec![
            Piece::Text("QUIT".into()),
            Piece::Escape("r".into()),
            Piece::Escape("n".into()),
        ];
        assert_eq!(line_text(&line), "QUIT\\\\r\\\\n");
    }

    #[test]
    fn creole_pairs_tags_and_tildes_are_escaped() {
        assert_eq!(
            escape_text("http://x --y-- **z**"),
            "http:~//x ~--y~-- ~**z~**"
        );
        assert_eq!(escape_text("<b>a</b> ~"), "~<b>a~</b> <U+007E>");
        assert_eq!(escape_text("a - b"), "a - b");
    }

    #[test]
    fn quotes_in_names_become_code_points() {
        assert_eq!(quoted_text("say \"hi\""), "say <U+0022>hi<U+0022>");
        assert_eq!(quoted_text("a\"\"b"), "a<U+0022><U+0022>b");
    }
}
