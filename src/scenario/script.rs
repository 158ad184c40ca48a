//! Script mode: application messages listed literally, in order, checked
//! into steps the engine carries out over simulated TCP and UDP.
//!
//! Validation follows the script's TCP connections step by step, so a
//! send on a connection that is not open, a second open of an open
//! connection or a send after the sender closed are refused here, with
//! the step's place in the file, rather than stalling a run. Defaults
//! that depend on earlier steps (the ports of a reply datagram, the id of
//! a DNS response) are resolved here as references to those steps.

use super::ScenarioError;
use super::positions::Position;
use super::raw::{RawClose, RawDnsMessage, RawMailStep, RawOpen, RawSend, RawStep, RawTransport};
use super::validate::Checker;
use crate::time::SimDuration;
use crate::wire::dns::{self, Name, Question, RecordType, ResponseCode};

/// The UDP port DNS servers listen on (RFC 1035 §4.2.1).
const DNS_PORT: u16 = 53;

/// What a port of 0 is told: it is reserved, no service listens on it.
const PORT_ZERO: &str = "port 0 is reserved; use a port from 1 to 65535";

/// The most a UDP datagram can carry over IPv4: the 65535 octets of an
/// IPv4 packet (RFC 791 §3.1, Total Length) less its 20-octet header
/// and the 8-octet UDP header (RFC 768). A TCP send has no such limit:
/// it is cut into segments.
const MAX_UDP_PAYLOAD: usize = 65_535 - 20 - 8;

/// One checked step of a script.
#[derive(Clone, Debug)]
pub struct Step {
    /// The step's number, counting from one.
    pub number: usize,
    /// Where the step is written in the file.
    pub position: Option<Position>,
    /// The sending participant's index.
    pub from: usize,
    /// The receiving participant's index.
    pub to: usize,
    /// The pause between the end of the previous step and this one.
    pub wait: SimDuration,
    /// The remark drawn beside the step's message.
    pub remark: Option<String>,
    /// What the step does.
    pub action: Action,
}

/// What one step does.
#[derive(Clone, Debug)]
pub enum Action {
    /// Opens a TCP connection from `from` to `to`.
    Open {
        /// The connection it opens.
        connection: Connection,
        /// The client's port, when the script names one.
        client_port: Option<u16>,
    },
    /// Sends bytes on an open TCP connection.
    Send {
        /// The connection it sends on.
        connection: Connection,
        /// The bytes.
        data: Vec<u8>,
    },
    /// Closes the sender's side of a TCP connection.
    Close {
        /// The connection it closes.
        connection: Connection,
        /// Whether the receiver closes its side at the same instant too.
        simultaneous: bool,
    },
    /// Lets the sender's SMTP client model send its mails; `to` is the
    /// sender itself, since the model chooses whom it talks to.
    Mail,
    /// Sends one UDP datagram.
    Datagram {
        /// The sender's port.
        from_port: PortChoice,
        /// The receiver's port.
        to_port: PortChoice,
        /// What it carries.
        payload: Datagram,
    },
}

/// A TCP connection of the script, named by its two ends and the server's port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Connection {
    /// The participant that opened it.
    pub client: usize,
    /// The participant it was opened to.
    pub server: usize,
    /// The server's port.
    pub port: u16,
}

/// How a datagram's port is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortChoice {
    /// The port the script names.
    Given(u16),
    /// A fresh ephemeral port of the sending host.
    Ephemeral,
    /// The source port of the datagram of an earlier step (by index).
    SourceOf(usize),
    /// The destination port of the datagram of an earlier step (by index).
    DestinationOf(usize),
}

/// What a scripted datagram carries.
#[derive(Clone, Debug)]
pub enum Datagram {
    /// Bytes seqsim does not interpret.
    Bytes(Vec<u8>),
    /// A DNS message; its id is chosen as `id` says.
    Dns {
        /// The message (its `id` field is replaced at run time).
        message: dns::Message,
        /// How the id is chosen.
        id: DnsId,
    },
}

/// How a scripted DNS message's id is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsId {
    /// The id the script names.
    Given(u16),
    /// A fresh id drawn from the sending host's stream.
    Fresh,
    /// The id of the query of an earlier step (by index).
    SameAs(usize),
}

impl Action {
    /// Returns the key the action is written under: `open`, `send` or `close`.
    pub fn key(&self) -> &'static str {
        match self {
            Action::Open { .. } => "open",
            Action::Close { .. } => "close",
            Action::Send { .. } | Action::Datagram { .. } => "send",
            Action::Mail => "mail",
        }
    }
}

impl Step {
    /// Returns the DNS query this step sends, if it sends one.
    pub fn dns_query(&self) -> Option<&dns::Message> {
        match &self.action {
            Action::Datagram {
                payload: Datagram::Dns { message, .. },
                ..
            } if message.response.is_none() => Some(message),
            _ => None,
        }
    }
}

/// A connection as validation follows it.
#[derive(Clone, Copy, Debug)]
struct Tracked {
    connection: Connection,
    opened_by_step: usize,
    client_closed_by_step: Option<usize>,
    server_closed_by_step: Option<usize>,
}

impl Tracked {
    /// Returns the step that closed `side`'s half, if any.
    fn closed_by(&self, side: usize) -> Option<usize> {
        if side == self.connection.client {
            self.client_closed_by_step
        } else {
            self.server_closed_by_step
        }
    }
}

/// Validation state while walking the script.
#[derive(Default)]
struct Walk {
    connections: Vec<Tracked>,
    steps: Vec<Step>,
}

impl Checker<'_> {
    /// Checks every step of a script in order.
    pub(super) fn script(&self, raw: &[RawStep]) -> Result<Vec<Step>, ScenarioError> {
        let mut walk = Walk::default();
        for (index, step) in raw.iter().enumerate() {
            let step = self.step(index, step, &mut walk)?;
            walk.steps.push(step);
        }
        Ok(walk.steps)
    }

    /// Checks one step: exactly one of `open`, `send` and `close`.
    fn step(&self, index: usize, raw: &RawStep, walk: &mut Walk) -> Result<Step, ScenarioError> {
        let path = format!("script[{index}]");
        match (&raw.open, &raw.send, &raw.close, &raw.mail) {
            (Some(open), None, None, None) => self.open_step(index, open, walk),
            (None, Some(send), None, None) => self.send_step(index, send, walk),
            (None, None, Some(close), None) => self.close_step(index, close, walk),
            (None, None, None, Some(mail)) => self.mail_step(index, mail, walk),
            _ => Err(self.error(
                &path,
                "a step has exactly one of `open`, `send`, `close` or `mail`",
            )),
        }
    }

    /// Checks a step's two ends: existing, distinct participants.
    fn ends(&self, path: &str, from: &str, to: &str) -> Result<(usize, usize), ScenarioError> {
        let from = self.participant_index(&format!("{path}.from"), from)?;
        let to = self.participant_index(&format!("{path}.to"), to)?;
        if from == to {
            return Err(self.error(
                &format!("{path}.to"),
                "a message goes to another participant, not to its sender",
            ));
        }
        Ok((from, to))
    }

    /// Assembles a checked step from its parts.
    fn finish_step(
        &self,
        index: usize,
        ends: (usize, usize),
        common: (Option<&String>, Option<&String>),
        action: Action,
    ) -> Result<Step, ScenarioError> {
        let (wait, remark) = common;
        let path = format!("script[{index}]");
        let wait = match wait {
            Some(text) => self.duration(&format!("{path}.{}.wait", action.key()), text)?,
            None => SimDuration::ZERO,
        };
        let position = self.position_of(&format!("{path}.{}", action.key()));
        Ok(Step {
            number: index + 1,
            position,
            from: ends.0,
            to: ends.1,
            wait,
            remark: remark.cloned(),
            action,
        })
    }

    /// Checks an `open` step and starts following its connection.
    fn open_step(
        &self,
        index: usize,
        raw: &RawOpen,
        walk: &mut Walk,
    ) -> Result<Step, ScenarioError> {
        let ends = self.ends(&format!("script[{index}].open"), &raw.from, &raw.to)?;
        let connection = Connection {
            client: ends.0,
            server: ends.1,
            port: raw.port,
        };
        if let Some(live) = walk.connections.iter().find(|t| t.connection == connection) {
            let message = format!(
                "this connection is already open (opened by step {})",
                live.opened_by_step
            );
            return Err(self.error(&format!("script[{index}].open"), message));
        }
        let ports = [("port", Some(raw.port)), ("from_port", raw.from_port)];
        if let Some((key, _)) = ports.iter().find(|(_, port)| *port == Some(0)) {
            return Err(self.error(&format!("script[{index}].open.{key}"), PORT_ZERO));
        }
        walk.connections.push(Tracked {
            connection,
            opened_by_step: index + 1,
            client_closed_by_step: None,
            server_closed_by_step: None,
        });
        let action = Action::Open {
            connection,
            client_port: raw.from_port,
        };
        self.finish_step(
            index,
            ends,
            (raw.wait.as_ref(), raw.remark.as_ref()),
            action,
        )
    }

    /// Checks a `close` step and notes which side closed.
    fn close_step(
        &self,
        index: usize,
        raw: &RawClose,
        walk: &mut Walk,
    ) -> Result<Step, ScenarioError> {
        let path = format!("script[{index}].close");
        let ends = self.ends(&path, &raw.from, &raw.to)?;
        let slot = self.live_connection(&path, walk, ends.0, ends.1, raw.port)?;
        let tracked = &mut walk.connections[slot];
        let mut closers = vec![ends.0];
        if raw.simultaneous {
            closers.push(ends.1);
        }
        for &side in &closers {
            if let Some(closing) = tracked.closed_by(side) {
                let who = self.participant_id(side);
                return Err(self.error(
                    &path,
                    format!("`{who}` already closed its side of this connection at step {closing}"),
                ));
            }
            if tracked.connection.client == side {
                tracked.client_closed_by_step = Some(index + 1);
            } else {
                tracked.server_closed_by_step = Some(index + 1);
            }
        }
        let action = Action::Close {
            connection: tracked.connection,
            simultaneous: raw.simultaneous,
        };
        if tracked.client_closed_by_step.is_some() && tracked.server_closed_by_step.is_some() {
            walk.connections.remove(slot);
        }
        self.finish_step(
            index,
            ends,
            (raw.wait.as_ref(), raw.remark.as_ref()),
            action,
        )
    }

    /// Checks a `mail` step: a participant whose client the script starts, once.
    fn mail_step(
        &self,
        index: usize,
        raw: &RawMailStep,
        walk: &Walk,
    ) -> Result<Step, ScenarioError> {
        let path = format!("script[{index}].mail.from");
        let from = self.participant_index(&path, &raw.from)?;
        if !self.has_smtp_client(from) {
            return Err(self.error(
                &path,
                format!(
                    "participant `{}` has no `smtp_client` to send mail",
                    raw.from
                ),
            ));
        }
        let earlier = walk
            .steps
            .iter()
            .find(|s| s.from == from && matches!(s.action, Action::Mail));
        if let Some(earlier) = earlier {
            return Err(self.error(
                &path,
                format!(
                    "step {} already lets `{}` send its mails",
                    earlier.number, raw.from
                ),
            ));
        }
        self.finish_step(
            index,
            (from, from),
            (raw.wait.as_ref(), raw.remark.as_ref()),
            Action::Mail,
        )
    }

    /// Checks a `send` step: TCP data, a UDP datagram or a DNS message.
    fn send_step(
        &self,
        index: usize,
        raw: &RawSend,
        walk: &mut Walk,
    ) -> Result<Step, ScenarioError> {
        let path = format!("script[{index}].send");
        let ends = self.ends(&path, &raw.from, &raw.to)?;
        let udp = raw.dns.is_some() || raw.transport == Some(RawTransport::Udp);
        if raw.dns.is_some() && raw.transport == Some(RawTransport::Tcp) {
            return Err(self.error(
                &format!("{path}.transport"),
                "seqsim sends DNS messages over UDP only; leave out `transport`",
            ));
        }
        let action = if udp {
            self.datagram(&path, raw, ends, walk)?
        } else {
            self.tcp_data(&path, raw, ends, walk)?
        };
        self.finish_step(
            index,
            ends,
            (raw.wait.as_ref(), raw.remark.as_ref()),
            action,
        )
    }

    /// Checks data sent on a TCP connection.
    fn tcp_data(
        &self,
        path: &str,
        raw: &RawSend,
        (from, to): (usize, usize),
        walk: &Walk,
    ) -> Result<Action, ScenarioError> {
        for (key, given) in [("from_port", raw.from_port), ("to_port", raw.to_port)] {
            if given.is_some() {
                return Err(self.error(
                    &format!("{path}.{key}"),
                    format!("`{key}` is for UDP; on TCP, name the server's port with `port`"),
                ));
            }
        }
        let slot = self.live_connection(path, walk, from, to, raw.port)?;
        let tracked = &walk.connections[slot];
        if let Some(closing) = tracked.closed_by(from) {
            let who = self.participant_id(from);
            return Err(self.error(path, format!("`{who}` closed its side of this connection at step {closing}; it cannot send on it any more")));
        }
        let data = self.payload(path, raw)?;
        if data.is_empty() {
            return Err(self.error(path, "there is nothing to send: `text` or `bytes` is empty"));
        }
        Ok(Action::Send {
            connection: tracked.connection,
            data,
        })
    }

    /// Finds the one live connection between two participants.
    fn live_connection(
        &self,
        path: &str,
        walk: &Walk,
        a: usize,
        b: usize,
        port: Option<u16>,
    ) -> Result<usize, ScenarioError> {
        let between = |t: &&Tracked| {
            let ends = (t.connection.client, t.connection.server);
            (ends == (a, b) || ends == (b, a)) && port.is_none_or(|p| p == t.connection.port)
        };
        let candidates: Vec<usize> = walk
            .connections
            .iter()
            .enumerate()
            .filter(|(_, t)| between(t))
            .map(|(i, _)| i)
            .collect();
        let (a, b) = (self.participant_id(a), self.participant_id(b));
        match candidates.as_slice() {
            [one] => Ok(*one),
            [] => Err(self.error(path, format!("no TCP connection between `{a}` and `{b}` is open at this step (open one with an `open` step first)"))),
            _ => Err(self.error(path, format!("several TCP connections between `{a}` and `{b}` are open; name the server's port with `port`"))),
        }
    }

    /// Reads the bytes of a `text` or `bytes` value.
    fn payload(&self, path: &str, raw: &RawSend) -> Result<Vec<u8>, ScenarioError> {
        match (&raw.text, &raw.bytes, &raw.dns) {
            (Some(text), None, None) => Ok(text.as_bytes().to_vec()),
            (None, Some(hex), None) => {
                parse_hex(hex).map_err(|why| self.error(&format!("{path}.bytes"), why))
            }
            _ => Err(self.error(
                path,
                "a `send` step has exactly one of `text`, `bytes` or `dns`",
            )),
        }
    }

    /// Checks a UDP datagram and resolves its ports.
    fn datagram(
        &self,
        path: &str,
        raw: &RawSend,
        ends: (usize, usize),
        walk: &Walk,
    ) -> Result<Action, ScenarioError> {
        if raw.port.is_some() {
            return Err(self.error(
                &format!("{path}.port"),
                "`port` picks a TCP connection; for UDP use `from_port` and `to_port`",
            ));
        }
        let payload = match &raw.dns {
            Some(message) if raw.text.is_none() && raw.bytes.is_none() => {
                self.dns_datagram(&format!("{path}.dns"), message, ends, walk)?
            }
            Some(_) => {
                return Err(self.error(
                    path,
                    "a `send` step has exactly one of `text`, `bytes` or `dns`",
                ));
            }
            None => Datagram::Bytes(self.payload(path, raw)?),
        };
        self.fits_one_datagram(path, raw, &payload)?;
        let (from_port, to_port) = self.datagram_ports(path, raw, ends, walk, &payload)?;
        Ok(Action::Datagram {
            from_port,
            to_port,
            payload,
        })
    }

    /// Refuses a payload larger than one UDP datagram over IPv4 carries.
    fn fits_one_datagram(
        &self,
        path: &str,
        raw: &RawSend,
        payload: &Datagram,
    ) -> Result<(), ScenarioError> {
        let (key, size) = match payload {
            Datagram::Bytes(bytes) if raw.text.is_some() => ("text", bytes.len()),
            Datagram::Bytes(bytes) => ("bytes", bytes.len()),
            Datagram::Dns { message, .. } => ("dns", message.wire_size()),
        };
        if size <= MAX_UDP_PAYLOAD {
            return Ok(());
        }
        Err(self.error(
            &format!("{path}.{key}"),
            format!(
                "this is {size} bytes, but a UDP datagram carries at most \
                 {MAX_UDP_PAYLOAD} over IPv4 (65535 less the 20-byte IP and \
                 8-byte UDP headers); send it over TCP, or in several datagrams"
            ),
        ))
    }

    /// Chooses a datagram's ports: as given, as a reply, or a query's defaults.
    fn datagram_ports(
        &self,
        path: &str,
        raw: &RawSend,
        (from, to): (usize, usize),
        walk: &Walk,
        payload: &Datagram,
    ) -> Result<(PortChoice, PortChoice), ScenarioError> {
        let is_query =
            matches!(payload, Datagram::Dns { message, .. } if message.response.is_none());
        let answered = last_datagram(walk, to, from);
        let from_port = match (raw.from_port, answered) {
            (Some(port), _) => PortChoice::Given(port),
            (None, Some(earlier)) if !is_query => PortChoice::DestinationOf(earlier),
            (None, _) => PortChoice::Ephemeral,
        };
        let to_port = match (raw.to_port, answered) {
            (Some(port), _) => PortChoice::Given(port),
            (None, _) if is_query => PortChoice::Given(DNS_PORT),
            (None, Some(earlier)) => PortChoice::SourceOf(earlier),
            (None, None) => {
                let to = self.participant_id(to);
                return Err(self.error(
                    path,
                    format!("`{to}` has sent no datagram to answer here; give `to_port`"),
                ));
            }
        };
        let ports = [("from_port", from_port), ("to_port", to_port)];
        if let Some((key, _)) = ports.iter().find(|(_, port)| *port == PortChoice::Given(0)) {
            return Err(self.error(&format!("{path}.{key}"), PORT_ZERO));
        }
        Ok((from_port, to_port))
    }

    /// Checks a DNS message written field by field.
    fn dns_datagram(
        &self,
        path: &str,
        raw: &RawDnsMessage,
        ends: (usize, usize),
        walk: &Walk,
    ) -> Result<Datagram, ScenarioError> {
        let name = Name::parse(&raw.question.name)
            .map_err(|why| self.error(&format!("{path}.question.name"), why))?;
        let record_type = parse_record_type(&raw.question.record_type)
            .map_err(|why| self.error(&format!("{path}.question.type"), why))?;
        let question = Question { name, record_type };
        let mut message = dns::Message::query(0, question);
        if let Some(code) = &raw.response {
            message.response = Some(
                parse_rcode(code).map_err(|why| self.error(&format!("{path}.response"), why))?,
            );
            message.authoritative = raw.authoritative.unwrap_or(true);
        } else {
            self.query_has_no_records(path, raw)?;
            message.authoritative = raw.authoritative.unwrap_or(false);
        }
        message.answers = self.records(&format!("{path}.answers"), &raw.answers)?;
        message.authority = self.records(&format!("{path}.authority"), &raw.authority)?;
        message.additional = self.records(&format!("{path}.additional"), &raw.additional)?;
        let id = match (raw.id, message.response) {
            (Some(id), _) => DnsId::Given(id),
            (None, None) => DnsId::Fresh,
            (None, Some(_)) => {
                matching_query(walk, ends, &message.question).map_or(DnsId::Fresh, DnsId::SameAs)
            }
        };
        Ok(Datagram::Dns { message, id })
    }

    /// Refuses records in a message that is not a response.
    fn query_has_no_records(&self, path: &str, raw: &RawDnsMessage) -> Result<(), ScenarioError> {
        let sections = [
            ("answers", raw.answers.len()),
            ("authority", raw.authority.len()),
            ("additional", raw.additional.len()),
        ];
        match sections.iter().find(|(_, count)| *count > 0) {
            Some((key, _)) => Err(self.error(
                &format!("{path}.{key}"),
                "only a response carries records; add `response: NOERROR` to make this message one",
            )),
            None => Ok(()),
        }
    }
}

/// Returns the index of the last datagram step from `from` to `to`.
fn last_datagram(walk: &Walk, from: usize, to: usize) -> Option<usize> {
    walk.steps
        .iter()
        .rposition(|s| s.from == from && s.to == to && matches!(s.action, Action::Datagram { .. }))
}

/// Returns the index of the last query from `to` to `from` asking `question`.
fn matching_query(walk: &Walk, (from, to): (usize, usize), question: &Question) -> Option<usize> {
    walk.steps.iter().rposition(|s| {
        s.from == to && s.to == from && s.dns_query().is_some_and(|q| &q.question == question)
    })
}

/// Parses hexadecimal bytes, with optional spaces between them. A
/// character that is no hexadecimal digit is named before the digits are
/// counted, so `4g 1` is refused for its `g`, not for its three digits.
fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(bad) = digits.iter().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "`{}` is not a hexadecimal digit; expected bytes like 0d or 4F",
            bad.escape_debug()
        ));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "`{text}` has an odd number of hexadecimal digits (two per byte)"
        ));
    }
    let value = |digit: char| digit.to_digit(16).unwrap_or_default() as u8;
    Ok(digits
        .chunks(2)
        .map(|pair| value(pair[0]) << 4 | value(pair[1]))
        .collect())
}

/// Parses a record type name.
pub fn parse_record_type(text: &str) -> Result<RecordType, String> {
    match text.to_ascii_uppercase().as_str() {
        "A" => Ok(RecordType::A),
        "MX" => Ok(RecordType::Mx),
        "PTR" => Ok(RecordType::Ptr),
        "CNAME" => Ok(RecordType::Cname),
        _ => Err(format!(
            "`{text}` is not a record type seqsim knows (A, MX, PTR or CNAME)"
        )),
    }
}

/// Parses a response code name.
fn parse_rcode(text: &str) -> Result<ResponseCode, String> {
    match text.to_ascii_uppercase().as_str() {
        "NOERROR" => Ok(ResponseCode::NoError),
        "FORMERR" => Ok(ResponseCode::FormErr),
        "SERVFAIL" => Ok(ResponseCode::ServFail),
        "NXDOMAIN" => Ok(ResponseCode::NxDomain),
        "REFUSED" => Ok(ResponseCode::Refused),
        _ => Err(format!(
            "`{text}` is not a response code (NOERROR, FORMERR, SERVFAIL, NXDOMAIN or REFUSED)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_bytes_may_be_spaced() {
        assert_eq!(parse_hex("48 69 0d0A"), Ok(vec![0x48, 0x69, 0x0d, 0x0a]));
        assert!(parse_hex("4").is_err());
        assert!(parse_hex("zz").is_err());
        assert_eq!(
            parse_hex("4g 1"),
            Err("`g` is not a hexadecimal digit; expected bytes like 0d or 4F".to_string())
        );
        assert_eq!(
            parse_hex("41 4"),
            Err("`41 4` has an odd number of hexadecimal digits (two per byte)".to_string())
        );
    }
}
