//! The receiving side of SMTP: greet, check the HELO name, answer VRFY,
//! take MAIL, RCPT and DATA, store the mail, answer QUIT and close.
//!
//! Commands that arrive while the server waits for its PTR look-up stay
//! in the line reader until the answer is in, so replies keep command
//! order. The reply texts are this server's own wording.
//!
//! A scenario can make the server answer otherwise: a 421 or 554
//! greeting, a chosen code at HELO, VRFY, MAIL, RCPT, DATA or the end of
//! the data (for every session, or only the first few, so that a retry
//! gets through), and a limit on recipients per transaction answered
//! with 452. After any 421 the server closes the connection (RFC 5321
//! §3.8); after a 554 greeting it answers 503 to everything but QUIT
//! (§3.1).
//!
//! Not modelled: the server's own 5-minute wait for the next command
//! (RFC 5321 §4.5.3.2.7). A server whose client vanished keeps the
//! connection until TCP gives up on a reply it is resending, or for ever
//! when it has nothing left to send; the run still ends, as nothing more
//! happens.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use rustc_hash::FxHashMap;

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
    /// Replies the scenario imposes instead of the usual ones.
    pub replies: Vec<ImposedReply>,
    /// The most recipients one transaction may name; more get 452.
    pub max_recipients: Option<usize>,
}

/// A reply the server gives at one point of a session instead of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImposedReply {
    /// Where in the session it is given.
    pub at: ReplyPoint,
    /// The reply code.
    pub code: u16,
    /// The text after the code (default: this server's wording for the code).
    pub text: Option<String>,
    /// Only in the first this many sessions (default: in every session).
    pub sessions: Option<u32>,
}

/// A point of a session where a reply can be imposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReplyPoint {
    /// The greeting, instead of 220.
    Greeting,
    /// The reply to HELO or EHLO.
    Helo,
    /// The reply to VRFY.
    Vrfy,
    /// The reply to MAIL FROM.
    Mail,
    /// The reply to RCPT TO.
    Rcpt,
    /// The reply to DATA, instead of 354.
    Data,
    /// The reply to the final dot, instead of storing the mail.
    EndOfData,
}

impl ReplyPoint {
    /// Every point, with the name a scenario gives it.
    pub const NAMED: [(&'static str, ReplyPoint); 7] = [
        ("greeting", ReplyPoint::Greeting),
        ("HELO", ReplyPoint::Helo),
        ("VRFY", ReplyPoint::Vrfy),
        ("MAIL", ReplyPoint::Mail),
        ("RCPT", ReplyPoint::Rcpt),
        ("DATA", ReplyPoint::Data),
        ("end_of_data", ReplyPoint::EndOfData),
    ];
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
    /// Greeted with 554: only QUIT is served (RFC 5321 §3.1).
    Refusing,
    /// Reading the message after DATA.
    ReceivingData,
    /// QUIT answered; the server has closed its side.
    Closing,
}

/// One client's connection: the bytes not yet read as lines, and the
/// session they drive.
#[derive(Debug)]
struct Connection {
    reader: LineReader,
    session: Session,
}

/// The open connections, each in a numbered slot that is reused once
/// it closes, and found by its [`ConnId`] through one hash look-up.
///
/// Nothing iterates the index, so hash order never reaches the output.
#[derive(Debug, Default)]
struct Connections {
    slots: Vec<Option<Connection>>,
    free_slots: Vec<usize>,
    slot_of: FxHashMap<ConnId, usize>,
}

impl Connections {
    /// Adds the connection `conn`, replacing any under the same id.
    fn insert(&mut self, conn: ConnId, connection: Connection) {
        if let Some(&slot) = self.slot_of.get(&conn) {
            self.slots[slot] = Some(connection);
            return;
        }
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.slots[slot] = Some(connection);
                slot
            }
            None => {
                self.slots.push(Some(connection));
                self.slots.len() - 1
            }
        };
        self.slot_of.insert(conn, slot);
    }

    /// Returns the connection `conn`, if it is open.
    fn get_mut(&mut self, conn: ConnId) -> Option<&mut Connection> {
        let slot = *self.slot_of.get(&conn)?;
        self.slots[slot].as_mut()
    }

    /// Forgets the connection `conn` and frees its slot.
    fn remove(&mut self, conn: ConnId) {
        if let Some(slot) = self.slot_of.remove(&conn) {
            self.slots[slot] = None;
            self.free_slots.push(slot);
        }
    }

    /// Returns the first open connection, in slot order, that `wanted` picks.
    fn find_mut(&mut self, wanted: impl Fn(&Connection) -> bool) -> Option<&mut Connection> {
        self.slots.iter_mut().flatten().find(|c| wanted(c))
    }
}

/// One client's session.
#[derive(Debug)]
struct Session {
    conn: ConnId,
    number: u32,
    peer: Ipv4Addr,
    phase: Phase,
    sender: Option<String>,
    recipients: Vec<Address>,
    content: String,
}

/// What every session answers by: the configuration, and the replies
/// worded from it once rather than at each session.
#[derive(Debug)]
struct Settings {
    config: ServerConfig,
    /// The text of the 221 reply to QUIT.
    closing_text: String,
}

/// An SMTP server handling any number of sessions.
#[derive(Debug)]
pub struct Server {
    /// Boxed, so that a server stays small among a host's applications.
    settings: Box<Settings>,
    connections: Connections,
    sessions_opened: u32,
}

impl Server {
    /// Builds a server from its configuration.
    pub fn new(config: ServerConfig) -> Server {
        let closing_text = format!("{} Service closing transmission channel", config.host_name);
        Server {
            settings: Box::new(Settings {
                config,
                closing_text,
            }),
            connections: Connections::default(),
            sessions_opened: 0,
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
                self.connections.remove(conn);
            }
            Notice::Start | Notice::Connected(_) | Notice::Timer(_) => {}
        }
    }

    /// Opens a session and greets.
    fn on_accepted(&mut self, calls: &mut HostCalls, conn: ConnId, peer: Ipv4Addr) {
        self.sessions_opened += 1;
        let mut session = Session {
            conn,
            number: self.sessions_opened,
            peer,
            phase: Phase::Greeted,
            sender: None,
            recipients: Vec::new(),
            content: String::new(),
        };
        session.greet(&self.settings, calls);
        let reader = LineReader::default();
        self.connections
            .insert(conn, Connection { reader, session });
    }

    /// Buffers received bytes and handles the complete lines.
    fn on_received(&mut self, calls: &mut HostCalls, conn: ConnId, bytes: &[u8]) {
        let Some(connection) = self.connections.get_mut(conn) else {
            return;
        };
        connection.reader.push(bytes);
        let unread = connection.reader.unread_len();
        connection.session.make_room_for_message(unread);
        connection.handle_ready_lines(&self.settings, calls);
    }

    /// Answers HELO once the PTR look-up is back, then reads on.
    fn on_resolved(
        &mut self,
        calls: &mut HostCalls,
        query: QueryId,
        answer: Result<dns::Message, ResolveError>,
    ) {
        let waiting = |connection: &Connection| connection.session.awaits(query);
        let Some(connection) = self.connections.find_mut(waiting) else {
            return;
        };
        connection
            .session
            .on_helo_checked(&self.settings, calls, answer);
        connection.handle_ready_lines(&self.settings, calls);
    }

    /// Closes too when the client closes first.
    fn on_peer_finished(&mut self, calls: &mut HostCalls, conn: ConnId) {
        let Some(connection) = self.connections.get_mut(conn) else {
            return;
        };
        let session = &mut connection.session;
        if session.phase != Phase::Closing {
            session.phase = Phase::Closing;
            calls.close(conn);
            return;
        }
        self.connections.remove(conn);
    }
}

impl Connection {
    /// Handles buffered lines until one needs a look-up answered first.
    fn handle_ready_lines(&mut self, settings: &Settings, calls: &mut HostCalls) {
        while self.session.reads_lines() {
            let Some(line) = self.reader.next_line_text() else {
                return;
            };
            self.session.handle_line(settings, calls, &line);
        }
    }
}

impl Settings {
    /// Tells whether a mailbox of that local part exists; a lower-case
    /// copy is made only when there is a capital to fold.
    fn holds_mailbox(&self, local: &str) -> bool {
        let mailboxes = &self.config.mailboxes;
        if local.bytes().any(|b| b.is_ascii_uppercase()) {
            return mailboxes.contains(&local.to_ascii_lowercase());
        }
        mailboxes.contains(local)
    }
}

impl Session {
    /// Greets with 220, or with the imposed greeting.
    fn greet(&mut self, settings: &Settings, calls: &mut HostCalls) {
        if self.impose(settings, calls, ReplyPoint::Greeting) {
            return self.refuse_service();
        }
        self.reply(calls, 220, &settings.config.greeting);
    }

    /// Serves only QUIT after a 554 greeting.
    fn refuse_service(&mut self) {
        if self.phase != Phase::Closing {
            self.phase = Phase::Refusing;
        }
    }

    /// Sends the reply imposed at `point` in this session, if any, and
    /// closes after a 421; tells whether one was sent.
    fn impose(&mut self, settings: &Settings, calls: &mut HostCalls, point: ReplyPoint) -> bool {
        let number = self.number;
        let applies = |rule: &&ImposedReply| {
            rule.at == point && rule.sessions.is_none_or(|first| number <= first)
        };
        let Some(rule) = settings.config.replies.iter().find(applies) else {
            return false;
        };
        let text = rule
            .text
            .clone()
            .unwrap_or_else(|| default_text(rule.code, &settings.config.host_name));
        self.reply(calls, rule.code, &text);
        if rule.code == 421 {
            self.phase = Phase::Closing;
            calls.close(self.conn);
        }
        true
    }

    /// Tells whether the session waits for the answer to `query`.
    fn awaits(&self, query: QueryId) -> bool {
        matches!(self.phase, Phase::CheckingHelo { query: q, .. } if q == query)
    }

    /// Tells whether the session takes its next line now: not while its
    /// PTR look-up is out, nor once it is closing.
    fn reads_lines(&self) -> bool {
        !matches!(self.phase, Phase::CheckingHelo { .. } | Phase::Closing)
    }

    /// Handles one line: message text during DATA, else a command.
    fn handle_line(&mut self, settings: &Settings, calls: &mut HostCalls, line: &str) {
        match self.phase {
            Phase::Refusing => self.handle_line_refusing(settings, calls, line),
            Phase::ReceivingData => self.on_data_line(settings, calls, line),
            _ => self.handle_command(settings, calls, Command::parse(line)),
        }
    }

    /// Answers one command.
    fn handle_command(&mut self, settings: &Settings, calls: &mut HostCalls, command: Command) {
        match command {
            Command::Helo(name) | Command::Ehlo(name) => self.on_helo(settings, calls, &name),
            Command::Vrfy(argument) => self.on_vrfy(settings, calls, &argument),
            Command::Mail(path) => self.on_mail(settings, calls, path),
            Command::Rcpt(path) => self.on_rcpt(settings, calls, &path),
            Command::Data => self.on_data(settings, calls),
            Command::Rset => self.on_rset(calls),
            Command::Noop => self.reply(calls, 250, "OK"),
            Command::Quit => self.on_quit(settings, calls),
            Command::Unknown(_) => self.reply(calls, 500, "Command not recognized"),
        }
    }

    /// Answers QUIT, and every other command with 503 (RFC 5321 §3.1).
    fn handle_line_refusing(&mut self, settings: &Settings, calls: &mut HostCalls, line: &str) {
        match Command::parse(line) {
            Command::Quit => self.on_quit(settings, calls),
            _ => self.reply(calls, 503, "No service here; only QUIT"),
        }
    }

    /// Checks the HELO name by PTR, or accepts it at once.
    fn on_helo(&mut self, settings: &Settings, calls: &mut HostCalls, name: &str) {
        if self.impose(settings, calls, ReplyPoint::Helo) {
            return;
        }
        if !settings.config.check_helo {
            self.phase = Phase::Ready;
            return self.reply(calls, 250, settings.config.host_name.as_str());
        }
        let query = calls.resolve(Name::reverse_of(self.peer), RecordType::Ptr);
        let name = name.to_string();
        self.phase = Phase::CheckingHelo { query, name };
    }

    /// Answers HELO by the PTR look-up's answer.
    ///
    /// A name that does not match is noted in the reply but not refused:
    /// RFC 5321 §4.1.4 forbids refusing mail on that ground alone.
    fn on_helo_checked(
        &mut self,
        settings: &Settings,
        calls: &mut HostCalls,
        answer: Result<dns::Message, ResolveError>,
    ) {
        let Phase::CheckingHelo { name, .. } = &self.phase else {
            return;
        };
        let confirmed =
            answer.is_ok_and(|message| ptr_names(&message).contains(&name.to_ascii_lowercase()));
        let host_name = &settings.config.host_name;
        let text = helo_reply_text(host_name, name, self.peer, confirmed);
        self.phase = Phase::Ready;
        self.reply(calls, 250, &text);
    }

    /// Answers VRFY from the mailbox list: 250 known, 550 unknown.
    fn on_vrfy(&mut self, settings: &Settings, calls: &mut HostCalls, argument: &str) {
        if self.impose(settings, calls, ReplyPoint::Vrfy) {
            return;
        }
        let local = local_part_of(argument);
        if settings.holds_mailbox(local) {
            self.reply(calls, 250, "OK");
        } else {
            self.reply(calls, 550, &["Unknown user: ", argument].concat());
        }
    }

    /// Opens a transaction after HELO.
    fn on_mail(&mut self, settings: &Settings, calls: &mut HostCalls, path: Path) {
        if self.phase != Phase::Ready || self.sender.is_some() {
            return self.reply(calls, 503, "Bad sequence of commands");
        }
        if self.impose(settings, calls, ReplyPoint::Mail) {
            return;
        }
        self.sender = Some(path.address.into_owned());
        self.reply(calls, 250, "OK");
    }

    /// Accepts a recipient of this domain with a mailbox here.
    fn on_rcpt(&mut self, settings: &Settings, calls: &mut HostCalls, path: &Path) {
        if self.sender.is_none() {
            return self.reply(calls, 503, "Bad sequence of commands");
        }
        let Ok(address) = Address::parse(&path.address) else {
            return self.reply(calls, 501, "Syntax error in recipient address");
        };
        if address.domain != settings.config.domain.as_str() {
            return self.reply(calls, 550, "Relaying not permitted");
        }
        if self.impose(settings, calls, ReplyPoint::Rcpt) {
            return;
        }
        if self.transaction_is_full(settings) {
            return self.reply(calls, 452, "Too many recipients");
        }
        if !settings.holds_mailbox(&address.local) {
            let text = ["Unknown user: ", &address.local].concat();
            return self.reply(calls, 550, &text);
        }
        self.recipients.push(address);
        self.reply(calls, 250, "OK");
    }

    /// Invites the message once there is at least one recipient.
    fn on_data(&mut self, settings: &Settings, calls: &mut HostCalls) {
        if self.recipients.is_empty() {
            return self.reply(calls, 503, "Bad sequence of commands");
        }
        if self.impose(settings, calls, ReplyPoint::Data) {
            return;
        }
        self.phase = Phase::ReceivingData;
        self.reply(calls, 354, "Enter e-mail");
    }

    /// Makes room for `bytes` more octets of message while receiving
    /// one: a message mostly arrives in one segment, so its text then
    /// grows once instead of line by line.
    fn make_room_for_message(&mut self, bytes: usize) {
        if self.phase == Phase::ReceivingData {
            self.content.reserve(bytes);
        }
    }

    /// Collects one message line, or stores the mail at the lone dot.
    fn on_data_line(&mut self, settings: &Settings, calls: &mut HostCalls, line: &str) {
        if line == "." {
            return self.store_mail(settings, calls);
        }
        let unstuffed = line.strip_prefix('.').unwrap_or(line);
        self.content.push_str(unstuffed);
        self.content.push_str("\r\n");
    }

    /// Stores the mail in every recipient's mailbox and resets the
    /// transaction; an imposed reply refuses the mail instead.
    fn store_mail(&mut self, settings: &Settings, calls: &mut HostCalls) {
        self.phase = Phase::Ready;
        if self.impose(settings, calls, ReplyPoint::EndOfData) {
            return self.drop_transaction();
        }
        let from = self.sender.take().unwrap_or_default();
        let content = std::mem::take(&mut self.content);
        let mut recipients = std::mem::take(&mut self.recipients);
        if let Some(last) = recipients.pop() {
            for recipient in recipients {
                calls.record(stored(recipient, from.clone(), content.clone()));
            }
            calls.record(stored(last, from, content));
        }
        self.reply(calls, 250, "OK Mail accepted");
    }

    /// Forgets the sender, recipients and content of the transaction.
    fn drop_transaction(&mut self) {
        self.sender = None;
        self.recipients.clear();
        self.content.clear();
    }

    /// Tells whether the transaction already names `max_recipients`.
    fn transaction_is_full(&self, settings: &Settings) -> bool {
        let named = self.recipients.len();
        settings
            .config
            .max_recipients
            .is_some_and(|max| named >= max)
    }

    /// Drops the transaction in progress.
    fn on_rset(&mut self, calls: &mut HostCalls) {
        self.sender = None;
        self.recipients.clear();
        self.reply(calls, 250, "OK");
    }

    /// Answers 221 and closes the server's side (RFC 5321 §4.1.1.10).
    fn on_quit(&mut self, settings: &Settings, calls: &mut HostCalls) {
        self.phase = Phase::Closing;
        self.reply(calls, 221, &settings.closing_text);
        calls.close(self.conn);
    }

    /// Sends one reply line.
    fn reply(&self, calls: &mut HostCalls, code: u16, text: &str) {
        calls.send(self.conn, Reply::encode(code, text));
    }
}

/// Returns the outcome of storing a mail for one recipient: the mailbox
/// is its local part folded to lower case, in the address's own buffer.
fn stored(recipient: Address, from: String, content: String) -> Outcome {
    let mut mailbox = recipient.local;
    mailbox.make_ascii_lowercase();
    Outcome::Stored {
        mailbox,
        from,
        content,
    }
}

/// Returns what comes before the first `@` of a VRFY argument, all of
/// it when it has none; `@` is ASCII, so a byte search finds it.
fn local_part_of(argument: &str) -> &str {
    let at = argument.bytes().position(|b| b == b'@');
    at.map_or(argument, |at| &argument[..at])
}

/// Words an imposed reply that gives no text of its own.
fn default_text(code: u16, host_name: &Name) -> String {
    let text = match code {
        421 => return format!("{host_name} Service not available, closing the channel"),
        252 => "Cannot verify the user; send the mail and see",
        450 => "Mailbox busy, try again later",
        451 => "Local problem, try again later",
        452 => "Out of room, try again later",
        502 => "Command not implemented here",
        550 => "Mailbox unavailable",
        554 => "Transaction failed",
        400..=499 => "Try again later",
        _ => "Refused",
    };
    text.to_string()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::host_api::Request;
    use crate::wire::dns::{Message, Record, ResponseCode};

    const CONN: ConnId = ConnId(1);
    const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);

    fn config() -> ServerConfig {
        ServerConfig {
            host_name: Name::parse("mail.receiver.com").unwrap(),
            domain: Name::parse("receiver.com").unwrap(),
            mailboxes: ["c3po".to_string(), "r2d2".to_string()].into(),
            check_helo: true,
            greeting: "mail.receiver.com SMTP Ready".to_string(),
            replies: Vec::new(),
            max_recipients: None,
        }
    }

    /// Returns the lines the server sent, without CRLF, and its other requests.
    fn lines_sent(calls: &mut HostCalls) -> Vec<String> {
        let requests = calls.take_requests();
        requests
            .iter()
            .filter_map(|request| match request {
                Request::Send { data, .. } => Some(String::from_utf8(data.clone()).unwrap()),
                Request::Close { .. } => Some("<close>".to_string()),
                Request::Resolve { question, .. } => Some(format!(
                    "<resolve {} {}>",
                    question.record_type, question.name
                )),
                Request::Record(Outcome::Stored {
                    mailbox, content, ..
                }) => Some(format!("<stored {mailbox}: {content}>")),
                _ => None,
            })
            .map(|line| line.trim_end_matches("\r\n").to_string())
            .collect()
    }

    fn say(server: &mut Server, calls: &mut HostCalls, text: &str) -> Vec<String> {
        server.handle(calls, Notice::Received(CONN, text.as_bytes().to_vec()));
        lines_sent(calls)
    }

    fn ptr_answer(query: &Message, target: &str) -> Message {
        let mut answer = query.clone();
        answer.response = Some(ResponseCode::NoError);
        let data = RecordData::Ptr(Name::parse(target).unwrap());
        answer.answers = vec![Record {
            name: query.question.name.clone(),
            ttl: 60,
            data,
        }];
        answer
    }

    /// A server that greeted a client and is waiting for HELO.
    fn greeted() -> (Server, HostCalls) {
        let mut server = Server::new(config());
        let mut calls = HostCalls::default();
        server.handle(
            &mut calls,
            Notice::Accepted {
                conn: CONN,
                peer: CLIENT,
            },
        );
        calls.take_requests();
        (server, calls)
    }

    /// A server waiting for the answer to its PTR query, and that query.
    fn checking_helo() -> (Server, HostCalls, QueryId, Message) {
        let (mut server, mut calls) = greeted();
        server.handle(
            &mut calls,
            Notice::Received(CONN, b"HELO mail.sender.com\r\n".to_vec()),
        );
        let Some(Request::Resolve { query, question }) = calls.take_requests().pop() else {
            panic!("HELO starts a PTR look-up")
        };
        (server, calls, query, Message::query(1, question))
    }

    /// A server that accepted HELO and is ready for a transaction.
    fn ready() -> (Server, HostCalls) {
        let (mut server, mut calls, query, question) = checking_helo();
        let answer = ptr_answer(&question, "mail.sender.com");
        server.handle(&mut calls, Notice::Resolved(query, Ok(answer)));
        calls.take_requests();
        (server, calls)
    }

    #[test]
    fn accepted_connection_is_greeted_with_220() {
        let mut server = Server::new(config());
        let mut calls = HostCalls::default();
        server.handle(
            &mut calls,
            Notice::Accepted {
                conn: CONN,
                peer: CLIENT,
            },
        );
        assert_eq!(lines_sent(&mut calls), ["220 mail.receiver.com SMTP Ready"]);
    }

    #[test]
    fn helo_is_answered_only_after_the_ptr_look_up_of_the_client_address() {
        let (mut server, mut calls) = greeted();
        let sent = say(&mut server, &mut calls, "HELO mail.sender.com\r\n");
        assert_eq!(sent, ["<resolve PTR 10.2.0.192.in-addr.arpa>"]);
    }

    #[test]
    fn matching_ptr_name_accepts_helo_with_250() {
        let (mut server, mut calls, query, question) = checking_helo();
        let answer = ptr_answer(&question, "mail.sender.com");
        server.handle(&mut calls, Notice::Resolved(query, Ok(answer)));
        assert_eq!(lines_sent(&mut calls), ["250 mail.receiver.com"]);
    }

    #[test]
    fn mismatching_ptr_name_is_noted_but_not_refused() {
        let (mut server, mut calls, query, question) = checking_helo();
        let answer = ptr_answer(&question, "elsewhere.example");
        server.handle(&mut calls, Notice::Resolved(query, Ok(answer)));
        let sent = lines_sent(&mut calls);
        assert!(
            sent[0].starts_with("250 mail.receiver.com (could not confirm"),
            "{sent:?}"
        );
    }

    #[test]
    fn commands_sent_during_the_look_up_are_answered_after_it_in_order() {
        let (mut server, mut calls, query, question) = checking_helo();
        assert_eq!(
            say(&mut server, &mut calls, "VRFY c3po\r\nVRFY aibo\r\n"),
            Vec::<String>::new()
        );
        server.handle(
            &mut calls,
            Notice::Resolved(query, Ok(ptr_answer(&question, "mail.sender.com"))),
        );
        let sent = lines_sent(&mut calls);
        assert_eq!(
            sent,
            ["250 mail.receiver.com", "250 OK", "550 Unknown user: aibo"]
        );
    }

    #[test]
    fn vrfy_answers_250_for_a_mailbox_and_550_for_an_unknown_user() {
        let (mut server, mut calls) = ready();
        assert_eq!(say(&mut server, &mut calls, "VRFY r2d2\r\n"), ["250 OK"]);
        assert_eq!(
            say(&mut server, &mut calls, "VRFY aibo\r\n"),
            ["550 Unknown user: aibo"]
        );
    }

    #[test]
    fn mail_before_helo_is_a_bad_sequence() {
        let (mut server, mut calls) = greeted();
        let sent = say(&mut server, &mut calls, "MAIL FROM:<luke@sender.com>\r\n");
        assert_eq!(sent, ["503 Bad sequence of commands"]);
    }

    #[test]
    fn rcpt_for_an_unknown_user_or_another_domain_is_refused_with_550() {
        let (mut server, mut calls) = ready();
        say(&mut server, &mut calls, "MAIL FROM:<luke@sender.com>\r\n");
        assert_eq!(
            say(&mut server, &mut calls, "RCPT TO:<aibo@receiver.com>\r\n"),
            ["550 Unknown user: aibo"]
        );
        assert_eq!(
            say(&mut server, &mut calls, "RCPT TO:<c3po@elsewhere.com>\r\n"),
            ["550 Relaying not permitted"]
        );
    }

    #[test]
    fn recipient_domain_is_compared_without_case_or_trailing_dot() {
        let (mut server, mut calls) = ready();
        say(&mut server, &mut calls, "MAIL FROM:<luke@sender.com>\r\n");
        assert_eq!(
            say(&mut server, &mut calls, "RCPT TO:<C3PO@Receiver.COM.>\r\n"),
            ["250 OK"]
        );
        assert_eq!(
            say(&mut server, &mut calls, "RCPT TO:<AIBO@RECEIVER.com>\r\n"),
            ["550 Unknown user: AIBO"]
        );
    }

    #[test]
    fn data_without_recipients_is_a_bad_sequence() {
        let (mut server, mut calls) = ready();
        say(&mut server, &mut calls, "MAIL FROM:<luke@sender.com>\r\n");
        assert_eq!(
            say(&mut server, &mut calls, "DATA\r\n"),
            ["503 Bad sequence of commands"]
        );
    }

    #[test]
    fn message_is_stored_unstuffed_in_every_recipient_mailbox() {
        let (mut server, mut calls) = ready();
        say(
            &mut server,
            &mut calls,
            "MAIL FROM:<luke@sender.com>\r\nRCPT TO:<c3po@receiver.com>\r\n",
        );
        say(&mut server, &mut calls, "RCPT TO:<R2D2@receiver.com>\r\n");
        assert_eq!(
            say(&mut server, &mut calls, "DATA\r\n"),
            ["354 Enter e-mail"]
        );
        let sent = say(&mut server, &mut calls, "Hi\r\n..dot line\r\n.\r\n");
        let stored = "Hi\r\n.dot line\r\n";
        assert_eq!(
            sent,
            [
                format!("<stored c3po: {stored}>"),
                format!("<stored r2d2: {stored}>"),
                "250 OK Mail accepted".to_string()
            ]
        );
    }

    #[test]
    fn quit_is_answered_with_221_and_the_server_closes_first() {
        let (mut server, mut calls) = ready();
        let sent = say(&mut server, &mut calls, "QUIT\r\n");
        assert_eq!(
            sent,
            [
                "221 mail.receiver.com Service closing transmission channel",
                "<close>"
            ]
        );
    }

    #[test]
    fn unknown_command_gets_500() {
        let (mut server, mut calls) = ready();
        assert_eq!(
            say(&mut server, &mut calls, "HACK\r\n"),
            ["500 Command not recognized"]
        );
    }

    #[test]
    fn resolve_error_leaves_helo_unconfirmed_but_accepted() {
        let (mut server, mut calls, query, _) = checking_helo();
        let error = crate::protocol::host_api::ResolveError::NoResolver;
        server.handle(&mut calls, Notice::Resolved(query, Err(error)));
        assert!(lines_sent(&mut calls)[0].starts_with("250 "));
    }

    fn imposing(at: ReplyPoint, code: u16, sessions: Option<u32>) -> ServerConfig {
        ServerConfig {
            replies: vec![ImposedReply {
                at,
                code,
                text: None,
                sessions,
            }],
            check_helo: false,
            ..config()
        }
    }

    /// Opens session `conn` on a server and returns the lines it sent.
    fn accept(server: &mut Server, calls: &mut HostCalls, conn: ConnId) -> Vec<String> {
        let peer = CLIENT;
        server.handle(calls, Notice::Accepted { conn, peer });
        lines_sent(calls)
    }

    #[test]
    fn greeting_421_is_sent_and_the_server_closes_at_once() {
        let mut server = Server::new(imposing(ReplyPoint::Greeting, 421, None));
        let mut calls = HostCalls::default();
        assert_eq!(
            accept(&mut server, &mut calls, CONN),
            [
                "421 mail.receiver.com Service not available, closing the channel",
                "<close>"
            ]
        );
    }

    #[test]
    fn after_a_554_greeting_only_quit_is_served() {
        let mut server = Server::new(imposing(ReplyPoint::Greeting, 554, None));
        let mut calls = HostCalls::default();
        assert_eq!(
            accept(&mut server, &mut calls, CONN),
            ["554 Transaction failed"]
        );
        assert_eq!(
            say(&mut server, &mut calls, "HELO mail.sender.com\r\n"),
            ["503 No service here; only QUIT"]
        );
        let sent = say(&mut server, &mut calls, "QUIT\r\n");
        assert_eq!(
            sent[0],
            "221 mail.receiver.com Service closing transmission channel"
        );
    }

    #[test]
    fn vrfy_can_be_answered_252_or_502_whatever_the_mailboxes() {
        for (code, line) in [
            (252, "252 Cannot verify the user; send the mail and see"),
            (502, "502 Command not implemented here"),
        ] {
            let mut server = Server::new(imposing(ReplyPoint::Vrfy, code, None));
            let mut calls = HostCalls::default();
            accept(&mut server, &mut calls, CONN);
            say(&mut server, &mut calls, "HELO mail.sender.com\r\n");
            assert_eq!(say(&mut server, &mut calls, "VRFY c3po\r\n"), [line]);
        }
    }

    #[test]
    fn reply_imposed_for_the_first_session_only_lets_the_second_through() {
        let mut server = Server::new(imposing(ReplyPoint::Rcpt, 451, Some(1)));
        let mut calls = HostCalls::default();
        let transaction =
            "HELO a.example\r\nMAIL FROM:<luke@sender.com>\r\nRCPT TO:<c3po@receiver.com>\r\n";
        accept(&mut server, &mut calls, CONN);
        let first = say(&mut server, &mut calls, transaction);
        assert_eq!(first.last().unwrap(), "451 Local problem, try again later");
        let second_conn = ConnId(2);
        accept(&mut server, &mut calls, second_conn);
        server.handle(
            &mut calls,
            Notice::Received(second_conn, transaction.as_bytes().to_vec()),
        );
        assert_eq!(lines_sent(&mut calls).last().unwrap(), "250 OK");
    }

    #[test]
    fn recipient_past_max_recipients_gets_452() {
        let config = ServerConfig {
            max_recipients: Some(1),
            check_helo: false,
            ..config()
        };
        let mut server = Server::new(config);
        let mut calls = HostCalls::default();
        accept(&mut server, &mut calls, CONN);
        say(
            &mut server,
            &mut calls,
            "HELO a.example\r\nMAIL FROM:<luke@sender.com>\r\n",
        );
        assert_eq!(
            say(&mut server, &mut calls, "RCPT TO:<c3po@receiver.com>\r\n"),
            ["250 OK"]
        );
        assert_eq!(
            say(&mut server, &mut calls, "RCPT TO:<r2d2@receiver.com>\r\n"),
            ["452 Too many recipients"]
        );
    }

    #[test]
    fn end_of_data_554_refuses_the_mail_and_stores_nothing() {
        let mut server = Server::new(imposing(ReplyPoint::EndOfData, 554, None));
        let mut calls = HostCalls::default();
        accept(&mut server, &mut calls, CONN);
        say(
            &mut server,
            &mut calls,
            "HELO a.example\r\nMAIL FROM:<luke@sender.com>\r\nRCPT TO:<c3po@receiver.com>\r\nDATA\r\n",
        );
        assert_eq!(
            say(&mut server, &mut calls, "Hi\r\n.\r\n"),
            ["554 Transaction failed"]
        );
        say(&mut server, &mut calls, "MAIL FROM:<luke@sender.com>\r\n");
        assert_eq!(
            say(&mut server, &mut calls, "DATA\r\n"),
            ["503 Bad sequence of commands"],
            "the refused transaction is forgotten"
        );
    }
}
