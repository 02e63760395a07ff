//! What the LLM cost per UTC day, across every `run` and `offline` that shares the state
//! dir (`spend.json`, `{"version": 1, "days": {"2026-12-05": 0.42}}`), for the daily cap
//! `[llm] max_cost_usd_per_day`. Read-modify-written under the same kind of lock as
//! `handled.json`; only the last 31 days are kept.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{FORMAT_VERSION, Store, StoreError, io, open_lock_file, read_json, write_json};

#[derive(Debug, Default, Serialize, Deserialize)]
struct SpendFile {
    version: u32,
    days: BTreeMap<String, f64>,
}

impl Store {
    fn spend_path(&self) -> PathBuf {
        self.root.join("spend.json")
    }

    /// US dollars spent on `day` (`YYYY-MM-DD`).
    pub fn spent_on(&self, day: &str) -> Result<f64, StoreError> {
        let file: Option<SpendFile> = read_json(&self.spend_path())?;
        Ok(file.and_then(|f| f.days.get(day).copied()).unwrap_or(0.0))
    }

    /// Adds `usd` to `day`'s total.
    pub fn add_spend(&self, day: &str, usd: f64) -> Result<(), StoreError> {
        if usd <= 0.0 {
            return Ok(());
        }
        let lock_path = self.root.join("spend.lock");
        let lock = open_lock_file(&lock_path)?;
        lock.lock().map_err(io("lock", &lock_path))?;
        let mut file: SpendFile = read_json(&self.spend_path())?.unwrap_or_default();
        if file.version > FORMAT_VERSION {
            return Err(StoreError::TooNew {
                path: self.spend_path(),
                found: file.version,
            });
        }
        file.version = FORMAT_VERSION;
        *file.days.entry(day.to_string()).or_default() += usd;
        while file.days.len() > 31 {
            let oldest = file.days.keys().next().cloned().unwrap_or_default();
            file.days.remove(&oldest);
        }
        write_json(&self.spend_path(), &file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spend_adds_up_per_day_and_keeps_a_month() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.spent_on("2026-12-05").unwrap(), 0.0);
        store.add_spend("2026-12-05", 0.25).unwrap();
        store.add_spend("2026-12-05", 0.5).unwrap();
        store.add_spend("2026-12-06", 0.1).unwrap();
        assert!((store.spent_on("2026-12-05").unwrap() - 0.75).abs() < 1e-9);
        for d in 1..=40 {
            store.add_spend(&format!("2027-01-{d:02}"), 0.01).unwrap();
        }
        assert_eq!(
            store.spent_on("2026-12-05").unwrap(),
            0.0,
            "old days dropped"
        );
    }
}
