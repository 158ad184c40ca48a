//! Carries out a scenario's script, one step after another.
//!
//! A step starts when the previous one has ended, plus its own `wait`:
//! an `open` ends when the server side is ESTABLISHED, a `send` when all
//! its bytes (or its datagram) have arrived, a `close` when the FIN has
//! arrived. The runner knows the whole script, so it acts as the stage
//! manager of a play: it tells each host what to do next, and the hosts'
//! TCP and UDP do the rest, handshakes, ACKs and FINs included.
//!
//! When the next step belongs to the host that saw the previous one
//! arrive and has no wait, it runs in that same turn, before the host
//! flushes its deferred ACK, so a FIN in answer to a FIN carries the ACK
//! as real stacks do.
//!
//! A `close` step marked simultaneous has the receiver close too, at the
//! same instant, in a turn of its own right after the sender's, so both
//! FINs are on the wire before either arrives.
//!
//! A `mail` step starts a host's SMTP client model and ends when the
//! model has sent its mails and closed its sessions, so literal steps and
//! a model's whole exchange can follow one another.
//!
//! Not modelled: waiting for a model's reply. A step sent to a modelled
//! server ends when it arrives, not when the server answers; give the next
//! step a `wait` to leave the model time to answer.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::host::{Ends, Host, Observation};
use super::hosts::Hosts;
use super::packet::Body;
use crate::scenario::script::{Action, Connection, Datagram, DnsId, PortChoice, Step};
use crate::time::{SimDuration, SimTime};

/// What ends the step in progress, as seen by the receiving host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expectation {
    /// The server accepted the connection and completed the handshake.
    Established(Ends),
    /// This many more bytes must arrive on the connection.
    Bytes(Ends, usize),
    /// The FIN must arrive on the connection.
    Fin(Ends),
    /// The datagram from this address and port to this port must arrive.
    Datagram {
        from: Ipv4Addr,
        src_port: u16,
        dst_port: u16,
    },
    /// The SMTP client model at this app index must finish its mails.
    ModelFinished(usize),
}

/// The step in progress.
#[derive(Clone, Copy, Debug)]
struct Current {
    index: usize,
    receiver: usize,
    expectation: Expectation,
}

/// Carries out the steps of one script.
#[derive(Debug)]
pub struct ScriptRunner {
    steps: Vec<Step>,
    addresses: Vec<Ipv4Addr>,
    endpoints: Vec<Option<usize>>,
    clients: Vec<Option<usize>>,
    current: Option<Current>,
    client_ports: BTreeMap<Connection, u16>,
    datagram_ports: Vec<Option<(u16, u16)>>,
    dns_ids: Vec<Option<u16>>,
    partner_close: Option<(usize, Ends)>,
}

impl ScriptRunner {
    /// Builds the runner; `endpoints` gives each host's script endpoint
    /// app, `clients` each host's SMTP client app.
    pub fn new(
        steps: Vec<Step>,
        addresses: Vec<Ipv4Addr>,
        endpoints: Vec<Option<usize>>,
        clients: Vec<Option<usize>>,
    ) -> ScriptRunner {
        let count = steps.len();
        ScriptRunner {
            steps,
            addresses,
            endpoints,
            clients,
            current: None,
            client_ports: BTreeMap::new(),
            datagram_ports: vec![None; count],
            dns_ids: vec![None; count],
            partner_close: None,
        }
    }

    /// Returns the first step's index and its wait, if there is a script.
    pub fn first(&self) -> Option<(usize, SimDuration)> {
        self.steps.first().map(|step| (0, step.wait))
    }

    /// Returns the host that carries out a step.
    pub fn owner(&self, index: usize) -> usize {
        self.steps[index].from
    }

    /// Returns the wait before a step.
    pub fn wait_before(&self, index: usize) -> SimDuration {
        self.steps[index].wait
    }

    /// Takes the close the receiver of a simultaneous `close` step owes:
    /// its host and its ends of the connection.
    pub fn take_partner_close(&mut self) -> Option<(usize, Ends)> {
        self.partner_close.take()
    }

    /// Returns the step that never ended, if the script stalled.
    pub fn stalled_step(&self) -> Option<&Step> {
        self.current.map(|current| &self.steps[current.index])
    }

    /// Carries out a step on its sending host and notes what ends it; a
    /// `mail` step's receiver is its sender, whose model must finish.
    pub fn perform(&mut self, index: usize, now: SimTime, hosts: &mut Hosts) {
        let step = self.steps[index].clone();
        let expectation = match &step.action {
            Action::Open {
                connection,
                client_port,
            } => self.open(now, &step, *connection, *client_port, hosts),
            Action::Send { connection, data } => {
                let (sender, receiver) = self.ends_of(*connection, step.from);
                hosts[step.from].send_scripted(now, sender, data);
                Expectation::Bytes(receiver, data.len())
            }
            Action::Close {
                connection,
                simultaneous,
            } => {
                let (sender, receiver) = self.ends_of(*connection, step.from);
                hosts[step.from].close_scripted(now, sender);
                if *simultaneous {
                    self.partner_close = Some((step.to, receiver));
                }
                Expectation::Fin(receiver)
            }
            Action::Datagram {
                from_port,
                to_port,
                payload,
            } => self.datagram(
                index,
                &step,
                (*from_port, *to_port),
                payload,
                &mut hosts[step.from],
            ),
            Action::Mail => {
                let app = self.clients[step.from].expect("a mail step's participant has a client");
                hosts[step.from].start(now, app);
                Expectation::ModelFinished(app)
            }
        };
        self.current = Some(Current {
            index,
            receiver: step.to,
            expectation,
        });
    }

    /// Takes one observation of `host`; returns the next step's index when
    /// it ends the current step.
    pub fn observe(&mut self, host: usize, observation: &Observation) -> Option<usize> {
        let current = self.current.as_mut()?;
        if current.receiver != host {
            return None;
        }
        let ended = match (&mut current.expectation, observation) {
            (
                Expectation::Established(wanted),
                Observation::Established {
                    ends,
                    accepted: true,
                },
            ) => wanted == ends,
            (Expectation::Bytes(wanted, left), Observation::Data(ends, count))
                if wanted == ends =>
            {
                *left = left.saturating_sub(*count);
                *left == 0
            }
            (Expectation::Fin(wanted), Observation::PeerFinished(ends)) => wanted == ends,
            (
                Expectation::Datagram {
                    from,
                    src_port,
                    dst_port,
                },
                Observation::Datagram {
                    from: f,
                    src_port: s,
                    dst_port: d,
                },
            ) => (*from, *src_port, *dst_port) == (*f, *s, *d),
            (Expectation::ModelFinished(wanted), Observation::ModelFinished { app }) => {
                wanted == app
            }
            _ => false,
        };
        if !ended {
            return None;
        }
        let next = current.index + 1;
        self.current = None;
        (next < self.steps.len()).then_some(next)
    }

    /// Opens a connection and expects the server to accept it.
    fn open(
        &mut self,
        now: SimTime,
        step: &Step,
        connection: Connection,
        client_port: Option<u16>,
        hosts: &mut Hosts,
    ) -> Expectation {
        let app = self.endpoints[step.from].expect("every host in a script has a script endpoint");
        let server = self.addresses[step.to];
        let port = hosts[step.from].open_scripted(now, app, server, connection.port, client_port);
        self.client_ports.insert(connection, port);
        let remote = self.addresses[step.from];
        Expectation::Established(Ends {
            local_port: connection.port,
            remote,
            remote_port: port,
        })
    }

    /// Returns a connection's ends as the sender sees them, then as the receiver does.
    fn ends_of(&self, connection: Connection, sender: usize) -> (Ends, Ends) {
        let client_port = self
            .client_ports
            .get(&connection)
            .copied()
            .unwrap_or_default();
        let client = Ends {
            local_port: client_port,
            remote: self.addresses[connection.server],
            remote_port: connection.port,
        };
        let server = Ends {
            local_port: connection.port,
            remote: self.addresses[connection.client],
            remote_port: client_port,
        };
        if sender == connection.client {
            (client, server)
        } else {
            (server, client)
        }
    }

    /// Sends a datagram and expects it to arrive.
    fn datagram(
        &mut self,
        index: usize,
        step: &Step,
        ports: (PortChoice, PortChoice),
        payload: &Datagram,
        host: &mut Host,
    ) -> Expectation {
        let src_port = self.port(ports.0, host);
        let dst_port = self.port(ports.1, host);
        self.datagram_ports[index] = Some((src_port, dst_port));
        let body = match payload {
            Datagram::Bytes(bytes) => Body::Udp {
                src_port,
                dst_port,
                payload: bytes.clone(),
            },
            Datagram::Dns { message, id } => {
                let mut message = message.clone();
                message.id = self.dns_id(*id, host);
                self.dns_ids[index] = Some(message.id);
                Body::Dns {
                    src_port,
                    dst_port,
                    message: Box::new(message),
                }
            }
        };
        host.send_datagram(self.addresses[step.to], body);
        Expectation::Datagram {
            from: self.addresses[step.from],
            src_port,
            dst_port,
        }
    }

    /// Chooses a datagram port.
    fn port(&self, choice: PortChoice, host: &mut Host) -> u16 {
        let earlier = |step: usize| self.datagram_ports[step].unwrap_or_default();
        match choice {
            PortChoice::Given(port) => port,
            PortChoice::Ephemeral => host.fresh_udp_port(),
            PortChoice::SourceOf(step) => earlier(step).0,
            PortChoice::DestinationOf(step) => earlier(step).1,
        }
    }

    /// Chooses a DNS message id.
    fn dns_id(&self, choice: DnsId, host: &mut Host) -> u16 {
        match choice {
            DnsId::Given(id) => id,
            DnsId::Fresh => host.fresh_dns_id(),
            DnsId::SameAs(step) => self.dns_ids[step].unwrap_or_default(),
        }
    }
}
