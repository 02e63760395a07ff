//! Prompt templates: `prompts/*.md`, compiled in, each overridable from `[llm] prompts_dir`.
//!
//! `{{name}}` is replaced by the value of `name`, in one pass (a value holding `{{x}}` stays
//! as is); a name with no value is an error, as is an override that drops a variable the
//! stage needs (`{{context}}`). A leading `<!-- … -->` comment documents a template and is
//! not sent. Patch and retry calls carry the edit-block format with one short example in
//! the system message (`format.md`): small models follow an example there far better than
//! a description in the user message (local-llm-samples; with the example in the user
//! message the 1.5B model took the example's code for the task). The example is a form
//! with `<placeholders>`, not a real path or real code: small models copied a placeholder
//! path, and then a real-looking example edit (even one naming the real file), back as
//! their answer. Small models get a shorter prompt with no example (`pipeline::focus`;
//! `short_system.md` and `short.md`).
//!
//! Earlier fixes of similar failures (the failure memory's few-shot examples, set with
//! [`Prompts::with_examples`]) go into the user message as `{{examples}}`, never into the
//! system message: they are data. An override without `{{examples}}` still works: it gets
//! them just before its `{{context}}`.

use std::path::Path;

use super::language::{Language, describe};
use super::{ChatRequest, LlmError};
use crate::config::LlmConfig;

/// The templates, by stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    System,
    Diagnosis,
    Patch,
    Retry,
    /// The edit-block format with one example; appended to the system message of patch and
    /// retry calls.
    Format,
    /// The system message of the short prompt small models get (`pipeline::focus`).
    ShortSystem,
    /// The user message of the short prompt.
    Short,
}

impl Template {
    pub const ALL: [Template; 7] = [
        Template::System,
        Template::Diagnosis,
        Template::Patch,
        Template::Retry,
        Template::Format,
        Template::ShortSystem,
        Template::Short,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            Template::System => "system.md",
            Template::Diagnosis => "diagnosis.md",
            Template::Patch => "patch.md",
            Template::Retry => "retry.md",
            Template::Format => "format.md",
            Template::ShortSystem => "short_system.md",
            Template::Short => "short.md",
        }
    }

    fn builtin(self) -> &'static str {
        match self {
            Template::System => include_str!("../../prompts/system.md"),
            Template::Diagnosis => include_str!("../../prompts/diagnosis.md"),
            Template::Patch => include_str!("../../prompts/patch.md"),
            Template::Retry => include_str!("../../prompts/retry.md"),
            Template::Format => include_str!("../../prompts/format.md"),
            Template::ShortSystem => include_str!("../../prompts/short_system.md"),
            Template::Short => include_str!("../../prompts/short.md"),
        }
    }

    /// Variables an override must keep.
    fn required(self) -> &'static [&'static str] {
        match self {
            Template::System => &[],
            Template::Diagnosis | Template::Patch => &["context"],
            Template::Retry => &["context", "previous_patch", "test_output"],
            Template::Format | Template::ShortSystem => &[],
            Template::Short => &["failure", "code"],
        }
    }

    fn purpose(self) -> &'static str {
        match self {
            Template::System => "system",
            Template::Diagnosis => "diagnosis",
            Template::Patch => "patch",
            Template::Retry => "retry",
            Template::Format => "format",
            Template::ShortSystem | Template::Short => "patch",
        }
    }
}

/// Lines of the test output kept in a retry prompt (its tail).
pub const RETRY_OUTPUT_LINES: usize = 40;

/// Stands in for the previous patch when the last reply held none that could be used.
pub const NO_PREVIOUS_PATCH: &str = "(none: the previous reply held no usable edit)";

/// The loaded templates.
#[derive(Clone, Debug)]
pub struct Prompts {
    texts: [String; 7],
    /// The fenced examples block for `{{examples}}` (empty: none).
    examples: String,
}

impl Prompts {
    /// The built-in templates.
    pub fn builtin() -> Self {
        Prompts {
            texts: Template::ALL.map(|t| strip_comment(t.builtin()).to_string()),
            examples: String::new(),
        }
    }

    /// Built-ins, with any of `system.md`, `diagnosis.md`, `patch.md`, `retry.md`,
    /// `format.md`, `short_system.md`, `short.md` in `dir` taking their place.
    pub fn load(dir: Option<&Path>) -> Result<Self, LlmError> {
        let mut p = Prompts::builtin();
        let Some(dir) = dir else { return Ok(p) };
        for (i, t) in Template::ALL.into_iter().enumerate() {
            let path = dir.join(t.file_name());
            match std::fs::read_to_string(&path) {
                Ok(text) => p.texts[i] = checked_override(t, &path, &text)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(prompt_err(&path.display().to_string(), e)),
            }
        }
        Ok(p)
    }

    /// From `[llm] prompts_dir` (empty: built-ins only).
    pub fn from_config(c: &LlmConfig) -> Result<Self, LlmError> {
        let dir = (!c.prompts_dir.is_empty()).then(|| Path::new(&c.prompts_dir));
        if let Some(d) = dir.filter(|d| !d.is_dir()) {
            return Err(prompt_err(
                &d.display().to_string(),
                "[llm] prompts_dir is not a directory",
            ));
        }
        Prompts::load(dir)
    }

    /// The same templates, with `examples` (an already fenced block) for the user message
    /// of the diagnosis, patch and retry calls.
    pub fn with_examples(mut self, examples: &str) -> Self {
        self.examples = examples.trim_end().to_string();
        self
    }

    /// One template with `vars` substituted.
    pub fn render(&self, t: Template, vars: &[(&str, &str)]) -> Result<String, LlmError> {
        substitute(t.file_name(), &self.texts[t as usize], vars)
    }

    /// The diagnosis call: what broke and where.
    pub fn diagnosis(
        &self,
        c: &LlmConfig,
        langs: &[Language],
        context: &str,
    ) -> Result<ChatRequest, LlmError> {
        let language = describe(langs);
        self.request(
            c,
            Template::Diagnosis,
            &[("language", &language), ("context", context)],
        )
    }

    /// The patch call. `file` is the likeliest file to edit (named in the format example);
    /// `diagnosis` may be empty when the pipeline skips that call.
    pub fn patch(
        &self,
        c: &LlmConfig,
        langs: &[Language],
        file: &str,
        diagnosis: &str,
        context: &str,
    ) -> Result<ChatRequest, LlmError> {
        let language = describe(langs);
        let diagnosis = diagnosis.trim();
        let vars = [
            ("language", language.as_str()),
            ("file", file),
            ("diagnosis", diagnosis),
            ("context", context),
        ];
        self.request(c, Template::Patch, &vars)
    }

    /// The retry call after `previous_patch` failed validation with `test_output` (only its
    /// last [`RETRY_OUTPUT_LINES`] lines are sent).
    pub fn retry(
        &self,
        c: &LlmConfig,
        langs: &[Language],
        file: &str,
        context: &str,
        previous_patch: &str,
        test_output: &str,
    ) -> Result<ChatRequest, LlmError> {
        let language = describe(langs);
        let tail = tail_lines(test_output, RETRY_OUTPUT_LINES);
        let previous = match previous_patch.trim_end() {
            "" => NO_PREVIOUS_PATCH,
            p => p,
        };
        let vars = [
            ("language", language.as_str()),
            ("file", file),
            ("context", context),
            ("previous_patch", previous),
            ("test_output", tail.as_str()),
        ];
        self.request(c, Template::Retry, &vars)
    }

    fn request(
        &self,
        c: &LlmConfig,
        t: Template,
        vars: &[(&str, &str)],
    ) -> Result<ChatRequest, LlmError> {
        let mut system = self.render(Template::System, vars)?;
        if matches!(t, Template::Patch | Template::Retry) {
            system = format!(
                "{}\n{}",
                system.trim_end(),
                self.render(Template::Format, vars)?
            );
        }
        let user = self.render_user(t, vars)?;
        Ok(ChatRequest::from_config(
            c,
            t.purpose(),
            system,
            collapse_blank_runs(&user),
        ))
    }
}

impl Prompts {
    /// The stage's template with `{{examples}}` filled; a template without that placeholder
    /// (an override written before it existed) gets the examples just before its context.
    fn render_user(&self, t: Template, vars: &[(&str, &str)]) -> Result<String, LlmError> {
        let slot = self.texts[t as usize].contains("{{examples}}");
        let context = vars.iter().find(|(k, _)| *k == "context").map(|(_, v)| *v);
        let merged = format!("{}\n\n{}", self.examples, context.unwrap_or(""));
        let prepend = !slot && !self.examples.is_empty();
        let mut vars: Vec<(&str, &str)> = vars
            .iter()
            .map(|&(k, v)| match k {
                "context" if prepend => (k, merged.as_str()),
                _ => (k, v),
            })
            .collect();
        vars.push(("examples", &self.examples));
        self.render(t, &vars)
    }
}

fn prompt_err(name: &str, message: impl std::fmt::Display) -> LlmError {
    LlmError::Prompt {
        name: name.to_string(),
        message: message.to_string(),
    }
}

fn checked_override(t: Template, path: &Path, text: &str) -> Result<String, LlmError> {
    let text = strip_comment(text);
    for var in t.required() {
        if !text.contains(&format!("{{{{{var}}}}}")) {
            return Err(prompt_err(
                &path.display().to_string(),
                format!("lacks {{{{{var}}}}}, which this stage needs"),
            ));
        }
    }
    Ok(text.to_string())
}

/// Drops a leading `<!-- … -->` comment and the blank lines after it.
fn strip_comment(text: &str) -> &str {
    let t = text.trim_start();
    match t.strip_prefix("<!--").and_then(|r| r.split_once("-->")) {
        Some((_, rest)) => rest.trim_start_matches(['\n', '\r']),
        None => text,
    }
}

/// Replaces each `{{name}}` by its value, in one pass.
fn substitute(template_name: &str, text: &str, vars: &[(&str, &str)]) -> Result<String, LlmError> {
    let mut out =
        String::with_capacity(text.len() + vars.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = after[..end].trim();
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            out.push_str("{{");
            rest = after;
            continue;
        }
        let value = vars.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        let value = value
            .ok_or_else(|| prompt_err(template_name, format!("no value for {{{{{name}}}}}")))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The last `n` lines of `text`, with a note of how many were left out.
fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    if lines.len() <= n {
        return lines.join("\n");
    }
    format!(
        "[{} earlier lines left out]\n{}",
        lines.len() - n,
        lines[lines.len() - n..].join("\n")
    )
}

/// At most one blank line in a row (an empty `{{diagnosis}}` leaves none behind).
fn collapse_blank_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.trim().lines() {
        blank = if line.trim().is_empty() { blank + 1 } else { 0 };
        if blank <= 1 {
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::llm::tokens;

    #[test]
    fn substitution_is_one_pass_and_strict() {
        let r = substitute(
            "t",
            "a {{x}} b {{ y }} {not} {{x}}",
            &[("x", "{{y}}"), ("y", "2")],
        )
        .unwrap();
        assert_eq!(r, "a {{y}} b 2 {not} {{y}}");
        let err = substitute("t.md", "{{missing}}", &[]).unwrap_err();
        assert!(
            err.to_string().contains("no value for {{missing}}"),
            "{err}"
        );
        assert_eq!(substitute("t", "{{a-b}} {{", &[]).unwrap(), "{{a-b}} {{");
    }

    #[test]
    fn patch_prompt_names_the_language_and_file_and_stays_small() {
        let c = Config::defaults().llm;
        let ctx = "```rust\n   3| n\n```";
        let req = Prompts::builtin()
            .patch(&c, &[Language::Rust], "src/lib.rs", "", ctx)
            .unwrap();
        assert!(
            req.system.contains("Rust code") && !req.system.contains("Python"),
            "{}",
            req.system
        );
        // the form has placeholders only: no path or code a small model could copy back
        assert!(
            req.system
                .contains("<path of the file to change>\n<<<<<<< SEARCH\n")
                && !req.system.contains("src/lib.rs"),
            "{}",
            req.system
        );
        assert!(req.user.contains(&format!("{ctx}\n")), "{}", req.user);
        for text in [&req.system, &req.user] {
            let clean = !text.contains("{{") && !text.contains("<!--") && !text.contains("\n\n\n");
            assert!(clean, "{text}");
        }
        assert_eq!(
            (req.purpose.as_str(), req.max_tokens),
            ("patch", c.max_tokens)
        );
        let overhead = tokens::chat_prompt(&req.system, &req.user) - tokens::count(ctx);
        assert!(overhead < 200, "prompt overhead {overhead} tokens");
    }

    #[test]
    fn retry_prompt_carries_the_previous_patch_and_the_output_tail() {
        let c = Config::defaults().llm;
        let output: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        let req = Prompts::builtin()
            .retry(
                &c,
                &[Language::Go],
                "calc/add.go",
                "CTX",
                "--- a/x\n+++ b/x\n",
                &output,
            )
            .unwrap();
        assert!(req.user.contains("--- a/x\n+++ b/x\n```"));
        assert!(
            req.user.contains("[60 earlier lines left out]\nline 61\n")
                && req.user.contains("line 100\n")
        );
        assert!(!req.user.contains("line 60\n"));
        assert!(req.system.contains("Go code") && req.system.contains("<<<<<<< SEARCH"));
        assert_eq!(req.purpose, "retry");
    }

    #[test]
    fn retry_without_a_usable_previous_patch_says_so() {
        let c = Config::defaults().llm;
        let why = "Your reply could not be applied: SEARCH text not found in stats.py";
        let req = Prompts::builtin()
            .retry(&c, &[Language::Python], "stats.py", "CTX", "", why)
            .unwrap();
        assert!(
            req.user
                .contains(&format!("```diff\n{NO_PREVIOUS_PATCH}\n```")),
            "{}",
            req.user
        );
        assert!(req.user.contains(why));
    }

    #[test]
    fn diagnosis_prompt_for_mixed_languages() {
        let c = Config::defaults().llm;
        let req = Prompts::builtin()
            .diagnosis(&c, &[Language::TypeScript, Language::Cpp], "CTX")
            .unwrap();
        assert!(req.user.contains("TypeScript and C++ code"), "{}", req.user);
    }

    #[test]
    fn examples_go_into_the_user_message_before_the_context() {
        let c = Config::defaults().llm;
        let p = Prompts::builtin().with_examples("EXAMPLES\n");
        let req = p.patch(&c, &[Language::Python], "a.py", "", "CTX").unwrap();
        assert!(!req.system.contains("EXAMPLES"), "{}", req.system);
        assert!(req.user.contains("\n\nEXAMPLES\n\nCTX\n"), "{}", req.user);
        let retry = p
            .retry(&c, &[Language::Python], "a.py", "CTX", "--- a", "out")
            .unwrap();
        assert!(retry.user.contains("EXAMPLES\n\nCTX\n"), "{}", retry.user);
        let none = Prompts::builtin()
            .patch(&c, &[Language::Python], "a.py", "", "CTX")
            .unwrap();
        assert_eq!(
            none.user,
            "Fix this CI failure.\n\nCTX\n\nWrite the edit blocks.\n"
        );
    }

    #[test]
    fn an_override_without_the_examples_slot_gets_them_before_its_context() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("patch.md"), "PATCH {{file}}\n{{context}}").unwrap();
        let mut c = Config::defaults().llm;
        c.prompts_dir = dir.path().display().to_string();
        let p = Prompts::from_config(&c).unwrap();
        let plain = p.patch(&c, &[Language::Java], "A.java", "", "CTX").unwrap();
        assert_eq!(plain.user, "PATCH A.java\nCTX\n");
        let req = p
            .with_examples("EX")
            .patch(&c, &[Language::Java], "A.java", "", "CTX")
            .unwrap();
        assert_eq!(req.user, "PATCH A.java\nEX\n\nCTX\n");
    }

    #[test]
    fn overrides_replace_some_templates_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("patch.md"),
            "<!-- mine -->\nPATCH {{file}}\n{{context}}",
        )
        .unwrap();
        let mut c = Config::defaults().llm;
        c.prompts_dir = dir.path().display().to_string();
        let p = Prompts::from_config(&c).unwrap();
        let req = p.patch(&c, &[Language::Java], "A.java", "", "CTX").unwrap();
        assert_eq!(req.user, "PATCH A.java\nCTX\n");
        assert!(
            req.system.ends_with("No other text.\n") || req.system.ends_with("No other text."),
            "{}",
            req.system
        );
        assert!(
            p.render(
                Template::Diagnosis,
                &[("language", "Java"), ("context", "C")]
            )
            .unwrap()
            .contains("A CI job failed")
        );

        std::fs::write(dir.path().join("retry.md"), "no variables").unwrap();
        let err = Prompts::from_config(&c).unwrap_err();
        assert!(err.to_string().contains("lacks {{context}}"), "{err}");
        c.prompts_dir = dir.path().join("nope").display().to_string();
        assert!(
            Prompts::from_config(&c)
                .unwrap_err()
                .to_string()
                .contains("not a directory")
        );
    }
}
