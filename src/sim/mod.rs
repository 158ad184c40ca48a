//! The engine: a virtual clock, one event queue, the topology, and the
//! hosts it runs, turning a scenario into a trace.
//!
//! Each record (a message, a lifeline event, a mail stored, an outcome)
//! goes to a [`sink::Sink`] as it is made; [`run`] keeps them all as a
//! trace, [`run_into`] hands them to an output that keeps less.
//!
//! Time jumps from one event to the next; nothing is stepped by ticks.
//! Events at the same instant run in the order they were scheduled. The
//! run ends when no event is left; an event at the last instant virtual
//! time can hold (where sums of times stop) ends it with an error, since
//! its true time is lost.
//!
//! Each packet's fate is settled when it is sent: the scenario's faults
//! are consulted (see [`faults`]), then the links carry it. A packet's
//! size on a link with a bandwidth is its IPv4 size, as the capture shows
//! it.

pub mod faults;
mod host;
mod hosts;
mod packet;
mod queue;
pub mod random;
mod recorder;
mod remarks;
mod script;
pub mod sink;
mod smtp_lines;
pub mod topology;

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use crate::protocol::dns as dns_model;
use crate::protocol::host_api::{Note, Outcome};
use crate::protocol::smtp;
use crate::scenario::Scenario;
use crate::scenario::script::Action;
use crate::time::{SimDuration, SimTime};
use crate::trace::{
    Delivery, LifelineEvent, LifelineEventKind, Loss, LossCause, MailOutcome, Message, Participant,
    SendReason, Trace,
};
use sink::{Detail, Sink, TraceSink};

use faults::{Judge, Sighting, Verdict};
pub use host::{App, Ends, Host, Observation};
use hosts::Hosts;
pub use packet::{Body, Outgoing, Packet};
pub use queue::EventQueue;
pub use recorder::escape_payload;
use recorder::{Passage, Recorder};
pub use remarks::UnmatchedRemark;
use script::ScriptRunner;
use topology::Topology;

/// The most events one run may process before it is stopped, plus
/// [`EVENTS_PER_HOST`] for each host.
///
/// Every modelled exchange ends on its own well before this; the limit
/// only turns a model bug into an error instead of a hang.
pub const EVENT_LIMIT: u64 = 50_000_000;

/// The events each host adds to [`EVENT_LIMIT`], so a population of a
/// million senders (about 55 events a session) is not stopped.
pub const EVENTS_PER_HOST: u64 = 1_000;

/// Returns the most events a run of `scenario` may process.
pub fn event_limit(scenario: &Scenario) -> u64 {
    EVENT_LIMIT + EVENTS_PER_HOST * scenario.participants.len() as u64
}

/// What happens at an instant.
#[derive(Debug)]
enum Event {
    /// An application's start time has come.
    Start { host: usize, app: usize },
    /// The start time of the client of a population's copy has come;
    /// `number` is the insertion number kept for the next copy's start.
    CopyStart { host: usize, number: u64 },
    /// A packet from host `sender` reaches a host; `message` is its
    /// index in the trace.
    Arrive {
        host: usize,
        sender: usize,
        packet: Packet,
        message: usize,
    },
    /// A host's timer may be due.
    Wake { host: usize },
    /// A script step is due.
    Script { step: usize },
    /// The receiver of a simultaneous close closes its side too.
    PartnerClose { host: usize, ends: Ends },
    /// A host goes down (`down`) or comes back up, as fault `number` says.
    Outage {
        host: usize,
        down: bool,
        number: usize,
    },
}

/// The result of a run.
#[derive(Debug)]
pub struct Run {
    /// What happened.
    pub trace: Trace,
    /// Remarks of the scenario that matched no message.
    pub unmatched_remarks: Vec<UnmatchedRemark>,
    /// How many events the engine processed.
    pub events: u64,
    /// The number of the script step whose message never arrived, if the
    /// script stopped there (a lost packet, or no path).
    pub stalled_step: Option<usize>,
    /// The recipients left with no outcome when the run ended, as
    /// `participant: address`; empty when every mail was concluded.
    pub open_recipients: Vec<String>,
}

/// The result of a run whose records went to a [`Sink`].
#[derive(Debug)]
pub struct Streamed {
    /// How many events the engine processed.
    pub events: u64,
    /// The number of the script step whose message never arrived, if the
    /// script stopped there.
    pub stalled_step: Option<usize>,
    /// The recipients left with no outcome, as `participant: address`.
    pub open_recipients: Vec<String>,
    /// The most events that waited in the queue at once.
    pub longest_queue: usize,
}

/// Why a run could not finish.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The run went past [`event_limit`] events.
    #[error("the run was stopped after {0} events without ending (a model never settled)")]
    EventLimit(u64),
    /// An event fell at or past the last instant virtual time can hold.
    #[error(
        "virtual time ran out: an event fell at or past {} s, the last instant a run can reach (timer or delay settings too large)",
        SimTime::MAX
    )]
    TimeOverflow,
}

/// The simulated network and everything on it during a run.
struct World<'a> {
    scenario: &'a Scenario,
    hosts: Hosts,
    retired: Vec<bool>,
    topology: Topology,
    judge: Judge,
    queue: EventQueue<Event>,
    wakes: Vec<Option<SimTime>>,
    recorder: Recorder,
    sink: &'a mut dyn Sink,
    event_limit: u64,
    reacting_to: Option<(usize, usize)>,
    script: ScriptRunner,
    client_apps: Vec<Option<usize>>,
}

/// Runs a scenario to the end and returns its whole trace, remarks
/// attached.
pub fn run(scenario: &Scenario) -> Result<Run, RunError> {
    let mut kept = TraceSink::default();
    let streamed = run_into(scenario, &mut kept)?;
    let mut trace = trace_of(scenario, kept);
    remarks::attach_to_steps(&mut trace, scenario);
    let unmatched_remarks = remarks::attach(&mut trace, scenario);
    Ok(Run {
        trace,
        unmatched_remarks,
        events: streamed.events,
        stalled_step: streamed.stalled_step,
        open_recipients: streamed.open_recipients,
    })
}

/// Runs a scenario to the end, handing each record to `sink` as it is
/// made. Remarks are not attached: they are matched against a whole run.
pub fn run_into(scenario: &Scenario, sink: &mut dyn Sink) -> Result<Streamed, RunError> {
    let mut world = World::build(scenario, sink);
    let events = world.run_to_end()?;
    let stalled_step = world.script.stalled_step().map(|step| step.number);
    let open_recipients = world.hosts.built().flat_map(Host::open_recipients);
    Ok(Streamed {
        events,
        stalled_step,
        open_recipients: open_recipients.collect(),
        longest_queue: world.queue.longest(),
    })
}

/// Returns the participants of a scenario as a trace names them.
pub fn trace_participants(scenario: &Scenario) -> Vec<Participant> {
    let participants = scenario.participants.iter().map(|p| Participant {
        id: p.id.clone(),
        name: p.name.clone(),
        group: p.group.clone(),
        host: p.host.to_string(),
        address: p.address,
    });
    participants.collect()
}

/// Assembles the trace of a finished run from its kept records.
fn trace_of(scenario: &Scenario, kept: TraceSink) -> Trace {
    Trace {
        title: scenario.title.clone(),
        seed: scenario.seed,
        participants: trace_participants(scenario),
        messages: kept.messages,
        deliveries: kept.deliveries,
        outcomes: kept.outcomes,
        events: kept.events,
    }
}

impl<'a> World<'a> {
    /// Builds hosts, applications and links, and schedules the starts.
    fn build(scenario: &'a Scenario, sink: &'a mut dyn Sink) -> World<'a> {
        let hosts = scenario.participants.len();
        let mut world = World {
            scenario,
            hosts: Hosts::with_slots(hosts),
            retired: vec![false; hosts],
            topology: Topology::new(scenario.seed, &scenario.participants, &scenario.links),
            judge: Judge::new(scenario.faults.clone()),
            queue: EventQueue::new(),
            wakes: vec![None; hosts],
            recorder: Recorder::new(detail_for(scenario, sink)),
            sink,
            event_limit: event_limit(scenario),
            reacting_to: None,
            script: ScriptRunner::new(Vec::new(), Vec::new(), Vec::new(), Vec::new()),
            client_apps: vec![None; scenario.participants.written().len()],
        };
        world.schedule_outages();
        for written in 0..scenario.participants.written().len() {
            world.add_participant(written);
        }
        world.prepare_script();
        world
    }

    /// Gives every host in the script its endpoint and schedules the first step.
    fn prepare_script(&mut self) {
        let steps = &self.scenario.script;
        if steps.is_empty() {
            return;
        }
        let mut endpoints = vec![None; self.hosts.len()];
        for (index, endpoint) in endpoints.iter_mut().enumerate() {
            if steps
                .iter()
                .any(|step| step.from == index || step.to == index)
            {
                let ports = script_ports(steps, index);
                *endpoint = Some(self.hosts[index].add_script_endpoint(ports));
            }
        }
        let participants = &self.scenario.participants;
        let addresses = (0..participants.len())
            .map(|index| participants.address(index))
            .collect();
        let clients = (0..participants.len())
            .map(|index| self.client_app(index))
            .collect();
        self.script = ScriptRunner::new(steps.clone(), addresses, endpoints, clients);
        if let Some((step, wait)) = self.script.first() {
            self.queue
                .push(SimTime::ZERO + wait, Event::Script { step });
        }
    }

    /// Schedules the moments hosts go down and come back.
    fn schedule_outages(&mut self) {
        for outage in self.judge.outages() {
            let (host, number) = (outage.host, outage.number);
            let down = Event::Outage {
                host,
                down: true,
                number,
            };
            self.queue.push(outage.window.since, down);
            if let Some(until) = outage.window.until {
                let up = Event::Outage {
                    host,
                    down: false,
                    number,
                };
                self.queue.push(until, up);
            }
        }
    }

    /// Adds the host of the participant written at `written`, or, for a
    /// population, schedules its first copy's start: copies are built
    /// when they start.
    ///
    /// Each copy's start keeps the insertion number it would have had if
    /// every start were scheduled now, so events at the same instant run
    /// in the same order either way.
    fn add_participant(&mut self, written: usize) {
        let span = self.scenario.participants.span(written);
        if !self.is_copy(span.start) {
            self.add_host(span.start);
            return;
        }
        let number = self.queue.reserve(span.len() as u64);
        self.schedule_copy_start(span.start, number);
    }

    /// Tells whether the host at `index` is a population's copy.
    fn is_copy(&self, index: usize) -> bool {
        self.scenario.participants.origin(index).1.is_some()
    }

    /// Returns the index of the SMTP client application of the host at
    /// `index`, if it has one; copies have it where their template has.
    fn client_app(&self, index: usize) -> Option<usize> {
        self.client_apps[self.scenario.participants.origin(index).0]
    }

    /// Schedules the start of copy `host` under insertion number `number`.
    fn schedule_copy_start(&mut self, host: usize, number: u64) {
        let start = self.scenario.participants.client_start(host);
        let start = start.expect("a population copy has a client");
        let event = Event::CopyStart { host, number };
        self.queue
            .push_numbered(SimTime::ZERO + start, number, event);
    }

    /// Builds a population copy, starts its client, and schedules the
    /// next copy's start.
    fn start_copy(&mut self, now: SimTime, host: usize, number: u64) {
        self.build_copy(host);
        let app = self
            .client_app(host)
            .expect("a population copy has a client");
        self.hosts[host].start(now, app);
        let participants = &self.scenario.participants;
        let span = participants.span(participants.origin(host).0);
        if host + 1 < span.end {
            self.schedule_copy_start(host + 1, number + 1);
        }
    }

    /// Builds the host of a population copy if it is not built.
    fn build_copy(&mut self, host: usize) {
        if !self.hosts.is_built(host) {
            let built = self.new_host(host);
            self.hosts.put(host, built);
        }
    }

    /// Drops a population copy's host, and its links' state, once it can
    /// do nothing more: its client is done (or it was dropped before)
    /// and it is idle.
    fn retire_if_done(&mut self, host: usize) {
        let Some(built) = self.hosts.get(host) else {
            return;
        };
        let finished = self.retired[host] || built.clients_done();
        if finished && built.is_idle() && self.is_copy(host) {
            self.hosts.drop_host(host);
            self.topology.forget_copy(host);
            self.retired[host] = true;
        }
    }

    /// Adds the host of participant `index` with its applications, and
    /// schedules its client's start.
    fn add_host(&mut self, index: usize) {
        let host = self.new_host(index);
        self.hosts.put(index, host);
        let participant = self.scenario.participants.template(index);
        let (Some(setup), Some(app)) = (&participant.smtp_client, self.client_app(index)) else {
            return;
        };
        let script = &self.scenario.script;
        let started_by_script = script
            .iter()
            .any(|s| s.from == index && matches!(s.action, Action::Mail));
        if !started_by_script {
            self.queue.push(
                SimTime::ZERO + setup.start,
                Event::Start { host: index, app },
            );
        }
    }

    /// Builds the host of participant `index` with its applications.
    fn new_host(&mut self, index: usize) -> Host {
        let participants = &self.scenario.participants;
        let participant = participants.template(index);
        let resolver = participant
            .resolver
            .map(|r| (participants.address(r), participant.dns));
        let mut host = Host::new(
            &participants.id(index),
            participants.address(index),
            self.scenario.seed,
            resolver,
        );
        host.set_tcp_config(participant.tcp);
        if let Some(records) = &participant.dns_records {
            host.add_app(App::DnsServer(dns_model::Server::new(records.clone())));
        }
        if let Some(config) = &participant.smtp_server {
            host.add_app(App::SmtpServer(smtp::Server::new(config.as_ref().clone())));
        }
        if let Some(setup) = &participant.smtp_client {
            let name = participants.host(index).into_owned();
            let client = smtp::Client::new(name, std::sync::Arc::clone(&setup.mails), setup.retry)
                .with_timeouts(setup.timeouts);
            let app = host.add_app(App::SmtpClient(Box::new(client)));
            self.client_apps[participants.origin(index).0] = Some(app);
        }
        host
    }

    /// Lets the recorder forget the connections `host` closed, as far as
    /// their other ends allow.
    fn forget_closed(&mut self, host: usize) {
        let mut closed = self.hosts[host].take_closed();
        if closed.is_empty() {
            self.hosts[host].give_back_closed(closed);
            return;
        }
        let address = self.scenario.participants.address(host);
        for ends in closed.drain(..) {
            let peer_ends = Ends {
                local_port: ends.remote_port,
                remote: address,
                remote_port: ends.local_port,
            };
            let peer = self.scenario.participants.index_at(ends.remote);
            let peer_state = peer
                .and_then(|peer| self.hosts.get(peer))
                .and_then(|peer| peer.connection_state(peer_ends));
            let local = (address, ends.local_port);
            let remote = (ends.remote, ends.remote_port);
            self.recorder.forget_connection(local, remote, peer_state);
        }
        self.hosts[host].give_back_closed(closed);
    }

    /// Processes events until none is left; returns how many there were.
    fn run_to_end(&mut self) -> Result<u64, RunError> {
        let mut processed = 0;
        while let Some((now, event)) = self.queue.pop() {
            processed += 1;
            if processed > self.event_limit {
                return Err(RunError::EventLimit(self.event_limit));
            }
            if now == SimTime::MAX {
                return Err(RunError::TimeOverflow);
            }
            let Some(host) = self.dispatch(now, event) else {
                continue;
            };
            self.follow_script(now, host);
            self.hosts[host].end_turn(now);
            self.forget_closed(host);
            self.flush_host(now, host);
            self.retire_if_done(host);
        }
        Ok(processed)
    }

    /// Hands one event to its host; returns that host's index, or none
    /// when the event is a wake-up of a dropped copy, which has no timer.
    ///
    /// While a host handles an arriving message, what it sends is its
    /// reaction to that message.
    fn dispatch(&mut self, now: SimTime, event: Event) -> Option<usize> {
        self.reacting_to = None;
        if let Event::Wake { host } = event
            && !self.hosts.is_built(host)
        {
            self.wakes[host] = None;
            return None;
        }
        let host = self.handle(now, event);
        Some(host)
    }

    /// Hands one event to its host, built if it is a copy not built yet;
    /// returns that host's index.
    fn handle(&mut self, now: SimTime, event: Event) -> usize {
        match event {
            Event::Start { host, app } => {
                self.hosts[host].start(now, app);
                host
            }
            Event::CopyStart { host, number } => {
                self.start_copy(now, host, number);
                host
            }
            Event::Arrive {
                host,
                sender,
                packet,
                message,
            } => {
                self.reacting_to = Some((message, sender));
                self.build_copy(host);
                self.hosts[host].receive(now, packet);
                host
            }
            Event::Wake { host } => {
                self.wakes[host] = None;
                self.hosts[host].wake(now);
                host
            }
            Event::Script { step } => {
                self.perform_step(step, now);
                self.script.owner(step)
            }
            Event::PartnerClose { host, ends } => {
                self.build_copy(host);
                self.hosts[host].close_scripted(now, ends);
                host
            }
            Event::Outage { host, down, number } => {
                self.build_copy(host);
                self.mark_outage(now, host, down, number);
                host
            }
        }
    }

    /// Carries out a script step, and schedules the other side's close
    /// when the step is a simultaneous close.
    fn perform_step(&mut self, step: usize, now: SimTime) {
        self.script.perform(step, now, &mut self.hosts);
        if let Some((host, ends)) = self.script.take_partner_close() {
            self.queue.push(now, Event::PartnerClose { host, ends });
        }
    }

    /// Marks a host going down or coming back on its lifeline.
    fn mark_outage(&mut self, now: SimTime, host: usize, down: bool, number: usize) {
        let (kind, words) = if down {
            (LifelineEventKind::HostDown, "host down")
        } else {
            (LifelineEventKind::HostUp, "host up")
        };
        let label = format!("{words} (fault {number})");
        self.mark_lifeline(host, now, Note { kind, label });
    }

    /// Lets the script see what reached `host`, and starts the next step
    /// when the current one ended: in this turn when it is this host's and
    /// has no wait, else as an event of its own.
    fn follow_script(&mut self, now: SimTime, host: usize) {
        loop {
            let mut observations = self.hosts[host].take_observations();
            if observations.is_empty() {
                return;
            }
            for observation in observations.drain(..) {
                let Some(next) = self.script.observe(host, &observation) else {
                    continue;
                };
                let wait = self.script.wait_before(next);
                if wait == SimDuration::ZERO && self.script.owner(next) == host {
                    self.perform_step(next, now);
                } else {
                    self.queue.push(now + wait, Event::Script { step: next });
                }
            }
            self.hosts[host].give_back_observations(observations);
        }
    }

    /// Marks what a host noted on its lifeline, sends what it produced,
    /// keeps its reports, and sets its timer.
    ///
    /// Notes come first: a timer that fired is drawn above what it sent.
    fn flush_host(&mut self, now: SimTime, host: usize) {
        let mut notes = self.hosts[host].take_notes();
        if !notes.is_empty() {
            for stamped in notes.drain(..) {
                self.mark_lifeline(host, stamped.at, stamped.note);
            }
            self.hosts[host].give_back_notes(notes);
        }
        let mut outbox = self.hosts[host].take_outbox();
        for outgoing in outbox.drain(..) {
            self.send(now, host, outgoing);
        }
        self.hosts[host].give_back_outbox(outbox);
        let mut reports = self.hosts[host].take_reports();
        if !reports.is_empty() {
            for report in reports.drain(..) {
                self.keep_report(host, report.at, report.outcome);
            }
            self.hosts[host].give_back_reports(reports);
        }
        self.schedule_wake(host);
    }

    /// Puts a packet on the network and records it, with the copy a
    /// fault rule may ask for right after it.
    ///
    /// A packet to an address no host has, or with no path to its host,
    /// is recorded as lost and never arrives.
    fn send(&mut self, now: SimTime, from: usize, outgoing: Outgoing) {
        if self.recorder.detail() == Detail::Counts {
            self.send_counted(now, from, outgoing);
            return;
        }
        let target = self.scenario.participants.index_at(outgoing.packet.dst);
        let mut message = self.start_message(now, from, target, &outgoing.packet);
        self.recorder.describe(&mut message, &outgoing);
        let (arrival, verdict) = self.passage(now, from, target, &message, &outgoing.packet);
        let copy =
            (verdict == Verdict::Duplicate).then(|| (message.clone(), outgoing.packet.clone()));
        self.keep(&mut message, arrival, (from, target), outgoing.packet);
        self.sink.take_message(message);
        if let Some((copy, packet)) = copy {
            self.send_copy(now, from, target, copy, packet);
        }
    }

    /// Puts a packet on the network for a sink that only counts: the
    /// sink gets the packet's figures, and no message is built.
    ///
    /// A counting run has no fault rules (they would need messages in
    /// full), so only an outage, a partition or the links settle the
    /// packet's fate, as [`Self::passage`] would.
    fn send_counted(&mut self, now: SimTime, from: usize, outgoing: Outgoing) {
        debug_assert!(self.scenario.faults.rules.is_empty());
        let target = self.scenario.participants.index_at(outgoing.packet.dst);
        let index = self.recorder.next_index();
        let mut tally = self.recorder.count(&outgoing);
        let arrival = target.and_then(|to| {
            if self.judge.stopped_on_leaving(from, to, now).is_some() {
                return None;
            }
            let carried = self.carry(now, from, to, &outgoing.packet, SimDuration::ZERO);
            carried.ok().map(|at| (to, at))
        });
        tally.lost = arrival.is_none();
        if let Some((to, at)) = arrival {
            let arrive = Event::Arrive {
                host: to,
                sender: from,
                packet: outgoing.packet,
                message: index,
            };
            self.queue.push(at, arrive);
        }
        self.sink.tally(tally);
    }

    /// Records and sends the copy of message `original.index`; the rules
    /// do not see it.
    fn send_copy(
        &mut self,
        now: SimTime,
        from: usize,
        target: Option<usize>,
        mut copy: Message,
        packet: Packet,
    ) {
        copy.why = SendReason::Duplicate { of: copy.index };
        copy.index = self.recorder.next_index();
        copy.label.push_str(" (duplicate)");
        let arrival = match target {
            Some(to) => self.carry(now, from, to, &packet, SimDuration::ZERO),
            None => Err(no_host_at(copy.dst_address)),
        };
        self.keep(&mut copy, arrival, (from, target), packet);
        self.sink.take_message(copy);
    }

    /// Starts the next trace message, for a packet leaving `from`.
    fn start_message(
        &self,
        now: SimTime,
        from: usize,
        target: Option<usize>,
        packet: &Packet,
    ) -> Message {
        let participants = &self.scenario.participants;
        let id = |host: Option<usize>| match host {
            Some(host) => participants.id(host),
            None => Cow::Borrowed(""),
        };
        let (from_id, to_id) = (id(Some(from)), id(target));
        let reacting_to = self
            .reacting_to
            .map(|(message, sender)| (message, Some(sender) == target));
        let passage = Passage {
            from: &from_id,
            to: &to_id,
            sent_at: now,
            reacting_to,
        };
        self.recorder.start(passage, packet)
    }

    /// Settles a message's fate: a sender that is down or a partition
    /// stops it first; else the fault rules decide, then the links carry it.
    fn passage(
        &mut self,
        now: SimTime,
        from: usize,
        target: Option<usize>,
        message: &Message,
        packet: &Packet,
    ) -> (Result<SimTime, Loss>, Verdict) {
        let Some(to) = target else {
            return (Err(no_host_at(message.dst_address)), Verdict::Pass);
        };
        if let Some(loss) = self.judge.stopped_on_leaving(from, to, now) {
            return (Err(loss), Verdict::Pass);
        }
        let verdict = self.judge_rules(now, from, to, message);
        let arrival = match &verdict {
            Verdict::Drop(loss) => Err(loss.clone()),
            Verdict::Delay(by) => self.carry(now, from, to, packet, *by),
            Verdict::Pass | Verdict::Duplicate => {
                self.carry(now, from, to, packet, SimDuration::ZERO)
            }
        };
        (arrival, verdict)
    }

    /// Lets the fault rules decide a message's fate; with no rules it
    /// passes, and its path is not looked up for them.
    fn judge_rules(&mut self, now: SimTime, from: usize, to: usize, message: &Message) -> Verdict {
        if self.scenario.faults.rules.is_empty() {
            return Verdict::Pass;
        }
        let sighting = Sighting {
            message,
            from,
            to: Some(to),
            links: self.topology.path_ends(from, to),
        };
        self.judge.judge(&sighting, now)
    }

    /// Carries a packet over the links, holds it back `delay` more, and
    /// loses it if its target is down when it arrives.
    fn carry(
        &mut self,
        now: SimTime,
        from: usize,
        to: usize,
        packet: &Packet,
        delay: SimDuration,
    ) -> Result<SimTime, Loss> {
        let octets = if self.topology.weighs_packets() {
            packet.ipv4_size()
        } else {
            0
        };
        let at = self.topology.carry(from, to, now, octets)? + delay;
        match self.judge.stopped_on_arrival(to, at) {
            Some(loss) => Err(loss),
            None => Ok(at),
        }
    }

    /// Fills in a message's arrival or loss, counts it as recorded and
    /// schedules its arrival; the caller then gives it to the sink, whole
    /// when messages are filled in full (a sink keeping them needs no
    /// copy), else to read only.
    fn keep(
        &mut self,
        message: &mut Message,
        arrival: Result<SimTime, Loss>,
        (sender, target): (usize, Option<usize>),
        packet: Packet,
    ) {
        let index = message.index;
        match arrival {
            Ok(at) => message.received_at = Some(at),
            Err(loss) => message.lost = Some(loss),
        }
        let arrives = message.received_at;
        self.recorder.keep(message);
        if let (Some(to), Some(at)) = (target, arrives) {
            let arrive = Event::Arrive {
                host: to,
                sender,
                packet,
                message: index,
            };
            self.queue.push(at, arrive);
        }
    }

    /// Keeps something that happened on a host's lifeline for the trace,
    /// placed before the next message sent.
    fn mark_lifeline(&mut self, host: usize, at: SimTime, note: Note) {
        let full = self.recorder.detail() == Detail::Full;
        self.sink.lifeline_event(LifelineEvent {
            at,
            at_text: if full { at.to_string() } else { String::new() },
            participant: self.participant_id(host),
            before: self.recorder.next_index(),
            kind: note.kind,
            label: note.label,
        });
    }

    /// Keeps an application's report for the trace.
    fn keep_report(&mut self, host: usize, at: SimTime, outcome: Outcome) {
        let participant = self.participant_id(host);
        match outcome {
            Outcome::Stored {
                mailbox,
                from,
                content,
            } => self.sink.delivery(Delivery {
                at,
                participant,
                mailbox,
                from,
                content,
            }),
            Outcome::Concluded {
                recipient,
                delivered,
                reason,
            } => {
                let status = if delivered { "delivered" } else { "failed" }.to_string();
                let start = self.scenario.participants.client_start(host);
                self.sink.outcome(MailOutcome {
                    at,
                    participant,
                    recipient,
                    status,
                    reason,
                    client_started: SimTime::ZERO + start.unwrap_or_default(),
                })
            }
        }
    }

    /// Returns a host's participant id for a record, or nothing when
    /// records are kept only to be counted.
    fn participant_id(&self, host: usize) -> String {
        if self.recorder.detail() == Detail::Full {
            self.scenario.participants.id(host).into_owned()
        } else {
            String::new()
        }
    }

    /// Schedules a wake-up at the host's next timer, unless one is pending.
    fn schedule_wake(&mut self, host: usize) {
        let Some(deadline) = self.hosts[host].next_deadline() else {
            return;
        };
        if self.wakes[host].is_some_and(|pending| pending <= deadline) {
            return;
        }
        self.wakes[host] = Some(deadline);
        self.queue.push(deadline, Event::Wake { host });
    }
}

/// Returns how much of each message to fill: what the sink reads, or
/// everything when fault rules match messages by their text.
fn detail_for(scenario: &Scenario, sink: &dyn Sink) -> Detail {
    if scenario.faults.rules.is_empty() {
        sink.detail()
    } else {
        Detail::Full
    }
}

/// Returns the TCP ports a script opens to participant `index`, where
/// its script endpoint must listen.
fn script_ports(steps: &[crate::scenario::script::Step], index: usize) -> BTreeSet<u16> {
    let opened_here = steps.iter().filter_map(|step| match step.action {
        Action::Open { connection, .. } if connection.server == index => Some(connection.port),
        _ => None,
    });
    opened_here.collect()
}

/// Describes the loss of a packet to an address no host has.
fn no_host_at(address: Ipv4Addr) -> Loss {
    Loss {
        cause: LossCause::NoRoute,
        detail: format!("no host has the address {address}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{self, Overrides};

    /// Three copies of one sender, `interval` apart, each mailing the
    /// same receiver.
    fn population(interval: &str) -> Scenario {
        let text = format!(
            "title: t\nseed: 3\nparticipants:\n\
             - id: s\n  host: mail.s.com\n  address: 10.0.0.1\n  resolver: dns\n\
             \x20 population: {{ count: 3, interval: {interval} }}\n\
             \x20 smtp_client:\n    mails:\n\
             \x20     - {{ from: a@s.com, to: [b@r.com], subject: Hi, body: \"Hi\\n\" }}\n\
             - id: dns\n  host: ns.example.net\n  address: 192.0.2.53\n  dns_server:\n    records:\n\
             \x20     - {{ type: MX, name: r.com, preference: 10, exchange: mail.r.com }}\n\
             \x20     - {{ type: A, name: mail.r.com, address: 192.0.2.25 }}\n\
             - id: r\n  host: mail.r.com\n  address: 192.0.2.25\n  resolver: dns\n\
             \x20 smtp_server: {{ domain: r.com, mailboxes: [b], check_helo: false }}\n\
             links:\n  - {{ between: [s, dns], latency: 10ms }}\n\
             \x20 - {{ between: [r, dns], latency: 10ms }}\n\
             \x20 - {{ between: [s, r], latency: 15ms }}\n"
        );
        scenario::parse("t.yaml", &text, &Overrides::default()).expect("a valid scenario")
    }

    #[test]
    fn finished_copies_are_dropped_and_other_hosts_kept() {
        let scenario = population("1s");
        let mut kept = TraceSink::default();
        let mut world = World::build(&scenario, &mut kept);
        world.run_to_end().expect("the run ends");
        let built: Vec<bool> = (0..5).map(|host| world.hosts.is_built(host)).collect();
        assert_eq!(built, [false, false, false, true, true]);
    }

    #[test]
    fn the_recorder_forgets_connections_once_both_ends_closed() {
        let scenario = population("1s");
        let mut kept = TraceSink::default();
        let mut world = World::build(&scenario, &mut kept);
        world.run_to_end().expect("the run ends");
        assert!(!world.recorder.holds_connections());
    }

    #[test]
    fn copies_starting_together_start_in_order_before_anything_else() {
        let run = run(&population("0s")).expect("the run ends");
        let first: Vec<&str> = run.trace.messages[..3]
            .iter()
            .map(|message| message.from.as_str())
            .collect();
        assert_eq!(first, ["s-1", "s-2", "s-3"]);
        assert!(
            run.trace.messages[..3]
                .iter()
                .all(|m| m.layer == crate::trace::Layer::Dns)
        );
    }
}
