//! The trace as a Mermaid sequence diagram (`sequenceDiagram`), to paste
//! into a page or an editor that renders Mermaid.
//!
//! Mermaid 11 ends a statement at `;` even inside message text and reads
//! `#` as the start of an entity code, so they are written `#59;` and
//! `#35;`; `<` and `>` are written `#lt;` and `#gt;` so that no text can
//! turn into a tag or a line break. A `%` followed by another is written
//! `#37;`, so no text holds `%%{`, which Mermaid takes for a directive
//! wherever it stands. A literal `\r\n` is shown as typed.
//! Group boxes are `box` blocks. Mermaid has no time column, so each label
//! starts with `t=` and the send time. Segments without data are dotted
//! arrows, lost messages end in a cross, remarks are notes at the right,
//! and a lifeline event (a timer that fired) is a note over its participant.
//!
//! Not drawn: spaces at the start or end of a label line (Mermaid trims
//! them).

use std::fmt::Write;

use crate::provenance::Provenance;
use crate::render::diagram::{self, Arrow, Diagram, Item, Mark, Piece, Style, Wrapped};
use crate::render::text::printable_title;
use crate::trace::Trace;

/// The fill of group boxes: a light grey that prints well.
const BOX_COLOUR: &str = "rgb(244,244,244)";

/// Renders the trace as Mermaid source ending in a newline.
pub fn render(trace: &Trace, provenance: &Provenance) -> String {
    let diagram = diagram::prepare(trace, |_| diagram::LABEL_WIDTH);
    let mut out = String::new();
    for line in provenance.comment_lines("mermaid") {
        writeln!(out, "%% {line}").unwrap();
    }
    out.push_str("sequenceDiagram\n");
    writeln!(
        out,
        "    title {}",
        escape_text(&printable_title(&diagram.title))
    )
    .unwrap();
    write_members(&mut out, &diagram);
    let rightmost = diagram.members.last().map(|member| member.alias.as_str());
    for item in diagram.items() {
        let arrow = match item {
            Item::Arrow(arrow) => arrow,
            Item::Mark(mark) => {
                write_mark(&mut out, &diagram, mark);
                continue;
            }
        };
        write_arrow(&mut out, &diagram, arrow);
        if let (Some(column), false) = (rightmost, arrow.remark.is_empty()) {
            let note = join_lines(&arrow.remark);
            writeln!(out, "    Note right of {column}: {note}").unwrap();
        }
    }
    out
}

/// Writes a lifeline event as a note over its participant.
fn write_mark(out: &mut String, diagram: &Diagram, mark: &Mark) {
    let member = &diagram.members[mark.member].alias;
    let label = join_lines(&mark.label);
    writeln!(out, "    Note over {member}: t={} {label}", mark.time).unwrap();
}

/// Declares the participants, inside `box` blocks for their groups.
fn write_members(out: &mut String, diagram: &Diagram) {
    for (position, member) in diagram.members.iter().enumerate() {
        let group = diagram
            .groups
            .iter()
            .find(|run| run.members.contains(&position));
        let indent = if group.is_some() { "        " } else { "    " };
        if let Some(run) = group.filter(|run| run.members.start == position) {
            writeln!(out, "    box {BOX_COLOUR} {}", escape_text(&run.name)).unwrap();
        }
        let heading: Vec<String> = member
            .heading
            .iter()
            .map(|line| escape_text(line))
            .collect();
        writeln!(
            out,
            "{indent}participant {} as {}",
            member.alias,
            heading.join("<br/>")
        )
        .unwrap();
        if group.is_some_and(|run| run.members.end == position + 1) {
            out.push_str("    end\n");
        }
    }
}

/// Writes one message.
fn write_arrow(out: &mut String, diagram: &Diagram, arrow: &Arrow) {
    let shaft = match (arrow.style, arrow.lost) {
        (Style::Data, false) => "->>",
        (Style::Control, false) => "-->>",
        (Style::Data, true) => "-x",
        (Style::Control, true) => "--x",
    };
    let from = &diagram.members[arrow.from].alias;
    let to = &diagram.members[arrow.to].alias;
    let label = join_lines(&arrow.label);
    writeln!(out, "    {from}{shaft}{to}: t={} {label}", arrow.time).unwrap();
}

/// Joins drawn lines with Mermaid's line break.
fn join_lines(wrapped: &Wrapped) -> String {
    let lines: Vec<String> = wrapped.lines().map(|line| line_text(line)).collect();
    lines.join("<br/>")
}

/// Writes one drawn line, escaped.
fn line_text(line: &[Piece]) -> String {
    let mut text = String::new();
    for piece in line {
        match piece {
            Piece::Text(plain) => text.push_str(&escape_text(plain)),
            Piece::Escape(written) => {
                text.push('\\');
                text.push_str(written);
            }
            Piece::Backslash => text.push('\\'),
        }
    }
    text
}

/// Replaces the characters Mermaid would read as syntax by entity codes.
fn escape_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '%' if characters.peek() == Some(&'%') => escaped.push_str("#37;"),
            ';' => escaped.push_str("#59;"),
            '#' => escaped.push_str("#35;"),
            '<' => escaped.push_str("#lt;"),
            '>' => escaped.push_str("#gt;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_text_holds_the_start_of_a_directive() {
        assert_eq!(escape_text("%%{init}%%"), "#37;%{init}#37;%");
        assert_eq!(escape_text("%%%{x} 50%"), "#37;#37;%{x} 50%");
    }

    #[test]
    fn semicolons_hashes_and_angle_brackets_become_entity_codes() {
        assert_eq!(escape_text("a; #1 <b>"), "a#59; #35;1 #lt;b#gt;");
    }

    #[test]
    fn written_out_crlf_stays_as_typed() {
        let line = vec![
            Piece::Text("QUIT".into()),
            Piece::Escape("r".into()),
            Piece::Escape("n".into()),
        ];
        assert_eq!(line_text(&line), "QUIT\\r\\n");
    }
}
