//! DNS rules for scripted messages: queries go to port 53 and every
//! response answers a query that was asked, with the same id and question.

use super::Departure;
use crate::scenario::script::{Action, Datagram, DnsId, PortChoice, Step};
use crate::wire::dns::Message;

/// The port DNS servers listen on (RFC 1035 §4.2.1).
const PORT: u16 = 53;

/// A query sent and not yet answered.
struct Asked<'a> {
    from: usize,
    to: usize,
    id: DnsId,
    message: &'a Message,
}

/// Checks every scripted DNS message in order.
pub fn check(steps: &[Step]) -> Vec<Departure> {
    let mut departures = Vec::new();
    let mut asked: Vec<Asked> = Vec::new();
    for step in steps {
        let Action::Datagram {
            payload: Datagram::Dns { message, id },
            to_port,
            ..
        } = &step.action
        else {
            continue;
        };
        if message.response.is_none() {
            if let PortChoice::Given(port) = to_port
                && *port != PORT
            {
                let rule = format!("a DNS query goes to UDP port {PORT}, not {port}");
                departures.push(Departure::at(
                    step,
                    message.summary(),
                    rule,
                    "RFC 1035 §4.2.1",
                ));
            }
            asked.push(Asked {
                from: step.from,
                to: step.to,
                id: *id,
                message,
            });
            continue;
        }
        departures.extend(answer(step, message, *id, &mut asked));
    }
    departures
}

/// Pairs a response with its query and checks the pair.
fn answer(step: &Step, response: &Message, id: DnsId, asked: &mut Vec<Asked>) -> Option<Departure> {
    let subject = response.summary();
    let from_peer = |query: &&Asked| query.from == step.to && query.to == step.from;
    if !asked.iter().any(|query| from_peer(&query)) {
        let rule =
            "this response answers no query: nothing was asked of this server by its receiver";
        return Some(Departure::at(step, subject, rule, "RFC 1035 §7.3"));
    }
    let Some(slot) = asked
        .iter()
        .rposition(|query| from_peer(&query) && query.message.question == response.question)
    else {
        let rule = "the question in this response is not the question of any query it could answer";
        return Some(Departure::at(step, subject, rule, "RFC 1035 §7.3"));
    };
    let query = asked.remove(slot);
    match (query.id, id) {
        (DnsId::Given(wanted), DnsId::Given(got)) if wanted != got => {
            let rule = format!("the response's id {got} is not the query's id {wanted}");
            Some(Departure::at(step, subject, rule, "RFC 1035 §4.1.1"))
        }
        _ => None,
    }
}
