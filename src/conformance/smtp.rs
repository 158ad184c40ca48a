//! SMTP rules (RFC 5321) for scripted connections to port 25: lines end
//! in CRLF and keep to their length limits, commands come in the order
//! of §4.1.4 and wait for their replies (§4.3.1), each reply uses a code
//! §4.3.2 allows after that command, paths are in angle brackets, and
//! the server answers QUIT with 221 before it closes.
//!
//! When the server is seqsim's SMTP model, its replies are not in the
//! script, so only the client's own lines are judged: their syntax,
//! brackets, line ends and lengths, not the rules that need replies.

use std::collections::BTreeMap;

use super::Departure;
use crate::scenario::script::{Action, Connection, Step};
use crate::sim::escape_payload;
use crate::wire::smtp::{Command, Path, Reply};

/// The SMTP port.
pub const PORT: u16 = 25;

/// The longest command line, CRLF included (RFC 5321 §4.5.3.1.4).
const MAX_COMMAND_LINE: usize = 512;
/// The longest reply line, CRLF included (RFC 5321 §4.5.3.1.5).
const MAX_REPLY_LINE: usize = 512;
/// The longest line of message text, CRLF included (RFC 5321 §4.5.3.1.6).
const MAX_TEXT_LINE: usize = 1000;
/// Codes any command may get (RFC 5321 §4.3.2).
const ANY_COMMAND: [u16; 3] = [500, 501, 421];

/// What the client's command asked, so its reply can be judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asked {
    Greeting,
    Helo,
    Mail,
    Rcpt,
    Data,
    EndOfData,
    Rset,
    Vrfy,
    Noop,
    Quit,
    Unknown,
}

impl Asked {
    /// Returns the name used in messages.
    fn name(self) -> &'static str {
        match self {
            Asked::Greeting => "the connection",
            Asked::Helo => "HELO",
            Asked::Mail => "MAIL",
            Asked::Rcpt => "RCPT",
            Asked::Data => "DATA",
            Asked::EndOfData => "the end of data",
            Asked::Rset => "RSET",
            Asked::Vrfy => "VRFY",
            Asked::Noop => "NOOP",
            Asked::Quit => "QUIT",
            Asked::Unknown => "an unknown command",
        }
    }

    /// Returns the codes RFC 5321 §4.3.2 allows in reply, besides
    /// [`ANY_COMMAND`]; `None` when any code may come.
    fn allowed_codes(self) -> Option<&'static [u16]> {
        Some(match self {
            Asked::Greeting => &[220, 554],
            Asked::Helo => &[250, 504, 550, 502],
            Asked::Mail => &[250, 552, 451, 452, 550, 553, 503, 455, 555],
            Asked::Rcpt => &[250, 251, 550, 551, 552, 553, 450, 451, 452, 503, 455, 555],
            Asked::Data => &[354, 503, 554, 450, 550, 451, 452],
            Asked::EndOfData => &[250, 552, 554, 451, 452, 450, 550],
            Asked::Rset | Asked::Noop => &[250],
            Asked::Vrfy => &[250, 251, 252, 550, 551, 553, 502, 504],
            Asked::Quit => &[221],
            Asked::Unknown => return None,
        })
    }
}

/// One SMTP session as the rules follow it.
#[derive(Debug, Default)]
struct Session {
    client_bytes: Vec<u8>,
    server_bytes: Vec<u8>,
    waiting: Option<Asked>,
    helo: bool,
    mail: bool,
    recipients: usize,
    in_data: bool,
    quit_sent: bool,
    quit_answered: bool,
    flagged_close: bool,
    modelled_server: bool,
}

/// Checks every SMTP session of the script; `modelled[p]` tells whether
/// participant `p` runs the SMTP server model.
pub fn check(steps: &[Step], ids: &[&str], modelled: &[bool]) -> Vec<Departure> {
    let mut sessions: BTreeMap<Connection, Session> = BTreeMap::new();
    let mut departures = Vec::new();
    for step in steps {
        match &step.action {
            Action::Open { connection, .. } if connection.port == PORT => {
                let modelled_server = modelled.get(connection.server).copied().unwrap_or(false);
                let session = Session {
                    waiting: (!modelled_server).then_some(Asked::Greeting),
                    modelled_server,
                    ..Session::default()
                };
                sessions.insert(*connection, session);
            }
            Action::Send { connection, data } if connection.port == PORT => {
                let Some(session) = sessions.get_mut(connection) else {
                    continue;
                };
                let from_client = step.from == connection.client;
                departures.extend(session.take(step, data, from_client));
            }
            Action::Close { connection, .. } if connection.port == PORT => {
                let Some(session) = sessions.get_mut(connection) else {
                    continue;
                };
                let by_client = step.from == connection.client;
                departures.extend(session.close(step, by_client, ids));
            }
            _ => {}
        }
    }
    departures
}

impl Session {
    /// Reads the complete lines a step adds to one direction.
    fn take(&mut self, step: &Step, data: &[u8], from_client: bool) -> Vec<Departure> {
        let buffer = if from_client {
            &mut self.client_bytes
        } else {
            &mut self.server_bytes
        };
        buffer.extend_from_slice(data);
        let lines = complete_lines(buffer);
        let mut departures = Vec::new();
        for line in lines {
            let found = if from_client {
                self.client_line(step, &line)
            } else {
                self.server_line(step, &line)
            };
            departures.extend(found);
        }
        departures
    }

    /// Judges one line from the client: message text or a command.
    fn client_line(&mut self, step: &Step, line: &[u8]) -> Vec<Departure> {
        let text = String::from_utf8_lossy(line).into_owned();
        let mut departures = bare_line_ends(step, &text);
        if self.in_data {
            departures.extend(too_long(
                step,
                &text,
                MAX_TEXT_LINE,
                "a line of message text",
                "RFC 5321 §4.5.3.1.6",
            ));
            if text == "." {
                self.in_data = false;
                self.waiting = Some(Asked::EndOfData);
            }
            return departures;
        }
        departures.extend(too_long(
            step,
            &text,
            MAX_COMMAND_LINE,
            "a command line",
            "RFC 5321 §4.5.3.1.4",
        ));
        if let Some(asked) = self.waiting {
            let rule = format!(
                "sent before the server answered {}; a client waits for each reply",
                asked.name()
            );
            departures.push(Departure::at(step, quoted(&text), rule, "RFC 5321 §4.3.1"));
        }
        let command = Command::parse(&text);
        if self.modelled_server {
            departures.extend(syntax(step, &text, &command));
        } else {
            departures.extend(self.command(step, &text, &command));
        }
        departures
    }

    /// Checks a command's syntax and order, and notes what it asked.
    fn command(&mut self, step: &Step, text: &str, command: &Command) -> Vec<Departure> {
        let mut departures = Vec::new();
        let mut out_of_order = |rule: &str| {
            departures.push(Departure::at(step, quoted(text), rule, "RFC 5321 §4.1.4"))
        };
        if self.quit_sent {
            out_of_order("a command after QUIT; the session is over");
        }
        let asked = match command {
            Command::Helo(_) | Command::Ehlo(_) => Asked::Helo,
            Command::Mail(_) if !self.helo => {
                out_of_order(
                    "MAIL before HELO or EHLO; a client names itself before a mail transaction",
                );
                Asked::Mail
            }
            Command::Mail(_) if self.mail => {
                out_of_order("MAIL inside a mail transaction; end it with DATA or RSET first");
                Asked::Mail
            }
            Command::Rcpt(_) if !self.mail => {
                out_of_order("RCPT before a MAIL command was accepted");
                Asked::Rcpt
            }
            Command::Data if self.recipients == 0 => {
                out_of_order("DATA before any recipient was accepted");
                Asked::Data
            }
            other => asked_by(other),
        };
        departures.extend(syntax(step, text, command));
        self.quit_sent |= asked == Asked::Quit;
        self.waiting = Some(asked);
        departures
    }

    /// Judges one line from the server: a reply to what was asked.
    fn server_line(&mut self, step: &Step, line: &[u8]) -> Vec<Departure> {
        let text = String::from_utf8_lossy(line).into_owned();
        let mut departures = bare_line_ends(step, &text);
        departures.extend(too_long(
            step,
            &text,
            MAX_REPLY_LINE,
            "a reply line",
            "RFC 5321 §4.5.3.1.5",
        ));
        let Some(reply) = Reply::parse(&text) else {
            let rule = "not a reply: a reply starts with a three-digit code";
            departures.push(Departure::at(step, quoted(&text), rule, "RFC 5321 §4.2"));
            return departures;
        };
        if text.as_bytes().get(3) == Some(&b'-') {
            return departures;
        }
        let Some(asked) = self.waiting.take() else {
            let rule = "a reply to no command; the server speaks only in answer";
            departures.push(Departure::at(step, quoted(&text), rule, "RFC 5321 §4.3.1"));
            return departures;
        };
        departures.extend(code_allowed(step, &text, &reply, asked));
        self.after_reply(&reply, asked);
        departures
    }

    /// Moves the session on by a reply.
    fn after_reply(&mut self, reply: &Reply, asked: Asked) {
        let positive = reply.is_positive();
        match asked {
            Asked::Helo => self.helo |= positive,
            Asked::Mail => self.mail |= positive,
            Asked::Rcpt if positive => self.recipients += 1,
            Asked::Data => self.in_data = reply.code == 354,
            Asked::EndOfData | Asked::Rset => self.reset_transaction(),
            Asked::Quit => self.quit_answered = reply.code == 221,
            _ => {}
        }
    }

    /// Clears the transaction: no sender, no recipients.
    fn reset_transaction(&mut self) {
        self.mail = false;
        self.recipients = 0;
    }

    /// Judges one side closing the connection.
    fn close(&mut self, step: &Step, by_client: bool, ids: &[&str]) -> Vec<Departure> {
        let mut departures = Vec::new();
        let (bytes, side) = if by_client {
            (&self.client_bytes, step.from)
        } else {
            (&self.server_bytes, step.from)
        };
        if !bytes.is_empty() {
            let rule = "the last line before the close is not ended by CRLF";
            departures.push(Departure::at(
                step,
                quoted(&String::from_utf8_lossy(bytes)),
                rule,
                "RFC 5321 §2.3.8",
            ));
        }
        let subject = format!("FIN from {}", ids.get(side).copied().unwrap_or("?"));
        if self.flagged_close || self.quit_answered || self.modelled_server {
            return departures;
        }
        self.flagged_close = true;
        let (rule, reference) = match (by_client, self.quit_sent) {
            (false, true) => (
                "the server closed after QUIT without the 221 reply it must send first",
                "RFC 5321 §4.1.1.10",
            ),
            (false, false) => (
                "the server closed before the client sent QUIT",
                "RFC 5321 §3.8",
            ),
            (true, false) => ("the client closed without sending QUIT", "RFC 5321 §3.8"),
            (true, true) => (
                "the client closed before the server answered QUIT",
                "RFC 5321 §3.8",
            ),
        };
        departures.push(Departure::at(step, subject, rule, reference));
        departures
    }
}

/// Removes and returns the CRLF-ended lines of a buffer, without CRLF.
fn complete_lines(buffer: &mut Vec<u8>) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    while let Some(end) = buffer.windows(2).position(|pair| pair == b"\r\n") {
        let line: Vec<u8> = buffer.drain(..end + 2).take(end).collect();
        lines.push(line);
    }
    lines
}

/// Returns what a command asks, for commands with no order rule.
fn asked_by(command: &Command) -> Asked {
    match command {
        Command::Helo(_) | Command::Ehlo(_) => Asked::Helo,
        Command::Mail(_) => Asked::Mail,
        Command::Rcpt(_) => Asked::Rcpt,
        Command::Data => Asked::Data,
        Command::Vrfy(_) => Asked::Vrfy,
        Command::Rset => Asked::Rset,
        Command::Noop => Asked::Noop,
        Command::Quit => Asked::Quit,
        Command::Unknown(_) => Asked::Unknown,
    }
}

/// Judges a command on its own: a known verb, and paths in brackets.
fn syntax(step: &Step, text: &str, command: &Command) -> Vec<Departure> {
    let mut departures: Vec<Departure> = unbracketed(step, text, command).into_iter().collect();
    if let Command::Unknown(_) = command {
        let rule = "not an SMTP command seqsim knows";
        departures.push(Departure::at(step, quoted(text), rule, "RFC 5321 §4.1.1"));
    }
    departures
}

/// Flags a MAIL or RCPT path written without angle brackets.
fn unbracketed(step: &Step, text: &str, command: &Command) -> Option<Departure> {
    let (path, verb, reference) = match command {
        Command::Mail(path) => (path, "MAIL FROM:", "RFC 5321 §4.1.1.2, §4.1.2"),
        Command::Rcpt(path) => (path, "RCPT TO:", "RFC 5321 §4.1.1.3, §4.1.2"),
        _ => return None,
    };
    if path.bracketed {
        return None;
    }
    let fixed = Path {
        address: path.address.clone(),
        bracketed: true,
    };
    let rule = format!("the path is not in angle brackets; write {verb}{fixed}");
    Some(Departure::at(step, quoted(text), rule, reference))
}

/// Flags a reply code §4.3.2 does not allow after the command.
fn code_allowed(step: &Step, text: &str, reply: &Reply, asked: Asked) -> Option<Departure> {
    let allowed = asked.allowed_codes()?;
    if allowed.contains(&reply.code) || ANY_COMMAND.contains(&reply.code) {
        return None;
    }
    let list: Vec<String> = allowed.iter().map(u16::to_string).collect();
    let rule = format!(
        "{} is not a reply to {} (expected {})",
        reply.code,
        asked.name(),
        list.join(", ")
    );
    Some(Departure::at(step, quoted(text), rule, "RFC 5321 §4.3.2"))
}

/// Flags a CR or LF that is not part of a CRLF.
fn bare_line_ends(step: &Step, text: &str) -> Vec<Departure> {
    if !text.contains(['\r', '\n']) {
        return Vec::new();
    }
    let rule = "a lone CR or LF inside a line; lines end only with CRLF";
    vec![Departure::at(step, quoted(text), rule, "RFC 5321 §2.3.8")]
}

/// Flags a line longer than `limit` octets, CRLF included.
fn too_long(
    step: &Step,
    text: &str,
    limit: usize,
    what: &str,
    reference: &'static str,
) -> Option<Departure> {
    let length = text.len() + 2;
    if length <= limit {
        return None;
    }
    let rule = format!("{what} of {length} octets; the limit is {limit}, CRLF included");
    Some(Departure::at(step, shortened(text), rule, reference))
}

/// Quotes a line as it was written, CR and LF escaped.
fn quoted(text: &str) -> String {
    format!("`{}`", escape_payload(text.as_bytes()))
}

/// Quotes the start of a long line.
fn shortened(text: &str) -> String {
    let start: String = text.chars().take(40).collect();
    format!("`{}...`", escape_payload(start.as_bytes()))
}
