//! The trace as an mscgen message sequence chart (`msc { ... }`).
//!
//! mscgen 0.20 turns every backslash-n in a label into a line break and
//! does not undo `\\`, so a written-out `\r\n` cannot be shown as typed:
//! this chart writes CR and LF as `<CR>` and `<LF>` (and a tab as
//! `<TAB>`, other control bytes as `<0xNN>`). `"` is written `\"`, the one
//! escape mscgen knows. A backslash from the payload is kept, with a space
//! after it where it would otherwise read as `\n` or end the label.
//! mscgen's PNG output (through gd) decodes HTML entities and its SVG
//! output does not, so no spelling shows a payload's `&lt;` as typed in
//! both: seqsim writes `&` as it is, and the PNG shows `&lt;` as `<`.
//!
//! mscgen has no group boxes, no title and no margin for remarks: group
//! names are boxes in the first row under the participants, the title is
//! a comment, and remarks are notes in a last column whose heading and
//! lifeline are blank, in the same row as their message; mscgen wraps
//! them to the column's width. The send time is each arc's `id`, drawn
//! small at the right of the label. Data messages are solid arcs (`=>`),
//! segments without data dotted (`>>`), lost messages end in a cross
//! (`-x`). A lifeline event (a timer that fired) is an angular box
//! (`abox`) on its participant's lifeline.

use std::fmt::Write;

use crate::provenance::Provenance;
use crate::render::diagram::{self, Arrow, Diagram, DrawnLine, Item, Mark, Piece, Style, Wrapped};
use crate::render::text::printable_title;
use crate::trace::Trace;

/// The width mscgen gives a chart at scale 1, shared by its columns.
const DEFAULT_CHART_PIXELS: usize = 600;

/// The width given to each column, so labels have room however many
/// participants there are.
const COLUMN_PIXELS: usize = 360;

/// The widest label line across one column, in characters: mscgen does
/// not wrap arc labels, and its font takes about 8.5 pixels a character.
const LABEL_WIDTH_PER_COLUMN: usize = 40;

/// The background of group boxes: a light grey that prints well.
const BOX_COLOUR: &str = "#F4F4F4";

/// The background of remarks: the pale yellow of a paper note.
const NOTE_COLOUR: &str = "#FFFFE0";

/// Renders the trace as mscgen source ending in a newline.
pub fn render(trace: &Trace, provenance: &Provenance) -> String {
    let diagram = diagram::prepare(trace, |columns| columns * LABEL_WIDTH_PER_COLUMN);
    let mut out = String::new();
    for line in provenance.comment_lines("msc") {
        writeln!(out, "# {line}").unwrap();
    }
    writeln!(out, "# title: {}", printable_title(&diagram.title)).unwrap();
    out.push_str("msc {\n");
    let remarks = remark_column(&diagram);
    let columns = diagram.members.len() + usize::from(remarks.is_some());
    writeln!(
        out,
        "  hscale = \"{}\", wordwraparcs = \"true\";",
        horizontal_scale(columns)
    )
    .unwrap();
    write_members(&mut out, &diagram, remarks.as_deref());
    write_groups(&mut out, &diagram);
    for item in diagram.items() {
        let arrow = match item {
            Item::Arrow(arrow) => arrow,
            Item::Mark(mark) => {
                writeln!(out, "  {};", mark_box(&diagram, mark)).unwrap();
                continue;
            }
        };
        let arc = arc(&diagram, arrow);
        match (&remarks, arrow.remark.is_empty()) {
            (Some(column), false) => {
                writeln!(out, "  {arc},\n    {}", remark(column, arrow)).unwrap()
            }
            _ => writeln!(out, "  {arc};").unwrap(),
        }
        for _ in 0..spare_rows(&arrow.label) {
            out.push_str("  |||;\n");
        }
    }
    out.push_str("}\n");
    out
}

/// Returns the `hscale` that gives each of `columns` columns the same
/// width, written with two decimals.
fn horizontal_scale(columns: usize) -> String {
    let hundredths = columns * COLUMN_PIXELS * 100 / DEFAULT_CHART_PIXELS;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// Returns how many empty rows to leave after a label of several lines.
///
/// mscgen centres a label on its arc and does not grow the row for it,
/// so the lower half of a tall label would run into the next rows.
fn spare_rows(label: &Wrapped) -> usize {
    let lines = label.lines().count();
    let drawn = if lines >= 3 { lines + lines % 2 } else { lines };
    (drawn + 2) / 5
}

/// Names the column remarks go in, when there are any remarks.
fn remark_column(diagram: &Diagram) -> Option<String> {
    if diagram.arrows.iter().all(|arrow| arrow.remark.is_empty()) {
        return None;
    }
    let mut name = "remarks".to_string();
    while diagram.members.iter().any(|member| member.alias == name) {
        name.push('_');
    }
    Some(name)
}

/// Declares the participants, and the blank column for remarks.
fn write_members(out: &mut String, diagram: &Diagram, remarks: Option<&str>) {
    let mut declarations: Vec<String> = diagram
        .members
        .iter()
        .map(|member| {
            let heading: Vec<String> = member
                .heading
                .iter()
                .map(|line| escape_text(line))
                .collect();
            format!("  {} [label=\"{}\"]", member.alias, heading.join("\\n"))
        })
        .collect();
    if let Some(column) = remarks {
        declarations.push(format!("  {column} [label=\"\", linecolour=\"white\"]"));
    }
    if !declarations.is_empty() {
        writeln!(out, "{};", declarations.join(",\n")).unwrap();
    }
}

/// Draws each group's name as a box across its participants, in one row.
fn write_groups(out: &mut String, diagram: &Diagram) {
    if diagram.groups.is_empty() {
        return;
    }
    let boxes: Vec<String> = diagram
        .groups
        .iter()
        .map(|run| {
            let first = &diagram.members[run.members.start].alias;
            let last = &diagram.members[run.members.end - 1].alias;
            let name = escape_text(&run.name);
            format!("  {first} box {last} [label=\"{name}\", textbgcolour=\"{BOX_COLOUR}\"]")
        })
        .collect();
    writeln!(out, "{};", boxes.join(",\n")).unwrap();
}

/// Writes one message as an arc, without the `;` that ends its row.
fn arc(diagram: &Diagram, arrow: &Arrow) -> String {
    let kind = match (arrow.style, arrow.lost) {
        (_, true) => "-x",
        (Style::Data, false) => "=>",
        (Style::Control, false) => ">>",
    };
    let from = &diagram.members[arrow.from].alias;
    let to = &diagram.members[arrow.to].alias;
    let label = join_lines(&arrow.label);
    format!(
        "{from} {kind} {to} [label=\"{label}\", id=\"{}\"]",
        arrow.time
    )
}

/// Writes a lifeline event as an angular box on its participant's
/// lifeline, the time as its `id`, without the `;` that ends its row.
fn mark_box(diagram: &Diagram, mark: &Mark) -> String {
    let member = &diagram.members[mark.member].alias;
    let label = join_lines(&mark.label);
    format!(
        "{member} abox {member} [label=\"{label}\", id=\"{}\"]",
        mark.time
    )
}

/// Writes a remark as a note in the remark column, ending the row;
/// mscgen wraps it to the column's width.
fn remark(column: &str, arrow: &Arrow) -> String {
    let lines: Vec<String> = arrow
        .remark
        .paragraphs
        .iter()
        .map(|drawn| unwrapped(drawn))
        .collect();
    let mut text = lines.join(" ");
    if text.ends_with('\\') {
        text.push(' ');
    }
    format!("{column} note {column} [label=\"{text}\", textbgcolour=\"{NOTE_COLOUR}\"];")
}

/// Joins a label's drawn lines with mscgen's line break.
///
/// mscgen centres a label on its arc, so a label of an odd number of
/// lines (three or more) gets an empty last line, which keeps the arc
/// between two lines instead of through one. A label ending in a
/// backslash gets a space so that the backslash does not escape the
/// closing quote.
fn join_lines(wrapped: &Wrapped) -> String {
    let mut lines: Vec<String> = wrapped.lines().map(|line| line_text(line)).collect();
    if lines.len() >= 3 && lines.len() % 2 == 1 {
        lines.push(String::new());
    }
    let mut label = lines.join("\\n");
    if label.ends_with('\\') {
        label.push(' ');
    }
    label
}

/// Writes one line as the drawn lines it was wrapped into, rejoined by
/// the spaces the wrapping took out.
fn unwrapped(drawn: &[DrawnLine]) -> String {
    let lines: Vec<String> = drawn.iter().map(|line| line_text(line)).collect();
    lines.join(" ")
}

/// Writes one drawn line, escaped.
fn line_text(line: &[Piece]) -> String {
    let mut text = String::new();
    for (index, piece) in line.iter().enumerate() {
        match piece {
            Piece::Text(plain) => text.push_str(&escape_text(plain)),
            Piece::Escape(written) => text.push_str(&control_name(written)),
            Piece::Backslash => {
                text.push('\\');
                if matches!(line.get(index + 1), Some(Piece::Text(next)) if next.starts_with('n')) {
                    text.push(' ');
                }
            }
        }
    }
    text
}

/// Names a written-out control character the way mscgen can show it.
fn control_name(written: &str) -> String {
    match written {
        "r" => "<CR>".to_string(),
        "n" => "<LF>".to_string(),
        "t" => "<TAB>".to_string(),
        other => format!("<0{other}>"),
    }
}

/// Escapes the one character mscgen reads inside a quoted label.
fn escape_text(text: &str) -> String {
    text.replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_is_named_because_mscgen_cannot_show_it_as_typed() {
        let line = vec![
            Piece::Text("QUIT".into()),
            Piece::Escape("r".into()),
            Piece::Escape("n".into()),
        ];
        assert_eq!(line_text(&line), "QUIT<CR><LF>");
        assert_eq!(control_name("x07"), "<0x07>");
    }

    #[test]
    fn the_chart_widens_with_its_columns() {
        assert_eq!(horizontal_scale(4), "2.40");
        assert_eq!(horizontal_scale(5), "3.00");
    }

    #[test]
    fn quotes_are_escaped_and_a_payload_backslash_never_reads_as_a_break() {
        assert_eq!(escape_text("From: \"Luke\""), "From: \\\"Luke\\\"");
        let line = vec![
            Piece::Text("C:".into()),
            Piece::Backslash,
            Piece::Text("new".into()),
        ];
        assert_eq!(line_text(&line), "C:\\ new");
        let ending = Wrapped {
            paragraphs: vec![vec![vec![Piece::Text("end".into()), Piece::Backslash]]],
        };
        assert_eq!(join_lines(&ending), "end\\ ");
    }
}
