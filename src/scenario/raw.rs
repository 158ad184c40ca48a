//! The scenario file as written: serde types that mirror the YAML keys.
//!
//! Every struct refuses unknown keys, so a misspelt key is an error and
//! not a silently ignored line. Values stay as text here (addresses,
//! names, durations); [`super::validate`] turns them into checked types.

use indexmap::IndexMap;
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub title: String,
    #[serde(default)]
    pub seed: u64,
    pub participants: Vec<RawParticipant>,
    #[serde(default)]
    pub links: Vec<RawLink>,
    #[serde(default)]
    pub remarks: Vec<RawRemark>,
}

/// One host and the roles it plays.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParticipant {
    pub id: String,
    pub name: Option<String>,
    pub group: Option<String>,
    pub host: String,
    pub address: String,
    pub resolver: Option<String>,
    pub dns_server: Option<RawDnsServer>,
    pub smtp_server: Option<RawSmtpServer>,
    pub smtp_client: Option<RawSmtpClient>,
}

/// The records a DNS server answers from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDnsServer {
    pub records: Vec<RawRecord>,
}

/// One resource record, its fields named after its type.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum RawRecord {
    A {
        name: String,
        address: String,
        ttl: Option<u32>,
    },
    #[serde(rename = "MX")]
    Mx {
        name: String,
        preference: u16,
        exchange: String,
        ttl: Option<u32>,
    },
    #[serde(rename = "PTR")]
    Ptr {
        name: String,
        target: String,
        ttl: Option<u32>,
    },
    #[serde(rename = "CNAME")]
    Cname {
        name: String,
        target: String,
        ttl: Option<u32>,
    },
}

/// A receiving mail server.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtpServer {
    pub domain: String,
    #[serde(default)]
    pub mailboxes: Vec<String>,
    #[serde(default = "yes")]
    pub check_helo: bool,
    pub greeting: Option<String>,
}

/// A sending mail client and its mails.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtpClient {
    pub start: Option<String>,
    pub mails: Vec<RawMail>,
}

/// One mail.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMail {
    pub from: String,
    pub to: Vec<String>,
    #[serde(default)]
    pub verify_first: bool,
    pub subject: Option<String>,
    pub headers: Option<IndexMap<String, String>>,
    #[serde(default)]
    pub body: String,
}

/// A link between two participants.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    pub between: [String; 2],
    pub latency: String,
    pub jitter: Option<String>,
}

/// A remark to draw beside one message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRemark {
    pub from: String,
    pub to: Option<String>,
    pub message: String,
    pub occurrence: Option<RawOccurrence>,
    pub text: String,
}

/// Which matching message a remark goes with: a count from one, or `last`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawOccurrence {
    Nth(usize),
    Word(String),
}

/// Serde's default for flags that are on unless turned off.
fn yes() -> bool {
    true
}
