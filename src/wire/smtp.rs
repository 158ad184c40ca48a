//! SMTP commands, replies and addresses as typed values (RFC 5321 §4.1).
//!
//! Lines end in CRLF on the wire; the types here hold them without it.
//! Parsing is lenient where real servers are (a path without angle
//! brackets is read, and the fact recorded), so a scripted exchange can be
//! replayed and judged later.

use std::fmt;

/// A mail address `local@domain` (RFC 5321 §4.1.2, dot-atom local parts only).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    /// The part before `@`: the mailbox at the domain.
    pub local: String,
    /// The part after `@`, folded to lower case.
    pub domain: String,
}

impl Address {
    /// Parses `local@domain`, e.g. `luke@sender.com`.
    pub fn parse(text: &str) -> Result<Address, String> {
        let (local, domain) = text
            .rsplit_once('@')
            .ok_or_else(|| format!("`{text}` is not a mail address (no `@`)"))?;
        check_local_part(local).map_err(|why| format!("`{text}` is not a mail address: {why}"))?;
        let domain = crate::wire::dns::Name::parse(domain)
            .map_err(|why| format!("`{text}` is not a mail address: {why}"))?;
        Ok(Address {
            local: local.to_string(),
            domain: domain.as_str().to_string(),
        })
    }
}

/// Checks a dot-atom local part (RFC 5322 §3.2.3 atext).
fn check_local_part(local: &str) -> Result<(), String> {
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";
    if local.is_empty() || local.len() > 64 {
        return Err("the local part must have 1 to 64 characters".to_string());
    }
    if local.split('.').any(str::is_empty) {
        return Err("the local part has an empty dot-separated piece".to_string());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '.' || SPECIALS.contains(c);
    match local.chars().find(|c| !allowed(*c)) {
        Some(bad) => Err(format!("`{bad}` is not allowed in the local part")),
        None => Ok(()),
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

/// The address in a MAIL FROM or RCPT TO, and whether it was bracketed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    /// The address as written between the brackets (empty for `<>`).
    pub address: String,
    /// True when written `<...>` as RFC 5321 §4.1.2 requires.
    pub bracketed: bool,
}

impl Path {
    /// Reads a path after `FROM:` or `TO:`, with or without brackets.
    fn parse(text: &str) -> Path {
        let text = text.trim();
        let text = text
            .split_once(' ')
            .map_or(text, |(path, _parameters)| path);
        match text
            .strip_prefix('<')
            .and_then(|rest| rest.strip_suffix('>'))
        {
            Some(inner) => Path {
                address: inner.to_string(),
                bracketed: true,
            },
            None => Path {
                address: text.to_string(),
                bracketed: false,
            },
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.bracketed {
            write!(f, "<{}>", self.address)
        } else {
            f.write_str(&self.address)
        }
    }
}

/// One SMTP command line (RFC 5321 §4.1.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `HELO domain`.
    Helo(String),
    /// `EHLO domain`.
    Ehlo(String),
    /// `MAIL FROM:<path>`.
    Mail(Path),
    /// `RCPT TO:<path>`.
    Rcpt(Path),
    /// `DATA`.
    Data,
    /// `VRFY string`.
    Vrfy(String),
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// Anything else, kept as written.
    Unknown(String),
}

impl Command {
    /// Reads a command line (without its CRLF); verbs are case-insensitive.
    pub fn parse(line: &str) -> Command {
        let (verb, argument) = line.split_once(' ').unwrap_or((line, ""));
        let argument = argument.trim();
        match verb.to_ascii_uppercase().as_str() {
            "HELO" => Command::Helo(argument.to_string()),
            "EHLO" => Command::Ehlo(argument.to_string()),
            "DATA" if argument.is_empty() => Command::Data,
            "VRFY" => Command::Vrfy(argument.to_string()),
            "RSET" => Command::Rset,
            "NOOP" => Command::Noop,
            "QUIT" => Command::Quit,
            _ => Self::parse_with_colon(line),
        }
    }

    /// Reads `MAIL FROM:` and `RCPT TO:`, whose verb ends at a colon.
    fn parse_with_colon(line: &str) -> Command {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("MAIL FROM:") {
            return Command::Mail(Path::parse(&line["MAIL FROM:".len()..]));
        }
        if upper.starts_with("RCPT TO:") {
            return Command::Rcpt(Path::parse(&line["RCPT TO:".len()..]));
        }
        Command::Unknown(line.to_string())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Helo(domain) => write!(f, "HELO {domain}"),
            Command::Ehlo(domain) => write!(f, "EHLO {domain}"),
            Command::Mail(path) => write!(f, "MAIL FROM:{path}"),
            Command::Rcpt(path) => write!(f, "RCPT TO:{path}"),
            Command::Data => f.write_str("DATA"),
            Command::Vrfy(argument) => write!(f, "VRFY {argument}"),
            Command::Rset => f.write_str("RSET"),
            Command::Noop => f.write_str("NOOP"),
            Command::Quit => f.write_str("QUIT"),
            Command::Unknown(line) => f.write_str(line),
        }
    }
}

/// One single-line reply: a three-digit code and text (RFC 5321 §4.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The code; its first digit says success (2), more input (3),
    /// temporary failure (4) or permanent failure (5).
    pub code: u16,
    /// The human-readable text after the code.
    pub text: String,
}

impl Reply {
    /// Builds a reply.
    pub fn new(code: u16, text: impl Into<String>) -> Reply {
        Reply {
            code,
            text: text.into(),
        }
    }

    /// Reads a reply line (without CRLF), e.g. `250 OK`.
    pub fn parse(line: &str) -> Option<Reply> {
        let code_text = line.get(..3)?;
        if !code_text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let rest = &line[3..];
        if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('-')) {
            return None;
        }
        let code = code_text.parse().ok()?;
        Some(Reply {
            code,
            text: rest.get(1..).unwrap_or("").to_string(),
        })
    }

    /// Tells whether the reply is positive completion (2yz).
    pub fn is_positive(&self) -> bool {
        self.code / 100 == 2
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.text.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{} {}", self.code, self.text)
        }
    }
}

/// Collects received bytes and hands out complete CRLF-ended lines.
#[derive(Clone, Debug, Default)]
pub struct LineReader {
    pending: Vec<u8>,
}

impl LineReader {
    /// Adds received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// Returns the next complete line without its CRLF, if one has arrived.
    pub fn next_line(&mut self) -> Option<String> {
        let end = self.pending.windows(2).position(|pair| pair == b"\r\n")?;
        let line: Vec<u8> = self.pending.drain(..end + 2).take(end).collect();
        Some(String::from_utf8_lossy(&line).into_owned())
    }
}

/// Doubles a leading dot on every line of a message (RFC 5321 §4.5.2).
///
/// `text` holds lines ended by CRLF; the result is ready to follow DATA,
/// to be ended by `.` CRLF.
pub fn dot_stuff(text: &str) -> String {
    let mut stuffed = String::with_capacity(text.len() + 8);
    for line in text.split_inclusive("\r\n") {
        if line.starts_with('.') {
            stuffed.push('.');
        }
        stuffed.push_str(line);
    }
    stuffed
}

/// Writes each line break of `text` as CRLF and makes it end with one.
pub fn to_crlf_lines(text: &str) -> String {
    let mut lines: String = text.lines().flat_map(|line| [line, "\r\n"]).collect();
    if lines.is_empty() {
        lines.push_str("\r\n");
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_from_keeps_whether_the_path_was_bracketed() {
        let standard = Command::parse("MAIL FROM:<luke@sender.com>");
        let as_drawn = Command::parse("mail from:luke@sender.com");
        let bracketed = Path {
            address: "luke@sender.com".into(),
            bracketed: true,
        };
        assert_eq!(standard, Command::Mail(bracketed));
        let bare = Path {
            address: "luke@sender.com".into(),
            bracketed: false,
        };
        assert_eq!(as_drawn, Command::Mail(bare));
    }

    #[test]
    fn commands_print_as_rfc_5321_writes_them() {
        let path = Path {
            address: "c3po@receiver.com".into(),
            bracketed: true,
        };
        assert_eq!(
            Command::Rcpt(path).to_string(),
            "RCPT TO:<c3po@receiver.com>"
        );
        assert_eq!(Command::parse("vrfy aibo").to_string(), "VRFY aibo");
        assert_eq!(Command::parse("QUIT"), Command::Quit);
    }

    #[test]
    fn replies_parse_code_and_text() {
        assert_eq!(
            Reply::parse("550 Unknown user: aibo"),
            Some(Reply::new(550, "Unknown user: aibo"))
        );
        assert_eq!(Reply::parse("221"), Some(Reply::new(221, "")));
        assert_eq!(Reply::parse("25O OK"), None);
        assert_eq!(Reply::parse("2500 OK"), None);
    }

    #[test]
    fn line_reader_waits_for_crlf() {
        let mut reader = LineReader::default();
        reader.push(b"HELO a\r");
        assert_eq!(reader.next_line(), None);
        reader.push(b"\nVRFY b\r\n");
        assert_eq!(reader.next_line().as_deref(), Some("HELO a"));
        assert_eq!(reader.next_line().as_deref(), Some("VRFY b"));
        assert_eq!(reader.next_line(), None);
    }

    #[test]
    fn leading_dots_are_doubled() {
        assert_eq!(dot_stuff("a\r\n.b\r\n..c\r\n"), "a\r\n..b\r\n...c\r\n");
    }

    #[test]
    fn addresses_need_a_local_part_and_a_domain() {
        assert_eq!(
            Address::parse("C3PO@Receiver.com").unwrap().to_string(),
            "C3PO@receiver.com"
        );
        for bad in [
            "aibo",
            "@receiver.com",
            "a@",
            "a b@c.com",
            "a..b@c.com",
            "a@b..com",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
