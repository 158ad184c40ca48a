//! What the three diagram dialects (Mermaid, PlantUML, mscgen) share: the
//! participants with aliases every dialect accepts, their group runs, and
//! each message's label and remark cut into lines of pieces that each
//! dialect escapes in its own way.
//!
//! Labels of data segments are built from the payload octets, so a CR, an
//! LF or a literal backslash in the payload stays distinguishable; a new
//! drawn line starts after each LF, as in the text diagram. Long lines are
//! wrapped at spaces; a single word longer than the limit is not broken.
//! A message to an address no participant has gets an extra participant
//! named by that address, so its lost arrow has somewhere to point.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::ops::Range;

use unicode_width::UnicodeWidthChar;

use crate::provenance::breaks_lines;
use crate::trace::{Message, Trace};

/// The widest a label line is drawn, in columns, before it is wrapped,
/// where the dialect lays labels out freely.
pub const LABEL_WIDTH: usize = 64;

/// The widest a remark line is drawn, in columns, before it is wrapped.
pub const REMARK_WIDTH: usize = 48;

/// Words no alias may be, in any of the three dialects (compared in lower case).
const RESERVED: &[&str] = &[
    "abox",
    "actor",
    "activate",
    "alt",
    "and",
    "arcgradient",
    "as",
    "autonumber",
    "box",
    "boundary",
    "break",
    "collections",
    "control",
    "create",
    "critical",
    "database",
    "deactivate",
    "destroy",
    "else",
    "end",
    "entity",
    "footer",
    "group",
    "header",
    "hide",
    "hscale",
    "id",
    "idurl",
    "label",
    "left",
    "legend",
    "link",
    "links",
    "loop",
    "msc",
    "newpage",
    "note",
    "of",
    "opt",
    "over",
    "par",
    "participant",
    "properties",
    "queue",
    "rbox",
    "rect",
    "ref",
    "return",
    "right",
    "sequencediagram",
    "show",
    "skinparam",
    "title",
    "url",
    "width",
    "wordwraparcs",
];

/// One part of a drawn line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Text to show as it is; the dialect escapes its own special characters.
    Text(String),
    /// A control character written out as a backslash and these
    /// characters: `r`, `n`, `t` or `x07`.
    Escape(String),
    /// A backslash that was in the payload itself.
    Backslash,
}

/// One drawn line of a label or remark.
pub type DrawnLine = Vec<Piece>;

/// A label or remark: its lines as the payload or text breaks them
/// (after each LF), each cut into drawn lines where it was too wide.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wrapped {
    /// The lines, each as the drawn lines it was wrapped into.
    pub paragraphs: Vec<Vec<DrawnLine>>,
}

impl Wrapped {
    /// Returns every drawn line, in order.
    pub fn lines(&self) -> impl Iterator<Item = &DrawnLine> {
        self.paragraphs.iter().flatten()
    }

    /// Tells whether there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.paragraphs.is_empty()
    }
}

/// A participant as the diagrams draw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The name the diagram source uses for it.
    pub alias: String,
    /// The lines drawn at the head of its column: name, host, address.
    pub heading: Vec<String>,
}

/// A run of neighbouring members under one group name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRun {
    /// The group's name.
    pub name: String,
    /// The members it spans, by position.
    pub members: Range<usize>,
}

/// How an arrow is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// A message carrying application data: DNS or SMTP.
    Data,
    /// A TCP segment without data: SYN, ACK, FIN or RST.
    Control,
}

/// One message as an arrow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrow {
    /// The sending member's position.
    pub from: usize,
    /// The receiving member's position.
    pub to: usize,
    /// Data or control.
    pub style: Style,
    /// True when the message never arrived.
    pub lost: bool,
    /// The send time as seconds, e.g. `0.020000`.
    pub time: String,
    /// The label, one or more drawn lines.
    pub label: Wrapped,
    /// The remark, wrapped; empty when there is none.
    pub remark: Wrapped,
}

/// Something that happened on one lifeline, such as a timer that fired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// The member's position.
    pub member: usize,
    /// When it happened, as seconds.
    pub time: String,
    /// What happened, one or more drawn lines.
    pub label: Wrapped,
    /// The index of the arrow it is drawn just above (the number of
    /// arrows when it comes after the last).
    pub before: usize,
}

/// One thing to draw, in the order a diagram draws them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// A message.
    Arrow(&'a Arrow),
    /// A lifeline event.
    Mark(&'a Mark),
}

/// Everything a dialect needs to write a diagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagram {
    /// The scenario's title.
    pub title: String,
    /// The participants in column order, then any unknown destinations.
    pub members: Vec<Member>,
    /// The group runs, left to right.
    pub groups: Vec<GroupRun>,
    /// Every message, in the order sent.
    pub arrows: Vec<Arrow>,
    /// Every lifeline event, in the order it happened.
    pub marks: Vec<Mark>,
}

impl Diagram {
    /// Returns the arrows in order, each mark just above the arrow it
    /// comes before.
    pub fn items(&self) -> Vec<Item<'_>> {
        let mut marks = self.marks.iter().peekable();
        let mut items = Vec::with_capacity(self.arrows.len() + self.marks.len());
        for (index, arrow) in self.arrows.iter().enumerate() {
            while let Some(mark) = marks.next_if(|mark| mark.before <= index) {
                items.push(Item::Mark(mark));
            }
            items.push(Item::Arrow(arrow));
        }
        items.extend(marks.map(Item::Mark));
        items
    }
}

/// Prepares a trace for the diagram dialects; `label_width` gives the
/// widest label line for an arrow across that many columns (at least 1).
pub fn prepare(trace: &Trace, label_width: impl Fn(usize) -> usize) -> Diagram {
    let mut members = known_members(trace);
    let mut extra_addresses: Vec<Ipv4Addr> = Vec::new();
    let mut arrows = Vec::new();
    for message in &trace.messages {
        let from = position_of(
            trace,
            &message.from,
            message.src_address,
            &mut extra_addresses,
        );
        let to = position_of(
            trace,
            &message.to,
            message.dst_address,
            &mut extra_addresses,
        );
        let width = label_width(from.abs_diff(to).max(1));
        arrows.push(arrow(message, from, to, width));
    }
    let mut taken: BTreeSet<String> = members.iter().map(|m| m.alias.clone()).collect();
    for address in extra_addresses {
        let alias = unique_alias(format!("p{}", members.len() + 1), &mut taken);
        members.push(Member {
            alias,
            heading: vec![address.to_string(), "(no host)".to_string()],
        });
    }
    Diagram {
        title: trace.title.clone(),
        members,
        groups: group_runs(trace),
        arrows,
        marks: marks(trace, &label_width),
    }
}

/// Prepares the lifeline events of known participants, their labels
/// wrapped as an arrow's across one column.
fn marks(trace: &Trace, label_width: &impl Fn(usize) -> usize) -> Vec<Mark> {
    let marks = trace.events.iter().filter_map(|event| {
        let member = trace
            .participants
            .iter()
            .position(|p| p.id == event.participant)?;
        Some(Mark {
            member,
            time: event.at_text.clone(),
            label: wrap(&text_atoms(&event.label), label_width(1)),
            before: event.before,
        })
    });
    marks.collect()
}

/// Builds the members of the trace's participants, with unique aliases.
fn known_members(trace: &Trace) -> Vec<Member> {
    let mut taken = BTreeSet::new();
    let mut members = Vec::new();
    for (index, participant) in trace.participants.iter().enumerate() {
        let wanted = if is_plain_alias(&participant.id) {
            participant.id.clone()
        } else {
            format!("p{}", index + 1)
        };
        let mut heading = vec![participant.name.clone()];
        if participant.host != participant.name {
            heading.push(participant.host.clone());
        }
        heading.push(participant.address.to_string());
        members.push(Member {
            alias: unique_alias(wanted, &mut taken),
            heading,
        });
    }
    members
}

/// Tells whether an id can stand as an alias in every dialect as it is.
fn is_plain_alias(id: &str) -> bool {
    let mut characters = id.chars();
    let starts_with_letter = characters.next().is_some_and(|c| c.is_ascii_alphabetic());
    starts_with_letter
        && characters.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&id.to_ascii_lowercase().as_str())
}

/// Returns `wanted`, or it with underscores added until no one has it.
fn unique_alias(wanted: String, taken: &mut BTreeSet<String>) -> String {
    let mut alias = wanted;
    while taken.contains(&alias) || RESERVED.contains(&alias.to_ascii_lowercase().as_str()) {
        alias.push('_');
    }
    taken.insert(alias.clone());
    alias
}

/// Returns a member's position: the participant with `id`, else an extra
/// member for `address`, added at first sight.
fn position_of(trace: &Trace, id: &str, address: Ipv4Addr, extra: &mut Vec<Ipv4Addr>) -> usize {
    if let Some(index) = trace.participants.iter().position(|p| p.id == id) {
        return index;
    }
    let known = trace.participants.len();
    match extra.iter().position(|seen| *seen == address) {
        Some(index) => known + index,
        None => {
            extra.push(address);
            known + extra.len() - 1
        }
    }
}

/// Collects runs of neighbouring participants that share a group name.
fn group_runs(trace: &Trace) -> Vec<GroupRun> {
    let mut runs: Vec<GroupRun> = Vec::new();
    for (index, participant) in trace.participants.iter().enumerate() {
        let Some(name) = &participant.group else {
            continue;
        };
        match runs.last_mut() {
            Some(run) if run.members.end == index && &run.name == name => run.members.end += 1,
            _ => runs.push(GroupRun {
                name: name.clone(),
                members: index..index + 1,
            }),
        }
    }
    runs
}

/// Prepares one message's arrow, its label wrapped at `label_width`.
fn arrow(message: &Message, from: usize, to: usize, label_width: usize) -> Arrow {
    let is_control = message.tcp.is_some() && message.payload_len == 0;
    let mut label_atoms = match &message.payload {
        Some(_) => payload_atoms(&message.payload_bytes()),
        None => text_atoms(&message.label),
    };
    if let (Some(_), Some(note)) = (&message.payload, message.why.resend_note()) {
        label_atoms.push(Atom::LineEnd);
        label_atoms.extend(text_atoms(&note));
    }
    let remark_atoms = message
        .remark
        .as_deref()
        .map(text_atoms)
        .unwrap_or_default();
    Arrow {
        from,
        to,
        style: if is_control {
            Style::Control
        } else {
            Style::Data
        },
        lost: message.received_at.is_none(),
        time: message.sent_at_text.clone(),
        label: wrap(&label_atoms, label_width),
        remark: if remark_atoms.is_empty() {
            Wrapped::default()
        } else {
            wrap(&remark_atoms, REMARK_WIDTH)
        },
    }
}

/// The smallest unit of a drawn line.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Atom {
    /// One character shown as it is.
    Char(char),
    /// A control character written out, e.g. `r` for CR.
    Escape(String),
    /// A literal backslash.
    Backslash,
    /// The end of a line of the payload: a new drawn line follows.
    LineEnd,
}

/// Splits payload octets into atoms, writing control characters out.
fn payload_atoms(payload: &[u8]) -> Vec<Atom> {
    let text = String::from_utf8_lossy(payload);
    let mut atoms = Vec::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '\r' => atoms.push(Atom::Escape("r".to_string())),
            '\n' => atoms.extend([Atom::Escape("n".to_string()), Atom::LineEnd]),
            '\t' => atoms.push(Atom::Escape("t".to_string())),
            '\\' => atoms.push(Atom::Backslash),
            c if breaks_lines(c) => atoms.push(Atom::Escape(format!("x{:02X}", u32::from(c)))),
            c => atoms.push(Atom::Char(c)),
        }
    }
    if atoms.last() == Some(&Atom::LineEnd) {
        atoms.pop();
    }
    atoms
}

/// Splits plain text into atoms; line breaks in it become spaces.
fn text_atoms(text: &str) -> Vec<Atom> {
    let atom = |c: char| match c {
        '\\' => Atom::Backslash,
        c if breaks_lines(c) => Atom::Char(' '),
        c => Atom::Char(c),
    };
    text.chars().map(atom).collect()
}

/// Cuts atoms into lines after each line end, and each line into drawn
/// lines at the last space before it grows wider than `limit`.
fn wrap(atoms: &[Atom], limit: usize) -> Wrapped {
    let mut paragraphs = Vec::new();
    for line in atoms.split(|atom| *atom == Atom::LineEnd) {
        let mut drawn = Vec::new();
        let mut rest = line;
        while let Some(cut) = wrap_point(rest, limit) {
            drawn.push(pieces(&rest[..cut]));
            rest = &rest[cut + 1..];
        }
        drawn.push(pieces(rest));
        paragraphs.push(drawn);
    }
    Wrapped { paragraphs }
}

/// Returns where to break a line (the index of a space), if it is too wide.
fn wrap_point(line: &[Atom], limit: usize) -> Option<usize> {
    let mut width = 0;
    let mut last_space = None;
    for (index, atom) in line.iter().enumerate() {
        if *atom == Atom::Char(' ') {
            last_space = Some(index);
        }
        width += atom_width(atom);
        if width > limit && last_space.is_some_and(|space| space > 0) {
            return last_space;
        }
    }
    None
}

/// Returns the columns an atom takes when drawn.
fn atom_width(atom: &Atom) -> usize {
    match atom {
        Atom::Char(c) => c.width().unwrap_or(0),
        Atom::Escape(text) => 1 + text.len(),
        Atom::Backslash => 1,
        Atom::LineEnd => 0,
    }
}

/// Joins atoms into pieces, neighbouring characters into one text.
fn pieces(atoms: &[Atom]) -> DrawnLine {
    let mut line: DrawnLine = Vec::new();
    for atom in atoms {
        match (atom, line.last_mut()) {
            (Atom::Char(c), Some(Piece::Text(text))) => text.push(*c),
            (Atom::Char(c), _) => line.push(Piece::Text(c.to_string())),
            (Atom::Escape(text), _) => line.push(Piece::Escape(text.clone())),
            (Atom::Backslash, _) => line.push(Piece::Backslash),
            (Atom::LineEnd, _) => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Piece {
        Piece::Text(s.to_string())
    }

    fn escape(s: &str) -> Piece {
        Piece::Escape(s.to_string())
    }

    #[test]
    fn crlf_is_written_out_and_starts_a_new_drawn_line() {
        let wrapped = wrap(&payload_atoms(b"HELO a\r\nQUIT\r\n"), 80);
        let helo = vec![text("HELO a"), escape("r"), escape("n")];
        let quit = vec![text("QUIT"), escape("r"), escape("n")];
        assert_eq!(wrapped.paragraphs, [vec![helo], vec![quit]]);
    }

    #[test]
    fn a_payload_backslash_stays_apart_from_written_out_escapes() {
        let wrapped = wrap(&payload_atoms(b"C:\\new\x07"), 80);
        let line = vec![text("C:"), Piece::Backslash, text("new"), escape("x07")];
        assert_eq!(wrapped.paragraphs, [vec![line]]);
    }

    #[test]
    fn long_lines_break_at_the_last_space_that_fits() {
        let wrapped = wrap(&text_atoms("aaa bbb ccc"), 7);
        assert_eq!(
            wrapped.paragraphs,
            [vec![vec![text("aaa bbb")], vec![text("ccc")]]]
        );
        let unbreakable = wrap(&text_atoms("abcdefghij"), 4);
        assert_eq!(unbreakable.paragraphs, [vec![vec![text("abcdefghij")]]]);
    }

    #[test]
    fn ids_that_are_keywords_or_not_plain_get_other_aliases() {
        assert!(is_plain_alias("sender"));
        assert!(!is_plain_alias("end"));
        assert!(!is_plain_alias("mail-server"));
        assert!(!is_plain_alias("2nd"));
        assert!(!is_plain_alias("émetteur"));
        let mut taken = BTreeSet::from(["p1".to_string()]);
        assert_eq!(unique_alias("p1".to_string(), &mut taken), "p1_");
    }
}
