//! SMTP commands, replies and addresses as typed values (RFC 5321 §4.1).
//!
//! Lines end in CRLF on the wire; the types here hold them without it.
//! Parsing is lenient where real servers are (a path without angle
//! brackets is read, and the fact recorded), so a scripted exchange can be
//! replayed and judged later.

use std::borrow::Cow;
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
        let (local, domain) = split_at_last_at_sign(text)
            .ok_or_else(|| format!("`{text}` is not a mail address (no `@`)"))?;
        check_local_part(local).map_err(|why| format!("`{text}` is not a mail address: {why}"))?;
        let domain = crate::wire::dns::Name::parse(domain)
            .map_err(|why| format!("`{text}` is not a mail address: {why}"))?;
        Ok(Address {
            local: local.to_string(),
            domain: domain.into_string(),
        })
    }
}

/// Splits `local@domain` at its last `@`, by a byte search: `@` is
/// ASCII, so no character is decoded to find it.
fn split_at_last_at_sign(text: &str) -> Option<(&str, &str)> {
    let at = text.bytes().rposition(|b| b == b'@')?;
    Some((&text[..at], &text[at + 1..]))
}

/// Checks a dot-atom local part (RFC 5322 §3.2.3 atext).
fn check_local_part(local: &str) -> Result<(), String> {
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";
    if local.is_empty() || local.len() > 64 {
        return Err("the local part must have 1 to 64 characters".to_string());
    }
    if local.as_bytes().split(|&b| b == b'.').any(<[u8]>::is_empty) {
        return Err("the local part has an empty dot-separated piece".to_string());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '.' || SPECIALS.contains(c);
    match local.chars().find(|c| !allowed(*c)) {
        Some(bad) => Err(format!("`{bad}` is not allowed in the local part")),
        None => Ok(()),
    }
}

impl Address {
    /// Returns `local@domain`, the text [`Display`](fmt::Display) writes,
    /// built in one allocation.
    pub fn to_text(&self) -> String {
        let mut text = String::with_capacity(self.local.len() + 1 + self.domain.len());
        text.push_str(&self.local);
        text.push('@');
        text.push_str(&self.domain);
        text
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.local)?;
        f.write_str("@")?;
        f.write_str(&self.domain)
    }
}

/// The address in a MAIL FROM or RCPT TO, and whether it was bracketed.
///
/// A path read from a line borrows its address from the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path<'a> {
    /// The address as written between the brackets (empty for `<>`).
    pub address: Cow<'a, str>,
    /// True when written `<...>` as RFC 5321 §4.1.2 requires.
    pub bracketed: bool,
}

impl Path<'_> {
    /// Returns the bracketed path `<local@domain>` of an address.
    pub fn of(address: &Address) -> Path<'static> {
        Path {
            address: Cow::Owned(address.to_text()),
            bracketed: true,
        }
    }
}

impl<'a> Path<'a> {
    /// Reads a path after `FROM:` or `TO:`, with or without brackets.
    fn parse(text: &'a str) -> Path<'a> {
        let text = text.trim();
        let (text, _parameters) = split_at_first_space(text);
        match text
            .strip_prefix('<')
            .and_then(|rest| rest.strip_suffix('>'))
        {
            Some(inner) => Path {
                address: Cow::Borrowed(inner),
                bracketed: true,
            },
            None => Path {
                address: Cow::Borrowed(text),
                bracketed: false,
            },
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (open, address, close) = self.surrounded();
        f.write_str(open)?;
        f.write_str(address)?;
        f.write_str(close)
    }
}

/// A text with what is written before and after it, e.g. `("<", a, ">")`.
type Surrounded<'a> = (&'static str, &'a str, &'static str);

impl Path<'_> {
    /// Returns what is written before and after the address.
    fn brackets(&self) -> (&'static str, &'static str) {
        if self.bracketed { ("<", ">") } else { ("", "") }
    }

    /// Returns the address with its brackets, if any.
    fn surrounded(&self) -> Surrounded<'_> {
        let (open, close) = self.brackets();
        (open, &self.address, close)
    }
}

/// One SMTP command line (RFC 5321 §4.1.1).
///
/// A command read from a line borrows its argument from the line; one
/// built to be sent may borrow it from the value it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// `HELO domain`.
    Helo(Cow<'a, str>),
    /// `EHLO domain`.
    Ehlo(Cow<'a, str>),
    /// `MAIL FROM:<path>`.
    Mail(Path<'a>),
    /// `RCPT TO:<path>`.
    Rcpt(Path<'a>),
    /// `DATA`.
    Data,
    /// `VRFY string`.
    Vrfy(Cow<'a, str>),
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// Anything else, kept as written.
    Unknown(Cow<'a, str>),
}

impl<'a> Command<'a> {
    /// Reads a command line (without its CRLF); verbs are case-insensitive.
    pub fn parse(line: &'a str) -> Command<'a> {
        let (verb, argument) = split_at_first_space(line);
        let argument = argument.trim();
        match four_letters_in_capitals(verb).as_ref() {
            Some(b"HELO") => Command::Helo(Cow::Borrowed(argument)),
            Some(b"EHLO") => Command::Ehlo(Cow::Borrowed(argument)),
            Some(b"DATA") if argument.is_empty() => Command::Data,
            Some(b"VRFY") => Command::Vrfy(Cow::Borrowed(argument)),
            Some(b"RSET") => Command::Rset,
            Some(b"NOOP") => Command::Noop,
            Some(b"QUIT") => Command::Quit,
            _ => Self::parse_with_colon(line),
        }
    }

    /// Reads `MAIL FROM:` and `RCPT TO:`, whose verb ends at a colon.
    fn parse_with_colon(line: &'a str) -> Command<'a> {
        if let Some(path) = strip_prefix_ignoring_case(line, "MAIL FROM:") {
            return Command::Mail(Path::parse(path));
        }
        if let Some(path) = strip_prefix_ignoring_case(line, "RCPT TO:") {
            return Command::Rcpt(Path::parse(path));
        }
        Command::Unknown(Cow::Borrowed(line))
    }

    /// Returns the command as it goes on the wire, CRLF included.
    pub fn to_line(&self) -> Vec<u8> {
        let (verb, path) = self.parts();
        let (open, argument, close) = path;
        let length = verb.len() + open.len() + argument.len() + close.len() + 2;
        let mut line = Vec::with_capacity(length);
        for piece in [verb, open, argument, close, "\r\n"] {
            line.extend_from_slice(piece.as_bytes());
        }
        line
    }

    /// Splits the command into the text before its argument and the
    /// argument with what surrounds it: `("MAIL FROM:", ("<", a, ">"))`.
    fn parts(&self) -> (&'static str, Surrounded<'_>) {
        fn plain(argument: &str) -> Surrounded<'_> {
            ("", argument, "")
        }
        let path_parts = Path::surrounded;
        match self {
            Command::Helo(domain) => ("HELO ", plain(domain)),
            Command::Ehlo(domain) => ("EHLO ", plain(domain)),
            Command::Mail(path) => ("MAIL FROM:", path_parts(path)),
            Command::Rcpt(path) => ("RCPT TO:", path_parts(path)),
            Command::Data => ("DATA", plain("")),
            Command::Vrfy(argument) => ("VRFY ", plain(argument)),
            Command::Rset => ("RSET", plain("")),
            Command::Noop => ("NOOP", plain("")),
            Command::Quit => ("QUIT", plain("")),
            Command::Unknown(line) => ("", plain(line)),
        }
    }
}

/// Splits `text` at its first space into what comes before and after
/// it (`text` and nothing when there is none), by a byte search: a
/// space is ASCII, so no character is decoded to find it.
fn split_at_first_space(text: &str) -> (&str, &str) {
    match text.bytes().position(|b| b == b' ') {
        Some(space) => (&text[..space], &text[space + 1..]),
        None => (text, ""),
    }
}

/// Returns a verb of four bytes with its ASCII letters in capitals, as
/// RFC 5321 writes verbs, so that one comparison reads it whatever its
/// case; `None` for a verb of another length.
fn four_letters_in_capitals(verb: &str) -> Option<[u8; 4]> {
    let letters: [u8; 4] = verb.as_bytes().try_into().ok()?;
    Some(letters.map(|letter| letter.to_ascii_uppercase()))
}

/// Returns what follows `prefix` at the start of `line`, letters
/// compared without case; `prefix` is ASCII.
fn strip_prefix_ignoring_case<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let head = line.as_bytes().get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix.as_bytes()) {
        return None;
    }
    Some(&line[prefix.len()..])
}

impl fmt::Display for Command<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (verb, (open, argument, close)) = self.parts();
        for piece in [verb, open, argument, close] {
            f.write_str(piece)?;
        }
        Ok(())
    }
}

/// One single-line reply: a three-digit code and text (RFC 5321 §4.2).
///
/// A reply read from a line borrows its text from the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply<'a> {
    /// The code; its first digit says success (2), more input (3),
    /// temporary failure (4) or permanent failure (5).
    pub code: u16,
    /// The human-readable text after the code.
    pub text: Cow<'a, str>,
}

impl<'a> Reply<'a> {
    /// Builds a reply.
    pub fn new(code: u16, text: impl Into<Cow<'a, str>>) -> Reply<'a> {
        Reply {
            code,
            text: text.into(),
        }
    }

    /// Reads a reply line (without CRLF), e.g. `250 OK`.
    pub fn parse(line: &'a str) -> Option<Reply<'a>> {
        let code_text = line.get(..3)?;
        if !code_text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let rest = &line[3..];
        if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('-')) {
            return None;
        }
        let code = code_text
            .bytes()
            .fold(0, |code, digit| code * 10 + u16::from(digit - b'0'));
        Some(Reply {
            code,
            text: Cow::Borrowed(rest.get(1..).unwrap_or("")),
        })
    }

    /// Returns the reply line of `code` and `text` as it goes on the
    /// wire, CRLF included: the bytes `Reply::new(code, text)` displays,
    /// then CRLF, without building the reply.
    pub fn encode(code: u16, text: &str) -> Vec<u8> {
        let mut digits = itoa::Buffer::new();
        let code = digits.format(code).as_bytes();
        let mut line = Vec::with_capacity(code.len() + 1 + text.len() + 2);
        line.extend_from_slice(code);
        if !text.is_empty() {
            line.push(b' ');
            line.extend_from_slice(text.as_bytes());
        }
        line.extend_from_slice(b"\r\n");
        line
    }

    /// Returns `code text`, the text [`Display`](fmt::Display) writes,
    /// built in one allocation.
    pub fn to_text(&self) -> String {
        let mut digits = itoa::Buffer::new();
        let code = digits.format(self.code);
        let mut text = String::with_capacity(code.len() + 1 + self.text.len());
        text.push_str(code);
        if !self.text.is_empty() {
            text.push(' ');
            text.push_str(&self.text);
        }
        text
    }

    /// Tells whether the reply is positive completion (2yz).
    pub fn is_positive(&self) -> bool {
        self.code / 100 == 2
    }
}

impl fmt::Display for Reply<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(itoa::Buffer::new().format(self.code))?;
        if self.text.is_empty() {
            return Ok(());
        }
        f.write_str(" ")?;
        f.write_str(&self.text)
    }
}

/// The longest command line and reply line, CRLF included (RFC 5321
/// §4.5.3.1.4, §4.5.3.1.5).
const LONGEST_LINE: usize = 512;

/// Collects received bytes and hands out complete CRLF-ended lines.
///
/// Lines are lent out of the buffer rather than copied; the bytes of the
/// lines handed out are dropped at the next [`push`](LineReader::push).
#[derive(Clone, Debug, Default)]
pub struct LineReader {
    pending: Vec<u8>,
    /// Where the first byte not yet handed out is in `pending`.
    read: usize,
}

impl LineReader {
    /// Adds received bytes.
    ///
    /// The buffer starts with room for the longest command or reply line
    /// RFC 5321 §4.5.3.1 allows, so that lines of growing length do not
    /// make it grow step by step.
    pub fn push(&mut self, bytes: &[u8]) {
        self.forget_read_lines();
        if self.pending.capacity() == 0 {
            self.pending.reserve(bytes.len().max(LONGEST_LINE));
        }
        self.pending.extend_from_slice(bytes);
    }

    /// Drops the bytes of the lines handed out; when every byte was,
    /// as after a segment of whole lines, the buffer is only emptied.
    fn forget_read_lines(&mut self) {
        if self.read == self.pending.len() {
            self.pending.clear();
        } else {
            self.pending.drain(..self.read);
        }
        self.read = 0;
    }

    /// Returns how many received bytes have not been handed out yet.
    pub fn unread_len(&self) -> usize {
        self.pending.len() - self.read
    }

    /// Returns the next complete line without its CRLF, if one has arrived.
    pub fn next_line(&mut self) -> Option<String> {
        self.next_line_text().map(Cow::into_owned)
    }

    /// Lends the next complete line without its CRLF, if one has arrived;
    /// bytes that are not UTF-8 read as U+FFFD, as in
    /// [`String::from_utf8_lossy`].
    pub fn next_line_text(&mut self) -> Option<Cow<'_, str>> {
        let unread = &self.pending[self.read..];
        let end = crlf_position(unread)?;
        let start = self.read;
        self.read += end + 2;
        Some(text_of(&self.pending[start..start + end]))
    }
}

/// Reads bytes as UTF-8, lent when they are valid, else copied with each
/// bad sequence replaced by U+FFFD.
///
/// The same as [`String::from_utf8_lossy`], which takes a slower path
/// built for text with errors even when there are none.
fn text_of(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Finds the first CRLF in `bytes`: the position of its CR.
fn crlf_position(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let newline = from + bytes[from..].iter().position(|&b| b == b'\n')?;
        if newline > 0 && bytes[newline - 1] == b'\r' {
            return Some(newline - 1);
        }
        from = newline + 1;
    }
}

/// Doubles a leading dot on every line of a message (RFC 5321 §4.5.2).
///
/// `text` holds lines ended by CRLF; the result is ready to follow DATA,
/// to be ended by `.` CRLF.
pub fn dot_stuff(text: &str) -> String {
    if !has_line_starting_with_dot(text) {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut stuffed = String::with_capacity(text.len() + 8);
    let mut copied = 0;
    let mut line = Some(0);
    while let Some(start) = line {
        if bytes.get(start) == Some(&b'.') {
            stuffed.push_str(&text[copied..start]);
            stuffed.push('.');
            copied = start;
        }
        line = crlf_position(&bytes[start..]).map(|cr| start + cr + 2);
    }
    stuffed.push_str(&text[copied..]);
    stuffed
}

/// Tells whether a line of `text`, whose lines end by CRLF, starts with
/// a dot: most messages have none, and then nothing is stuffed.
fn has_line_starting_with_dot(text: &str) -> bool {
    text.starts_with('.') || text.contains("\r\n.")
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
    fn verbs_are_read_whatever_their_case() {
        assert_eq!(
            Command::parse("hElO a.example"),
            Command::Helo("a.example".into())
        );
        let path = Path {
            address: "c3po@receiver.com".into(),
            bracketed: true,
        };
        assert_eq!(
            Command::parse("Rcpt To:<c3po@receiver.com>"),
            Command::Rcpt(path)
        );
        assert_eq!(Command::parse("data"), Command::Data);
        assert_eq!(
            Command::parse("HELOS a.example"),
            Command::Unknown("HELOS a.example".into())
        );
        assert_eq!(
            Command::parse("DATA now"),
            Command::Unknown("DATA now".into())
        );
        assert_eq!(
            Command::parse("MAIL FROM"),
            Command::Unknown("MAIL FROM".into())
        );
        assert_eq!(
            Command::parse("MAÏL FROM:x"),
            Command::Unknown("MAÏL FROM:x".into())
        );
    }

    #[test]
    fn command_lines_are_the_command_and_crlf() {
        let luke = Address::parse("luke@sender.com").unwrap();
        let mail = Command::Mail(Path::of(&luke));
        assert_eq!(mail.to_line(), b"MAIL FROM:<luke@sender.com>\r\n");
        let bare = Path {
            address: "luke@sender.com".into(),
            bracketed: false,
        };
        assert_eq!(
            Command::Rcpt(bare).to_line(),
            b"RCPT TO:luke@sender.com\r\n"
        );
        assert_eq!(
            Command::Helo("a.example".into()).to_line(),
            b"HELO a.example\r\n"
        );
        assert_eq!(Command::Data.to_line(), b"DATA\r\n");
        assert_eq!(Command::Unknown("HACK it".into()).to_line(), b"HACK it\r\n");
    }

    #[test]
    fn reply_lines_are_code_text_and_crlf() {
        assert_eq!(Reply::encode(250, "OK"), b"250 OK\r\n");
        assert_eq!(Reply::encode(221, ""), b"221\r\n");
        assert_eq!(
            Reply::new(550, "No such user").to_string(),
            "550 No such user"
        );
        assert_eq!(Reply::new(7, "").to_string(), "7");
        assert_eq!(
            Reply::new(550, "No such user").to_text(),
            "550 No such user"
        );
        assert_eq!(Reply::new(221, "").to_text(), "221");
    }

    #[test]
    fn line_reader_keeps_a_partial_line_after_lending_the_complete_ones() {
        let mut reader = LineReader::default();
        reader.push(b"250 OK\r\n354 Go");
        assert_eq!(reader.next_line_text().as_deref(), Some("250 OK"));
        assert_eq!(reader.next_line_text(), None);
        reader.push(b" ahead\r\n");
        assert_eq!(reader.next_line_text().as_deref(), Some("354 Go ahead"));
        assert_eq!(reader.next_line_text(), None);
    }

    #[test]
    fn line_reader_counts_the_bytes_not_yet_handed_out() {
        let mut reader = LineReader::default();
        reader.push(b"HELO a\r\nVR");
        assert_eq!(reader.unread_len(), 10);
        reader.next_line_text();
        assert_eq!(reader.unread_len(), 2);
        reader.push(b"FY b\r\n");
        assert_eq!(reader.unread_len(), 8);
    }

    #[test]
    fn line_reader_splits_only_at_cr_lf() {
        let mut reader = LineReader::default();
        reader.push(b"a\rb\nc\n\r\r\n");
        assert_eq!(reader.next_line().as_deref(), Some("a\rb\nc\n\r"));
    }

    #[test]
    fn line_reader_reads_bytes_that_are_not_utf8_as_replacement_characters() {
        let mut reader = LineReader::default();
        reader.push(b"VRFY \xffaibo\r\n");
        assert_eq!(reader.next_line().as_deref(), Some("VRFY \u{FFFD}aibo"));
    }

    #[test]
    fn line_reader_joins_a_character_cut_between_two_pushes() {
        let mut reader = LineReader::default();
        reader.push(b"caf\xc3");
        assert_eq!(reader.next_line(), None);
        reader.push(b"\xa9\r\n");
        assert_eq!(reader.next_line().as_deref(), Some("caf\u{e9}"));
    }

    #[test]
    fn line_reader_reads_a_sequence_cut_by_the_crlf_as_one_replacement() {
        // E2 82 begins the three bytes of U+20AC; a CR cannot continue it.
        let mut reader = LineReader::default();
        reader.push(b"a\xe2\x82\r\nb\xe2");
        reader.push(b"\x82\r\n");
        assert_eq!(reader.next_line().as_deref(), Some("a\u{FFFD}"));
        assert_eq!(reader.next_line().as_deref(), Some("b\u{FFFD}"));
    }

    #[test]
    fn only_dots_that_start_a_crlf_line_are_doubled() {
        assert_eq!(dot_stuff("..a\r\nb.c\r\n.\r\n"), "...a\r\nb.c\r\n..\r\n");
        assert_eq!(dot_stuff("a\n.b\r.c\r\n"), "a\n.b\r.c\r\n");
    }

    #[test]
    fn leading_dots_are_doubled_on_a_last_line_without_crlf_too() {
        assert_eq!(dot_stuff("a\r\n.b"), "a\r\n..b");
        assert_eq!(dot_stuff(""), "");
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
