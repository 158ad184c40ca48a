//! Gives the diagrams of every scenario (and test fixture) to the tools
//! that read them, PlantUML, mscgen and the Mermaid CLI, and checks that
//! each tool accepts the file and draws every label as the run wrote it:
//! the text in the SVG the tool makes must be the label's characters,
//! with nothing taken as markup, a statement end or a line break.
//!
//! The tools must be installed in CI (`.ci/run` does it); elsewhere these
//! tests print a note and pass when one is missing. The Mermaid CLI is
//! looked for in `$MERMAID_CLI_DIR/node_modules/.bin/mmdc` (by default
//! under `/opt/seqsim-checks/mermaid`), then on PATH; it drives Debian's
//! Chromium at `/usr/bin/chromium`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use seqsim::render::diagram::{self, Diagram, DrawnLine, Item, Piece, Wrapped};
use seqsim::render::{mermaid, msc, plantuml};
use seqsim::trace::Trace;

/// One scenario's diagram written to a scratch directory.
struct Written {
    name: String,
    file: PathBuf,
    trace: Trace,
}

/// Writes one dialect's diagram of every scenario into `directory`.
fn write_all(directory: &Path, extension: &str) -> Vec<Written> {
    let mut written = Vec::new();
    for path in common::scenario_files() {
        let (run, provenance) = common::run_with_provenance(&path);
        let name = common::stem(&path);
        let source = match extension {
            "puml" => plantuml::render(&run.trace, &provenance),
            "msc" => msc::render(&run.trace, &provenance),
            "mmd" => mermaid::render(&run.trace, &provenance),
            other => panic!("no dialect writes .{other}"),
        };
        let file = directory.join(format!("{name}.{extension}"));
        std::fs::write(&file, source).expect("the diagram is written");
        written.push(Written {
            name,
            file,
            trace: run.trace,
        });
    }
    written
}

/// Writes a drawn line as the reader should see it, with control
/// characters as `\r`-style escapes (`mscgen` names them `<CR>` instead).
fn shown(line: &DrawnLine, named_controls: bool) -> String {
    let mut text = String::new();
    for piece in line {
        match piece {
            Piece::Text(plain) => text.push_str(plain),
            Piece::Escape(written) if named_controls => text.push_str(&control_name(written)),
            Piece::Escape(written) => text.push_str(&format!("\\{written}")),
            Piece::Backslash => text.push('\\'),
        }
    }
    text.trim().to_string()
}

/// Names a control character as the mscgen output does.
fn control_name(written: &str) -> String {
    match written {
        "r" => "<CR>".to_string(),
        "n" => "<LF>".to_string(),
        "t" => "<TAB>".to_string(),
        other => format!("<0{other}>"),
    }
}

/// Collects the text of the SVG `<text>` elements with `marker` in their
/// opening tag, XML entities undone.
fn svg_texts(svg: &str, marker: &str) -> Vec<String> {
    let mut texts = Vec::new();
    for element in svg.split("<text").skip(1) {
        let Some((tag, rest)) = element.split_once('>') else {
            continue;
        };
        if !tag.contains(marker) {
            continue;
        }
        let content = rest.split("</text>").next().unwrap_or_default();
        texts.push(xml_unescape(&without_tags(content)).trim().to_string());
    }
    texts
}

/// Drops the tags (such as `<tspan>`) inside an element's content.
fn without_tags(content: &str) -> String {
    let mut text = String::with_capacity(content.len());
    let mut inside_tag = false;
    for character in content.chars() {
        match character {
            '<' => inside_tag = true,
            '>' if inside_tag => inside_tag = false,
            c if !inside_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// Undoes the XML character references an SVG writer uses.
fn xml_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find(';') else {
            break;
        };
        let entity = &rest[start + 1..start + end];
        match entity {
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "amp" => out.push('&'),
            "quot" => out.push('"'),
            "apos" => out.push('\''),
            numeric => out.push(numeric_reference(numeric).unwrap_or('\u{fffd}')),
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// Reads `#60` or `#x3C` as a character.
fn numeric_reference(entity: &str) -> Option<char> {
    let number = entity.strip_prefix('#')?;
    let value = match number.strip_prefix('x') {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => number.parse().ok()?,
    };
    char::from_u32(value)
}

/// Asserts that every expected line is among the tool's texts.
fn assert_all_drawn(name: &str, tool: &str, expected: &[String], drawn: &[String]) {
    for line in expected.iter().filter(|line| !line.is_empty()) {
        assert!(
            drawn.contains(line),
            "{name}: {tool} does not draw {line:?} as typed; it drew {drawn:#?}"
        );
    }
}

/// The lines of every label and, when asked, of every remark.
fn label_lines(diagram: &Diagram, named_controls: bool, with_remarks: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for arrow in &diagram.arrows {
        lines.extend(arrow.label.lines().map(|line| shown(line, named_controls)));
        if with_remarks {
            lines.extend(arrow.remark.lines().map(|line| shown(line, named_controls)));
        }
    }
    lines
}

/// The title and the participants' heading lines.
fn heading_lines(diagram: &Diagram) -> Vec<String> {
    let mut lines = vec![diagram.title.clone()];
    lines.extend(diagram.groups.iter().map(|group| group.name.clone()));
    lines.extend(
        diagram
            .members
            .iter()
            .flat_map(|member| member.heading.clone()),
    );
    lines
}

/// Returns PlantUML's own verdict on a file (`-syntax`): its diagram
/// type and participant count, or its error.
fn plantuml_verdict(plantuml: &Path, file: &Path) -> String {
    let source = std::fs::File::open(file).expect("the diagram opens");
    let (_, stdout, _) = common::run_tool(Command::new(plantuml).arg("-syntax").stdin(source));
    String::from_utf8_lossy(&stdout)
        .replace("\r\n", "\n")
        .trim_end()
        .to_string()
}

/// Has PlantUML draw all the files in one format (`-tsvg`, `-tpng`).
fn plantuml_draw(plantuml: &Path, format: &str, directory: &Path, files: &[&Path]) {
    let mut command = Command::new(plantuml);
    command.arg(format).arg("-o").arg(directory).args(files);
    let (status, stdout, stderr) = common::run_tool(&mut command);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        common::without_root_banner(&stderr)
    );
    assert_eq!(status, 0, "PlantUML {format} failed: {said}");
}

#[test]
fn plantuml_accepts_every_diagram_as_a_sequence_diagram_with_every_label_as_typed() {
    let Some(plantuml) = common::require_tool("plantuml", "apt-get install plantuml") else {
        return;
    };
    let directory = common::scratch_dir();
    let written = write_all(directory.path(), "puml");
    let files: Vec<&Path> = written.iter().map(|w| w.file.as_path()).collect();
    plantuml_draw(&plantuml, "-tsvg", directory.path(), &files);
    plantuml_draw(&plantuml, "-tpng", directory.path(), &files);
    for file in &written {
        let diagram = diagram::prepare(&file.trace, |_| diagram::LABEL_WIDTH);
        let verdict = plantuml_verdict(&plantuml, &file.file);
        let expected = format!("SEQUENCE\n({} participants)", diagram.members.len());
        assert!(
            verdict.ends_with(&expected),
            "{}: PlantUML says {verdict:?}",
            file.name
        );
        assert!(
            file.file.with_extension("png").is_file(),
            "{}: PlantUML wrote no PNG",
            file.name
        );
        let svg = std::fs::read_to_string(file.file.with_extension("svg"))
            .expect("PlantUML wrote an SVG");
        let mut expected = heading_lines(&diagram);
        expected.extend(label_lines(&diagram, false, true));
        assert_all_drawn(&file.name, "PlantUML", &expected, &svg_texts(&svg, ""));
    }
}

/// Has mscgen draw a chart in one format (`png`, `svg`).
fn mscgen_draw(mscgen: &Path, format: &str, chart: &Written) {
    let picture = chart.file.with_extension(format);
    let mut command = Command::new(mscgen);
    command
        .args(["-T", format, "-o"])
        .arg(&picture)
        .arg("-i")
        .arg(&chart.file);
    let (status, _, stderr) = common::run_tool(&mut command);
    assert!(
        status == 0 && stderr.trim().is_empty(),
        "{}: mscgen -T {format}: exit {status}: {stderr}",
        chart.name
    );
    assert!(
        std::fs::metadata(&picture).is_ok_and(|m| m.len() > 0),
        "{}: no {format}",
        chart.name
    );
}

#[test]
fn mscgen_renders_every_chart_with_every_label_as_typed() {
    let Some(mscgen) = common::require_tool("mscgen", "apt-get install mscgen") else {
        return;
    };
    let directory = common::scratch_dir();
    for chart in write_all(directory.path(), "msc") {
        mscgen_draw(&mscgen, "png", &chart);
        mscgen_draw(&mscgen, "svg", &chart);
        let svg =
            std::fs::read_to_string(chart.file.with_extension("svg")).expect("mscgen wrote an SVG");
        let diagram = diagram::prepare(&chart.trace, |columns| columns * 40);
        let mut expected = heading_lines(&diagram).split_off(1); // mscgen has no title
        let labels = label_lines(&diagram, true, false);
        expected.extend(labels.into_iter().map(|line| line.replace("\\n", "\\ n")));
        assert_all_drawn(&chart.name, "mscgen", &expected, &svg_texts(&svg, ""));
    }
}

/// Finds the Mermaid CLI, or reports it missing.
fn mermaid_cli() -> Option<PathBuf> {
    let directory = std::env::var("MERMAID_CLI_DIR")
        .unwrap_or_else(|_| "/opt/seqsim-checks/mermaid".to_string());
    let installed = Path::new(&directory).join("node_modules/.bin/mmdc");
    let found = if installed.is_file() {
        Some(installed)
    } else {
        common::find_on_path("mmdc")
    };
    if found.is_some() && Path::new("/usr/bin/chromium").is_file() {
        return found;
    }
    common::missing(
        "the Mermaid CLI (mmdc) with /usr/bin/chromium",
        "bash .ci/run installs both",
    )
}

/// Writes the settings that make the Mermaid CLI use Debian's Chromium.
fn browser_settings(directory: &Path) -> PathBuf {
    let settings = directory.join("puppeteer.json");
    let browser = r#"{"executablePath": "/usr/bin/chromium", "args": ["--no-sandbox", "--headless", "--disable-gpu"]}"#;
    std::fs::write(&settings, browser).expect("the browser settings are written");
    settings
}

/// Has the Mermaid CLI draw a diagram as SVG; returns the SVG.
fn mermaid_svg(mmdc: &Path, settings: &Path, chart: &Written) -> String {
    let svg_file = chart.file.with_extension("svg");
    let mut command = Command::new(mmdc);
    command
        .arg("-q")
        .arg("-p")
        .arg(settings)
        .arg("-i")
        .arg(&chart.file)
        .arg("-o")
        .arg(&svg_file);
    let (status, stdout, stderr) = common::run_tool(&mut command);
    let said = String::from_utf8_lossy(&stdout);
    assert_eq!(
        status, 0,
        "{}: Mermaid rejected it: {said}{stderr}",
        chart.name
    );
    std::fs::read_to_string(&svg_file).expect("mmdc wrote an SVG")
}

/// Returns the message lines (the first of each label after its time)
/// and the note lines Mermaid should draw: remarks, and lifeline events
/// (the first line of each after its time).
fn mermaid_lines(diagram: &Diagram) -> (Vec<String>, Vec<String>) {
    let mut messages = Vec::new();
    let mut notes = Vec::new();
    for item in diagram.items() {
        let arrow = match item {
            Item::Arrow(arrow) => arrow,
            Item::Mark(mark) => {
                notes.extend(timed_lines(&mark.time, &mark.label));
                continue;
            }
        };
        messages.extend(timed_lines(&arrow.time, &arrow.label));
        notes.extend(arrow.remark.lines().map(|line| shown(line, false)));
    }
    (messages, notes)
}

/// Returns the lines Mermaid draws of a label whose first line starts
/// with `t=` and the time.
fn timed_lines(time: &str, label: &Wrapped) -> Vec<String> {
    let lines = label.lines().enumerate().map(|(number, line)| {
        let text = shown(line, false);
        if number == 0 {
            format!("t={time} {text}")
        } else {
            text
        }
    });
    lines.collect()
}

#[test]
fn mermaid_parses_every_diagram_and_draws_each_message_and_note_line_as_typed() {
    let Some(mmdc) = mermaid_cli() else { return };
    let directory = common::scratch_dir();
    let settings = browser_settings(directory.path());
    for chart in write_all(directory.path(), "mmd") {
        let svg = mermaid_svg(&mmdc, &settings, &chart);
        let sequence = svg.contains("aria-roledescription=\"sequence\"");
        assert!(sequence, "{}: not drawn as a sequence diagram", chart.name);
        let (messages, notes) =
            mermaid_lines(&diagram::prepare(&chart.trace, |_| diagram::LABEL_WIDTH));
        assert_eq!(
            svg_texts(&svg, "class=\"messageText\""),
            messages,
            "{}: message lines",
            chart.name
        );
        assert_eq!(
            svg_texts(&svg, "class=\"noteText\""),
            notes,
            "{}: note lines",
            chart.name
        );
    }
}

/// A scenario file name and `--set` values that would end a comment line
/// and start diagram source if written as they are.
fn hostile_provenance(path: &Path) -> seqsim::provenance::Provenance {
    let (_, provenance) = common::run_with_provenance(path);
    let renamed = seqsim::provenance::Provenance::new(
        Path::new("evil\n@enduml\n}\n%%{foo.yaml"),
        b"",
        provenance.seed,
    );
    renamed.with_sets(&[
        "remarks[0].text='a\r\n\n@enduml /''x'".to_string(),
        "title=\u{2028}msc {\u{b}".to_string(),
        "title=\"%%{x}\"".to_string(),
    ])
}

#[test]
fn every_tool_reads_a_diagram_whose_provenance_and_title_hold_line_breaks() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/tcp-connection.yaml");
    let (mut run, _) = common::run_with_provenance(&path);
    run.trace.title = "a\nb\r\u{2028}c\u{85}d\n@enduml\n} %%{x}".to_string();
    run.trace.messages[0].remark = Some("a\u{2028}@enduml\u{2029}b".to_string());
    let provenance = hostile_provenance(&path);
    let directory = common::scratch_dir();
    let write = |extension: &str, source: String| {
        let file = directory.path().join(format!("hostile.{extension}"));
        std::fs::write(&file, source).expect("the diagram is written");
        Written {
            name: format!("hostile.{extension}"),
            file,
            trace: run.trace.clone(),
        }
    };
    let participants = diagram::prepare(&run.trace, |_| diagram::LABEL_WIDTH)
        .members
        .len();
    if let Some(plantuml) = common::require_tool("plantuml", "apt-get install plantuml") {
        let chart = write("puml", plantuml::render(&run.trace, &provenance));
        let verdict = plantuml_verdict(&plantuml, &chart.file);
        let expected = format!("SEQUENCE\n({participants} participants)");
        assert!(verdict.ends_with(&expected), "PlantUML says {verdict:?}");
    }
    if let Some(mscgen) = common::require_tool("mscgen", "apt-get install mscgen") {
        mscgen_draw(
            &mscgen,
            "svg",
            &write("msc", msc::render(&run.trace, &provenance)),
        );
    }
    if let Some(mmdc) = mermaid_cli() {
        let settings = browser_settings(directory.path());
        let chart = write("mmd", mermaid::render(&run.trace, &provenance));
        let svg = mermaid_svg(&mmdc, &settings, &chart);
        assert!(svg.contains("aria-roledescription=\"sequence\""));
    }
}
