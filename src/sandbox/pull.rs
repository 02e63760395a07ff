//! Pulling images through the engine: `validate.image`, a job's own `container:` image and
//! the official per-language images are fetched from their registry when missing.
//!
//! The engine does the pull (`POST /images/create`), so its registry mirrors and credentials
//! apply. Progress goes to the caller line by line, one line per layer state change, never
//! per byte. A registry that does not answer fails within [`SILENCE`], with a hint.

use std::collections::HashMap;
use std::time::Duration;

use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt;

use super::engine::Engine;
use super::error::SandboxError;
use super::images::{Progress, image_id};

/// A pull that reports nothing for this long is given up.
pub const SILENCE: Duration = Duration::from_secs(60);

/// `image` split into the `fromImage` and `tag` the pull API takes (`name@sha256:…` keeps
/// its digest in the name; no tag means `latest`).
pub fn split_reference(image: &str) -> (String, String) {
    if image.contains('@') {
        return (image.to_string(), String::new());
    }
    // A ':' after the last '/' is a tag; one before it is a registry port.
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(i) => {
            let at = name_start + i;
            (image[..at].to_string(), image[at + 1..].to_string())
        }
        None => (image.to_string(), "latest".to_string()),
    }
}

/// Makes sure `image` is on the engine, pulling it when missing and `pull` allows it.
pub async fn ensure_image(
    engine: &Engine,
    image: &str,
    pull: bool,
    progress: Progress<'_>,
) -> Result<(), SandboxError> {
    if image_id(engine, image).await?.is_some() {
        return Ok(());
    }
    if !pull {
        return Err(SandboxError::ImageMissing {
            image: image.to_string(),
        });
    }
    pull_image(engine, image, progress).await
}

/// Pulls `image`, reporting layer states; fails with [`SandboxError::PullFailed`].
pub async fn pull_image(
    engine: &Engine,
    image: &str,
    progress: Progress<'_>,
) -> Result<(), SandboxError> {
    let (from_image, tag) = split_reference(image);
    let options = CreateImageOptions {
        from_image: Some(from_image),
        tag: (!tag.is_empty()).then_some(tag),
        ..Default::default()
    };
    progress(&format!("pulling {image}"));
    let failed = |reason: String| SandboxError::PullFailed {
        image: image.to_string(),
        reason,
    };
    let mut stream = engine.docker.create_image(Some(options), None, None);
    let mut layers = LayerStates::default();
    loop {
        let item = match tokio::time::timeout(SILENCE, stream.next()).await {
            Err(_) => {
                return Err(failed(format!(
                    "the registry sent nothing for {} s",
                    SILENCE.as_secs()
                )));
            }
            Ok(None) => break,
            Ok(Some(item)) => item,
        };
        let info = match item {
            Ok(info) => info,
            Err(bollard::errors::Error::DockerResponseServerError { message, .. })
            | Err(bollard::errors::Error::DockerStreamError { error: message }) => {
                return Err(failed(message));
            }
            Err(e) => return Err(failed(e.to_string())),
        };
        if let Some(detail) = info.error_detail {
            return Err(failed(detail.message.unwrap_or_default()));
        }
        if let Some(line) = layers.line(info.id.as_deref(), info.status.as_deref()) {
            progress(&line);
        }
    }
    match image_id(engine, image).await? {
        Some(_) => Ok(()),
        None => Err(failed("the engine reported no image after the pull".into())),
    }
}

/// Remembers each layer's last state so only changes are reported.
#[derive(Default)]
struct LayerStates {
    last: HashMap<String, String>,
}

impl LayerStates {
    /// The line to show for a status message, or `None` when nothing changed.
    fn line(&mut self, id: Option<&str>, status: Option<&str>) -> Option<String> {
        let status = status?.trim();
        if status.is_empty() {
            return None;
        }
        let Some(id) = id.filter(|id| !id.is_empty()) else {
            return Some(status.to_string());
        };
        if self.last.get(id).is_some_and(|s| s == status) {
            return None;
        }
        self.last.insert(id.to_string(), status.to_string());
        Some(format!("{id}: {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_tags_ports_and_digests() {
        let s = |i| split_reference(i);
        assert_eq!(s("python:3.12-slim"), ("python".into(), "3.12-slim".into()));
        assert_eq!(s("python"), ("python".into(), "latest".into()));
        assert_eq!(
            s("127.0.0.1:5000/library/python:3.12-slim"),
            ("127.0.0.1:5000/library/python".into(), "3.12-slim".into())
        );
        assert_eq!(
            s("127.0.0.1:5000/python"),
            ("127.0.0.1:5000/python".into(), "latest".into())
        );
        assert_eq!(
            s("ghcr.io/o/img@sha256:abc"),
            ("ghcr.io/o/img@sha256:abc".into(), String::new())
        );
    }

    #[test]
    fn reports_each_layer_state_once() {
        let mut layers = LayerStates::default();
        assert_eq!(
            layers.line(Some("3.12-slim"), Some("Pulling from library/python")),
            Some("3.12-slim: Pulling from library/python".into())
        );
        assert_eq!(
            layers.line(Some("a1"), Some("Downloading")),
            Some("a1: Downloading".into())
        );
        assert_eq!(layers.line(Some("a1"), Some("Downloading")), None);
        assert_eq!(
            layers.line(Some("a1"), Some("Pull complete")),
            Some("a1: Pull complete".into())
        );
        assert_eq!(
            layers.line(None, Some("Status: Downloaded newer image")),
            Some("Status: Downloaded newer image".into())
        );
        assert_eq!(layers.line(Some("a1"), None), None);
    }
}
