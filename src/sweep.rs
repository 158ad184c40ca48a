//! Sweeps: the same scenario run many times, under a range of seeds and
//! every combination of the values given for some keys, one row of
//! figures per run.
//!
//! The runs are numbered in a fixed order (the first key's values vary
//! slowest, the seed fastest) and each is a run of its own, with nothing
//! shared, so they can go in parallel on any number of threads and still
//! give the same rows in the same order. A shard `i/n` takes the i-th of
//! n contiguous slices of that order, so the shards' rows, one after
//! another, are the whole sweep's.

use std::ops::{Range, RangeInclusive};

use rayon::prelude::*;
use serde::Serialize;

use crate::render::summary::Summary;
use crate::scenario::{self, Overrides, Setting};
use crate::sim;
use crate::time::SimDuration;

/// A key of the scenario and the values it takes in turn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parameter {
    /// The key path, as `--set` writes it.
    pub path: String,
    /// Its values, in the order given.
    pub values: Vec<String>,
}

impl Parameter {
    /// Parses `path=a,b,c`; each value must make a valid `--set`.
    pub fn parse(argument: &str) -> Result<Parameter, String> {
        let Some((path, values)) = argument.split_once('=') else {
            return Err(format!(
                "--set {argument}: expected PATH=VALUE[,VALUE...], e.g. links[0].loss=0,0.05,0.1"
            ));
        };
        let values = split_values(values).map_err(|why| format!("--set {argument}: {why}"))?;
        for value in &values {
            Setting::parse(&format!("{path}={value}"))?;
        }
        Ok(Parameter {
            path: path.to_string(),
            values,
        })
    }
}

/// Splits a value list at the commas outside YAML flow collections
/// (`[...]`, `{...}`) and quoted strings, refusing empty values.
fn split_values(list: &str) -> Result<Vec<String>, String> {
    let mut scanner = ListScanner::default();
    let mut values = Vec::new();
    let mut start = 0;
    for (at, c) in list.char_indices() {
        if scanner.ends_value(c)? {
            values.push(list[start..at].trim().to_string());
            start = at + 1;
        }
    }
    scanner.finish()?;
    values.push(list[start..].trim().to_string());
    refuse_empty(&values)?;
    Ok(values)
}

/// Refuses an empty value, naming its place in the list.
fn refuse_empty(values: &[String]) -> Result<(), String> {
    let Some(empty) = values.iter().position(String::is_empty) else {
        return Ok(());
    };
    let which = match values.len() {
        1 => "the value is empty".to_string(),
        count => format!("value {} of {count} is empty", empty + 1),
    };
    Err(format!("{which}; write '' for an empty string"))
}

/// Follows a value list character by character: which brackets are open
/// and whether a quoted string is, so that only commas between values
/// end one.
#[derive(Default)]
struct ListScanner {
    /// The brackets and braces open, innermost last.
    open: Vec<char>,
    /// The quote character of the quoted string open, if any.
    quote: Option<char>,
    /// Inside a double-quoted string: the previous character was `\`.
    escaped: bool,
    /// The last character outside quotes that was not a space.
    previous: Option<char>,
    /// The previous character closed a single-quoted string, so another
    /// `'` right after it is a quote written twice (`'it''s'`).
    closed_single: bool,
}

impl ListScanner {
    /// Takes the next character; tells whether it is a comma between values.
    fn ends_value(&mut self, c: char) -> Result<bool, String> {
        if let Some(quote) = self.quote {
            self.in_quotes(quote, c);
            return Ok(false);
        }
        let reopens = c == '\'' && self.closed_single;
        self.closed_single = false;
        let separator = match c {
            '\'' | '"' if reopens || self.starts_scalar() => {
                self.quote = Some(c);
                false
            }
            '[' | '{' => {
                self.open.push(c);
                false
            }
            ']' | '}' => {
                self.close(c)?;
                false
            }
            ',' => self.open.is_empty(),
            _ => false,
        };
        if !c.is_whitespace() {
            self.previous = (!separator).then_some(c);
        }
        Ok(separator)
    }

    /// Tells whether a quote here would start a quoted string: at the
    /// start of a value or of an item or value inside a collection, not
    /// in the middle of a word such as `don't`.
    fn starts_scalar(&self) -> bool {
        match self.previous {
            None | Some('[' | '{' | ',') => true,
            Some(':') => !self.open.is_empty(),
            Some(_) => false,
        }
    }

    /// Takes a character inside a quoted string.
    fn in_quotes(&mut self, quote: char, c: char) {
        if self.escaped {
            self.escaped = false;
        } else if quote == '"' && c == '\\' {
            self.escaped = true;
        } else if c == quote {
            self.quote = None;
            self.closed_single = quote == '\'';
            self.previous = Some(c);
        }
    }

    /// Closes the innermost bracket, which must match `c`.
    fn close(&mut self, c: char) -> Result<(), String> {
        let expected = if c == ']' { '[' } else { '{' };
        match self.open.pop() {
            Some(opened) if opened == expected => Ok(()),
            Some(opened) => Err(format!("`{c}` closes a `{opened}`; {BALANCE}")),
            None => Err(format!("`{c}` closes nothing; {BALANCE}")),
        }
    }

    /// Checks that nothing is left open at the end of the list.
    fn finish(&self) -> Result<(), String> {
        if let Some(quote) = self.quote {
            return Err(format!(
                "a quoted string ({quote}) is not closed; {BALANCE}"
            ));
        }
        match self.open.last() {
            Some(opened) => Err(format!("a `{opened}` is not closed; {BALANCE}")),
            None => Ok(()),
        }
    }
}

/// How a value list must be written, said after an error in one.
const BALANCE: &str = "values are split at commas outside [...], {...} and quotes, \
                       so brackets, braces and quotes must balance";

/// Refuses parameters that would run other than the rows say: `seed`,
/// which `--seeds` sets for each run, and a path given twice.
pub fn check_distinct(parameters: &[Parameter]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for parameter in parameters {
        if parameter.path == "seed" {
            return Err("--set seed=...: the seed of each run comes from --seeds".to_string());
        }
        if !seen.insert(parameter.path.as_str()) {
            return Err(format!(
                "--set {}=...: the path is given twice; list all its values in one --set",
                parameter.path
            ));
        }
    }
    Ok(())
}

/// One run of a sweep: its number, seed and the value of each parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSpec {
    /// Its place in the whole sweep, from 0.
    pub index: usize,
    /// The seed it runs under.
    pub seed: u64,
    /// The value of each parameter, in the parameters' order.
    pub values: Vec<String>,
}

/// Parses a seed range `A..B` (both ends included; `A..=B` says the
/// same) or a single seed. Every seed from 0 to `u64::MAX` can be
/// reached, as with `--seed`.
pub fn parse_seeds(text: &str) -> Result<RangeInclusive<u64>, String> {
    let (first, last) = match text.split_once("..") {
        Some((first, last)) => {
            let last = last.strip_prefix('=').unwrap_or(last);
            (
                seed_end(text, "first", first)?,
                seed_end(text, "last", last)?,
            )
        }
        None => (seed_end(text, "only", text)?, seed_end(text, "only", text)?),
    };
    if last < first {
        return Err(format!(
            "--seeds {text}: the range is empty: the last seed, {last}, is below the first, \
             {first} (write {last}..{first} to run them all)"
        ));
    }
    Ok(first..=last)
}

/// Reads the `which` (first, last or only) seed of a `--seeds` range.
fn seed_end(text: &str, which: &str, part: &str) -> Result<u64, String> {
    let part = part.trim();
    if part.is_empty() {
        return Err(format!(
            "--seeds {text}: the {which} seed is missing; expected A..B, e.g. 1..1000"
        ));
    }
    part.parse::<u64>().map_err(|_| {
        format!(
            "--seeds {text}: `{part}` is not a whole number from 0 to {}; \
             expected A..B, e.g. 1..1000",
            u64::MAX
        )
    })
}

/// Lists every run: each combination of parameter values, each seed.
pub fn plan(parameters: &[Parameter], seeds: RangeInclusive<u64>) -> Vec<RunSpec> {
    let mut combinations: Vec<Vec<String>> = vec![Vec::new()];
    for parameter in parameters {
        combinations = combinations
            .iter()
            .flat_map(|prefix| {
                parameter.values.iter().map(move |value| {
                    let mut combination = prefix.clone();
                    combination.push(value.clone());
                    combination
                })
            })
            .collect();
    }
    let runs = combinations
        .into_iter()
        .flat_map(|values| seeds.clone().map(move |seed| (seed, values.clone())));
    runs.enumerate()
        .map(|(index, (seed, values))| RunSpec {
            index,
            seed,
            values,
        })
        .collect()
}

/// A slice of a sweep: the `number`-th of `of`, counting from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, from 1.
    pub number: usize,
    /// How many slices.
    pub of: usize,
}

impl Shard {
    /// Parses `i/n`, with 1 ≤ i ≤ n.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let parsed = text
            .split_once('/')
            .and_then(|(i, n)| Some((i.parse().ok()?, n.parse().ok()?)));
        match parsed {
            Some((number, of)) if (1..=of).contains(&number) => Ok(Shard { number, of }),
            _ => Err(format!(
                "--shard {text}: expected i/n with 1 <= i <= n, e.g. 3/8"
            )),
        }
    }

    /// Returns the runs of `total` that fall in this slice.
    pub fn range(self, total: usize) -> Range<usize> {
        let bound = |slice: usize| slice * total / self.of;
        bound(self.number - 1)..bound(self.number)
    }
}

/// The figures of one run, as one row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    /// Its place in the whole sweep, from 0.
    pub run: usize,
    /// The seed.
    pub seed: u64,
    /// The value of each parameter, by key path.
    #[serde(skip)]
    pub values: Vec<String>,
    /// `ok`, `stalled at step N`, `N recipients without outcome`, or
    /// `error: ...`.
    pub outcome: String,
    /// Events the engine processed.
    pub events: u64,
    /// Messages put on the network.
    pub messages: u64,
    /// Messages that never arrived.
    pub lost: u64,
    /// Resent segments.
    pub retransmissions: u64,
    /// Recipients delivered.
    pub delivered: u64,
    /// Recipients not delivered.
    pub failed: u64,
    /// Delivery time percentiles in nanoseconds, when anything was delivered.
    pub delivery_p50_ns: Option<u64>,
    /// The 90th percentile.
    pub delivery_p90_ns: Option<u64>,
    /// The 99th percentile.
    pub delivery_p99_ns: Option<u64>,
    /// The longest.
    pub delivery_max_ns: Option<u64>,
}

/// How many runs go to the threads at once; their rows are written
/// before the next runs start, so a sweep's memory does not grow with
/// its length. The rows are the same whatever this number.
const RUNS_PER_BATCH: usize = 1024;

/// Runs every run of `runs` on `threads` threads, a batch at a time, and
/// hands each batch's rows to `emit` in the order of `runs`; `tick` is
/// called once after each run. Stops at the first error `emit` returns.
pub fn run_in_batches(
    file: &str,
    text: &str,
    parameters: &[Parameter],
    runs: &[RunSpec],
    threads: usize,
    tick: &(dyn Fn() + Sync),
    mut emit: impl FnMut(&[Row]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool can be built");
    for batch in runs.chunks(RUNS_PER_BATCH) {
        let rows: Vec<Row> = pool.install(|| {
            batch
                .par_iter()
                .map(|spec| {
                    let row = run_one(file, text, parameters, spec);
                    tick();
                    row
                })
                .collect()
        });
        emit(&rows)?;
    }
    Ok(())
}

/// Loads the scenario with one run's seed and values, as a check before
/// the sweep starts; returns why it is refused.
pub fn check(
    file: &str,
    text: &str,
    parameters: &[Parameter],
    spec: &RunSpec,
) -> Result<(), scenario::ScenarioError> {
    scenario::parse(file, text, &overrides(parameters, spec)).map(|_| ())
}

/// Runs one run and returns its row.
fn run_one(file: &str, text: &str, parameters: &[Parameter], spec: &RunSpec) -> Row {
    let mut row = empty_row(spec);
    let scenario = match scenario::parse(file, text, &overrides(parameters, spec)) {
        Ok(scenario) => scenario,
        Err(error) => {
            row.outcome = format!("error: {}", error.message);
            return row;
        }
    };
    let mut figures = Summary::new();
    match sim::run_into(&scenario, &mut figures) {
        Ok(streamed) => {
            figures.set_events(streamed.events);
            fill_row(&mut row, &figures);
            row.outcome = outcome_of(&streamed);
        }
        Err(error) => row.outcome = format!("error: {error}"),
    }
    row
}

/// Says how a finished run ended: `ok` only when no script stalled and
/// every recipient was concluded.
fn outcome_of(streamed: &sim::Streamed) -> String {
    if let Some(step) = streamed.stalled_step {
        return format!("stalled at step {step}");
    }
    match streamed.open_recipients.len() {
        0 => "ok".to_string(),
        count => format!("{count} recipients without outcome"),
    }
}

/// Returns the overrides of one run: its seed and its values.
fn overrides(parameters: &[Parameter], spec: &RunSpec) -> Overrides {
    let sets = parameters
        .iter()
        .zip(&spec.values)
        .map(|(parameter, value)| {
            Setting::parse(&format!("{}={value}", parameter.path))
                .expect("every value was checked when the sweep was planned")
        });
    Overrides {
        seed: Some(spec.seed),
        sets: sets.collect(),
    }
}

/// Returns a row with the run's identity and no figures yet.
fn empty_row(spec: &RunSpec) -> Row {
    Row {
        run: spec.index,
        seed: spec.seed,
        values: spec.values.clone(),
        outcome: "ok".to_string(),
        events: 0,
        messages: 0,
        lost: 0,
        retransmissions: 0,
        delivered: 0,
        failed: 0,
        delivery_p50_ns: None,
        delivery_p90_ns: None,
        delivery_p99_ns: None,
        delivery_max_ns: None,
    }
}

/// Copies a run's figures into its row.
fn fill_row(row: &mut Row, figures: &Summary) {
    let nanos = |percent| {
        figures
            .delivery_percentile(percent)
            .map(SimDuration::as_nanos)
    };
    row.events = figures.events();
    row.messages = figures.messages();
    row.lost = figures.lost();
    row.retransmissions = figures.retransmissions();
    row.delivered = figures.delivered();
    row.failed = figures.failed();
    row.delivery_p50_ns = nanos(50);
    row.delivery_p90_ns = nanos(90);
    row.delivery_p99_ns = nanos(99);
    row.delivery_max_ns = nanos(100);
}

/// Returns the CSV header: run, seed, each parameter by its key path,
/// then the figures.
pub fn csv_header(parameters: &[Parameter]) -> Vec<u8> {
    let mut header = vec!["run".to_string(), "seed".to_string()];
    header.extend(parameters.iter().map(|p| p.path.clone()));
    header.extend(FIGURE_COLUMNS.iter().map(|c| c.to_string()));
    csv_records([header])
}

/// Writes the rows as CSV records, with no header.
pub fn to_csv_rows(rows: &[Row]) -> Vec<u8> {
    csv_records(rows.iter().map(csv_fields))
}

/// Writes records as CSV lines, quoted where a field needs it.
fn csv_records(records: impl IntoIterator<Item = Vec<String>>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for record in records {
        writer.write_record(&record).expect("CSV writes to memory");
    }
    writer.into_inner().expect("CSV writes to memory")
}

/// The figure columns, after the parameters.
const FIGURE_COLUMNS: [&str; 11] = [
    "outcome",
    "events",
    "messages",
    "lost",
    "retransmissions",
    "delivered",
    "failed",
    "delivery_p50_ns",
    "delivery_p90_ns",
    "delivery_p99_ns",
    "delivery_max_ns",
];

/// Returns the fields of one CSV row.
fn csv_fields(row: &Row) -> Vec<String> {
    let optional = |value: Option<u64>| value.map_or(String::new(), |v| v.to_string());
    let mut fields = vec![row.run.to_string(), row.seed.to_string()];
    fields.extend(row.values.iter().cloned());
    fields.push(row.outcome.clone());
    for count in [
        row.events,
        row.messages,
        row.lost,
        row.retransmissions,
        row.delivered,
        row.failed,
    ] {
        fields.push(count.to_string());
    }
    for time in [
        row.delivery_p50_ns,
        row.delivery_p90_ns,
        row.delivery_p99_ns,
        row.delivery_max_ns,
    ] {
        fields.push(optional(time));
    }
    fields
}

/// Writes the rows as JSON Lines, each with its parameters under
/// `parameters`, by key path.
pub fn to_jsonl(parameters: &[Parameter], rows: &[Row]) -> Vec<u8> {
    let mut out = Vec::new();
    for row in rows {
        let mut value = serde_json::to_value(row).expect("a row serializes");
        let named = parameters
            .iter()
            .zip(&row.values)
            .map(|(p, v)| (p.path.clone(), serde_json::Value::String(v.clone())));
        value["parameters"] = serde_json::Value::Object(named.collect());
        out.extend(serde_json::to_vec(&value).expect("a row serializes"));
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_with_a_recipient_left_open_is_not_ok() {
        let ended = |open: &[&str]| sim::Streamed {
            events: 9,
            stalled_step: None,
            open_recipients: open.iter().map(|r| r.to_string()).collect(),
            longest_queue: 4,
        };
        assert_eq!(outcome_of(&ended(&[])), "ok");
        let open = ["sender: c3po@receiver.com", "sender: r2d2@receiver.com"];
        assert_eq!(outcome_of(&ended(&open)), "2 recipients without outcome");
    }

    /// Splits a list as `--set` does, for the tests.
    fn split(list: &str) -> Result<Vec<String>, String> {
        split_values(list)
    }

    #[test]
    fn lists_split_at_commas_outside_collections_and_quotes() {
        assert_eq!(split("0,0.05,0.1").unwrap(), ["0", "0.05", "0.1"]);
        assert_eq!(
            split("[c3po, r2d2],[c3po]").unwrap(),
            ["[c3po, r2d2]", "[c3po]"]
        );
        assert_eq!(
            split("{a: [1, 2], b: 3}, {}").unwrap(),
            ["{a: [1, 2], b: 3}", "{}"]
        );
        assert_eq!(
            split("'a, b',\"c, \\\"d\"").unwrap(),
            ["'a, b'", "\"c, \\\"d\""]
        );
        assert_eq!(split("'it''s, so',x").unwrap(), ["'it''s, so'", "x"]);
        assert_eq!(split("[don't, x],y").unwrap(), ["[don't, x]", "y"]);
        assert_eq!(split("don't,won't").unwrap(), ["don't", "won't"]);
        assert_eq!(split("['a,b', \"c]\"]").unwrap(), ["['a,b', \"c]\"]"]);
        assert_eq!(split("''").unwrap(), ["''"]);
    }

    #[test]
    fn unbalanced_brackets_and_quotes_are_refused() {
        let refused = |list: &str| split(list).unwrap_err();
        assert!(refused("[a, b").starts_with("a `[` is not closed;"));
        assert!(refused("a],b").starts_with("`]` closes nothing;"));
        assert!(refused("{a: [1}").starts_with("`}` closes a `[`;"));
        assert!(refused("'a, b").starts_with("a quoted string (') is not closed;"));
        assert!(refused("x,\"a").starts_with("a quoted string (\") is not closed;"));
    }

    #[test]
    fn empty_values_are_refused_by_their_place() {
        let hint = "; write '' for an empty string";
        assert_eq!(split("0,,0.1"), Err(format!("value 2 of 3 is empty{hint}")));
        assert_eq!(split("0,0.1,"), Err(format!("value 3 of 3 is empty{hint}")));
        assert_eq!(split(" "), Err(format!("the value is empty{hint}")));
        assert_eq!(split(""), Err(format!("the value is empty{hint}")));
    }

    #[test]
    fn seed_ranges_include_both_ends() {
        assert_eq!(parse_seeds("1..3"), Ok(1..=3));
        assert_eq!(parse_seeds("1..=3"), Ok(1..=3));
        assert_eq!(parse_seeds("7"), Ok(7..=7));
        assert_eq!(parse_seeds("18446744073709551615"), Ok(u64::MAX..=u64::MAX));
        assert!(parse_seeds("3..1").is_err());
        assert!(parse_seeds("a..b").is_err());
        assert!(parse_seeds("1..").is_err());
    }

    #[test]
    fn the_first_parameter_varies_slowest_and_the_seed_fastest() {
        let parameters = [
            Parameter::parse("a=1,2").unwrap(),
            Parameter::parse("b=x,y").unwrap(),
        ];
        let runs = plan(&parameters, 5..=6);
        let listed: Vec<(u64, String)> = runs.iter().map(|r| (r.seed, r.values.join(""))).collect();
        let expected = [
            (5, "1x"),
            (6, "1x"),
            (5, "1y"),
            (6, "1y"),
            (5, "2x"),
            (6, "2x"),
            (5, "2y"),
            (6, "2y"),
        ];
        let expected: Vec<(u64, String)> =
            expected.iter().map(|(s, v)| (*s, v.to_string())).collect();
        assert_eq!(listed, expected);
        assert_eq!(runs[7].index, 7);
    }

    #[test]
    fn shards_cover_every_run_once_in_order() {
        let total = 10;
        let ranges: Vec<Range<usize>> = (1..=3)
            .map(|number| Shard { number, of: 3 }.range(total))
            .collect();
        assert_eq!(ranges, [0..3, 3..6, 6..10]);
        assert!(Shard::parse("0/3").is_err());
        assert!(Shard::parse("4/3").is_err());
        assert_eq!(Shard::parse("2/3"), Ok(Shard { number: 2, of: 3 }));
    }

    #[test]
    fn rows_come_a_batch_at_a_time_in_the_order_of_the_runs() {
        // One run more than a batch: a full batch, then a batch of one,
        // each written before the next starts, every run once in order.
        let text = include_str!("../scenarios/tcp-connection.yaml");
        let last = RUNS_PER_BATCH as u64 + 1;
        let runs = plan(&[], 1..=last);
        let mut batches = Vec::new();
        let emit = |rows: &[Row]| {
            batches.push(rows.iter().map(|r| (r.run, r.seed)).collect::<Vec<_>>());
            Ok(())
        };
        run_in_batches("tcp-connection.yaml", text, &[], &runs, 2, &|| {}, emit)
            .expect("nothing fails to write");
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [RUNS_PER_BATCH, 1]);
        let expected: Vec<(usize, u64)> = (0..=RUNS_PER_BATCH).map(|i| (i, i as u64 + 1)).collect();
        assert_eq!(batches.concat(), expected);
    }
}
