//! Cassettes: `--record DIR` saves each exchange, `--replay DIR` answers from them offline.
//!
//! One exchange per file, `001-diagnosis.json`, `002-patch.json`, … holding the request as
//! sent, with secrets masked once more (the API key is never part of a [`ChatRequest`]), and
//! the reply with its usage. Replay answers in order and checks that each
//! request matches its recording in purpose, system and user text (line endings and trailing
//! spaces aside; `max_tokens` and `temperature` are not compared). A different prompt or one
//! call too many is an error, never a silent answer. Replies replay byte for byte.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{BoxFuture, ChatReply, ChatRequest, LlmError, Provider};

/// The file format; `version` is bumped on incompatible changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub version: u32,
    pub index: usize,
    pub request: ChatRequest,
    pub reply: ChatReply,
}

const VERSION: u32 = 1;

fn cassette_err(path: &Path, message: impl std::fmt::Display) -> LlmError {
    LlmError::Cassette {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// The request as written to disk: every line through the secret masker (the pipeline
/// masks what it sends already; a provider used on its own may not). Replay masks the new
/// request the same way before comparing. Replies are kept verbatim so that they replay
/// byte for byte.
fn masked(req: &ChatRequest) -> ChatRequest {
    super::mask_request(req).0
}

/// True for the names this module writes: `NNN-purpose.json`.
fn is_exchange_file(name: &str) -> bool {
    let digits = name.bytes().take_while(u8::is_ascii_digit).count();
    digits >= 3 && name[digits..].starts_with('-') && name.ends_with(".json")
}

/// Wraps a provider and writes every successful exchange to `dir`.
pub struct RecordingProvider<P> {
    inner: P,
    dir: PathBuf,
    next: Mutex<usize>,
}

impl<P: Provider> RecordingProvider<P> {
    /// Creates `dir` and removes exchanges of an earlier recording there.
    pub fn new(inner: P, dir: &Path) -> Result<Self, LlmError> {
        std::fs::create_dir_all(dir).map_err(|e| cassette_err(dir, e))?;
        for entry in std::fs::read_dir(dir)
            .map_err(|e| cassette_err(dir, e))?
            .flatten()
        {
            if is_exchange_file(&entry.file_name().to_string_lossy()) {
                std::fs::remove_file(entry.path()).map_err(|e| cassette_err(&entry.path(), e))?;
            }
        }
        Ok(RecordingProvider {
            inner,
            dir: dir.to_path_buf(),
            next: Mutex::new(1),
        })
    }

    async fn complete_recorded(&self, req: &ChatRequest) -> Result<ChatReply, LlmError> {
        let reply = self.inner.complete(req).await?;
        let index = {
            let mut n = self.next.lock().expect("cassette lock");
            *n += 1;
            *n - 1
        };
        let exchange = Exchange {
            version: VERSION,
            index,
            request: masked(req),
            reply: reply.clone(),
        };
        self.write(&exchange)?;
        Ok(reply)
    }

    fn write(&self, ex: &Exchange) -> Result<(), LlmError> {
        let purpose: String = ex
            .request
            .purpose
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let path = self.dir.join(format!("{:03}-{purpose}.json", ex.index));
        let json = serde_json::to_string_pretty(ex).map_err(|e| cassette_err(&path, e))?;
        crate::store::write_atomic(&path, (json + "\n").as_bytes())
            .map_err(|e| cassette_err(&path, e))
    }
}

impl<P: Provider> Provider for RecordingProvider<P> {
    fn complete<'a>(&'a self, req: &'a ChatRequest) -> BoxFuture<'a, Result<ChatReply, LlmError>> {
        Box::pin(self.complete_recorded(req))
    }
}

/// Answers from a recorded cassette, in order, with no network.
#[derive(Debug)]
pub struct ReplayProvider {
    dir: PathBuf,
    exchanges: Vec<(PathBuf, Exchange)>,
    next: Mutex<usize>,
}

impl ReplayProvider {
    /// Loads every `NNN-*.json` in `dir`, in name order.
    pub fn open(dir: &Path) -> Result<Self, LlmError> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| cassette_err(dir, e))?
            .flatten()
            .filter(|e| is_exchange_file(&e.file_name().to_string_lossy()))
            .map(|e| e.path())
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(cassette_err(
                dir,
                "no recorded exchanges (NNN-purpose.json) here",
            ));
        }
        let exchanges = paths
            .into_iter()
            .map(|p| load(&p).map(|ex| (p, ex)))
            .collect::<Result<_, _>>()?;
        Ok(ReplayProvider {
            dir: dir.to_path_buf(),
            exchanges,
            next: Mutex::new(0),
        })
    }

    /// Recorded exchanges not replayed yet.
    pub fn unused(&self) -> usize {
        self.exchanges.len() - *self.next.lock().expect("cassette lock")
    }

    fn replay(&self, req: &ChatRequest) -> Result<ChatReply, LlmError> {
        let mut next = self.next.lock().expect("cassette lock");
        let index = *next + 1;
        let Some((path, ex)) = self.exchanges.get(*next) else {
            return Err(LlmError::CassetteExhausted {
                dir: self.dir.display().to_string(),
                recorded: self.exchanges.len(),
                index,
            });
        };
        if let Some(diff) = difference(&ex.request, &masked(req)) {
            return Err(LlmError::CassetteMismatch {
                index,
                path: path.display().to_string(),
                diff,
            });
        }
        *next += 1;
        Ok(ex.reply.clone())
    }
}

impl Provider for ReplayProvider {
    fn complete<'a>(&'a self, req: &'a ChatRequest) -> BoxFuture<'a, Result<ChatReply, LlmError>> {
        Box::pin(std::future::ready(self.replay(req)))
    }
}

fn load(path: &Path) -> Result<Exchange, LlmError> {
    let text = std::fs::read_to_string(path).map_err(|e| cassette_err(path, e))?;
    let ex: Exchange = serde_json::from_str(&text).map_err(|e| cassette_err(path, e))?;
    if ex.version != VERSION {
        return Err(cassette_err(
            path,
            format!(
                "format version {} (this selfheal reads {VERSION})",
                ex.version
            ),
        ));
    }
    Ok(ex)
}

/// Where the new request departs from the recorded one, or None when they match.
fn difference(recorded: &ChatRequest, now: &ChatRequest) -> Option<String> {
    if recorded.purpose != now.purpose {
        return Some(format!(
            "purpose was {:?}, now {:?}",
            recorded.purpose, now.purpose
        ));
    }
    first_differing_line("system", &recorded.system, &now.system)
        .or_else(|| first_differing_line("user", &recorded.user, &now.user))
}

fn first_differing_line(field: &str, recorded: &str, now: &str) -> Option<String> {
    let a: Vec<&str> = recorded.lines().map(str::trim_end).collect();
    let b: Vec<&str> = now.lines().map(str::trim_end).collect();
    let (a, b) = (trim_blank_tail(&a), trim_blank_tail(&b));
    let n = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if n == a.len() && n == b.len() {
        return None;
    }
    let show = |v: &[&str]| {
        v.get(n)
            .map_or("(end of text)".to_string(), |l| format!("{l:?}"))
    };
    Some(format!(
        "{field} message line {}: recorded {}, now {}",
        n + 1,
        show(a),
        show(b)
    ))
}

fn trim_blank_tail<'a, 'b>(v: &'a [&'b str]) -> &'a [&'b str] {
    let end = v.iter().rposition(|l| !l.is_empty()).map_or(0, |i| i + 1);
    &v[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Hint;
    use crate::llm::fake::{FakeLlm, Scripted};
    use crate::llm::{ClientOptions, OpenAiClient, RetryPolicy};
    use std::time::Duration;

    fn req(purpose: &str, user: &str) -> ChatRequest {
        ChatRequest {
            system: "You fix bugs.".into(),
            user: user.into(),
            max_tokens: 128,
            temperature: 0.0,
            purpose: purpose.into(),
            seed: None,
            done: crate::llm::Done::Never,
        }
    }

    fn client(fake: &FakeLlm) -> OpenAiClient {
        OpenAiClient::new(ClientOptions {
            base_url: fake.base_url(),
            api_key: "sk-secret-never-recorded".into(),
            model: "gpt-4o-mini".into(),
            timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            stream: false,
            silence: Duration::from_secs(5),
            on_tokens: None,
        })
        .unwrap()
    }

    const ODD_REPLY: &str = "Sure!\n```diff\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\t \n+b  \r\n```\n\u{1F600} trailing  ";

    #[tokio::test]
    async fn record_then_replay_gives_identical_replies_offline() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeLlm::start().await;
        fake.push(Scripted::ok("diagnosis: off by one"))
            .push(Scripted::truncated(ODD_REPLY));
        let rec = RecordingProvider::new(client(&fake), dir.path()).unwrap();
        let a = rec
            .complete(&req("diagnosis", "log tail\nline 2"))
            .await
            .unwrap();
        let b = rec.complete(&req("patch", "stats.py:6")).await.unwrap();
        fake.verify().unwrap();
        drop(fake);

        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["001-diagnosis.json", "002-patch.json"]);
        let raw = std::fs::read_to_string(dir.path().join("002-patch.json")).unwrap();
        assert!(
            !raw.contains("sk-secret"),
            "the API key must never be recorded"
        );

        let replay = ReplayProvider::open(dir.path()).unwrap();
        assert_eq!(
            replay
                .complete(&req("diagnosis", "log tail\r\nline 2  \n"))
                .await
                .unwrap(),
            a
        );
        let b2 = replay.complete(&req("patch", "stats.py:6")).await.unwrap();
        assert_eq!(b2, b);
        assert_eq!(b2.text.as_bytes(), ODD_REPLY.as_bytes());
        assert_eq!(replay.unused(), 0);
        let err = replay.complete(&req("retry", "again")).await.unwrap_err();
        assert!(
            matches!(
                err,
                LlmError::CassetteExhausted {
                    recorded: 2,
                    index: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.hint().contains("--record"));
    }

    #[tokio::test]
    async fn requests_with_secret_like_text_record_and_replay_consistently() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeLlm::start().await;
        fake.push(Scripted::ok("x"));
        let secretish = "config.py lines 1-2:\n1| API_TOKEN = \"ghp_0123456789abcdefghijABCDEFGHIJ012345\"\n2| password=hunter2";
        let rec = RecordingProvider::new(client(&fake), dir.path()).unwrap();
        rec.complete(&req("patch", secretish)).await.unwrap();
        let replay = ReplayProvider::open(dir.path()).unwrap();
        assert_eq!(
            replay
                .complete(&req("patch", secretish))
                .await
                .unwrap()
                .text,
            "x"
        );
    }

    #[tokio::test]
    async fn replay_refuses_a_different_prompt() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeLlm::start().await;
        fake.push(Scripted::ok("x"));
        let rec = RecordingProvider::new(client(&fake), dir.path()).unwrap();
        rec.complete(&req("patch", "a\nb\nc")).await.unwrap();
        let replay = ReplayProvider::open(dir.path()).unwrap();
        let err = replay.complete(&req("patch", "a\nB\nc")).await.unwrap_err();
        assert!(
            err.to_string()
                .ends_with(r#"user message line 2: recorded "b", now "B""#),
            "{err}"
        );
        let err = replay
            .complete(&req("diagnosis", "a\nb\nc"))
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains(r#"purpose was "patch", now "diagnosis""#),
            "{err}"
        );
        assert_eq!(
            replay.unused(),
            1,
            "a refused request does not consume the exchange"
        );
    }

    #[test]
    fn recording_again_clears_the_old_exchanges_and_empty_dirs_fail() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("007-patch.json"), "{}").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "keep").unwrap();
        let err = ReplayProvider::open(dir.path()).unwrap_err();
        assert!(matches!(err, LlmError::Cassette { .. }), "{err}");
        struct Never;
        impl Provider for Never {
            fn complete<'a>(
                &'a self,
                _: &'a ChatRequest,
            ) -> BoxFuture<'a, Result<ChatReply, LlmError>> {
                unreachable!()
            }
        }
        let _rec = RecordingProvider::new(Never, dir.path()).unwrap();
        assert!(!dir.path().join("007-patch.json").exists());
        assert!(dir.path().join("notes.txt").exists());
        let err = ReplayProvider::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("no recorded exchanges"), "{err}");
    }
}
