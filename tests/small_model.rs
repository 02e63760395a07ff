//! Small-model behaviour end to end, through the scripted fake: what the 1.5B local model
//! really does (a function rewritten with the context's line-number gutter copied, a
//! reply cut off mid-block, the prompt's example edit sent back, a wrong candidate before
//! a right one) and selfheal healing through it with the short prompt, the `function` edit
//! format and several candidates judged by the tests.

use serde_json::Value;

use selfheal::llm::fake::{FakeLlm, Scripted};

use crate::heal::{Broken, broken, offline_cmd, run_tests, runtime};

/// A model id that says "small" (1.5B parameters).
const SMALL: &str = "qwen2.5-coder-1.5b-instruct-q4_k_m";

fn heal_small(b: &Broken, llm: &FakeLlm, env: &[(&str, &str)]) -> (Option<i32>, Value, String) {
    let mut cmd = offline_cmd(b, llm, &["--yes", "--json", "--model", SMALL]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let record = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), record, text)
}

/// js-cart's broken `discount()` method: (first line number, its lines).
fn discount_method(b: &Broken) -> (usize, Vec<String>) {
    let text = std::fs::read_to_string(b.dir.path().join("src/cart.js")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim_start().starts_with("discount() {"))
        .unwrap();
    let end = start + lines[start..].iter().position(|l| *l == "  }").unwrap();
    (
        start + 1,
        lines[start..=end].iter().map(|l| l.to_string()).collect(),
    )
}

/// The discount method with its return line replaced by `ret`, in a fence, maybe with
/// the context's `NN| ` gutter copied onto every line.
fn method_reply(b: &Broken, ret: &str, gutter: bool) -> String {
    let (first, lines) = discount_method(b);
    let body: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let l = if l.contains("return Math.floor") {
                format!("    {ret}")
            } else {
                l.clone()
            };
            if gutter {
                format!("{:>3}| {l}", first + i)
            } else {
                l
            }
        })
        .collect();
    format!(
        "Cause: discount truncates instead of rounding to cents.\n\n```javascript\n{}\n```\n",
        body.join("\n")
    )
}

const RIGHT: &str = "return roundCents((this.subtotal() * percent) / 100);";
const WRONG: &str = "return Math.round(this.subtotal() * percent) / 1000;";

/// The user message of the model's `i`-th request.
fn user_prompt(llm: &FakeLlm, i: usize) -> String {
    llm.requests()[i].body["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_string()
}

fn attempts(record: &Value) -> Vec<Value> {
    record["attempts"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_function_rewritten_with_a_copied_gutter_heals_through_the_short_prompt() {
    let rt = runtime();
    let llm = rt.block_on(FakeLlm::start());
    let b = broken("js-cart");
    llm.push(Scripted::ok(&method_reply(&b, RIGHT, true)));
    let (code, record, out) = heal_small(&b, &llm, &[("SELFHEAL_LLM_CANDIDATES", "1")]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(record["edit_format"], "function", "{out}");
    assert!(run_tests(&b), "tests still fail after the heal");
    let req = &llm.requests()[0].body;
    let system = req["messages"][0]["content"].as_str().unwrap();
    let user = req["messages"][1]["content"].as_str().unwrap();
    assert!(system.len() < 200 && !system.contains("SEARCH"), "{system}");
    assert!(
        user.contains("  discount() {\n"),
        "the method as in the file: {user}"
    );
    assert!(!user.contains(" 40| "), "no gutter to copy: {user}");
    assert!(
        !user.contains("src/cart.js\n<<<<<<<"),
        "no example edit: {user}"
    );
    assert!(req["max_tokens"].as_u64().unwrap() <= 700, "{req}");
    assert_eq!(req["stream"], true);
    llm.verify().unwrap();
}

#[test]
fn a_reply_cut_off_mid_block_is_refused_and_the_next_candidate_heals() {
    let rt = runtime();
    let llm = rt.block_on(FakeLlm::start());
    let b = broken("js-cart");
    let full = method_reply(&b, RIGHT, false);
    let cut = &full[..full.find("return roundCents").unwrap() + 10];
    llm.push(Scripted::truncated(cut)).push(Scripted::ok(&full));
    let (code, record, out) = heal_small(&b, &llm, &[("SELFHEAL_LLM_CANDIDATES", "2")]);
    assert_eq!(code, Some(0), "{out}");
    let refused: Vec<String> = attempts(&record)
        .iter()
        .filter_map(|a| a["refused"].as_str().map(str::to_string))
        .collect();
    assert!(
        refused.iter().any(|r| r.contains("cut off")),
        "{refused:?}\n{out}"
    );
    llm.verify().unwrap();
}

#[test]
fn the_prompts_example_sent_back_is_refused_and_the_retry_heals() {
    let rt = runtime();
    let llm = rt.block_on(FakeLlm::start());
    let b = broken("js-cart");
    // what the 0.5B model does with a one-shot example: sends the form back
    let parroted = "<path of the file to change>\n<<<<<<< SEARCH\n<the lines to change, copied exactly from that file>\n=======\n<the same lines, corrected>\n>>>>>>> REPLACE";
    llm.push(Scripted::ok(parroted))
        .push(Scripted::ok(&crate::heal::fix_reply(&b)));
    let (code, record, out) = heal_small(
        &b,
        &llm,
        &[
            ("SELFHEAL_LLM_CANDIDATES", "1"),
            ("SELFHEAL_LLM_EDIT_FORMAT", "search_replace"),
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    let a = attempts(&record);
    assert!(a[0]["refused"].is_string(), "{out}");
    let retry = &llm.requests()[1].body["messages"][1]["content"];
    assert!(
        retry.as_str().unwrap().contains("could not be applied"),
        "{retry}"
    );
    llm.verify().unwrap();
}

#[test]
fn candidates_are_distinct_and_stop_at_the_first_that_passes() {
    let rt = runtime();
    let llm = rt.block_on(FakeLlm::start());
    let b = broken("js-cart");
    let wrong = method_reply(&b, WRONG, false);
    let right = method_reply(&b, RIGHT, false);
    // also right, but a bigger change: never validated once `right` passes
    let bigger = method_reply(&b, &format!("// round to cents\n    {RIGHT}"), false);
    llm.push(Scripted::ok(&wrong))
        .push(Scripted::ok(&wrong))
        .push(Scripted::ok(&right))
        .push(Scripted::ok(&bigger));
    let (code, record, out) = heal_small(
        &b,
        &llm,
        &[("SELFHEAL_LLM_CANDIDATES", "4"), ("SELFHEAL_LLM_SEED", "7")],
    );
    assert_eq!(code, Some(0), "{out}");
    let a = attempts(&record);
    let validated: Vec<bool> = a
        .iter()
        .filter_map(|x| x["validation"]["passed"].as_bool())
        .collect();
    assert_eq!(
        validated,
        [false, true],
        "wrong, then right, then stop: {out}"
    );
    assert!(
        a.iter().any(|x| x["refused"]
            .as_str()
            .is_some_and(|r| r.contains("same patch"))),
        "the duplicate is not validated: {out}"
    );
    assert_eq!(record["llm_calls"], 4);
    let bodies: Vec<Value> = llm.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies[0]["temperature"].as_f64(), Some(0.0));
    assert_eq!(bodies[0]["seed"], 7);
    for (i, body) in bodies.iter().enumerate().skip(1) {
        assert!(body["temperature"].as_f64().unwrap() > 0.0, "{body}");
        assert_eq!(body["seed"], 7 + i as i64);
    }
    assert!(run_tests(&b));
    llm.verify().unwrap();
}

#[test]
fn a_failed_round_teaches_the_next_with_the_diff_and_what_the_tests_said() {
    let rt = runtime();
    let llm = rt.block_on(FakeLlm::start());
    let b = broken("js-cart");
    llm.push(Scripted::ok(&method_reply(&b, WRONG, false)))
        .push(Scripted::ok(&method_reply(&b, RIGHT, false)));
    let (code, _, out) = heal_small(&b, &llm, &[("SELFHEAL_LLM_CANDIDATES", "1")]);
    assert_eq!(code, Some(0), "{out}");
    let retry = llm.requests()[1].body["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(retry.contains("This change was tried"), "{retry}");
    assert!(
        retry.contains("-    return Math.floor"),
        "the diff: {retry}"
    );
    assert!(retry.contains("The tests said"), "{retry}");
    assert!(retry.len() < 6000, "brief: {} chars", retry.len());
    llm.verify().unwrap();
}

#[test]
fn a_broken_import_is_healed_by_asking_for_the_imports_around_it() {
    let rt = runtime();
    let llm = rt.block_on(FakeLlm::start());
    let b = broken("py-textstats");
    llm.push(Scripted::ok(
        "The module is called tokenize.\n\n```python\nfrom collections import Counter\n\nfrom .tokenize import sentences, syllables, words  # Fixed the module name\n```\n",
    ));
    let (code, record, out) = heal_small(&b, &llm, &[("SELFHEAL_LLM_CANDIDATES", "1")]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(record["edit_format"], "function", "{out}");
    assert!(run_tests(&b), "tests still fail after the heal");
    let stats = std::fs::read_to_string(b.dir.path().join("textstats/stats.py")).unwrap();
    assert!(
        stats.contains("from .tokenize import sentences, syllables, words\n"),
        "the narrating comment is left out: {stats}"
    );
    let user = user_prompt(&llm, 0);
    assert!(
        user.contains("Files in textstats/:") && user.contains(
            "textstats/ has no `tokenizer` module; it has `tokenize.py`. Do not add `tokenizer`: import from `.tokenize`."
        ),
        "what the module is really called: {user}"
    );
    assert!(
        user.contains("textstats/stats.py (lines 1-3)") && !user.contains("def summary"),
        "the imports, not the file: {user}"
    );
    assert!(user.contains("Write the lines above again"), "{user}");
    llm.verify().unwrap();
}

#[test]
fn a_short_file_is_asked_back_whole_when_the_edit_format_says_so() {
    let rt = runtime();
    let llm = rt.block_on(FakeLlm::start());
    let b = broken("py-textstats");
    let path = b.dir.path().join("textstats/stats.py");
    let fixed = std::fs::read_to_string(&path)
        .unwrap()
        .replace("from .tokenizer import", "from .tokenize import");
    llm.push(Scripted::ok(&format!("```python\n{fixed}```\n")));
    let (code, record, out) = heal_small(
        &b,
        &llm,
        &[
            ("SELFHEAL_LLM_CANDIDATES", "1"),
            ("SELFHEAL_LLM_EDIT_FORMAT", "whole_file"),
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(record["edit_format"], "whole_file", "{out}");
    assert!(run_tests(&b), "tests still fail after the heal");
    assert!(user_prompt(&llm, 0).contains("Write the file above again"));
    llm.verify().unwrap();
}

#[test]
fn a_model_that_rewrites_the_test_is_not_shown_it_again() {
    let rt = runtime();
    let llm = rt.block_on(FakeLlm::start());
    let b = broken("js-cart");
    let test = std::fs::read_to_string(b.dir.path().join("test/cart.test.js")).unwrap();
    let start = test
        .find("test('percentage coupon is rounded to cents'")
        .unwrap();
    let end = start + test[start..].find("\n});").unwrap() + 4;
    let weakened = test[start..end].replace("2.7)", "2.69)");
    llm.push(Scripted::ok(&format!("```javascript\n{weakened}\n```\n")))
        .push(Scripted::ok(&method_reply(&b, RIGHT, false)));
    let (code, record, out) = heal_small(&b, &llm, &[("SELFHEAL_LLM_CANDIDATES", "1")]);
    assert_eq!(code, Some(0), "{out}");
    assert!(attempts(&record)[0]["refused"].is_string(), "{out}");
    let prompt = |i: usize| user_prompt(&llm, i);
    assert!(
        prompt(0).contains("The test (test/cart.test.js)"),
        "{}",
        prompt(0)
    );
    assert!(!prompt(1).contains("The test ("), "{}", prompt(1));
    assert!(
        prompt(1).contains("Your reply could not be applied: the reply rewrites the test, and the test is right; write `discount() {` again with the bug fixed")
            && !prompt(1).contains("This change was tried"),
        "{}",
        prompt(1)
    );
    assert!(run_tests(&b));
    llm.verify().unwrap();
}

#[test]
fn what_the_reasoning_candidate_said_without_code_is_handed_to_the_next() {
    let rt = runtime();
    let llm = rt.block_on(FakeLlm::start());
    let b = broken("js-cart");
    let said = "The line `Math.floor(this.subtotal() * percent) / 100` is wrong because Math.floor truncates 2.697 to 2.69.";
    llm.push(Scripted::ok(&method_reply(
        &b,
        "return Math.floor(this.subtotal() * percent) / 100;",
        false,
    )))
    .push(Scripted::ok(said))
    .push(Scripted::ok(&method_reply(&b, RIGHT, false)));
    let (code, _record, out) = heal_small(&b, &llm, &[("SELFHEAL_LLM_CANDIDATES", "3")]);
    assert_eq!(code, Some(0), "{out}");
    let prompt = |i: usize| user_prompt(&llm, i);
    assert!(
        prompt(1).contains("First say in one sentence"),
        "{}",
        prompt(1)
    );
    assert!(
        prompt(2).contains(&format!("Another reviewer said what is wrong: {said}")),
        "{}",
        prompt(2)
    );
    assert!(run_tests(&b));
    llm.verify().unwrap();
}
