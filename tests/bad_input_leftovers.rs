//! Runs the `seqsim` binary on the bad inputs that were left over after
//! the first rounds: YAML nested absurdly deep, clap's own usage errors,
//! a seed given by its flag and by `--set seed=N` at once,
//! seed ranges reaching the largest seed, `--set` paths through keys
//! the scenario does not have, lists left open at the end of the file,
//! keys given twice, a second YAML document, host addresses no host
//! may have, numbers past 64 bits in `--set`, `-o dir/`, an empty
//! file name, UDP datagrams larger than IPv4 can carry, bad values
//! inside DNS records, a fault on a link from a participant to itself,
//! ports of 0, and bad SMTP matches and occurrences. Each must give a
//! clear error naming the place, and exit status 2; the places
//! and values expected are counted by hand from the input each test
//! writes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCENARIO: &str = "scenarios/smtp-send.yaml";

/// Runs the binary with `args` from the repository root.
fn seqsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seqsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// Writes `text` to a file in `dir` and returns its path as a string.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// The standard error of a run that refused its input: status 2, no
/// panic, nothing on stdout.
fn refusal(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "nothing goes to stdout");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// The first line of a refusal.
fn first_line(output: &Output) -> String {
    refusal(output)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// What the nesting check says after the place.
const TOO_DEEP: &str = "lists and mappings may be nested at most 64 deep \
                        (the top mapping counts as one); no scenario needs more";

#[test]
fn flow_lists_nested_100_000_deep_are_refused_where_the_reader_stops() {
    let dir = tempfile::tempdir().unwrap();
    let depth = 100_000;
    let text = format!("title: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    let file = write(dir.path(), "deep.yaml", &text);
    let output = seqsim(&["run", &file]);
    // The YAML reader stops at the 256th open `[`; `title: ` takes
    // columns 1 to 7, so it stands at column 7 + 256.
    assert_eq!(
        first_line(&output),
        format!("seqsim: error: {file}:1:263: {TOO_DEEP}")
    );
}

#[test]
fn block_lists_nested_100_000_deep_are_refused_at_level_65() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("title: x\nparticipants:\n{}x\n", "- ".repeat(100_000));
    let file = write(dir.path(), "deep.yaml", &text);
    let output = seqsim(&["check", &file]);
    // Level 1 is the top mapping, level 2 the list at column 1 of line
    // 3, and each `- ` opens one more two columns on: level 65 opens at
    // column 1 + 2 * 63.
    assert_eq!(
        first_line(&output),
        format!("seqsim: error: {file}:3:127: {TOO_DEEP}")
    );
}

#[test]
fn nesting_up_to_the_limit_gets_the_usual_error() {
    let dir = tempfile::tempdir().unwrap();
    // The top mapping and 63 lists: 64 levels, allowed; the title must
    // still be text, which serde reports at the first `[`, column 8.
    let text = format!("title: {}{}\n", "[".repeat(63), "]".repeat(63));
    let file = write(dir.path(), "deep.yaml", &text);
    assert_eq!(
        first_line(&seqsim(&["run", &file])),
        format!("seqsim: error: {file}:1:8: at `title`: invalid type: sequence, expected a string")
    );
}

#[test]
fn a_deeply_nested_file_is_refused_by_sweep_too() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("title: {}{}\n", "{a: ".repeat(70), "}".repeat(70));
    let file = write(dir.path(), "deep.yaml", &text);
    let output = seqsim(&["sweep", &file, "--seeds", "1..2"]);
    // Each `{a: ` is four columns after the seven of `title: `; the
    // 64th `{`, level 65, starts at column 8 + 4 * 63.
    assert_eq!(
        first_line(&output),
        format!("seqsim: error: {file}:1:260: {TOO_DEEP}")
    );
}

#[test]
fn a_deeply_nested_set_value_is_refused_without_repeating_it() {
    let depth = 60_000;
    let argument = format!("title={}{}", "[".repeat(depth), "]".repeat(depth));
    let output = seqsim(&["run", SCENARIO, "--set", &argument]);
    // The value itself is read on its own: its 256th `[` is column 256.
    assert_eq!(
        refusal(&output),
        "seqsim: error: --set title=...: at column 256 of the value: lists and mappings \
         may be nested at most 64 deep (the top mapping counts as one)\n"
    );
}

#[test]
fn a_negative_seed_is_refused_with_the_range_a_seed_has() {
    // 2^64 - 1 is the largest u64.
    let range = "a seed is a whole number from 0 to 18446744073709551615";
    for (args, flag, value) in [
        (vec!["run", SCENARIO, "--seed", "-1"], "--seed <SEED>", "-1"),
        (
            vec!["check", SCENARIO, "--seed", "1.5"],
            "--seed <SEED>",
            "1.5",
        ),
        (
            vec!["run", SCENARIO, "--seed", "18446744073709551616"],
            "--seed <SEED>",
            "18446744073709551616",
        ),
        (
            vec!["diff", SCENARIO, "--seed-b", "-7"],
            "--seed-b <SEED_B>",
            "-7",
        ),
    ] {
        assert_eq!(
            first_line(&seqsim(&args)),
            format!("seqsim: error: invalid value '{value}' for '{flag}': {range}"),
            "{args:?}"
        );
    }
}

#[test]
fn a_seed_given_by_flag_and_by_set_is_refused_in_either_order() {
    for (args, set) in [
        (
            vec!["run", SCENARIO, "--seed", "5", "--set", "seed=6"],
            "--set seed=6",
        ),
        (
            vec!["check", SCENARIO, "--set", "seed=6", "--seed", "5"],
            "--set seed=6",
        ),
        (
            vec!["diff", SCENARIO, "--seed-a", "5", "--set-a", "seed=6"],
            "--set-a seed=6",
        ),
    ] {
        assert_eq!(
            first_line(&seqsim(&args)),
            format!(
                "seqsim: error: the seed is given twice, as 5 by a seed flag and by {set}; \
                 give it once"
            ),
            "{args:?}"
        );
    }
}

#[test]
fn the_largest_seed_is_accepted() {
    let output = seqsim(&["check", SCENARIO, "--seed", "18446744073709551615"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn usage_errors_carry_the_same_prefix_and_clap_tips() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["run", SCENARIO, "--bogus"],
            "unexpected argument '--bogus' found",
        ),
        (
            &["run", SCENARIO, "--sed", "3"],
            "unexpected argument '--sed' found",
        ),
        (
            &["run", SCENARIO, "--seed"],
            "a value is required for '--seed <SEED>' but none was supplied",
        ),
        (
            &["run", SCENARIO, "--width", "-5"],
            "invalid value '-5' for '--width <WIDTH>': -5 is not in 40..=1000",
        ),
        (&["runn"], "unrecognized subcommand 'runn'"),
        (&[], "a command is required"),
    ];
    for (args, message) in cases {
        assert_eq!(
            first_line(&seqsim(args)),
            format!("seqsim: error: {message}"),
            "{args:?}"
        );
    }
    let typo = refusal(&seqsim(&["run", SCENARIO, "--sed", "3"]));
    assert!(
        typo.contains("tip: a similar argument exists: '--seed'"),
        "{typo}"
    );
    let bare = refusal(&seqsim(&[]));
    assert!(bare.contains("\nUsage: seqsim <COMMAND>\n"), "{bare}");
}

#[test]
fn help_and_version_still_go_to_stdout_with_status_zero() {
    for args in [["--version"], ["--help"]] {
        let output = seqsim(&args);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert!(output.stderr.is_empty(), "{args:?}");
    }
    let version = String::from_utf8(seqsim(&["--version"]).stdout).unwrap();
    assert_eq!(version, format!("seqsim {}\n", env!("CARGO_PKG_VERSION")));
}

/// Runs a sweep of the TCP scenario on one thread and returns its rows.
fn sweep_rows(seeds: &str) -> Vec<String> {
    let output = seqsim(&[
        "sweep",
        "scenarios/tcp-connection.yaml",
        "--seeds",
        seeds,
        "--threads",
        "1",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    stdout.lines().skip(1).map(str::to_string).collect()
}

/// The seed column of CSV rows.
fn seeds_of(rows: &[String]) -> Vec<String> {
    rows.iter()
        .map(|row| row.split(',').nth(1).unwrap().to_string())
        .collect()
}

#[test]
fn a_seed_range_can_end_at_the_largest_seed() {
    // 2^64 - 1 = 18446744073709551615; the range holds six seeds.
    let rows = sweep_rows("18446744073709551610..18446744073709551615");
    let expected: Vec<String> = (0..6).map(|i| format!("1844674407370955161{i}")).collect();
    assert_eq!(seeds_of(&rows), expected);
    assert_eq!(
        seeds_of(&sweep_rows("18446744073709551615")),
        ["18446744073709551615"]
    );
    assert_eq!(seeds_of(&sweep_rows("1..=3")), ["1", "2", "3"]);
}

#[test]
fn empty_reversed_and_unreachable_seed_ranges_are_explained() {
    let expected_range = "a whole number from 0 to 18446744073709551615";
    let cases = [
        (
            "5..3",
            "--seeds 5..3: the range is empty: the last seed, 3, is below the first, 5 \
             (write 3..5 to run them all)"
                .to_string(),
        ),
        (
            "5..",
            "--seeds 5..: the last seed is missing; expected A..B, e.g. 1..1000".to_string(),
        ),
        (
            "-1..2",
            format!("--seeds -1..2: `-1` is not {expected_range}; expected A..B, e.g. 1..1000"),
        ),
        (
            "1..18446744073709551616",
            format!(
                "--seeds 1..18446744073709551616: `18446744073709551616` is not \
                 {expected_range}; expected A..B, e.g. 1..1000"
            ),
        ),
        (
            // 2^64 seeds: more than a sweep may run, not an overflow.
            "0..18446744073709551615",
            "the sweep has more than 100000000 runs; split it into smaller ones".to_string(),
        ),
    ];
    for (seeds, message) in cases {
        let output = seqsim(&["sweep", "scenarios/tcp-connection.yaml", "--seeds", seeds]);
        assert_eq!(refusal(&output), format!("seqsim: error: {message}\n"));
    }
}

#[test]
fn a_set_through_a_missing_mapping_says_how_to_write_it() {
    // The sender, participants[0] of smtp-send.yaml, has no `tcp` key.
    let output = seqsim(&[
        "check",
        SCENARIO,
        "--set",
        "participants[0].tcp.max_retransmissions=2",
    ]);
    assert_eq!(
        refusal(&output),
        "seqsim: error: --set participants[0].tcp.max_retransmissions=2: no key \
         `participants[0].tcp` in the scenario; only the last key of a path may be new, \
         so set `participants[0].tcp` whole: \
         --set 'participants[0].tcp={max_retransmissions: 2}'\n"
    );
    let deeper = seqsim(&[
        "diff",
        SCENARIO,
        "--set-a",
        "participants[0].tcp.a.b=[x, y]",
    ]);
    assert_eq!(
        first_line(&deeper),
        "seqsim: error: --set-a participants[0].tcp.a.b=[x, y]: no key `participants[0].tcp` \
         in the scenario; only the last key of a path may be new, so set \
         `participants[0].tcp` whole: --set-a 'participants[0].tcp={a: {b: [x, y]}}'"
    );
}

#[test]
fn the_way_the_error_shows_works() {
    let output = seqsim(&[
        "check",
        SCENARIO,
        "--set",
        "participants[0].tcp={max_retransmissions: 2}",
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

/// A participant, written on one line, for files that need one.
const PARTICIPANT: &str = "  - {id: a, host: a.example, address: 192.0.2.1}\n";

#[test]
fn a_list_left_open_at_the_end_is_a_syntax_error_at_its_bracket() {
    let dir = tempfile::tempdir().unwrap();
    // (text, line:column of the bracket, the file's last line, what closes it)
    let cases = [
        // `participants: ` is 14 columns: `[` at 15 on line 2.
        (
            "title: x\nparticipants: [\n".to_string(),
            "2:15",
            2,
            "list",
            '[',
            ']',
        ),
        // `links: ` is 7 columns; `{a: b}` inside would be an unknown
        // key, but the open `[` is what is wrong.
        (
            format!("title: x\nparticipants:\n{PARTICIPANT}links: [ {{a: b}}\n"),
            "4:8",
            4,
            "list",
            '[',
            ']',
        ),
        // Comments and blank lines after it do not close it.
        (
            "title: x\nparticipants: [\n# more\n\n".to_string(),
            "2:15",
            4,
            "list",
            '[',
            ']',
        ),
        // Without a line break at the end; `seed: ` is 6 columns.
        (
            "title: x\nseed: {".to_string(),
            "2:7",
            2,
            "mapping",
            '{',
            '}',
        ),
    ];
    for (number, (text, place, last, kind, open, close)) in cases.into_iter().enumerate() {
        let file = write(dir.path(), &format!("open-{number}.yaml"), &text);
        let expected = format!(
            "seqsim: error: {file}:{place}: YAML syntax: the {kind} opened here by `{open}` \
             is not closed; the file ends after line {last}, where `{close}` was expected"
        );
        for args in [
            vec!["run", file.as_str()],
            vec!["check", file.as_str(), "--set", "seed=3"],
            vec!["sweep", file.as_str(), "--seeds", "1..2"],
        ] {
            assert_eq!(first_line(&seqsim(&args)), expected, "{args:?}");
        }
    }
}

#[test]
fn brackets_left_open_inside_one_another_are_all_named() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("title: x\nparticipants:\n{PARTICIPANT}links: [ {{between: [a, b]");
    let file = write(dir.path(), "nested.yaml", &text);
    // Line 4: `[` at column 8, `{` at 10, and `[a, b]` closed.
    assert_eq!(
        first_line(&seqsim(&["check", &file])),
        format!(
            "seqsim: error: {file}:4:10: YAML syntax: the mapping opened here by `{{` is not \
             closed; the file ends after line 4, where `}}` was expected (nor is the `[` at \
             4:8; close both with `}}]`)"
        )
    );
}

#[test]
fn a_list_left_open_before_more_keys_names_where_it_opened() {
    let dir = tempfile::tempdir().unwrap();
    // The participant inside lacks `host`, which is not what is wrong:
    // line 3 starts a key where `,` or `]` was expected.
    let file = write(
        dir.path(),
        "open.yaml",
        "title: x\nparticipants: [ {id: a}\nlinks: []\n",
    );
    assert_eq!(
        first_line(&seqsim(&["run", &file])),
        format!(
            "seqsim: error: {file}:3:1: did not find expected ',' or ']', while parsing a \
             flow sequence at 2:15"
        )
    );
}

#[test]
fn a_quote_left_open_is_named_where_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    // `title: ` is 7 columns: the quote is at column 8.
    let file = write(dir.path(), "quote.yaml", "title: \"SMTP\nseed: 1\n");
    assert_eq!(
        first_line(&seqsim(&["check", &file])),
        format!(
            "seqsim: error: {file}:1:8: YAML syntax: the text quoted here by `\"` is not \
             closed; the file ends after line 2, where the closing `\"` was expected"
        )
    );
}

#[test]
fn a_key_given_twice_is_refused_at_its_second_place() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // A block mapping: `host` on line 5 and again on line 7, both
        // indented by four spaces.
        (
            "title: x\nseed: 1\nparticipants:\n  - id: a\n    host: a.example\n    \
             address: 192.0.2.1\n    host: b.example\n",
            "7:5",
            "participants[0].host",
            "host",
            "5 (column 5)",
        ),
        // A flow mapping: `  - {` is 5 columns, so the first `id` is at
        // 6; the second follows `id: a, ` (7 columns), `host:
        // a.example, ` (17) and `address: 192.0.2.1, ` (20), at 50.
        (
            "title: x\nparticipants:\n  - {id: a, host: a.example, address: 192.0.2.1, id: b}\n",
            "3:50",
            "participants[0].id",
            "id",
            "3 (column 6)",
        ),
        // At the top: the second `title` is where the error is.
        (
            "title: x\nparticipants: []\ntitle: y\n",
            "3:1",
            "title",
            "title",
            "1 (column 1)",
        ),
    ];
    for (number, (text, place, path, key, first)) in cases.into_iter().enumerate() {
        let file = write(dir.path(), &format!("twice-{number}.yaml"), text);
        let expected = format!(
            "seqsim: error: {file}:{place}: at `{path}`: the key `{key}` is given twice in \
             this mapping, first at line {first}; expected each key once"
        );
        for args in [
            vec!["check", file.as_str()],
            vec!["run", file.as_str(), "--set", "seed=2"],
        ] {
            assert_eq!(first_line(&seqsim(&args)), expected, "{args:?}");
        }
    }
}

#[test]
fn addresses_no_host_may_have_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    // (address, words the reason must hold: the block and the RFC)
    let cases = [
        (
            "0.0.0.0",
            "in 0.0.0.0/8, which means \"this host\"",
            "RFC 1122 §3.2.1.3",
        ),
        ("0.0.0.7", "in 0.0.0.0/8", "RFC 1122 §3.2.1.3"),
        (
            "127.0.0.1",
            "a loopback address (127.0.0.0/8)",
            "RFC 1122 §3.2.1.3",
        ),
        (
            "224.0.0.251",
            "a multicast address (224.0.0.0/4)",
            "RFC 1112 §4",
        ),
        (
            "239.1.2.3",
            "a multicast address (224.0.0.0/4)",
            "RFC 1112 §4",
        ),
        ("240.0.0.1", "in 240.0.0.0/4, reserved", "RFC 1112 §4"),
        (
            "255.255.255.255",
            "the limited broadcast address",
            "RFC 919",
        ),
    ];
    for (address, what, rfc) in cases {
        let text = format!(
            "title: x\nparticipants:\n  - {{id: a, host: a.example, address: {address}}}\n"
        );
        let file = write(dir.path(), "address.yaml", &text);
        // `  - {id: a, host: a.example, address: ` is 38 columns.
        let line = first_line(&seqsim(&["check", &file]));
        let start = format!(
            "seqsim: error: {file}:3:39: at `participants[0].address`: {address} cannot be a \
             host's address: it is {what}"
        );
        assert!(line.starts_with(&start), "{line}");
        assert!(line.contains(rfc), "{line}");
    }
    // The ones next to them are ordinary unicast addresses.
    for address in ["1.0.0.0", "126.255.255.255", "128.0.0.0", "223.255.255.255"] {
        let text = format!(
            "title: x\nparticipants:\n  - {{id: a, host: a.example, address: {address}}}\n"
        );
        let file = write(dir.path(), "address.yaml", &text);
        assert_eq!(
            seqsim(&["check", &file]).status.code(),
            Some(0),
            "{address}"
        );
    }
}

#[test]
fn an_address_set_from_the_command_line_is_refused_naming_the_set() {
    // participants[0] of smtp-send.yaml is the sender.
    let output = seqsim(&[
        "run",
        SCENARIO,
        "--set",
        "participants[0].address=255.255.255.255",
    ]);
    assert!(
        first_line(&output).starts_with(
            "seqsim: error: --set participants[0].address=255.255.255.255: at \
             `participants[0].address`: 255.255.255.255 cannot be a host's address"
        ),
        "{output:?}"
    );
}

#[test]
fn a_population_running_into_loopback_is_refused_at_its_count() {
    let dir = tempfile::tempdir().unwrap();
    let text = "title: x\nparticipants:\n  - id: dns\n    host: ns.example\n    \
                address: 192.0.2.53\n    dns_server: {records: []}\n  - id: s\n    \
                host: s.example\n    address: 126.255.255.250\n    resolver: dns\n    \
                smtp_client: {mails: []}\n    population: {count: 10}\n";
    let file = write(dir.path(), "population.yaml", text);
    // 126.255.255.250 to .255 are copies 1 to 6; copy 7 would be
    // 127.0.0.0. `    population: {count: ` is 24 columns, on line 12.
    assert_eq!(
        first_line(&seqsim(&["check", &file])),
        format!(
            "seqsim: error: {file}:12:25: at `participants[1].population.count`: copy 7 would \
             get 127.0.0.0, which cannot be a host's address: it is a loopback address \
             (127.0.0.0/8), which must not appear outside a host (RFC 1122 §3.2.1.3); copies \
             take consecutive addresses from 126.255.255.250, so at most 6 fit"
        )
    );
    // Six copies fit.
    let six = write(
        dir.path(),
        "six.yaml",
        &text.replace("count: 10", "count: 6"),
    );
    assert_eq!(seqsim(&["check", &six]).status.code(), Some(0));
}

#[test]
fn a_second_document_is_refused_where_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    // The `---` opening the second document is at line 4, column 1.
    let text = format!("title: x\nparticipants:\n{PARTICIPANT}---\ntitle: y\n");
    let file = write(dir.path(), "two.yaml", &text);
    let expected = format!(
        "seqsim: error: {file}:4:1: YAML syntax: a second document starts here; a scenario \
         file holds one (remove this `---` and what follows it, or merge the two)"
    );
    for args in [
        vec!["check", file.as_str()],
        vec!["run", file.as_str(), "--set", "seed=1"],
    ] {
        assert_eq!(first_line(&seqsim(&args)), expected, "{args:?}");
    }
}

#[test]
fn a_number_past_64_bits_in_a_set_value_is_named() {
    // 2^64 = 18446744073709551616, one past the largest u64.
    let output = seqsim(&["check", SCENARIO, "--set", "seed=18446744073709551616"]);
    assert_eq!(
        refusal(&output),
        "seqsim: error: --set `seed=18446744073709551616`: the number 18446744073709551616 is \
         out of range: no key of a scenario takes a whole number past 18446744073709551615\n"
    );
}

#[test]
fn a_number_past_64_bits_in_the_file_is_placed_with_a_set_too() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("title: x\nseed: 18446744073709551616\nparticipants:\n{PARTICIPANT}");
    let file = write(dir.path(), "big.yaml", &text);
    // `seed: ` is 6 columns; the error is the same with or without --set.
    let expected = format!(
        "seqsim: error: {file}:2:7: at `seed`: invalid type: integer `18446744073709551616`, \
         expected a whole number from 0 to 18446744073709551615"
    );
    assert_eq!(first_line(&seqsim(&["check", &file])), expected);
    assert_eq!(
        first_line(&seqsim(&["check", &file, "--set", "title=y"])),
        expected
    );
}

#[test]
fn an_output_path_ending_in_a_slash_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("{}/", dir.path().join("not-yet").display());
    for args in [
        vec!["run", SCENARIO, "-o", missing.as_str()],
        vec!["sweep", SCENARIO, "--seeds", "1..2", "-o", missing.as_str()],
    ] {
        assert_eq!(
            refusal(&seqsim(&args)),
            format!(
                "seqsim: error: -o {missing}: ends in `/`, so it names a directory; give a \
                 file name\n"
            ),
            "{args:?}"
        );
    }
    assert!(!dir.path().join("not-yet").exists());
}

#[test]
fn an_empty_file_name_is_said_in_words() {
    assert_eq!(
        refusal(&seqsim(&["check", ""])),
        "seqsim: error: '': the scenario's file name is empty; expected the path of a YAML \
         file\n"
    );
}

/// Two participants joined by a link, then `script:`; the first step is
/// written on line 8.
const TWO_HOSTS: &str = "title: t\nparticipants:\n  \
    - { id: client, host: c.example, address: 192.0.2.1 }\n  \
    - { id: server, host: s.example, address: 192.0.2.2 }\nlinks:\n  \
    - { between: [client, server], latency: 1ms }\nscript:\n";

/// What the datagram size check says after the size.
const UDP_LIMIT: &str = "but a UDP datagram carries at most 65507 over IPv4 (65535 less \
                         the 20-byte IP and 8-byte UDP headers); send it over TCP, or in \
                         several datagrams";

#[test]
fn a_datagram_larger_than_udp_over_ipv4_carries_is_refused_at_its_payload() {
    let dir = tempfile::tempdir().unwrap();
    // RFC 791 caps an IPv4 packet at 65535 octets; less 20 for the IP
    // header and 8 for the UDP header (RFC 768) leaves 65507. In
    // `  - send: { from: client, to: server, transport: udp, to_port:
    // 9, ` the payload's key is followed by `: ` and its value starts at
    // column 12 + 14 + 12 + 16 + 12 + 6 + 1 = 73 for `text`, 74 for
    // `bytes`.
    let step = "  - send: { from: client, to: server, transport: udp, to_port: 9, ";
    let cases = [
        (
            format!("text: {} }}\n", "x".repeat(70_000)),
            "text",
            73,
            70_000,
        ),
        (
            format!("bytes: {} }}\n", "ab".repeat(65_508)),
            "bytes",
            74,
            65_508,
        ),
    ];
    for (payload, key, column, size) in cases {
        let file = write(
            dir.path(),
            "big.yaml",
            &format!("{TWO_HOSTS}{step}{payload}"),
        );
        let expected = format!(
            "seqsim: error: {file}:8:{column}: at `script[0].send.{key}`: this is {size} \
             bytes, {UDP_LIMIT}"
        );
        for args in [
            vec!["check", file.as_str()],
            vec!["run", file.as_str(), "--format", "pcap", "-o", "/dev/null"],
        ] {
            assert_eq!(first_line(&seqsim(&args)), expected, "{args:?}");
        }
    }
}

#[test]
fn the_largest_udp_payload_and_a_larger_tcp_send_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let udp = format!(
        "  - send: {{ from: client, to: server, transport: udp, to_port: 9, text: {} }}\n",
        "x".repeat(65_507)
    );
    let tcp = format!(
        "  - open: {{ from: client, to: server, port: 9 }}\n  \
         - send: {{ from: client, to: server, text: {} }}\n",
        "x".repeat(70_000)
    );
    for (name, steps) in [("udp", udp), ("tcp", tcp)] {
        let file = write(
            dir.path(),
            &format!("{name}.yaml"),
            &format!("{TWO_HOSTS}{steps}"),
        );
        let output = seqsim(&["run", &file, "--format", "pcap"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{name}: {stderr}");
        // The capture holds the whole payload, whatever its framing.
        assert!(output.stdout.len() > 65_507, "{name}");
    }
}

/// A DNS server whose records start on line 9, each indented by eight
/// spaces, `- ` and then the record.
fn dns_server_holding(records: &[&str]) -> String {
    let mut text = String::from(
        "title: t\nparticipants:\n  \
         - { id: client, host: c.example, address: 192.0.2.1 }\n  \
         - id: dns\n    host: ns.example\n    address: 192.0.2.2\n    \
         dns_server:\n      records:\n",
    );
    for record in records {
        text.push_str(&format!("        - {record}\n"));
    }
    text
}

#[test]
fn a_bad_value_inside_a_dns_record_is_named_by_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let mx = "{ type: MX, name: example.org, preference: ";
    let a = "{ type: A, name: w.example.org, address: 192.0.2.80, ttl: ";
    let records = "participants[1].dns_server.records";
    // A preference is 16 bits (RFC 1035 §3.3.9), a TTL 32 bits
    // (§3.2.1). `        - ` is ten columns, so a record opens at
    // column 11; in `mx` the value follows 43 more columns, in `a` 58.
    let cases = [
        (
            vec![format!("{mx}70000, exchange: mx.example.org }}")],
            "9:54",
            "records[0].preference",
            "invalid value: integer `70000`",
            "65535",
            "^^^^^",
        ),
        (
            vec![format!("{mx}-1, exchange: mx.example.org }}")],
            "9:54",
            "records[0].preference",
            "invalid type: integer `-1`",
            "65535",
            "^^",
        ),
        (
            vec![format!("{a}60 }}"), format!("{a}-5 }}")],
            "10:69",
            "records[1].ttl",
            "invalid type: integer `-5`",
            "4294967295",
            "^^",
        ),
    ];
    for (number, (lines, place, path, what, top, underline)) in cases.into_iter().enumerate() {
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let file = write(
            dir.path(),
            &format!("record-{number}.yaml"),
            &dns_server_holding(&lines),
        );
        let stderr = refusal(&seqsim(&["check", &file]));
        let path = path.replace("records", records);
        let expected = format!(
            "seqsim: error: {file}:{place}: at `{path}`: {what}, expected a whole number from 0 to {top}"
        );
        assert_eq!(stderr.lines().next().unwrap(), expected);
        let column: usize = place.split(':').nth(1).unwrap().parse().unwrap();
        let drawn = stderr.lines().nth(3).unwrap();
        let caret = drawn.find('^').unwrap();
        // The gutter `  | ` (or `   | ` past line 9) comes before the line.
        let gutter = drawn.find('|').unwrap() + 2;
        assert_eq!(caret - gutter + 1, column, "{stderr}");
        assert_eq!(drawn[caret..].trim_end(), underline, "{stderr}");
    }
}

#[test]
fn a_key_a_dns_record_does_not_have_is_named_where_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let records = "participants[1].dns_server.records[0]";
    // `{ type: A, name: w.example, ` is 28 columns from column 11.
    let cases = [
        (
            "exchange: x }",
            "exchange",
            "`type`, `name`, `address`, `ttl`",
        ),
        ("text: hi }", "text", "`type`, `name`, `address`, `ttl`"),
    ];
    for (number, (rest, key, keys)) in cases.into_iter().enumerate() {
        let record = format!("{{ type: A, name: w.example, {rest}");
        let file = write(
            dir.path(),
            &format!("key-{number}.yaml"),
            &dns_server_holding(&[&record]),
        );
        assert_eq!(
            first_line(&seqsim(&["check", &file])),
            format!(
                "seqsim: error: {file}:9:39: at `{records}.{key}`: unknown field `{key}`, \
                 expected one of {keys}"
            )
        );
    }
    // A null where a record's text goes is refused at that key.
    let record = "{ type: CNAME, name: ~, target: w.example }";
    let file = write(dir.path(), "null.yaml", &dns_server_holding(&[record]));
    let line = first_line(&seqsim(&["check", &file]));
    // `{ type: CNAME, name: ` is 21 columns from column 11.
    assert!(
        line.starts_with(&format!(
            "seqsim: error: {file}:9:32: at `{records}.name`: expected a string, found null"
        )),
        "{line}"
    );
}

#[test]
fn a_fault_on_a_link_from_a_participant_to_itself_is_refused_like_such_a_link() {
    let dir = tempfile::tempdir().unwrap();
    // Placed at its key, as `links[0].between` is: `  - drop: { ` is
    // 12 columns, so `link` starts at column 13.
    let text = format!(
        "{TWO_HOSTS}  - open: {{ from: client, to: server, port: 9 }}\nfaults:\n  \
                        - drop: {{ link: [client, client] }}\n"
    );
    let file = write(dir.path(), "self-link.yaml", &text);
    assert_eq!(
        first_line(&seqsim(&["check", &file])),
        format!(
            "seqsim: error: {file}:10:13: at `faults[0].drop.link`: a link joins two different \
             participants"
        )
    );
}

#[test]
fn a_port_of_0_is_refused_at_the_key_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    // `  - open: { from: client, to: server, ` is 38 columns; `port: 9, `
    // 9 more, then `from_port: ` 11: the 0 is at column 59. In the
    // datagram, `transport: udp, ` (16) and `to_port: 0` follow the same
    // 38 columns and `to_port: ` (9): column 64.
    let cases = [
        (
            "  - open: { from: client, to: server, port: 9, from_port: 0 }",
            "59",
            "open.from_port",
        ),
        (
            "  - open: { from: client, to: server, port: 0 }",
            "45",
            "open.port",
        ),
        (
            "  - send: { from: client, to: server, transport: udp, to_port: 0, text: hi }",
            "64",
            "send.to_port",
        ),
    ];
    for (number, (step, column, path)) in cases.into_iter().enumerate() {
        let file = write(
            dir.path(),
            &format!("port-{number}.yaml"),
            &format!("{TWO_HOSTS}{step}\n"),
        );
        let stderr = refusal(&seqsim(&["check", &file]));
        assert_eq!(
            stderr.lines().next().unwrap(),
            format!(
                "seqsim: error: {file}:8:{column}: at `script[0].{path}`: port 0 is reserved; use \
                 a port from 1 to 65535"
            )
        );
        let drawn = stderr.lines().nth(3).unwrap();
        assert!(
            drawn.ends_with('^') && !drawn.ends_with("^^"),
            "only the 0: {stderr}"
        );
    }
}

#[test]
fn a_bad_smtp_match_or_occurrence_is_refused_at_its_value() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = "not an SMTP command verb or reply code, like RCPT or 550";
    // `  - drop: { smtp: ` is 18 columns; `  - { from: client, message:
    // SYN, text: hi, occurrence: ` is 56.
    let cases = [
        (
            "faults:\n  - drop: { smtp: 70000 }\n",
            "8:19",
            "faults[0].drop.smtp",
            format!("`70000` is {smtp}"),
        ),
        (
            "faults:\n  - drop: { smtp: -1 }\n",
            "8:19",
            "faults[0].drop.smtp",
            format!("`-1` is {smtp}"),
        ),
        (
            "faults:\n  - drop: { smtp: [a] }\n",
            "8:19",
            "faults[0].drop.smtp",
            "invalid type: sequence, expected an SMTP command verb or reply code, like RCPT or 550"
                .to_string(),
        ),
        (
            "remarks:\n  - { from: client, message: SYN, text: hi, occurrence: -1 }\n",
            "8:57",
            "remarks[0].occurrence",
            "expected a count from 1, or `last`".to_string(),
        ),
    ];
    for (number, (tail, place, path, message)) in cases.into_iter().enumerate() {
        // TWO_HOSTS ends with `script:`; an empty script is left out.
        let head = TWO_HOSTS.trim_end_matches("script:\n");
        let file = write(
            dir.path(),
            &format!("match-{number}.yaml"),
            &format!("{head}{tail}"),
        );
        assert_eq!(
            first_line(&seqsim(&["check", &file])),
            format!("seqsim: error: {file}:{place}: at `{path}`: {message}")
        );
    }
}
