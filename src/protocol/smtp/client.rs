//! The sending side of SMTP: look up the exchanger, connect, verify,
//! send the transaction, quit, and wait for the server to close.
//!
//! Each recipient is concluded exactly once, delivered or failed, and the
//! conclusion is recorded in the trace. After QUIT the client waits for
//! the server's FIN before closing its own side (RFC 5321 §4.1.1.10 has
//! the server close first).

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use crate::protocol::host_api::{ConnId, HostCalls, Notice, Outcome, QueryId, ResolveError};
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

/// One SMTP session to run: a mail's recipients at one domain.
#[derive(Clone, Debug)]
struct Job {
    mail: Mail,
    domain: Name,
    recipients: Vec<Address>,
}

/// Where a session stands: what the client waits for next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    LookingUpExchanger(QueryId),
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

/// A session in progress.
#[derive(Debug)]
struct Session {
    job: Job,
    step: Step,
    conn: Option<ConnId>,
    reader: LineReader,
    candidates: Vec<Address>,
    accepted: Vec<Address>,
    concluded: Vec<Address>,
}

/// An SMTP client sending its mails one session at a time.
#[derive(Debug)]
pub struct Client {
    host_name: Name,
    jobs: VecDeque<Job>,
    session: Option<Session>,
}

impl Client {
    /// Builds a client that names itself `host_name` in HELO.
    pub fn new(host_name: Name, mails: Vec<Mail>) -> Client {
        let jobs = mails.into_iter().flat_map(jobs_of).collect();
        Client {
            host_name,
            jobs,
            session: None,
        }
    }

    /// Tells whether the client has sent all its mails and ended every session.
    pub fn is_done(&self) -> bool {
        self.session.is_none() && self.jobs.is_empty()
    }

    /// Reacts to one notice from the host.
    pub fn handle(&mut self, calls: &mut HostCalls, notice: Notice) {
        match notice {
            Notice::Start => self.start_next_job(calls),
            Notice::Resolved(query, answer) => self.on_resolved(calls, query, answer),
            Notice::Connected(_) => self.on_connected(),
            Notice::Received(_, bytes) => self.on_received(calls, &bytes),
            Notice::PeerFinished(conn) => self.on_peer_finished(calls, conn),
            Notice::Closed(_) => self.finish_session(calls, "connection closed"),
            Notice::Reset(_) => self.finish_session(calls, "connection reset"),
            Notice::Accepted { .. } => {}
        }
    }

    /// Starts the next job's MX look-up, if any job is left.
    fn start_next_job(&mut self, calls: &mut HostCalls) {
        let Some(job) = self.jobs.pop_front() else {
            return;
        };
        let query = calls.resolve(job.domain.clone(), RecordType::Mx);
        self.session = Some(Session {
            job,
            step: Step::LookingUpExchanger(query),
            conn: None,
            reader: LineReader::default(),
            candidates: Vec::new(),
            accepted: Vec::new(),
            concluded: Vec::new(),
        });
    }

    /// Routes a look-up result to the step waiting for it.
    fn on_resolved(
        &mut self,
        calls: &mut HostCalls,
        query: QueryId,
        answer: Result<dns::Message, ResolveError>,
    ) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let answer = match answer {
            Ok(message) => message,
            Err(error) => return self.give_up(calls, &format!("DNS look-up failed: {error:?}")),
        };
        match session.step {
            Step::LookingUpExchanger(waited) if waited == query => {
                self.on_mx_answer(calls, &answer)
            }
            Step::LookingUpAddress(waited) if waited == query => self.on_a_answer(calls, &answer),
            _ => {}
        }
    }

    /// Picks the preferred exchanger and connects, or looks up its address.
    ///
    /// With no MX record the domain itself is the exchanger (RFC 5321 §5.1).
    fn on_mx_answer(&mut self, calls: &mut HostCalls, answer: &dns::Message) {
        if answer.response != Some(ResponseCode::NoError) {
            let domain = &answer.question.name;
            let code = answer
                .response
                .map_or("no response".to_string(), |c| c.to_string());
            return self.give_up(calls, &format!("MX look-up of {domain}: {code}"));
        }
        let exchanger = preferred_exchanger(answer).unwrap_or_else(|| answer.question.name.clone());
        match address_in(&answer.additional, &exchanger) {
            Some(address) => self.connect(calls, address),
            None => {
                let query = calls.resolve(exchanger, RecordType::A);
                self.set_step(Step::LookingUpAddress(query));
            }
        }
    }

    /// Connects to the exchanger's address, or gives up without one.
    fn on_a_answer(&mut self, calls: &mut HostCalls, answer: &dns::Message) {
        let name = &answer.question.name;
        let address = answer.answers.iter().find_map(|record| match record.data {
            RecordData::A(address) => Some(address),
            _ => None,
        });
        match address {
            Some(address) => self.connect(calls, address),
            None => self.give_up(calls, &format!("no address for {name}")),
        }
    }

    /// Opens the connection to port 25.
    fn connect(&mut self, calls: &mut HostCalls, address: Ipv4Addr) {
        let conn = calls.connect(address, super::PORT);
        if let Some(session) = self.session.as_mut() {
            session.conn = Some(conn);
            session.step = Step::Connecting;
        }
    }

    /// Waits for the greeting once the connection is up.
    fn on_connected(&mut self) {
        self.set_step(Step::AwaitingGreeting);
    }

    /// Feeds received bytes to the reply reader, one reply at a time.
    fn on_received(&mut self, calls: &mut HostCalls, bytes: &[u8]) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        session.reader.push(bytes);
        while let Some(line) = self.session.as_mut().and_then(|s| s.reader.next_line()) {
            let reply = Reply::parse(&line).unwrap_or_else(|| Reply::new(500, line));
            self.on_reply(calls, reply);
        }
    }

    /// Moves the session on by one reply.
    fn on_reply(&mut self, calls: &mut HostCalls, reply: Reply) {
        let Some(step) = self.session.as_ref().map(|s| s.step) else {
            return;
        };
        match step {
            Step::AwaitingGreeting => self.after_greeting(calls, &reply),
            Step::AwaitingHelo => self.after_helo(calls, &reply),
            Step::AwaitingVrfy(index) => self.after_vrfy(calls, index, &reply),
            Step::AwaitingMailFrom => self.after_mail_from(calls, &reply),
            Step::AwaitingRcpt(index) => self.after_rcpt(calls, index, &reply),
            Step::AwaitingData => self.after_data(calls, &reply),
            Step::AwaitingEndOfData => self.after_end_of_data(calls, &reply),
            Step::AwaitingQuit => self.set_step(Step::AwaitingServerClose),
            _ => {}
        }
    }

    /// Names itself with HELO after a 220 greeting.
    fn after_greeting(&mut self, calls: &mut HostCalls, reply: &Reply) {
        if !reply.is_positive() {
            return self.quit_failing_all(calls, reply);
        }
        let helo = Command::Helo(self.host_name.to_string());
        self.send_command(calls, &helo, Step::AwaitingHelo);
    }

    /// Starts verifying, or goes straight to the transaction.
    fn after_helo(&mut self, calls: &mut HostCalls, reply: &Reply) {
        if !reply.is_positive() {
            return self.quit_failing_all(calls, reply);
        }
        let session = self.session.as_mut().expect("a reply belongs to a session");
        if session.job.mail.verify_first {
            return self.send_vrfy(calls, 0);
        }
        session.candidates = session.job.recipients.clone();
        self.send_mail_from(calls);
    }

    /// Asks VRFY for the recipient at `index`.
    fn send_vrfy(&mut self, calls: &mut HostCalls, index: usize) {
        let session = self
            .session
            .as_ref()
            .expect("verifying belongs to a session");
        let local = session.job.recipients[index].local.clone();
        self.send_command(calls, &Command::Vrfy(local), Step::AwaitingVrfy(index));
    }

    /// Keeps or drops a recipient after VRFY, then verifies the next.
    ///
    /// 550, 551 and 553 say the user is unknown; anything else (252
    /// "cannot verify", 502 "not implemented") leaves RCPT TO to decide.
    fn after_vrfy(&mut self, calls: &mut HostCalls, index: usize, reply: &Reply) {
        let session = self.session.as_mut().expect("a reply belongs to a session");
        let recipient = session.job.recipients[index].clone();
        if matches!(reply.code, 550 | 551 | 553) {
            self.conclude(calls, &recipient, false, &reply.to_string());
        } else {
            session.candidates.push(recipient);
        }
        let session = self.session.as_ref().expect("a reply belongs to a session");
        if index + 1 < session.job.recipients.len() {
            return self.send_vrfy(calls, index + 1);
        }
        if session.candidates.is_empty() {
            return self.send_quit(calls);
        }
        self.send_mail_from(calls);
    }

    /// Opens the transaction with the envelope sender.
    fn send_mail_from(&mut self, calls: &mut HostCalls) {
        let session = self
            .session
            .as_ref()
            .expect("a transaction belongs to a session");
        let from = Path {
            address: session.job.mail.from.to_string(),
            bracketed: true,
        };
        self.send_command(calls, &Command::Mail(from), Step::AwaitingMailFrom);
    }

    /// Names the first recipient once the sender is accepted.
    fn after_mail_from(&mut self, calls: &mut HostCalls, reply: &Reply) {
        if !reply.is_positive() {
            return self.quit_failing_all(calls, reply);
        }
        self.send_rcpt(calls, 0);
    }

    /// Names the candidate recipient at `index`.
    fn send_rcpt(&mut self, calls: &mut HostCalls, index: usize) {
        let session = self
            .session
            .as_ref()
            .expect("a transaction belongs to a session");
        let to = Path {
            address: session.job_candidate(index).to_string(),
            bracketed: true,
        };
        self.send_command(calls, &Command::Rcpt(to), Step::AwaitingRcpt(index));
    }

    /// Keeps or fails a recipient, then names the next or sends DATA.
    fn after_rcpt(&mut self, calls: &mut HostCalls, index: usize, reply: &Reply) {
        let session = self.session.as_mut().expect("a reply belongs to a session");
        let recipient = session.job_candidate(index).clone();
        if reply.is_positive() {
            session.accepted.push(recipient);
        } else {
            self.conclude(calls, &recipient, false, &reply.to_string());
        }
        let session = self.session.as_ref().expect("a reply belongs to a session");
        if index + 1 < session.candidates.len() {
            return self.send_rcpt(calls, index + 1);
        }
        if session.accepted.is_empty() {
            return self.send_quit(calls);
        }
        self.send_command(calls, &Command::Data, Step::AwaitingData);
    }

    /// Sends the message and then the end-of-data line after 354.
    ///
    /// The content ends in CRLF, so the lone `.` CRLF that follows it
    /// completes the `<CRLF>.<CRLF>` of RFC 5321 §4.1.1.4.
    fn after_data(&mut self, calls: &mut HostCalls, reply: &Reply) {
        if reply.code != 354 {
            return self.quit_failing_all(calls, reply);
        }
        let session = self.session.as_mut().expect("a reply belongs to a session");
        let conn = session.conn.expect("DATA is sent on a connection");
        calls.send(conn, dot_stuff(&session.job.mail.content));
        calls.send(conn, ".\r\n");
        session.step = Step::AwaitingEndOfData;
    }

    /// Concludes every accepted recipient by the reply to the final dot.
    fn after_end_of_data(&mut self, calls: &mut HostCalls, reply: &Reply) {
        let accepted = self
            .session
            .as_ref()
            .map(|s| s.accepted.clone())
            .unwrap_or_default();
        for recipient in &accepted {
            self.conclude(calls, recipient, reply.is_positive(), &reply.to_string());
        }
        self.send_quit(calls);
    }

    /// Fails every recipient not yet concluded, then quits.
    fn quit_failing_all(&mut self, calls: &mut HostCalls, reply: &Reply) {
        self.fail_unconcluded(calls, &reply.to_string());
        self.send_quit(calls);
    }

    /// Ends the session politely.
    fn send_quit(&mut self, calls: &mut HostCalls) {
        self.send_command(calls, &Command::Quit, Step::AwaitingQuit);
    }

    /// Writes one command line and notes what to wait for.
    fn send_command(&mut self, calls: &mut HostCalls, command: &Command, next: Step) {
        let session = self.session.as_mut().expect("commands belong to a session");
        let conn = session.conn.expect("commands are sent on a connection");
        calls.send(conn, format!("{command}\r\n"));
        session.step = next;
    }

    /// Closes the client's side once the server has closed its own.
    fn on_peer_finished(&mut self, calls: &mut HostCalls, conn: ConnId) {
        self.fail_unconcluded(calls, "server closed the connection");
        calls.close(conn);
        self.set_step(Step::Closing);
    }

    /// Ends the session and starts the next job.
    fn finish_session(&mut self, calls: &mut HostCalls, reason: &str) {
        self.fail_unconcluded(calls, reason);
        self.session = None;
        self.start_next_job(calls);
    }

    /// Fails every recipient of the session and ends it without a connection.
    fn give_up(&mut self, calls: &mut HostCalls, reason: &str) {
        self.finish_session(calls, reason);
    }

    /// Fails every recipient of the session not yet concluded.
    fn fail_unconcluded(&mut self, calls: &mut HostCalls, reason: &str) {
        let Some(session) = self.session.as_ref() else {
            return;
        };
        let open: Vec<Address> = session
            .job
            .recipients
            .iter()
            .filter(|r| !session.concluded.contains(r))
            .cloned()
            .collect();
        for recipient in &open {
            self.conclude(calls, recipient, false, reason);
        }
    }

    /// Records the fate of one recipient, once.
    fn conclude(
        &mut self,
        calls: &mut HostCalls,
        recipient: &Address,
        delivered: bool,
        reason: &str,
    ) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        if session.concluded.contains(recipient) {
            return;
        }
        session.concluded.push(recipient.clone());
        calls.record(Outcome::Concluded {
            recipient: recipient.to_string(),
            delivered,
            reason: reason.to_string(),
        });
    }

    /// Notes what the session waits for next.
    fn set_step(&mut self, step: Step) {
        if let Some(session) = self.session.as_mut() {
            session.step = step;
        }
    }
}

impl Session {
    /// Returns the candidate recipient at `index`.
    fn job_candidate(&self, index: usize) -> &Address {
        &self.candidates[index]
    }
}

/// Splits a mail into one job per recipient domain, in first-seen order.
fn jobs_of(mail: Mail) -> Vec<Job> {
    let mut jobs: Vec<Job> = Vec::new();
    for recipient in &mail.recipients {
        let domain = Name::parse(&recipient.domain).expect("addresses hold valid domains");
        match jobs.iter_mut().find(|job| job.domain == domain) {
            Some(job) => job.recipients.push(recipient.clone()),
            None => jobs.push(Job {
                mail: mail.clone(),
                domain,
                recipients: vec![recipient.clone()],
            }),
        }
    }
    jobs
}

/// Returns the exchanger with the lowest preference, first listed on ties.
fn preferred_exchanger(answer: &dns::Message) -> Option<Name> {
    let exchangers = answer
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RecordData::Mx {
                preference,
                exchange,
            } => Some((*preference, exchange)),
            _ => None,
        });
    exchangers
        .min_by_key(|(preference, _)| *preference)
        .map(|(_, exchange)| exchange.clone())
}

/// Finds the A record of `name` among `records`.
fn address_in(records: &[dns::Record], name: &Name) -> Option<Ipv4Addr> {
    records.iter().find_map(|record| match record.data {
        RecordData::A(address) if &record.name == name => Some(address),
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
        Client::new(name("mail.sender.com"), vec![mail(verify_first)])
    }

    /// Writes each request as a short line, SMTP lines without CRLF.
    fn requests(calls: &mut HostCalls) -> Vec<String> {
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
        };
        calls.take_requests().iter().map(describe).collect()
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
    fn reset_connection_fails_recipients_not_yet_concluded() {
        let (mut client, mut calls) = after_helo(true);
        reply(&mut client, &mut calls, "550 Unknown user: aibo");
        calls.take_requests();
        client.handle(&mut calls, Notice::Reset(ConnId(1)));
        assert_eq!(
            requests(&mut calls),
            ["<c3po@receiver.com failed connection reset>"]
        );
    }
}
