//! DNS messages as typed values (RFC 1035 §4.1).
//!
//! One question per message, as every resolver in practice sends. Records
//! cover what the mail exchange needs: A, MX, PTR and CNAME. Names are kept
//! in lower case without the trailing dot; comparison is case-insensitive
//! because names are folded when parsed.
//!
//! [`Message::wire_size`] counts the octets of a message in wire format
//! without writing them, compressing names as the capture's encoder does.

use std::fmt;
use std::net::Ipv4Addr;

/// A domain name: dot-separated labels, folded to lower case.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

impl Name {
    /// Parses a host or domain name (RFC 1035 §2.3.1, RFC 1123 §2.1).
    ///
    /// Letters, digits and hyphens; labels of 1 to 63 characters that
    /// neither start nor end with a hyphen; 253 characters at most. A
    /// trailing dot is accepted and dropped.
    pub fn parse(text: &str) -> Result<Name, String> {
        let trimmed = text.strip_suffix('.').unwrap_or(text);
        if !is_host_name(trimmed) {
            explain_bad_name(text, trimmed)?;
        }
        Ok(Name(trimmed.to_ascii_lowercase()))
    }

    /// Parses a name that may also be the root, written `.`, as the
    /// exchange of a null MX record is (RFC 7505 §3).
    pub fn parse_or_root(text: &str) -> Result<Name, String> {
        if text == "." {
            return Ok(Name::root());
        }
        Name::parse(text)
    }

    /// Returns the root name, drawn as `.`.
    pub fn root() -> Name {
        Name(String::new())
    }

    /// Tells whether this is the root name.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Returns the reverse-lookup name of an address, e.g. `10.2.0.192.in-addr.arpa`.
    pub fn reverse_of(address: Ipv4Addr) -> Name {
        let [a, b, c, d] = address.octets();
        Name(format!("{d}.{c}.{b}.{a}.in-addr.arpa"))
    }

    /// Returns the name as text, without a trailing dot (empty for the root).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the name's text, as [`as_str`](Name::as_str) gives it,
    /// without copying it.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Tells whether `text` (without a trailing dot) is a host name, as
/// [`Name::parse`] describes it, in one pass over its bytes;
/// [`explain_bad_name`] says why one is not.
fn is_host_name(text: &str) -> bool {
    let length = text.len();
    length > 0 && length <= 253 && text.as_bytes().split(|&b| b == b'.').all(is_label)
}

/// Tells whether `label` is one label of a host name.
fn is_label(label: &[u8]) -> bool {
    let (Some(&first), Some(&last)) = (label.first(), label.last()) else {
        return false;
    };
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-';
    label.len() <= 63 && first != b'-' && last != b'-' && label.iter().all(allowed)
}

/// Says what makes `text` (`trimmed` without its trailing dot) no host
/// name: the first rule it breaks, checked in the order written.
fn explain_bad_name(text: &str, trimmed: &str) -> Result<(), String> {
    if trimmed.is_empty() {
        return Err("a domain name cannot be empty".to_string());
    }
    if trimmed.len() > 253 {
        return Err(format!("`{text}` is longer than 253 characters"));
    }
    for label in trimmed.split('.') {
        check_label(label).map_err(|why| format!("`{text}` is not a domain name: {why}"))?;
    }
    Ok(())
}

/// Checks one label of a host name.
fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("it has an empty label (two dots in a row?)".to_string());
    }
    if label.len() > 63 {
        return Err(format!("label `{label}` is longer than 63 characters"));
    }
    if let Some(bad) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(format!(
            "`{bad}` is not allowed (letters, digits and `-` only)"
        ));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(format!("label `{label}` starts or ends with `-`"));
    }
    Ok(())
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str(".");
        }
        f.write_str(&self.0)
    }
}

/// The record types a question can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecordType {
    /// An IPv4 address (type 1).
    A,
    /// A canonical name (type 5).
    Cname,
    /// A pointer, for reverse look-ups (type 12).
    Ptr,
    /// A mail exchanger (type 15).
    Mx,
}

impl RecordType {
    /// Returns the type's number on the wire.
    pub fn code(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Cname => 5,
            RecordType::Ptr => 12,
            RecordType::Mx => 15,
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordType::A => "A",
            RecordType::Cname => "CNAME",
            RecordType::Ptr => "PTR",
            RecordType::Mx => "MX",
        })
    }
}

/// The data of one resource record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// The canonical name the owner is an alias of.
    Cname(Name),
    /// The name an address maps back to.
    Ptr(Name),
    /// A mail exchanger and its preference (lower is tried first).
    Mx {
        /// Lower values are preferred.
        preference: u16,
        /// The host that accepts mail for the owner.
        exchange: Name,
    },
}

impl RecordData {
    /// Returns the type of this data.
    pub fn record_type(&self) -> RecordType {
        match self {
            RecordData::A(_) => RecordType::A,
            RecordData::Cname(_) => RecordType::Cname,
            RecordData::Ptr(_) => RecordType::Ptr,
            RecordData::Mx { .. } => RecordType::Mx,
        }
    }
}

/// One resource record: owner name, time to live and data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The name the record belongs to.
    pub name: Name,
    /// Seconds a resolver may cache it.
    pub ttl: u32,
    /// What the record says.
    pub data: RecordData,
}

/// Prints the record in zone-file form, e.g. `receiver.com MX 10 mail.receiver.com`.
impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.data.record_type();
        match &self.data {
            RecordData::A(address) => write!(f, "{} {kind} {address}", self.name),
            RecordData::Cname(target) | RecordData::Ptr(target) => {
                write!(f, "{} {kind} {target}", self.name)
            }
            RecordData::Mx {
                preference,
                exchange,
            } => {
                write!(f, "{} {kind} {preference} {exchange}", self.name)
            }
        }
    }
}

/// The question of a message: a name and the type asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// The name asked about.
    pub name: Name,
    /// The record type wanted.
    pub record_type: RecordType,
}

/// Response codes (RFC 1035 §4.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseCode {
    /// No error.
    NoError,
    /// The server could not interpret the query.
    FormErr,
    /// The server failed.
    ServFail,
    /// The name does not exist.
    NxDomain,
    /// The server does not answer this kind of query.
    Refused,
}

impl ResponseCode {
    /// Returns the code's number on the wire.
    pub fn code(self) -> u8 {
        match self {
            ResponseCode::NoError => 0,
            ResponseCode::FormErr => 1,
            ResponseCode::ServFail => 2,
            ResponseCode::NxDomain => 3,
            ResponseCode::Refused => 5,
        }
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResponseCode::NoError => "NOERROR",
            ResponseCode::FormErr => "FORMERR",
            ResponseCode::ServFail => "SERVFAIL",
            ResponseCode::NxDomain => "NXDOMAIN",
            ResponseCode::Refused => "REFUSED",
        })
    }
}

/// A whole DNS message, query or response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Pairs a response with its query.
    pub id: u16,
    /// `None` for a query, the response code for a response.
    pub response: Option<ResponseCode>,
    /// The AA bit: the answer comes from the zone's own server.
    pub authoritative: bool,
    /// The RD bit, copied from query to response.
    pub recursion_desired: bool,
    /// The one question.
    pub question: Question,
    /// Records answering the question.
    pub answers: Vec<Record>,
    /// Records naming the zone's authority.
    pub authority: Vec<Record>,
    /// Records the client will probably need next (e.g. an exchanger's A).
    pub additional: Vec<Record>,
}

impl Message {
    /// Builds a query with recursion desired.
    pub fn query(id: u16, question: Question) -> Message {
        Message {
            id,
            response: None,
            authoritative: false,
            recursion_desired: true,
            question,
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
        }
    }

    /// Returns the short text drawn on the message's arrow.
    pub fn summary(&self) -> String {
        let question = format!("{} {}", self.question.record_type, self.question.name);
        let Some(code) = self.response else {
            return format!("DNS query {question}");
        };
        if code != ResponseCode::NoError {
            return format!("DNS answer {code}: {question}");
        }
        if self.answers.is_empty() {
            return format!("DNS answer: {question}: no records");
        }
        let mut text = format!("DNS answer: {}", join_records(&self.answers));
        if !self.additional.is_empty() {
            text.push_str(&format!("; additional: {}", join_records(&self.additional)));
        }
        text
    }
}

/// The octets of the header: id, flags and the four counts (RFC 1035 §4.1.1).
const HEADER_OCTETS: usize = 12;

/// The octets after a question's name: type and class (RFC 1035 §4.1.2).
const QUESTION_TAIL_OCTETS: usize = 4;

/// The octets between a record's owner name and its data: type, class,
/// time to live and data length (RFC 1035 §4.1.3).
const RECORD_FIXED_OCTETS: usize = 10;

/// The octets of a compression pointer (RFC 1035 §4.1.4).
const POINTER_OCTETS: usize = 2;

/// The most names the capture's encoder compresses in one message; later
/// names are written in full.
const COMPRESSED_NAMES_LIMIT: usize = 120;

/// The most name endings the capture's encoder remembers as targets for
/// pointers in one message.
///
/// The encoder also remembers none past offset 0x3FFF, as a pointer holds
/// 14 bits; that limit is never the one reached first: until 64 endings
/// are taken, at most 64 labels of 64 octets and 120 compressed names
/// (16 octets each at most, with their records) have been written.
const POINTER_TARGETS_LIMIT: usize = 64;

impl Message {
    /// Returns the octets of the message in wire format (RFC 1035 §4.1):
    /// the header, the question, then the records of the three sections.
    ///
    /// Names are compressed as the capture's encoder writes them
    /// (RFC 1035 §4.1.4): label by label, until the rest of the name was
    /// already written in full, label by label, earlier in the message;
    /// that rest becomes a pointer. Names inside MX, CNAME and PTR data
    /// are compressed too. The encoder's limits are followed: 120
    /// compressed names, 64 remembered endings.
    pub fn wire_size(&self) -> usize {
        let mut names = NameCompression::new();
        let mut size = HEADER_OCTETS;
        size += names.written_size(&self.question.name) + QUESTION_TAIL_OCTETS;
        let sections = [&self.answers, &self.authority, &self.additional];
        for record in sections.into_iter().flatten() {
            size += names.written_size(&record.name) + RECORD_FIXED_OCTETS;
            size += names.data_size(&record.data);
        }
        size
    }
}

/// The names written so far in one message, as far as compression needs
/// them: the endings a later name may point at, kept without allocating.
///
/// The endings are options so that the empty table is all zero bytes,
/// which is cheap to set up once per message.
#[derive(Debug)]
struct NameCompression<'a> {
    endings: [Option<&'a str>; POINTER_TARGETS_LIMIT],
    remembered: usize,
    compressed_names: usize,
}

impl<'a> NameCompression<'a> {
    /// Starts a message with no name written.
    fn new() -> NameCompression<'a> {
        NameCompression {
            endings: [None; POINTER_TARGETS_LIMIT],
            remembered: 0,
            compressed_names: 0,
        }
    }

    /// Returns the octets of a record's data.
    fn data_size(&mut self, data: &'a RecordData) -> usize {
        const ADDRESS_OCTETS: usize = 4;
        const PREFERENCE_OCTETS: usize = 2;
        match data {
            RecordData::A(_) => ADDRESS_OCTETS,
            RecordData::Cname(target) | RecordData::Ptr(target) => self.written_size(target),
            RecordData::Mx { exchange, .. } => PREFERENCE_OCTETS + self.written_size(exchange),
        }
    }

    /// Returns the octets of `name` written next, and remembers the
    /// endings it writes in full.
    ///
    /// A label takes its length octet and its characters; the text of a
    /// name before a label start (the labels and their dots) is exactly
    /// as long as those labels on the wire.
    fn written_size(&mut self, name: &'a Name) -> usize {
        let text = name.as_str();
        let compress = self.compressed_names < COMPRESSED_NAMES_LIMIT;
        if compress {
            self.compressed_names += 1;
        }
        for start in label_starts(text) {
            let ending = &text[start..];
            if compress && self.endings[..self.remembered].contains(&Some(ending)) {
                return start + POINTER_OCTETS;
            }
            self.remember(ending);
        }
        labels_octets(text) + 1
    }

    /// Remembers an ending written in full, while the encoder would.
    fn remember(&mut self, ending: &'a str) {
        if self.remembered < POINTER_TARGETS_LIMIT {
            self.endings[self.remembered] = Some(ending);
            self.remembered += 1;
        }
    }
}

/// Returns the octets of a name's labels, each with its length octet,
/// without the root's zero octet: none for the root.
fn labels_octets(text: &str) -> usize {
    if text.is_empty() { 0 } else { text.len() + 1 }
}

/// Returns where each label of a name's text starts, finding the dots
/// by a byte search.
fn label_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    let dots = text.bytes().enumerate().filter(|&(_, byte)| byte == b'.');
    let after_dots = dots.map(|(dot, _)| dot + 1);
    let first = (!text.is_empty()).then_some(0);
    first.into_iter().chain(after_dots)
}

/// Joins records in zone-file form with commas.
fn join_records(records: &[Record]) -> String {
    let texts: Vec<String> = records.iter().map(Record::to_string).collect();
    texts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_case_and_drop_the_root_dot() {
        assert_eq!(
            Name::parse("Mail.Receiver.COM.").unwrap().as_str(),
            "mail.receiver.com"
        );
    }

    #[test]
    fn malformed_names_are_refused() {
        for bad in [
            "",
            "a..b",
            "-a.com",
            "a-.com",
            "a_b.com",
            "a b.com",
            &"x".repeat(64),
        ] {
            assert!(Name::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn names_at_the_length_limits_are_accepted() {
        let longest_label = "x".repeat(63);
        // Labels of 63, 63, 63, 59 and 1 characters and four dots: 253.
        let label = &longest_label;
        let longest_name = format!("{label}.{label}.{label}.{}.a", "x".repeat(59));
        assert_eq!(longest_name.len(), 253);
        for good in [
            longest_label.as_str(),
            &longest_name,
            "a-b.c0m",
            "9.example.",
        ] {
            assert!(Name::parse(good).is_ok(), "{good} was refused");
        }
        assert!(Name::parse(&format!("{longest_name}b")).is_err());
        assert!(Name::parse(".").is_err());
    }

    #[test]
    fn reverse_name_lists_octets_backwards_under_in_addr_arpa() {
        let name = Name::reverse_of(Ipv4Addr::new(192, 0, 2, 10));
        assert_eq!(name.as_str(), "10.2.0.192.in-addr.arpa");
    }

    fn name(text: &str) -> Name {
        Name::parse_or_root(text).expect("a name")
    }

    fn record(owner: &str, data: RecordData) -> Record {
        Record {
            name: name(owner),
            ttl: 3600,
            data,
        }
    }

    fn query(owner: &str, record_type: RecordType) -> Message {
        let question = Question {
            name: name(owner),
            record_type,
        };
        Message::query(0x1234, question)
    }

    fn answer(question: Message, answers: Vec<Record>, additional: Vec<Record>) -> Message {
        Message {
            response: Some(ResponseCode::NoError),
            answers,
            additional,
            ..question
        }
    }

    fn mx(exchange: &str) -> RecordData {
        RecordData::Mx {
            preference: 10,
            exchange: name(exchange),
        }
    }

    #[test]
    fn a_query_is_header_question_name_type_and_class() {
        // 12 + receiver.com as 8 receiver 3 com 0 (14) + type and class (4).
        assert_eq!(query("receiver.com", RecordType::Mx).wire_size(), 30);
    }

    #[test]
    fn an_answer_points_at_names_already_written() {
        let answers = vec![record("receiver.com", mx("mail.receiver.com"))];
        let address = RecordData::A(Ipv4Addr::new(66, 218, 71, 63));
        let additional = vec![record("mail.receiver.com", address)];
        let message = answer(query("receiver.com", RecordType::Mx), answers, additional);
        // 12 + 18 question; the answer: a pointer to the question's name
        // (2), 10, data 2 + 4 mail + a pointer (2): 21; the additional: a
        // pointer to the exchange (2), 10, an address (4): 16.
        assert_eq!(message.wire_size(), 12 + 18 + 21 + 16);
    }

    #[test]
    fn only_the_common_ending_of_unrelated_names_is_shared() {
        let answers = vec![record("receiver.com", mx("mail.sender.com"))];
        let message = answer(query("receiver.com", RecordType::Mx), answers, Vec::new());
        // The exchange: 2 + 4 mail + 6 sender, then a pointer to `com`.
        assert_eq!(message.wire_size(), 12 + 18 + 2 + 10 + 2 + 5 + 7 + 2);
    }

    #[test]
    fn a_cname_target_is_pointed_at_by_the_record_after_it() {
        let alias = RecordData::Cname(name("web.receiver.com"));
        let address = RecordData::A(Ipv4Addr::new(192, 0, 2, 80));
        let answers = vec![
            record("www.receiver.com", alias),
            record("web.receiver.com", address),
        ];
        let message = answer(
            query("www.receiver.com", RecordType::A),
            answers,
            Vec::new(),
        );
        // Question 18 + 4; CNAME: pointer, 10, 3 web + a pointer to
        // receiver.com (6); A: a pointer to the CNAME's data, 10, 4.
        assert_eq!(message.wire_size(), 12 + 22 + 18 + 16);
    }

    #[test]
    fn the_null_mx_exchange_is_the_root_one_zero_octet() {
        let answers = vec![record("receiver.com", mx("."))];
        let message = answer(query("receiver.com", RecordType::Mx), answers, Vec::new());
        assert_eq!(message.wire_size(), 12 + 18 + 2 + 10 + 2 + 1);
    }

    #[test]
    fn a_reverse_name_is_written_in_full_once() {
        let reverse = Name::reverse_of(Ipv4Addr::new(192, 0, 2, 10));
        let question = Question {
            name: reverse.clone(),
            record_type: RecordType::Ptr,
        };
        let query = Message::query(1, question);
        // 10.2.0.192.in-addr.arpa: 2 10, 1 2, 1 0, 3 192, 7 in-addr, 4 arpa
        // and the zero: 3 + 2 + 2 + 4 + 8 + 5 + 1 = 25.
        assert_eq!(query.wire_size(), 12 + 25 + 4);
        let ptr = Record {
            name: reverse,
            ttl: 60,
            data: RecordData::Ptr(name("mail.sender.com")),
        };
        // The answer: a pointer, 10, mail.sender.com in full (17).
        let response = answer(query, vec![ptr], Vec::new());
        assert_eq!(response.wire_size(), 12 + 29 + 2 + 10 + 17);
    }

    #[test]
    fn names_past_the_hundred_and_twentieth_are_written_in_full() {
        let address = RecordData::A(Ipv4Addr::new(192, 0, 2, 1));
        let answers = vec![record("a.com", address); 130];
        let message = answer(query("a.com", RecordType::A), answers, Vec::new());
        // The question's name is the first of 120 compressed: 119 answers
        // point at it (2 + 10 + 4), the last 11 write a.com (7) in full.
        assert_eq!(message.wire_size(), 12 + 11 + 119 * 16 + 11 * 21);
    }

    #[test]
    fn record_types_and_codes_have_their_rfc_1035_numbers() {
        assert_eq!(RecordType::A.code(), 1);
        assert_eq!(RecordType::Cname.code(), 5);
        assert_eq!(RecordType::Ptr.code(), 12);
        assert_eq!(RecordType::Mx.code(), 15);
        assert_eq!(ResponseCode::NxDomain.code(), 3);
    }
}
