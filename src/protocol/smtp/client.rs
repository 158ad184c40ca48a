//! The sending side of SMTP: look up the exchangers, connect, verify,
//! send the transaction, quit, wait for the server to close, and try
//! again later when the failure was temporary.
//!
//! Replies are judged by their first digit (RFC 5321 §4.2.1): 2 done,
//! 3 go on, 4 temporary, 5 permanent. A permanent failure concludes the
//! recipients it concerns as failed with the reply as the reason. A
//! temporary one keeps them for another attempt after `retry_after`, up
//! to `max_attempts` attempts (RFC 5321 §4.5.4.1); then they fail. The
//! exchangers are tried in preference order, ties in the order DNS listed
//! them, the next one when a connection cannot be made (RFC 5321 §5.1).
//! A domain without MX is its own exchanger; a null MX (RFC 7505) fails
//! at once. Recipients refused with 452 are named again in a new
//! transaction of the same session (RFC 5321 §4.5.3.1.10).
//!
//! Each recipient is concluded exactly once, delivered or failed, and the
//! conclusion is recorded in the trace. A connection lost after the
//! message was sent and before the server's reply fails its recipients
//! rather than risk a second copy. After QUIT the client waits for the
//! server's FIN before closing its own side (RFC 5321 §4.1.1.10).
//!
//! Every reply is awaited for a limited time, the client time-outs of
//! RFC 5321 §4.5.3.2: 5 minutes for the greeting, MAIL and RCPT, 2 for
//! the reply to DATA, 10 after the end of data. RFC 5321 names none for
//! HELO, VRFY and QUIT; they get 5 minutes, like the other commands that
//! a server answers without lengthy work. The message and its final dot
//! go in one write, so the 3-minute data block time-out has no gap to
//! cover. After QUIT the wait for the server's close is bounded by the
//! same 5 minutes. On expiry the time-out is marked on the lifeline, the
//! client closes its side (a FIN: RFC 5321 §4.5.3.2 asks the client to
//! stop the attempt, and TCP's retry limits bound the close) and stops
//! listening; the attempt ends as a temporary failure (§4.5.4.1). A
//! time-out waiting for the reply to the end of data fails the accepted
//! recipients instead, like a connection lost there: the server may have
//! taken the mail, and a retry could deliver it twice (§6.1).
//!
//! Not modelled: the server's own time-out, a give-up time instead of a count of attempts, a retry
//! delay that grows, sending to the exchangers of several domains at
//! once, picking at random among exchangers of equal preference.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;
use std::sync::Arc;

use crate::protocol::host_api::{
    ConnId, HostCalls, Notice, Outcome, QueryId, ResolveError, TimerId,
};
use crate::time::SimDuration;
use crate::trace::LifelineEventKind;
use crate::wire::dns::{self, Name, RecordData, RecordType, ResponseCode};
use crate::wire::smtp::{Address, Command, LineReader, Path, Reply, dot_stuff};

/// One mail to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// The envelope sender.
    pub from: Address,
    /// The envelope recipients, in the order given.
    pub recipients: Vec<Address>,
    /// Whether to ask VRFY for each recipient before the transaction.
    pub verify_first: bool,
    /// Headers, a blank line and the body, lines ended by CRLF.
    pub content: String,
}

/// How a client retries after temporary failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait between one attempt's end and the next attempt.
    pub retry_after: SimDuration,
    /// How many attempts a recipient gets in all, the first included.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// Thirty minutes, the shortest retry interval RFC 5321 §4.5.4.1
    /// recommends, and three attempts in all.
    fn default() -> RetryPolicy {
        RetryPolicy {
            retry_after: SimDuration::from_secs(30 * 60),
            max_attempts: 3,
        }
    }
}

/// How long the client waits for each reply (RFC 5321 §4.5.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyTimeouts {
    /// The wait for the 220 greeting (§4.5.3.2.1).
    pub greeting: SimDuration,
    /// The wait for replies to HELO, VRFY, MAIL, RCPT and QUIT, and for
    /// the server's close after QUIT (§4.5.3.2.2, §4.5.3.2.3).
    pub command: SimDuration,
    /// The wait for the 354 after DATA (§4.5.3.2.4).
    pub data_initiation: SimDuration,
    /// The wait for the reply to the end of data (§4.5.3.2.6).
    pub data_termination: SimDuration,
}

impl Default for ReplyTimeouts {
    /// The minimum values RFC 5321 §4.5.3.2 gives.
    fn default() -> ReplyTimeouts {
        ReplyTimeouts {
            greeting: SimDuration::from_secs(5 * 60),
            command: SimDuration::from_secs(5 * 60),
            data_initiation: SimDuration::from_secs(2 * 60),
            data_termination: SimDuration::from_secs(10 * 60),
        }
    }
}

impl ReplyTimeouts {
    /// Returns how long the client waits at `step`, if it waits at all.
    fn for_step(&self, step: Step) -> Option<SimDuration> {
        match step {
            Step::AwaitingGreeting => Some(self.greeting),
            Step::AwaitingData => Some(self.data_initiation),
            Step::AwaitingEndOfData => Some(self.data_termination),
            Step::AwaitingHelo
            | Step::AwaitingVrfy(_)
            | Step::AwaitingMailFrom
            | Step::AwaitingRcpt(_)
            | Step::AwaitingQuit
            | Step::AwaitingServerClose => Some(self.command),
            Step::LookingUpExchangers(_)
            | Step::LookingUpAddress(_)
            | Step::Connecting
            | Step::Closing => None,
        }
    }
}

/// A recipient as the client's lists hold it: its place in the mail's
/// recipient list, so that moving it from list to list copies no text.
/// A mail that names one address twice has both taken as the first
/// place, so that equal recipients are equal addresses, as when they
/// were compared by value.
type Recipient = usize;

/// One attempt to deliver a mail to some of its recipients at one domain.
///
/// The jobs share the client's mails, and say which one they deliver.
#[derive(Clone, Debug)]
struct Job {
    mails: Arc<[Mail]>,
    mail: usize,
    domain: Name,
    recipients: Vec<Recipient>,
    attempt: u32,
}

impl Job {
    /// Returns the mail the job delivers.
    fn mail(&self) -> &Mail {
        &self.mails[self.mail]
    }

    /// Returns the address of one of the mail's recipients.
    fn address(&self, recipient: Recipient) -> &Address {
        &self.mail().recipients[recipient]
    }

    /// Returns copies of the job's recipients.
    fn addresses(&self) -> Vec<Address> {
        let addresses = self.recipients.iter();
        addresses.map(|&r| self.address(r).clone()).collect()
    }
}

/// Where a session stands: what the client waits for next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    LookingUpExchangers(QueryId),
    LookingUpAddress(QueryId),
    Connecting,
    AwaitingGreeting,
    AwaitingHelo,
    AwaitingVrfy(usize),
    AwaitingMailFrom,
    AwaitingRcpt(usize),
    AwaitingData,
    AwaitingEndOfData,
    AwaitingQuit,
    AwaitingServerClose,
    Closing,
}

/// What a step waits for, as the time-out mark names it.
fn awaited(step: Step) -> &'static str {
    match step {
        Step::AwaitingGreeting => "greeting",
        Step::AwaitingHelo => "reply to HELO",
        Step::AwaitingVrfy(_) => "reply to VRFY",
        Step::AwaitingMailFrom => "reply to MAIL",
        Step::AwaitingRcpt(_) => "reply to RCPT",
        Step::AwaitingData => "reply to DATA",
        Step::AwaitingEndOfData => "reply to the end of data",
        Step::AwaitingQuit => "reply to QUIT",
        Step::AwaitingServerClose => "close from the server",
        _ => "reply",
    }
}

/// A session in progress: one attempt of one job.
#[derive(Debug)]
struct Session {
    job: Job,
    step: Step,
    exchangers: VecDeque<Name>,
    known_addresses: Vec<dns::Record>,
    conn: Option<ConnId>,
    reader: LineReader,
    pending: Vec<Recipient>,
    candidates: Vec<Recipient>,
    accepted: Vec<Recipient>,
    later: Vec<(Recipient, String)>,
    concluded: Vec<Recipient>,
    message_sent: bool,
    last_problem: String,
    reply_timer: Option<TimerId>,
}

impl Session {
    /// Returns the session's recipients not yet concluded.
    fn open_recipients(&self) -> Vec<Address> {
        let recipients = self.job.recipients.iter();
        let open = recipients.filter(|r| !self.concluded.contains(r));
        open.map(|&r| self.job.address(r).clone()).collect()
    }
}

/// An SMTP client sending its mails one session at a time.
#[derive(Debug)]
pub struct Client {
    host_name: Name,
    policy: RetryPolicy,
    timeouts: ReplyTimeouts,
    jobs: VecDeque<Job>,
    session: Option<Session>,
    waiting: BTreeMap<TimerId, Job>,
}

impl Client {
    /// Builds a client that names itself `host_name` in HELO; the copies
    /// of a population can share one list of mails.
    pub fn new(host_name: Name, mails: impl Into<Arc<[Mail]>>, policy: RetryPolicy) -> Client {
        let mails = mails.into();
        let mut jobs = VecDeque::new();
        for mail in 0..mails.len() {
            add_jobs_of(&mails, mail, &mut jobs);
        }
        Client {
            host_name,
            policy,
            timeouts: ReplyTimeouts::default(),
            jobs,
            session: None,
            waiting: BTreeMap::new(),
        }
    }

    /// Returns the recipients not yet concluded, in the order the client
    /// holds them: the current session's, those waiting for a retry, and
    /// those of jobs not started.
    pub fn open_recipients(&self) -> Vec<Address> {
        let in_session = self.session.iter().flat_map(Session::open_recipients);
        let waiting = self.waiting.values().flat_map(Job::addresses);
        let queued = self.jobs.iter().flat_map(Job::addresses);
        in_session.chain(waiting).chain(queued).collect()
    }

    /// Replaces the reply time-outs.
    pub fn with_timeouts(mut self, timeouts: ReplyTimeouts) -> Client {
        self.timeouts = timeouts;
        self
    }

    /// Tells whether the client has concluded every recipient and ended
    /// every session.
    pub fn is_done(&self) -> bool {
        self.session.is_none() && self.jobs.is_empty() && self.waiting.is_empty()
    }

    /// Reacts to one notice from the host.
    pub fn handle(&mut self, calls: &mut HostCalls, notice: Notice) {
        match notice {
            Notice::Start => self.start_next_job(calls),
            Notice::Resolved(query, answer) => self.on_resolved(calls, query, answer),
            Notice::Connected(conn) if self.owns(conn) => {
                self.await_step(calls, Step::AwaitingGreeting)
            }
            Notice::Received(conn, bytes) if self.owns(conn) => {
                self.on_received(calls, conn, &bytes)
            }
            Notice::PeerFinished(conn) if self.owns(conn) => self.on_peer_finished(calls, conn),
            Notice::Closed(conn) if self.owns(conn) => self.on_connection_end(calls, "closed"),
            Notice::Reset(conn) if self.owns(conn) => self.on_connection_end(calls, "reset"),
            Notice::Timer(timer) if self.is_reply_timer(timer) => self.on_reply_timeout(calls),
            Notice::Timer(timer) => self.on_retry_timer(calls, timer),
            _ => {}
        }
    }

    /// Tells whether `conn` is the current session's connection.
    fn owns(&self, conn: ConnId) -> bool {
        self.session.as_ref().is_some_and(|s| s.conn == Some(conn))
    }

    /// Starts the next job's MX look-up, if any job is left.
    fn start_next_job(&mut self, calls: &mut HostCalls) {
        if self.session.is_some() {
            return;
        }
        let Some(job) = self.jobs.pop_front() else {
            return;
        };
        let query = calls.resolve(job.domain.clone(), RecordType::Mx);
        self.session = Some(Session {
            pending: job.recipients.clone(),
            job,
            step: Step::LookingUpExchangers(query),
            exchangers: VecDeque::new(),
            known_addresses: Vec::new(),
            conn: None,
            reader: LineReader::default(),
            candidates: Vec::new(),
            accepted: Vec::new(),
            later: Vec::new(),
            concluded: Vec::new(),
            message_sent: false,
            last_problem: String::new(),
            reply_timer: None,
        });
    }

    /// Routes a look-up result to the step waiting for it.
    fn on_resolved(
        &mut self,
        calls: &mut HostCalls,
        query: QueryId,
        answer: Result<dns::Message, ResolveError>,
    ) {
        let Some(session) = self.session.as_ref() else {
            return;
        };
        match session.step {
            Step::LookingUpExchangers(waited) if waited == query => {
                self.on_mx_answer(calls, answer)
            }
            Step::LookingUpAddress(waited) if waited == query => self.on_a_answer(calls, answer),
            _ => {}
        }
    }

    /// Orders the exchangers and tries the first, or ends the attempt.
    ///
    /// NXDOMAIN and a null MX fail every recipient; no answer or a server
    /// failure is temporary; no MX record makes the domain its own
    /// exchanger (RFC 5321 §5.1).
    fn on_mx_answer(&mut self, calls: &mut HostCalls, answer: Result<dns::Message, ResolveError>) {
        let domain = self.session_domain();
        let answer = match answer {
            Ok(answer) => answer,
            Err(error) => {
                let reason = format!("MX look-up of {domain}: {error}");
                return self.end_attempt_temporarily(calls, &reason);
            }
        };
        match answer.response {
            Some(ResponseCode::NoError) => {}
            Some(ResponseCode::NxDomain) => {
                let reason = format!("MX look-up of {domain}: NXDOMAIN");
                return self.give_up_permanently(calls, &reason);
            }
            code => {
                let code = code.map_or("no response".to_string(), |c| c.to_string());
                let reason = format!("MX look-up of {domain}: {code}");
                return self.end_attempt_temporarily(calls, &reason);
            }
        }
        if has_null_mx(&answer) {
            let reason = format!("556 5.1.10 {domain} has a null MX and takes no mail (RFC 7505)");
            return self.give_up_permanently(calls, &reason);
        }
        let mut exchangers = exchangers_by_preference(&answer);
        if exchangers.is_empty() {
            exchangers.push(domain);
        }
        let session = self
            .session
            .as_mut()
            .expect("an answer belongs to a session");
        session.exchangers = exchangers.into();
        session.known_addresses = answer.additional;
        self.try_next_exchanger(calls);
    }

    /// Connects to the next exchanger, looking up its address first when
    /// the MX answer did not carry it; ends the attempt when none is left.
    fn try_next_exchanger(&mut self, calls: &mut HostCalls) {
        let session = self
            .session
            .as_mut()
            .expect("exchangers belong to a session");
        let Some(exchanger) = session.exchangers.pop_front() else {
            let reason = format!("no exchanger could be reached ({})", session.last_problem);
            return self.end_attempt_temporarily(calls, &reason);
        };
        match address_in(&session.known_addresses, &exchanger) {
            Some(address) => self.connect(calls, address),
            None => {
                let query = calls.resolve(exchanger, RecordType::A);
                self.set_step(Step::LookingUpAddress(query));
            }
        }
    }

    /// Connects to the exchanger's address, or tries the next exchanger.
    fn on_a_answer(&mut self, calls: &mut HostCalls, answer: Result<dns::Message, ResolveError>) {
        let problem = match &answer {
            Ok(message) => match first_address(message) {
                Some(address) => return self.connect(calls, address),
                None => format!("no address for {}", message.question.name),
            },
            Err(error) => format!("address look-up: {error}"),
        };
        self.note_problem(&problem);
        self.try_next_exchanger(calls);
    }

    /// Opens the connection to port 25.
    fn connect(&mut self, calls: &mut HostCalls, address: Ipv4Addr) {
        let conn = calls.connect(address, super::PORT);
        let session = self
            .session
            .as_mut()
            .expect("connecting belongs to a session");
        session.conn = Some(conn);
        session.reader = LineReader::default();
        session.step = Step::Connecting;
    }

    /// Feeds received bytes to the reply reader and handles the complete
    /// replies, one at a time, while the session on `conn` lasts; a line
    /// that is not a reply reads as a 500 carrying it.
    ///
    /// The reader is taken out of the session meanwhile, so that each
    /// reply can borrow its text from it; it goes back unless the session
    /// ended, taking its unread lines with it.
    fn on_received(&mut self, calls: &mut HostCalls, conn: ConnId, bytes: &[u8]) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        session.reader.push(bytes);
        let mut reader = std::mem::take(&mut session.reader);
        while let Some(line) = reader.next_line_text() {
            let reply = Reply::parse(&line).unwrap_or_else(|| Reply::new(500, line.as_ref()));
            self.on_reply(calls, &reply);
            if !self.owns(conn) {
                return;
            }
        }
        if let Some(session) = self.session.as_mut() {
            session.reader = reader;
        }
    }

    /// Moves the session on by one reply.
    fn on_reply(&mut self, calls: &mut HostCalls, reply: &Reply) {
        let Some(step) = self.session.as_ref().map(|s| s.step) else {
            return;
        };
        let closing = matches!(step, Step::AwaitingQuit | Step::AwaitingServerClose);
        if reply.code == 421 && !closing {
            return self.on_service_closing(calls, reply);
        }
        match step {
            Step::AwaitingGreeting => self.after_greeting(calls, reply),
            Step::AwaitingHelo => self.after_helo(calls, reply),
            Step::AwaitingVrfy(index) => self.after_vrfy(calls, index, reply),
            Step::AwaitingMailFrom => self.after_mail_from(calls, reply),
            Step::AwaitingRcpt(index) => self.after_rcpt(calls, index, reply),
            Step::AwaitingData => self.after_data(calls, reply),
            Step::AwaitingEndOfData => self.after_end_of_data(calls, reply),
            Step::AwaitingQuit => self.await_step(calls, Step::AwaitingServerClose),
            _ => {}
        }
    }

    /// Keeps every recipient not yet concluded for a later attempt after
    /// 421, and waits for the server to close (RFC 5321 §3.8).
    fn on_service_closing(&mut self, calls: &mut HostCalls, reply: &Reply) {
        let session = self.session.as_mut().expect("a reply belongs to a session");
        let mut open = std::mem::take(&mut session.pending);
        open.append(&mut session.accepted);
        defer_all(session, &open, &reply.to_text());
        session.message_sent = false;
        self.await_step(calls, Step::AwaitingServerClose);
    }

    /// Names itself with HELO after a 2xx greeting.
    fn after_greeting(&mut self, calls: &mut HostCalls, reply: &Reply) {
        if !reply.is_positive() {
            return self.refuse_all(calls, reply);
        }
        let helo = Command::Helo(Cow::Borrowed(self.host_name.as_str())).to_line();
        self.send_line(calls, helo, Step::AwaitingHelo);
    }

    /// Starts verifying, or goes straight to the transaction.
    fn after_helo(&mut self, calls: &mut HostCalls, reply: &Reply) {
        if !reply.is_positive() {
            return self.refuse_all(calls, reply);
        }
        let session = self.session.as_ref().expect("a reply belongs to a session");
        if session.job.mail().verify_first && !session.pending.is_empty() {
            return self.send_vrfy(calls, 0);
        }
        self.send_mail_from(calls);
    }

    /// Asks VRFY for the pending recipient at `index`.
    fn send_vrfy(&mut self, calls: &mut HostCalls, index: usize) {
        let session = self
            .session
            .as_ref()
            .expect("verifying belongs to a session");
        let local = &session.job.address(session.pending[index]).local;
        let vrfy = Command::Vrfy(Cow::Borrowed(local)).to_line();
        self.send_line(calls, vrfy, Step::AwaitingVrfy(index));
    }

    /// Drops a recipient the server says is unknown, then verifies the
    /// next, or goes to the transaction.
    ///
    /// 550, 551 and 553 say the user is unknown. 252 (cannot verify) and
    /// 502 (not implemented) say VRFY tells nothing here, so the others
    /// are not asked about either; RCPT TO decides for all of them. Any
    /// other reply leaves this recipient to RCPT TO.
    fn after_vrfy(&mut self, calls: &mut HostCalls, index: usize, reply: &Reply) {
        let mut next = index + 1;
        if matches!(reply.code, 550 | 551 | 553) {
            let session = self.session.as_mut().expect("a reply belongs to a session");
            let recipient = session.pending.remove(index);
            self.conclude(calls, recipient, false, &reply.to_text());
            next = index;
        }
        let session = self.session.as_ref().expect("a reply belongs to a session");
        let verifying_helps = !matches!(reply.code, 252 | 502);
        if verifying_helps && next < session.pending.len() {
            return self.send_vrfy(calls, next);
        }
        if session.pending.is_empty() {
            return self.send_quit(calls);
        }
        self.send_mail_from(calls);
    }

    /// Opens a transaction for the pending recipients.
    fn send_mail_from(&mut self, calls: &mut HostCalls) {
        let session = self
            .session
            .as_mut()
            .expect("a transaction belongs to a session");
        session.candidates = session.pending.clone();
        session.accepted.clear();
        let from = Path::of(&session.job.mail().from);
        self.send_line(calls, Command::Mail(from).to_line(), Step::AwaitingMailFrom);
    }

    /// Names the first recipient once the sender is accepted.
    fn after_mail_from(&mut self, calls: &mut HostCalls, reply: &Reply) {
        if !reply.is_positive() {
            return self.refuse_all(calls, reply);
        }
        self.send_rcpt(calls, 0);
    }

    /// Names the candidate recipient at `index`.
    fn send_rcpt(&mut self, calls: &mut HostCalls, index: usize) {
        let session = self
            .session
            .as_ref()
            .expect("a transaction belongs to a session");
        let to = Path::of(session.job.address(session.candidates[index]));
        self.send_line(
            calls,
            Command::Rcpt(to).to_line(),
            Step::AwaitingRcpt(index),
        );
    }

    /// Keeps, defers or fails a recipient, then names the next or sends
    /// DATA. After 452 the rest wait for the next transaction.
    fn after_rcpt(&mut self, calls: &mut HostCalls, index: usize, reply: &Reply) {
        let session = self.session.as_mut().expect("a reply belongs to a session");
        let recipient = session.candidates[index];
        if reply.code == 452 {
            return self.after_too_many_recipients(calls, reply);
        }
        session.pending.retain(|&r| r != recipient);
        match reply.code / 100 {
            2 => session.accepted.push(recipient),
            4 => session.later.push((recipient, reply.to_text())),
            _ => self.conclude(calls, recipient, false, &reply.to_text()),
        }
        let session = self.session.as_ref().expect("a reply belongs to a session");
        if index + 1 < session.candidates.len() {
            return self.send_rcpt(calls, index + 1);
        }
        self.send_data_or_quit(calls);
    }

    /// Sends the message to the recipients accepted so far and keeps the
    /// rest for the next transaction; with none accepted, the rest wait
    /// for a later attempt.
    fn after_too_many_recipients(&mut self, calls: &mut HostCalls, reply: &Reply) {
        let session = self.session.as_mut().expect("a reply belongs to a session");
        if session.accepted.is_empty() {
            let pending = std::mem::take(&mut session.pending);
            defer_all(session, &pending, &reply.to_text());
        }
        self.send_data_or_quit(calls);
    }

    /// Sends DATA when a recipient was accepted, else ends the session.
    fn send_data_or_quit(&mut self, calls: &mut HostCalls) {
        let session = self
            .session
            .as_ref()
            .expect("a transaction belongs to a session");
        if session.accepted.is_empty() {
            return self.send_quit(calls);
        }
        self.send_line(calls, Command::Data.to_line(), Step::AwaitingData);
    }

    /// Sends the message and then the end-of-data line after 354.
    ///
    /// The content ends in CRLF, so the lone `.` CRLF that follows it
    /// completes the `<CRLF>.<CRLF>` of RFC 5321 §4.1.1.4.
    fn after_data(&mut self, calls: &mut HostCalls, reply: &Reply) {
        if reply.code / 100 != 3 {
            return self.settle_accepted(calls, reply);
        }
        let session = self.session.as_mut().expect("a reply belongs to a session");
        let conn = session.conn.expect("DATA is sent on a connection");
        calls.send(conn, dot_stuff(&session.job.mail().content));
        calls.send(conn, ".\r\n");
        session.message_sent = true;
        self.await_step(calls, Step::AwaitingEndOfData);
    }

    /// Settles the accepted recipients by the reply to the final dot.
    fn after_end_of_data(&mut self, calls: &mut HostCalls, reply: &Reply) {
        let session = self.session.as_mut().expect("a reply belongs to a session");
        session.message_sent = false;
        self.settle_accepted(calls, reply);
    }

    /// Concludes or defers the accepted recipients by a reply, then starts
    /// the next transaction or quits.
    fn settle_accepted(&mut self, calls: &mut HostCalls, reply: &Reply) {
        let session = self.session.as_mut().expect("a reply belongs to a session");
        let accepted = std::mem::take(&mut session.accepted);
        match reply.code / 100 {
            4 => defer_all(session, &accepted, &reply.to_text()),
            digit => {
                let reason = reply.to_text();
                for &recipient in &accepted {
                    self.conclude(calls, recipient, digit == 2, &reason);
                }
            }
        }
        let session = self.session.as_ref().expect("a reply belongs to a session");
        if session.pending.is_empty() {
            return self.send_quit(calls);
        }
        self.send_mail_from(calls);
    }

    /// Fails (5xx) or defers (4xx) every pending recipient, then ends the
    /// session.
    fn refuse_all(&mut self, calls: &mut HostCalls, reply: &Reply) {
        let session = self.session.as_mut().expect("a reply belongs to a session");
        let pending = std::mem::take(&mut session.pending);
        let reason = reply.to_text();
        if reply.code / 100 == 4 {
            defer_all(session, &pending, &reason);
        } else {
            for &recipient in &pending {
                self.conclude(calls, recipient, false, &reason);
            }
        }
        self.send_quit(calls)
    }

    /// Ends the session politely.
    fn send_quit(&mut self, calls: &mut HostCalls) {
        self.send_line(calls, Command::Quit.to_line(), Step::AwaitingQuit);
    }

    /// Writes one command line, as [`Command::to_line`] gives it, and
    /// notes what to wait for.
    fn send_line(&mut self, calls: &mut HostCalls, line: Vec<u8>, next: Step) {
        let session = self.session.as_mut().expect("commands belong to a session");
        let conn = session.conn.expect("commands are sent on a connection");
        calls.send(conn, line);
        self.await_step(calls, next);
    }

    /// Notes what the session waits for next and arms the reply timer
    /// for it, disarming the one before.
    fn await_step(&mut self, calls: &mut HostCalls, step: Step) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        session.step = step;
        if let Some(timer) = session.reply_timer.take() {
            calls.cancel_timer(timer);
        }
        if let Some(wait) = self.timeouts.for_step(step) {
            session.reply_timer = Some(calls.set_timer(wait));
        }
    }

    /// Tells whether `timer` is the current session's reply timer.
    fn is_reply_timer(&self, timer: TimerId) -> bool {
        let session = self.session.as_ref();
        session.is_some_and(|s| s.reply_timer == Some(timer))
    }

    /// Gives up waiting: marks the time-out, closes the connection and
    /// ends the attempt as a temporary failure (RFC 5321 §4.5.4.1), or as
    /// a failure of the accepted recipients when the message went.
    fn on_reply_timeout(&mut self, calls: &mut HostCalls) {
        let session = self
            .session
            .as_mut()
            .expect("a reply timer belongs to a session");
        session.reply_timer = None;
        let wait = self.timeouts.for_step(session.step).unwrap_or_default();
        let problem = format!("no {} within {wait} (time-out)", awaited(session.step));
        calls.note(LifelineEventKind::TimerExpired, problem.clone());
        if let Some(conn) = session.conn {
            calls.close(conn);
        }
        self.note_problem(&problem);
        self.finish_session(calls);
    }

    /// Closes the client's side once the server has closed its own.
    fn on_peer_finished(&mut self, calls: &mut HostCalls, conn: ConnId) {
        self.note_problem("the server closed the connection");
        calls.close(conn);
        self.await_step(calls, Step::Closing);
    }

    /// Tries the next exchanger when the connection could not be made,
    /// else ends the session.
    fn on_connection_end(&mut self, calls: &mut HostCalls, how: &str) {
        let session = self
            .session
            .as_mut()
            .expect("owned connections have a session");
        if session.step == Step::Connecting {
            let problem = format!("connection {how} before the greeting");
            self.note_problem(&problem);
            return self.try_next_exchanger(calls);
        }
        self.note_problem(&["connection ", how].concat());
        self.finish_session(calls);
    }

    /// Ends the attempt without a session: every pending recipient waits
    /// for the next attempt.
    fn end_attempt_temporarily(&mut self, calls: &mut HostCalls, reason: &str) {
        self.note_problem(reason);
        self.finish_session(calls);
    }

    /// Fails every pending recipient and ends the attempt.
    fn give_up_permanently(&mut self, calls: &mut HostCalls, reason: &str) {
        let session = self.session.as_mut().expect("a session is in progress");
        for recipient in std::mem::take(&mut session.pending) {
            self.conclude(calls, recipient, false, reason);
        }
        self.finish_session(calls);
    }

    /// Ends the session: a message sent without reply fails its
    /// recipients, the others wait for another attempt; then the next
    /// job starts.
    fn finish_session(&mut self, calls: &mut HostCalls) {
        let mut session = self.session.take().expect("a session is in progress");
        if let Some(timer) = session.reply_timer.take() {
            calls.cancel_timer(timer);
        }
        if session.message_sent {
            let unknown = format!(
                "{}: the message was sent but its reply never came",
                session.last_problem
            );
            for recipient in std::mem::take(&mut session.accepted) {
                conclude_in(calls, &mut session, recipient, false, &unknown);
            }
        }
        let mut left = std::mem::take(&mut session.pending);
        left.append(&mut session.accepted);
        let problem = std::mem::take(&mut session.last_problem);
        defer_all(&mut session, &left, &problem);
        self.schedule_retry(calls, &mut session);
        self.start_next_job(calls);
    }

    /// Sets the retry timer for the recipients that failed temporarily,
    /// or fails them when their attempts are used up.
    fn schedule_retry(&mut self, calls: &mut HostCalls, session: &mut Session) {
        let later = std::mem::take(&mut session.later);
        if later.is_empty() {
            return;
        }
        let attempt = session.job.attempt;
        if attempt >= self.policy.max_attempts {
            let label = format!(
                "giving up on {} after {attempt} attempts",
                session.job.domain
            );
            calls.note(LifelineEventKind::GaveUp, label);
            for (recipient, reason) in &later {
                let reason = format!("{reason} (gave up after {attempt} attempts)");
                conclude_in(calls, session, *recipient, false, &reason);
            }
            return;
        }
        let retry = Job {
            recipients: later.into_iter().map(|(r, _)| r).collect(),
            attempt: attempt + 1,
            ..session.job.clone()
        };
        let timer = calls.set_timer(self.policy.retry_after);
        self.waiting.insert(timer, retry);
    }

    /// Starts a waiting job when its retry delay has passed.
    fn on_retry_timer(&mut self, calls: &mut HostCalls, timer: TimerId) {
        let Some(job) = self.waiting.remove(&timer) else {
            return;
        };
        let label = format!(
            "retry delay expired ({}): mail to {}, attempt {} of {}",
            self.policy.retry_after, job.domain, job.attempt, self.policy.max_attempts
        );
        calls.note(LifelineEventKind::TimerExpired, label);
        self.jobs.push_back(job);
        self.start_next_job(calls);
    }

    /// Records the fate of one recipient, once.
    fn conclude(
        &mut self,
        calls: &mut HostCalls,
        recipient: Recipient,
        delivered: bool,
        reason: &str,
    ) {
        if let Some(session) = self.session.as_mut() {
            conclude_in(calls, session, recipient, delivered, reason);
        }
    }

    /// Remembers the latest thing that went wrong, for the reasons given
    /// when an attempt ends without a reply to quote.
    fn note_problem(&mut self, problem: &str) {
        if let Some(session) = self.session.as_mut() {
            session.last_problem.clear();
            session.last_problem.push_str(problem);
        }
    }

    /// Returns the current session's domain.
    fn session_domain(&self) -> Name {
        let session = self.session.as_ref().expect("a session is in progress");
        session.job.domain.clone()
    }

    /// Notes what the session waits for next.
    fn set_step(&mut self, step: Step) {
        if let Some(session) = self.session.as_mut() {
            session.step = step;
        }
    }
}

/// Keeps recipients for a later attempt, with the reason.
fn defer_all(session: &mut Session, recipients: &[Recipient], reason: &str) {
    for &recipient in recipients {
        let deferred = session.later.iter().any(|&(r, _)| r == recipient);
        if !deferred && !session.concluded.contains(&recipient) {
            session.later.push((recipient, reason.to_string()));
        }
    }
}

/// Records the fate of one recipient of `session`, once.
fn conclude_in(
    calls: &mut HostCalls,
    session: &mut Session,
    recipient: Recipient,
    delivered: bool,
    reason: &str,
) {
    if session.concluded.contains(&recipient) {
        return;
    }
    session.concluded.push(recipient);
    calls.record(Outcome::Concluded {
        recipient: session.job.address(recipient).to_text(),
        delivered,
        reason: reason.to_string(),
    });
}

/// Splits mail number `mail` into one job per recipient domain, in
/// first-seen order, added at the end of `jobs`.
///
/// A job gets room for every recipient from its first on, as a mail
/// mostly goes to one domain.
fn add_jobs_of(mails: &Arc<[Mail]>, mail: usize, jobs: &mut VecDeque<Job>) {
    let addresses = &mails[mail].recipients;
    let first_job = jobs.len();
    for (place, address) in addresses.iter().enumerate() {
        let recipient = first_place_of(addresses, place);
        match jobs
            .range_mut(first_job..)
            .find(|job| is_domain_of(&job.domain, address))
        {
            Some(job) => job.recipients.push(recipient),
            None => {
                let mut recipients = Vec::with_capacity(addresses.len() - place);
                recipients.push(recipient);
                jobs.push_back(Job {
                    mails: Arc::clone(mails),
                    mail,
                    domain: Name::parse(&address.domain).expect("addresses hold valid domains"),
                    recipients,
                    attempt: 1,
                });
            }
        }
    }
}

/// Returns the first place in `addresses` that holds the address at
/// `place`: the recipient that stands for it.
///
/// Quadratic in the recipients of a mail, which name few.
fn first_place_of(addresses: &[Address], place: usize) -> Recipient {
    let mut earlier = addresses[..place].iter();
    earlier
        .position(|address| *address == addresses[place])
        .unwrap_or(place)
}

/// Tells whether `domain` is the recipient's domain; the text is compared
/// first, as addresses hold their domain as a name writes it.
fn is_domain_of(domain: &Name, recipient: &Address) -> bool {
    if domain.as_str() == recipient.domain {
        return true;
    }
    Name::parse(&recipient.domain).is_ok_and(|name| name == *domain)
}

/// Tells whether an MX answer says the domain takes no mail: an MX whose
/// exchange is the root, `.` (RFC 7505 §3).
fn has_null_mx(answer: &dns::Message) -> bool {
    answer
        .answers
        .iter()
        .any(|record| matches!(&record.data, RecordData::Mx { exchange, .. } if exchange.is_root()))
}

/// Returns the exchangers, lowest preference first, ties in answer order.
fn exchangers_by_preference(answer: &dns::Message) -> Vec<Name> {
    let mut exchangers: Vec<(u16, Name)> = answer
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RecordData::Mx {
                preference,
                exchange,
            } => Some((*preference, exchange.clone())),
            _ => None,
        })
        .collect();
    exchangers.sort_by_key(|(preference, _)| *preference);
    exchangers.into_iter().map(|(_, name)| name).collect()
}

/// Finds the A record of `name` among `records`.
fn address_in(records: &[dns::Record], name: &Name) -> Option<Ipv4Addr> {
    records.iter().find_map(|record| match record.data {
        RecordData::A(address) if &record.name == name => Some(address),
        _ => None,
    })
}

/// Returns the first address an answer gives, after any CNAME.
fn first_address(answer: &dns::Message) -> Option<Ipv4Addr> {
    if answer.response != Some(ResponseCode::NoError) {
        return None;
    }
    answer.answers.iter().find_map(|record| match record.data {
        RecordData::A(address) => Some(address),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::host_api::Request;
    use crate::wire::dns::{Message, Question, Record};

    const EXCHANGER: Ipv4Addr = Ipv4Addr::new(66, 218, 71, 63);

    fn address(text: &str) -> Address {
        Address::parse(text).unwrap()
    }

    fn name(text: &str) -> Name {
        Name::parse(text).unwrap()
    }

    fn mail(verify_first: bool) -> Mail {
        Mail {
            from: address("luke@sender.com"),
            recipients: vec![address("aibo@receiver.com"), address("c3po@receiver.com")],
            verify_first,
            content: "Subject: Hi\r\n\r\n.hidden\r\n".to_string(),
        }
    }

    fn client(verify_first: bool) -> Client {
        Client::new(
            name("mail.sender.com"),
            vec![mail(verify_first)],
            RetryPolicy::default(),
        )
    }

    /// Writes each request as a short line, SMTP lines without CRLF,
    /// leaving out the arming and disarming of reply timers (the tests
    /// of time-outs use [`all_requests`]).
    fn requests(calls: &mut HostCalls) -> Vec<String> {
        let waits = [2 * 60, 5 * 60, 10 * 60].map(SimDuration::from_secs);
        let is_reply_timer = |request: &Request| match request {
            Request::SetTimer { after, .. } => waits.contains(after),
            Request::CancelTimer { .. } => true,
            _ => false,
        };
        let mut kept = calls.take_requests();
        kept.retain(|request| !is_reply_timer(request));
        kept.iter().map(describe).collect()
    }

    /// Writes every request as a short line, SMTP lines without CRLF.
    fn all_requests(calls: &mut HostCalls) -> Vec<String> {
        calls.take_requests().iter().map(describe).collect()
    }

    /// Writes one request as a short line.
    fn describe(request: &Request) -> String {
        let describe = |request: &Request| match request {
            Request::Connect { address, port, .. } => format!("<connect {address}:{port}>"),
            Request::Send { data, .. } => String::from_utf8(data.clone()).unwrap(),
            Request::Close { .. } => "<close>".to_string(),
            Request::Resolve { question, .. } => {
                format!("<resolve {} {}>", question.record_type, question.name)
            }
            Request::Record(Outcome::Concluded {
                recipient,
                delivered,
                reason,
            }) => {
                format!(
                    "<{recipient} {} {reason}>",
                    if *delivered { "delivered" } else { "failed" }
                )
            }
            Request::Record(other) => format!("{other:?}"),
            Request::Note(note) => format!("<note {}>", note.label),
            Request::SetTimer { after, .. } => format!("<timer {after}>"),
            Request::CancelTimer { .. } => "<cancel timer>".to_string(),
        };
        describe(request)
    }

    fn response(question: Question, answers: Vec<Record>, additional: Vec<Record>) -> Message {
        let mut message = Message::query(1, question);
        message.response = Some(ResponseCode::NoError);
        message.answers = answers;
        message.additional = additional;
        message
    }

    fn mx_record() -> Record {
        let data = RecordData::Mx {
            preference: 10,
            exchange: name("mail.receiver.com"),
        };
        Record {
            name: name("receiver.com"),
            ttl: 60,
            data,
        }
    }

    fn a_record(owner: &str) -> Record {
        Record {
            name: name(owner),
            ttl: 60,
            data: RecordData::A(EXCHANGER),
        }
    }

    fn mx_question() -> Question {
        Question {
            name: name("receiver.com"),
            record_type: RecordType::Mx,
        }
    }

    /// A client whose MX look-up is out, and the look-up's id.
    fn looking_up_mx(verify_first: bool) -> (Client, HostCalls, QueryId) {
        let mut client = client(verify_first);
        let mut calls = HostCalls::default();
        client.handle(&mut calls, Notice::Start);
        let Some(Request::Resolve { query, .. }) = calls.take_requests().pop() else {
            panic!("the client starts with a look-up")
        };
        (client, calls, query)
    }

    /// A client connected and greeted, whose HELO was just accepted.
    fn after_helo(verify_first: bool) -> (Client, HostCalls) {
        let (mut client, mut calls, query) = looking_up_mx(verify_first);
        let answer = response(
            mx_question(),
            vec![mx_record()],
            vec![a_record("mail.receiver.com")],
        );
        client.handle(&mut calls, Notice::Resolved(query, Ok(answer)));
        client.handle(&mut calls, Notice::Connected(ConnId(1)));
        reply(&mut client, &mut calls, "220 mail.receiver.com SMTP Ready");
        reply(&mut client, &mut calls, "250 mail.receiver.com");
        (client, calls)
    }

    fn reply(client: &mut Client, calls: &mut HostCalls, line: &str) {
        calls.take_requests();
        client.handle(
            calls,
            Notice::Received(ConnId(1), format!("{line}\r\n").into_bytes()),
        );
    }

    #[test]
    fn client_starts_by_asking_for_the_recipient_domain_mx() {
        let mut client = client(true);
        let mut calls = HostCalls::default();
        client.handle(&mut calls, Notice::Start);
        assert_eq!(requests(&mut calls), ["<resolve MX receiver.com>"]);
    }

    #[test]
    fn exchanger_address_from_the_additional_section_is_used_at_once() {
        let (mut client, mut calls, query) = looking_up_mx(true);
        let answer = response(
            mx_question(),
            vec![mx_record()],
            vec![a_record("mail.receiver.com")],
        );
        client.handle(&mut calls, Notice::Resolved(query, Ok(answer)));
        assert_eq!(requests(&mut calls), ["<connect 66.218.71.63:25>"]);
    }

    #[test]
    fn exchanger_address_is_looked_up_when_not_given() {
        let (mut client, mut calls, query) = looking_up_mx(true);
        client.handle(
            &mut calls,
            Notice::Resolved(
                query,
                Ok(response(mx_question(), vec![mx_record()], vec![])),
            ),
        );
        assert_eq!(requests(&mut calls), ["<resolve A mail.receiver.com>"]);
    }

    #[test]
    fn domain_without_mx_is_its_own_exchanger() {
        let (mut client, mut calls, query) = looking_up_mx(true);
        client.handle(
            &mut calls,
            Notice::Resolved(query, Ok(response(mx_question(), vec![], vec![]))),
        );
        assert_eq!(requests(&mut calls), ["<resolve A receiver.com>"]);
    }

    #[test]
    fn nxdomain_fails_every_recipient_without_connecting() {
        let (mut client, mut calls, query) = looking_up_mx(true);
        let mut answer = response(mx_question(), vec![], vec![]);
        answer.response = Some(ResponseCode::NxDomain);
        client.handle(&mut calls, Notice::Resolved(query, Ok(answer)));
        let reason = "MX look-up of receiver.com: NXDOMAIN";
        assert_eq!(
            requests(&mut calls),
            [
                format!("<aibo@receiver.com failed {reason}>"),
                format!("<c3po@receiver.com failed {reason}>")
            ]
        );
    }

    #[test]
    fn greeting_is_answered_with_helo_and_the_client_host_name() {
        let (mut client, mut calls, query) = looking_up_mx(true);
        let answer = response(
            mx_question(),
            vec![mx_record()],
            vec![a_record("mail.receiver.com")],
        );
        client.handle(&mut calls, Notice::Resolved(query, Ok(answer)));
        client.handle(&mut calls, Notice::Connected(ConnId(1)));
        reply(&mut client, &mut calls, "220 mail.receiver.com SMTP Ready");
        assert_eq!(requests(&mut calls), ["HELO mail.sender.com\r\n"]);
    }

    #[test]
    fn unknown_user_is_left_out_of_the_envelope() {
        let (mut client, mut calls) = after_helo(true);
        reply(&mut client, &mut calls, "550 Unknown user: aibo");
        assert_eq!(
            requests(&mut calls),
            [
                "<aibo@receiver.com failed 550 Unknown user: aibo>",
                "VRFY c3po\r\n"
            ]
        );
        reply(&mut client, &mut calls, "250 OK");
        assert_eq!(requests(&mut calls), ["MAIL FROM:<luke@sender.com>\r\n"]);
        reply(&mut client, &mut calls, "250 OK");
        assert_eq!(requests(&mut calls), ["RCPT TO:<c3po@receiver.com>\r\n"]);
        reply(&mut client, &mut calls, "250 OK");
        assert_eq!(requests(&mut calls), ["DATA\r\n"]);
    }

    #[test]
    fn without_verification_every_recipient_gets_rcpt() {
        let (mut client, mut calls) = after_helo(false);
        assert_eq!(requests(&mut calls), ["MAIL FROM:<luke@sender.com>\r\n"]);
        reply(&mut client, &mut calls, "250 OK");
        reply(&mut client, &mut calls, "550 Unknown user: aibo");
        let sent = requests(&mut calls);
        assert_eq!(
            sent,
            [
                "<aibo@receiver.com failed 550 Unknown user: aibo>",
                "RCPT TO:<c3po@receiver.com>\r\n"
            ]
        );
    }

    #[test]
    fn message_is_dot_stuffed_and_ended_by_a_lone_dot_line() {
        let (mut client, mut calls) = after_helo(false);
        for line in ["250 OK", "250 OK", "250 OK"] {
            reply(&mut client, &mut calls, line);
        }
        reply(&mut client, &mut calls, "354 Enter e-mail");
        assert_eq!(
            requests(&mut calls),
            ["Subject: Hi\r\n\r\n..hidden\r\n", ".\r\n"]
        );
    }

    #[test]
    fn final_reply_concludes_recipients_then_client_quits_and_waits_for_the_server_to_close() {
        let (mut client, mut calls) = after_helo(false);
        for line in ["250 OK", "250 OK", "250 OK", "354 Enter e-mail"] {
            reply(&mut client, &mut calls, line);
        }
        reply(&mut client, &mut calls, "250 OK Mail accepted");
        let concluded = requests(&mut calls);
        assert_eq!(
            concluded,
            [
                "<aibo@receiver.com delivered 250 OK Mail accepted>",
                "<c3po@receiver.com delivered 250 OK Mail accepted>",
                "QUIT\r\n"
            ]
        );
        reply(
            &mut client,
            &mut calls,
            "221 mail.receiver.com Service closing transmission channel",
        );
        assert_eq!(
            requests(&mut calls),
            Vec::<String>::new(),
            "the client does not close first"
        );
        client.handle(&mut calls, Notice::PeerFinished(ConnId(1)));
        assert_eq!(requests(&mut calls), ["<close>"]);
    }

    #[test]
    fn refused_greeting_fails_every_recipient_and_quits() {
        let (mut client, mut calls, query) = looking_up_mx(true);
        let answer = response(
            mx_question(),
            vec![mx_record()],
            vec![a_record("mail.receiver.com")],
        );
        client.handle(&mut calls, Notice::Resolved(query, Ok(answer)));
        client.handle(&mut calls, Notice::Connected(ConnId(1)));
        reply(&mut client, &mut calls, "554 No service");
        let sent = requests(&mut calls);
        assert_eq!(
            sent,
            [
                "<aibo@receiver.com failed 554 No service>",
                "<c3po@receiver.com failed 554 No service>",
                "QUIT\r\n"
            ]
        );
    }

    #[test]
    fn reset_before_the_message_keeps_the_recipients_for_a_retry_after_thirty_minutes() {
        let (mut client, mut calls) = after_helo(true);
        reply(&mut client, &mut calls, "550 Unknown user: aibo");
        calls.take_requests();
        client.handle(&mut calls, Notice::Reset(ConnId(1)));
        assert_eq!(requests(&mut calls), ["<timer 1800s>"]);
        assert!(!client.is_done());
    }

    /// A client whose MX look-up is out, with a retry policy and recipients.
    fn looking_up_mx_with(
        policy: RetryPolicy,
        recipients: &[&str],
    ) -> (Client, HostCalls, QueryId) {
        let mail = Mail {
            recipients: recipients.iter().map(|r| address(r)).collect(),
            ..mail(false)
        };
        let mut client = Client::new(name("mail.sender.com"), vec![mail], policy);
        let mut calls = HostCalls::default();
        client.handle(&mut calls, Notice::Start);
        let Some(Request::Resolve { query, .. }) = calls.take_requests().pop() else {
            panic!("the client starts with a look-up")
        };
        (client, calls, query)
    }

    /// A client greeted and past HELO, sending to `recipients` without VRFY.
    fn in_session(policy: RetryPolicy, recipients: &[&str]) -> (Client, HostCalls) {
        let (mut client, mut calls, query) = looking_up_mx_with(policy, recipients);
        let answer = response(
            mx_question(),
            vec![mx_record()],
            vec![a_record("mail.receiver.com")],
        );
        client.handle(&mut calls, Notice::Resolved(query, Ok(answer)));
        client.handle(&mut calls, Notice::Connected(ConnId(1)));
        reply(&mut client, &mut calls, "220 mail.receiver.com SMTP Ready");
        reply(&mut client, &mut calls, "250 mail.receiver.com");
        (client, calls)
    }

    fn quick_retries(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            retry_after: SimDuration::from_secs(60),
            max_attempts,
        }
    }

    fn mx(preference: u16, exchange: &str) -> Record {
        let data = RecordData::Mx {
            preference,
            exchange: if exchange == "." {
                Name::root()
            } else {
                name(exchange)
            },
        };
        Record {
            name: name("receiver.com"),
            ttl: 60,
            data,
        }
    }

    fn a_at(owner: &str, address: [u8; 4]) -> Record {
        Record {
            name: name(owner),
            ttl: 60,
            data: RecordData::A(Ipv4Addr::from(address)),
        }
    }

    /// Plays a server closing after its last reply: its FIN, then CLOSED.
    fn server_closes(client: &mut Client, calls: &mut HostCalls) {
        client.handle(calls, Notice::PeerFinished(ConnId(1)));
        client.handle(calls, Notice::Closed(ConnId(1)));
    }

    #[test]
    fn greeting_421_is_not_answered_with_quit_and_the_mail_is_retried_later() {
        let (mut client, mut calls, query) =
            looking_up_mx_with(quick_retries(3), &["c3po@receiver.com"]);
        let answer = response(
            mx_question(),
            vec![mx_record()],
            vec![a_record("mail.receiver.com")],
        );
        client.handle(&mut calls, Notice::Resolved(query, Ok(answer)));
        client.handle(&mut calls, Notice::Connected(ConnId(1)));
        reply(
            &mut client,
            &mut calls,
            "421 mail.receiver.com Service not available",
        );
        assert_eq!(requests(&mut calls), Vec::<String>::new());
        server_closes(&mut client, &mut calls);
        assert_eq!(requests(&mut calls), ["<close>", "<timer 60s>"]);
    }

    #[test]
    fn retry_timer_marks_the_lifeline_and_starts_again_with_the_mx_look_up() {
        let (mut client, mut calls) = in_session(quick_retries(3), &["c3po@receiver.com"]);
        reply(&mut client, &mut calls, "451 Try again later");
        assert_eq!(requests(&mut calls), ["QUIT\r\n"]);
        reply(&mut client, &mut calls, "221 Bye");
        server_closes(&mut client, &mut calls);
        let Some(Request::SetTimer { timer, .. }) = calls.take_requests().pop() else {
            panic!("a temporary failure sets the retry timer")
        };
        client.handle(&mut calls, Notice::Timer(timer));
        assert_eq!(
            requests(&mut calls),
            [
                "<note retry delay expired (60s): mail to receiver.com, attempt 2 of 3>",
                "<resolve MX receiver.com>"
            ]
        );
    }

    #[test]
    fn temporary_failure_on_the_last_attempt_fails_the_recipient() {
        let (mut client, mut calls) = in_session(quick_retries(1), &["c3po@receiver.com"]);
        reply(&mut client, &mut calls, "250 OK");
        reply(&mut client, &mut calls, "450 Mailbox busy");
        assert_eq!(requests(&mut calls), ["QUIT\r\n"]);
        reply(&mut client, &mut calls, "221 Bye");
        server_closes(&mut client, &mut calls);
        assert_eq!(
            requests(&mut calls),
            [
                "<close>",
                "<note giving up on receiver.com after 1 attempts>",
                "<c3po@receiver.com failed 450 Mailbox busy (gave up after 1 attempts)>"
            ]
        );
        assert!(client.is_done());
    }

    #[test]
    fn vrfy_answered_252_or_502_sends_the_client_straight_to_rcpt() {
        for code in ["252 Cannot VRFY user", "502 Command not implemented"] {
            let (mut client, mut calls) = after_helo(true);
            reply(&mut client, &mut calls, code);
            assert_eq!(requests(&mut calls), ["MAIL FROM:<luke@sender.com>\r\n"]);
            reply(&mut client, &mut calls, "250 OK");
            assert_eq!(requests(&mut calls), ["RCPT TO:<aibo@receiver.com>\r\n"]);
        }
    }

    #[test]
    fn recipients_refused_with_452_go_in_a_second_transaction() {
        let (mut client, mut calls) = in_session(
            quick_retries(3),
            &["c3po@receiver.com", "r2d2@receiver.com"],
        );
        for line in ["250 OK", "250 OK"] {
            reply(&mut client, &mut calls, line);
        }
        reply(&mut client, &mut calls, "452 Too many recipients");
        assert_eq!(requests(&mut calls), ["DATA\r\n"]);
        reply(&mut client, &mut calls, "354 Enter e-mail");
        reply(&mut client, &mut calls, "250 OK Mail accepted");
        assert_eq!(
            requests(&mut calls),
            [
                "<c3po@receiver.com delivered 250 OK Mail accepted>",
                "MAIL FROM:<luke@sender.com>\r\n"
            ]
        );
        reply(&mut client, &mut calls, "250 OK");
        assert_eq!(requests(&mut calls), ["RCPT TO:<r2d2@receiver.com>\r\n"]);
    }

    #[test]
    fn rcpt_refused_with_550_fails_that_recipient_only() {
        let (mut client, mut calls) = in_session(
            quick_retries(3),
            &["aibo@receiver.com", "c3po@receiver.com"],
        );
        reply(&mut client, &mut calls, "250 OK");
        reply(&mut client, &mut calls, "550 Unknown user: aibo");
        reply(&mut client, &mut calls, "251 User not local; will forward");
        reply(&mut client, &mut calls, "354 Enter e-mail");
        reply(&mut client, &mut calls, "250 OK Mail accepted");
        assert_eq!(
            requests(&mut calls),
            [
                "<c3po@receiver.com delivered 250 OK Mail accepted>",
                "QUIT\r\n"
            ]
        );
    }

    #[test]
    fn recipient_named_twice_is_concluded_once() {
        let twice = ["c3po@receiver.com", "c3po@receiver.com"];
        let (mut client, mut calls) = in_session(quick_retries(3), &twice);
        for line in ["250 OK", "250 OK", "250 OK", "354 Enter e-mail"] {
            reply(&mut client, &mut calls, line);
        }
        calls.take_requests();
        reply(&mut client, &mut calls, "250 OK Mail accepted");
        assert_eq!(
            requests(&mut calls),
            [
                "<c3po@receiver.com delivered 250 OK Mail accepted>",
                "QUIT\r\n"
            ]
        );
    }

    #[test]
    fn message_refused_with_554_at_the_end_of_data_fails_without_retry() {
        let (mut client, mut calls) = in_session(quick_retries(3), &["c3po@receiver.com"]);
        for line in ["250 OK", "250 OK", "354 Enter e-mail"] {
            reply(&mut client, &mut calls, line);
        }
        reply(&mut client, &mut calls, "554 Transaction failed");
        assert_eq!(
            requests(&mut calls),
            [
                "<c3po@receiver.com failed 554 Transaction failed>",
                "QUIT\r\n"
            ]
        );
        reply(&mut client, &mut calls, "221 Bye");
        server_closes(&mut client, &mut calls);
        assert_eq!(requests(&mut calls), ["<close>"]);
        assert!(client.is_done());
    }

    #[test]
    fn reset_after_the_message_went_fails_rather_than_risk_a_second_copy() {
        let (mut client, mut calls) = in_session(quick_retries(3), &["c3po@receiver.com"]);
        for line in ["250 OK", "250 OK", "354 Enter e-mail"] {
            reply(&mut client, &mut calls, line);
        }
        calls.take_requests();
        client.handle(&mut calls, Notice::Reset(ConnId(1)));
        assert_eq!(
            requests(&mut calls),
            [
                "<c3po@receiver.com failed connection reset: the message was sent but its reply never came>"
            ]
        );
        assert!(client.is_done());
    }

    #[test]
    fn null_mx_fails_at_once_without_a_connection() {
        let (mut client, mut calls, query) =
            looking_up_mx_with(quick_retries(3), &["c3po@receiver.com"]);
        let answer = response(mx_question(), vec![mx(0, ".")], vec![]);
        client.handle(&mut calls, Notice::Resolved(query, Ok(answer)));
        assert_eq!(
            requests(&mut calls),
            [
                "<c3po@receiver.com failed 556 5.1.10 receiver.com has a null MX and takes no mail (RFC 7505)>"
            ]
        );
        assert!(client.is_done());
    }

    #[test]
    fn exchangers_are_tried_by_preference_ties_in_answer_order_on_refused_connections() {
        let (mut client, mut calls, query) =
            looking_up_mx_with(quick_retries(3), &["c3po@receiver.com"]);
        let answers = vec![
            mx(20, "b.receiver.com"),
            mx(10, "a.receiver.com"),
            mx(10, "c.receiver.com"),
        ];
        let additional = vec![
            a_at("a.receiver.com", [192, 0, 2, 1]),
            a_at("c.receiver.com", [192, 0, 2, 3]),
        ];
        client.handle(
            &mut calls,
            Notice::Resolved(query, Ok(response(mx_question(), answers, additional))),
        );
        assert_eq!(requests(&mut calls), ["<connect 192.0.2.1:25>"]);
        client.handle(&mut calls, Notice::Reset(ConnId(1)));
        assert_eq!(requests(&mut calls), ["<connect 192.0.2.3:25>"]);
        client.handle(&mut calls, Notice::Reset(ConnId(2)));
        assert_eq!(requests(&mut calls), ["<resolve A b.receiver.com>"]);
    }

    #[test]
    fn mx_look_up_time_out_is_a_temporary_failure() {
        let (mut client, mut calls, query) =
            looking_up_mx_with(quick_retries(3), &["c3po@receiver.com"]);
        let error = ResolveError::TimedOut { sends: 3 };
        client.handle(&mut calls, Notice::Resolved(query, Err(error)));
        assert_eq!(requests(&mut calls), ["<timer 60s>"]);
    }

    #[test]
    fn reply_is_judged_by_its_first_digit() {
        let (mut client, mut calls) = in_session(quick_retries(3), &["c3po@receiver.com"]);
        reply(&mut client, &mut calls, "599 Some new permanent refusal");
        assert_eq!(
            requests(&mut calls),
            [
                "<c3po@receiver.com failed 599 Some new permanent refusal>",
                "QUIT\r\n"
            ]
        );
    }

    #[test]
    fn service_closing_421_in_the_middle_keeps_every_open_recipient_without_quit() {
        let recipients = ["c3po@receiver.com", "r2d2@receiver.com"];
        let (mut client, mut calls) = in_session(quick_retries(3), &recipients);
        reply(&mut client, &mut calls, "250 OK");
        reply(&mut client, &mut calls, "250 OK");
        reply(&mut client, &mut calls, "421 Shutting down");
        assert_eq!(
            requests(&mut calls),
            Vec::<String>::new(),
            "no RCPT, no QUIT"
        );
        server_closes(&mut client, &mut calls);
        assert_eq!(requests(&mut calls), ["<close>", "<timer 60s>"]);
    }

    /// Returns the id of the last timer set among `requests`.
    fn last_timer(requests: &[Request]) -> TimerId {
        let mut timers = requests.iter().filter_map(|request| match request {
            Request::SetTimer { timer, .. } => Some(*timer),
            _ => None,
        });
        timers.next_back().expect("a timer was set")
    }

    #[test]
    fn greeting_is_awaited_five_minutes_then_the_attempt_ends_as_temporary() {
        let (mut client, mut calls, query) =
            looking_up_mx_with(quick_retries(3), &["c3po@receiver.com"]);
        let answer = response(
            mx_question(),
            vec![mx_record()],
            vec![a_record("mail.receiver.com")],
        );
        client.handle(&mut calls, Notice::Resolved(query, Ok(answer)));
        calls.take_requests();
        client.handle(&mut calls, Notice::Connected(ConnId(1)));
        let armed = calls.take_requests();
        let expected_arm = Request::SetTimer {
            timer: last_timer(&armed),
            after: SimDuration::from_secs(300),
        };
        assert_eq!(armed, [expected_arm], "RFC 5321 §4.5.3.2.1: 5 minutes");
        client.handle(&mut calls, Notice::Timer(last_timer(&armed)));
        assert_eq!(
            all_requests(&mut calls),
            [
                "<note no greeting within 300s (time-out)>",
                "<close>",
                "<timer 60s>"
            ]
        );
        assert!(!client.is_done(), "the recipient waits for attempt 2");
        assert_eq!(client.open_recipients(), [address("c3po@receiver.com")]);
    }

    #[test]
    fn each_reply_disarms_its_timer_and_arms_the_next_one() {
        let (mut client, mut calls) = in_session(quick_retries(3), &["c3po@receiver.com"]);
        let mail_wait = last_timer(&calls.take_requests());
        reply(&mut client, &mut calls, "250 OK");
        let sent = calls.take_requests();
        let expected = [
            Request::Send {
                conn: ConnId(1),
                data: b"RCPT TO:<c3po@receiver.com>\r\n".to_vec(),
            },
            Request::CancelTimer { timer: mail_wait },
            Request::SetTimer {
                timer: last_timer(&sent),
                after: SimDuration::from_secs(300),
            },
        ];
        assert_eq!(
            sent, expected,
            "MAIL's wait ends, RCPT's (§4.5.3.2.3) begins"
        );
        client.handle(&mut calls, Notice::Timer(mail_wait));
        assert_eq!(
            all_requests(&mut calls),
            Vec::<String>::new(),
            "a disarmed timer does nothing"
        );
    }

    #[test]
    fn data_is_awaited_two_minutes_and_the_end_of_data_ten() {
        let (mut client, mut calls) = in_session(quick_retries(3), &["c3po@receiver.com"]);
        reply(&mut client, &mut calls, "250 OK");
        calls.take_requests();
        reply(&mut client, &mut calls, "250 OK");
        assert_eq!(
            all_requests(&mut calls),
            ["DATA\r\n", "<cancel timer>", "<timer 120s>"]
        );
        reply(&mut client, &mut calls, "354 Enter e-mail");
        let sent = all_requests(&mut calls);
        assert_eq!(sent[2..], ["<cancel timer>", "<timer 600s>"]);
    }

    #[test]
    fn time_out_after_the_end_of_data_fails_rather_than_risk_a_second_copy() {
        let (mut client, mut calls) = in_session(quick_retries(3), &["c3po@receiver.com"]);
        for line in ["250 OK", "250 OK", "354 Enter e-mail"] {
            reply(&mut client, &mut calls, line);
        }
        let end_of_data_wait = last_timer(&calls.take_requests());
        client.handle(&mut calls, Notice::Timer(end_of_data_wait));
        assert_eq!(
            all_requests(&mut calls),
            [
                "<note no reply to the end of data within 600s (time-out)>",
                "<close>",
                "<c3po@receiver.com failed no reply to the end of data within 600s (time-out): the message was sent but its reply never came>"
            ]
        );
        assert!(client.is_done(), "no retry: the server may hold the mail");
    }

    #[test]
    fn time_out_before_the_message_keeps_the_recipient_for_a_retry() {
        let (mut client, mut calls) = in_session(quick_retries(3), &["c3po@receiver.com"]);
        reply(&mut client, &mut calls, "250 OK");
        let rcpt_wait = last_timer(&calls.take_requests());
        client.handle(&mut calls, Notice::Timer(rcpt_wait));
        assert_eq!(
            all_requests(&mut calls),
            [
                "<note no reply to RCPT within 300s (time-out)>",
                "<close>",
                "<timer 60s>"
            ]
        );
    }

    #[test]
    fn server_that_never_closes_after_quit_is_left_after_five_minutes() {
        let (mut client, mut calls) = in_session(quick_retries(3), &["c3po@receiver.com"]);
        reply(&mut client, &mut calls, "550 No such user");
        reply(&mut client, &mut calls, "221 Bye");
        let close_wait = last_timer(&calls.take_requests());
        client.handle(&mut calls, Notice::Timer(close_wait));
        assert_eq!(
            all_requests(&mut calls),
            [
                "<note no close from the server within 300s (time-out)>",
                "<close>"
            ]
        );
        assert!(client.is_done());
    }
}
