//! The connection to the Docker engine: a unix socket, with an API version both sides speak.
//!
//! bollard 0.21 speaks API 1.53 by default, which a Docker 20.10 engine (API 1.41) rejects
//! with "client version 1.53 is too new". We start at 1.41 (every engine from 20.10 to 28
//! accepts it) and move up to what the engine offers only when it refuses 1.41 as too old
//! (Docker 29 raised its minimum to 1.44).

use std::time::Duration;

use bollard::{API_DEFAULT_VERSION, ClientVersion, Docker};

use super::error::SandboxError;

/// The engine's socket when DOCKER_HOST is not set.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// The API version tried first.
pub const BASE_API: ClientVersion = ClientVersion {
    major_version: 1,
    minor_version: 41,
};
/// Per-request timeout of the client; long operations (builds, waits) have their own limits.
const CLIENT_TIMEOUT_SECS: u64 = 4 * 3600;
/// How long the first contact may take before the engine counts as not running.
const PING_TIMEOUT: Duration = Duration::from_secs(10);

/// A connected engine, and what is needed to connect again (for cleanup on other threads).
#[derive(Clone, Debug)]
pub struct Engine {
    pub docker: Docker,
    socket: String,
    version: ClientVersion,
}

impl Engine {
    /// Connects to `docker_host` (the value of DOCKER_HOST, if any) and checks the engine answers.
    pub async fn connect(docker_host: Option<&str>) -> Result<Engine, SandboxError> {
        let socket = socket_path(docker_host)?;
        let host = format!("unix://{socket}");
        let unreachable = |reason: String| SandboxError::EngineUnreachable {
            host: host.clone(),
            reason,
        };
        let docker = open(&socket, &BASE_API).map_err(|e| unreachable(e.to_string()))?;
        let probe = tokio::time::timeout(PING_TIMEOUT, docker.version()).await;
        let docker = match probe {
            Err(_) => {
                return Err(unreachable(format!(
                    "no answer within {} s",
                    PING_TIMEOUT.as_secs()
                )));
            }
            Ok(Ok(_)) => docker,
            Ok(Err(e)) if e.to_string().contains("too old") => {
                let newer =
                    open(&socket, API_DEFAULT_VERSION).map_err(|e| unreachable(e.to_string()))?;
                newer
                    .negotiate_version()
                    .await
                    .map_err(|e| unreachable(e.to_string()))?
            }
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
        };
        let version = docker.client_version();
        Ok(Engine {
            docker,
            socket,
            version,
        })
    }

    /// The socket path, for messages.
    pub fn socket(&self) -> &str {
        &self.socket
    }

    /// A fresh client on the same socket and API version; it is bound to the runtime that uses it.
    pub fn reconnect(&self) -> Result<Docker, bollard::errors::Error> {
        open(&self.socket, &self.version)
    }
}

fn open(socket: &str, version: &ClientVersion) -> Result<Docker, bollard::errors::Error> {
    Docker::connect_with_unix(socket, CLIENT_TIMEOUT_SECS, version)
}

/// `unix:///run/docker.sock` → `/run/docker.sock`; no DOCKER_HOST → the default socket.
pub fn socket_path(docker_host: Option<&str>) -> Result<String, SandboxError> {
    match docker_host.map(str::trim).filter(|h| !h.is_empty()) {
        None => Ok(DEFAULT_SOCKET.to_string()),
        Some(h) if h.starts_with("unix://") => Ok(h.trim_start_matches("unix://").to_string()),
        Some(h) if h.starts_with('/') => Ok(h.to_string()),
        Some(h) => Err(SandboxError::UnsupportedHost {
            host: h.to_string(),
        }),
    }
}

/// DOCKER_HOST from the environment, for tests and tools without a `Config`
/// (the CLI passes `config.env.docker_host`).
pub fn docker_host_from_env() -> Option<String> {
    std::env::var("DOCKER_HOST").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Hint;

    #[test]
    fn socket_paths() {
        assert_eq!(socket_path(None).unwrap(), "/var/run/docker.sock");
        assert_eq!(socket_path(Some("")).unwrap(), "/var/run/docker.sock");
        assert_eq!(
            socket_path(Some("unix:///run/user/1000/docker.sock")).unwrap(),
            "/run/user/1000/docker.sock"
        );
        let err = socket_path(Some("tcp://10.0.0.1:2375")).unwrap_err();
        assert!(err.to_string().contains("unix socket"), "{err}");
    }

    #[tokio::test]
    async fn missing_socket_gives_the_hint() {
        let err = Engine::connect(Some("unix:///nonexistent/docker.sock"))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("Docker engine not reachable at unix:///nonexistent/docker.sock"),
            "{text}"
        );
        assert!(err.hint().contains("--sandbox local"), "{text}");
    }

    #[tokio::test]
    async fn socket_that_is_not_docker_is_unreachable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fake.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        // Accept and hang up at once: not an engine.
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                drop(s);
            }
        });
        let err = Engine::connect(Some(&format!("unix://{}", path.display())))
            .await
            .unwrap_err();
        assert!(
            matches!(err, SandboxError::EngineUnreachable { .. }),
            "{err}"
        );
    }
}
