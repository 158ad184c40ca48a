//! Encodes a trace's DNS message in wire format (RFC 1035 §4.1) with
//! `hickory-proto`, which also compresses repeated names (§4.1.4).
//!
//! The header carries the trace's id, QR, opcode QUERY, AA, RD and the
//! response code; RA is clear because the modelled server does not
//! recurse. There is one question, class IN, and the records of the three
//! sections in the trace's order. No EDNS OPT record is added.

use std::str::FromStr;

use hickory_proto::ProtoError;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME, MX, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::trace::{DnsFields, DnsRecord, DnsRecordData, DnsSection};

/// Returns the DNS message of the trace's fields as octets.
pub fn encode(fields: &DnsFields) -> Result<Vec<u8>, ProtoError> {
    let kind = if fields.kind == "response" {
        MessageType::Response
    } else {
        MessageType::Query
    };
    let mut message = Message::new(fields.id, kind, OpCode::Query);
    message.metadata.authoritative = fields.authoritative;
    message.metadata.recursion_desired = fields.recursion_desired;
    message.metadata.response_code = response_code(fields.rcode.as_deref());
    let question_type = RecordType::from_str(&fields.question_type)?;
    message.add_query(Query::query(name(&fields.question_name)?, question_type));
    for record in &fields.records {
        let encoded = record_of(record)?;
        match record.section {
            DnsSection::Answer => message.add_answer(encoded),
            DnsSection::Authority => message.add_authority(encoded),
            DnsSection::Additional => message.add_additional(encoded),
        };
    }
    message.to_vec()
}

/// Reads a response code name (RFC 1035 §4.1.1, RFC 6895 §2.3).
fn response_code(name: Option<&str>) -> ResponseCode {
    let code: u8 = match name {
        Some("FORMERR") => 1,
        Some("SERVFAIL") => 2,
        Some("NXDOMAIN") => 3,
        Some("NOTIMP") => 4,
        Some("REFUSED") => 5,
        _ => 0,
    };
    ResponseCode::from_low(code)
}

/// Builds one resource record, class IN.
fn record_of(record: &DnsRecord) -> Result<Record, ProtoError> {
    let data = match &record.data {
        DnsRecordData::A { address } => RData::A(A(*address)),
        DnsRecordData::Cname { target } => RData::CNAME(CNAME(name(target)?)),
        DnsRecordData::Ptr { target } => RData::PTR(PTR(name(target)?)),
        DnsRecordData::Mx {
            preference,
            exchange,
        } => RData::MX(MX::new(*preference, name(exchange)?)),
    };
    Ok(Record::from_rdata(name(&record.name)?, record.ttl, data))
}

/// Reads a domain name as fully qualified.
fn name(text: &str) -> Result<Name, ProtoError> {
    let mut name = Name::from_ascii(text)?;
    name.set_fqdn(true);
    Ok(name)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn fields(kind: &str, records: Vec<DnsRecord>) -> DnsFields {
        DnsFields {
            id: 0x1234,
            kind: kind.to_string(),
            rcode: (kind == "response").then(|| "NOERROR".to_string()),
            authoritative: kind == "response",
            recursion_desired: true,
            question_name: "receiver.com".to_string(),
            question_type: "MX".to_string(),
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
            records,
        }
    }

    /// The question `receiver.com MX IN`, as RFC 1035 §4.1.2 lays it out.
    const QUESTION: &[u8] = b"\x08receiver\x03com\x00\x00\x0f\x00\x01";

    #[test]
    fn a_query_is_header_and_question() {
        let mut expected = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        expected.extend_from_slice(QUESTION);
        assert_eq!(encode(&fields("query", Vec::new())).unwrap(), expected);
    }

    #[test]
    fn an_mx_answer_with_its_a_record_compresses_repeated_names() {
        let records = vec![
            DnsRecord {
                section: DnsSection::Answer,
                name: "receiver.com".to_string(),
                ttl: 3600,
                data: DnsRecordData::Mx {
                    preference: 10,
                    exchange: "mail.receiver.com".to_string(),
                },
            },
            DnsRecord {
                section: DnsSection::Additional,
                name: "mail.receiver.com".to_string(),
                ttl: 3600,
                data: DnsRecordData::A {
                    address: Ipv4Addr::new(66, 218, 71, 63),
                },
            },
        ];
        // QR, AA and RD set (0x85); one question, one answer, one additional.
        let mut expected = vec![0x12, 0x34, 0x85, 0x00, 0, 1, 0, 1, 0, 0, 0, 1];
        expected.extend_from_slice(QUESTION);
        // receiver.com (a pointer to offset 12) MX IN 3600, 9 octets:
        // preference 10, then "mail" and a pointer to receiver.com.
        expected.extend_from_slice(b"\xc0\x0c\x00\x0f\x00\x01\x00\x00\x0e\x10\x00\x09");
        expected.extend_from_slice(b"\x00\x0a\x04mail\xc0\x0c");
        // mail.receiver.com (a pointer to offset 44, the "mail" label
        // above) A IN 3600, 4 octets: 66.218.71.63.
        expected
            .extend_from_slice(b"\xc0\x2c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\x42\xda\x47\x3f");
        assert_eq!(encode(&fields("response", records)).unwrap(), expected);
    }

    #[test]
    fn response_codes_have_their_rfc_1035_numbers() {
        assert_eq!(u16::from(response_code(Some("NXDOMAIN"))), 3);
        assert_eq!(u16::from(response_code(None)), 0);
    }
}
