//! DNS messages as typed values (RFC 1035 §4.1).
//!
//! One question per message, as every resolver in practice sends. Records
//! cover what the mail exchange needs: A, MX, PTR and CNAME. Names are kept
//! in lower case without the trailing dot; comparison is case-insensitive
//! because names are folded when parsed.

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
        if trimmed.is_empty() {
            return Err("a domain name cannot be empty".to_string());
        }
        if trimmed.len() > 253 {
            return Err(format!("`{text}` is longer than 253 characters"));
        }
        for label in trimmed.split('.') {
            check_label(label).map_err(|why| format!("`{text}` is not a domain name: {why}"))?;
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
    fn reverse_name_lists_octets_backwards_under_in_addr_arpa() {
        let name = Name::reverse_of(Ipv4Addr::new(192, 0, 2, 10));
        assert_eq!(name.as_str(), "10.2.0.192.in-addr.arpa");
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
