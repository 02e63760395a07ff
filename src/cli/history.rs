//! `selfheal history`: what the failure memory knows: recent repairs, success rates per
//! tool and kind, tokens and cost, and LLM calls saved by fixers and remembered fixes.

use crate::error::{Error, exit};
use crate::memory::Memory;

use super::args::HistoryArgs;
use super::{Ctx, print_stdout};

pub fn run(ctx: &Ctx, args: &HistoryArgs) -> Result<i32, Error> {
    let memory = Memory::open(&ctx.config.state_dir(&ctx.repo_root))?;
    let h = memory.history(args.limit)?;
    if ctx.json {
        print_stdout(&crate::report::json::to_string(&h))?;
    } else if h.recent.is_empty() {
        print_stdout("no repairs recorded yet\n")?;
    } else {
        let mut out = String::from("recent repairs:\n");
        for o in &h.recent {
            out.push_str(&format!(
                "  {:<11} {:<8} {}/{} {} ({} tokens)\n",
                o.verdict,
                o.source,
                o.tool,
                o.kind,
                o.message.chars().take(60).collect::<String>(),
                o.prompt_tokens + o.completion_tokens
            ));
        }
        out.push_str("\nper tool and kind:\n");
        let (mut tokens, mut cost, mut saved) = (0, 0.0, 0);
        for g in &h.groups {
            let rate = 100.0 * g.healed as f64 / g.repairs.max(1) as f64;
            out.push_str(&format!(
                "  {:<28} {:>3} repairs, {:>3.0}% healed, {} tokens, ${:.4}, {} LLM calls saved\n",
                format!("{}/{}", g.tool, g.kind),
                g.repairs,
                rate,
                g.tokens,
                g.cost_usd,
                g.llm_calls_saved
            ));
            tokens += g.tokens;
            cost += g.cost_usd;
            saved += g.llm_calls_saved;
        }
        out.push_str(&format!(
            "\ntotal: {tokens} tokens, ${cost:.4}, {saved} LLM calls saved\n"
        ));
        print_stdout(&out)?;
    }
    Ok(if h.recent.is_empty() {
        exit::NOTHING_FOUND
    } else {
        exit::SUCCESS
    })
}
