//! Downloading logs (shared/github-api/LOGS.md §1): the API answers `302` with a short-lived
//! `Location` on another host. We follow it ourselves with a client that carries no
//! Authorization, check the status and (for the run ZIP) the `PK\x03\x04` signature, and
//! stream the body to a temporary file renamed into place only when it is whole.
//!
//! octocrab's download calls return a 404/5xx body as if it were the ZIP (OCTOCRAB.md), and
//! gh checks the signature before caching (cli/cli:pkg/cmd/run/view/view.go), so we do too.

use std::path::{Path, PathBuf};

use reqwest::header::LOCATION;
use reqwest::{Response, StatusCode};
use tokio::io::AsyncWriteExt;

use super::client::{Client, Req, Transfer, header_str, status_error, transport};
use super::error::GithubError;
use super::repo::RepoSlug;

/// The first bytes of every local-file ZIP entry.
pub const ZIP_MAGIC: &[u8; 4] = b"PK\x03\x04";

/// What the body must look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Zip,
    Text,
}

impl Client {
    /// `GET …/actions/runs/{run_id}/logs` into `dest`; returns its size. With `attempt`, uses
    /// `…/attempts/{n}/logs` (GitHub's `actions/download-workflow-run-attempt-logs`, which
    /// shared/github-api does not describe).
    pub async fn download_run_logs(
        &self,
        repo: &RepoSlug,
        run_id: u64,
        attempt: Option<u32>,
        dest: &Path,
    ) -> Result<u64, GithubError> {
        let path = match attempt {
            Some(n) => format!(
                "{}/actions/runs/{run_id}/attempts/{n}/logs",
                repo.api_path()
            ),
            None => format!("{}/actions/runs/{run_id}/logs", repo.api_path()),
        };
        let what = format!("download the logs of run {run_id} of {repo}");
        self.download(Req::get(self.url(&path), what), Expect::Zip, dest)
            .await
    }

    /// `GET …/actions/jobs/{job_id}/logs` (one job's plain-text log) into `dest`.
    pub async fn download_job_log(
        &self,
        repo: &RepoSlug,
        job_id: u64,
        dest: &Path,
    ) -> Result<u64, GithubError> {
        let path = format!("{}/actions/jobs/{job_id}/logs", repo.api_path());
        let what = format!("download the log of job {job_id} of {repo}");
        self.download(Req::get(self.url(&path), what), Expect::Text, dest)
            .await
    }

    async fn download(&self, req: Req, expect: Expect, dest: &Path) -> Result<u64, GithubError> {
        let resp = match self.execute(&req).await {
            Err(GithubError::NotFound { what, .. }) => {
                return Err(GithubError::LogNotFound { what });
            }
            other => other?,
        };
        let resp = if resp.status().is_redirection() {
            self.follow(&req, resp).await?
        } else {
            resp
        };
        stream_to_file(&req.what, resp, expect, dest, self.transfer.as_deref()).await
    }

    /// GETs the `Location` of a redirect with the token-less client, following up to three
    /// more hops on the download side. Every location must be absolute.
    async fn follow(&self, req: &Req, first: Response) -> Result<Response, GithubError> {
        let mut resp = first;
        for _ in 0..4 {
            let location = header_str(resp.headers(), LOCATION).unwrap_or_default();
            if reqwest::Url::parse(&location).is_err() {
                return Err(GithubError::BadLink {
                    what: req.what.clone(),
                    url: location,
                });
            }
            let target = Req::get(location, req.what.clone());
            resp = self
                .blob
                .get(&target.url)
                .send()
                .await
                .map_err(|e| transport(&target, e))?;
            if !resp.status().is_redirection() {
                break;
            }
        }
        match resp.status() {
            s if s.is_success() => Ok(resp),
            StatusCode::NOT_FOUND => Err(GithubError::LogNotFound {
                what: req.what.clone(),
            }),
            s => {
                let body = resp.text().await.unwrap_or_default();
                Err(status_error(&req.what, s, &body, 1))
            }
        }
    }
}

/// Writes the body next to `dest`, checks its first bytes, then renames it into place.
async fn stream_to_file(
    what: &str,
    mut resp: Response,
    expect: Expect,
    dest: &Path,
    progress: Option<&(dyn Fn(&Transfer<'_>) + Send + Sync)>,
) -> Result<u64, GithubError> {
    let total = resp.content_length();
    let label = what.strip_prefix("download ").unwrap_or(what);
    let tell = |bytes: u64, done: bool| {
        if let Some(progress) = progress {
            progress(&Transfer {
                what: label,
                bytes,
                total,
                done,
            });
        }
    };
    let io = |path: &Path, source| GithubError::Io {
        what: what.to_string(),
        path: path.to_path_buf(),
        source,
    };
    let dir = dest.parent().unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| io(dir, e))?;
    let tmp = temp_path(dest);
    let mut file = tokio::fs::File::create(&tmp)
        .await
        .map_err(|e| io(&tmp, e))?;
    let mut head: Vec<u8> = Vec::with_capacity(16);
    let mut size = 0u64;
    let result: Result<(), GithubError> = async {
        while let Some(chunk) = resp.chunk().await.map_err(|e| GithubError::Transport {
            what: what.to_string(),
            url: resp.url().to_string(),
            source: e,
        })? {
            if head.len() < 16 {
                head.extend(chunk.iter().take(16 - head.len()));
            }
            size += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(|e| io(&tmp, e))?;
            tell(size, false);
        }
        file.flush().await.map_err(|e| io(&tmp, e))?;
        check_start(what, &head, expect)
    }
    .await;
    drop(file);
    tell(size, true);
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(e);
    }
    tokio::fs::rename(&tmp, dest)
        .await
        .map_err(|e| io(dest, e))?;
    Ok(size)
}

/// `dest` with `.part-<pid>` added, in the same folder so the rename stays on one disk.
fn temp_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".part-{}", std::process::id()));
    dest.with_file_name(name)
}

/// A ZIP must open with the local-file signature; a text log must not be an HTML page.
fn check_start(what: &str, head: &[u8], expect: Expect) -> Result<(), GithubError> {
    match expect {
        Expect::Zip if head.starts_with(ZIP_MAGIC) => Ok(()),
        Expect::Zip => Err(GithubError::NotAZip {
            what: what.to_string(),
            start: String::from_utf8_lossy(&head[..head.len().min(12)]).into_owned(),
        }),
        Expect::Text if looks_like_html(head) => Err(GithubError::NotALog {
            what: what.to_string(),
        }),
        Expect::Text => Ok(()),
    }
}

fn looks_like_html(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let t = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .to_ascii_lowercase();
    t.starts_with("<!doctype") || t.starts_with("<html")
}

/// For callers that must name a status that is not an error of ours.
pub fn is_missing_log(e: &GithubError) -> bool {
    matches!(e, GithubError::LogNotFound { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_signature_is_required() {
        assert!(check_start("x", b"PK\x03\x04rest", Expect::Zip).is_ok());
        let e = check_start("download", b"<html><body>", Expect::Zip).unwrap_err();
        assert!(e.to_string().contains("not a ZIP"), "{e}");
        assert!(check_start("x", b"", Expect::Zip).is_err());
    }

    #[test]
    fn html_is_not_a_job_log() {
        assert!(
            check_start(
                "x",
                b"\xef\xbb\xbf2024-01-01T00:00:00.0000000Z hi",
                Expect::Text
            )
            .is_ok()
        );
        assert!(check_start("x", b"  <!DOCTYPE html>", Expect::Text).is_err());
    }

    #[test]
    fn temp_path_sits_beside_dest() {
        let t = temp_path(Path::new("/a/b/logs.zip"));
        assert_eq!(t.parent(), Some(Path::new("/a/b")));
        assert!(
            t.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("logs.zip.part-")
        );
    }
}
