//! One real exchange with a local model, recorded as a cassette and replayed offline
//! (the prompt is built end to end: failure → context → prompt template).
//!
//! `record_against_a_live_server` is opt-in (`--ignored`, as gh keeps its acceptance tests
//! behind a tag): with `OPENAI_BASE_URL` pointing at `tools/local-llm.sh start`, it sends the
//! patch prompt for a two-file Python repo and records it under `tests/cassettes/`.
//! `recorded_exchange_replays_byte_for_byte` runs always: it rebuilds the same prompt from
//! the same fixture, and the cassette must accept it and give back the recorded reply.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use selfheal::config::Config;
use selfheal::context;
use selfheal::llm::cassette::Exchange;
use selfheal::llm::{
    Budget, ChatRequest, ClientOptions, Meter, MeteredProvider, OpenAiClient, Prompts, Provider,
    RecordingProvider, ReplayProvider,
};
use selfheal::logs::{Failure, Frame, Kind};

const STATS: &str = "def average(xs):\n    \"\"\"Return the arithmetic mean of a non-empty list.\"\"\"\n    total = 0\n    for x in xs:\n        total += x\n    return total / (len(xs) - 1)\n";
const TEST_STATS: &str =
    "from stats import average\n\n\ndef test_average():\n    assert average([2, 4, 6]) == 4\n";

fn cassette_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cassettes/local-llm-python-average")
}

/// The patch request selfheal builds for the fixture repo.
fn fixture_request(repo: &Path) -> ChatRequest {
    std::fs::write(repo.join("stats.py"), STATS).unwrap();
    std::fs::create_dir_all(repo.join("tests")).unwrap();
    std::fs::write(repo.join("tests/test_stats.py"), TEST_STATS).unwrap();
    let mut f = Failure::new("pytest", Kind::TestFailure, "assert 6.0 == 4").at(
        "tests/test_stats.py",
        Some(5),
        None,
    );
    f.excerpt = ">       assert average([2, 4, 6]) == 4\nE       assert 6.0 == 4\nE        +  where 6.0 = average([2, 4, 6])".into();
    f.test = Some("tests/test_stats.py::test_average".into());
    f.frames = vec![
        Frame {
            file: "tests/test_stats.py".into(),
            line: Some(5),
            function: Some("test_average".into()),
        },
        Frame {
            file: "stats.py".into(),
            line: Some(6),
            function: Some("average".into()),
        },
    ];
    let ctx = context::build(&[f], repo, 1500);
    let mut c = Config::defaults().llm;
    c.max_tokens = 160;
    let file = ctx.primary_file.clone().unwrap_or_default();
    Prompts::builtin()
        .patch(&c, &ctx.languages, &file, "", &ctx.render())
        .unwrap()
}

#[tokio::test]
#[ignore = "needs a live OpenAI-compatible server at OPENAI_BASE_URL (tools/local-llm.sh start)"]
async fn record_against_a_live_server() {
    let base_url = std::env::var("OPENAI_BASE_URL").expect("OPENAI_BASE_URL");
    let mut c = Config::defaults().llm;
    c.base_url = base_url;
    c.api_key = std::env::var("OPENAI_API_KEY").unwrap_or_default();
    c.model = std::env::var("SELFHEAL_MODEL").unwrap_or_else(|_| "local".into());
    c.timeout_secs = 300;
    let client = OpenAiClient::new(ClientOptions::from_config(&c)).unwrap();
    let meter = Arc::new(Meter::new(Budget::from_config(&c)));
    let recorder =
        RecordingProvider::new(MeteredProvider::new(client, meter.clone()), &cassette_dir())
            .unwrap();
    let repo = tempfile::tempdir().unwrap();
    let req = fixture_request(repo.path());
    let t = std::time::Instant::now();
    let reply = recorder.complete(&req).await.unwrap();
    println!(
        "prompt:\n{}\n---\nreply ({:.1} s, {:?}):\n{}",
        req.user,
        t.elapsed().as_secs_f64(),
        reply.usage,
        reply.text
    );
    println!("totals: {:?}", meter.totals());
}

#[tokio::test]
async fn recorded_exchange_replays_byte_for_byte() {
    let dir = cassette_dir();
    let recorded = std::fs::read_to_string(dir.join("001-patch.json"))
        .expect("cassette recorded by the ignored test");
    let exchange: Exchange = serde_json::from_str(&recorded).unwrap();
    let repo = tempfile::tempdir().unwrap();
    let req = fixture_request(repo.path());
    let replay = ReplayProvider::open(&dir).unwrap();
    let reply = replay.complete(&req).await.unwrap();
    assert_eq!(reply.text.as_bytes(), exchange.reply.text.as_bytes());
    assert!(
        !reply.usage.estimated && reply.usage.prompt_tokens > 100,
        "{:?}",
        reply.usage
    );
    assert_eq!(replay.unused(), 0);
}
