//! Logs of other CI systems, read into the same bounded [`StepLog`]s as GitHub's: GitLab CI
//! job traces, Jenkins console text, and plain output piped in.
//!
//! - GitLab: each `section_start:<ts>:<name>` … `section_end:<ts>:<name>` pair is a step
//!   named after the section; `$ cmd` lines are its commands; `ERROR: Job failed: exit code
//!   N` fails the section that ran the job's script (`step_script`, older `build_script`).
//! - Jenkins: each `[Pipeline] { (<stage>)` opens a step named after the stage; `+ cmd`
//!   (the shell's xtrace) lines are its commands; `ERROR: script returned exit code N`
//!   fails the stage it is in, and `Finished: FAILURE` the last stage with output when no
//!   stage said so. Timestamper prefixes (`[2024-05-01T10:00:00.123Z] `, `10:00:00 `) and
//!   `[Pipeline]` bookkeeping lines are dropped.
//! - Plain: the whole input is one failed step.
//!
//! Every segment is streamed through the GitHub [`Scanner`] (ANSI, CR, secrets, bounded
//! tail and error windows), so memory stays flat whatever the log size. The workspace the
//! job ran in is learned from the log ([`crate::logs::ci::learn`]) and given to each step.

use std::io::{self, Read};
use std::sync::LazyLock;

use regex::Regex;

use super::scan::{ScanLimits, Scanner, StepMeta};
use super::zipread::CHUNK;
use super::{Limits, ReadOutcome, ReadStats};
use crate::logs::ci::{self, Ci};
use crate::logs::clean::clean_text;

/// Steps beyond this many are read into the last one (a trace with thousands of sections).
const MAX_SEGMENTS: usize = 200;
/// Workspaces learned beyond this many are ignored.
const MAX_WORKSPACES: usize = 16;
/// Commands kept per step.
const MAX_COMMANDS: usize = 64;

static SECTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"section_(start|end):\d+:([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?")
        .expect("static pattern")
});
static GITLAB_FAILED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^ERROR: Job failed(?: \([^)]*\))?: (?:exit (?:code|status) (\d+))?")
        .expect("static pattern")
});
static JENKINS_STAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?\] |\d\d:\d\d:\d\d(?:\.\d+)? )")
        .expect("static pattern")
});
static JENKINS_STAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\[Pipeline\] \{ \((.+)\)\s*$").expect("static pattern"));
static JENKINS_EXIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^ERROR: script returned exit code (\d+)").expect("static pattern")
});

/// One step being read.
struct Segment {
    scanner: Scanner,
    name: String,
    commands: Vec<String>,
    failed: bool,
    exit_code: Option<i32>,
    lines: u64,
    /// Jenkins: `Stage "X" skipped due to earlier failure(s)`.
    skipped: bool,
}

/// The reader's state across lines.
struct Reader {
    ci: Ci,
    job: String,
    source: String,
    limits: ScanLimits,
    segments: Vec<Segment>,
    /// Index of the segment lines go to now.
    current: usize,
    workspaces: Vec<String>,
    job_failed: bool,
    job_exit: Option<i32>,
    /// Jenkins named the job (its workspace folder): that beats the file name.
    job_learned: bool,
    bytes: u64,
    lines: u64,
}

impl Reader {
    fn new(ci: Ci, job: &str, source: &str, limits: &Limits) -> Reader {
        let mut r = Reader {
            ci,
            job: job.to_string(),
            source: source.to_string(),
            limits: ScanLimits {
                tail_lines: limits.tail_lines,
                max_line_bytes: limits.max_line_bytes,
                split_on_run: false,
            },
            segments: Vec::new(),
            current: 0,
            workspaces: Vec::new(),
            job_failed: ci == Ci::Plain,
            job_exit: None,
            job_learned: false,
            bytes: 0,
            lines: 0,
        };
        let first = match ci {
            Ci::Gitlab => "job",
            Ci::Jenkins => "console",
            _ => "output",
        };
        r.open(first);
        r
    }

    /// Starts a new step named `name` (or reuses the current one while it is empty).
    fn open(&mut self, name: &str) {
        if let Some(seg) = self.segments.get_mut(self.current)
            && seg.lines == 0
        {
            seg.name = name.to_string();
            return;
        }
        if self.segments.len() >= MAX_SEGMENTS {
            return;
        }
        let meta = StepMeta {
            job: self.job.clone(),
            step: name.to_string(),
            number: Some(self.segments.len() as u32 + 1),
            source: self.source.clone(),
            known_failed: Some(true),
        };
        self.segments.push(Segment {
            scanner: Scanner::new(meta, self.limits),
            name: name.to_string(),
            commands: Vec::new(),
            failed: false,
            exit_code: None,
            lines: 0,
            skipped: false,
        });
        self.current = self.segments.len() - 1;
    }

    /// Goes back to the step of lines outside any section or stage.
    fn close(&mut self) {
        let name = match self.ci {
            Ci::Jenkins => "console",
            _ => "job",
        };
        if self.segments[self.current].name != name {
            self.open(name);
        }
    }

    fn line(&mut self, raw: &[u8]) {
        self.lines += 1;
        match self.ci {
            Ci::Gitlab => self.gitlab_line(raw),
            Ci::Jenkins => self.jenkins_line(raw),
            _ => self.feed(raw),
        }
    }

    /// Feeds a line to the current step, learning workspaces and commands on the way.
    fn feed(&mut self, raw: &[u8]) {
        let text = clean_text(raw);
        let t = text.trim();
        if let Some(ws) = ci::learn(t)
            && self.workspaces.len() < MAX_WORKSPACES
            && !self.workspaces.contains(&ws)
        {
            self.workspaces.push(ws);
        }
        let seg = &mut self.segments[self.current];
        let command = match self.ci {
            Ci::Gitlab => t.strip_prefix("$ "),
            Ci::Jenkins => t.strip_prefix("+ "),
            _ => None,
        };
        if let Some(cmd) = command
            && seg.commands.len() < MAX_COMMANDS
        {
            seg.commands.push(cmd.trim().to_string());
        }
        seg.lines += 1;
        seg.scanner.feed(raw);
        seg.scanner.feed(b"\n");
    }

    fn gitlab_line(&mut self, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        let mut rest_from = 0;
        for c in SECTION.captures_iter(&text) {
            let name = &c[2];
            if &c[1] == "start" {
                self.open(name);
            } else {
                self.close();
            }
            rest_from = c.get(0).map_or(0, |m| m.end());
        }
        let rest = &raw[rest_from.min(raw.len())..];
        if rest_from > 0 && clean_text(rest).trim().is_empty() {
            return;
        }
        let cleaned = clean_text(rest);
        if let Some(c) = GITLAB_FAILED.captures(cleaned.trim()) {
            self.job_failed = true;
            self.job_exit = c.get(1).and_then(|m| m.as_str().parse().ok());
            if self.job_exit.is_none() {
                // a system failure or a timeout: the line itself is the cause
                self.segments[self.current].failed = true;
            }
        }
        self.feed(rest);
    }

    fn jenkins_line(&mut self, raw: &[u8]) {
        let text = clean_text(raw);
        let cut = JENKINS_STAMP.find(&text).map_or(0, |m| m.end());
        let t = &text[cut..];
        if let Some(c) = JENKINS_STAGE.captures(t) {
            let name = c[1].to_string();
            self.open(&name);
            return;
        }
        if t.starts_with("[Pipeline] // stage") {
            self.close();
            return;
        }
        if t.starts_with("[Pipeline] ") {
            return;
        }
        let in_stage = self.segments[self.current].name != "console";
        if let Some(c) = JENKINS_EXIT.captures(t) {
            // after `End of Pipeline` the error names no stage: blamed at the end
            let code = c[1].parse().ok();
            self.job_exit = self.job_exit.or(code);
            if in_stage {
                let seg = &mut self.segments[self.current];
                seg.failed = true;
                seg.exit_code = code;
            }
        }
        if t.contains("skipped due to earlier failure")
            || t.contains("skipped due to when conditional")
        {
            self.segments[self.current].skipped = true;
        }
        if let Some(result) = t.strip_prefix("Finished: ") {
            self.job_failed = result.trim() != "SUCCESS";
        }
        if let Some(job) = self.job_from_workspace(t) {
            self.job = job;
        }
        self.feed(t.as_bytes());
    }

    /// Jenkins names the job in its workspace path: `…/workspace/<job>[@2]`.
    fn job_from_workspace(&mut self, line: &str) -> Option<String> {
        if self.job_learned {
            return None;
        }
        let ws = ci::learn(line)?;
        let last = ws.rsplit('/').next()?;
        let job = last.split('@').next()?;
        self.job_learned = !job.is_empty();
        self.job_learned.then(|| job.to_string())
    }

    /// The step to blame when the job failed and no step said so itself.
    fn blame(&self) -> Option<usize> {
        let with_output = |s: &Segment| s.lines > 0;
        match self.ci {
            Ci::Gitlab => self
                .segments
                .iter()
                .rposition(|s| matches!(s.name.as_str(), "step_script" | "build_script" | "script"))
                .or_else(|| self.segments.iter().rposition(|s| !s.commands.is_empty())),
            _ => self
                .segments
                .iter()
                .rposition(|s| {
                    with_output(s)
                        && !s.skipped
                        && s.name != "console"
                        && !s.name.starts_with("Declarative: ")
                })
                .or_else(|| self.segments.iter().rposition(with_output)),
        }
    }

    fn finish(mut self) -> ReadOutcome {
        if self.job_failed
            && !self.segments.iter().any(|s| s.failed)
            && let Some(i) = self.blame()
        {
            self.segments[i].failed = true;
            self.segments[i].exit_code = self.job_exit;
        }
        let stats = ReadStats {
            entries: 1,
            entries_read: 1,
            bytes_compressed: self.bytes,
            bytes_inflated: self.bytes,
            lines: self.lines,
        };
        let job = self.job.clone();
        let mut steps = Vec::new();
        for seg in self
            .segments
            .into_iter()
            .filter(|s| s.lines > 0 || s.failed)
        {
            for mut step in seg.scanner.finish() {
                step.job = job.clone();
                step.step = seg.name.clone();
                step.failed = seg.failed;
                step.exit_code = seg.exit_code.or(step.exit_code);
                step.commands.extend(seg.commands.iter().cloned());
                step.workspaces = self.workspaces.clone();
                steps.push(step);
            }
        }
        let mut warnings = Vec::new();
        if steps.is_empty() {
            warnings.push(format!("{} had no lines", self.source));
        }
        ReadOutcome {
            steps,
            stats,
            warnings,
        }
    }
}

/// Reads a whole `ci` log from `reader`. `job` names the job when the log does not.
pub fn read(
    mut reader: impl Read,
    ci: Ci,
    job: &str,
    source: &str,
    limits: &Limits,
) -> io::Result<ReadOutcome> {
    let job = match (ci, job.is_empty()) {
        (_, false) => job.to_string(),
        (Ci::Jenkins, true) => "jenkins".to_string(),
        (Ci::Gitlab, true) => "gitlab".to_string(),
        _ => "output".to_string(),
    };
    let mut r = Reader::new(ci, &job, source, limits);
    let mut buf = vec![0u8; CHUNK];
    let mut carry: Vec<u8> = Vec::new();
    let cap = limits.max_line_bytes.max(16);
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        r.bytes += n as u64;
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', &buf[..n]) {
            push_capped(&mut carry, &buf[start..nl], cap);
            r.line(&carry);
            carry.clear();
            start = nl + 1;
        }
        push_capped(&mut carry, &buf[start..n], cap);
    }
    if !carry.is_empty() {
        r.line(&carry);
    }
    Ok(r.finish())
}

fn push_capped(into: &mut Vec<u8>, bytes: &[u8], cap: usize) {
    let room = cap.saturating_sub(into.len());
    into.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_fixture(bytes: &[u8], ci: Ci) -> ReadOutcome {
        read(bytes, ci, "fixture", "fixture", &Limits::default()).unwrap()
    }

    fn step<'a>(o: &'a ReadOutcome, name: &str) -> &'a crate::logs::StepLog {
        o.steps
            .iter()
            .find(|s| s.step == name)
            .unwrap_or_else(|| panic!("no step {name}"))
    }

    #[test]
    fn gitlab_sections_are_steps_and_the_script_section_failed() {
        let o = read_fixture(
            include_bytes!("../../../tests/corpus/other-ci/gitlab-go-test-panic.log"),
            Ci::Gitlab,
        );
        let names: Vec<&str> = o.steps.iter().map(|s| s.step.as_str()).collect();
        for want in ["prepare_executor", "get_sources", "step_script"] {
            assert!(names.contains(&want), "{names:?}");
        }
        let failed: Vec<&str> = o
            .steps
            .iter()
            .filter(|s| s.failed)
            .map(|s| s.step.as_str())
            .collect();
        assert_eq!(failed, ["step_script"]);
        let script = step(&o, "step_script");
        assert_eq!(script.exit_code, Some(1));
        assert!(script.commands.contains(&"go test ./...".to_string()));
        assert_eq!(script.workspaces, ["/builds/acme/backend/shop"]);
        assert!(script.lines.iter().all(|l| !l.contains("section_")));
        assert!(script.lines.iter().all(|l| !l.contains('\x1b')));
    }

    #[test]
    fn gitlab_shell_executor_blames_the_script_not_after_script() {
        let o = read_fixture(
            include_bytes!("../../../tests/corpus/other-ci/gitlab-shell-pytest.log"),
            Ci::Gitlab,
        );
        let failed: Vec<&str> = o
            .steps
            .iter()
            .filter(|s| s.failed)
            .map(|s| s.step.as_str())
            .collect();
        assert_eq!(failed, ["step_script"]);
        assert_eq!(
            step(&o, "step_script").workspaces,
            ["/home/gitlab-runner/builds/t3_Q9xPz/0/data/pricing"]
        );
    }

    #[test]
    fn jenkins_stages_are_steps_and_the_failed_stage_is_blamed() {
        let o = read_fixture(
            include_bytes!("../../../tests/corpus/other-ci/jenkins-pipeline-maven.log"),
            Ci::Jenkins,
        );
        let build = step(&o, "Build");
        assert!(build.failed);
        assert_eq!(build.job, "shop_main");
        assert_eq!(build.exit_code, Some(1));
        assert!(build.commands.contains(&"mvn -B -ntp verify".to_string()));
        assert!(build.lines.iter().all(|l| !l.starts_with("[2024-")));
        assert!(build.lines.iter().all(|l| !l.starts_with("[Pipeline]")));
        assert!(!step(&o, "Deploy").failed);
        assert_eq!(o.steps.iter().filter(|s| s.failed).count(), 1);
        assert_eq!(
            build.workspaces,
            ["/home/jenkins/agent/workspace/shop_main"]
        );
    }

    #[test]
    fn jenkins_freestyle_console_is_one_failed_step() {
        let o = read_fixture(
            include_bytes!("../../../tests/corpus/other-ci/jenkins-freestyle-make.log"),
            Ci::Jenkins,
        );
        assert_eq!(o.steps.len(), 1);
        let s = &o.steps[0];
        assert!(s.failed);
        assert_eq!(s.job, "libparse-nightly");
        assert_eq!(s.commands, ["make -j2 all"]);
        assert!(
            s.lines
                .iter()
                .any(|l| l.starts_with("src/parser.c:88:12: error"))
        );
    }

    #[test]
    fn plain_output_is_one_failed_step() {
        let o = read_fixture(
            include_bytes!("../../../tests/corpus/other-ci/plain-make-build.txt"),
            Ci::Plain,
        );
        assert_eq!(o.steps.len(), 1);
        assert!(o.steps[0].failed);
        assert_eq!(o.steps[0].lines.len(), 6);
    }

    #[test]
    fn a_gitlab_timeout_fails_the_part_that_says_so() {
        let trace = "Running with gitlab-runner 17.0.0 (44feccdf)\n\
            section_start:1716801625:step_script\r\x1b[0KExecuting \"step_script\" stage\n\
            $ ./long.sh\n\
            section_end:1716804625:step_script\r\x1b[0K\n\
            ERROR: Job failed: execution took longer than 1h0m0s seconds\n";
        let o = read_fixture(trace.as_bytes(), Ci::Gitlab);
        let failed: Vec<&str> = o
            .steps
            .iter()
            .filter(|s| s.failed)
            .map(|s| s.step.as_str())
            .collect();
        assert_eq!(failed, ["job"]);
    }
}
