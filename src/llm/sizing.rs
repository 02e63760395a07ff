//! What a model can be asked for, judged from its name (its parameter count) and from how
//! its earlier replies parsed: the defaults that `[llm] context_tokens = 0`,
//! `candidates = 0` and `edit_format = "auto"` leave open, and the reply caps per edit
//! format. Small local models (a few billion parameters) rarely copy a SEARCH block
//! exactly but do rewrite a short function; they ramble when given 2048 tokens; several
//! sampled candidates judged by the tests make up for a weak first answer.

use serde::{Deserialize, Serialize};

use crate::config::LlmConfig;

/// Models of at most this many billion parameters are "small".
pub const SMALL_BILLIONS: f64 = 8.0;

/// How the model is asked to write its edit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EditFormat {
    /// `path` + `<<<<<<< SEARCH` / `=======` / `>>>>>>> REPLACE` blocks (diffs understood too).
    SearchReplace,
    /// The enclosing definition shown exactly as in the file, asked back whole.
    Function,
    /// The whole (small) file, asked back whole.
    WholeFile,
}

impl EditFormat {
    pub const ALL: [EditFormat; 3] = [
        EditFormat::SearchReplace,
        EditFormat::Function,
        EditFormat::WholeFile,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EditFormat::SearchReplace => "search_replace",
            EditFormat::Function => "function",
            EditFormat::WholeFile => "whole_file",
        }
    }

    /// `auto` is `None`; an unknown name is an error message for the config check.
    pub fn parse(s: &str) -> Result<Option<EditFormat>, String> {
        match s.trim() {
            "auto" | "" => Ok(None),
            other => EditFormat::ALL
                .into_iter()
                .find(|f| f.name() == other)
                .map(Some)
                .ok_or_else(|| {
                    format!(
                        "[llm] edit_format = {other:?}: use \"auto\", \"search_replace\", \"function\" or \"whole_file\""
                    )
                }),
        }
    }

    /// Most tokens a small model needs to write an edit in this format.
    fn small_reply_cap(self) -> u32 {
        match self {
            EditFormat::SearchReplace => 600,
            EditFormat::Function => 700,
            EditFormat::WholeFile => 1500,
        }
    }
}

/// The parameter count a model id states (`qwen2.5-coder-1.5b-instruct`, `llama3:8b`,
/// `mistral-7B-v0.3`, `phi-3-mini-3.8b`), in billions.
pub fn params_billions(model: &str) -> Option<f64> {
    let lower = model.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut found = None;
    for (i, _) in lower.match_indices('b') {
        let after_ok = bytes.get(i + 1).is_none_or(|c| !c.is_ascii_alphanumeric());
        let start = lower[..i]
            .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map_or(0, |p| p + 1);
        let before_ok = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        if after_ok
            && before_ok
            && start < i
            && let Ok(n) = lower[start..i].parse::<f64>()
        {
            found = Some(n);
        }
    }
    found
}

/// True for models of at most [`SMALL_BILLIONS`] parameters. Unknown sizes (hosted models
/// like `gpt-4o-mini`) count as large.
pub fn is_small(model: &str) -> bool {
    params_billions(model).is_some_and(|b| b <= SMALL_BILLIONS)
}

/// `[llm] context_tokens`, or by size when 0: 2,500 for small models (their prompt
/// processing is slow and long prompts distract them), 6,000 otherwise.
pub fn context_tokens(c: &LlmConfig) -> usize {
    match c.context_tokens {
        0 if is_small(&c.model) => 2500,
        0 => 6000,
        n => n,
    }
}

/// `[llm] candidates`, or by size when 0: 3 for small models, 1 otherwise.
pub fn candidates(c: &LlmConfig) -> u32 {
    match c.candidates {
        0 if is_small(&c.model) => 3,
        0 => 1,
        n => n.min(8),
    }
}

/// The reply cap for one edit in `format`: `[llm] max_tokens`, lowered for small models
/// to what the format needs (they ramble to the limit otherwise).
pub fn reply_cap(c: &LlmConfig, format: EditFormat) -> u32 {
    if is_small(&c.model) {
        c.max_tokens.min(format.small_reply_cap())
    } else {
        c.max_tokens
    }
}

/// How earlier replies of one model parsed, per format (from the failure memory).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatStat {
    pub format: String,
    pub parsed: u32,
    pub failed: u32,
}

/// The edit format to ask for. An explicit `[llm] edit_format` wins. `auto`: small models
/// get `function` and large ones `search_replace`; then the failure memory may overrule
/// that guess: a format that failed to parse at least 3 times and more often than it
/// parsed gives way to the format with the best parse rate seen for this model.
pub fn edit_format(c: &LlmConfig, seen: &[FormatStat]) -> EditFormat {
    if let Ok(Some(f)) = EditFormat::parse(&c.edit_format) {
        return f;
    }
    let guess = if is_small(&c.model) {
        EditFormat::Function
    } else {
        EditFormat::SearchReplace
    };
    let stat = |f: EditFormat| seen.iter().find(|s| s.format == f.name());
    let failing = stat(guess).is_some_and(|s| s.failed >= 3 && s.failed > s.parsed);
    if !failing {
        return guess;
    }
    let rate = |s: &FormatStat| f64::from(s.parsed) / f64::from((s.parsed + s.failed).max(1));
    EditFormat::ALL
        .into_iter()
        .filter(|&f| f != guess)
        .max_by(|&a, &b| {
            let ra = stat(a).map_or(0.5, rate);
            let rb = stat(b).map_or(0.5, rate);
            ra.total_cmp(&rb)
        })
        .unwrap_or(guess)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(model: &str) -> LlmConfig {
        let mut c = crate::config::Config::defaults().llm;
        c.model = model.into();
        c
    }

    #[test]
    fn sizes_from_model_names() {
        assert_eq!(
            params_billions("qwen2.5-coder-1.5b-instruct-q4_k_m"),
            Some(1.5)
        );
        assert_eq!(params_billions("llama3:8b"), Some(8.0));
        assert_eq!(params_billions("Mistral-7B-Instruct-v0.3"), Some(7.0));
        assert_eq!(params_billions("qwen2.5-coder-32b"), Some(32.0));
        assert_eq!(params_billions("gpt-4o-mini"), None);
        assert_eq!(params_billions("bge-base"), None);
        assert!(is_small("qwen2.5-coder-0.5b-instruct"));
        assert!(!is_small("qwen2.5-coder-32b-instruct"));
        assert!(!is_small("gpt-4o-mini"));
    }

    #[test]
    fn defaults_follow_the_size() {
        let small = cfg("qwen2.5-coder-1.5b-instruct-q4_k_m");
        let large = cfg("gpt-4o-mini");
        assert_eq!(
            (context_tokens(&small), context_tokens(&large)),
            (2500, 6000)
        );
        assert_eq!((candidates(&small), candidates(&large)), (3, 1));
        assert_eq!(reply_cap(&small, EditFormat::Function), 700);
        assert_eq!(reply_cap(&large, EditFormat::Function), large.max_tokens);
        assert_eq!(edit_format(&small, &[]), EditFormat::Function);
        assert_eq!(edit_format(&large, &[]), EditFormat::SearchReplace);
        let mut set = small.clone();
        set.context_tokens = 900;
        set.candidates = 2;
        set.edit_format = "whole_file".into();
        assert_eq!((context_tokens(&set), candidates(&set)), (900, 2));
        assert_eq!(edit_format(&set, &[]), EditFormat::WholeFile);
        assert!(
            EditFormat::parse("diff")
                .unwrap_err()
                .contains("edit_format")
        );
    }

    #[test]
    fn auto_learns_from_what_earlier_replies_parsed_into() {
        let small = cfg("qwen2.5-coder-1.5b-instruct-q4_k_m");
        let stat = |f: &str, parsed, failed| FormatStat {
            format: f.into(),
            parsed,
            failed,
        };
        // two failures are not enough to give up the guess
        assert_eq!(
            edit_format(&small, &[stat("function", 0, 2)]),
            EditFormat::Function
        );
        assert_eq!(
            edit_format(&small, &[stat("function", 1, 4), stat("whole_file", 3, 0)]),
            EditFormat::WholeFile
        );
        assert_eq!(
            edit_format(
                &small,
                &[
                    stat("function", 1, 4),
                    stat("search_replace", 5, 1),
                    stat("whole_file", 0, 3)
                ]
            ),
            EditFormat::SearchReplace
        );
    }
}
