//! The short prompt's two messages, rendered from `prompts/short_system.md` and
//! `prompts/short.md`: the failure, the test, the offered definitions, what the last try
//! changed, and what to send back.

use super::Focus;
use crate::llm::prompts::{Prompts, Template};
use crate::llm::{Language, LlmError};

/// The system message of the short prompt (`prompts/short_system.md`): one sentence, no
/// example to copy.
pub fn system(prompts: &Prompts) -> Result<String, LlmError> {
    prompts.render(Template::ShortSystem, &[])
}

/// The user message (`prompts/short.md`): the failure, the test, the definitions, and what
/// to send back. `previous` is what the last try changed and what the tests said after it.
pub fn user_message(
    prompts: &Prompts,
    f: &Focus,
    format: crate::llm::sizing::EditFormat,
    previous: Option<(&str, &str)>,
) -> Result<String, LlmError> {
    let lang = f
        .editables
        .first()
        .and_then(|e| Language::from_path(&e.path));
    let tag = lang.map_or("", |l| l.fence());
    let test = match &f.test {
        Some((path, code)) => format!("\nThe test ({path}):\n```{tag}\n{code}\n```\n"),
        None => String::new(),
    };
    let mut code = String::new();
    for e in &f.editables {
        let tag = Language::from_path(&e.path).map_or("", |l| l.fence());
        code.push_str(&format!(
            "\n{} (lines {}-{}):\n```{tag}\n{}\n```\n",
            e.path,
            e.first + 1,
            e.last + 1,
            e.text
        ));
    }
    let previous = match previous {
        // a reply that could not be used: what was wrong with it, no empty diff
        Some((diff, said)) if diff.trim().is_empty() => format!("\n{}\n", said.trim_end()),
        Some((diff, said)) => format!(
            "\nThis change was tried and did not fix it:\n```diff\n{}\n```\nThe tests said:\n```\n{}\n```\n",
            diff.trim_end(),
            said.trim_end()
        ),
        None => String::new(),
    };
    let which = if format == crate::llm::sizing::EditFormat::WholeFile {
        "the file above"
    } else if f.editables.len() == 1 && !super::choose::is_def_start(f.editables[0].signature()) {
        // an import block, a table
        "the lines above"
    } else if f.editables.len() == 1 {
        "the definition above"
    } else {
        "the one definition above that is wrong"
    };
    let files = match f.files.as_str() {
        "" => String::new(),
        listed => format!("\n{listed}\n"),
    };
    let vars = [
        ("failure", f.failure.as_str()),
        ("test", test.as_str()),
        ("files", files.as_str()),
        ("code", code.as_str()),
        ("previous", previous.as_str()),
        ("which", which),
        ("fence", tag),
    ];
    Ok(prompts
        .render(Template::Short, &vars)?
        .trim_end()
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::focus::fixture::editable;

    #[test]
    fn the_prompt_is_short_and_names_no_example() {
        let f = Focus {
            failure: "2.69 !== 2.7".into(),
            test: Some(("test/cart.test.js".into(), "test('d', () => {});".into())),
            editables: vec![editable()],
            files: String::new(),
        };
        let prompts = Prompts::builtin();
        let text = user_message(
            &prompts,
            &f,
            crate::llm::sizing::EditFormat::Function,
            Some(("-a\n+b", "2.6 !== 2.7")),
        )
        .unwrap();
        assert!(text.contains("src/cart.js (lines 8-11)"), "{text}");
        assert!(text.contains("```javascript\n  discount() {"), "{text}");
        assert!(!text.contains("8|"), "no gutters to copy: {text}");
        assert!(text.contains("This change was tried") && text.contains("2.6 !== 2.7"));
        assert!(
            text.starts_with(
                "A test fails:\n```\n2.69 !== 2.7\n```\n\nThe test (test/cart.test.js):"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("Keep its first line. No other text."),
            "{text}"
        );
        assert!(!system(&prompts).unwrap().contains("SEARCH"));
    }

    #[test]
    fn the_short_prompt_can_be_replaced_from_prompts_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("short_system.md"),
            "Fix it. Reply with code only.",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("short.md"),
            "Failing:\n{{failure}}\nCode:{{code}}Return {{which}} in ```{{fence}}.",
        )
        .unwrap();
        let prompts = Prompts::load(Some(dir.path())).unwrap();
        let f = Focus {
            failure: "2.69 !== 2.7".into(),
            test: None,
            editables: vec![editable()],
            files: String::new(),
        };
        let text =
            user_message(&prompts, &f, crate::llm::sizing::EditFormat::Function, None).unwrap();
        assert!(
            text.starts_with("Failing:\n2.69 !== 2.7\nCode:\nsrc/cart.js (lines 8-11)"),
            "{text}"
        );
        assert!(
            text.ends_with("Return the definition above in ```javascript."),
            "{text}"
        );
        assert_eq!(system(&prompts).unwrap(), "Fix it. Reply with code only.");
        std::fs::write(dir.path().join("short.md"), "no variables at all").unwrap();
        let err = Prompts::load(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("{{failure}}"), "{err}");
    }
}
