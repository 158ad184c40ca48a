//! One simulated host: its TCP connections, its resolver and the
//! application models that run on it.
//!
//! The host turns application requests into segments and datagrams and
//! hands arriving packets to the right connection or application. For
//! each arriving segment it sends the connection's own replies (the ACK)
//! first, then lets the application react, and at the end of its turn
//! ([`Host::end_turn`]) flushes any deferred ACK, so the wire order is the
//! one the documented exchange draws.
//!
//! The live connections sit in numbered slots (see the `sockets`
//! module): a segment's ends or a request's connection id are looked up
//! once, and the connection is reached by its slot from then on. A
//! connection that waits quietly in TIME-WAIT is parked as a small
//! record in deadline order (see the `time_wait` module) and rebuilt
//! when a segment or its deadline reaches it, so a server that closes
//! first can hold hundreds of thousands.
//!
//! The host keeps the timers: its connections' (see the `timers`
//! module), its resolver's (a DNS time-out sends the question again or
//! fails the look-up, and is drawn on the lifeline) and those its
//! applications set, such as an SMTP client's retry delay.
//!
//! A script drives a host from outside: the engine calls the `scripted`
//! methods to open, write on and close connections and to send
//! datagrams, and reads [`Observation`]s to learn when a step's message
//! has arrived. Connections a script opens or accepts belong to the
//! host's script endpoint, which listens on the ports the script opens
//! and ignores what it is told.
//!
//! Not modelled: IP fragmentation, ICMP (a datagram to a closed UDP port
//! is dropped silently), more than one address per host.

mod app_timers;
mod sockets;
mod time_wait;
mod timers;

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use rand_chacha::ChaCha20Rng;
use rand_core::Rng;

use crate::protocol::dns::{
    self as dns_model, OutgoingQuery, QueryExpiry, Resolver, ResolverConfig,
};
use crate::protocol::host_api::{
    ConnId, HostCalls, Note, Notice, Outcome, QueryId, Request, ResolveError,
};
use crate::protocol::smtp;
use crate::protocol::tcp::{self, Connection, Event};
use crate::sim::packet::{Body, Origin, Outgoing, Packet};
use crate::sim::random;
use crate::time::{SimDuration, SimTime};
use crate::trace::LifelineEventKind;
use crate::wire::dns;
use crate::wire::tcp::{Control, Segment, SeqNumber};
use app_timers::AppTimers;
use sockets::{Socket, Sockets};
use time_wait::{EndsKey, Parked, TimeWaitTable};
use timers::ConnectionTimers;

/// The first port of the dynamic range (RFC 6335 §6).
const FIRST_EPHEMERAL_PORT: u16 = 49152;

/// How many ports the dynamic range holds.
const EPHEMERAL_SPAN: u32 = u16::MAX as u32 - FIRST_EPHEMERAL_PORT as u32 + 1;

/// An application model running on a host.
#[derive(Debug)]
pub enum App {
    /// Sends mail.
    SmtpClient(Box<smtp::Client>),
    /// Receives mail on port 25.
    SmtpServer(smtp::Server),
    /// Answers DNS queries on port 53.
    DnsServer(dns_model::Server),
    /// Owns the connections a script opens or accepts, on these ports.
    Script {
        /// The TCP ports it accepts connections on.
        listening: BTreeSet<u16>,
    },
}

impl App {
    /// Passes one notice to the model.
    fn handle(&mut self, calls: &mut HostCalls, notice: Notice) {
        match self {
            App::SmtpClient(client) => client.handle(calls, notice),
            App::SmtpServer(server) => server.handle(calls, notice),
            App::DnsServer(_) | App::Script { .. } => {}
        }
    }

    /// Tells whether the application accepts connections on a TCP port.
    fn listens_on(&self, port: u16) -> bool {
        match self {
            App::SmtpServer(_) => port == smtp::PORT,
            App::Script { listening } => listening.contains(&port),
            App::SmtpClient(_) | App::DnsServer(_) => false,
        }
    }
}

/// The two ends of a TCP connection as one host sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ends {
    /// This host's port.
    pub local_port: u16,
    /// The peer's address.
    pub remote: Ipv4Addr,
    /// The peer's port.
    pub remote_port: u16,
}

/// Something that arrived at a host, reported so a script can tell when
/// the message of its current step has been delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observation {
    /// A connection reached ESTABLISHED; `accepted` when the peer opened it.
    Established {
        /// The connection.
        ends: Ends,
        /// Whether the peer opened it.
        accepted: bool,
    },
    /// In-order bytes arrived on a connection.
    Data(Ends, usize),
    /// The peer's FIN arrived on a connection.
    PeerFinished(Ends),
    /// An SMTP client model sent all its mails and ended its sessions.
    ModelFinished {
        /// The client's application index on the host.
        app: usize,
    },
    /// A UDP datagram arrived.
    Datagram {
        /// The sender's address.
        from: Ipv4Addr,
        /// The sender's port.
        src_port: u16,
        /// This host's port.
        dst_port: u16,
    },
}

/// Something drawn on the host's lifeline, stamped with the time.
#[derive(Clone, Debug)]
pub struct StampedNote {
    /// When it happened.
    pub at: SimTime,
    /// What happened.
    pub note: Note,
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
    sockets: Sockets,
    time_wait: TimeWaitTable,
    resolver: Option<Resolver>,
    queries: BTreeMap<QueryId, usize>,
    app_timers: AppTimers,
    next_port_offset: u32,
    script_random: Option<ChaCha20Rng>,
    calls: HostCalls,
    outbox: Vec<Outgoing>,
    reports: Vec<Report>,
    notes: Vec<StampedNote>,
    observations: Vec<Observation>,
    touched: MarkedConns,
    /// The connections whose timer is due, as (id, slot); the list's
    /// memory is kept from one wake to the next.
    due: Vec<(ConnId, usize)>,
    closed: Vec<Ends>,
    tcp_config: tcp::Config,
    /// The deadlines of the live connections; those in TIME-WAIT keep
    /// theirs in the [`TimeWaitTable`].
    connection_timers: ConnectionTimers,
    /// Whether a connection was ever opened on ends still parked in
    /// TIME-WAIT; the parked record then wins the ends back when a
    /// segment comes, so every segment looks for a parked record first.
    /// Otherwise a segment for a live connection skips that look-up.
    parked_ends_reused: bool,
}

/// Connections marked during a turn, each with the slot it was in,
/// handed over once each in [`ConnId`] order; the list's memory is kept
/// from one turn to the next.
#[derive(Debug, Default)]
struct MarkedConns {
    conns: Vec<(ConnId, usize)>,
}

impl MarkedConns {
    /// Marks a connection in `slot`; marking it again is harmless.
    fn mark(&mut self, conn: ConnId, slot: usize) {
        if self.conns.last() != Some(&(conn, slot)) {
            self.conns.push((conn, slot));
        }
    }

    /// Hands over the marked connections, each once, in order, and
    /// starts an empty mark.
    fn take(&mut self) -> Vec<(ConnId, usize)> {
        let mut conns = std::mem::take(&mut self.conns);
        conns.sort_unstable();
        conns.dedup_by_key(|(conn, _)| *conn);
        conns
    }

    /// Takes back a list handed over by [`Self::take`], to reuse its
    /// memory, unless connections were marked meanwhile.
    fn give_back(&mut self, mut conns: Vec<(ConnId, usize)>) {
        if self.conns.is_empty() {
            conns.clear();
            self.conns = conns;
        }
    }
}

/// Who a connection belongs to and its ends, read once for all the
/// events one input produced.
#[derive(Clone, Copy, Debug)]
struct Owner {
    /// The connection's id.
    conn: ConnId,
    /// The index of the application that owns it.
    app: usize,
    /// Whether the peer opened it.
    accepted: bool,
    /// Its ends.
    ends: Ends,
}

impl Owner {
    /// Reads the owner and ends of the connection in `socket`.
    fn of(socket: &Socket) -> Owner {
        Owner {
            conn: socket.conn,
            app: socket.app,
            accepted: socket.accepted,
            ends: Ends {
                local_port: socket.connection.local_port(),
                remote: socket.remote,
                remote_port: socket.connection.remote_port(),
            },
        }
    }
}

impl Host {
    /// Builds a host; `resolver` is the address of the DNS server it
    /// asks and how long it waits for answers.
    pub fn new(
        id: &str,
        address: Ipv4Addr,
        seed: u64,
        resolver: Option<(Ipv4Addr, ResolverConfig)>,
    ) -> Host {
        let resolver = resolver.map(|(server, config)| {
            let name = random::StreamName::new().text("dns-resolver/").text(id);
            let random = name.stream(seed);
            Resolver::new(server, config, random)
        });
        let mut port_random = random::StreamName::new()
            .text("tcp-ephemeral-port/")
            .text(id)
            .stream(seed);
        Host {
            id: id.to_string(),
            address,
            seed,
            apps: Vec::new(),
            sockets: Sockets::default(),
            time_wait: TimeWaitTable::default(),
            resolver,
            queries: BTreeMap::new(),
            app_timers: AppTimers::default(),
            next_port_offset: port_random.next_u32(),
            script_random: None,
            calls: HostCalls::default(),
            outbox: Vec::new(),
            reports: Vec::new(),
            notes: Vec::new(),
            observations: Vec::new(),
            touched: MarkedConns::default(),
            due: Vec::new(),
            closed: Vec::new(),
            tcp_config: tcp::Config::default(),
            connection_timers: ConnectionTimers::default(),
            parked_ends_reused: false,
        }
    }

    /// Takes over the memory of the lists and maps of `retired`, a host
    /// that can do nothing more, wherever this host has none yet: a host
    /// built for each session then allocates little. Only room is taken
    /// over; whatever `retired` still held is dropped.
    pub fn reuse_memory_of(&mut self, retired: &mut Host) {
        self.sockets.reuse_memory_of(&mut retired.sockets);
        self.time_wait.reuse_memory_of(&mut retired.time_wait);
        self.app_timers.reuse_memory_of(&mut retired.app_timers);
        self.connection_timers
            .reuse_memory_of(&mut retired.connection_timers);
        self.calls.reuse_memory_of(&mut retired.calls);
        reuse_list(&mut self.outbox, &mut retired.outbox);
        reuse_list(&mut self.reports, &mut retired.reports);
        reuse_list(&mut self.notes, &mut retired.notes);
        reuse_list(&mut self.observations, &mut retired.observations);
        reuse_list(&mut self.touched.conns, &mut retired.touched.conns);
        reuse_list(&mut self.due, &mut retired.due);
        reuse_list(&mut self.closed, &mut retired.closed);
    }

    /// Sets the settings every connection of this host starts with.
    pub fn set_tcp_config(&mut self, config: tcp::Config) {
        self.tcp_config = config;
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
    ///
    /// A datagram of plain bytes is only observed: no model reads it.
    pub fn receive(&mut self, now: SimTime, packet: Packet) {
        match packet.body {
            Body::Tcp(segment) => self.receive_segment(now, packet.src, segment),
            Body::Dns {
                src_port,
                dst_port,
                message,
            } => {
                self.observe_datagram(packet.src, src_port, dst_port);
                self.receive_dns(now, packet.src, src_port, dst_port, *message)
            }
            Body::Udp {
                src_port, dst_port, ..
            } => self.observe_datagram(packet.src, src_port, dst_port),
        }
    }

    /// Finishes the host's turn: sends the deferred ACKs no reply carried,
    /// forgets connections that reached CLOSED and parks those that wait
    /// in TIME-WAIT.
    ///
    /// A connection with nothing to send is not polled: whatever changed
    /// it during the turn was followed by [`Self::transmit`] already, and
    /// only a deferred ACK can be new.
    pub fn end_turn(&mut self, now: SimTime) {
        let touched = self.touched.take();
        for &(conn, hint) in &touched {
            if let Some(slot) = self.sockets.find(conn, hint) {
                self.end_turn_of(now, slot);
            }
        }
        self.touched.give_back(touched);
    }

    /// Sends the deferred ACK of the connection in `slot`, then forgets
    /// it if it reached CLOSED, or parks it if it waits in TIME-WAIT; a
    /// connection in any other state is left as it is.
    fn end_turn_of(&mut self, now: SimTime, slot: usize) {
        let Some(socket) = self.sockets.get_mut(slot) else {
            return;
        };
        socket.connection.flush_deferred_ack();
        if socket.connection.has_segment_due() {
            self.transmit(now, slot);
        }
        let state = self.sockets.get(slot).map(|s| s.connection.state());
        match state {
            Some(tcp::State::Closed) => self.forget_closed(slot),
            Some(tcp::State::TimeWait) => self.park_or_release(slot),
            _ => {}
        }
    }

    /// Parks the connection in `slot`, which is in TIME-WAIT, or, when it
    /// cannot be parked, gives back the spare memory it keeps in its slot.
    fn park_or_release(&mut self, slot: usize) {
        self.park_if_time_wait(slot);
        if let Some(socket) = self.sockets.get_mut(slot) {
            socket.connection.release_spare_capacity();
        }
    }

    /// Hands over the ends of the connections forgotten since the last
    /// call, because they reached CLOSED.
    pub fn take_closed(&mut self) -> Vec<Ends> {
        take_filled(&mut self.closed)
    }

    /// Takes back a list handed over by [`Self::take_closed`], emptied,
    /// to reuse its memory.
    pub fn give_back_closed(&mut self, closed: Vec<Ends>) {
        give_back(&mut self.closed, closed);
    }

    /// Returns the state of the connection with these ends, if the host
    /// still has it.
    pub fn connection_state(&self, ends: Ends) -> Option<tcp::State> {
        if self.time_wait.contains(&key_of(ends)) {
            return Some(tcp::State::TimeWait);
        }
        let slot = self.slot_at(ends)?;
        self.sockets
            .get(slot)
            .map(|socket| socket.connection.state())
    }

    /// Tells whether nothing can happen on the host unless a packet
    /// reaches it: no connection, no question, no timer, nothing to send.
    pub fn is_idle(&self) -> bool {
        self.sockets.is_empty()
            && self.time_wait.is_empty()
            && self.resolver.as_ref().is_none_or(Resolver::is_idle)
            && self.queries.is_empty()
            && self.app_timers.is_empty()
            && self.outbox.is_empty()
    }

    /// Tells whether every mail client on the host is done.
    pub fn clients_done(&self) -> bool {
        self.apps.iter().all(|app| match app {
            App::SmtpClient(client) => client.is_done(),
            _ => true,
        })
    }

    /// Hands over what arrived since the last call, in order.
    pub fn take_observations(&mut self) -> Vec<Observation> {
        take_filled(&mut self.observations)
    }

    /// Takes back a list handed over by [`Self::take_observations`],
    /// emptied, to reuse its memory, unless something arrived meanwhile.
    pub fn give_back_observations(&mut self, observations: Vec<Observation>) {
        give_back(&mut self.observations, observations);
    }

    /// Adds the script endpoint, listening on `ports`, and returns its index.
    pub fn add_script_endpoint(&mut self, ports: BTreeSet<u16>) -> usize {
        self.add_app(App::Script { listening: ports })
    }

    /// Opens a connection for a script from `local_port`, or a fresh
    /// ephemeral port; returns the port used.
    pub fn open_scripted(
        &mut self,
        now: SimTime,
        app: usize,
        remote: Ipv4Addr,
        port: u16,
        local_port: Option<u16>,
    ) -> u16 {
        let conn = self.calls.new_conn_id();
        self.connect(now, app, conn, remote, port, local_port)
    }

    /// Writes bytes for a script on the connection with these ends.
    ///
    /// A parked connection is not found: in TIME-WAIT it takes no more
    /// writes.
    pub fn send_scripted(&mut self, now: SimTime, ends: Ends, data: &[u8]) {
        if let Some(slot) = self.slot_at(ends) {
            self.send(now, slot, data.to_vec());
        }
    }

    /// Closes this host's side of the connection with these ends, for a script.
    ///
    /// A parked connection is not found: in TIME-WAIT it is closed already.
    pub fn close_scripted(&mut self, now: SimTime, ends: Ends) {
        if let Some(slot) = self.slot_at(ends) {
            self.close(now, slot);
        }
    }

    /// Closes this host's side of a connection and sends its FIN when due.
    fn close(&mut self, now: SimTime, slot: usize) {
        self.with_connection(slot, Connection::close);
        self.transmit(now, slot);
    }

    /// Sends a datagram a script wrote.
    pub fn send_datagram(&mut self, dst: Ipv4Addr, body: Body) {
        let packet = Packet {
            src: self.address,
            dst,
            body,
        };
        self.outbox.push(Outgoing {
            packet,
            tcp_state: None,
            origin: Origin::Fresh,
        });
    }

    /// Draws a UDP source port for a scripted datagram.
    pub fn fresh_udp_port(&mut self) -> u16 {
        draw_ephemeral_port(self.script_random())
    }

    /// Draws a DNS message id for a scripted query.
    pub fn fresh_dns_id(&mut self) -> u16 {
        self.script_random().next_u32() as u16
    }

    /// Returns the random stream of scripted datagrams, set up at the
    /// first draw: most hosts never send one.
    fn script_random(&mut self) -> &mut ChaCha20Rng {
        let (seed, id) = (self.seed, &self.id);
        self.script_random
            .get_or_insert_with(|| random::stream_formatted(seed, format_args!("script-udp/{id}")))
    }

    /// Returns the slot of the connection with these ends, unless it is
    /// parked.
    fn slot_at(&self, ends: Ends) -> Option<usize> {
        self.sockets.slot_at(&key_of(ends))
    }

    /// Notes a datagram's arrival.
    fn observe_datagram(&mut self, from: Ipv4Addr, src_port: u16, dst_port: u16) {
        self.observations.push(Observation::Datagram {
            from,
            src_port,
            dst_port,
        });
    }

    /// Handles the timers that are due at `now`: the connections', the
    /// resolver's and the applications'.
    pub fn wake(&mut self, now: SimTime) {
        self.wake_connections(now);
        self.wake_resolver(now);
        self.wake_apps(now);
    }

    /// Handles the connection timers that are due at `now`.
    fn wake_connections(&mut self, now: SimTime) {
        while let Some(parked) = self.time_wait.take_due(now) {
            self.unpark(parked);
        }
        let mut due = std::mem::take(&mut self.due);
        self.connection_timers
            .take_due(&mut self.sockets, now, &mut due);
        for &(conn, hint) in &due {
            let Some(slot) = self.sockets.find(conn, hint) else {
                continue;
            };
            self.with_connection(slot, |connection| connection.handle_timeout(now));
            self.after_connection_input(now, slot);
        }
        due.clear();
        self.due = due;
    }

    /// Resends or abandons the look-ups whose time-out is due at `now`.
    fn wake_resolver(&mut self, now: SimTime) {
        let Some(resolver) = self.resolver.as_mut() else {
            return;
        };
        let timeout = resolver.timeout();
        for expiry in resolver.handle_timeout(now) {
            self.on_query_expiry(now, timeout, expiry);
        }
    }

    /// Marks a DNS time-out on the lifeline, then asks again or tells
    /// the application that the look-up failed.
    fn on_query_expiry(&mut self, now: SimTime, timeout: SimDuration, expiry: QueryExpiry) {
        match expiry {
            QueryExpiry::Resend {
                outgoing, number, ..
            } => {
                let label = format!("DNS time-out ({timeout}): asking again (retry #{number})");
                self.mark(now, LifelineEventKind::TimerExpired, label);
                self.send_query(outgoing, Origin::Resent { fast: false });
            }
            QueryExpiry::GaveUp { query, sends } => {
                let label = format!("DNS time-out ({timeout}) after {sends} sends: giving up");
                self.mark(now, LifelineEventKind::GaveUp, label);
                let Some(app) = self.queries.remove(&query) else {
                    return;
                };
                let error = ResolveError::TimedOut { sends };
                self.notify(now, app, Notice::Resolved(query, Err(error)));
            }
        }
    }

    /// Fires the application timers that are due at `now`, earliest first.
    fn wake_apps(&mut self, now: SimTime) {
        while let Some((timer, app)) = self.app_timers.take_due(now) {
            self.notify(now, app, Notice::Timer(timer));
        }
    }

    /// Draws something on the host's lifeline at `at`.
    fn mark(&mut self, at: SimTime, kind: LifelineEventKind, label: String) {
        let note = Note { kind, label };
        self.notes.push(StampedNote { at, note });
    }

    /// Returns the recipients this host's mail clients never concluded,
    /// as `participant: address`.
    pub fn open_recipients(&self) -> Vec<String> {
        let clients = self.apps.iter().filter_map(|app| match app {
            App::SmtpClient(client) => Some(client.open_recipients()),
            _ => None,
        });
        let open = clients.flatten();
        open.map(|recipient| format!("{}: {recipient}", self.id))
            .collect()
    }

    /// Returns the earliest timer deadline of the host's connections,
    /// resolver and applications.
    pub fn next_deadline(&mut self) -> Option<SimTime> {
        let connections = self.connection_timers.next_deadline(&mut self.sockets);
        let parked = self.time_wait.next_deadline();
        let resolver = self.resolver.as_ref().and_then(Resolver::poll_timeout);
        let apps = self.app_timers.next_deadline();
        earliest(earliest(connections, parked), earliest(resolver, apps))
    }

    /// Hands over the packets produced since the last call, in order.
    #[inline]
    pub fn take_outbox(&mut self) -> Vec<Outgoing> {
        std::mem::take(&mut self.outbox)
    }

    /// Takes back an emptied list handed over by [`Self::take_outbox`],
    /// to reuse its memory, unless packets were queued meanwhile.
    #[inline]
    pub fn give_back_outbox(&mut self, mut outbox: Vec<Outgoing>) {
        if self.outbox.is_empty() {
            outbox.clear();
            self.outbox = outbox;
        }
    }

    /// Hands over the application reports produced since the last call.
    pub fn take_reports(&mut self) -> Vec<Report> {
        take_filled(&mut self.reports)
    }

    /// Takes back a list handed over by [`Self::take_reports`], emptied,
    /// to reuse its memory.
    pub fn give_back_reports(&mut self, reports: Vec<Report>) {
        give_back(&mut self.reports, reports);
    }

    /// Hands over the lifeline notes made since the last call, in order.
    pub fn take_notes(&mut self) -> Vec<StampedNote> {
        take_filled(&mut self.notes)
    }

    /// Takes back a list handed over by [`Self::take_notes`], emptied, to
    /// reuse its memory.
    pub fn give_back_notes(&mut self, notes: Vec<StampedNote>) {
        give_back(&mut self.notes, notes);
    }

    /// Returns the host's address.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// Passes a segment to its connection, rebuilt first if it was
    /// parked, or opens one on a listening port.
    fn receive_segment(&mut self, now: SimTime, from: Ipv4Addr, segment: Segment) {
        let key = (segment.dst_port, from, segment.src_port);
        let live = match self.parked_ends_reused {
            false => self.sockets.slot_at(&key),
            true => None,
        };
        if live.is_none()
            && let Some(parked) = self.time_wait.take(&key)
        {
            self.unpark(parked);
        }
        if let Some(slot) = live.or_else(|| self.sockets.slot_at(&key)) {
            self.with_connection(slot, |connection| connection.handle_segment(now, segment));
            return self.after_connection_input(now, slot);
        }
        let listener = self.listener_for(segment.dst_port);
        match listener {
            Some(app) if is_opening_syn(&segment) => self.accept(now, from, &segment, app),
            _ => self.refuse(from, &segment),
        }
    }

    /// Returns the application listening on `port`; models come first.
    fn listener_for(&self, port: u16) -> Option<usize> {
        self.apps.iter().position(|app| app.listens_on(port))
    }

    /// Opens a connection for a SYN that reached a listening port.
    fn accept(&mut self, now: SimTime, from: Ipv4Addr, syn: &Segment, app: usize) {
        let isn = self.initial_sequence_number(syn.dst_port, from, syn.src_port);
        let connection = Connection::accept(self.tcp_config, syn.dst_port, syn, isn);
        let conn = self.calls.new_conn_id();
        let slot = self.add_socket(Socket {
            conn,
            connection,
            remote: from,
            app,
            accepted: true,
            filed: None,
        });
        self.after_connection_input(now, slot);
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
                tcp_state: Some(tcp::State::Closed),
                origin: Origin::Fresh,
            });
        }
    }

    /// Sends what a connection produced and tells its application; the
    /// deferred ACK waits for [`Host::end_turn`], so that a reply from the
    /// application or the script can carry it.
    ///
    /// The connection stays in its slot meanwhile: only the end of the
    /// turn takes connections out. Its events are taken one at a time, so
    /// one the application's reaction causes is delivered after the
    /// others, in the same call.
    fn after_connection_input(&mut self, now: SimTime, slot: usize) {
        self.note_timer_expiries(slot);
        self.transmit(now, slot);
        let Some(owner) = self.sockets.get(slot).map(Owner::of) else {
            return;
        };
        while let Some(event) = self.next_event(slot) {
            self.observe_event(&owner, &event);
            self.deliver_event(now, &owner, event);
        }
        self.touched.mark(owner.conn, slot);
    }

    /// Marks the connection's expired retransmission timers on the lifeline.
    ///
    /// The end of TIME-WAIT is left out: it is a state ending, not a
    /// recovery, and would add a row minutes after every exchange.
    fn note_timer_expiries(&mut self, slot: usize) {
        let Some(socket) = self.sockets.get_mut(slot) else {
            return;
        };
        while let Some(expiry) = socket.connection.poll_timer_expiry() {
            let note = match expiry {
                tcp::TimerExpiry::Retransmission { rto, .. } => Note {
                    kind: LifelineEventKind::TimerExpired,
                    label: format!("RTO expired ({rto})"),
                },
                tcp::TimerExpiry::GaveUp {
                    rto,
                    retransmissions,
                    ..
                } => Note {
                    kind: LifelineEventKind::GaveUp,
                    label: format!(
                        "RTO expired ({rto}) after {retransmissions} resends: giving up"
                    ),
                },
                tcp::TimerExpiry::TimeWait { .. } => continue,
            };
            let at = expiry.at();
            self.notes.push(StampedNote { at, note });
        }
    }

    /// Takes the next event of the connection in `slot`.
    fn next_event(&mut self, slot: usize) -> Option<Event> {
        self.sockets.get_mut(slot)?.connection.poll_event()
    }

    /// Notes a connection event a script may be waiting for.
    fn observe_event(&mut self, owner: &Owner, event: &Event) {
        let ends = owner.ends;
        let observation = match event {
            Event::Established => Observation::Established {
                ends,
                accepted: owner.accepted,
            },
            Event::Data(bytes) => Observation::Data(ends, bytes.len()),
            Event::PeerFinished => Observation::PeerFinished(ends),
            Event::Closed | Event::Reset => return,
        };
        self.observations.push(observation);
    }

    /// Turns one connection event into a notice for its application.
    fn deliver_event(&mut self, now: SimTime, owner: &Owner, event: Event) {
        let conn = owner.conn;
        let notice = match event {
            Event::Established if owner.accepted => Notice::Accepted {
                conn,
                peer: owner.ends.remote,
            },
            Event::Established => Notice::Connected(conn),
            Event::Data(bytes) => Notice::Received(conn, bytes),
            Event::PeerFinished => Notice::PeerFinished(conn),
            Event::Closed => Notice::Closed(conn),
            Event::Reset => Notice::Reset(conn),
        };
        self.notify(now, owner.app, notice);
    }

    /// Lets an application react, then carries out its requests in order.
    fn notify(&mut self, now: SimTime, app: usize, notice: Notice) {
        self.calls.set_now(now);
        self.apps[app].handle(&mut self.calls, notice);
        let mut requests = self.calls.take_requests();
        for request in requests.drain(..) {
            self.carry_out(now, app, request);
        }
        self.calls.give_back_requests(requests);
        if matches!(&self.apps[app], App::SmtpClient(client) if client.is_done()) {
            self.observations.push(Observation::ModelFinished { app });
        }
    }

    /// Carries out one application request.
    fn carry_out(&mut self, now: SimTime, app: usize, request: Request) {
        match request {
            Request::Connect {
                conn,
                address,
                port,
            } => {
                self.connect(now, app, conn, address, port, None);
            }
            Request::Send { conn, data } => {
                if let Some(slot) = self.sockets.slot_of(conn) {
                    self.send(now, slot, data);
                }
            }
            Request::Close { conn } => {
                if let Some(slot) = self.sockets.slot_of(conn) {
                    self.close(now, slot);
                }
            }
            Request::Resolve { query, question } => self.resolve(now, app, query, question),
            Request::Record(outcome) => self.reports.push(Report { at: now, outcome }),
            Request::Note(note) => self.notes.push(StampedNote { at: now, note }),
            Request::SetTimer { timer, after } => {
                self.app_timers.set(now + after, timer, app);
            }
            Request::CancelTimer { timer } => self.app_timers.cancel(timer),
        }
    }

    /// Opens a connection from `local_port`, or a fresh ephemeral port;
    /// returns the port used.
    fn connect(
        &mut self,
        now: SimTime,
        app: usize,
        conn: ConnId,
        remote: Ipv4Addr,
        port: u16,
        local_port: Option<u16>,
    ) -> u16 {
        let local_port = match local_port {
            Some(chosen) => self.note_parked_ends_reused(chosen, remote, port),
            None => self.fresh_ephemeral_port(remote, port),
        };
        let isn = self.initial_sequence_number(local_port, remote, port);
        let connection = Connection::connect(self.tcp_config, local_port, port, isn);
        let slot = self.add_socket(Socket {
            conn,
            connection,
            remote,
            app,
            accepted: false,
            filed: None,
        });
        self.transmit(now, slot);
        local_port
    }

    /// Queues bytes on a connection and sends what is due.
    fn send(&mut self, now: SimTime, slot: usize, data: Vec<u8>) {
        let Some(socket) = self.sockets.get_mut(slot) else {
            return;
        };
        if socket.connection.send(data).is_ok() {
            self.transmit(now, slot);
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
        let outgoing = resolver.query(now, query, question);
        self.queries.insert(query, app);
        self.send_query(outgoing, Origin::Fresh);
    }

    /// Puts a query on the network to the resolver's server.
    fn send_query(&mut self, outgoing: OutgoingQuery, origin: Origin) {
        let Some(resolver) = self.resolver.as_ref() else {
            return;
        };
        let body = Body::Dns {
            src_port: outgoing.src_port,
            dst_port: dns_model::PORT,
            message: Box::new(outgoing.message),
        };
        self.outbox.push(Outgoing {
            packet: Packet {
                src: self.address,
                dst: resolver.server(),
                body,
            },
            tcp_state: None,
            origin,
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
            message: Box::new(message),
        };
        self.outbox.push(Outgoing {
            packet: Packet {
                src: self.address,
                dst: from,
                body,
            },
            tcp_state: None,
            origin: Origin::Fresh,
        });
    }

    /// Moves every segment a connection has ready into the outbox, and
    /// files the connection's deadline: the host calls this after
    /// everything it does to a connection (a segment, a timer, a write,
    /// a close), so a deadline that moved is filed before the turn ends.
    fn transmit(&mut self, now: SimTime, slot: usize) {
        let Some(socket) = self.sockets.get_mut(slot) else {
            return;
        };
        while let Some((segment, reason)) = socket.connection.poll_transmit_with_reason(now) {
            let state = socket.connection.state();
            let packet = Packet {
                src: self.address,
                dst: socket.remote,
                body: Body::Tcp(segment),
            };
            self.outbox.push(Outgoing {
                packet,
                tcp_state: Some(state),
                origin: Origin::of_segment(reason),
            });
        }
        self.connection_timers.file(&mut self.sockets, slot);
    }

    /// Drops the connection in `slot`, which reached CLOSED.
    fn forget_closed(&mut self, slot: usize) {
        let Some(socket) = self.sockets.get(slot) else {
            return;
        };
        let key = socket.key();
        self.remove_socket(slot);
        self.closed.push(Ends {
            local_port: key.0,
            remote: key.1,
            remote_port: key.2,
        });
    }

    /// Parks a connection that waits quietly in TIME-WAIT as a small
    /// record, unless its settings are no longer the host's or its
    /// deadline would come before the last parked one's.
    fn park_if_time_wait(&mut self, slot: usize) {
        let Some(socket) = self.sockets.get(slot) else {
            return;
        };
        let Some((sequence, until)) = socket.connection.to_time_wait() else {
            return;
        };
        if *socket.connection.config() != self.tcp_config {
            return;
        }
        let Ok(app) = u16::try_from(socket.app) else {
            return;
        };
        let parked = Parked {
            until,
            conn: socket.conn,
            remote: socket.remote,
            app,
            accepted: socket.accepted,
            sequence,
        };
        if self.time_wait.park(parked).is_ok() {
            self.remove_socket(slot);
        }
    }

    /// Rebuilds a parked connection among the host's connections.
    fn unpark(&mut self, parked: Parked) {
        let connection = Connection::from_time_wait(self.tcp_config, parked.sequence, parked.until);
        self.add_socket(Socket {
            conn: parked.conn,
            connection,
            remote: parked.remote,
            app: usize::from(parked.app),
            accepted: parked.accepted,
            filed: None,
        });
    }

    /// Puts a new connection in a slot, files its timer and returns the slot.
    fn add_socket(&mut self, socket: Socket) -> usize {
        let slot = self.sockets.insert(socket);
        self.connection_timers.file(&mut self.sockets, slot);
        slot
    }

    /// Takes a connection out of its slot; its filed timer is left to be
    /// dropped when it surfaces, or with all the others when no
    /// connection is left.
    fn remove_socket(&mut self, slot: usize) {
        self.sockets.remove(slot);
        if self.sockets.is_empty() {
            self.connection_timers.clear();
        }
    }

    /// Runs `action` on the connection in `slot`, if any.
    ///
    /// The deadline `action` may move is filed by the [`Self::transmit`]
    /// that follows every input a connection is given.
    fn with_connection(&mut self, slot: usize, action: impl FnOnce(&mut Connection)) {
        if let Some(socket) = self.sockets.get_mut(slot) {
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
        loop {
            let candidate = FIRST_EPHEMERAL_PORT + (self.next_port_offset % EPHEMERAL_SPAN) as u16;
            self.next_port_offset = self.next_port_offset.wrapping_add(1);
            let key = (candidate, remote, port);
            if !self.sockets.contains_ends(&key) && !self.time_wait.contains(&key) {
                return candidate;
            }
        }
    }

    /// Returns a local port the caller chose, noting whether its ends are
    /// still parked in TIME-WAIT (a fresh port never is).
    fn note_parked_ends_reused(&mut self, local_port: u16, remote: Ipv4Addr, port: u16) -> u16 {
        if self.time_wait.contains(&(local_port, remote, port)) {
            self.parked_ends_reused = true;
        }
        local_port
    }

    /// Draws the ISN of one endpoint from its own named stream.
    fn initial_sequence_number(&self, local_port: u16, remote: Ipv4Addr, port: u16) -> SeqNumber {
        let name = random::StreamName::new()
            .text("tcp-isn/")
            .text(&self.id)
            .text(":")
            .decimal(local_port.into())
            .text("/")
            .address(remote)
            .text(":")
            .decimal(port.into());
        SeqNumber(name.stream(self.seed).next_u32())
    }
}

/// Hands over what `list` holds; an empty list stays, with its memory,
/// and an empty new one (which allocates nothing) is handed over instead.
fn take_filled<T>(list: &mut Vec<T>) -> Vec<T> {
    if list.is_empty() {
        return Vec::new();
    }
    std::mem::take(list)
}

/// Puts a handed-over list back in place of `list`, emptied, to reuse its
/// memory, unless `list` holds something again or has memory of its own.
fn give_back<T>(list: &mut Vec<T>, mut handed: Vec<T>) {
    if list.is_empty() && list.capacity() < handed.capacity() {
        handed.clear();
        *list = handed;
    }
}

/// Takes over the room of `old` if `list` has none, emptied.
fn reuse_list<T>(list: &mut Vec<T>, old: &mut Vec<T>) {
    if list.capacity() == 0 {
        old.clear();
        std::mem::swap(list, old);
    }
}

/// Returns the earlier of two deadlines, or the one there is.
fn earliest(a: Option<SimTime>, b: Option<SimTime>) -> Option<SimTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Returns the key of a connection's ends.
fn key_of(ends: Ends) -> EndsKey {
    (ends.local_port, ends.remote, ends.remote_port)
}

/// Tells whether a segment opens a connection: SYN without ACK.
fn is_opening_syn(segment: &Segment) -> bool {
    segment.control == Control::Syn && segment.ack.is_none()
}

/// Draws a port of the dynamic range from a random stream.
fn draw_ephemeral_port(random: &mut ChaCha20Rng) -> u16 {
    FIRST_EPHEMERAL_PORT + (random.next_u32() % EPHEMERAL_SPAN) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 25);
    const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const CLIENT_PORT: u16 = 50000;
    const CLIENT_ISN: SeqNumber = SeqNumber(100);
    const SERVER_ENDS: Ends = Ends {
        local_port: 25,
        remote: CLIENT,
        remote_port: CLIENT_PORT,
    };
    /// Twice the MSL of two minutes (RFC 9293 §3.4.2).
    const TWO_MSL: SimDuration = SimDuration::from_secs(240);

    /// Returns the instant `millis` milliseconds into the run.
    fn ms(millis: u64) -> SimTime {
        SimTime::from_nanos(millis * 1_000_000)
    }

    /// Hands the client's segments to the host at `now`, ends the host's
    /// turn and returns the segments it sent.
    fn to_host(host: &mut Host, now: SimTime, segments: &[Segment]) -> Vec<Segment> {
        for segment in segments {
            let body = Body::Tcp(segment.clone());
            let (src, dst) = (CLIENT, SERVER);
            host.receive(now, Packet { src, dst, body });
        }
        host.end_turn(now);
        let sent = host.take_outbox().into_iter().map(|out| out.packet.body);
        sent.map(|body| match body {
            Body::Tcp(segment) => segment,
            other => panic!("a segment, not {other:?}"),
        })
        .collect()
    }

    /// Hands the host's segments to the client and returns its replies.
    fn to_client(client: &mut Connection, segments: &[Segment]) -> Vec<Segment> {
        for segment in segments {
            client.handle_segment(SimTime::ZERO, segment.clone());
            client.flush_deferred_ack();
        }
        std::iter::from_fn(|| client.poll_transmit(SimTime::ZERO)).collect()
    }

    /// Returns a host that accepted a connection on port 25, closed it
    /// first and reached TIME-WAIT at 20 ms, the client's FIN, and the
    /// host's ISN.
    fn server_in_time_wait() -> (Host, Segment, SeqNumber) {
        let mut host = Host::new("server", SERVER, 1, None);
        host.add_script_endpoint(BTreeSet::from([25]));
        let mut client = Connection::connect(tcp::Config::default(), CLIENT_PORT, 25, CLIENT_ISN);
        let syn = to_client(&mut client, &[]);
        let syn_ack = to_host(&mut host, ms(0), &syn);
        let server_isn = syn_ack[0].seq;
        let ack = to_client(&mut client, &syn_ack);
        to_host(&mut host, ms(0), &ack);

        host.close_scripted(ms(10), SERVER_ENDS);
        host.end_turn(ms(10));
        let server_fin = host.take_outbox().remove(0).packet.body;
        let Body::Tcp(server_fin) = server_fin else {
            panic!("a FIN")
        };
        let ack_of_fin = to_client(&mut client, &[server_fin]);
        client.close();
        let client_fin = to_client(&mut client, &[]);
        to_host(
            &mut host,
            ms(20),
            &[ack_of_fin, client_fin.clone()].concat(),
        );
        (host, client_fin[0].clone(), server_isn)
    }

    #[test]
    fn connection_in_time_wait_is_parked_as_a_small_record() {
        let (mut host, _, _) = server_in_time_wait();
        assert_eq!(
            host.connection_state(SERVER_ENDS),
            Some(tcp::State::TimeWait)
        );
        assert!(host.sockets.is_empty());
        assert_eq!(host.time_wait.len(), 1);
        assert_eq!(host.next_deadline(), Some(ms(20) + TWO_MSL));
        assert!(std::mem::size_of::<Parked>() <= 40);
    }

    #[test]
    fn fin_repeated_in_time_wait_is_acked_again_and_restarts_the_wait() {
        let (mut host, client_fin, server_isn) = server_in_time_wait();
        let later = ms(60_000);

        let replies = to_host(&mut host, later, std::slice::from_ref(&client_fin));

        let [ack] = replies.as_slice() else {
            panic!("one ACK, not {replies:?}")
        };
        assert_eq!(ack.control, Control::None);
        assert_eq!(ack.seq, server_isn.plus(2), "after the SYN and the FIN");
        assert_eq!(
            ack.ack,
            Some(CLIENT_ISN.plus(2)),
            "after the SYN and the FIN"
        );
        assert_eq!(host.next_deadline(), Some(later + TWO_MSL));
        assert_eq!(host.time_wait.len(), 1);
        assert!(host.sockets.is_empty());
    }

    #[test]
    fn record_is_gone_after_two_msl() {
        let (mut host, _, _) = server_in_time_wait();
        let end = ms(20) + TWO_MSL;

        host.wake(SimTime::from_nanos(end.as_nanos() - 1));
        host.end_turn(SimTime::from_nanos(end.as_nanos() - 1));
        assert_eq!(
            host.connection_state(SERVER_ENDS),
            Some(tcp::State::TimeWait)
        );

        host.wake(end);
        host.end_turn(end);
        assert_eq!(host.connection_state(SERVER_ENDS), None);
        assert_eq!(host.take_closed(), [SERVER_ENDS]);
        assert_eq!(host.next_deadline(), None);
        assert!(host.is_idle());
        assert!(
            host.take_outbox().is_empty(),
            "the end of TIME-WAIT sends nothing"
        );
    }

    #[test]
    fn marked_connections_come_once_each_in_order() {
        let mut marked = MarkedConns::default();
        for conn in [3, 1, 3, 3, 2, 1] {
            marked.mark(ConnId(conn), conn as usize + 10);
        }
        let taken = marked.take();
        assert_eq!(taken, [(ConnId(1), 11), (ConnId(2), 12), (ConnId(3), 13)]);
        marked.give_back(taken);
        assert!(marked.take().is_empty(), "a list given back holds nothing");
    }

    #[test]
    fn a_mark_made_while_handed_over_is_kept() {
        let mut marked = MarkedConns::default();
        marked.mark(ConnId(7), 0);
        let taken = marked.take();
        marked.mark(ConnId(5), 1);
        marked.give_back(taken);
        assert_eq!(marked.take(), [(ConnId(5), 1)]);
    }

    #[test]
    fn a_connection_marked_in_two_slots_comes_once() {
        let mut marked = MarkedConns::default();
        marked.mark(ConnId(4), 2);
        marked.mark(ConnId(4), 0);
        assert_eq!(marked.take().len(), 1);
    }
}
