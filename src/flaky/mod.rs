//! Flaky or real: before tokens are spent on a failed run, the evidence GitHub and the
//! failure memory hold about it. A job that passed in another attempt of the same run, or
//! in another run of the same workflow on the same commit, failed for a reason the code
//! does not decide; its failures are reported as flaky, with that evidence, and are not
//! patched unless asked (`--heal-flaky`). Gathering the facts is in [`gather`]; judging
//! them is here and pure.

pub mod gather;

use serde::Serialize;

use crate::logs::Failure;
use crate::logs::archive::same_job_name;
use crate::memory::Remembered;

/// One fact that bears on "flaky or real".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// The same job passed in another attempt of this run (same commit, same workflow).
    PassedOnRerun { job: String, attempt: u32 },
    /// The job failed in every one of this run's attempts (two or more).
    FailedEveryAttempt { job: String, attempts: u32 },
    /// The same job passed in another run of this workflow on the same commit.
    PassedOnSameCommit {
        job: String,
        run_id: u64,
        event: String,
    },
    /// The same job failed in another run of this workflow on the same commit too.
    FailedOnSameCommit {
        job: String,
        run_id: u64,
        event: String,
    },
    /// The failure memory judged this failure flaky before.
    MemoryFlaky { signature: String, times: u32 },
    /// The failure memory holds a validated code fix for this failure.
    MemoryHealed { signature: String, times: u32 },
}

impl Evidence {
    /// True for evidence that the failure does not follow from the code.
    pub fn says_flaky(&self) -> bool {
        matches!(
            self,
            Evidence::PassedOnRerun { .. }
                | Evidence::PassedOnSameCommit { .. }
                | Evidence::MemoryFlaky { .. }
        )
    }

    /// One line for the report.
    pub fn describe(&self) -> String {
        match self {
            Evidence::PassedOnRerun { job, attempt } => {
                format!("job {job:?} passed in attempt {attempt} of this run (same commit)")
            }
            Evidence::FailedEveryAttempt { job, attempts } => {
                format!("job {job:?} failed in all {attempts} attempts of this run")
            }
            Evidence::PassedOnSameCommit { job, run_id, event } => {
                format!("job {job:?} passed on the same commit in run {run_id} ({event})")
            }
            Evidence::FailedOnSameCommit { job, run_id, event } => {
                format!("job {job:?} also failed on the same commit in run {run_id} ({event})")
            }
            Evidence::MemoryFlaky { times, .. } => {
                format!("the failure memory judged this failure flaky {times} time(s) before")
            }
            Evidence::MemoryHealed { times, .. } => {
                format!("the failure memory holds {times} validated code fix(es) for it")
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgment {
    /// Every failure a code change would address looks flaky: report, do not patch.
    Flaky,
    /// The evidence says the failure is reproducible.
    Real,
    /// No evidence either way (a first attempt, no other run of the commit).
    Unknown,
}

/// The judgment, the evidence behind it, and which jobs' failures are flaky.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assessment {
    pub judgment: Judgment,
    pub evidence: Vec<Evidence>,
    /// Archive job names whose failures are judged flaky (all of them when `Flaky`).
    pub flaky_jobs: Vec<String>,
}

impl Assessment {
    pub fn unknown() -> Assessment {
        Assessment {
            judgment: Judgment::Unknown,
            evidence: Vec::new(),
            flaky_jobs: Vec::new(),
        }
    }

    /// "flaky: job "test" passed in attempt 1 …; …" for notes and summaries.
    pub fn summary(&self) -> String {
        let what = match self.judgment {
            Judgment::Flaky => "flaky",
            Judgment::Real => "real",
            Judgment::Unknown => "no evidence of flakiness",
        };
        let lines: Vec<String> = self.evidence.iter().map(Evidence::describe).collect();
        if lines.is_empty() {
            what.to_string()
        } else {
            format!("{what}: {}", lines.join("; "))
        }
    }
}

/// One job's conclusion in one attempt or run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobResult {
    /// The job's name as the API gives it.
    pub name: String,
    pub conclusion: String,
}

/// Another run of the same workflow on the same commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sibling {
    pub run_id: u64,
    pub event: String,
    pub jobs: Vec<JobResult>,
}

/// Everything [`judge`] looks at.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// Jobs of the other attempts of this run, by attempt.
    pub other_attempts: Vec<(u32, Vec<JobResult>)>,
    pub siblings: Vec<Sibling>,
    /// By signature.
    pub memory: Vec<(String, Remembered)>,
}

/// Judges the failures a code change would address. `flaky_after` earlier flaky
/// judgments make memory alone say flaky (0: memory never does).
pub fn judge(failures: &[Failure], facts: &Facts, flaky_after: u32) -> Assessment {
    let targets: Vec<&Failure> = failures.iter().filter(|f| f.needs_code_change).collect();
    let mut jobs: Vec<&str> = Vec::new();
    for f in &targets {
        if !jobs.contains(&f.job.as_str()) {
            jobs.push(&f.job);
        }
    }
    let mut out = Assessment::unknown();
    for job in jobs {
        let evidence = job_evidence(job, facts);
        if evidence.iter().any(Evidence::says_flaky) {
            out.flaky_jobs.push(job.to_string());
        }
        out.evidence.extend(evidence);
    }
    for f in &targets {
        let (ev, flaky) = memory_evidence(f, facts, flaky_after);
        if flaky && !out.flaky_jobs.contains(&f.job) {
            out.flaky_jobs.push(f.job.clone());
        }
        for e in ev {
            if !out.evidence.contains(&e) {
                out.evidence.push(e);
            }
        }
    }
    // A job is only flaky when nothing says it is real: a validated code fix or a
    // failure in every attempt outweighs the memory's earlier judgments.
    out.flaky_jobs
        .retain(|job| !real_evidence_for(job, &out.evidence, &targets));
    out.judgment = if !targets.is_empty() && targets.iter().all(|f| out.flaky_jobs.contains(&f.job))
    {
        Judgment::Flaky
    } else if out.evidence.iter().any(|e| !e.says_flaky()) {
        Judgment::Real
    } else {
        Judgment::Unknown
    };
    out
}

/// Evidence from the run's other attempts and the commit's other runs.
fn job_evidence(job: &str, facts: &Facts) -> Vec<Evidence> {
    let mut out = Vec::new();
    let mut failed_in = 1;
    for (attempt, results) in &facts.other_attempts {
        match conclusion_of(job, results) {
            Some("success") => out.push(Evidence::PassedOnRerun {
                job: job.to_string(),
                attempt: *attempt,
            }),
            Some("failure") => failed_in += 1,
            _ => {}
        }
    }
    if failed_in > 1 && failed_in == facts.other_attempts.len() + 1 {
        out.push(Evidence::FailedEveryAttempt {
            job: job.to_string(),
            attempts: failed_in as u32,
        });
    }
    for s in &facts.siblings {
        let (job, run_id, event) = (job.to_string(), s.run_id, s.event.clone());
        match conclusion_of(&job, &s.jobs) {
            Some("success") => out.push(Evidence::PassedOnSameCommit { job, run_id, event }),
            Some("failure") => out.push(Evidence::FailedOnSameCommit { job, run_id, event }),
            _ => {}
        }
    }
    out
}

/// The memory's evidence for one failure, and whether it alone makes it flaky.
fn memory_evidence(f: &Failure, facts: &Facts, flaky_after: u32) -> (Vec<Evidence>, bool) {
    let Some((_, seen)) = facts.memory.iter().find(|(s, _)| *s == f.signature) else {
        return (Vec::new(), false);
    };
    let mut ev = Vec::new();
    let signature = f.signature.clone();
    if seen.flaky > 0 {
        ev.push(Evidence::MemoryFlaky {
            signature: signature.clone(),
            times: seen.flaky,
        });
    }
    if seen.healed > 0 {
        ev.push(Evidence::MemoryHealed {
            signature,
            times: seen.healed,
        });
    }
    let flaky = flaky_after > 0 && seen.flaky >= flaky_after && seen.healed == 0;
    (ev, flaky)
}

/// True when evidence says `job`'s failure reproduces: it failed in every attempt and did
/// not pass on the same commit elsewhere, or the memory has a code fix for one of its
/// failures and nothing on GitHub says it passed.
fn real_evidence_for(job: &str, evidence: &[Evidence], targets: &[&Failure]) -> bool {
    let passed = evidence.iter().any(|e| {
        matches!(e, Evidence::PassedOnRerun { job: j, .. } | Evidence::PassedOnSameCommit { job: j, .. } if j == job)
    });
    if passed {
        return false;
    }
    let healed_sigs: Vec<&str> = evidence
        .iter()
        .filter_map(|e| match e {
            Evidence::MemoryHealed { signature, .. } => Some(signature.as_str()),
            _ => None,
        })
        .collect();
    evidence
        .iter()
        .any(|e| matches!(e, Evidence::FailedEveryAttempt { job: j, .. } if j == job))
        || targets
            .iter()
            .any(|f| f.job == job && healed_sigs.contains(&f.signature.as_str()))
}

/// The conclusion of the job called `job` (an archive name) among `results`.
fn conclusion_of<'a>(job: &str, results: &'a [JobResult]) -> Option<&'a str> {
    results
        .iter()
        .find(|r| same_job_name(job, &r.name))
        .map(|r| r.conclusion.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Kind;

    fn failure(job: &str, sig: &str) -> Failure {
        let mut f = Failure::new("pytest", Kind::TestFailure, "assert 1 == 2");
        f.job = job.into();
        f.signature = sig.into();
        f.needs_code_change = true;
        f
    }

    fn results(pairs: &[(&str, &str)]) -> Vec<JobResult> {
        pairs
            .iter()
            .map(|(n, c)| JobResult {
                name: n.to_string(),
                conclusion: c.to_string(),
            })
            .collect()
    }

    #[test]
    fn a_first_attempt_with_no_other_run_is_unknown() {
        let a = judge(&[failure("test", "s1")], &Facts::default(), 2);
        assert_eq!(a.judgment, Judgment::Unknown);
        assert!(a.evidence.is_empty() && a.flaky_jobs.is_empty());
        assert_eq!(a.summary(), "no evidence of flakiness");
    }

    #[test]
    fn passing_in_another_attempt_is_flaky() {
        let facts = Facts {
            other_attempts: vec![(1, results(&[("test (3.11)", "success")]))],
            ..Facts::default()
        };
        let a = judge(&[failure("test (3.11)", "s1")], &facts, 2);
        assert_eq!(a.judgment, Judgment::Flaky);
        assert_eq!(a.flaky_jobs, ["test (3.11)"]);
        assert!(
            a.summary().contains("passed in attempt 1"),
            "{}",
            a.summary()
        );
    }

    #[test]
    fn failing_in_every_attempt_is_real() {
        let facts = Facts {
            other_attempts: vec![
                (1, results(&[("test", "failure")])),
                (2, results(&[("test", "failure")])),
            ],
            ..Facts::default()
        };
        let a = judge(&[failure("test", "s1")], &facts, 2);
        assert_eq!(a.judgment, Judgment::Real);
        assert_eq!(
            a.evidence,
            [Evidence::FailedEveryAttempt {
                job: "test".into(),
                attempts: 3
            }]
        );
    }

    #[test]
    fn passing_on_the_same_commit_elsewhere_is_flaky_and_archive_names_match() {
        // The archive drops the `/` and `:` that the API's job name has.
        let facts = Facts {
            siblings: vec![Sibling {
                run_id: 77,
                event: "pull_request".into(),
                jobs: results(&[("build / test: unit", "success"), ("lint", "failure")]),
            }],
            ..Facts::default()
        };
        let a = judge(&[failure("build  test unit", "s1")], &facts, 2);
        assert_eq!(a.judgment, Judgment::Flaky);
        assert!(a.summary().contains("run 77 (pull_request)"));
    }

    #[test]
    fn only_the_jobs_with_evidence_are_flaky() {
        let facts = Facts {
            other_attempts: vec![(1, results(&[("unit", "success"), ("lint", "failure")]))],
            ..Facts::default()
        };
        let fs = [failure("unit", "s1"), failure("lint", "s2")];
        let a = judge(&fs, &facts, 2);
        assert_eq!(a.judgment, Judgment::Real, "lint failed in both attempts");
        assert_eq!(a.flaky_jobs, ["unit"]);
    }

    #[test]
    fn memory_alone_needs_enough_flaky_judgments_and_no_fix() {
        let mem = |flaky, healed| Facts {
            memory: vec![("s1".into(), Remembered { flaky, healed })],
            ..Facts::default()
        };
        let fs = [failure("test", "s1")];
        assert_eq!(judge(&fs, &mem(1, 0), 2).judgment, Judgment::Unknown);
        assert_eq!(judge(&fs, &mem(2, 0), 2).judgment, Judgment::Flaky);
        assert_eq!(judge(&fs, &mem(2, 0), 0).judgment, Judgment::Unknown);
        let fixed = judge(&fs, &mem(3, 1), 2);
        assert_eq!(fixed.judgment, Judgment::Real, "a code fix worked before");
        assert!(fixed.flaky_jobs.is_empty());
    }

    #[test]
    fn a_pass_on_github_outweighs_a_remembered_fix() {
        let facts = Facts {
            other_attempts: vec![(1, results(&[("test", "success")]))],
            memory: vec![(
                "s1".into(),
                Remembered {
                    flaky: 0,
                    healed: 1,
                },
            )],
            ..Facts::default()
        };
        assert_eq!(
            judge(&[failure("test", "s1")], &facts, 2).judgment,
            Judgment::Flaky
        );
    }

    #[test]
    fn failures_no_code_change_fixes_are_not_judged() {
        let mut f = failure("test", "s1");
        f.needs_code_change = false;
        let facts = Facts {
            other_attempts: vec![(1, results(&[("test", "success")]))],
            ..Facts::default()
        };
        let a = judge(&[f], &facts, 2);
        assert_eq!(a.judgment, Judgment::Unknown);
        assert!(a.flaky_jobs.is_empty());
    }
}
