//! Compares two runs message by message.
//!
//! Each message is reduced to a key that ignores what changes with the
//! seed or with an earlier difference: sender and receiver ids, the
//! transport, the TCP flags and the payload, or the DNS message's kind,
//! question, code and records, but not times, ports, sequence numbers or
//! DNS ids. The two key lists are aligned by their longest common
//! subsequence; what is left is only in A or only in B, and a message
//! found only in A at one place and only in B at another has moved.
//!
//! Participants are matched by id, so two scenarios compared should use
//! the same ids for the same hosts.
//!
//! Not modelled: a minimal alignment of very long differing stretches.
//! Beyond a few million pairs of messages the differing middle is shown
//! as removed, then added (moves are still found), to keep memory small.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::trace::{Message, Participant, Trace};

/// Where a message of the merged exchange comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// In both runs, at the same place in the alignment.
    Both,
    /// Only in the first run.
    OnlyA,
    /// Only in the second run.
    OnlyB,
    /// In both runs, at different places; shown where the second run has it.
    Moved,
}

impl Mark {
    /// Returns the character drawn in the diagram's margin.
    pub fn symbol(self) -> char {
        match self {
            Mark::Both => ' ',
            Mark::OnlyA => '-',
            Mark::OnlyB => '+',
            Mark::Moved => '~',
        }
    }
}

/// Two runs merged into one exchange, each message marked.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The merged trace: A's messages where both have them.
    pub trace: Trace,
    /// One mark per message of `trace`.
    pub marks: Vec<Mark>,
}

impl Comparison {
    /// Counts the messages with a mark.
    pub fn count(&self, mark: Mark) -> usize {
        self.marks.iter().filter(|m| **m == mark).count()
    }

    /// Tells whether the two exchanges are the same.
    pub fn same(&self) -> bool {
        self.marks.iter().all(|mark| *mark == Mark::Both)
    }
}

/// Aligns two traces and merges them.
pub fn compare(a: &Trace, b: &Trace) -> Comparison {
    let keys_a: Vec<String> = a.messages.iter().map(key).collect();
    let keys_b: Vec<String> = b.messages.iter().map(key).collect();
    let mut rows = merge(&keys_a, &keys_b);
    mark_moves(&mut rows, &keys_a, &keys_b);
    let mut trace = a.clone();
    trace.participants = merged_participants(&a.participants, &b.participants);
    trace.messages.clear();
    let mut marks = Vec::new();
    for (mark, index) in rows {
        let source = if matches!(mark, Mark::Both | Mark::OnlyA) {
            &a.messages
        } else {
            &b.messages
        };
        let mut message = source[index].clone();
        message.index = trace.messages.len();
        trace.messages.push(message);
        marks.push(mark);
    }
    Comparison { trace, marks }
}

/// Writes the part of a message that must match for two runs to agree.
pub fn key(message: &Message) -> String {
    let body = if let Some(dns) = &message.dns {
        let records =
            [&dns.answers[..], &dns.authority, &dns.additional].map(|list| list.join(", "));
        let code = dns.rcode.as_deref().unwrap_or("");
        format!(
            "dns {} {} {} {code} [{}]",
            dns.kind,
            dns.question_type,
            dns.question_name,
            records.join(" | ")
        )
    } else {
        let flags = message
            .tcp
            .as_ref()
            .map(|tcp| tcp.flags.join(","))
            .unwrap_or_default();
        format!("{flags} {}", message.payload.as_deref().unwrap_or(""))
    };
    format!(
        "{} > {} {:?} {body}",
        message.from, message.to, message.transport
    )
}

/// The most cells the alignment table may have (a few tens of
/// megabytes); a longer differing middle is shown as removed, then added.
const MAX_TABLE_CELLS: usize = 4_000_000;

/// Aligns two key lists: each row is a mark and an index into A (for
/// `Both` and `OnlyA`) or B (for `OnlyB`). Removals come before
/// insertions, as in a unified diff. The common start and end are
/// matched directly; only the middle needs the table.
fn merge(a: &[String], b: &[String]) -> Vec<(Mark, usize)> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a_rest, b_rest) = (&a[prefix..], &b[prefix..]);
    let suffix = a_rest
        .iter()
        .rev()
        .zip(b_rest.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (middle_a, middle_b) = (
        &a_rest[..a_rest.len() - suffix],
        &b_rest[..b_rest.len() - suffix],
    );
    let mut rows: Vec<(Mark, usize)> = (0..prefix).map(|i| (Mark::Both, i)).collect();
    for (mark, index) in merge_middle(middle_a, middle_b) {
        rows.push((mark, index + prefix));
    }
    let tail = a.len() - suffix;
    rows.extend((tail..a.len()).map(|i| (Mark::Both, i)));
    rows
}

/// Aligns the differing middle by its longest common subsequence.
fn merge_middle(a: &[String], b: &[String]) -> Vec<(Mark, usize)> {
    if (a.len() + 1).saturating_mul(b.len() + 1) > MAX_TABLE_CELLS {
        let removed = (0..a.len()).map(|i| (Mark::OnlyA, i));
        return removed
            .chain((0..b.len()).map(|j| (Mark::OnlyB, j)))
            .collect();
    }
    let table = common_lengths(a, b);
    let (mut i, mut j) = (0, 0);
    let mut rows = Vec::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            rows.push((Mark::Both, i));
            (i, j) = (i + 1, j + 1);
        } else if j == b.len() || (i < a.len() && table[i + 1][j] >= table[i][j + 1]) {
            rows.push((Mark::OnlyA, i));
            i += 1;
        } else {
            rows.push((Mark::OnlyB, j));
            j += 1;
        }
    }
    rows
}

/// Returns the longest-common-subsequence lengths of every pair of suffixes.
fn common_lengths(a: &[String], b: &[String]) -> Vec<Vec<u32>> {
    let mut table = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            table[i][j] = if a[i] == b[j] {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    table
}

/// Pairs messages only in A with equal ones only in B, in order: the B
/// row becomes `Moved` and the A row is dropped.
fn mark_moves(rows: &mut Vec<(Mark, usize)>, a: &[String], b: &[String]) {
    let mut removed: BTreeMap<&str, VecDeque<usize>> = BTreeMap::new();
    for (position, (mark, i)) in rows.iter().enumerate() {
        if *mark == Mark::OnlyA {
            removed
                .entry(a[*i].as_str())
                .or_default()
                .push_back(position);
        }
    }
    let mut dropped = BTreeSet::new();
    for row in rows.iter_mut() {
        let (Mark::OnlyB, j) = *row else { continue };
        if let Some(position) = removed.get_mut(b[j].as_str()).and_then(VecDeque::pop_front) {
            dropped.insert(position);
            row.0 = Mark::Moved;
        }
    }
    let mut position = 0;
    rows.retain(|_| {
        position += 1;
        !dropped.contains(&(position - 1))
    });
}

/// Returns A's participants followed by those only B has.
fn merged_participants(a: &[Participant], b: &[Participant]) -> Vec<Participant> {
    let mut merged = a.to_vec();
    for participant in b {
        if !merged.iter().any(|p| p.id == participant.id) {
            merged.push(participant.clone());
        }
    }
    merged
}
