//! Issue 8: every deterministic fixer on a real formatting or lint failure of a sample
//! project. The real tool checks a broken copy; its real output, with the runner's paths,
//! becomes a run-log ZIP (`tests/support/runlog.py`); `selfheal offline` must heal it
//! with the fixer alone: the fake LLM is never called, the file is exactly what the
//! tool's own fix makes of it on a second copy, and the check passes again.
//!
//! A missing tool skips its test on a developer machine and fails it when `CI` is set
//! (`.ci/run` installs rustfmt, clippy, gofmt, ruff, black and eslint).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use selfheal::llm::fake::FakeLlm;
use serde_json::Value;

use crate::cli::selfheal;
use crate::heal::runtime;

/// One fixer's end-to-end case.
struct Case {
    /// The sample project (under `sample_projects/`) that is copied and broken.
    sample: &'static str,
    /// A command that succeeds when the tool is installed.
    probe: &'static str,
    /// Makes the copy clean under the tool, as a project that runs it in CI is; fails
    /// the test if the tool still complains.
    prepare: &'static str,
    /// Tool configuration written into the copy first: (path, contents).
    config: &'static [(&'static str, &'static str)],
    /// The file broken, and the text (found exactly once) replaced in it.
    file: &'static str,
    find: &'static str,
    replace: &'static str,
    /// The CI step's command (`sh -c`); it must fail on the broken copy.
    check: &'static str,
    /// How a developer fixes it by hand; run on a second broken copy for the expected file.
    fix: &'static str,
    /// The fixer that must heal it, as the run record names it.
    fixer: &'static str,
}

/// What a test needs from its tool: the environment to run it with.
type ToolEnv = Vec<(String, String)>;

/// The environment the case's tool runs in, or `None` (after saying why) to skip.
/// Debian's eslint lives in /usr/share/nodejs, which a node not built by Debian (e.g.
/// NodeSource's) does not search, so `NODE_PATH` is tried before giving up.
fn tool_env(case: &Case) -> Option<ToolEnv> {
    let candidates: [ToolEnv; 2] = [
        Vec::new(),
        vec![("NODE_PATH".into(), "/usr/share/nodejs".into())],
    ];
    for env in candidates {
        let ok = Command::new("sh")
            .args(["-c", case.probe])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(env);
        }
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(
        !ci,
        "CI is set, so `{}` must work for the `{}` fixer test (.ci/run installs it)",
        case.probe, case.fixer
    );
    eprintln!(
        "SKIP `{}` fixer test: `{}` failed (tool not installed)",
        case.fixer, case.probe
    );
    None
}

/// A copy of the sample at `<work>/<sample>`, so the runner path names the same repo.
fn copy_sample(sample: &str, work: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_projects")
        .join(sample);
    copy_tree(&src, &work.join(sample))
}

fn copy_tree(from: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success(), "cp -a {} failed", from.display());
    to.to_path_buf()
}

/// The case's file after the tool's own fix ran on a copy of the broken `repo`.
fn fixed_by_hand(repo: &Path, work: &Path, case: &Case, env: &ToolEnv) -> String {
    let copy = copy_tree(repo, &work.join("by-hand").join(case.sample));
    let out = sh(case.fix, &copy, env);
    assert!(
        out.status.success(),
        "`{}` on the broken copy:\n{}",
        case.fix,
        text(&out)
    );
    std::fs::read_to_string(copy.join(case.file)).unwrap()
}

/// `sh -c cmd` in `repo`, stdout and stderr interleaved as a runner's log has them.
fn sh(cmd: &str, repo: &Path, env: &ToolEnv) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("exec 2>&1\n{cmd}"))
        .current_dir(repo)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("CARGO_TARGET_DIR", repo.join("target"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{cmd}`: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Replaces `case.find` (which must occur once) in the case's file.
fn break_file(repo: &Path, case: &Case) {
    let path = repo.join(case.file);
    let clean = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        clean.matches(case.find).count(),
        1,
        "{} after `{}` must hold {:?} exactly once:\n{clean}",
        case.file,
        case.prepare,
        case.find
    );
    std::fs::write(&path, clean.replacen(case.find, case.replace, 1)).unwrap();
}

/// The log as GitHub would show it: this checkout's path is the runner's, as
/// tests/support/make_samples.py does it.
fn runner_paths(log: &str, repo: &Path, sample: &str) -> String {
    let runner = format!("/home/runner/work/{sample}/{sample}");
    let mut log = log.replace(&repo.display().to_string(), &runner);
    if let Some(home) = std::env::var_os("HOME").filter(|h| h.len() > 1) {
        log = log.replace(&*home.to_string_lossy(), "/home/runner");
    }
    log
}

/// Wraps one failed step's output in a run-log ZIP with tests/support/runlog.py.
fn write_run_log(zip: &Path, cmd: &str, exit: i32, log: &str) {
    use std::io::Write;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/runlog.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args(["--job", "lint", "--cmd", cmd, "--exit", &exit.to_string()])
        .arg("--out")
        .arg(zip)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs tests/support/runlog.py");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(log.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "runlog.py failed");
}

/// `selfheal --json offline ZIP` on `repo`, validating with the check command, with the
/// LLM pointed at `llm`.
fn heal(repo: &Path, zip: &Path, case: &Case, env: &ToolEnv, llm: &FakeLlm) -> Output {
    selfheal()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("OPENAI_BASE_URL", llm.base_url())
        .env("OPENAI_API_KEY", "test")
        .env("SELFHEAL_LLM_MAX_RETRY_WAIT_SECS", "1")
        .env("SELFHEAL_VALIDATE_COMMAND", case.check)
        .env("CARGO_TARGET_DIR", repo.join("target"))
        .arg("--json")
        .arg("offline")
        .arg(zip)
        .arg("--repo-dir")
        .arg(repo)
        .args(["--sandbox", "local", "--yes"])
        .output()
        .unwrap()
}

/// The run record says the fixer healed it and no LLM call was made.
fn assert_fixer_healed(record: &Value, case: &Case, shown: &str) {
    assert_eq!(record["verdict"], "healed", "{shown}");
    let sources: Vec<&Value> = record["attempts"]
        .as_array()
        .map(|a| a.iter().map(|a| &a["source"]).collect())
        .unwrap_or_default();
    assert_eq!(
        sources,
        [&serde_json::json!({ "fixer": case.fixer })],
        "one attempt, by the fixer: {shown}"
    );
    assert_eq!(record["llm_calls"], 0, "{shown}");
    assert!(
        record["llm_calls_saved"].as_u64() >= Some(1),
        "llm_calls_saved: {shown}"
    );
    assert_eq!(record["applied"], serde_json::json!([case.file]), "{shown}");
}

/// The whole story for one fixer; prints how long it took.
fn heal_with_fixer(case: &Case) {
    let Some(env) = tool_env(case) else {
        return;
    };
    let started = Instant::now();
    let work = tempfile::tempdir().unwrap();
    let repo = copy_sample(case.sample, work.path());
    for (path, contents) in case.config {
        std::fs::write(repo.join(path), contents).unwrap();
    }
    let prepared = sh(case.prepare, &repo, &env);
    assert!(
        prepared.status.success(),
        "`{}` on a clean {}:\n{}",
        case.prepare,
        case.sample,
        text(&prepared)
    );
    break_file(&repo, case);
    let expected = fixed_by_hand(&repo, work.path(), case, &env);
    let checked = sh(case.check, &repo, &env);
    let log = text(&checked);
    let exit = checked.status.code().unwrap_or(1);
    assert_ne!(
        exit, 0,
        "`{}` must fail on the broken copy:\n{log}",
        case.check
    );
    let zip = work.path().join("failure.zip");
    write_run_log(
        &zip,
        case.check,
        exit,
        &runner_paths(&log, &repo, case.sample),
    );

    let rt = runtime();
    let llm = rt.block_on(FakeLlm::start());
    let out = heal(&repo, &zip, case, &env, &llm);
    let shown = format!("{}\nthe tool said:\n{log}", text(&out));
    assert_eq!(out.status.code(), Some(0), "not healed:\n{shown}");
    let record: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--json prints one JSON record ({e}):\n{shown}"));
    assert_fixer_healed(&record, case, &shown);
    assert!(llm.requests().is_empty(), "the LLM was called:\n{shown}");
    llm.verify().unwrap();
    assert_eq!(
        std::fs::read_to_string(repo.join(case.file)).unwrap(),
        expected,
        "{} is not what `{}` makes of it",
        case.file,
        case.fix
    );
    let after = sh(case.check, &repo, &env);
    assert!(
        after.status.success(),
        "`{}` still fails after the heal:\n{}",
        case.check,
        text(&after)
    );
    eprintln!(
        "`{}` healed {} in {:.1} s",
        case.fixer,
        case.sample,
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn cargo_fmt_heals_a_mangled_function() {
    heal_with_fixer(&Case {
        sample: "rs-stack",
        probe: "cargo fmt --version",
        prepare: "cargo fmt",
        config: &[],
        file: "src/stack.rs",
        find: "    pub fn push(&mut self, value: T) {\n        self.items.push(value);\n    }",
        replace: "    pub fn push(&mut self,value:T){ self.items.push(value) ;}",
        check: "cargo fmt --check",
        fix: "cargo fmt",
        fixer: "cargo fmt",
    });
}

#[test]
fn cargo_clippy_fix_heals_a_needless_return() {
    heal_with_fixer(&Case {
        sample: "rs-stack",
        probe: "cargo clippy --version",
        prepare: "cargo clippy -- -D warnings",
        config: &[],
        file: "src/stack.rs",
        find: "        self.items.len()\n",
        replace: "        return self.items.len();\n",
        check: "cargo clippy -- -D warnings",
        fix: "cargo clippy --fix --allow-no-vcs",
        fixer: "cargo clippy --fix",
    });
}

#[test]
fn gofmt_heals_a_reindented_function() {
    heal_with_fixer(&Case {
        sample: "go-geometry",
        probe: "command -v gofmt",
        prepare: "gofmt -w .",
        config: &[],
        file: "shapes/shapes.go",
        find: "\ts := t.Perimeter() / 2\n\treturn math.Sqrt(s * (s - t.A) * (s - t.B) * (s - t.C))\n",
        replace: "    s := t.Perimeter()/2\n        return math.Sqrt(s*(s-t.A)*(s-t.B)*(s-t.C))\n",
        // gofmt exits 0 either way; CI fails on any output
        check: "out=$(gofmt -l -d .); echo \"$out\"; test -z \"$out\"",
        fix: "gofmt -w .",
        fixer: "gofmt -w",
    });
}

/// A function respaced and requoted, for ruff format.
const PY_MANGLED: &str = "def median( values ):\n    if not values:\n          raise ValueError( 'median() of an empty sequence' )\n    ordered=sorted(values)\n";
const PY_CLEAN: &str = "def median(values):\n    if not values:\n        raise ValueError(\"median() of an empty sequence\")\n    ordered = sorted(values)\n";

#[test]
fn ruff_format_heals_a_mangled_function() {
    heal_with_fixer(&Case {
        sample: "py-calc",
        probe: "ruff --version",
        prepare: "ruff format .",
        config: &[],
        file: "calc/stats.py",
        find: PY_CLEAN,
        replace: PY_MANGLED,
        check: "ruff format --check --diff",
        fix: "ruff format",
        fixer: "ruff format",
    });
}

#[test]
fn black_heals_a_mangled_function() {
    heal_with_fixer(&Case {
        sample: "py-orders",
        probe: "black --version",
        prepare: "black -q .",
        config: &[],
        file: "orders/checkout.py",
        find: "def discount_percent(customer_id):\n    customer = find_customer(customer_id)\n",
        replace: "def discount_percent( customer_id ):\n    customer=find_customer( customer_id )\n",
        check: "black --check --diff .",
        fix: "black -q .",
        fixer: "black",
    });
}

#[test]
fn ruff_check_fix_removes_an_unused_import() {
    heal_with_fixer(&Case {
        sample: "py-inventory",
        probe: "ruff --version",
        prepare: "ruff check .",
        config: &[],
        file: "inventory/report.py",
        find: "from . import pricing\n",
        replace: "from . import pricing\nimport os\n",
        check: "ruff check",
        fix: "ruff check --fix",
        fixer: "ruff check --fix",
    });
}

/// The same two rules for eslint 6 to 8 (`.eslintrc.json`) and 9 (`eslint.config.js`).
const ESLINTRC: &str = r#"{
  "root": true,
  "env": { "node": true, "es2020": true },
  "parserOptions": { "ecmaVersion": 2020, "sourceType": "script" },
  "rules": { "semi": "error", "prefer-const": "error" }
}
"#;
const ESLINT_CONFIG: &str = r#"module.exports = [
  {
    files: ['**/*.js'],
    languageOptions: { ecmaVersion: 2020, sourceType: 'commonjs' },
    rules: { semi: 'error', 'prefer-const': 'error' },
  },
];
"#;

#[test]
fn eslint_fix_heals_prefer_const_and_semi() {
    heal_with_fixer(&Case {
        sample: "js-cart",
        probe: "eslint --version",
        prepare: "eslint .",
        config: &[
            (".eslintrc.json", ESLINTRC),
            ("eslint.config.js", ESLINT_CONFIG),
        ],
        file: "src/money.js",
        find: "  const cents = Math.round(Number(`${Math.abs(amount)}e2`));\n",
        replace: "  let cents = Math.round(Number(`${Math.abs(amount)}e2`))\n",
        check: "eslint .",
        fix: "eslint --fix .",
        fixer: "eslint --fix",
    });
}
