//! Turns the raw scenario into checked types, one section at a time.
//!
//! Each check names the key path of the value it refuses; the position
//! index turns that path into a line and column. The script's steps are
//! checked in [`super::script`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use super::participants::Participants;
use super::population::{self, Copies};
use super::positions::Positions;
use super::raw::{
    RawLink, RawMail, RawOccurrence, RawParticipant, RawRecord, RawRemark, RawReply,
    RawReplyTimeouts, RawScenario, RawSmtpClient, RawSmtpServer,
};
use super::{ClientSetup, Occurrence, Participant, Remark, Scenario, ScenarioError, Setting};
use crate::protocol::dns::ResolverConfig;
use crate::protocol::smtp::{
    ImposedReply, Mail, ReplyPoint, ReplyTimeouts, RetryPolicy, ServerConfig,
};
use crate::sim::topology::LinkSpec;
use crate::time::SimDuration;
use crate::wire::dns::{Name, Record, RecordData};
use crate::wire::smtp::{Address, to_crlf_lines};

/// The TTL given to records that name none: one hour.
const DEFAULT_TTL: u32 = 3600;

/// The most retries a resolver may be given.
pub(super) const MAX_DNS_RETRIES: u32 = 10;

/// The most attempts a sending client may be given for one recipient.
pub(super) const MAX_ATTEMPTS: u32 = 100;

/// Validation state: the file, its text and where its keys are.
pub(super) struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    positions: Positions,
    ids: BTreeMap<String, usize>,
    sets: &'a [Setting],
    clients: Vec<bool>,
    populations: Vec<bool>,
}

/// Checks a raw scenario and returns the checked one; `positions` says
/// where `text` writes each key, `sets` are the `--set` changes already
/// applied, named in errors about their values.
pub fn validate(
    file: &str,
    text: &str,
    positions: Positions,
    raw: RawScenario,
    sets: &[Setting],
) -> Result<Scenario, ScenarioError> {
    let clients = raw
        .participants
        .iter()
        .map(|p| p.smtp_client.is_some())
        .collect();
    let populations = raw
        .participants
        .iter()
        .map(|p| p.population.is_some())
        .collect();
    let mut checker = Checker {
        file,
        text,
        positions,
        ids: BTreeMap::new(),
        sets,
        clients,
        populations,
    };
    checker.title(&raw.title)?;
    checker.index_participants(&raw.participants)?;
    checker.populations_are_clients(&raw.participants)?;
    let written = raw
        .participants
        .iter()
        .enumerate()
        .map(|(index, p)| checker.participant(index, p, &raw.participants))
        .collect::<Result<Vec<_>, _>>()?;
    checker.check_all_copies(&written)?;
    checker.unique_addresses(&written)?;
    let links = raw
        .links
        .iter()
        .enumerate()
        .map(|(i, l)| checker.link(i, l))
        .collect::<Result<Vec<_>, _>>()?;
    checker.links_join_different_pairs(&links)?;
    let script = checker.script(&raw.script)?;
    checker.clients_started_once(&raw.participants, &script)?;
    let remarks = raw
        .remarks
        .iter()
        .enumerate()
        .map(|(i, r)| checker.remark(i, r))
        .collect::<Result<Vec<_>, _>>()?;
    let faults = checker.faults(&raw.faults)?;
    let participants = Participants::new(written);
    let participants = move_resolvers(participants);
    Ok(Scenario {
        title: raw.title,
        seed: raw.seed,
        links,
        script: script
            .into_iter()
            .map(|step| population::move_step(step, &participants))
            .collect(),
        remarks: remarks
            .into_iter()
            .map(|remark| population::move_remark(remark, &participants))
            .collect(),
        faults: population::move_faults(faults, &participants),
        participants,
    })
}

/// Moves each participant's resolver index from the written list to the
/// list of hosts (a resolver is never a population).
fn move_resolvers(participants: Participants) -> Participants {
    let firsts: Vec<usize> = (0..participants.written().len())
        .map(|written| participants.first_of(written))
        .collect();
    participants.map_written(|participant| {
        participant.resolver = participant.resolver.map(|r| firsts[r]);
    })
}

impl Checker<'_> {
    /// Builds an error at a key path.
    pub(super) fn error(&self, path: &str, message: impl Into<String>) -> ScenarioError {
        if let Some(setting) = self.sets.iter().rev().find(|setting| setting.covers(path)) {
            return ScenarioError::at(
                &setting.to_string(),
                "",
                None,
                Some(path.to_string()),
                message,
            );
        }
        let position = self.positions.find(path);
        ScenarioError::at(
            self.file,
            self.text,
            position,
            Some(path.to_string()),
            message,
        )
    }

    /// Checks that the title has something to draw.
    fn title(&self, title: &str) -> Result<(), ScenarioError> {
        if title.trim().is_empty() {
            let message = "expected a title: text drawn above the diagram, e.g. `SMTP e-mail send`";
            return Err(self.error("title", message));
        }
        Ok(())
    }

    /// Checks that there are participants and their ids are unique.
    fn index_participants(&mut self, participants: &[RawParticipant]) -> Result<(), ScenarioError> {
        if participants.is_empty() {
            return Err(self.error("participants", "expected at least one participant"));
        }
        for (index, participant) in participants.iter().enumerate() {
            let path = format!("participants[{index}].id");
            check_id(&participant.id).map_err(|why| self.error(&path, why))?;
            if let Some(first) = self.ids.insert(participant.id.clone(), index) {
                let message = format!(
                    "id `{}` is already used by participants[{first}]",
                    participant.id
                );
                return Err(self.error(&path, message));
            }
        }
        Ok(())
    }

    /// Returns where the value at `path` is written.
    pub(super) fn position_of(&self, path: &str) -> Option<super::Position> {
        self.positions.find(path)
    }

    /// Tells whether the participant at `index` has an SMTP client.
    pub(super) fn has_smtp_client(&self, index: usize) -> bool {
        self.clients.get(index).copied().unwrap_or(false)
    }

    /// Refuses a `start` on a client that a script step starts.
    fn clients_started_once(
        &self,
        participants: &[RawParticipant],
        script: &[super::script::Step],
    ) -> Result<(), ScenarioError> {
        for step in script
            .iter()
            .filter(|step| matches!(step.action, super::script::Action::Mail))
        {
            let client = participants[step.from].smtp_client.as_ref();
            if client.is_some_and(|client| client.start.is_some()) {
                let path = format!("participants[{}].smtp_client.start", step.from);
                let message = format!(
                    "script step {} starts this client; leave out `start`",
                    step.number
                );
                return Err(self.error(&path, message));
            }
        }
        Ok(())
    }

    /// Returns the id of the participant at `index`.
    pub(super) fn participant_id(&self, index: usize) -> &str {
        let found = self.ids.iter().find(|(_, i)| **i == index);
        found.map_or("", |(id, _)| id.as_str())
    }

    /// Returns the index of the participant named `id`, which must not
    /// be a population: only links may name one.
    pub(super) fn participant_index(&self, path: &str, id: &str) -> Result<usize, ScenarioError> {
        let index = self.any_participant_index(path, id)?;
        if self.populations[index] {
            let message = format!(
                "`{id}` is a population (many hosts); only `links` may name it, name one host here"
            );
            return Err(self.error(path, message));
        }
        Ok(index)
    }

    /// Returns the index of the participant named `id`, as written.
    pub(super) fn any_participant_index(
        &self,
        path: &str,
        id: &str,
    ) -> Result<usize, ScenarioError> {
        self.ids.get(id).copied().ok_or_else(|| {
            if let Some(population) = self.population_copied_as(id) {
                let message = format!(
                    "`{id}` is a copy of the population `{population}`; copies cannot be named, \
                     only `links` may name the population"
                );
                return self.error(path, message);
            }
            let known: Vec<&str> = self.ids.keys().map(String::as_str).collect();
            self.error(
                path,
                format!("no participant has id `{id}` (known: {})", known.join(", ")),
            )
        })
    }

    /// Returns the id of the population whose copy `id` would name, if
    /// any (its count is not checked: a name of that form is meant as a
    /// copy).
    fn population_copied_as<'id>(&self, id: &'id str) -> Option<&'id str> {
        let (written, _) = population::split_copy_id(id)?;
        let index = *self.ids.get(written)?;
        self.populations[index].then_some(written)
    }

    /// Checks one participant and its roles.
    fn participant(
        &self,
        index: usize,
        raw: &RawParticipant,
        all: &[RawParticipant],
    ) -> Result<(Participant, Option<Copies>), ScenarioError> {
        let path = format!("participants[{index}]");
        let host =
            Name::parse(&raw.host).map_err(|why| self.error(&format!("{path}.host"), why))?;
        let address = self.host_address(&format!("{path}.address"), &raw.address)?;
        let resolver = self.resolver(&path, raw, all)?;
        let dns = self.resolver_config(&path, raw)?;
        let dns_records = match &raw.dns_server {
            Some(server) => {
                Some(self.records(&format!("{path}.dns_server.records"), &server.records)?)
            }
            None => None,
        };
        let smtp_server = match &raw.smtp_server {
            Some(server) => {
                let path = format!("{path}.smtp_server");
                Some(Box::new(self.smtp_server(&path, server, &host)?))
            }
            None => None,
        };
        let smtp_client = match &raw.smtp_client {
            Some(client) => Some(self.smtp_client(&path, client, resolver.is_some())?),
            None => None,
        };
        let tcp = self.tcp(&path, raw.tcp.as_ref())?;
        let copies = match &raw.population {
            Some(population) => Some(self.population(&format!("{path}.population"), population)?),
            None => None,
        };
        let name = raw.name.clone().unwrap_or_else(|| raw.id.clone());
        let group = raw.group.clone();
        let participant = Participant {
            id: raw.id.clone(),
            name,
            group,
            host,
            address,
            resolver,
            dns,
            dns_records,
            smtp_server,
            smtp_client,
            tcp,
        };
        Ok((participant, copies))
    }

    /// Parses a dotted-quad IPv4 address.
    fn address(&self, path: &str, text: &str) -> Result<Ipv4Addr, ScenarioError> {
        text.parse().map_err(|_| {
            self.error(
                path,
                format!("`{text}` is not an IPv4 address like 192.0.2.10"),
            )
        })
    }

    /// Parses a host's own address, refusing those no host may have.
    fn host_address(&self, path: &str, text: &str) -> Result<Ipv4Addr, ScenarioError> {
        let address = self.address(path, text)?;
        match super::addresses::unusable(address) {
            Some(why) => Err(self.error(
                path,
                format!("{address} cannot be a host's address: it is {why}; expected a unicast address such as 192.0.2.10"),
            )),
            None => Ok(address),
        }
    }

    /// Resolves the `resolver` reference to a participant that serves DNS.
    fn resolver(
        &self,
        path: &str,
        raw: &RawParticipant,
        all: &[RawParticipant],
    ) -> Result<Option<usize>, ScenarioError> {
        let Some(id) = &raw.resolver else {
            return Ok(None);
        };
        let key = format!("{path}.resolver");
        let index = self.participant_index(&key, id)?;
        if all[index].dns_server.is_none() {
            return Err(self.error(
                &key,
                format!("participant `{id}` has no `dns_server` to answer queries"),
            ));
        }
        Ok(Some(index))
    }

    /// Checks the resolver's time-out and retries, which need a `resolver`.
    fn resolver_config(
        &self,
        path: &str,
        raw: &RawParticipant,
    ) -> Result<ResolverConfig, ScenarioError> {
        let mut config = ResolverConfig::default();
        if let Some(text) = &raw.dns_timeout {
            let key = format!("{path}.dns_timeout");
            self.needs_resolver(&key, raw)?;
            config.timeout = self.duration(&key, text)?;
            if config.timeout == SimDuration::ZERO {
                return Err(self.error(&key, "expected a time-out longer than 0, like `2s`"));
            }
        }
        if let Some(retries) = raw.dns_retries {
            let key = format!("{path}.dns_retries");
            self.needs_resolver(&key, raw)?;
            if retries > MAX_DNS_RETRIES {
                let why = format!("expected 0 to {MAX_DNS_RETRIES} retries; got {retries}");
                return Err(self.error(&key, why));
            }
            config.retries = retries;
        }
        Ok(config)
    }

    /// Refuses a resolver setting on a participant without a `resolver`.
    fn needs_resolver(&self, key: &str, raw: &RawParticipant) -> Result<(), ScenarioError> {
        if raw.resolver.is_some() {
            return Ok(());
        }
        Err(self.error(
            key,
            "this setting needs a `resolver` on the same participant",
        ))
    }

    /// Checks every record of a list.
    pub(super) fn records(
        &self,
        path: &str,
        raw: &[RawRecord],
    ) -> Result<Vec<Record>, ScenarioError> {
        raw.iter()
            .enumerate()
            .map(|(i, record)| self.record(&format!("{path}[{i}]"), record))
            .collect()
    }

    /// Checks one record: its owner name and its type's fields.
    fn record(&self, path: &str, raw: &RawRecord) -> Result<Record, ScenarioError> {
        let name = |key: &str, text: &str| {
            Name::parse(text).map_err(|why| self.error(&format!("{path}.{key}"), why))
        };
        let (owner, ttl, data) = match raw {
            RawRecord::A {
                name: owner,
                address,
                ttl,
            } => (
                owner,
                ttl,
                RecordData::A(self.address(&format!("{path}.address"), address)?),
            ),
            RawRecord::MX {
                name: owner,
                preference,
                exchange,
                ttl,
            } => {
                let exchange = Name::parse_or_root(exchange)
                    .map_err(|why| self.error(&format!("{path}.exchange"), why))?;
                (
                    owner,
                    ttl,
                    RecordData::Mx {
                        preference: *preference,
                        exchange,
                    },
                )
            }
            RawRecord::PTR {
                name: owner,
                target,
                ttl,
            } => (owner, ttl, RecordData::Ptr(name("target", target)?)),
            RawRecord::CNAME {
                name: owner,
                target,
                ttl,
            } => (owner, ttl, RecordData::Cname(name("target", target)?)),
        };
        Ok(Record {
            name: name("name", owner)?,
            ttl: ttl.unwrap_or(DEFAULT_TTL),
            data,
        })
    }

    /// Checks a receiving server: its domain and mailbox names.
    fn smtp_server(
        &self,
        path: &str,
        raw: &RawSmtpServer,
        host: &Name,
    ) -> Result<ServerConfig, ScenarioError> {
        let domain =
            Name::parse(&raw.domain).map_err(|why| self.error(&format!("{path}.domain"), why))?;
        let mut mailboxes = BTreeSet::new();
        for (index, mailbox) in raw.mailboxes.iter().enumerate() {
            let key = format!("{path}.mailboxes[{index}]");
            Address::parse(&format!("{mailbox}@{domain}")).map_err(|why| self.error(&key, why))?;
            if !mailboxes.insert(mailbox.to_ascii_lowercase()) {
                return Err(self.error(&key, format!("mailbox `{mailbox}` is listed twice")));
            }
        }
        let greeting = raw
            .greeting
            .clone()
            .unwrap_or_else(|| format!("{host} SMTP Ready"));
        check_one_line(&greeting).map_err(|why| self.error(&format!("{path}.greeting"), why))?;
        Ok(ServerConfig {
            host_name: host.clone(),
            domain,
            mailboxes,
            check_helo: raw.check_helo,
            greeting,
            replies: self.imposed_replies(path, &raw.replies)?,
            max_recipients: self.max_recipients(path, raw.max_recipients)?,
        })
    }

    /// Checks the replies a server gives instead of its usual ones.
    fn imposed_replies(
        &self,
        path: &str,
        raw: &[RawReply],
    ) -> Result<Vec<ImposedReply>, ScenarioError> {
        let mut seen = BTreeSet::new();
        let mut replies = Vec::new();
        for (index, rule) in raw.iter().enumerate() {
            let key = format!("{path}.replies[{index}]");
            let reply = self.imposed_reply(&key, rule)?;
            if !seen.insert(reply.at) {
                let why = format!("a reply at `{}` is already given", rule.at);
                return Err(self.error(&format!("{key}.at"), why));
            }
            replies.push(reply);
        }
        Ok(replies)
    }

    /// Checks one imposed reply: its point, code, text and sessions.
    fn imposed_reply(&self, key: &str, raw: &RawReply) -> Result<ImposedReply, ScenarioError> {
        let at = reply_point(&raw.at).map_err(|why| self.error(&format!("{key}.at"), why))?;
        check_reply_code(at, raw.code).map_err(|why| self.error(&format!("{key}.code"), why))?;
        if let Some(text) = &raw.text {
            check_one_line(text).map_err(|why| self.error(&format!("{key}.text"), why))?;
        }
        if raw.sessions == Some(0) {
            return Err(self.error(
                &format!("{key}.sessions"),
                "expected a count of sessions from 1; leave it out for every session",
            ));
        }
        Ok(ImposedReply {
            at,
            code: raw.code,
            text: raw.text.clone(),
            sessions: raw.sessions,
        })
    }

    /// Checks a limit on recipients per transaction.
    fn max_recipients(
        &self,
        path: &str,
        raw: Option<usize>,
    ) -> Result<Option<usize>, ScenarioError> {
        if raw == Some(0) {
            let why = "expected at least 1 (RFC 5321 §4.5.3.1.8 asks for room for 100)";
            return Err(self.error(&format!("{path}.max_recipients"), why));
        }
        Ok(raw)
    }

    /// Checks a sending client: its start time and every mail.
    fn smtp_client(
        &self,
        path: &str,
        raw: &RawSmtpClient,
        has_resolver: bool,
    ) -> Result<ClientSetup, ScenarioError> {
        let key = format!("{path}.smtp_client");
        if !has_resolver {
            return Err(self.error(
                &key,
                "a participant that sends mail needs a `resolver` to look up MX records",
            ));
        }
        let start = match &raw.start {
            Some(text) => self.duration(&format!("{key}.start"), text)?,
            None => SimDuration::ZERO,
        };
        let mails = raw
            .mails
            .iter()
            .enumerate()
            .map(|(i, mail)| self.mail(&format!("{key}.mails[{i}]"), mail));
        Ok(ClientSetup {
            start,
            mails: mails.collect::<Result<Vec<_>, _>>()?.into(),
            retry: self.retry_policy(&key, raw)?,
            timeouts: self.reply_timeouts(&key, raw.timeouts.as_ref())?,
        })
    }

    /// Checks a client's reply time-outs over the defaults of RFC 5321.
    fn reply_timeouts(
        &self,
        key: &str,
        raw: Option<&RawReplyTimeouts>,
    ) -> Result<ReplyTimeouts, ScenarioError> {
        let mut timeouts = ReplyTimeouts::default();
        let Some(raw) = raw else {
            return Ok(timeouts);
        };
        let fields = [
            ("greeting", &raw.greeting, &mut timeouts.greeting),
            ("command", &raw.command, &mut timeouts.command),
            ("data", &raw.data, &mut timeouts.data_initiation),
            (
                "end_of_data",
                &raw.end_of_data,
                &mut timeouts.data_termination,
            ),
        ];
        for (name, text, wait) in fields {
            if let Some(text) = text {
                *wait = self.positive(&format!("{key}.timeouts.{name}"), text)?;
            }
        }
        Ok(timeouts)
    }

    /// Checks a client's retry delay and number of attempts.
    fn retry_policy(&self, key: &str, raw: &RawSmtpClient) -> Result<RetryPolicy, ScenarioError> {
        let mut policy = RetryPolicy::default();
        if let Some(text) = &raw.retry_after {
            let path = format!("{key}.retry_after");
            policy.retry_after = self.duration(&path, text)?;
            if policy.retry_after == SimDuration::ZERO {
                return Err(self.error(&path, "expected a delay longer than 0, like `10min`"));
            }
        }
        if let Some(attempts) = raw.max_attempts {
            if !(1..=MAX_ATTEMPTS).contains(&attempts) {
                let why = format!("expected 1 to {MAX_ATTEMPTS} attempts; got {attempts}");
                return Err(self.error(&format!("{key}.max_attempts"), why));
            }
            policy.max_attempts = attempts;
        }
        Ok(policy)
    }

    /// Checks one mail and builds its content.
    fn mail(&self, path: &str, raw: &RawMail) -> Result<Mail, ScenarioError> {
        let from =
            Address::parse(&raw.from).map_err(|why| self.error(&format!("{path}.from"), why))?;
        if raw.to.is_empty() {
            return Err(self.error(&format!("{path}.to"), "expected at least one recipient"));
        }
        let recipients = raw.to.iter().enumerate().map(|(i, to)| {
            Address::parse(to).map_err(|why| self.error(&format!("{path}.to[{i}]"), why))
        });
        let recipients: Vec<Address> = recipients.collect::<Result<_, _>>()?;
        let headers = self.headers(path, raw)?;
        let content = format!(
            "{}\r\n{}",
            to_crlf_lines(&headers),
            to_crlf_lines(&raw.body)
        );
        Ok(Mail {
            from,
            recipients,
            verify_first: raw.verify_first,
            content,
        })
    }

    /// Returns the header lines: as written, or From, To and Subject.
    fn headers(&self, path: &str, raw: &RawMail) -> Result<String, ScenarioError> {
        let Some(headers) = &raw.headers else {
            let mut lines = format!("From: {}\nTo: {}", raw.from, raw.to.join(", "));
            if let Some(subject) = &raw.subject {
                check_one_line(subject)
                    .map_err(|why| self.error(&format!("{path}.subject"), why))?;
                lines.push_str(&format!("\nSubject: {subject}"));
            }
            return Ok(lines);
        };
        if raw.subject.is_some() {
            return Err(self.error(
                &format!("{path}.subject"),
                "give either `subject` or `headers`; put the subject in `headers`",
            ));
        }
        let mut lines = Vec::new();
        for (name, value) in headers {
            let key = format!("{path}.headers.{name}");
            check_header_name(name).map_err(|why| self.error(&key, why))?;
            check_one_line(value).map_err(|why| self.error(&key, why))?;
            lines.push(format!("{name}: {value}"));
        }
        Ok(lines.join("\n"))
    }

    /// Checks a link: two distinct participants and its timing.
    fn link(&self, index: usize, raw: &RawLink) -> Result<LinkSpec, ScenarioError> {
        let path = format!("links[{index}]");
        let a = self.any_participant_index(&format!("{path}.between[0]"), &raw.between[0])?;
        let b = self.any_participant_index(&format!("{path}.between[1]"), &raw.between[1])?;
        if a == b {
            return Err(self.error(
                &format!("{path}.between"),
                "a link joins two different participants",
            ));
        }
        if self.populations[a] && self.populations[b] {
            return Err(self.error(
                &format!("{path}.between"),
                "a link cannot join two populations; link each to a host they share",
            ));
        }
        let directions = self.directions(&path, (a, b), raw)?;
        Ok(LinkSpec { a, b, directions })
    }

    /// Refuses a second link between the same two participants: each
    /// pair has one link, with a setting for each direction.
    fn links_join_different_pairs(&self, links: &[LinkSpec]) -> Result<(), ScenarioError> {
        let mut seen = BTreeMap::new();
        for (index, link) in links.iter().enumerate() {
            let pair = (link.a.min(link.b), link.a.max(link.b));
            if let Some(first) = seen.insert(pair, index) {
                let message = format!(
                    "links[{first}] already joins these two; give one link, with `one_way` for settings that differ by direction"
                );
                return Err(self.error(&format!("links[{index}].between"), message));
            }
        }
        Ok(())
    }

    /// Checks a probability: a number from 0 to 1.
    pub(super) fn probability(&self, path: &str, value: f64) -> Result<f64, ScenarioError> {
        if (0.0..=1.0).contains(&value) {
            return Ok(value);
        }
        Err(self.error(
            path,
            format!("expected a probability from 0 to 1, like 0.05; got {value}"),
        ))
    }

    /// Parses a duration such as `20ms`.
    pub(super) fn duration(&self, path: &str, text: &str) -> Result<SimDuration, ScenarioError> {
        SimDuration::parse(text).map_err(|why| self.error(path, why))
    }

    /// Checks a remark's participants and occurrence.
    fn remark(&self, index: usize, raw: &RawRemark) -> Result<Remark, ScenarioError> {
        let path = format!("remarks[{index}]");
        let from = self.participant_index(&format!("{path}.from"), &raw.from)?;
        let to = match &raw.to {
            Some(id) => Some(self.participant_index(&format!("{path}.to"), id)?),
            None => None,
        };
        if raw.message.is_empty() {
            return Err(self.error(
                &format!("{path}.message"),
                "expected the start of a message label, e.g. `VRFY`",
            ));
        }
        let occurrence = self.occurrence(&format!("{path}.occurrence"), raw.occurrence.as_ref())?;
        Ok(Remark {
            from,
            to,
            message: raw.message.clone(),
            occurrence,
            text: raw.text.clone(),
        })
    }

    /// Reads which matching message a remark goes with.
    fn occurrence(
        &self,
        path: &str,
        raw: Option<&RawOccurrence>,
    ) -> Result<Occurrence, ScenarioError> {
        match raw {
            None => Ok(Occurrence::Nth(1)),
            Some(RawOccurrence::Nth(n)) if *n >= 1 => Ok(Occurrence::Nth(*n)),
            Some(RawOccurrence::Word(word)) if word == "last" => Ok(Occurrence::Last),
            Some(_) => Err(self.error(path, "expected a count from 1, or `last`")),
        }
    }

    /// Checks the copies of every population (see
    /// [`Checker::check_copies`]).
    fn check_all_copies(
        &self,
        written: &[(Participant, Option<Copies>)],
    ) -> Result<(), ScenarioError> {
        for (index, (participant, copies)) in written.iter().enumerate() {
            if let Some(copies) = copies {
                self.check_copies(index, participant, *copies)?;
            }
        }
        Ok(())
    }

    /// Returns the ids of the participants as written.
    pub(super) fn written_ids(&self) -> impl Iterator<Item = &str> {
        self.ids.keys().map(String::as_str)
    }

    /// Checks that no two participants (copies included) share an
    /// address: each written participant holds the addresses from its
    /// own up to its last copy's, and the first host (in the order of
    /// the file) that takes an address already held is refused.
    fn unique_addresses(
        &self,
        written: &[(Participant, Option<Copies>)],
    ) -> Result<(), ScenarioError> {
        let ranges: Vec<(u64, u64)> = written
            .iter()
            .map(|(participant, copies)| {
                let first = u64::from(u32::from(participant.address));
                (first, first + copies.map_or(1, |c| c.count) as u64)
            })
            .collect();
        for (index, &(start, end)) in ranges.iter().enumerate() {
            let clash = ranges[..index]
                .iter()
                .enumerate()
                .filter(|(_, (other_start, other_end))| start < *other_end && *other_start < end)
                .map(|(other, (other_start, _))| (start.max(*other_start), other))
                .min();
            if let Some((address, other)) = clash {
                let copy = address - ranges[other].0 + 1;
                let address = Ipv4Addr::from(address as u32);
                let message = format!(
                    "address {address} is already used by {}",
                    self.describe_host(other, copy)
                );
                return Err(self.error(&format!("participants[{index}].address"), message));
            }
        }
        Ok(())
    }

    /// Names copy `copy` of the participant written at `written` the way
    /// the file writes it.
    fn describe_host(&self, written: usize, copy: u64) -> String {
        if self.populations[written] {
            format!("copy {copy} of participants[{written}]")
        } else {
            format!("participants[{written}]")
        }
    }
}

/// Checks a participant id: letters, digits, `-` and `_`.
fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("an id cannot be empty".to_string());
    }
    match id
        .chars()
        .find(|c| !(c.is_alphanumeric() || *c == '-' || *c == '_'))
    {
        Some(bad) => Err(format!(
            "`{bad}` is not allowed in an id (letters, digits, `-` and `_`)"
        )),
        None => Ok(()),
    }
}

/// Reads where an imposed reply is given.
fn reply_point(text: &str) -> Result<ReplyPoint, String> {
    let found = ReplyPoint::NAMED.iter().find(|(name, _)| *name == text);
    found.map(|(_, point)| *point).ok_or_else(|| {
        let names: Vec<&str> = ReplyPoint::NAMED.iter().map(|(name, _)| *name).collect();
        format!(
            "`{text}` is not a point of a session (expected one of: {})",
            names.join(", ")
        )
    })
}

/// Checks that a code makes sense where it is imposed.
fn check_reply_code(at: ReplyPoint, code: u16) -> Result<(), String> {
    let fits = match at {
        ReplyPoint::Greeting => matches!(code, 421 | 554),
        ReplyPoint::Vrfy => code == 252 || (400..=599).contains(&code),
        _ => (400..=599).contains(&code),
    };
    if fits {
        return Ok(());
    }
    Err(match at {
        ReplyPoint::Greeting => format!("expected 421 or 554 for the greeting; got {code}"),
        ReplyPoint::Vrfy => format!("expected 252, or 400 to 599; got {code}"),
        _ => format!("expected a failure code from 400 to 599; got {code}"),
    })
}

/// Checks that a value holds no line break.
fn check_one_line(text: &str) -> Result<(), String> {
    if text.contains(['\r', '\n']) {
        return Err("expected a single line (no line breaks)".to_string());
    }
    Ok(())
}

/// Checks a header field name (RFC 5322 §2.2: printable ASCII but `:`).
fn check_header_name(name: &str) -> Result<(), String> {
    let printable = |c: char| c.is_ascii_graphic() && c != ':';
    if name.is_empty() || !name.chars().all(printable) {
        return Err(format!(
            "`{name}` is not a header name (printable ASCII, no spaces or `:`)"
        ));
    }
    Ok(())
}
