//! `seqsim diff`: the model run against the literal replay shows exactly
//! the documented departures; a run against itself under another seed is
//! the same exchange; a message put elsewhere is marked as moved.

use std::process::Command;

use seqsim::diff::{self, Mark};
use seqsim::scenario::{self, Overrides};
use seqsim::trace::Trace;

/// Runs the binary with arguments; returns the status and stdout.
fn seqsim(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_seqsim"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

/// Returns the first row of each marked block: its mark and label text.
fn marked_messages(out: &str) -> Vec<(char, String)> {
    let mut found = Vec::new();
    for line in out.lines().skip(4) {
        let mark = line.chars().next().unwrap_or(' ');
        let has_time = line
            .get(2..)
            .is_some_and(|rest| rest.trim_start().starts_with("0."));
        if "-+~".contains(mark) && has_time {
            let label = line.split('|').nth(1).unwrap_or("").trim().to_string();
            found.push((mark, label));
        }
    }
    found
}

#[test]
fn model_against_as_drawn_shows_the_brackets_the_221_and_its_ack() {
    let (status, out) = seqsim(&[
        "diff",
        "scenarios/smtp-send.yaml",
        "scenarios/smtp-send-as-drawn.yaml",
        "--width",
        "160",
    ]);
    assert_eq!(status, 1, "{out}");
    let expected = [
        ('-', "MAIL FROM:<luke@sender.com>\\r\\n"),
        ('+', "MAIL FROM:luke@sender.com\\r\\n"),
        ('-', "RCPT TO:<c3po@receiver.com>\\r\\n"),
        ('+', "RCPT TO:c3po@receiver.com\\r\\n"),
        ('-', "RCPT TO:<r2d2@receiver.com>\\r\\n"),
        ('+', "RCPT TO:r2d2@receiver.com\\r\\n"),
        (
            '-',
            "221 mail.receiver.com Service closing transmission channel\\r\\n",
        ),
        ('-', "ACK [ACK] seq=301 ack=222"),
    ];
    let expected: Vec<(char, String)> = expected.iter().map(|(m, l)| (*m, l.to_string())).collect();
    assert_eq!(marked_messages(&out), expected);
    assert!(
        out.ends_with("The exchanges differ: 5 only in A, 3 only in B, 0 moved, 49 in both.\n"),
        "{out}"
    );
}

#[test]
fn one_scenario_under_two_seeds_is_the_same_exchange() {
    let (status, out) = seqsim(&["diff", "scenarios/smtp-send.yaml", "--seed-b", "99"]);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("+ only in B: scenarios/smtp-send.yaml (seed 99)"));
    assert!(out.ends_with("The exchanges are the same: 54 messages in both, in the same order.\n"));
}

#[test]
fn overrides_of_one_side_show_their_consequences() {
    let (status, out) = seqsim(&[
        "diff",
        "scenarios/smtp-send.yaml",
        "--set-b",
        "participants[2].smtp_server.mailboxes=[c3po]",
    ]);
    assert_eq!(status, 1, "{out}");
    assert!(marked_messages(&out).contains(&('+', "550 Unknown user: r2d2\\r\\n".to_string())));
}

#[test]
fn bad_input_on_either_side_exits_2() {
    assert_eq!(
        seqsim(&["diff", "scenarios/smtp-send.yaml", "missing.yaml"]).0,
        2
    );
    assert_eq!(
        seqsim(&[
            "diff",
            "scenarios/smtp-send.yaml",
            "--set-a",
            "links[7].latency=1ms"
        ])
        .0,
        2
    );
}

#[test]
fn an_error_names_the_flag_that_gave_the_bad_value() {
    for flag in ["--set", "--set-a", "--set-b"] {
        let output = Command::new(env!("CARGO_BIN_EXE_seqsim"))
            .args([
                "diff",
                "scenarios/smtp-send.yaml",
                flag,
                "links[0].latency=fast",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2));
        let wanted = format!("seqsim: error: {flag} links[0].latency=fast: at `links[0].latency`");
        assert!(stderr.starts_with(&wanted), "{stderr}");
    }
}

/// Runs the bundled model scenario.
fn model_trace() -> Trace {
    let scenario = scenario::load("scenarios/smtp-send.yaml", &Overrides::default()).unwrap();
    seqsim::sim::run(&scenario).unwrap().trace
}

#[test]
fn a_message_put_elsewhere_is_marked_moved_once() {
    let a = model_trace();
    let mut b = a.clone();
    let vrfy = b
        .messages
        .iter()
        .position(|m| m.label.starts_with("VRFY c3po"))
        .unwrap();
    let moved = b.messages.remove(vrfy);
    b.messages.insert(2, moved);
    let comparison = diff::compare(&a, &b);
    assert_eq!(comparison.count(Mark::Moved), 1);
    assert_eq!(
        comparison.count(Mark::OnlyA) + comparison.count(Mark::OnlyB),
        0
    );
    assert_eq!(comparison.trace.messages.len(), a.messages.len());
    let at = comparison
        .marks
        .iter()
        .position(|m| *m == Mark::Moved)
        .unwrap();
    assert!(comparison.trace.messages[at].label.starts_with("VRFY c3po"));
}

#[test]
fn a_long_differing_middle_is_shown_as_removed_then_added() {
    let a = model_trace();
    let mut b = a.clone();
    let mut many = Vec::new();
    for copy in 0..2100 {
        let mut message = a.messages[7].clone();
        message.payload = Some(format!("line {copy}\r\n"));
        many.push(message);
    }
    b.messages.splice(5..a.messages.len() - 5, many);
    let mut a_long = a.clone();
    let filler = a_long.messages[20].clone();
    a_long
        .messages
        .splice(10..10, std::iter::repeat_n(filler, 2000));
    let comparison = diff::compare(&a_long, &b);
    let both = comparison.count(Mark::Both);
    assert_eq!(both, 10, "the common start and end stay aligned");
    assert_eq!(comparison.count(Mark::OnlyB), 2100);
}
