//! Removes containers that a killed selfheal run left behind.
//!
//! A run that dies by SIGKILL (or loses its machine) cannot remove its containers. Each one
//! carries `selfheal=1`, its run id, and the pid and host of the process that made it; a
//! container is stale when it is not from the run we keep and either its process is gone
//! (same host, no `/proc/<pid>`) or it is older than the policy's maximum age.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::query_parameters::{ListContainersOptions, RemoveContainerOptions};

use super::container::{LABEL, LABEL_HOST, LABEL_PID, LABEL_RUN_ID, hostname};
use super::engine::Engine;
use super::error::SandboxError;

/// Which labelled containers count as stale.
#[derive(Clone, Debug)]
pub struct SweepPolicy {
    /// Containers of this run are never touched.
    pub keep_run_id: Option<String>,
    /// Older than this is stale even when its process still seems alive (pid reuse, other hosts).
    pub max_age: Duration,
}

impl Default for SweepPolicy {
    fn default() -> Self {
        SweepPolicy {
            keep_run_id: None,
            max_age: Duration::from_secs(2 * 3600),
        }
    }
}

/// What the sweep knows about one container.
#[derive(Clone, Debug)]
pub struct Labelled {
    pub id: String,
    pub labels: HashMap<String, String>,
    /// Unix seconds.
    pub created: i64,
}

/// Removes stale labelled containers; returns the ids removed.
pub async fn sweep_stale(
    engine: &Engine,
    policy: &SweepPolicy,
) -> Result<Vec<String>, SandboxError> {
    let host = hostname();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let mut removed = Vec::new();
    for c in list_labelled(engine).await? {
        if !is_stale(&c, policy, now, &host, pid_alive) {
            continue;
        }
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        match engine.docker.remove_container(&c.id, Some(options)).await {
            Ok(())
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {
                tracing::info!(container = %c.id, "removed a container left by an earlier selfheal run");
                removed.push(c.id);
            }
            Err(e) => {
                return Err(SandboxError::Docker {
                    action: format!("remove stale container {}", c.id),
                    source: e,
                });
            }
        }
    }
    Ok(removed)
}

/// Every container (running or not) labelled `selfheal=1`.
pub async fn list_labelled(engine: &Engine) -> Result<Vec<Labelled>, SandboxError> {
    let filters = HashMap::from([("label".to_string(), vec![format!("{LABEL}=1")])]);
    let options = ListContainersOptions {
        all: true,
        filters: Some(filters),
        ..Default::default()
    };
    let list = engine
        .docker
        .list_containers(Some(options))
        .await
        .map_err(SandboxError::docker("list containers"))?;
    Ok(list
        .into_iter()
        .filter_map(|c| {
            Some(Labelled {
                id: c.id?,
                labels: c.labels.unwrap_or_default(),
                created: c.created.unwrap_or(0),
            })
        })
        .collect())
}

/// The staleness rule, with the clock, host and process check passed in.
pub fn is_stale(
    c: &Labelled,
    policy: &SweepPolicy,
    now: i64,
    host: &str,
    alive: impl Fn(u32) -> bool,
) -> bool {
    if policy.keep_run_id.is_some() && c.labels.get(LABEL_RUN_ID) == policy.keep_run_id.as_ref() {
        return false;
    }
    if now.saturating_sub(c.created) > policy.max_age.as_secs() as i64 {
        return true;
    }
    let same_host = c.labels.get(LABEL_HOST).is_some_and(|h| h == host);
    let pid = c.labels.get(LABEL_PID).and_then(|p| p.parse::<u32>().ok());
    match pid {
        Some(pid) if same_host => pid != std::process::id() && !alive(pid),
        _ => false,
    }
}

fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(run: &str, pid: u32, host: &str, created: i64) -> Labelled {
        let labels = HashMap::from([
            (LABEL.to_string(), "1".to_string()),
            (LABEL_RUN_ID.to_string(), run.to_string()),
            (LABEL_PID.to_string(), pid.to_string()),
            (LABEL_HOST.to_string(), host.to_string()),
        ]);
        Labelled {
            id: format!("c-{run}"),
            labels,
            created,
        }
    }

    #[test]
    fn dead_owner_on_this_host_is_stale() {
        let p = SweepPolicy::default();
        assert!(is_stale(
            &container("old", 42, "h", 1000),
            &p,
            1010,
            "h",
            |_| false
        ));
        assert!(!is_stale(
            &container("live", 42, "h", 1000),
            &p,
            1010,
            "h",
            |_| true
        ));
    }

    #[test]
    fn other_hosts_only_by_age() {
        let p = SweepPolicy {
            keep_run_id: None,
            max_age: Duration::from_secs(60),
        };
        assert!(!is_stale(
            &container("x", 42, "other", 1000),
            &p,
            1030,
            "h",
            |_| false
        ));
        assert!(is_stale(
            &container("x", 42, "other", 1000),
            &p,
            1061,
            "h",
            |_| true
        ));
    }

    #[test]
    fn our_run_and_our_process_are_kept() {
        let p = SweepPolicy {
            keep_run_id: Some("mine".into()),
            max_age: Duration::from_secs(1),
        };
        assert!(!is_stale(
            &container("mine", 42, "h", 0),
            &p,
            10_000,
            "h",
            |_| false
        ));
        let me = container("other", std::process::id(), "h", 1000);
        assert!(!is_stale(&me, &SweepPolicy::default(), 1001, "h", |_| {
            false
        }));
    }
}
