//! The cost of an SMTP session against the physical floor of a
//! discrete-event simulator: the event queue itself.
//!
//! For 1k, 10k, 100k and 1M sessions it runs a population of senders
//! (one mail each: MX look-up, handshake, 220, HELO, three VRFY, MAIL,
//! two RCPT, DATA, the body, QUIT, the close, every data segment ACKed)
//! through the real models with the summary as the only output, then a
//! bare binary-heap event loop that processes the same number of events
//! with trivial handlers. Each size runs in a child process of its own,
//! so its peak memory (VmHWM) is its own. Run with `cargo bench`; pass
//! sizes to run fewer, e.g. `cargo bench -- 1000 10000`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::process::Command;
use std::time::Instant;

use seqsim::render::summary::Summary;
use seqsim::scenario::{self, Overrides};

/// The session counts measured when no size is given.
const SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];

/// The argument that makes the process measure one size and print it.
const CHILD: &str = "--measure-one";

/// What one measured run produced.
struct Figures {
    events: u64,
    segments: u64,
    delivered: u64,
    wall_ns: u128,
    floor_ns: u128,
    peak_kib: u64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(position) = args.iter().position(|a| a == CHILD) {
        let sessions = args[position + 1].parse().expect("a session count");
        print_child_figures(sessions);
        return;
    }
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        SIZES.to_vec()
    } else {
        sizes
    };
    print_heading();
    for sessions in sizes {
        print_row(sessions, &measure_in_child(sessions));
    }
}

/// Runs this program again to measure one size; returns what it printed.
fn measure_in_child(sessions: usize) -> Figures {
    let program = std::env::current_exe().expect("the benchmark knows its path");
    let output = Command::new(program)
        .args([CHILD, &sessions.to_string()])
        .output()
        .expect("the benchmark can run itself");
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).expect("figures are text");
    let numbers: Vec<u128> = text
        .split_whitespace()
        .map(|n| n.parse().expect("a number"))
        .collect();
    Figures {
        events: numbers[0] as u64,
        segments: numbers[1] as u64,
        delivered: numbers[2] as u64,
        wall_ns: numbers[3],
        floor_ns: numbers[4],
        peak_kib: numbers[5] as u64,
    }
}

/// Measures one size in this process and prints its figures on one line.
fn print_child_figures(sessions: usize) {
    let scenario = population_scenario(sessions);
    let mut summary = Summary::new();
    let started = Instant::now();
    let streamed = seqsim::sim::run_into(&scenario, &mut summary).expect("the run ends");
    let wall_ns = started.elapsed().as_nanos();
    let peak_kib = peak_memory_kib();
    let floor_ns = bare_heap_loop(streamed.events, streamed.longest_queue);
    println!(
        "{} {} {} {wall_ns} {floor_ns} {peak_kib}",
        streamed.events,
        summary.messages(),
        summary.delivered()
    );
}

/// Builds the bundled SMTP send as a population of `sessions` senders,
/// one starting every millisecond, without the PTR check.
fn population_scenario(sessions: usize) -> scenario::Scenario {
    let text = format!(
        "title: bench\nseed: 1\nparticipants:\n\
         - id: sender\n  host: mail.sender.com\n  address: 10.0.0.1\n  resolver: dns\n\
         \x20 population: {{ count: {sessions}, interval: 1ms }}\n\
         \x20 smtp_client:\n    mails:\n\
         \x20     - from: luke@sender.com\n\
         \x20       to: [aibo@receiver.com, c3po@receiver.com, r2d2@receiver.com]\n\
         \x20       verify_first: true\n        subject: Greetings\n\
         \x20       body: \"Hello Robots,\\nMay the force be with you.\\nLuke\\n\"\n\
         - id: dns\n  host: ns.example.net\n  address: 192.0.2.53\n  dns_server:\n    records:\n\
         \x20     - {{ type: MX, name: receiver.com, preference: 10, exchange: mail.receiver.com }}\n\
         \x20     - {{ type: A, name: mail.receiver.com, address: 66.218.71.63 }}\n\
         - id: receiver\n  host: mail.receiver.com\n  address: 66.218.71.63\n  resolver: dns\n\
         \x20 smtp_server: {{ domain: receiver.com, mailboxes: [c3po, r2d2], check_helo: false }}\n\
         links:\n  - {{ between: [sender, dns], latency: 10ms }}\n\
         \x20 - {{ between: [receiver, dns], latency: 10ms }}\n\
         \x20 - {{ between: [sender, receiver], latency: 15ms }}\n"
    );
    scenario::parse("bench.yaml", &text, &Overrides::default())
        .expect("the bench scenario is valid")
}

/// Processes `events` events from a binary heap ordered by (time,
/// insertion number), each handler scheduling one follow-up, with
/// `in_flight` events waiting at any time; returns the wall time.
fn bare_heap_loop(events: u64, in_flight: usize) -> u128 {
    let started = Instant::now();
    let mut heap = BinaryHeap::with_capacity(in_flight);
    let mut scheduled = 0u64;
    for start in 0..in_flight as u64 {
        heap.push(Reverse((start * 1_000_000, scheduled)));
        scheduled += 1;
    }
    let mut processed = 0u64;
    let mut checksum = 0u64;
    while let Some(Reverse((now, number))) = heap.pop() {
        processed += 1;
        checksum = checksum.wrapping_add(number);
        if processed + heap.len() as u64 >= events {
            continue;
        }
        let delay = 10_000_000 + (number.wrapping_mul(2_654_435_761) % 5_000_000);
        heap.push(Reverse((now + delay, scheduled)));
        scheduled += 1;
    }
    assert_eq!(
        processed,
        events.max(in_flight as u64),
        "checksum {checksum}"
    );
    started.elapsed().as_nanos()
}

/// Returns this process's peak resident memory, from /proc/self/status.
fn peak_memory_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with("VmHWM:"));
    let kib = line.and_then(|line| line.split_whitespace().nth(1));
    kib.and_then(|kib| kib.parse().ok()).unwrap_or(0)
}

/// Prints the table's heading.
fn print_heading() {
    println!(
        "{:>9} {:>12} {:>12} {:>10} {:>10} {:>12} {:>12} {:>7} {:>10}",
        "sessions",
        "events",
        "segments",
        "delivered",
        "wall s",
        "ns/segment",
        "floor ns/seg",
        "ratio",
        "peak MiB"
    );
}

/// Prints one size's row.
fn print_row(sessions: usize, figures: &Figures) {
    let per_segment = figures.wall_ns as f64 / figures.segments as f64;
    let floor_per_segment = figures.floor_ns as f64 / figures.segments as f64;
    println!(
        "{:>9} {:>12} {:>12} {:>10} {:>10.3} {:>12.0} {:>12.1} {:>7.1} {:>10.1}",
        sessions,
        figures.events,
        figures.segments,
        figures.delivered,
        figures.wall_ns as f64 / 1e9,
        per_segment,
        floor_per_segment,
        per_segment / floor_per_segment,
        figures.peak_kib as f64 / 1024.0
    );
}
