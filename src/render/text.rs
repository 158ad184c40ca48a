//! The text sequence diagram: participants as columns under their group
//! headers, time going down, one arrow per message with its label above,
//! the virtual send time at the left and the step's remark at the right.
//!
//! All widths are display widths (wide CJK characters and emoji count
//! two), so the columns stay aligned. When the labels do not fit the width
//! asked for, the gaps between lifelines shrink and the labels wrap;
//! participant names never wrap, so a diagram can exceed a very small width.
//!
//! A margin of one-character marks can stand left of the time column,
//! one per message (see [`render_with_margin`]); `seqsim diff` uses it.
//!
//! Not modelled: a message naming a participant the trace does not list is
//! left out of the drawing.

use std::collections::BTreeMap;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::provenance::breaks_lines;
use crate::trace::{LifelineEvent, Message, Participant, Trace};

/// Columns between the time column and the leftmost name.
const TIME_GAP: usize = 2;
/// Spaces kept between neighbouring participant or group names.
const NAME_SPACING: usize = 2;
/// Spaces kept between a label and the lifelines around it.
const LABEL_PADDING: usize = 2;
/// The narrowest distance between two lifelines.
const MIN_GAP: usize = 6;
/// The narrowest a label is wrapped to before the width is exceeded.
const MIN_LABEL_WIDTH: usize = 10;
/// Columns between the rightmost drawing and the remark column.
const REMARK_GAP: usize = 3;
/// The narrowest remark column.
const MIN_REMARK_WIDTH: usize = 24;
/// Columns a self-message loop takes right of its lifeline.
const LOOP_WIDTH: usize = 3;
/// The heading of the time column.
const TIME_HEADING: &str = "time";

/// How the diagram is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// The total columns the output should fit in.
    pub width: usize,
    /// Whether to draw with Unicode box-drawing characters instead of ASCII.
    pub unicode: bool,
}

impl Default for Options {
    /// Returns 80 columns of ASCII, the classic terminal size.
    fn default() -> Self {
        Options {
            width: 80,
            unicode: false,
        }
    }
}

/// A column of marks left of the times, and lines that replace the seed line.
#[derive(Clone, Copy, Debug)]
pub struct Margin<'a> {
    /// One mark per message of the trace; a space leaves its rows unmarked.
    pub marks: &'a [char],
    /// Lines written under the title instead of `seed N`.
    pub heading: &'a [String],
}

/// Draws the trace as a text sequence diagram ending in one newline.
pub fn render(trace: &Trace, options: &Options) -> String {
    let seed_line = [format!("seed {}", trace.seed)];
    draw(trace, options, &[], &seed_line)
}

/// Draws the trace with a mark before each message's rows.
pub fn render_with_margin(trace: &Trace, options: &Options, margin: &Margin) -> String {
    draw(trace, options, margin.marks, margin.heading)
}

/// Draws the title, the heading lines and the diagram.
fn draw(trace: &Trace, options: &Options, marks: &[char], heading: &[String]) -> String {
    let diagram = prepare(trace, marks);
    let layout = fit(&diagram, options.width);
    let glyphs = if options.unicode { &UNICODE } else { &ASCII };

    let mut lines: Vec<String> = wrap(&diagram.title, options.width.max(1))
        .iter()
        .map(|line| line_text(line))
        .collect();
    lines.extend(heading.iter().cloned());
    lines.push(String::new());
    let rows = header_rows(&diagram, &layout)
        .into_iter()
        .chain(body_rows(&diagram, &layout, glyphs));
    lines.extend(rows.map(Row::into_string));

    let mut out = String::new();
    for line in &lines {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The characters lifelines and arrows are drawn with.
struct Glyphs {
    lifeline: char,
    line: char,
    head_right: char,
    head_left: char,
    lost: char,
    loop_top: char,
    loop_bottom: char,
    event: char,
}

/// Plain ASCII drawing characters.
const ASCII: Glyphs = Glyphs {
    lifeline: '|',
    line: '-',
    head_right: '>',
    head_left: '<',
    lost: 'X',
    loop_top: '.',
    loop_bottom: '\'',
    event: '*',
};

/// Unicode box-drawing characters.
const UNICODE: Glyphs = Glyphs {
    lifeline: '│',
    line: '─',
    head_right: '▶',
    head_left: '◀',
    lost: '✕',
    loop_top: '┐',
    loop_bottom: '┘',
    event: '◆',
};

// ---------------------------------------------------------------------------
// Text measured in display columns.

/// One visible character with the zero-width characters that follow it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Cluster {
    text: String,
    width: usize,
}

/// A run of clusters drawn on one row.
type Line = Vec<Cluster>;

/// Replaces a character that would break the drawing (or move a
/// terminal's cursor) with U+FFFD.
fn printable(c: char) -> char {
    let bidi_control = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if breaks_lines(c) || bidi_control {
        '\u{FFFD}'
    } else {
        c
    }
}

/// Returns a title on one line, each character that would
/// break a line or a drawing shown as U+FFFD, as this diagram draws it;
/// the PlantUML, Mermaid and mscgen sources write their titles so.
pub fn printable_title(title: &str) -> String {
    title.chars().map(printable).collect()
}

/// Splits text into clusters whose widths add up to the text's width.
fn clusters(text: &str) -> Line {
    let mut line: Line = Vec::new();
    for c in text.chars().map(printable) {
        match line.last_mut() {
            Some(last) if joins_previous(&last.text, c) => {
                last.text.push(c);
                last.width = last.text.width();
            }
            _ => line.push(Cluster {
                text: c.to_string(),
                width: c.width().unwrap_or(0),
            }),
        }
    }
    give_base(&mut line);
    line
}

/// Tells whether a character belongs to the cluster before it.
fn joins_previous(previous: &str, next: char) -> bool {
    let alone = next.width().unwrap_or(0);
    let joined = format!("{previous}{next}").width();
    alone == 0 || joined <= previous.width()
}

/// Puts a space under a leading zero-width cluster so it takes a column.
fn give_base(line: &mut Line) {
    if let Some(first) = line.first_mut().filter(|first| first.width == 0) {
        first.text.insert(0, ' ');
        first.width = first.text.width();
    }
}

/// Returns the display width of a line.
fn line_width(line: &[Cluster]) -> usize {
    line.iter().map(|cluster| cluster.width).sum()
}

/// Returns the width of the widest of several lines.
fn widest(lines: &[Line]) -> usize {
    lines.iter().map(|line| line_width(line)).max().unwrap_or(0)
}

/// Returns the text of a line as a string.
fn line_text(line: &[Cluster]) -> String {
    line.iter().map(|cluster| cluster.text.as_str()).collect()
}

/// Returns a single space cluster.
fn space() -> Cluster {
    Cluster {
        text: " ".to_string(),
        width: 1,
    }
}

/// Wraps text at spaces into lines of at most `limit` columns.
///
/// Each line break replaces one space; a word wider than the limit is
/// broken between characters. Nothing else is added or dropped, and the
/// result always has at least one line.
fn wrap(text: &[Cluster], limit: usize) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut line = Vec::new();
    let mut started = false;
    for word in text.split(|cluster| cluster.text == " ") {
        if started && line_width(&line) + 1 + line_width(word) <= limit {
            line.push(space());
            line.extend_from_slice(word);
            continue;
        }
        if started {
            lines.push(std::mem::take(&mut line));
        }
        started = true;
        break_word(&mut lines, &mut line, word, limit);
    }
    lines.push(line);
    lines
}

/// Wraps a label, starting a new line after each written-out line feed
/// (`\n`) when the label holds several lines, such as a mail message.
fn wrap_label(label: &[Cluster], limit: usize) -> Vec<Line> {
    let ends_of_lines = label
        .windows(2)
        .enumerate()
        .filter(|(_, pair)| pair[0].text == "\\" && pair[1].text == "n");
    let mut pieces = Vec::new();
    let mut start = 0;
    for (at, _) in ends_of_lines {
        pieces.push(&label[start..at + 2]);
        start = at + 2;
    }
    if start < label.len() {
        pieces.push(&label[start..]);
    }
    if pieces.len() <= 1 {
        return wrap(label, limit);
    }
    let first = pieces[0];
    let rest = pieces[1..]
        .iter()
        .map(|piece| without_leading_spaces(piece));
    std::iter::once(first)
        .chain(rest)
        .flat_map(|piece| wrap(piece, limit))
        .collect()
}

/// Returns a piece of a label from its first cluster that is not a
/// space, so a line that starts after a `\n` is centred on its text.
fn without_leading_spaces(piece: &[Cluster]) -> &[Cluster] {
    let spaces = piece.iter().take_while(|c| c.text == " ").count();
    &piece[spaces..]
}

/// Starts an empty line with a word, breaking it where it passes the limit.
fn break_word(lines: &mut Vec<Line>, line: &mut Line, word: &[Cluster], limit: usize) {
    let mut rest = word;
    while line_width(rest) > limit {
        let cut = word_cut(rest, limit);
        lines.push(rest[..cut].to_vec());
        rest = &rest[cut..];
    }
    line.extend_from_slice(rest);
}

/// Returns how many clusters of a too-long word go on one line.
///
/// The cut prefers to follow punctuation (or precede a backslash escape)
/// when that keeps at least half the line filled; otherwise it falls
/// exactly at the limit.
fn word_cut(word: &[Cluster], limit: usize) -> usize {
    let mut fitting = 0;
    let mut width = 0;
    for cluster in word {
        if fitting > 0 && width + cluster.width > limit {
            break;
        }
        width += cluster.width;
        fitting += 1;
    }
    let soft = (1..fitting).rev().find(|&cut| {
        breaks_between(&word[cut - 1], &word[cut]) && 2 * line_width(&word[..cut]) >= limit
    });
    soft.unwrap_or(fitting)
}

/// Tells whether a long word reads well broken between two clusters.
fn breaks_between(before: &Cluster, after: &Cluster) -> bool {
    let punctuation = [".", ",", ";", ":", "-", "/", "@", "=", "&"];
    punctuation.contains(&before.text.as_str()) || after.text == "\\"
}

/// Splits a remark into paragraphs at its line breaks, spaces collapsed.
fn paragraphs(remark: &str) -> Vec<Line> {
    remark
        .lines()
        .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|paragraph| !paragraph.is_empty())
        .map(|paragraph| clusters(&paragraph))
        .collect()
}

/// Returns how many columns a name takes left of the column it centres on.
fn left_half(width: usize) -> usize {
    width.saturating_sub(1) / 2
}

/// Returns how many columns a name takes right of the column it centres on.
fn right_half(width: usize) -> usize {
    width.saturating_sub(1) - left_half(width)
}

// ---------------------------------------------------------------------------
// The trace, prepared for drawing.

/// A consecutive run of participants under one group header.
struct Group {
    first: usize,
    last: usize,
    name: Line,
}

/// What a step draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StepKind {
    /// A message: an arrow from one lifeline to another, or a loop.
    Message,
    /// Something that happened on one lifeline: a mark on it, the label
    /// beside the mark.
    Event,
}

/// One message or lifeline event, with its participants resolved to
/// column indexes (an event's `from` and `to` are its lifeline).
struct Step {
    kind: StepKind,
    mark: char,
    time: Line,
    from: usize,
    to: usize,
    lost: bool,
    label: Line,
    remark: Vec<Line>,
}

impl Step {
    /// Tells whether the step stays on one lifeline, its label right of
    /// it: a message to the sender itself, or an event.
    fn is_loop(&self) -> bool {
        self.from == self.to
    }

    /// Tells whether the step is a lifeline event.
    fn is_event(&self) -> bool {
        self.kind == StepKind::Event
    }
}

/// Everything the drawing needs, measured.
struct Diagram {
    title: Line,
    names: Vec<Line>,
    groups: Vec<Group>,
    steps: Vec<Step>,
    marked: bool,
}

/// Columns the margin of marks takes: the mark and a space.
const MARGIN_WIDTH: usize = 2;

/// Measures the trace's text and resolves participant ids.
fn prepare(trace: &Trace, marks: &[char]) -> Diagram {
    let mut columns = BTreeMap::new();
    for (index, participant) in trace.participants.iter().enumerate() {
        columns.entry(participant.id.as_str()).or_insert(index);
    }
    Diagram {
        title: clusters(&trace.title),
        names: trace
            .participants
            .iter()
            .map(|p| clusters(&p.name))
            .collect(),
        groups: group_runs(&trace.participants),
        steps: steps(trace, marks, &columns),
        marked: !marks.is_empty(),
    }
}

/// Prepares the messages in order, each lifeline event just above the
/// message it comes before; a step naming an unknown participant is left out.
fn steps(trace: &Trace, marks: &[char], columns: &BTreeMap<&str, usize>) -> Vec<Step> {
    let mut events = trace.events.iter().peekable();
    let mut steps = Vec::new();
    for (index, message) in trace.messages.iter().enumerate() {
        while let Some(event) = events.next_if(|event| event.before <= index) {
            steps.extend(event_step(event, columns));
        }
        let mark = marks.get(index).copied().unwrap_or(' ');
        steps.extend(step(message, mark, columns));
    }
    steps.extend(events.filter_map(|event| event_step(event, columns)));
    steps
}

/// Prepares one lifeline event, or nothing if its participant is unknown.
fn event_step(event: &LifelineEvent, columns: &BTreeMap<&str, usize>) -> Option<Step> {
    let column = *columns.get(event.participant.as_str())?;
    Some(Step {
        kind: StepKind::Event,
        mark: ' ',
        time: clusters(&event.at_text),
        from: column,
        to: column,
        lost: false,
        label: clusters(&event.label),
        remark: Vec::new(),
    })
}

/// Collects runs of neighbouring participants that share a group name.
fn group_runs(participants: &[Participant]) -> Vec<Group> {
    let mut groups: Vec<(usize, usize, &str)> = Vec::new();
    for (index, participant) in participants.iter().enumerate() {
        let Some(name) = participant.group.as_deref() else {
            continue;
        };
        match groups.last_mut() {
            Some(run) if run.1 + 1 == index && run.2 == name => run.1 = index,
            _ => groups.push((index, index, name)),
        }
    }
    groups
        .into_iter()
        .map(|(first, last, name)| Group {
            first,
            last,
            name: clusters(name),
        })
        .collect()
}

/// Prepares one message, or nothing if it names an unknown participant.
fn step(message: &Message, mark: char, columns: &BTreeMap<&str, usize>) -> Option<Step> {
    Some(Step {
        kind: StepKind::Message,
        mark,
        time: clusters(&message.sent_at_text),
        from: *columns.get(message.from.as_str())?,
        to: *columns.get(message.to.as_str())?,
        lost: message.received_at.is_none(),
        label: clusters(&message.label),
        remark: message
            .remark
            .as_deref()
            .map(paragraphs)
            .unwrap_or_default(),
    })
}

// ---------------------------------------------------------------------------
// Choosing the columns.

/// Where everything goes, in columns from the left edge.
struct Layout {
    time_width: usize,
    lifelines: Vec<usize>,
    label_limit: usize,
    remark: Option<RemarkColumn>,
}

/// The column remarks are written in.
struct RemarkColumn {
    x: usize,
    width: usize,
}

/// The lifeline positions relative to the left edge of their area.
struct Area {
    lifelines: Vec<usize>,
    /// Columns taken by everything, names and group headers included.
    width: usize,
    /// Columns taken by the rows below the names, where remarks go too.
    body_width: usize,
}

/// Lays the diagram out to fit `width` columns if it can.
fn fit(diagram: &Diagram, width: usize) -> Layout {
    let widest_time = diagram.steps.iter().map(|step| line_width(&step.time));
    let margin = if diagram.marked { MARGIN_WIDTH } else { 0 };
    let time_width = widest_time.max().unwrap_or(0).max(TIME_HEADING.width()) + margin;
    let lead = time_width + TIME_GAP;
    let has_remarks = diagram.steps.iter().any(|step| !step.remark.is_empty());
    let reserve = if has_remarks {
        REMARK_GAP + remark_share(width)
    } else {
        0
    };

    let fits =
        |area: &Area| lead + area.width <= width && lead + area.body_width + reserve <= width;
    let label_limit = label_limit(diagram, fits);
    let area = arrange(diagram, label_limit);
    let remark = has_remarks.then(|| {
        let x = lead + area.body_width + REMARK_GAP;
        let width = width.saturating_sub(x).max(MIN_REMARK_WIDTH);
        RemarkColumn { x, width }
    });
    Layout {
        time_width,
        lifelines: area.lifelines.iter().map(|x| x + lead).collect(),
        label_limit,
        remark,
    }
}

/// Returns the columns kept for remarks: a third of the width, at least
/// [`MIN_REMARK_WIDTH`], so long labels wrap before remarks get squeezed.
fn remark_share(width: usize) -> usize {
    (width / 3).max(MIN_REMARK_WIDTH)
}

/// Finds the widest label wrapping whose arrangement `fits` accepts.
///
/// Falls back to the narrowest wrapping allowed when none is accepted.
fn label_limit(diagram: &Diagram, fits: impl Fn(&Area) -> bool) -> usize {
    let longest = diagram.steps.iter().map(|step| line_width(&step.label));
    let mut too_wide = longest.max().unwrap_or(0).max(2);
    let mut enough = too_wide.min(MIN_LABEL_WIDTH);
    if fits(&arrange(diagram, too_wide)) {
        return too_wide;
    }
    if !fits(&arrange(diagram, enough)) {
        return enough;
    }
    while too_wide - enough > 1 {
        let middle = enough + (too_wide - enough) / 2;
        if fits(&arrange(diagram, middle)) {
            enough = middle;
        } else {
            too_wide = middle;
        }
    }
    enough
}

/// Places the lifelines for labels wrapped at `label_limit` columns.
fn arrange(diagram: &Diagram, label_limit: usize) -> Area {
    if diagram.names.is_empty() {
        return Area {
            lifelines: Vec::new(),
            width: 0,
            body_width: 0,
        };
    }
    let mut gaps = name_gaps(&diagram.names);
    for (low, high, width) in label_spans(diagram, label_limit) {
        widen(&mut gaps[low..high], width + 2 * LABEL_PADDING + 1);
    }
    widen_for_groups(&mut gaps, diagram);

    let xs = positions(&gaps);
    let body_right = body_extent(diagram, &xs, label_limit);
    let (left, right) = header_extent(diagram, &xs);
    let left = left.min(0);
    Area {
        lifelines: xs.iter().map(|x| (x - left) as usize).collect(),
        width: (right.max(body_right) - left + 1) as usize,
        body_width: (body_right - left + 1) as usize,
    }
}

/// Returns the smallest gaps that keep neighbouring names apart.
fn name_gaps(names: &[Line]) -> Vec<usize> {
    names
        .windows(2)
        .map(|pair| {
            let room = right_half(line_width(&pair[0])) + left_half(line_width(&pair[1]));
            (room + NAME_SPACING + 1).max(MIN_GAP)
        })
        .collect()
}

/// Lists each label's span of gaps and its width, narrowest spans first.
fn label_spans(diagram: &Diagram, label_limit: usize) -> Vec<(usize, usize, usize)> {
    let last = diagram.names.len() - 1;
    let mut spans: Vec<(usize, usize, usize)> = diagram
        .steps
        .iter()
        .filter(|step| !(step.is_loop() && step.from == last))
        .map(|step| {
            let low = step.from.min(step.to);
            let high = step.from.max(step.to).max(low + 1);
            (low, high, widest(&wrap_label(&step.label, label_limit)))
        })
        .collect();
    spans.sort_by_key(|&(low, high, _)| (high - low, low));
    spans
}

/// Grows the smallest of the gaps, one column at a time, until they add up to `total`.
fn widen(gaps: &mut [usize], total: usize) {
    let mut sum: usize = gaps.iter().sum();
    while sum < total {
        let smallest = gaps.iter().min().copied().unwrap_or(0);
        if let Some(gap) = gaps.iter_mut().find(|gap| **gap == smallest) {
            *gap += 1;
        }
        sum += 1;
    }
}

/// Moves group headers apart until neighbouring ones no longer touch.
fn widen_for_groups(gaps: &mut [usize], diagram: &Diagram) {
    for pair in diagram.groups.windows(2) {
        let xs = positions(gaps);
        let (_, end) = group_extent(&pair[0], &xs);
        let (start, _) = group_extent(&pair[1], &xs);
        let needed = end + NAME_SPACING as isize + 1 - start;
        if needed > 0 {
            gaps[pair[0].last] += needed as usize;
        }
    }
}

/// Returns each lifeline's position, the first at zero.
fn positions(gaps: &[usize]) -> Vec<isize> {
    let mut xs = vec![0isize];
    for gap in gaps {
        xs.push(xs[xs.len() - 1] + *gap as isize);
    }
    xs
}

/// Returns the first and last column a text takes when centred on `centre`.
fn centred_extent(centre: isize, width: usize) -> (isize, isize) {
    let start = centre - left_half(width) as isize;
    (start, start + width.max(1) as isize - 1)
}

/// Returns the first and last column of a group header.
fn group_extent(group: &Group, xs: &[isize]) -> (isize, isize) {
    let centre = (xs[group.first] + xs[group.last]).div_euclid(2);
    centred_extent(centre, line_width(&group.name))
}

/// Returns the leftmost and rightmost column of the names and group headers.
fn header_extent(diagram: &Diagram, xs: &[isize]) -> (isize, isize) {
    let names = diagram.names.iter().zip(xs);
    let mut spans: Vec<(isize, isize)> = names
        .map(|(name, &x)| centred_extent(x, line_width(name)))
        .collect();
    spans.extend(diagram.groups.iter().map(|group| group_extent(group, xs)));
    let left = spans.iter().map(|span| span.0).min().unwrap_or(0);
    let right = spans.iter().map(|span| span.1).max().unwrap_or(0);
    (left, right)
}

/// Returns the rightmost column lifelines, loops and their labels reach.
fn body_extent(diagram: &Diagram, xs: &[isize], label_limit: usize) -> isize {
    let last = xs.last().copied().unwrap_or(0);
    let loops = diagram.steps.iter().filter(|step| step.is_loop());
    let reaches = loops.map(|step| {
        let label = widest(&wrap_label(&step.label, label_limit));
        xs[step.from] + LOOP_WIDTH.max(LABEL_PADDING + label) as isize
    });
    reaches.fold(last, isize::max)
}

/// Returns the columns a step's label may take on one row.
fn label_room(step: &Step, layout: &Layout) -> usize {
    let xs = &layout.lifelines;
    let padding = 2 * LABEL_PADDING + 1;
    if step.is_loop() {
        return match xs.get(step.from + 1) {
            Some(next) => (next - xs[step.from]).saturating_sub(padding),
            None => layout.label_limit,
        };
    }
    xs[step.from].abs_diff(xs[step.to]).saturating_sub(padding)
}

/// Returns the columns a label block blanks, one beyond its text each side.
///
/// Blanking the whole box keeps a wrapped label that runs over a lifeline
/// from showing that lifeline on some of its lines and not on others.
fn label_box(step: &Step, layout: &Layout, x: usize, label_width: usize) -> (usize, usize) {
    let from = layout.lifelines[step.from];
    let (low, high) = if step.is_loop() {
        let next = layout.lifelines.get(step.from + 1);
        (from, next.copied().unwrap_or(usize::MAX))
    } else {
        let to = layout.lifelines[step.to];
        (from.min(to), from.max(to))
    };
    ((x - 1).max(low + 1), (x + label_width + 1).min(high))
}

/// Returns the column a step's label block starts at.
fn label_x(step: &Step, layout: &Layout, label_width: usize) -> usize {
    let from = layout.lifelines[step.from];
    if step.is_loop() {
        return from + LABEL_PADDING + 1;
    }
    let low = from.min(layout.lifelines[step.to]);
    let inside = from.abs_diff(layout.lifelines[step.to]) - 1;
    low + 1 + inside.saturating_sub(label_width) / 2
}

// ---------------------------------------------------------------------------
// Drawing rows.

/// One cell of a row.
#[derive(Clone, Debug)]
enum Cell {
    Blank,
    Glyph(String),
    WideTail,
}

/// One output row, as display columns.
struct Row {
    cells: Vec<Cell>,
}

impl Row {
    /// Creates an empty row.
    fn blank() -> Row {
        Row { cells: Vec::new() }
    }

    /// Creates a row holding only the lifelines.
    fn lifelines(layout: &Layout, glyphs: &Glyphs) -> Row {
        let mut row = Row::blank();
        for &x in &layout.lifelines {
            row.put_char(x, glyphs.lifeline);
        }
        row
    }

    /// Writes one character at column `x`.
    fn put_char(&mut self, x: usize, c: char) {
        let width = c.width().unwrap_or(1).max(1);
        self.put(x, c.to_string(), width);
    }

    /// Writes a character repeatedly over the columns `from..to`.
    fn fill(&mut self, from: usize, to: usize, c: char) {
        for x in from..to {
            self.put_char(x, c);
        }
    }

    /// Writes a line of text starting at column `x`.
    fn put_line(&mut self, x: usize, line: &[Cluster]) {
        let mut at = x;
        for cluster in line {
            self.put(at, cluster.text.clone(), cluster.width);
            at += cluster.width;
        }
    }

    /// Writes a cluster `width` columns wide at `x`, clearing what it cuts.
    fn put(&mut self, x: usize, text: String, width: usize) {
        let width = width.max(1);
        if self.cells.len() < x + width {
            self.cells.resize(x + width, Cell::Blank);
        }
        self.clear_cut_clusters(x, x + width);
        self.cells[x] = Cell::Glyph(text);
        for cell in &mut self.cells[x + 1..x + width] {
            *cell = Cell::WideTail;
        }
    }

    /// Blanks the parts of wide clusters that `from..to` would cut in two.
    fn clear_cut_clusters(&mut self, from: usize, to: usize) {
        let mut head = from;
        while head > 0 && matches!(self.cells[head], Cell::WideTail) {
            head -= 1;
        }
        for cell in &mut self.cells[head..from] {
            *cell = Cell::Blank;
        }
        let mut tail = to;
        while matches!(self.cells.get(tail), Some(Cell::WideTail)) {
            self.cells[tail] = Cell::Blank;
            tail += 1;
        }
    }

    /// Returns the row as text, trailing spaces removed.
    fn into_string(self) -> String {
        let mut text = String::new();
        for cell in self.cells {
            match cell {
                Cell::Blank => text.push(' '),
                Cell::Glyph(glyph) => text.push_str(&glyph),
                Cell::WideTail => {}
            }
        }
        text.trim_end().to_string()
    }
}

/// Draws the group header row and the participant name row.
fn header_rows(diagram: &Diagram, layout: &Layout) -> Vec<Row> {
    let xs: Vec<isize> = layout.lifelines.iter().map(|&x| x as isize).collect();
    let mut rows = Vec::new();
    if !diagram.groups.is_empty() {
        let mut row = Row::blank();
        for group in &diagram.groups {
            let (start, _) = group_extent(group, &xs);
            row.put_line(start.max(0) as usize, &group.name);
        }
        rows.push(row);
    }
    if !diagram.names.is_empty() {
        let mut row = Row::blank();
        for (name, &x) in diagram.names.iter().zip(&xs) {
            let (start, _) = centred_extent(x, line_width(name));
            row.put_line(start.max(0) as usize, name);
        }
        rows.push(row);
    }
    rows
}

/// Draws the time heading, every step, and a closing row of lifelines.
fn body_rows(diagram: &Diagram, layout: &Layout, glyphs: &Glyphs) -> Vec<Row> {
    let mut heading = Row::lifelines(layout, glyphs);
    heading.put_line(
        layout.time_width - TIME_HEADING.width(),
        &clusters(TIME_HEADING),
    );
    let mut rows = vec![heading];
    let mut remark_touches_next = false;
    for step in &diagram.steps {
        let block = block(step, layout, glyphs);
        if remark_touches_next && !step.remark.is_empty() {
            rows.push(Row::lifelines(layout, glyphs));
        }
        remark_touches_next = block.remark_reaches_last_row;
        rows.extend(block.rows);
    }
    if !layout.lifelines.is_empty() {
        rows.push(Row::lifelines(layout, glyphs));
    }
    rows
}

/// The rows of one step.
struct Block {
    rows: Vec<Row>,
    remark_reaches_last_row: bool,
}

/// Draws one step: time, label lines, arrow, and remark.
fn block(step: &Step, layout: &Layout, glyphs: &Glyphs) -> Block {
    let labels = wrap_label(&step.label, label_room(step, layout));
    let remark = remark_lines(step, layout);
    let arrow_rows = match step.kind {
        StepKind::Event => 0,
        StepKind::Message if step.is_loop() && !step.lost => 2,
        StepKind::Message => 1,
    };
    let drawing = labels.len() + arrow_rows;
    let height = drawing.max(remark.len());
    let mut rows: Vec<Row> = (0..height)
        .map(|_| Row::lifelines(layout, glyphs))
        .collect();

    rows[0].put_line(
        layout.time_width.saturating_sub(line_width(&step.time)),
        &step.time,
    );
    let x = label_x(step, layout, widest(&labels));
    let (clear_from, clear_to) = label_box(step, layout, x, widest(&labels));
    for (row, label) in rows.iter_mut().zip(&labels) {
        row.fill(clear_from, clear_to, ' ');
        row.put_line(x, label);
    }
    if step.is_event() {
        rows[0].put_char(layout.lifelines[step.from], glyphs.event);
    } else {
        draw_arrow(&mut rows[labels.len()..drawing], step, layout, glyphs);
    }
    if let Some(column) = &layout.remark {
        for (row, line) in rows.iter_mut().zip(&remark) {
            row.put_line(column.x, line);
        }
    }
    if step.mark != ' ' {
        rows.iter_mut().for_each(|row| row.put_char(0, step.mark));
    }
    Block {
        rows,
        remark_reaches_last_row: !remark.is_empty() && remark.len() >= drawing,
    }
}

/// Wraps a step's remark to the remark column.
fn remark_lines(step: &Step, layout: &Layout) -> Vec<Line> {
    let Some(column) = &layout.remark else {
        return Vec::new();
    };
    let paragraphs = step.remark.iter();
    paragraphs
        .flat_map(|paragraph| wrap(paragraph, column.width))
        .collect()
}

/// Draws a step's arrow over its arrow rows.
fn draw_arrow(rows: &mut [Row], step: &Step, layout: &Layout, glyphs: &Glyphs) {
    if step.is_loop() {
        draw_loop(rows, layout.lifelines[step.from], step.lost, glyphs);
        return;
    }
    let from = layout.lifelines[step.from];
    let to = layout.lifelines[step.to];
    let (end, head) = match (step.lost, to > from) {
        (true, _) => (lost_end(from, to, &layout.lifelines), glyphs.lost),
        (false, true) => (to - 1, glyphs.head_right),
        (false, false) => (to + 1, glyphs.head_left),
    };
    rows[0].fill(from.min(end) + 1, from.max(end), glyphs.line);
    rows[0].put_char(end, head);
}

/// Returns where a lost message's arrow ends: halfway, clear of lifelines.
///
/// An end that would fall on or beside a lifeline it crosses moves two
/// columns past it, towards the target, so the arrow never seems to reach
/// the participant it only passes.
fn lost_end(from: usize, to: usize, lifelines: &[usize]) -> usize {
    let middle = (from + to) / 2;
    let crossed = lifelines.iter().find(|&&x| x.abs_diff(middle) <= 1);
    match crossed {
        Some(&x) if to > from => x + 2,
        Some(&x) => x - 2,
        None => middle,
    }
}

/// Draws a message to the sender itself as a small loop to the right.
fn draw_loop(rows: &mut [Row], x: usize, lost: bool, glyphs: &Glyphs) {
    let corner = x + LOOP_WIDTH;
    rows[0].fill(x + 1, corner, glyphs.line);
    if lost {
        rows[0].put_char(corner, glyphs.lost);
        return;
    }
    rows[0].put_char(corner, glyphs.loop_top);
    rows[1].put_char(x + 1, glyphs.head_left);
    rows[1].fill(x + 2, corner, glyphs.line);
    rows[1].put_char(corner, glyphs.loop_bottom);
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

    use super::{Options, render};
    use crate::time::SimTime;
    use crate::trace::{Layer, Message, Participant, Trace, Transport};

    const ASCII_100: Options = Options {
        width: 100,
        unicode: false,
    };

    fn participant(id: &str, name: &str, group: Option<&str>) -> Participant {
        Participant {
            id: id.to_string(),
            name: name.to_string(),
            group: group.map(str::to_string),
            host: format!("{id}.example"),
            address: Ipv4Addr::new(192, 0, 2, 1),
        }
    }

    /// Builds a delivered message sent at `index` tens of milliseconds.
    fn message(index: usize, from: &str, to: &str, label: &str) -> Message {
        let nanos = index as u64 * 10_000_000;
        Message {
            index,
            sent_at: SimTime::from_nanos(nanos),
            sent_at_text: format!("{}.{:06}", nanos / 1_000_000_000, nanos / 1_000 % 1_000_000),
            received_at: Some(SimTime::from_nanos(nanos + 5_000_000)),
            lost: None,
            why: crate::trace::SendReason::First,
            from: from.to_string(),
            to: to.to_string(),
            src_address: Ipv4Addr::new(192, 0, 2, 1),
            src_port: 49152,
            dst_address: Ipv4Addr::new(192, 0, 2, 2),
            dst_port: 25,
            transport: Transport::Tcp,
            layer: Layer::Tcp,
            label: label.to_string(),
            tcp: None,
            dns: None,
            smtp: None,
            payload: None,
            payload_hex: None,
            payload_len: 0,
            dns_len: 0,
            remark: None,
        }
    }

    fn with_remark(mut message: Message, remark: &str) -> Message {
        message.remark = Some(remark.to_string());
        message
    }

    fn lost(mut message: Message) -> Message {
        message.received_at = None;
        message
    }

    fn trace(participants: Vec<Participant>, messages: Vec<Message>) -> Trace {
        Trace {
            title: "SMTP e-mail send".to_string(),
            seed: 1,
            participants,
            messages,
            deliveries: Vec::new(),
            outcomes: Vec::new(),
            events: Vec::new(),
        }
    }

    fn mail_participants() -> Vec<Participant> {
        vec![
            participant("sender", "SMTP Sender", Some("Sender")),
            participant("dns", "DNS", Some("Internet")),
            participant("receiver", "SMTP Receiver", Some("Receiver")),
        ]
    }

    /// The 3-participant exchange used to judge the drawing by eye.
    fn mail_trace() -> Trace {
        let messages = vec![
            with_remark(
                message(0, "sender", "dns", "DNS query MX receiver.com"),
                "The sending server first asks the resolver for the MX record of receiver.com.",
            ),
            with_remark(
                message(
                    1,
                    "dns",
                    "sender",
                    "DNS answer: receiver.com MX 10 mail.receiver.com; \
                     additional: mail.receiver.com A 66.218.71.63",
                ),
                "The best mail exchanger, with its address added.",
            ),
            with_remark(
                message(2, "sender", "receiver", "SYN 49152 -> 25 seq=0"),
                "The three-way handshake starts, to TCP port 25.",
            ),
            lost(message(3, "receiver", "sender", "SYN, ACK seq=0 ack=1")),
            message(4, "receiver", "sender", "SYN, ACK seq=0 ack=1"),
            with_remark(
                message(5, "sender", "receiver", "ACK seq=1 ack=1"),
                "Connection established.",
            ),
            with_remark(
                message(
                    6,
                    "receiver",
                    "sender",
                    r"220 mail.receiver.com SMTP Ready\r\n",
                ),
                "220: the receiver is ready to transact.",
            ),
            message(7, "receiver", "dns", "PTR 125.3.107.192.in-addr.arpa"),
            message(8, "dns", "dns", "cache lookup"),
            message(9, "dns", "receiver", "PTR answer: mail.sender.com"),
        ];
        trace(mail_participants(), messages)
    }

    /// Returns the display column of the character starting at byte `index`.
    fn column_at(line: &str, index: usize) -> usize {
        line[..index].width()
    }

    /// Returns the visible character drawn at display column `column`, if any.
    fn char_at(line: &str, column: usize) -> Option<char> {
        line.char_indices()
            .find(|&(index, c)| column_at(line, index) == column && c.width() != Some(0))
            .map(|(_, c)| c)
    }

    /// Finds each participant's lifeline column from the centre of its name.
    fn lifeline_columns(output: &str, names: &[&str]) -> Vec<usize> {
        let row = output
            .lines()
            .find(|line| names.iter().all(|name| line.contains(name)))
            .expect("a row holds every participant name");
        names
            .iter()
            .map(|name| {
                let start = column_at(row, row.find(name).unwrap());
                start + (name.width() - 1) / 2
            })
            .collect()
    }

    /// Returns the rows under the `time` heading row, that row included.
    fn body(output: &str) -> Vec<&str> {
        let lines: Vec<&str> = output.lines().collect();
        let heading = lines
            .iter()
            .position(|line| line.trim_start().starts_with("time"))
            .expect("a time heading row");
        lines[heading..].to_vec()
    }

    #[test]
    fn prints_a_board_ready_example() {
        let trace = mail_trace();
        for unicode in [false, true] {
            let output = render(
                &trace,
                &Options {
                    width: 100,
                    unicode,
                },
            );
            println!("{output}");
            assert!(output.lines().all(|line| line.width() <= 100));
        }
        let narrow = render(
            &trace,
            &Options {
                width: 80,
                unicode: false,
            },
        );
        println!("{narrow}");
    }

    /// Returns the characters drawn in display columns `from..to`.
    fn columns(line: &str, from: usize, to: usize) -> String {
        line.char_indices()
            .filter(|&(index, _)| (from..to).contains(&column_at(line, index)))
            .map(|(_, c)| c)
            .collect()
    }

    /// Returns the index of the first line at or after `from` holding `text`.
    fn row_with(lines: &[&str], from: usize, text: &str) -> usize {
        (from..lines.len())
            .find(|&index| lines[index].contains(text))
            .unwrap_or_else(|| panic!("no row holds {text:?}"))
    }

    /// A trace whose messages all go between neighbouring columns.
    fn neighbour_trace() -> Trace {
        let messages = vec![
            with_remark(
                message(0, "sender", "dns", "query MX receiver.com"),
                "A remark long enough to need several lines of the remark column, \
                 so the block grows rows that only continue the lifelines.",
            ),
            message(1, "dns", "sender", "answer mail.receiver.com 66.218.71.63"),
            message(2, "dns", "receiver", "notify"),
            lost(message(3, "receiver", "dns", "lost reply")),
            message(4, "dns", "dns", "self check"),
            message(5, "receiver", "receiver", "timer"),
        ];
        trace(mail_participants(), messages)
    }

    /// Asserts every body row draws a lifeline at each of `xs`.
    fn assert_lifelines(output: &str, xs: &[usize], lifeline: char) {
        for line in body(output) {
            for &x in xs {
                assert_eq!(char_at(line, x), Some(lifeline), "column {x} of {line:?}");
            }
        }
    }

    #[test]
    fn every_line_fits_the_width() {
        for width in (80..=160).step_by(7) {
            let output = render(
                &mail_trace(),
                &Options {
                    width,
                    unicode: true,
                },
            );
            for line in output.lines() {
                assert!(line.width() <= width, "{line:?} is over {width}");
            }
        }
        let short = trace(
            vec![participant("a", "A", None), participant("b", "B", None)],
            vec![message(0, "a", "b", &"word ".repeat(30))],
        );
        let output = render(
            &short,
            &Options {
                width: 40,
                unicode: false,
            },
        );
        assert!(output.lines().all(|line| line.width() <= 40), "{output}");
    }

    #[test]
    fn lifelines_stay_in_their_columns_on_every_row() {
        let names = ["SMTP Sender", "DNS", "SMTP Receiver"];
        for width in [40, 60, 80, 100, 140] {
            for unicode in [false, true] {
                let output = render(&neighbour_trace(), &Options { width, unicode });
                let xs = lifeline_columns(&output, &names);
                assert_lifelines(&output, &xs, if unicode { '│' } else { '|' });
            }
        }
    }

    #[test]
    fn arrow_points_from_sender_to_receiver() {
        let messages = vec![
            message(0, "sender", "receiver", "hello"),
            message(1, "receiver", "sender", "world"),
        ];
        let output = render(&trace(mail_participants(), messages), &ASCII_100);
        let xs = lifeline_columns(&output, &["SMTP Sender", "DNS", "SMTP Receiver"]);
        let lines: Vec<&str> = output.lines().collect();

        let right = lines[row_with(&lines, 0, "hello") + 1];
        assert_eq!(char_at(right, xs[2] - 1), Some('>'));
        assert_eq!(
            columns(right, xs[0] + 1, xs[2] - 1),
            "-".repeat(xs[2] - xs[0] - 2)
        );
        let left = lines[row_with(&lines, 0, "world") + 1];
        assert_eq!(char_at(left, xs[0] + 1), Some('<'));
        assert_eq!(
            columns(left, xs[0] + 2, xs[2]),
            "-".repeat(xs[2] - xs[0] - 2)
        );
        assert_eq!(char_at(left, xs[2]), Some('|'));
    }

    #[test]
    fn multi_line_label_starts_a_row_after_each_written_line_feed() {
        let label = "From: Luke\\r\\nSubject: Hi\\r\\n\\r\\nHello\\r\\n";
        let messages = vec![message(0, "sender", "receiver", label)];
        let options = Options {
            width: 120,
            unicode: false,
        };
        let output = render(&trace(mail_participants(), messages), &options);
        let rows: Vec<&str> = output.lines().map(str::trim).collect();
        let find = |text: &str| rows.iter().position(|row| row.contains(text)).unwrap();
        let from = find("From: Luke\\r\\n");
        assert_eq!(find("Subject: Hi\\r\\n"), from + 1);
        assert!(rows[from + 2].contains("|  \\r\\n  "), "{}", rows[from + 2]);
        assert_eq!(find("Hello\\r\\n"), from + 3);
    }

    #[test]
    fn long_label_wraps_without_losing_characters() {
        let label = format!(
            "{} {} end\\r\\n",
            "MAIL FROM:<luke@sender.com> with a rather long tail of words".repeat(2),
            "x".repeat(45)
        );
        let messages = vec![message(0, "sender", "dns", &label)];
        let output = render(
            &trace(mail_participants(), messages),
            &Options {
                width: 60,
                unicode: false,
            },
        );
        let xs = lifeline_columns(&output, &["SMTP Sender", "DNS", "SMTP Receiver"]);
        let lines: Vec<&str> = output.lines().collect();
        let first = row_with(&lines, 0, "0.000000");
        let arrow = row_with(&lines, first, "->");
        assert!(arrow - first > 2, "the label wraps onto several lines");

        let pieces: Vec<String> = lines[first..arrow]
            .iter()
            .map(|line| columns(line, xs[0] + 1, xs[1]))
            .collect();
        for piece in &pieces {
            assert!(
                piece.starts_with("  ") && piece.ends_with("  "),
                "{piece:?}"
            );
        }
        let joined: String = pieces.concat().split_whitespace().collect();
        let expected: String = label.split_whitespace().collect();
        assert_eq!(joined, expected);
    }

    #[test]
    fn remark_wraps_into_remark_column() {
        let remark = "The receiver checks the name given in HELO against a pointer \
                      query for the sender's address before it accepts the greeting.";
        let messages = vec![with_remark(message(0, "sender", "dns", "HELO"), remark)];
        let width = 72;
        let output = render(
            &trace(mail_participants(), messages),
            &Options {
                width,
                unicode: false,
            },
        );
        let xs = lifeline_columns(&output, &["SMTP Sender", "DNS", "SMTP Receiver"]);
        let remark_rows: Vec<&str> = body(&output)
            .into_iter()
            .filter(|line| line.width() > xs[2] + 1)
            .collect();
        assert!(remark_rows.len() >= 3, "{output}");

        let start = |line: &str| {
            let tail = columns(line, xs[2] + 1, usize::MAX);
            xs[2] + 1 + tail.len() - tail.trim_start().len()
        };
        let column = start(remark_rows[0]);
        let mut words = Vec::new();
        for line in &remark_rows {
            assert_eq!(start(line), column, "{line:?}");
            assert!(line.width() <= width, "{line:?}");
            words.extend(
                columns(line, column, usize::MAX)
                    .split_whitespace()
                    .map(String::from),
            );
        }
        assert_eq!(words.join(" "), remark);
    }

    #[test]
    fn wide_characters_keep_alignment() {
        let participants = vec![
            participant("post", "郵便サーバー", Some("日本の送信側")),
            participant("emoji", "📮 Post", None),
            participant("dns", "DNS", Some("Internet")),
        ];
        let messages = vec![
            with_remark(
                message(0, "post", "emoji", "メール送信 📧"),
                "送信者が最初に 🚀 確認します。",
            ),
            message(1, "emoji", "post", "❤\u{fe0f} e\u{301} 👍🏽 ok"),
            message(2, "emoji", "dns", "問い合わせ"),
            message(3, "dns", "dns", "キャッシュ"),
        ];
        let trace = trace(participants, messages);
        for width in [40, 70, 100] {
            for unicode in [false, true] {
                let output = render(&trace, &Options { width, unicode });
                let xs = lifeline_columns(&output, &["郵便サーバー", "📮 Post", "DNS"]);
                assert_lifelines(&output, &xs, if unicode { '│' } else { '|' });
                if width >= 100 {
                    assert!(output.lines().all(|line| line.width() <= width), "{output}");
                }
            }
        }
    }

    #[test]
    fn lost_message_ends_short_with_a_mark() {
        let messages = vec![lost(message(0, "sender", "dns", "query"))];
        let output = render(&trace(mail_participants(), messages), &ASCII_100);
        let xs = lifeline_columns(&output, &["SMTP Sender", "DNS", "SMTP Receiver"]);
        let lines: Vec<&str> = output.lines().collect();
        let arrow = lines[row_with(&lines, 0, "query") + 1];

        let mark = column_at(arrow, arrow.find('X').expect("a lost mark"));
        assert!(xs[0] < mark && mark < xs[1]);
        assert_eq!(
            columns(arrow, xs[0] + 1, mark),
            "-".repeat(mark - xs[0] - 1)
        );
        assert_eq!(columns(arrow, mark + 1, xs[1]).trim(), "");
        assert_eq!(char_at(arrow, xs[1]), Some('|'));
    }

    #[test]
    fn lost_message_does_not_end_on_a_lifeline_it_crosses() {
        let output = render(&mail_trace(), &ASCII_100);
        let xs = lifeline_columns(&output, &["SMTP Sender", "DNS", "SMTP Receiver"]);
        let arrow = output
            .lines()
            .find(|line| line.contains("X-"))
            .expect("a lost mark");
        let mark = column_at(arrow, arrow.find("X-").unwrap());
        assert!(mark.abs_diff(xs[1]) > 1, "{arrow:?}");
        assert_eq!(char_at(arrow, xs[1]), Some('-'));
        assert_eq!(char_at(arrow, xs[2] - 1), Some('-'));
    }

    #[test]
    fn self_message_draws_a_loop() {
        let messages = vec![message(0, "dns", "dns", "cache lookup")];
        let output = render(&trace(mail_participants(), messages), &ASCII_100);
        let xs = lifeline_columns(&output, &["SMTP Sender", "DNS", "SMTP Receiver"]);
        let lines: Vec<&str> = output.lines().collect();
        let top = row_with(&lines, 0, "cache lookup") + 1;
        assert_eq!(columns(lines[top], xs[1], xs[1] + 4), "|--.");
        assert_eq!(columns(lines[top + 1], xs[1], xs[1] + 4), "|<-'");
    }

    #[test]
    fn unicode_uses_box_drawing() {
        let messages = vec![
            message(0, "sender", "receiver", "hello"),
            message(1, "receiver", "sender", "world"),
            lost(message(2, "sender", "dns", "gone")),
        ];
        let output = render(
            &trace(mail_participants(), messages),
            &Options {
                width: 100,
                unicode: true,
            },
        );
        let drawing: String = body(&output).concat();
        for glyph in ['│', '─', '▶', '◀', '✕'] {
            assert!(drawing.contains(glyph), "{glyph} missing");
        }
        for ascii in ['|', '-', '>', '<', 'X'] {
            assert!(!drawing.contains(ascii), "{ascii} found");
        }
    }

    #[test]
    fn no_trailing_spaces_and_one_final_newline() {
        for trace in [
            mail_trace(),
            neighbour_trace(),
            trace(Vec::new(), Vec::new()),
        ] {
            for width in [40, 80, 120] {
                let output = render(
                    &trace,
                    &Options {
                        width,
                        unicode: false,
                    },
                );
                assert!(output.ends_with('\n') && !output.ends_with("\n\n"));
                for line in output.lines() {
                    assert_eq!(line, line.trim_end(), "trailing space");
                }
            }
        }
    }

    #[test]
    fn control_characters_are_replaced() {
        let messages = vec![message(0, "sender", "dns", "a\tb\u{7}c\nd\re\u{202e}f")];
        let output = render(&trace(mail_participants(), messages), &ASCII_100);
        assert!(output.contains("a\u{fffd}b\u{fffd}c\u{fffd}d\u{fffd}e\u{fffd}f"));
        assert!(
            output
                .lines()
                .all(|line| !line.chars().any(char::is_control))
        );
    }

    #[test]
    fn same_input_same_bytes() {
        let trace = mail_trace();
        let first = render(&trace, &ASCII_100);
        assert_eq!(first, render(&trace.clone(), &ASCII_100));
        assert_eq!(first, render(&mail_trace(), &ASCII_100));
    }

    #[test]
    fn empty_trace_renders_header_only() {
        let output = render(&trace(mail_participants(), Vec::new()), &ASCII_100);
        let lines: Vec<&str> = output.lines().collect();
        assert_eq!(lines[..3], ["SMTP e-mail send", "seed 1", ""]);
        assert!(lines[3].contains("Sender") && lines[3].contains("Internet"));
        assert!(lines[4].contains("SMTP Receiver"));
        assert_eq!(lines.len(), 7, "{output}");
        assert_eq!(lines[5].matches('|').count(), 3);

        let nobody = render(&trace(Vec::new(), Vec::new()), &ASCII_100);
        assert_eq!(nobody, "SMTP e-mail send\nseed 1\n\ntime\n");
    }

    #[test]
    fn message_order_is_trace_order() {
        let labels = ["first", "second", "third", "fourth"];
        let messages = vec![
            message(0, "receiver", "sender", labels[0]),
            message(1, "sender", "dns", labels[1]),
            message(2, "dns", "receiver", labels[2]),
            message(3, "sender", "receiver", labels[3]),
        ];
        let output = render(&trace(mail_participants(), messages), &ASCII_100);
        let places: Vec<usize> = labels
            .iter()
            .map(|label| output.find(label).unwrap())
            .collect();
        assert!(places.windows(2).all(|pair| pair[0] < pair[1]), "{output}");
        let times: Vec<usize> = (0..4)
            .map(|i| output.find(&format!("0.0{i}0000")).unwrap())
            .collect();
        assert!(times.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn group_headers_do_not_overlap() {
        let participants = vec![
            participant("a", "A", Some("A very long group name")),
            participant("b", "B", Some("Another long group name")),
            participant("c", "C", None),
            participant("d", "D", Some("Third long group name")),
        ];
        let output = render(&trace(participants, Vec::new()), &ASCII_100);
        let groups = output.lines().nth(3).unwrap();
        assert!(groups.contains("A very long group name  "), "{groups:?}");
        assert!(groups.contains("Another long group name  "), "{groups:?}");
        assert!(groups.contains("Third long group name"), "{groups:?}");
    }

    #[test]
    fn many_participants_at_small_width_keep_alignment() {
        let names: Vec<String> = (0..9).map(|i| format!("Participant number {i}")).collect();
        let participants = names
            .iter()
            .enumerate()
            .map(|(i, name)| participant(&format!("p{i}"), name, Some("Grp")))
            .collect();
        let messages = (0..8)
            .map(|i| {
                message(
                    i,
                    &format!("p{i}"),
                    &format!("p{}", i + 1),
                    "a label of several words",
                )
            })
            .collect();
        let output = render(
            &trace(participants, messages),
            &Options {
                width: 40,
                unicode: false,
            },
        );
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_lifelines(&output, &lifeline_columns(&output, &refs), '|');
    }

    #[test]
    fn a_line_after_an_escaped_line_end_starts_under_the_one_above() {
        // "Hi\r\n (retransmission #1)" breaks after \n; the space that
        // joined the note must not push the second line one column right.
        let label = super::clusters(r"Hi\r\n (retransmission #1)");
        let lines = super::wrap_label(&label, 40);
        let texts: Vec<String> = lines
            .iter()
            .map(|line| line.iter().map(|c| c.text.as_str()).collect())
            .collect();
        assert_eq!(texts, [r"Hi\r\n", "(retransmission #1)"]);
    }
}
