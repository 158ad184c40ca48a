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

/// Aligns two key lists: each row is a mark and an index into A (for
/// `Both` and `OnlyA`) or B (for `OnlyB`). Removals come before
/// insertions, as in a unified diff.
fn merge(a: &[String], b: &[String]) -> Vec<(Mark, usize)> {
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
fn common_lengths(a: &[String], b: &[String]) -> Vec<Vec<usize>> {
    let mut table = vec![vec![0; b.len() + 1]; a.len() + 1];
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

/// Pairs messages only in A with equal ones only in B: the B row becomes
/// `Moved` and the A row is dropped.
fn mark_moves(rows: &mut Vec<(Mark, usize)>, a: &[String], b: &[String]) {
    let mut dropped = Vec::new();
    for position in 0..rows.len() {
        let (Mark::OnlyB, j) = rows[position] else {
            continue;
        };
        let partner = rows.iter().enumerate().position(|(p, (mark, i))| {
            *mark == Mark::OnlyA && a[*i] == b[j] && !dropped.contains(&p)
        });
        if let Some(p) = partner {
            dropped.push(p);
            rows[position].0 = Mark::Moved;
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
