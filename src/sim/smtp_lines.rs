//! Reads the SMTP lines of each TCP conversation as the recorder sees its
//! segments go by, so the trace can say which command or reply code a
//! segment carries.
//!
//! The side that sent the SYN is the client. Client lines are commands,
//! except between a 354 reply and the line holding a single dot, where
//! they are the mail itself (RFC 5321 §4.1.1.4). Server lines are replies
//! (RFC 5321 §4.2). A line split over several segments belongs to the
//! segment that ends it.
//!
//! Not modelled: pipelined commands whose replies arrive after the mail
//! content has started (PIPELINING), BDAT chunks, and TLS after STARTTLS.

use rustc_hash::{FxHashMap, FxHashSet};
use std::net::Ipv4Addr;

use crate::sim::recorder::Direction;
use crate::trace::{SmtpFields, SmtpLine, SmtpRole};
use crate::wire::smtp::{LineReader, Reply};

/// One TCP endpoint: address and port.
type Endpoint = (Ipv4Addr, u16);

/// The code of the reply that invites the mail content (RFC 5321 §4.3.2).
const START_MAIL_INPUT: u16 = 354;

/// What is known of one conversation: unfinished lines and the phase.
#[derive(Debug, Default)]
struct Conversation {
    client_lines: LineReader,
    server_lines: LineReader,
    in_mail_content: bool,
}

/// The SMTP state of every TCP conversation seen so far.
///
/// Its sets are looked up with a fast non-cryptographic hash, never
/// walked, so the order of their entries cannot reach a trace.
#[derive(Debug, Default)]
pub struct SmtpLines {
    /// The ways from a client to its server.
    openers: FxHashSet<Direction>,
    /// Each conversation, by the way from its client to its server.
    conversations: FxHashMap<Direction, Conversation>,
}

impl SmtpLines {
    /// Notes that `local` sent a SYN without ACK to `remote`: it is the client.
    pub fn note_opener(&mut self, local: Endpoint, remote: Endpoint) {
        self.openers.insert(Direction::new(local, remote));
    }

    /// Tells whether it follows no conversation.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.openers.is_empty() && self.conversations.is_empty()
    }

    /// Forgets the conversation between two ends, whose connection closed.
    pub fn forget(&mut self, a: Endpoint, b: Endpoint) {
        for key in [Direction::new(a, b), Direction::new(b, a)] {
            self.openers.remove(&key);
            self.conversations.remove(&key);
        }
    }

    /// Reads the payload `local` sent to `remote`; returns its complete lines.
    pub fn read(&mut self, local: Endpoint, remote: Endpoint, payload: &[u8]) -> SmtpFields {
        let role = self.role_of(local, remote);
        let key = match role {
            SmtpRole::Client => Direction::new(local, remote),
            SmtpRole::Server => Direction::new(remote, local),
        };
        let conversation = self.conversations.entry(key).or_default();
        let lines = match role {
            SmtpRole::Client => conversation.client_lines_of(payload),
            SmtpRole::Server => conversation.server_lines_of(payload),
        };
        SmtpFields { role, lines }
    }

    /// Tells which side `local` is in its conversation with `remote`.
    ///
    /// Without a SYN on record, the side writing to the lower port is
    /// taken for the client, as clients call well-known ports.
    fn role_of(&self, local: Endpoint, remote: Endpoint) -> SmtpRole {
        if self.openers.contains(&Direction::new(local, remote)) {
            return SmtpRole::Client;
        }
        if self.openers.contains(&Direction::new(remote, local)) || local.1 < remote.1 {
            return SmtpRole::Server;
        }
        SmtpRole::Client
    }
}

impl Conversation {
    /// Reads client bytes: commands, or mail content after a 354 reply.
    fn client_lines_of(&mut self, payload: &[u8]) -> Vec<SmtpLine> {
        self.client_lines.push(payload);
        let mut lines = Vec::new();
        while let Some(line) = self.client_lines.next_line() {
            lines.push(self.client_line(line));
        }
        lines
    }

    /// Classifies one client line and follows the end of the mail content.
    fn client_line(&mut self, line: String) -> SmtpLine {
        if !self.in_mail_content {
            return command(&line);
        }
        if line == "." {
            self.in_mail_content = false;
            return SmtpLine::EndOfData;
        }
        SmtpLine::Content { text: line }
    }

    /// Reads server bytes as replies; a 354 starts the mail content.
    fn server_lines_of(&mut self, payload: &[u8]) -> Vec<SmtpLine> {
        self.server_lines.push(payload);
        let mut lines = Vec::new();
        while let Some(line) = self.server_lines.next_line() {
            let reply = reply(&line);
            if matches!(
                reply,
                SmtpLine::Reply {
                    code: START_MAIL_INPUT,
                    last_line: true,
                    ..
                }
            ) {
                self.in_mail_content = true;
            }
            lines.push(reply);
        }
        lines
    }
}

/// Splits a command line into its verb and argument (RFC 5321 §4.1.1).
fn command(line: &str) -> SmtpLine {
    let (verb, argument) = line.split_once(' ').unwrap_or((line, ""));
    SmtpLine::Command {
        verb: verb.to_string(),
        argument: argument.to_string(),
    }
}

/// Reads a reply line, or keeps the line as it is when it is not one.
fn reply(line: &str) -> SmtpLine {
    match Reply::parse(line) {
        Some(reply) => SmtpLine::Reply {
            code: reply.code,
            text: reply.text.into_owned(),
            last_line: line.as_bytes().get(3) != Some(&b'-'),
        },
        None => SmtpLine::Other {
            text: line.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: Endpoint = (Ipv4Addr::new(192, 0, 2, 10), 49152);
    const SERVER: Endpoint = (Ipv4Addr::new(66, 218, 71, 63), 25);

    fn opened() -> SmtpLines {
        let mut lines = SmtpLines::default();
        lines.note_opener(CLIENT, SERVER);
        lines
    }

    fn command_line(verb: &str, argument: &str) -> SmtpLine {
        SmtpLine::Command {
            verb: verb.to_string(),
            argument: argument.to_string(),
        }
    }

    #[test]
    fn mail_from_is_the_mail_verb_with_its_from_argument() {
        let fields = opened().read(CLIENT, SERVER, b"MAIL FROM:<luke@sender.com>\r\n");
        assert_eq!(fields.role, SmtpRole::Client);
        assert_eq!(
            fields.lines,
            [command_line("MAIL", "FROM:<luke@sender.com>")]
        );
    }

    #[test]
    fn replies_give_their_code_and_whether_more_lines_follow() {
        let mut lines = opened();
        let fields = lines.read(SERVER, CLIENT, b"250-first\r\n250 last\r\n");
        assert_eq!(fields.role, SmtpRole::Server);
        let expected = [
            SmtpLine::Reply {
                code: 250,
                text: "first".into(),
                last_line: false,
            },
            SmtpLine::Reply {
                code: 250,
                text: "last".into(),
                last_line: true,
            },
        ];
        assert_eq!(fields.lines, expected);
    }

    #[test]
    fn lines_after_354_are_content_until_the_lone_dot() {
        let mut lines = opened();
        lines.read(CLIENT, SERVER, b"DATA\r\n");
        lines.read(SERVER, CLIENT, b"354 Enter e-mail\r\n");
        let content = lines.read(CLIENT, SERVER, b"Subject: Hi\r\n\r\n..dots\r\n");
        let expected =
            ["Subject: Hi", "", "..dots"].map(|text| SmtpLine::Content { text: text.into() });
        assert_eq!(content.lines, expected);
        assert_eq!(
            lines.read(CLIENT, SERVER, b".\r\n").lines,
            [SmtpLine::EndOfData]
        );
        assert_eq!(
            lines.read(CLIENT, SERVER, b"QUIT\r\n").lines,
            [command_line("QUIT", "")]
        );
    }

    #[test]
    fn a_line_split_over_segments_belongs_to_the_segment_that_ends_it() {
        let mut lines = opened();
        assert_eq!(lines.read(CLIENT, SERVER, b"HELO mail.se").lines, []);
        assert_eq!(
            lines.read(CLIENT, SERVER, b"nder.com\r\n").lines,
            [command_line("HELO", "mail.sender.com")]
        );
    }
}
