//! DNS over UDP port 53: an authoritative server answering from zone data,
//! and the stub resolver a host's applications ask through.
//!
//! The server holds every record it serves in one list (no delegation,
//! no recursion). It answers NXDOMAIN for names it holds nothing for,
//! follows CNAME chains within its own data, and adds the A records of
//! mail exchangers to MX answers (RFC 1035 §3.3.9, RFC 5321 §5.1).
//!
//! The resolver sends a question again when no answer comes within its
//! time-out, a bounded number of times, and then reports the look-up as
//! failed.
//!
//! Not modelled: caching, TCP fallback, truncation, EDNS, DNSSEC, more
//! than one question per message, a second server to ask, a time-out
//! that grows between resends.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use rand_chacha::ChaCha20Rng;
use rand_core::Rng;

use crate::protocol::host_api::QueryId;
use crate::time::{SimDuration, SimTime};
use crate::wire::dns::{Message, Name, Question, Record, RecordData, RecordType, ResponseCode};

/// The well-known DNS port.
pub const PORT: u16 = 53;

/// The first port of the dynamic range (RFC 6335 §6) resolvers pick from.
const FIRST_EPHEMERAL_PORT: u16 = 49152;

/// The longest CNAME chain the server follows before giving up.
const MAX_CNAME_CHAIN: usize = 8;

/// An authoritative server for the records it was given.
#[derive(Clone, Debug)]
pub struct Server {
    records: Vec<Record>,
}

impl Server {
    /// Builds a server holding `records`.
    pub fn new(records: Vec<Record>) -> Server {
        Server { records }
    }

    /// Builds the response to `query`.
    pub fn respond(&self, query: &Message) -> Message {
        let mut response = query.clone();
        response.authoritative = true;
        response.response = Some(ResponseCode::NoError);
        if !self.holds_name(&query.question.name) {
            response.response = Some(ResponseCode::NxDomain);
            return response;
        }
        response.answers = self.answer_records(&query.question);
        response.additional = self.additional_records(&response.answers);
        response
    }

    /// Tells whether any record is owned by `name`.
    fn holds_name(&self, name: &Name) -> bool {
        self.records.iter().any(|record| &record.name == name)
    }

    /// Returns the records of the asked type, following CNAMEs on the way.
    fn answer_records(&self, question: &Question) -> Vec<Record> {
        let mut answers = Vec::new();
        let mut name = question.name.clone();
        for _ in 0..MAX_CNAME_CHAIN {
            let direct = self.records_of(&name, question.record_type);
            if !direct.is_empty() || question.record_type == RecordType::Cname {
                answers.extend(direct);
                return answers;
            }
            let Some(alias) = self.records_of(&name, RecordType::Cname).into_iter().next() else {
                return answers;
            };
            let RecordData::Cname(target) = &alias.data else {
                return answers;
            };
            name = target.clone();
            answers.push(alias);
        }
        answers
    }

    /// Returns the A records of the exchangers named in MX answers.
    fn additional_records(&self, answers: &[Record]) -> Vec<Record> {
        let exchanges = answers.iter().filter_map(|record| match &record.data {
            RecordData::Mx { exchange, .. } => Some(exchange),
            _ => None,
        });
        exchanges
            .flat_map(|exchange| self.records_of(exchange, RecordType::A))
            .collect()
    }

    /// Returns the records of one name and type, in zone order.
    fn records_of(&self, name: &Name, record_type: RecordType) -> Vec<Record> {
        let matches =
            |record: &&Record| &record.name == name && record.data.record_type() == record_type;
        self.records.iter().filter(matches).cloned().collect()
    }
}

/// How long a resolver waits for an answer, and how often it asks again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResolverConfig {
    /// The wait for an answer before the question is sent again.
    pub timeout: SimDuration,
    /// How many times the question is sent again before giving up.
    pub retries: u32,
}

impl Default for ResolverConfig {
    /// Five seconds and two retries: the bounds of RFC 1536 §1 and the
    /// usual stub resolver defaults, three sends in all.
    fn default() -> ResolverConfig {
        ResolverConfig {
            timeout: SimDuration::from_secs(5),
            retries: 2,
        }
    }
}

/// A stub resolver: sends each question to one server and pairs answers.
///
/// Message ids and source ports are drawn from the resolver's own seeded
/// stream, as RFC 5452 §9 asks of real resolvers. A question that is not
/// answered within the time-out is sent again, the same message from the
/// same port (RFC 1035 §4.2.1), up to the configured number of retries;
/// then the look-up fails, and a late answer finds nothing pending and
/// is ignored.
#[derive(Clone, Debug)]
pub struct Resolver {
    server: Ipv4Addr,
    config: ResolverConfig,
    random: ChaCha20Rng,
    pending: BTreeMap<(u16, u16), Pending>,
}

/// A question sent and not yet answered.
#[derive(Clone, Debug)]
struct Pending {
    query: QueryId,
    message: Message,
    sends: u32,
    deadline: SimTime,
}

/// A query ready to send: the source port and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingQuery {
    /// The UDP port the answer must come back to.
    pub src_port: u16,
    /// The query message.
    pub message: Message,
}

/// What a resolver does when a question's time-out expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryExpiry {
    /// The question goes again; `number` counts the resends from 1.
    Resend {
        /// The look-up.
        query: QueryId,
        /// The same query as before.
        outgoing: OutgoingQuery,
        /// 1 for the first resend, 2 for the second, and so on.
        number: u32,
    },
    /// No answer came to any of the sends: the look-up fails.
    GaveUp {
        /// The look-up.
        query: QueryId,
        /// How many times the question was sent.
        sends: u32,
    },
}

impl Resolver {
    /// Builds a resolver asking `server`, drawing from `random`.
    pub fn new(server: Ipv4Addr, config: ResolverConfig, random: ChaCha20Rng) -> Resolver {
        Resolver {
            server,
            config,
            random,
            pending: BTreeMap::new(),
        }
    }

    /// Returns the address of the server it asks.
    pub fn server(&self) -> Ipv4Addr {
        self.server
    }

    /// Returns the time-out it waits for each answer.
    pub fn timeout(&self) -> SimDuration {
        self.config.timeout
    }

    /// Builds the query for one look-up and remembers it.
    pub fn query(&mut self, now: SimTime, query: QueryId, question: Question) -> OutgoingQuery {
        let (src_port, id) = self.fresh_port_and_id();
        let message = Message::query(id, question);
        let pending = Pending {
            query,
            message: message.clone(),
            sends: 1,
            deadline: now + self.config.timeout,
        };
        self.pending.insert((src_port, id), pending);
        OutgoingQuery { src_port, message }
    }

    /// Draws a port and id pair not in use by another pending query.
    fn fresh_port_and_id(&mut self) -> (u16, u16) {
        loop {
            let span = u32::from(u16::MAX - FIRST_EPHEMERAL_PORT) + 1;
            let port = FIRST_EPHEMERAL_PORT + (self.random.next_u32() % span) as u16;
            let id = self.random.next_u32() as u16;
            if !self.pending.contains_key(&(port, id)) {
                return (port, id);
            }
        }
    }

    /// Tells whether no question waits for an answer.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty()
    }

    /// Returns the earliest time-out of the pending questions.
    ///
    /// The host asks after every turn, and mostly no question is out:
    /// then the answer comes without walking the map.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        if self.pending.is_empty() {
            return None;
        }
        self.pending.values().map(|p| p.deadline).min()
    }

    /// Resends or abandons every question whose time-out is due at `now`.
    pub fn handle_timeout(&mut self, now: SimTime) -> Vec<QueryExpiry> {
        let due: Vec<(u16, u16)> = self
            .pending
            .iter()
            .filter(|(_, pending)| pending.deadline <= now)
            .map(|(key, _)| *key)
            .collect();
        due.into_iter().map(|key| self.expire(now, key)).collect()
    }

    /// Sends one expired question again, or gives it up after the last retry.
    fn expire(&mut self, now: SimTime, key: (u16, u16)) -> QueryExpiry {
        let pending = self.pending.get_mut(&key).expect("due keys are pending");
        if pending.sends > self.config.retries {
            let (query, sends) = (pending.query, pending.sends);
            self.pending.remove(&key);
            return QueryExpiry::GaveUp { query, sends };
        }
        pending.sends += 1;
        pending.deadline = now + self.config.timeout;
        QueryExpiry::Resend {
            query: pending.query,
            outgoing: OutgoingQuery {
                src_port: key.0,
                message: pending.message.clone(),
            },
            number: pending.sends - 1,
        }
    }

    /// Tells whether `port` is one of its pending source ports.
    pub fn owns_port(&self, port: u16) -> bool {
        self.pending
            .keys()
            .any(|(pending_port, _)| *pending_port == port)
    }

    /// Pairs a response with its query; `None` if it answers nothing pending.
    pub fn handle_response(
        &mut self,
        port: u16,
        from: Ipv4Addr,
        message: &Message,
    ) -> Option<QueryId> {
        if from != self.server || message.response.is_none() {
            return None;
        }
        let pending = self.pending.remove(&(port, message.id))?;
        Some(pending.query)
    }
}

#[cfg(test)]
mod tests {
    use rand_core::SeedableRng;

    use super::*;

    fn name(text: &str) -> Name {
        Name::parse(text).unwrap()
    }

    fn record(owner: &str, data: RecordData) -> Record {
        Record {
            name: name(owner),
            ttl: 3600,
            data,
        }
    }

    fn receiver_zone() -> Server {
        let exchange = name("mail.receiver.com");
        Server::new(vec![
            record(
                "receiver.com",
                RecordData::Mx {
                    preference: 10,
                    exchange,
                },
            ),
            record(
                "mail.receiver.com",
                RecordData::A(Ipv4Addr::new(66, 218, 71, 63)),
            ),
            record(
                "10.2.0.192.in-addr.arpa",
                RecordData::Ptr(name("mail.sender.com")),
            ),
            record(
                "www.receiver.com",
                RecordData::Cname(name("mail.receiver.com")),
            ),
        ])
    }

    fn ask(server: &Server, owner: &str, record_type: RecordType) -> Message {
        server.respond(&Message::query(
            7,
            Question {
                name: name(owner),
                record_type,
            },
        ))
    }

    #[test]
    fn mx_answer_carries_the_exchanger_address_as_additional_record() {
        let response = ask(&receiver_zone(), "receiver.com", RecordType::Mx);
        assert_eq!(response.response, Some(ResponseCode::NoError));
        assert_eq!(response.answers.len(), 1);
        assert_eq!(response.additional.len(), 1);
        assert_eq!(
            response.additional[0].to_string(),
            "mail.receiver.com A 66.218.71.63"
        );
    }

    #[test]
    fn response_keeps_id_question_and_sets_aa() {
        let response = ask(&receiver_zone(), "receiver.com", RecordType::Mx);
        assert_eq!(response.id, 7);
        assert!(response.authoritative && response.recursion_desired);
        assert_eq!(response.question.name.as_str(), "receiver.com");
    }

    #[test]
    fn ptr_query_returns_the_host_name() {
        let response = ask(&receiver_zone(), "10.2.0.192.in-addr.arpa", RecordType::Ptr);
        assert_eq!(
            response.answers[0].data,
            RecordData::Ptr(name("mail.sender.com"))
        );
    }

    #[test]
    fn unknown_name_is_nxdomain() {
        let response = ask(&receiver_zone(), "nobody.example", RecordType::A);
        assert_eq!(response.response, Some(ResponseCode::NxDomain));
        assert!(response.answers.is_empty());
    }

    #[test]
    fn known_name_without_that_type_is_an_empty_answer() {
        let response = ask(&receiver_zone(), "mail.receiver.com", RecordType::Mx);
        assert_eq!(response.response, Some(ResponseCode::NoError));
        assert!(response.answers.is_empty());
    }

    #[test]
    fn cname_is_followed_to_the_address() {
        let response = ask(&receiver_zone(), "www.receiver.com", RecordType::A);
        let texts: Vec<String> = response.answers.iter().map(Record::to_string).collect();
        assert_eq!(
            texts,
            [
                "www.receiver.com CNAME mail.receiver.com",
                "mail.receiver.com A 66.218.71.63"
            ]
        );
    }

    #[test]
    fn resolver_pairs_only_the_matching_response_from_its_server() {
        let server_address = Ipv4Addr::new(192, 0, 2, 53);
        let mut resolver = Resolver::new(
            server_address,
            ResolverConfig::default(),
            ChaCha20Rng::seed_from_u64(1),
        );
        let outgoing = resolver.query(SimTime::ZERO, QueryId(4), mx_question());
        let response = receiver_zone().respond(&outgoing.message);
        let stranger = Ipv4Addr::new(203, 0, 113, 9);
        assert_eq!(
            resolver.handle_response(outgoing.src_port, stranger, &response),
            None
        );
        assert_eq!(
            resolver.handle_response(outgoing.src_port, server_address, &response),
            Some(QueryId(4))
        );
        assert_eq!(
            resolver.handle_response(outgoing.src_port, server_address, &response),
            None
        );
        assert!(outgoing.src_port >= FIRST_EPHEMERAL_PORT);
    }

    fn mx_question() -> Question {
        Question {
            name: name("receiver.com"),
            record_type: RecordType::Mx,
        }
    }

    fn resolver(timeout_secs: u64, retries: u32) -> Resolver {
        let config = ResolverConfig {
            timeout: SimDuration::from_secs(timeout_secs),
            retries,
        };
        Resolver::new(
            Ipv4Addr::new(192, 0, 2, 53),
            config,
            ChaCha20Rng::seed_from_u64(1),
        )
    }

    fn at_secs(secs: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(secs)
    }

    #[test]
    fn unanswered_question_goes_again_after_the_time_out_unchanged() {
        let mut resolver = resolver(2, 1);
        let first = resolver.query(SimTime::ZERO, QueryId(1), mx_question());
        assert_eq!(resolver.poll_timeout(), Some(at_secs(2)));
        assert_eq!(resolver.handle_timeout(at_secs(1)), []);
        let expiries = resolver.handle_timeout(at_secs(2));
        let resend = QueryExpiry::Resend {
            query: QueryId(1),
            outgoing: first,
            number: 1,
        };
        assert_eq!(expiries, [resend]);
        assert_eq!(resolver.poll_timeout(), Some(at_secs(4)));
    }

    #[test]
    fn look_up_fails_after_one_send_and_the_configured_retries() {
        let mut resolver = resolver(2, 2);
        resolver.query(SimTime::ZERO, QueryId(1), mx_question());
        resolver.handle_timeout(at_secs(2));
        resolver.handle_timeout(at_secs(4));
        let expiries = resolver.handle_timeout(at_secs(6));
        let gave_up = QueryExpiry::GaveUp {
            query: QueryId(1),
            sends: 3,
        };
        assert_eq!(expiries, [gave_up]);
        assert_eq!(resolver.poll_timeout(), None);
    }

    #[test]
    fn late_answer_to_an_abandoned_question_is_ignored() {
        let mut resolver = resolver(2, 0);
        let outgoing = resolver.query(SimTime::ZERO, QueryId(1), mx_question());
        resolver.handle_timeout(at_secs(2));
        let late = receiver_zone().respond(&outgoing.message);
        let server = resolver.server();
        assert_eq!(
            resolver.handle_response(outgoing.src_port, server, &late),
            None
        );
    }

    #[test]
    fn answer_to_a_resent_question_ends_the_look_up() {
        let mut resolver = resolver(2, 2);
        let outgoing = resolver.query(SimTime::ZERO, QueryId(1), mx_question());
        resolver.handle_timeout(at_secs(2));
        let answer = receiver_zone().respond(&outgoing.message);
        let server = resolver.server();
        let paired = resolver.handle_response(outgoing.src_port, server, &answer);
        assert_eq!(paired, Some(QueryId(1)));
        assert_eq!(resolver.poll_timeout(), None);
    }
}
