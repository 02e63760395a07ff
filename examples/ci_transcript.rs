//! Prints a transcript of the CI flow (issue 16) against the local fakes: a risky patch that
//! becomes a draft pull request labelled for review, and a run from a fork that gets only a
//! comment. The GitHub API is the fake GitHub, the LLM the scripted fake, git a real bare
//! repository, the tests the sample's own (`python3 -m pytest`).
//!
//! `cargo build && cargo run --example ci_transcript [-- PATH/TO/selfheal]`

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use git2::{Repository, Signature};
use selfheal::github::fake::{FakeGithub, FakeJob, FakePull, FakeRun, Scenario};
use selfheal::llm::fake::{FakeLlm, Scripted};

const TOKEN: &str = "ghs_transcript_token";

fn main() {
    let bin = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("own path");
            exe.parent()
                .and_then(Path::parent)
                .expect("target/debug")
                .join("selfheal")
        });
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    println!("# A risky patch in CI (max_auto_risk = 0): a draft pull request\n");
    let risky = Sample::broken("py-calc");
    let mut sc = risky.scenario(701);
    sc.pulls.push(pull(1, "feature", &risky.sha));
    sc.runs[0].pull_requests = vec![1];
    let gh = rt.block_on(FakeGithub::start(sc));
    let llm = rt.block_on(FakeLlm::start());
    llm.push(Scripted::ok(&risky.fix_reply()));
    risky.run(
        &bin,
        &gh,
        &llm,
        701,
        &[("SELFHEAL_POLICY_MAX_AUTO_RISK", "0")],
    );
    let fix = gh.with_scenario(|s| s.pulls.last().cloned()).expect("a PR");
    println!(
        "## pull request #{} (draft: {}, labels: {:?})\n{}",
        fix.number, fix.draft, fix.labels, fix.body
    );
    show_comments(&gh);

    println!("\n# A run from a fork: triage only, a comment, no pull request\n");
    let fork = Sample::broken("py-calc");
    let mut sc = fork.scenario(702);
    sc.runs[0].head_repository = Some("contrib/app".into());
    sc.runs[0].event = "pull_request".into();
    sc.runs[0].head_branch = Some("feature".into());
    sc.pulls.push(pull(1, "contrib:feature", &fork.sha));
    let gh = rt.block_on(FakeGithub::start(sc));
    let llm = rt.block_on(FakeLlm::start());
    fork.run(&bin, &gh, &llm, 702, &[]);
    println!(
        "## pull requests: {} (the contributor's own); LLM requests: {}",
        gh.with_scenario(|s| s.pulls.len()),
        llm.requests().len()
    );
    show_comments(&gh);
}

fn pull(number: u64, head: &str, sha: &str) -> FakePull {
    FakePull {
        number,
        title: "Add moving averages".into(),
        body: String::new(),
        head: head.into(),
        head_sha: sha.into(),
        base: "main".into(),
        state: "open".into(),
        merged: false,
        draft: false,
        labels: Vec::new(),
    }
}

fn show_comments(gh: &FakeGithub) {
    for c in gh.with_scenario(|s| s.comments.clone()) {
        println!(
            "## comment {} on #{} by {} (edits: {})\n{}",
            c.id, c.issue_number, c.user, c.edits, c.body
        );
    }
}

/// A broken copy of a sample project committed on `main`, pushed to a bare `origin`.
struct Sample {
    dir: tempfile::TempDir,
    bare: PathBuf,
    sha: String,
    meta: serde_json::Value,
    zip: PathBuf,
}

impl Sample {
    fn broken(name: &str) -> Sample {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample_projects")
            .join(name);
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("repo");
        let copied = Command::new("cp").arg("-a").arg(&src).arg(&root).status();
        assert!(copied.is_ok_and(|s| s.success()), "cp");
        let broke = Command::new("bash").arg(root.join("break.sh")).status();
        assert!(broke.is_ok_and(|s| s.success()), "break.sh");
        let repo = Repository::init(&root).expect("git init");
        let mut index = repo.index().expect("index");
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .expect("add");
        let tree = repo
            .find_tree(index.write_tree().expect("tree"))
            .expect("tree");
        let dev = Signature::now("Dev", "dev@acme.org").expect("signature");
        let sha = repo
            .commit(Some("refs/heads/main"), &dev, &dev, "broken", &tree, &[])
            .expect("commit")
            .to_string();
        let bare = dir.path().join("remote.git");
        Repository::init_bare(&bare).expect("bare");
        let mut origin = repo
            .remote("origin", &format!("file://{}", bare.display()))
            .expect("origin");
        origin
            .push(&["refs/heads/main:refs/heads/main"], None)
            .expect("push main");
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join("selfheal.json")).expect("meta"))
                .expect("meta JSON");
        let zip = src.join(meta["failure_zip"].as_str().unwrap_or("failure.zip"));
        Sample {
            dir,
            bare,
            sha,
            meta,
            zip,
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// The failed run `id` of this commit, its one job (steps from the ZIP) and its logs.
    fn scenario(&self, id: u64) -> Scenario {
        let mut sc = Scenario::new("acme", "app", TOKEN);
        sc.git_dir = Some(self.bare.clone());
        sc = sc.with_run(FakeRun {
            head_sha: self.sha.clone(),
            ..FakeRun::failed(id)
        });
        sc.jobs.insert(id, vec![self.job(id * 10)]);
        sc.run_logs
            .insert(id, std::fs::read(&self.zip).expect("failure.zip"));
        sc
    }

    fn job(&self, id: u64) -> FakeJob {
        let file = std::fs::File::open(&self.zip).expect("zip");
        let mut archive = zip::ZipArchive::new(file).expect("zip archive");
        let (mut name, mut steps) = (String::new(), Vec::new());
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).expect("entry");
            let path = entry.name().unwrap_or_default().to_string();
            let Some((job, file)) = path.split_once('/') else {
                continue;
            };
            let Some((n, step)) = file.strip_suffix(".txt").and_then(|f| f.split_once('_')) else {
                continue;
            };
            let mut text = String::new();
            let _ = entry.read_to_string(&mut text);
            name = job.to_string();
            let failed = text.contains("##[error]Process completed");
            steps.push((n.parse::<u32>().unwrap_or(0), step.to_string(), failed));
        }
        steps.sort();
        let failing = steps.iter().position(|s| s.2).unwrap_or(0);
        let names: Vec<&str> = steps.iter().map(|s| s.1.as_str()).collect();
        FakeJob::failing_at(id, &name, &names, failing)
    }

    /// The sample's own fix as a SEARCH/REPLACE reply.
    fn fix_reply(&self) -> String {
        let fix = &self.meta["fix"];
        let file = fix["file"].as_str().expect("fix.file");
        let (find, replace) = (
            fix["find"].as_str().expect("find"),
            fix["replace"].as_str().expect("replace"),
        );
        let text = std::fs::read_to_string(self.root().join(file)).expect("file");
        let line = text.lines().find(|l| l.contains(find)).expect("find line");
        format!(
            "The last window is dropped.\n\n{file}\n<<<<<<< SEARCH\n{line}\n=======\n{}\n>>>>>>> REPLACE\n",
            line.replacen(find, replace, 1)
        )
    }

    /// `selfheal run` as the action runs it in CI, printed with its outputs.
    fn run(&self, bin: &Path, gh: &FakeGithub, llm: &FakeLlm, id: u64, env: &[(&str, &str)]) {
        let actions = self.dir.path().join("actions");
        std::fs::create_dir_all(&actions).expect("actions dir");
        let args = [
            "run",
            "--repo",
            "acme/app",
            "--run-id",
            &id.to_string(),
            "--sandbox",
            "local",
            "--yes",
        ];
        println!("$ CI=true GITHUB_ACTIONS=true selfheal {}", args.join(" "));
        let mut cmd = Command::new(bin);
        cmd.current_dir(self.root())
            .env("CI", "true")
            .env("GITHUB_ACTIONS", "true")
            .env("NO_COLOR", "1")
            .env("GITHUB_API_URL", gh.api_url())
            .env("GH_TOKEN", TOKEN)
            .env("OPENAI_BASE_URL", llm.base_url())
            .env("OPENAI_API_KEY", "test")
            .env("GITHUB_STEP_SUMMARY", actions.join("summary.md"))
            .env("GITHUB_OUTPUT", actions.join("output"))
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("selfheal runs");
        print!("{}", String::from_utf8_lossy(&out.stderr));
        print!("{}", String::from_utf8_lossy(&out.stdout));
        println!("(exit {})\n", out.status.code().unwrap_or(-1));
        for f in ["output", "summary.md"] {
            let text = std::fs::read_to_string(actions.join(f)).unwrap_or_default();
            println!("## {f}\n{text}");
        }
    }
}
