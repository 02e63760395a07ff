//! Failure memory: every repair outcome (signature, diagnosis, patch, validated or not,
//! tokens) in an embedded SQLite database in the state dir (`memory.sqlite`, WAL mode,
//! safe under concurrent runs). Before calling the LLM, a validated fix for the same
//! signature is offered first; without one, validated fixes of similar failures are shown
//! to the model as examples (`similar`, rendered by `examples`); `selfheal history` reads
//! the same table.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::patch::Patch;

pub mod examples;
pub mod similar;

pub use similar::{Example, Query};

/// Bumped when the table changes; older databases are migrated in `open`.
const SCHEMA_VERSION: i64 = 1;
pub const FILE_NAME: &str = "memory.sqlite";

#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("cannot use the failure memory {path}: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the failure memory {path} was written by a newer selfheal (schema {found}); upgrade selfheal"
    )]
    Newer { path: PathBuf, found: i64 },
}

impl crate::error::Hint for MemoryError {
    fn hint(&self) -> String {
        match self {
            MemoryError::Db { .. } => {
                "check that the state dir is writable, or delete the file to start afresh".into()
            }
            MemoryError::Newer { .. } => String::new(),
        }
    }
}

impl From<MemoryError> for crate::error::Error {
    fn from(e: MemoryError) -> Self {
        crate::error::Error::from_stage(crate::error::exit::ERROR, e)
    }
}

/// One repair outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    pub at: u64,
    pub repo: String,
    pub signature: String,
    pub tool: String,
    pub kind: String,
    pub message: String,
    pub diagnosis: String,
    /// The patch as JSON (`patch::Patch`), empty when there was none.
    pub patch: String,
    pub validated: bool,
    /// The run record's verdict (`healed`, `pending`, `not_healed`, …).
    pub verdict: String,
    /// `llm`, `fixer:<name>` or `memory`.
    pub source: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_usd: f64,
    pub llm_calls: u32,
    pub llm_calls_saved: u32,
}

impl Outcome {
    /// A failure judged flaky (`verdict = "flaky"`, no patch, no tokens spent).
    pub fn judged_flaky(f: &crate::logs::Failure, evidence: &str) -> Outcome {
        Outcome {
            at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            repo: String::new(),
            signature: f.signature.clone(),
            tool: f.tool.clone(),
            kind: f.kind.to_string(),
            message: f.message.clone(),
            diagnosis: evidence.to_string(),
            patch: String::new(),
            validated: false,
            verdict: "flaky".into(),
            source: "evidence".into(),
            prompt_tokens: 0,
            completion_tokens: 0,
            cost_usd: 0.0,
            llm_calls: 0,
            llm_calls_saved: 0,
        }
    }
}

/// What the failure memory says of one signature (the flaky judge reads it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Remembered {
    pub flaky: u32,
    pub healed: u32,
}

pub struct Memory {
    conn: Connection,
    path: PathBuf,
}

impl Memory {
    /// Opens (creating) `<state_dir>/memory.sqlite`.
    pub fn open(state_dir: &Path) -> Result<Memory, MemoryError> {
        let path = state_dir.join(FILE_NAME);
        let db = |source| MemoryError::Db {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(state_dir)
            .map_err(|e| db(rusqlite::Error::InvalidPath(PathBuf::from(e.to_string()))))?;
        let conn = Connection::open(&path).map_err(db)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        let found: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db)?;
        if found > SCHEMA_VERSION {
            return Err(MemoryError::Newer { path, found });
        }
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS outcomes (
                id INTEGER PRIMARY KEY, at INTEGER NOT NULL, repo TEXT NOT NULL, signature TEXT NOT NULL,
                tool TEXT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL, diagnosis TEXT NOT NULL,
                patch TEXT NOT NULL, validated INTEGER NOT NULL, verdict TEXT NOT NULL, source TEXT NOT NULL,
                prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL,
                llm_calls INTEGER NOT NULL, llm_calls_saved INTEGER NOT NULL);
             CREATE INDEX IF NOT EXISTS outcomes_signature ON outcomes(signature, validated);
             CREATE INDEX IF NOT EXISTS outcomes_similar ON outcomes(tool, kind, validated);
             PRAGMA user_version = 1;",
        )
        .map_err(db)?;
        Ok(Memory { conn, path })
    }

    fn err(&self, source: rusqlite::Error) -> MemoryError {
        MemoryError::Db {
            path: self.path.clone(),
            source,
        }
    }

    pub fn record(&self, o: &Outcome) -> Result<(), MemoryError> {
        self.conn
            .execute(
                "INSERT INTO outcomes (at, repo, signature, tool, kind, message, diagnosis, patch, validated, verdict, source,
                    prompt_tokens, completion_tokens, cost_usd, llm_calls, llm_calls_saved)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                params![
                    o.at as i64, o.repo, o.signature, o.tool, o.kind, o.message, o.diagnosis, o.patch, o.validated, o.verdict, o.source,
                    o.prompt_tokens as i64, o.completion_tokens as i64, o.cost_usd, o.llm_calls, o.llm_calls_saved
                ],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The newest validated patch for `signature` that was applied or published (a patch
    /// still waiting for a person, or one a person rejected, is no fix), with its diagnosis.
    pub fn validated_fix(&self, signature: &str) -> Result<Option<(Patch, String)>, MemoryError> {
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT patch, diagnosis FROM outcomes WHERE signature = ?1 AND validated = 1 AND verdict = 'healed' AND patch != '' ORDER BY id DESC LIMIT 1",
                params![signature],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(row.and_then(|(p, d)| serde_json::from_str(&p).ok().map(|patch| (patch, d))))
    }

    /// A person's decision on the newest patch of `signature` that waited for one: the
    /// row `pending` becomes `healed` (approved: from now on a validated fix) or `rejected`
    /// (with the reason in its diagnosis). Returns whether such a row existed.
    pub fn resolve_pending(
        &self,
        signature: &str,
        approved: bool,
        reason: &str,
    ) -> Result<bool, MemoryError> {
        let changed = self
            .conn
            .execute(
                "UPDATE outcomes SET verdict = ?2, source = source || ?3,
                    diagnosis = CASE WHEN ?4 = '' THEN diagnosis ELSE diagnosis || char(10) || 'rejected: ' || ?4 END
                 WHERE id = (SELECT id FROM outcomes WHERE signature = ?1 AND verdict = 'pending' ORDER BY id DESC LIMIT 1)",
                params![
                    signature,
                    if approved { "healed" } else { "rejected" },
                    if approved { "+approved" } else { "+rejected" },
                    reason
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(changed > 0)
    }

    /// Why a person rejected the newest proposal for `signature`, when that is the newest
    /// decision about it (a later healed fix clears it).
    pub fn rejection(&self, signature: &str) -> Result<Option<String>, MemoryError> {
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT verdict, diagnosis FROM outcomes WHERE signature = ?1 AND verdict IN ('rejected', 'healed')
                 ORDER BY id DESC LIMIT 1",
                params![signature],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(row.and_then(|(verdict, diagnosis)| {
            (verdict == "rejected").then(|| {
                diagnosis
                    .lines()
                    .rev()
                    .find_map(|l| l.strip_prefix("rejected: "))
                    .unwrap_or("rejected")
                    .to_string()
            })
        }))
    }

    /// How often `signature` was judged flaky, and healed by a validated code fix.
    pub fn seen(&self, signature: &str) -> Result<Remembered, MemoryError> {
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(verdict = 'flaky'), 0), COALESCE(SUM(verdict = 'healed' AND validated = 1), 0)
                 FROM outcomes WHERE signature = ?1",
                params![signature],
                |r| {
                    Ok(Remembered {
                        flaky: r.get::<_, i64>(0)? as u32,
                        healed: r.get::<_, i64>(1)? as u32,
                    })
                },
            )
            .map_err(|e| self.err(e))
    }

    /// Recent outcomes, newest first, and totals per tool and kind.
    pub fn history(&self, limit: usize) -> Result<History, MemoryError> {
        let mut recent = self
            .conn
            .prepare(
                "SELECT at, repo, signature, tool, kind, message, diagnosis, '', validated, verdict, source, prompt_tokens,
                    completion_tokens, cost_usd, llm_calls, llm_calls_saved FROM outcomes ORDER BY id DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let recent: Vec<Outcome> = recent
            .query_map(params![limit as i64], row_to_outcome)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))?;
        let mut by = self
            .conn
            .prepare(
                "SELECT tool, kind, COUNT(*), SUM(verdict = 'healed'), SUM(prompt_tokens + completion_tokens), SUM(cost_usd),
                    SUM(llm_calls), SUM(llm_calls_saved) FROM outcomes WHERE verdict != 'flaky' GROUP BY tool, kind ORDER BY COUNT(*) DESC",
            )
            .map_err(|e| self.err(e))?;
        let groups: Vec<Group> = by
            .query_map([], |r| {
                Ok(Group {
                    tool: r.get(0)?,
                    kind: r.get(1)?,
                    repairs: r.get::<_, i64>(2)? as u64,
                    healed: r.get::<_, i64>(3)? as u64,
                    tokens: r.get::<_, i64>(4)? as u64,
                    cost_usd: r.get(5)?,
                    llm_calls: r.get::<_, i64>(6)? as u64,
                    llm_calls_saved: r.get::<_, i64>(7)? as u64,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))?;
        Ok(History {
            schema: 1,
            recent,
            groups,
        })
    }
}

fn row_to_outcome(r: &rusqlite::Row<'_>) -> rusqlite::Result<Outcome> {
    Ok(Outcome {
        at: r.get::<_, i64>(0)? as u64,
        repo: r.get(1)?,
        signature: r.get(2)?,
        tool: r.get(3)?,
        kind: r.get(4)?,
        message: r.get(5)?,
        diagnosis: r.get(6)?,
        patch: r.get(7)?,
        validated: r.get(8)?,
        verdict: r.get(9)?,
        source: r.get(10)?,
        prompt_tokens: r.get::<_, i64>(11)? as u64,
        completion_tokens: r.get::<_, i64>(12)? as u64,
        cost_usd: r.get(13)?,
        llm_calls: r.get(14)?,
        llm_calls_saved: r.get(15)?,
    })
}

/// Repairs of one tool and kind, summed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    pub tool: String,
    pub kind: String,
    pub repairs: u64,
    pub healed: u64,
    pub tokens: u64,
    pub cost_usd: f64,
    pub llm_calls: u64,
    pub llm_calls_saved: u64,
}

/// `selfheal history --json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct History {
    pub schema: u32,
    pub recent: Vec<Outcome>,
    pub groups: Vec<Group>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::FileChange;

    fn outcome(sig: &str, validated: bool, verdict: &str) -> Outcome {
        let patch = Patch {
            files: vec![FileChange {
                path: "a.py".into(),
                old: Some("x\n".into()),
                new: Some("y\n".into()),
            }],
            notes: vec![],
        };
        Outcome {
            at: 1,
            repo: "/r".into(),
            signature: sig.into(),
            tool: "pytest".into(),
            kind: "test_failure".into(),
            message: "assert 1 == 2".into(),
            diagnosis: "Cause: x".into(),
            patch: serde_json::to_string(&patch).unwrap(),
            validated,
            verdict: verdict.into(),
            source: "llm".into(),
            prompt_tokens: 100,
            completion_tokens: 20,
            cost_usd: 0.01,
            llm_calls: 1,
            llm_calls_saved: 0,
        }
    }

    #[test]
    fn a_validated_fix_is_found_by_signature_and_history_sums_up() {
        let dir = tempfile::tempdir().unwrap();
        let m = Memory::open(dir.path()).unwrap();
        m.record(&outcome("s1", false, "not_healed")).unwrap();
        assert!(
            m.validated_fix("s1").unwrap().is_none(),
            "unvalidated patches are not offered"
        );
        m.record(&outcome("s1", true, "healed")).unwrap();
        let (patch, diagnosis) = m.validated_fix("s1").unwrap().unwrap();
        assert_eq!(patch.files[0].new.as_deref(), Some("y\n"));
        assert_eq!(diagnosis, "Cause: x");
        assert!(m.validated_fix("other").unwrap().is_none());
        let h = m.history(10).unwrap();
        assert_eq!(h.recent.len(), 2);
        assert_eq!(
            (h.groups[0].repairs, h.groups[0].healed, h.groups[0].tokens),
            (2, 1, 240)
        );
    }

    #[test]
    fn a_pending_patch_is_no_fix_until_approved_and_a_rejection_is_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let m = Memory::open(dir.path()).unwrap();
        m.record(&outcome("s1", true, "pending")).unwrap();
        assert!(
            m.validated_fix("s1").unwrap().is_none(),
            "nobody approved it"
        );
        assert!(m.resolve_pending("s1", true, "").unwrap());
        assert!(m.validated_fix("s1").unwrap().is_some(), "approved");
        assert_eq!(m.rejection("s1").unwrap(), None);

        m.record(&outcome("s2", true, "pending")).unwrap();
        assert!(m.resolve_pending("s2", false, "wrong file").unwrap());
        assert!(m.validated_fix("s2").unwrap().is_none());
        assert_eq!(m.rejection("s2").unwrap().as_deref(), Some("wrong file"));
        assert!(!m.resolve_pending("s2", true, "").unwrap(), "nothing waits");
        m.record(&outcome("s2", true, "healed")).unwrap();
        assert_eq!(m.rejection("s2").unwrap(), None, "healed since");
        assert_eq!(m.rejection("never").unwrap(), None);
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        Memory::open(dir.path()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let path = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    let m = Memory::open(&path).unwrap();
                    for i in 0..25 {
                        m.record(&outcome(&format!("s{t}-{i}"), true, "healed"))
                            .unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(
            Memory::open(dir.path())
                .unwrap()
                .history(1000)
                .unwrap()
                .recent
                .len(),
            100
        );
    }

    #[test]
    fn seen_counts_flaky_judgments_and_validated_fixes_and_history_leaves_flaky_out() {
        let dir = tempfile::tempdir().unwrap();
        let m = Memory::open(dir.path()).unwrap();
        assert_eq!(m.seen("s1").unwrap(), Remembered::default());
        m.record(&outcome("s1", false, "flaky")).unwrap();
        m.record(&outcome("s1", false, "flaky")).unwrap();
        m.record(&outcome("s1", false, "healed")).unwrap();
        m.record(&outcome("s1", true, "healed")).unwrap();
        m.record(&outcome("s2", false, "flaky")).unwrap();
        let seen = m.seen("s1").unwrap();
        assert_eq!((seen.flaky, seen.healed), (2, 1));
        let h = m.history(10).unwrap();
        assert_eq!(h.recent.len(), 5, "recent shows flaky judgments");
        assert_eq!(h.groups[0].repairs, 2, "but they are not repairs");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        Memory::open(dir.path()).unwrap();
        Connection::open(dir.path().join(FILE_NAME))
            .unwrap()
            .pragma_update(None, "user_version", 9)
            .unwrap();
        assert!(matches!(
            Memory::open(dir.path()),
            Err(MemoryError::Newer { found: 9, .. })
        ));
    }
}
