//! One simulated host: its TCP connections, its resolver and the
//! application models that run on it.
//!
//! The host turns application requests into segments and datagrams and
//! hands arriving packets to the right connection or application. For
//! each arriving segment it sends the connection's own replies (the ACK)
//! first, then lets the application react, then flushes any deferred ACK,
//! so the wire order is the one the documented exchange draws.
//!
//! Not modelled: IP fragmentation, ICMP (a datagram to a closed UDP port
//! is dropped silently), more than one address per host.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use rand_core::Rng;

use crate::protocol::dns::{self as dns_model, Resolver};
use crate::protocol::host_api::{
    ConnId, HostCalls, Notice, Outcome, QueryId, Request, ResolveError,
};
use crate::protocol::smtp;
use crate::protocol::tcp::{self, Connection, Event};
use crate::sim::packet::{Body, Outgoing, Packet};
use crate::sim::random;
use crate::time::SimTime;
use crate::wire::dns;
use crate::wire::tcp::{Control, Segment, SeqNumber};

/// The first port of the dynamic range (RFC 6335 §6).
const FIRST_EPHEMERAL_PORT: u16 = 49152;

/// An application model running on a host.
#[derive(Debug)]
pub enum App {
    /// Sends mail.
    SmtpClient(smtp::Client),
    /// Receives mail on port 25.
    SmtpServer(smtp::Server),
    /// Answers DNS queries on port 53.
    DnsServer(dns_model::Server),
}

impl App {
    /// Passes one notice to the model.
    fn handle(&mut self, calls: &mut HostCalls, notice: Notice) {
        match self {
            App::SmtpClient(client) => client.handle(calls, notice),
            App::SmtpServer(server) => server.handle(calls, notice),
            App::DnsServer(_) => {}
        }
    }

    /// Returns the TCP port the model listens on, if any.
    fn listening_port(&self) -> Option<u16> {
        matches!(self, App::SmtpServer(_)).then_some(smtp::PORT)
    }
}

/// A TCP connection and who owns it.
#[derive(Debug)]
struct Socket {
    connection: Connection,
    remote: Ipv4Addr,
    app: usize,
    accepted: bool,
}

/// A result an application reported, stamped with the time.
#[derive(Clone, Debug)]
pub struct Report {
    /// When it was reported.
    pub at: SimTime,
    /// What was reported.
    pub outcome: Outcome,
}

/// One host and everything running on it.
#[derive(Debug)]
pub struct Host {
    id: String,
    address: Ipv4Addr,
    seed: u64,
    apps: Vec<App>,
    sockets: BTreeMap<ConnId, Socket>,
    endpoints: BTreeMap<(u16, Ipv4Addr, u16), ConnId>,
    resolver: Option<Resolver>,
    queries: BTreeMap<QueryId, usize>,
    next_port_offset: u32,
    calls: HostCalls,
    outbox: Vec<Outgoing>,
    reports: Vec<Report>,
}

impl Host {
    /// Builds a host; `resolver` is the address of the DNS server it asks.
    pub fn new(id: &str, address: Ipv4Addr, seed: u64, resolver: Option<Ipv4Addr>) -> Host {
        let resolver = resolver.map(|server| {
            Resolver::new(server, random::stream(seed, &format!("dns-resolver/{id}")))
        });
        Host {
            id: id.to_string(),
            address,
            seed,
            apps: Vec::new(),
            sockets: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            resolver,
            queries: BTreeMap::new(),
            next_port_offset: random::stream(seed, &format!("tcp-ephemeral-port/{id}")).next_u32(),
            calls: HostCalls::default(),
            outbox: Vec::new(),
            reports: Vec::new(),
        }
    }

    /// Adds an application and returns its index on this host.
    pub fn add_app(&mut self, app: App) -> usize {
        self.apps.push(app);
        self.apps.len() - 1
    }

    /// Starts the application at `app`.
    pub fn start(&mut self, now: SimTime, app: usize) {
        self.notify(now, app, Notice::Start);
    }

    /// Handles a packet that reached this host.
    pub fn receive(&mut self, now: SimTime, packet: Packet) {
        match packet.body {
            Body::Tcp(segment) => self.receive_segment(now, packet.src, segment),
            Body::Dns {
                src_port,
                dst_port,
                message,
            } => self.receive_dns(now, packet.src, src_port, dst_port, message),
        }
    }

    /// Handles the timers that are due at `now`.
    pub fn wake(&mut self, now: SimTime) {
        let due: Vec<ConnId> = self
            .sockets
            .iter()
            .filter(|(_, socket)| socket.connection.poll_timeout().is_some_and(|at| at <= now))
            .map(|(conn, _)| *conn)
            .collect();
        for conn in due {
            self.with_socket(conn, |connection| connection.handle_timeout(now));
            self.after_connection_input(now, conn);
        }
    }

    /// Returns the earliest timer deadline of the host's connections.
    pub fn next_deadline(&self) -> Option<SimTime> {
        self.sockets
            .values()
            .filter_map(|socket| socket.connection.poll_timeout())
            .min()
    }

    /// Hands over the packets produced since the last call, in order.
    pub fn take_outbox(&mut self) -> Vec<Outgoing> {
        std::mem::take(&mut self.outbox)
    }

    /// Hands over the application reports produced since the last call.
    pub fn take_reports(&mut self) -> Vec<Report> {
        std::mem::take(&mut self.reports)
    }

    /// Returns the host's address.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// Passes a segment to its connection, or opens one on a listening port.
    fn receive_segment(&mut self, now: SimTime, from: Ipv4Addr, segment: Segment) {
        let key = (segment.dst_port, from, segment.src_port);
        if let Some(&conn) = self.endpoints.get(&key) {
            self.with_socket(conn, |connection| connection.handle_segment(now, &segment));
            return self.after_connection_input(now, conn);
        }
        let listener = self.listener_for(segment.dst_port);
        match listener {
            Some(app) if is_opening_syn(&segment) => self.accept(now, from, &segment, app),
            _ => self.refuse(from, &segment),
        }
    }

    /// Returns the application listening on `port`.
    fn listener_for(&self, port: u16) -> Option<usize> {
        self.apps
            .iter()
            .position(|app| app.listening_port() == Some(port))
    }

    /// Opens a connection for a SYN that reached a listening port.
    fn accept(&mut self, now: SimTime, from: Ipv4Addr, syn: &Segment, app: usize) {
        let isn = self.initial_sequence_number(syn.dst_port, from, syn.src_port);
        let connection = Connection::accept(tcp::Config::default(), syn.dst_port, syn, isn);
        let conn = self.calls.new_conn_id();
        self.endpoints
            .insert((syn.dst_port, from, syn.src_port), conn);
        self.sockets.insert(
            conn,
            Socket {
                connection,
                remote: from,
                app,
                accepted: true,
            },
        );
        self.after_connection_input(now, conn);
    }

    /// Answers a segment no connection or listener wants with an RST.
    fn refuse(&mut self, from: Ipv4Addr, segment: &Segment) {
        if let Some(reset) = tcp::reset_for(segment) {
            let packet = Packet {
                src: self.address,
                dst: from,
                body: Body::Tcp(reset),
            };
            self.outbox.push(Outgoing {
                packet,
                tcp_state: Some(tcp::State::Closed.to_string()),
            });
        }
    }

    /// Sends what a connection produced, tells its application, and
    /// flushes a deferred ACK the application did not piggyback.
    fn after_connection_input(&mut self, now: SimTime, conn: ConnId) {
        self.transmit(now, conn);
        let events = self.drain_events(conn);
        for event in events {
            self.deliver_event(now, conn, event);
        }
        self.with_socket(conn, Connection::flush_deferred_ack);
        self.transmit(now, conn);
        self.forget_if_closed(conn);
    }

    /// Collects a connection's events for its application.
    fn drain_events(&mut self, conn: ConnId) -> Vec<Event> {
        let Some(socket) = self.sockets.get_mut(&conn) else {
            return Vec::new();
        };
        std::iter::from_fn(|| socket.connection.poll_event()).collect()
    }

    /// Turns one connection event into a notice for its application.
    fn deliver_event(&mut self, now: SimTime, conn: ConnId, event: Event) {
        let Some(socket) = self.sockets.get(&conn) else {
            return;
        };
        let (app, remote) = (socket.app, socket.remote);
        let notice = match event {
            Event::Established if socket.accepted => Notice::Accepted { conn, peer: remote },
            Event::Established => Notice::Connected(conn),
            Event::Data(bytes) => Notice::Received(conn, bytes),
            Event::PeerFinished => Notice::PeerFinished(conn),
            Event::Closed => Notice::Closed(conn),
            Event::Reset => Notice::Reset(conn),
        };
        self.notify(now, app, notice);
    }

    /// Lets an application react, then carries out its requests in order.
    fn notify(&mut self, now: SimTime, app: usize, notice: Notice) {
        self.calls.set_now(now);
        self.apps[app].handle(&mut self.calls, notice);
        for request in self.calls.take_requests() {
            self.carry_out(now, app, request);
        }
    }

    /// Carries out one application request.
    fn carry_out(&mut self, now: SimTime, app: usize, request: Request) {
        match request {
            Request::Connect {
                conn,
                address,
                port,
            } => self.connect(now, app, conn, address, port),
            Request::Send { conn, data } => self.send(now, conn, &data),
            Request::Close { conn } => {
                self.with_socket(conn, Connection::close);
                self.transmit(now, conn);
            }
            Request::Resolve { query, question } => self.resolve(now, app, query, question),
            Request::Record(outcome) => self.reports.push(Report { at: now, outcome }),
        }
    }

    /// Opens a connection from a fresh ephemeral port.
    fn connect(&mut self, now: SimTime, app: usize, conn: ConnId, remote: Ipv4Addr, port: u16) {
        let local_port = self.fresh_ephemeral_port(remote, port);
        let isn = self.initial_sequence_number(local_port, remote, port);
        let connection = Connection::connect(tcp::Config::default(), local_port, port, isn);
        self.endpoints.insert((local_port, remote, port), conn);
        self.sockets.insert(
            conn,
            Socket {
                connection,
                remote,
                app,
                accepted: false,
            },
        );
        self.transmit(now, conn);
    }

    /// Queues bytes on a connection and sends what is due.
    fn send(&mut self, now: SimTime, conn: ConnId, data: &[u8]) {
        let Some(socket) = self.sockets.get_mut(&conn) else {
            return;
        };
        if socket.connection.send(data).is_ok() {
            self.transmit(now, conn);
        }
    }

    /// Sends a question to the resolver's server, or answers at once
    /// that there is no resolver.
    fn resolve(&mut self, now: SimTime, app: usize, query: QueryId, question: dns::Question) {
        let Some(resolver) = self.resolver.as_mut() else {
            return self.notify(
                now,
                app,
                Notice::Resolved(query, Err(ResolveError::NoResolver)),
            );
        };
        let outgoing = resolver.query(query, question);
        let server = resolver.server();
        self.queries.insert(query, app);
        let body = Body::Dns {
            src_port: outgoing.src_port,
            dst_port: dns_model::PORT,
            message: outgoing.message,
        };
        self.outbox.push(Outgoing {
            packet: Packet {
                src: self.address,
                dst: server,
                body,
            },
            tcp_state: None,
        });
    }

    /// Answers a query on port 53, or passes a response to its asker.
    fn receive_dns(
        &mut self,
        now: SimTime,
        from: Ipv4Addr,
        src_port: u16,
        dst_port: u16,
        message: dns::Message,
    ) {
        if dst_port == dns_model::PORT && message.response.is_none() {
            return self.answer_query(from, src_port, &message);
        }
        let Some(resolver) = self.resolver.as_mut() else {
            return;
        };
        let Some(query) = resolver.handle_response(dst_port, from, &message) else {
            return;
        };
        let Some(app) = self.queries.remove(&query) else {
            return;
        };
        self.notify(now, app, Notice::Resolved(query, Ok(message)));
    }

    /// Sends the DNS server's response to a query.
    fn answer_query(&mut self, from: Ipv4Addr, src_port: u16, query: &dns::Message) {
        let server = self.apps.iter().find_map(|app| match app {
            App::DnsServer(server) => Some(server),
            _ => None,
        });
        let Some(server) = server else { return };
        let message = server.respond(query);
        let body = Body::Dns {
            src_port: dns_model::PORT,
            dst_port: src_port,
            message,
        };
        self.outbox.push(Outgoing {
            packet: Packet {
                src: self.address,
                dst: from,
                body,
            },
            tcp_state: None,
        });
    }

    /// Moves every segment a connection has ready into the outbox.
    fn transmit(&mut self, now: SimTime, conn: ConnId) {
        let Some(socket) = self.sockets.get_mut(&conn) else {
            return;
        };
        while let Some(segment) = socket.connection.poll_transmit(now) {
            let state = socket.connection.state().to_string();
            let packet = Packet {
                src: self.address,
                dst: socket.remote,
                body: Body::Tcp(segment),
            };
            self.outbox.push(Outgoing {
                packet,
                tcp_state: Some(state),
            });
        }
    }

    /// Drops a connection that reached CLOSED.
    fn forget_if_closed(&mut self, conn: ConnId) {
        let Some(socket) = self.sockets.get(&conn) else {
            return;
        };
        if socket.connection.state() != tcp::State::Closed {
            return;
        }
        let key = (
            socket.connection.local_port(),
            socket.remote,
            socket.connection.remote_port(),
        );
        self.endpoints.remove(&key);
        self.sockets.remove(&conn);
    }

    /// Runs `action` on a connection if it still exists.
    fn with_socket(&mut self, conn: ConnId, action: impl FnOnce(&mut Connection)) {
        if let Some(socket) = self.sockets.get_mut(&conn) {
            action(&mut socket.connection);
        }
    }

    /// Picks the next free ephemeral port for a connection to `remote:port`.
    ///
    /// Ports are taken in turn from a seeded starting point, so a port
    /// comes back only after the whole dynamic range (RFC 6335 §6) was
    /// used, long after its last connection left TIME-WAIT. RFC 6056 §3.3
    /// describes this and less predictable schemes.
    fn fresh_ephemeral_port(&mut self, remote: Ipv4Addr, port: u16) -> u16 {
        let span = u32::from(u16::MAX - FIRST_EPHEMERAL_PORT) + 1;
        loop {
            let candidate = FIRST_EPHEMERAL_PORT + (self.next_port_offset % span) as u16;
            self.next_port_offset = self.next_port_offset.wrapping_add(1);
            if !self.endpoints.contains_key(&(candidate, remote, port)) {
                return candidate;
            }
        }
    }

    /// Draws the ISN of one endpoint from its own named stream.
    fn initial_sequence_number(&self, local_port: u16, remote: Ipv4Addr, port: u16) -> SeqNumber {
        let name = format!("tcp-isn/{}:{local_port}/{remote}:{port}", self.id);
        SeqNumber(random::stream(self.seed, &name).next_u32())
    }
}

/// Tells whether a segment opens a connection: SYN without ACK.
fn is_opening_syn(segment: &Segment) -> bool {
    segment.control == Control::Syn && segment.ack.is_none()
}
