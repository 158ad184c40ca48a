//! What an application model may ask of its host, and what it is told.
//!
//! Applications (SMTP client and server, DNS server) never touch the
//! network: they record [`Request`]s in a [`HostCalls`] and react to
//! [`Notice`]s. The host carries the requests out after the application
//! returns, in the order they were made, so the trace shows them in that
//! order too.

use std::net::Ipv4Addr;

use crate::time::{SimDuration, SimTime};
use crate::trace::LifelineEventKind;
use crate::wire::dns;

/// Names one TCP connection of a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u32);

/// Names one DNS look-up made through the host's resolver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueryId(pub u32);

/// Names one timer an application set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u32);

/// Why a look-up produced no response message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolveError {
    /// The host has no resolver configured.
    NoResolver,
    /// No answer came to any send of the question.
    TimedOut {
        /// How many times the question was sent.
        sends: u32,
    },
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::NoResolver => f.write_str("no resolver"),
            ResolveError::TimedOut { sends } => {
                write!(f, "no answer after {sends} sends (time-out)")
            }
        }
    }
}

/// Something an application asks its host to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Open a TCP connection.
    Connect {
        /// The id the application will know the connection by.
        conn: ConnId,
        /// The peer's address.
        address: Ipv4Addr,
        /// The peer's port.
        port: u16,
    },
    /// Send bytes on a connection, as one write (one segment when small).
    Send {
        /// The connection.
        conn: ConnId,
        /// The bytes.
        data: Vec<u8>,
    },
    /// Close the sending side of a connection.
    Close {
        /// The connection.
        conn: ConnId,
    },
    /// Ask the host's resolver a question.
    Resolve {
        /// The id the answer will come back with.
        query: QueryId,
        /// The question.
        question: dns::Question,
    },
    /// Note a result of the application in the trace.
    Record(Outcome),
    /// Mark something on the host's lifeline, such as a timer that fired.
    Note(Note),
    /// Wake the application with [`Notice::Timer`] after a delay.
    SetTimer {
        /// The id the notice will carry.
        timer: TimerId,
        /// How long from now.
        after: SimDuration,
    },
    /// Disarm a timer set earlier, so it never fires.
    CancelTimer {
        /// The timer.
        timer: TimerId,
    },
}

/// Something an application marks on its host's lifeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// What kind of happening it is.
    pub kind: LifelineEventKind,
    /// The text drawn, e.g. `DNS time-out (2s)`.
    pub label: String,
}

/// A result an application reports, kept in the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A receiving server stored a mail in a mailbox.
    Stored {
        /// The mailbox (local part).
        mailbox: String,
        /// The envelope sender.
        from: String,
        /// The message, dot-stuffing undone, lines ended by CRLF.
        content: String,
    },
    /// A sending client concluded what became of one recipient.
    Concluded {
        /// The recipient's address.
        recipient: String,
        /// True when the server took responsibility for the mail.
        delivered: bool,
        /// The reply or event the conclusion rests on.
        reason: String,
    },
}

/// Something that happened which an application is told about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The application's start time has come.
    Start,
    /// A connection the application opened is established.
    Connected(ConnId),
    /// A peer opened a connection to a port the application listens on.
    Accepted {
        /// The new connection.
        conn: ConnId,
        /// The peer's address.
        peer: Ipv4Addr,
    },
    /// Bytes arrived, in order.
    Received(ConnId, Vec<u8>),
    /// The peer will send nothing more (its FIN arrived).
    PeerFinished(ConnId),
    /// The connection is fully closed.
    Closed(ConnId),
    /// The connection was reset or could not be opened.
    Reset(ConnId),
    /// A look-up finished.
    Resolved(QueryId, Result<dns::Message, ResolveError>),
    /// A timer the application set has fired.
    Timer(TimerId),
}

/// Collects an application's requests during one reaction.
#[derive(Debug, Default)]
pub struct HostCalls {
    now: SimTime,
    requests: Vec<Request>,
    next_conn: u32,
    next_query: u32,
    next_timer: u32,
}

impl HostCalls {
    /// Sets the virtual time the next reaction happens at.
    #[inline]
    pub fn set_now(&mut self, now: SimTime) {
        self.now = now;
    }

    /// Returns the virtual time of the current reaction.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Asks for a new connection and returns its id.
    pub fn connect(&mut self, address: Ipv4Addr, port: u16) -> ConnId {
        let conn = self.new_conn_id();
        self.requests.push(Request::Connect {
            conn,
            address,
            port,
        });
        conn
    }

    /// Returns an id for a connection the host itself accepted.
    pub fn new_conn_id(&mut self) -> ConnId {
        self.next_conn += 1;
        ConnId(self.next_conn)
    }

    /// Asks to send one line or block of bytes.
    pub fn send(&mut self, conn: ConnId, data: impl Into<Vec<u8>>) {
        self.requests.push(Request::Send {
            conn,
            data: data.into(),
        });
    }

    /// Asks to close the sending side of a connection.
    pub fn close(&mut self, conn: ConnId) {
        self.requests.push(Request::Close { conn });
    }

    /// Asks a DNS question and returns the look-up's id.
    pub fn resolve(&mut self, name: dns::Name, record_type: dns::RecordType) -> QueryId {
        self.next_query += 1;
        let query = QueryId(self.next_query);
        let question = dns::Question { name, record_type };
        self.requests.push(Request::Resolve { query, question });
        query
    }

    /// Asks to be woken after `after` and returns the timer's id.
    pub fn set_timer(&mut self, after: SimDuration) -> TimerId {
        self.next_timer += 1;
        let timer = TimerId(self.next_timer);
        self.requests.push(Request::SetTimer { timer, after });
        timer
    }

    /// Asks that a timer set earlier never fire.
    pub fn cancel_timer(&mut self, timer: TimerId) {
        self.requests.push(Request::CancelTimer { timer });
    }

    /// Notes a result in the trace.
    pub fn record(&mut self, outcome: Outcome) {
        self.requests.push(Request::Record(outcome));
    }

    /// Marks a happening on the host's lifeline, e.g. a timer that fired.
    pub fn note(&mut self, kind: LifelineEventKind, label: impl Into<String>) {
        let label = label.into();
        self.requests.push(Request::Note(Note { kind, label }));
    }

    /// Hands over the requests made so far, oldest first.
    #[inline]
    pub fn take_requests(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.requests)
    }

    /// Takes over the room of `old`'s list of requests if this one has
    /// none; whatever `old` still held is dropped.
    pub fn reuse_memory_of(&mut self, old: &mut HostCalls) {
        if self.requests.capacity() == 0 {
            old.requests.clear();
            std::mem::swap(&mut self.requests, &mut old.requests);
        }
    }

    /// Takes back a list handed over by [`Self::take_requests`], emptied,
    /// to reuse its memory, unless requests were made meanwhile.
    #[inline]
    pub fn give_back_requests(&mut self, mut requests: Vec<Request>) {
        if self.requests.is_empty() {
            requests.clear();
            self.requests = requests;
        }
    }
}
