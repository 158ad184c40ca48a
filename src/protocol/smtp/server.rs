//! The receiving side of SMTP: greet, check the HELO name, answer VRFY,
//! take MAIL, RCPT and DATA, store the mail, answer QUIT and close.
//!
//! Commands that arrive while the server waits for its PTR look-up stay
//! in the line reader until the answer is in, so replies keep command
//! order. The reply texts are this server's own wording.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use crate::protocol::host_api::{ConnId, HostCalls, Notice, Outcome, QueryId, ResolveError};
use crate::wire::dns::{self, Name, RecordData, RecordType};
use crate::wire::smtp::{Address, Command, LineReader, Path, Reply};

/// What a receiving server is and holds.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The server's own host name, used in its replies.
    pub host_name: Name,
    /// The mail domain it accepts mail for.
    pub domain: Name,
    /// The mailboxes (local parts) that exist, compared without case.
    pub mailboxes: BTreeSet<String>,
    /// Whether to check the HELO name against a PTR look-up.
    pub check_helo: bool,
    /// The text after `220` in the greeting.
    pub greeting: String,
}

/// Where one session stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// Greeted; waiting for HELO.
    Greeted,
    /// HELO received; waiting for its PTR look-up.
    CheckingHelo { query: QueryId, name: String },
    /// Ready for a transaction.
    Ready,
    /// Reading the message after DATA.
    ReceivingData,
    /// QUIT answered; the server has closed its side.
    Closing,
}

/// One client's session.
#[derive(Debug)]
struct Session {
    peer: Ipv4Addr,
    reader: LineReader,
    phase: Phase,
    sender: Option<String>,
    recipients: Vec<Address>,
    content: String,
}

/// An SMTP server handling any number of sessions.
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    sessions: BTreeMap<ConnId, Session>,
}

impl Server {
    /// Builds a server from its configuration.
    pub fn new(config: ServerConfig) -> Server {
        Server {
            config,
            sessions: BTreeMap::new(),
        }
    }

    /// Reacts to one notice from the host.
    pub fn handle(&mut self, calls: &mut HostCalls, notice: Notice) {
        match notice {
            Notice::Accepted { conn, peer } => self.on_accepted(calls, conn, peer),
            Notice::Received(conn, bytes) => self.on_received(calls, conn, &bytes),
            Notice::Resolved(query, answer) => self.on_resolved(calls, query, answer),
            Notice::PeerFinished(conn) => self.on_peer_finished(calls, conn),
            Notice::Closed(conn) | Notice::Reset(conn) => {
                self.sessions.remove(&conn);
            }
            Notice::Start | Notice::Connected(_) => {}
        }
    }

    /// Opens a session and greets with 220.
    fn on_accepted(&mut self, calls: &mut HostCalls, conn: ConnId, peer: Ipv4Addr) {
        let session = Session {
            peer,
            reader: LineReader::default(),
            phase: Phase::Greeted,
            sender: None,
            recipients: Vec::new(),
            content: String::new(),
        };
        self.sessions.insert(conn, session);
        reply(calls, conn, 220, &self.config.greeting);
    }

    /// Buffers received bytes and handles the complete lines.
    fn on_received(&mut self, calls: &mut HostCalls, conn: ConnId, bytes: &[u8]) {
        let Some(session) = self.sessions.get_mut(&conn) else {
            return;
        };
        session.reader.push(bytes);
        self.handle_ready_lines(calls, conn);
    }

    /// Handles buffered lines until one needs a look-up answered first.
    fn handle_ready_lines(&mut self, calls: &mut HostCalls, conn: ConnId) {
        loop {
            let Some(session) = self.sessions.get_mut(&conn) else {
                return;
            };
            if matches!(session.phase, Phase::CheckingHelo { .. } | Phase::Closing) {
                return;
            }
            let Some(line) = session.reader.next_line() else {
                return;
            };
            self.handle_line(calls, conn, &line);
        }
    }

    /// Handles one line: message text during DATA, else a command.
    fn handle_line(&mut self, calls: &mut HostCalls, conn: ConnId, line: &str) {
        let session = self
            .sessions
            .get_mut(&conn)
            .expect("lines come from a session");
        if session.phase == Phase::ReceivingData {
            return self.on_data_line(calls, conn, line);
        }
        match Command::parse(line) {
            Command::Helo(name) | Command::Ehlo(name) => self.on_helo(calls, conn, name),
            Command::Vrfy(argument) => self.on_vrfy(calls, conn, &argument),
            Command::Mail(path) => self.on_mail(calls, conn, &path),
            Command::Rcpt(path) => self.on_rcpt(calls, conn, &path),
            Command::Data => self.on_data(calls, conn),
            Command::Rset => self.on_rset(calls, conn),
            Command::Noop => reply(calls, conn, 250, "OK"),
            Command::Quit => self.on_quit(calls, conn),
            Command::Unknown(_) => reply(calls, conn, 500, "Command not recognized"),
        }
    }

    /// Checks the HELO name by PTR, or accepts it at once.
    fn on_helo(&mut self, calls: &mut HostCalls, conn: ConnId, name: String) {
        let session = self
            .sessions
            .get_mut(&conn)
            .expect("commands come from a session");
        if !self.config.check_helo {
            session.phase = Phase::Ready;
            return reply(calls, conn, 250, self.config.host_name.as_str());
        }
        let query = calls.resolve(Name::reverse_of(session.peer), RecordType::Ptr);
        session.phase = Phase::CheckingHelo { query, name };
    }

    /// Answers HELO once the PTR look-up is back, then reads on.
    ///
    /// A name that does not match is noted in the reply but not refused:
    /// RFC 5321 §4.1.4 forbids refusing mail on that ground alone.
    fn on_resolved(
        &mut self,
        calls: &mut HostCalls,
        query: QueryId,
        answer: Result<dns::Message, ResolveError>,
    ) {
        let Some((&conn, session)) = self
            .sessions
            .iter_mut()
            .find(|(_, s)| matches!(&s.phase, Phase::CheckingHelo { query: q, .. } if *q == query))
        else {
            return;
        };
        let Phase::CheckingHelo { name, .. } = &session.phase else {
            return;
        };
        let confirmed =
            answer.is_ok_and(|message| ptr_names(&message).contains(&name.to_ascii_lowercase()));
        let text = helo_reply_text(&self.config.host_name, name, session.peer, confirmed);
        session.phase = Phase::Ready;
        reply(calls, conn, 250, &text);
        self.handle_ready_lines(calls, conn);
    }

    /// Answers VRFY from the mailbox list: 250 known, 550 unknown.
    fn on_vrfy(&mut self, calls: &mut HostCalls, conn: ConnId, argument: &str) {
        let local = argument.split('@').next().unwrap_or(argument);
        if self.holds_mailbox(local) {
            reply(calls, conn, 250, "OK");
        } else {
            reply(calls, conn, 550, &format!("Unknown user: {argument}"));
        }
    }

    /// Opens a transaction after HELO.
    fn on_mail(&mut self, calls: &mut HostCalls, conn: ConnId, path: &Path) {
        let session = self
            .sessions
            .get_mut(&conn)
            .expect("commands come from a session");
        if session.phase != Phase::Ready || session.sender.is_some() {
            return reply(calls, conn, 503, "Bad sequence of commands");
        }
        session.sender = Some(path.address.clone());
        reply(calls, conn, 250, "OK");
    }

    /// Accepts a recipient of this domain with a mailbox here.
    fn on_rcpt(&mut self, calls: &mut HostCalls, conn: ConnId, path: &Path) {
        let has_sender = self.sessions.get(&conn).is_some_and(|s| s.sender.is_some());
        if !has_sender {
            return reply(calls, conn, 503, "Bad sequence of commands");
        }
        let Ok(address) = Address::parse(&path.address) else {
            return reply(calls, conn, 501, "Syntax error in recipient address");
        };
        if address.domain != self.config.domain.as_str() {
            return reply(calls, conn, 550, "Relaying not permitted");
        }
        if !self.holds_mailbox(&address.local) {
            return reply(
                calls,
                conn,
                550,
                &format!("Unknown user: {}", address.local),
            );
        }
        let session = self
            .sessions
            .get_mut(&conn)
            .expect("commands come from a session");
        session.recipients.push(address);
        reply(calls, conn, 250, "OK");
    }

    /// Invites the message once there is at least one recipient.
    fn on_data(&mut self, calls: &mut HostCalls, conn: ConnId) {
        let session = self
            .sessions
            .get_mut(&conn)
            .expect("commands come from a session");
        if session.recipients.is_empty() {
            return reply(calls, conn, 503, "Bad sequence of commands");
        }
        session.phase = Phase::ReceivingData;
        reply(calls, conn, 354, "Enter e-mail");
    }

    /// Collects one message line, or stores the mail at the lone dot.
    fn on_data_line(&mut self, calls: &mut HostCalls, conn: ConnId, line: &str) {
        let session = self
            .sessions
            .get_mut(&conn)
            .expect("lines come from a session");
        if line == "." {
            return self.store_mail(calls, conn);
        }
        let unstuffed = line.strip_prefix('.').unwrap_or(line);
        session.content.push_str(unstuffed);
        session.content.push_str("\r\n");
    }

    /// Stores the mail in every recipient's mailbox and resets the transaction.
    fn store_mail(&mut self, calls: &mut HostCalls, conn: ConnId) {
        let session = self
            .sessions
            .get_mut(&conn)
            .expect("lines come from a session");
        let from = session.sender.take().unwrap_or_default();
        let content = std::mem::take(&mut session.content);
        for recipient in std::mem::take(&mut session.recipients) {
            let mailbox = recipient.local.to_ascii_lowercase();
            calls.record(Outcome::Stored {
                mailbox,
                from: from.clone(),
                content: content.clone(),
            });
        }
        session.phase = Phase::Ready;
        reply(calls, conn, 250, "OK Mail accepted");
    }

    /// Drops the transaction in progress.
    fn on_rset(&mut self, calls: &mut HostCalls, conn: ConnId) {
        let session = self
            .sessions
            .get_mut(&conn)
            .expect("commands come from a session");
        session.sender = None;
        session.recipients.clear();
        reply(calls, conn, 250, "OK");
    }

    /// Answers 221 and closes the server's side (RFC 5321 §4.1.1.10).
    fn on_quit(&mut self, calls: &mut HostCalls, conn: ConnId) {
        let session = self
            .sessions
            .get_mut(&conn)
            .expect("commands come from a session");
        session.phase = Phase::Closing;
        let text = format!(
            "{} Service closing transmission channel",
            self.config.host_name
        );
        reply(calls, conn, 221, &text);
        calls.close(conn);
    }

    /// Closes too when the client closes first.
    fn on_peer_finished(&mut self, calls: &mut HostCalls, conn: ConnId) {
        let Some(session) = self.sessions.get_mut(&conn) else {
            return;
        };
        if session.phase != Phase::Closing {
            session.phase = Phase::Closing;
            calls.close(conn);
        }
    }

    /// Tells whether a mailbox of that local part exists.
    fn holds_mailbox(&self, local: &str) -> bool {
        self.config.mailboxes.contains(&local.to_ascii_lowercase())
    }
}

/// Sends one reply line.
fn reply(calls: &mut HostCalls, conn: ConnId, code: u16, text: &str) {
    calls.send(conn, format!("{}\r\n", Reply::new(code, text)));
}

/// Returns the names in the PTR answers of a message.
fn ptr_names(message: &dns::Message) -> Vec<String> {
    let names = message
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RecordData::Ptr(name) => Some(name.to_string()),
            _ => None,
        });
    names.collect()
}

/// Words the reply to HELO: the host name, plus a note when unconfirmed.
fn helo_reply_text(host_name: &Name, helo_name: &str, peer: Ipv4Addr, confirmed: bool) -> String {
    if confirmed {
        host_name.to_string()
    } else {
        format!("{host_name} (could not confirm {helo_name} as {peer})")
    }
}
