//! The cause before its consequences. A failed step often prints, after the error that
//! explains its exit, lines caused by it: a script's `command not found` for the binary the
//! failed build did not produce, Maven's `BUILD FAILURE` and reactor summary, pytest's
//! warnings summary, make's `Error 2` for the recipe that failed, the runner's
//! `Process completed with exit code N`. Those findings are moved after the causes (kept
//! when they have a kind of their own: they are still true; dropped when they are only
//! `unknown` echoes of the cause).

use std::sync::LazyLock;

use regex::Regex;

use super::Found;
use crate::logs::{Failure, Kind};

/// Messages that only report that something before them failed.
static AFTERMATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)^(?:##\[error\])?Process completed with exit code \d+",
        r"|BUILD FAILURE|Reactor Summary|BUILD FAILED|FAILURE: Build failed with an exception",
        r"|^\[ERROR\] -> \[Help|re-run Maven",
        r"|^=+ warnings summary =+|^-- Docs: https://docs\.pytest\.org/.*warnings",
        r"|^make(?:\[\d+\])?: \*\*\* .*Error \d+|^ERROR: Job failed: exit code|^Finished: FAILURE",
        r"|^error: could not compile `|^error: process didn't exit successfully|^Error: Process completed",
        r"|^npm ERR! (?:code ELIFECYCLE|errno|Exit status|Failed at the|A complete log)|^error Command failed with exit code",
        r"|^FAIL\s*$|^FAIL\s+\S+\s+[\d.]+s$|^exit status \d+$|^Error: exit status",
        r"|^=*\s*\d+ failed(?:, \d+ \w+)* in [\d.]+s|^Found \d+ errors?\.",
    ))
    .expect("static pattern")
});

/// True when `f` only reports the failure of something before it.
fn is_aftermath(f: &Failure) -> bool {
    let m = f.message.trim();
    AFTERMATH.is_match(m) || (m.contains("Failed to execute goal") && f.file.is_none())
}

/// True when `f` is a cause that can explain a later missing command: a build or a test
/// that failed, so what the script ran next was never built.
fn explains_missing_command(f: &Failure) -> bool {
    matches!(
        f.kind,
        Kind::CompileError
            | Kind::TypeError
            | Kind::SyntaxError
            | Kind::ImportError
            | Kind::Dependency
            | Kind::TestFailure
    )
}

/// Reorders `found` (already in log order): causes first, then what they caused. A
/// `command not found` after a failed build is a consequence; a lone one is a cause.
pub fn causes_first(found: &mut Vec<Found>) {
    let first_cause = found
        .iter()
        .position(|f| !is_aftermath(&f.failure) && explains_missing_command(&f.failure));
    let consequence = |i: usize, f: &Found| {
        is_aftermath(&f.failure)
            || (f.failure.kind == Kind::CommandNotFound && first_cause.is_some_and(|c| c < i))
    };
    let flags: Vec<bool> = found
        .iter()
        .enumerate()
        .map(|(i, f)| consequence(i, f))
        .collect();
    if flags.iter().all(|&c| c) || flags.iter().all(|&c| !c) {
        return;
    }
    let mut causes = Vec::with_capacity(found.len());
    let mut after = Vec::new();
    for (f, c) in std::mem::take(found).into_iter().zip(flags) {
        match (c, f.failure.kind) {
            // `make: *** … Error 1` after the compiler's error says nothing of its own
            (true, Kind::Unknown) => {}
            (true, _) => after.push(f),
            (false, _) => causes.push(f),
        }
    }
    causes.extend(after);
    *found = causes;
}

#[cfg(test)]
mod tests {
    use crate::logs::StepLog;
    use crate::logs::parse::parse_step;

    fn step(text: &str, cmd: &str) -> StepLog {
        let mut lines = vec![
            format!("##[group]Run {cmd}"),
            cmd.to_string(),
            "##[endgroup]".into(),
        ];
        lines.extend(text.lines().map(str::to_string));
        lines.push("##[error]Process completed with exit code 1.".into());
        StepLog {
            failed: true,
            exit_code: Some(1),
            lines,
            commands: vec![cmd.to_string()],
            ..StepLog::default()
        }
    }

    #[test]
    fn compile_error_before_the_missing_binary() {
        let out = "go build -o bin/server ./cmd/server\n\
            # example.com/shop/cmd/server\n\
            cmd/server/main.go:14:9: undefined: NewRouter\n\
            ./scripts/smoke.sh: line 3: ./bin/server: No such file or directory\n\
            bash: line 4: server: command not found";
        let f = parse_step(&step(out, "make build && ./scripts/smoke.sh"), None);
        assert_eq!(f[0].kind.as_str(), "compile_error", "{f:#?}");
        assert_eq!(f[0].file.as_deref(), Some("cmd/server/main.go"));
        assert!(f.iter().all(|x| !x.message.contains("Process completed")));
    }

    #[test]
    fn a_lone_missing_command_is_the_cause() {
        let f = parse_step(
            &step("bash: line 1: poetry: command not found", "poetry install"),
            None,
        );
        assert_eq!(f[0].kind.as_str(), "command_not_found", "{f:#?}");
    }

    #[test]
    fn maven_first_error_with_a_path_above_the_reactor_summary() {
        let out = "[INFO] Reactor Summary for shop 1.0.0:\n\
            [INFO] \n\
            [INFO] shop-core .......................................... FAILURE [  2.113 s]\n\
            [INFO] shop-web ........................................... SKIPPED\n\
            [INFO] ------------------------------------------------------------------------\n\
            [INFO] BUILD FAILURE\n\
            [INFO] ------------------------------------------------------------------------\n\
            [ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.11.0:compile (default-compile) on project shop-core: Compilation failure\n\
            [ERROR] /home/runner/work/shop/shop/core/src/main/java/com/shop/Cart.java:[31,17] cannot find symbol\n\
            [ERROR]   symbol:   variable totl\n\
            [ERROR]   location: class com.shop.Cart\n\
            [ERROR] -> [Help 1]\n\
            [ERROR] \n\
            [ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.\n\
            [ERROR] After correcting the problems, you can resume the build with the command\n\
            [ERROR]   mvn <args> -rf :shop-core";
        let f = parse_step(&step(out, "mvn -B verify"), None);
        assert_eq!(
            f[0].file.as_deref(),
            Some("/home/runner/work/shop/shop/core/src/main/java/com/shop/Cart.java"),
            "{f:#?}"
        );
        assert_eq!(f[0].line, Some(31));
    }

    #[test]
    fn a_test_failure_above_the_warnings_summary() {
        let out = "============================= test session starts ==============================\n\
            collected 3 items\n\
            \n\
            tests/test_cart.py .F.                                                   [100%]\n\
            \n\
            =================================== FAILURES ===================================\n\
            ________________________________ test_total ____________________________________\n\
            \n\
                def test_total():\n\
            >       assert total([1, 2]) == 4\n\
            E       assert 3 == 4\n\
            E        +  where 3 = total([1, 2])\n\
            \n\
            tests/test_cart.py:7: AssertionError\n\
            =============================== warnings summary ===============================\n\
            shop/cart.py:3\n\
              /home/runner/work/shop/shop/shop/cart.py:3: DeprecationWarning: pkg_resources is deprecated as an API\n\
                import pkg_resources\n\
            \n\
            -- Docs: https://docs.pytest.org/en/stable/how-to/capture-warnings.html\n\
            =========================== short test summary info ============================\n\
            FAILED tests/test_cart.py::test_total - assert 3 == 4\n\
            ==================== 1 failed, 2 passed, 1 warning in 0.05s ====================";
        let f = parse_step(&step(out, "pytest"), None);
        assert_eq!(f[0].kind.as_str(), "test_failure", "{f:#?}");
        assert!(
            f[0].file
                .as_deref()
                .is_some_and(|p| p.ends_with("tests/test_cart.py"))
        );
        assert!(
            f.iter().all(|x| !x.message.contains("DeprecationWarning")),
            "{f:#?}"
        );
    }
}
