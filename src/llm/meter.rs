//! Tokens and cost per repair, against `[llm] max_tokens_per_run` and `max_cost_per_run`.
//!
//! Before each call the [`Meter`] adds the worst case (the prompt, counted with
//! [`tokens::chat_prompt`], plus the request's whole `max_tokens`) to what the repair has
//! used; if that passes a cap the call is not made and [`LlmError::Budget`] stops the repair
//! cleanly. After the call the server's usage (or our estimate) is added. A server that
//! counts more than we did can push the totals past a cap: the reply, already paid for, is
//! still returned, and the next call is refused. Prices come from `[llm.prices]`, matched
//! on the model name or its longest listed prefix (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`);
//! unlisted models (local ones) cost nothing but their tokens still count.

use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::{BoxFuture, ChatReply, ChatRequest, LlmError, Provider, tokens};
use crate::config::{LlmConfig, Price};

/// The caps; 0 means no cap.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Budget {
    pub max_tokens: u64,
    pub max_cost: f64,
    pub price: Option<Price>,
}

impl Budget {
    pub fn from_config(c: &LlmConfig) -> Self {
        Budget {
            max_tokens: c.max_tokens_per_run,
            max_cost: c.max_cost_per_run,
            price: price_for(c, &c.model),
        }
    }

    /// US dollars for these token counts.
    pub fn cost(&self, prompt_tokens: u64, completion_tokens: u64) -> f64 {
        self.price.map_or(0.0, |p| {
            (prompt_tokens as f64 * p.input_per_mtok + completion_tokens as f64 * p.output_per_mtok)
                / 1e6
        })
    }
}

/// The price of `model`: listed exactly, or under its longest listed prefix, else
/// `[llm] price_in_per_mtok` / `price_out_per_mtok` when set. `None`: unknown (its cost
/// cannot be counted; callers say so instead of counting it as free).
pub fn price_for(c: &LlmConfig, model: &str) -> Option<Price> {
    if let Some(p) = c.prices.get(model) {
        return Some(*p);
    }
    let listed = c
        .prices
        .iter()
        .filter(|(name, _)| model.starts_with(name.as_str()))
        .max_by_key(|(name, _)| name.len())
        .map(|(_, p)| *p);
    let configured = (c.price_in_per_mtok > 0.0 || c.price_out_per_mtok > 0.0).then_some(Price {
        input_per_mtok: c.price_in_per_mtok,
        output_per_mtok: c.price_out_per_mtok,
    });
    listed.or(configured)
}

/// The one line to show when the model's price is unknown.
pub fn unknown_price_warning(c: &LlmConfig) -> Option<String> {
    price_for(c, &c.model).is_none().then(|| {
        format!(
            "the price of model `{}` is unknown, so its cost is not counted (and caps in dollars cannot hold); \
             set [llm] price_in_per_mtok and price_out_per_mtok (SELFHEAL_LLM_PRICE_IN_PER_MTOK, …)",
            c.model
        )
    })
}

/// What a repair has used so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    pub calls: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost: f64,
    /// Some counts are our estimates (the server sent no usage).
    pub estimated: bool,
}

impl Totals {
    pub fn tokens(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// Sums usage for one repair and enforces the [`Budget`].
#[derive(Debug)]
pub struct Meter {
    budget: Budget,
    totals: Mutex<Totals>,
}

impl Meter {
    pub fn new(budget: Budget) -> Self {
        Meter {
            budget,
            totals: Mutex::new(Totals::default()),
        }
    }

    pub fn totals(&self) -> Totals {
        *self.lock()
    }

    /// Errs with [`LlmError::Budget`] if `req` could take the repair past a cap.
    pub fn check(&self, req: &ChatRequest) -> Result<(), LlmError> {
        let prompt = tokens::chat_prompt(&req.system, &req.user) as u64;
        let worst = (prompt, u64::from(req.max_tokens));
        self.over(worst, "the next call").map_or(Ok(()), Err)
    }

    /// Adds a reply's usage.
    pub fn record(&self, reply: &ChatReply) {
        let u = reply.usage;
        let mut t = self.lock();
        t.calls += 1;
        t.prompt_tokens += u.prompt_tokens;
        t.completion_tokens += u.completion_tokens;
        t.cost += self.budget.cost(u.prompt_tokens, u.completion_tokens);
        t.estimated |= u.estimated;
    }

    /// The Budget error if the totals already pass a cap (checked after a call).
    pub fn exhausted(&self) -> Option<LlmError> {
        self.over((0, 0), "this repair")
    }

    fn over(&self, (prompt, completion): (u64, u64), what: &str) -> Option<LlmError> {
        let t = self.totals();
        let tokens = t.tokens() + prompt + completion;
        if self.budget.max_tokens > 0 && tokens > self.budget.max_tokens {
            return Some(LlmError::Budget {
                what: format!(
                    "{what} could bring the run to {tokens} tokens, past max_tokens_per_run = {} ({} used)",
                    self.budget.max_tokens,
                    t.tokens()
                ),
                hint: "raise [llm] max_tokens_per_run, or lower context_tokens / max_tokens".into(),
            });
        }
        let cost = t.cost + self.budget.cost(prompt, completion);
        if self.budget.max_cost > 0.0 && cost > self.budget.max_cost {
            return Some(LlmError::Budget {
                what: format!(
                    "{what} could bring the run to ${cost:.4}, past max_cost_per_run = ${:.4} (${:.4} spent)",
                    self.budget.max_cost, t.cost
                ),
                hint: "raise [llm] max_cost_per_run, or use a cheaper [llm] model".into(),
            });
        }
        None
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Totals> {
        self.totals.lock().expect("meter lock")
    }
}

/// Any provider, with every call checked and counted by a shared [`Meter`].
pub struct MeteredProvider<P> {
    inner: P,
    meter: Arc<Meter>,
}

impl<P: Provider> MeteredProvider<P> {
    pub fn new(inner: P, meter: Arc<Meter>) -> Self {
        MeteredProvider { inner, meter }
    }
    pub fn meter(&self) -> &Arc<Meter> {
        &self.meter
    }
    async fn complete_metered(&self, req: &ChatRequest) -> Result<ChatReply, LlmError> {
        self.meter.check(req)?;
        let reply = self.inner.complete(req).await?;
        self.meter.record(&reply);
        if let Some(e) = self.meter.exhausted() {
            tracing::warn!("{e}");
        }
        Ok(reply)
    }
}

impl<P: Provider> Provider for MeteredProvider<P> {
    fn complete<'a>(&'a self, req: &'a ChatRequest) -> BoxFuture<'a, Result<ChatReply, LlmError>> {
        Box::pin(self.complete_metered(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::error::Hint;
    use crate::llm::Usage;

    /// Answers every request with a fixed usage.
    struct Fixed(Usage);
    impl Provider for Fixed {
        fn complete<'a>(
            &'a self,
            _: &'a ChatRequest,
        ) -> BoxFuture<'a, Result<ChatReply, LlmError>> {
            let reply = ChatReply {
                text: "ok".into(),
                usage: self.0,
                model: "m".into(),
                finish_reason: None,
            };
            Box::pin(std::future::ready(Ok(reply)))
        }
    }

    fn req(max_tokens: u32) -> ChatRequest {
        ChatRequest {
            system: "s".into(),
            user: "u".into(),
            max_tokens,
            temperature: 0.0,
            purpose: "patch".into(),
        }
    }

    #[test]
    fn prices_match_exact_then_longest_prefix() {
        let c = Config::defaults().llm;
        assert_eq!(price_for(&c, "gpt-4o").unwrap().input_per_mtok, 2.50);
        assert_eq!(
            price_for(&c, "gpt-4o-mini-2024-07-18")
                .unwrap()
                .input_per_mtok,
            0.15
        );
        assert!(price_for(&c, "qwen2.5-coder").is_none());
        let mut local = c.clone();
        local.model = "qwen2.5-coder".into();
        assert!(
            unknown_price_warning(&local)
                .unwrap()
                .contains("qwen2.5-coder")
        );
        local.price_in_per_mtok = 0.1;
        local.price_out_per_mtok = 0.2;
        assert_eq!(
            price_for(&local, "qwen2.5-coder").unwrap().output_per_mtok,
            0.2
        );
        assert!(unknown_price_warning(&local).is_none());
        assert!(unknown_price_warning(&c).is_none());
        let b = Budget::from_config(&c);
        assert!((b.cost(1_000_000, 1_000_000) - 0.75).abs() < 1e-9);
    }

    #[tokio::test]
    async fn token_cap_stops_before_the_call() {
        let usage = Usage {
            prompt_tokens: 400,
            completion_tokens: 100,
            estimated: false,
        };
        let meter = Arc::new(Meter::new(Budget {
            max_tokens: 1100,
            max_cost: 0.0,
            price: None,
        }));
        let p = MeteredProvider::new(Fixed(usage), meter.clone());
        p.complete(&req(100)).await.unwrap();
        p.complete(&req(100)).await.unwrap();
        let err = p.complete(&req(100)).await.unwrap_err();
        assert!(matches!(err, LlmError::Budget { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("max_tokens_per_run = 1100 (1000 used)"),
            "{err}"
        );
        assert!(err.hint().contains("max_tokens_per_run"));
        assert_eq!(meter.totals().calls, 2);
    }

    #[tokio::test]
    async fn cost_cap_counts_the_worst_case_completion() {
        let price = Price {
            input_per_mtok: 1000.0,
            output_per_mtok: 2000.0,
        };
        let meter = Arc::new(Meter::new(Budget {
            max_tokens: 0,
            max_cost: 1.0,
            price: Some(price),
        }));
        let usage = Usage {
            prompt_tokens: 300,
            completion_tokens: 100,
            estimated: true,
        };
        let p = MeteredProvider::new(Fixed(usage), meter.clone());
        p.complete(&req(100)).await.unwrap(); // worst case ~0.21 $, spent 0.5 $
        let t = meter.totals();
        assert!((t.cost - 0.5).abs() < 1e-9 && t.estimated, "{t:?}");
        let err = p.complete(&req(300)).await.unwrap_err(); // 0.5 + ~0.01 + 0.6 > 1.0
        assert!(err.to_string().contains("max_cost_per_run"), "{err}");
        p.complete(&req(50)).await.unwrap(); // 0.5 + ~0.01 + 0.1 fits
    }

    #[tokio::test]
    async fn overrun_after_the_call_keeps_the_reply_and_refuses_the_next() {
        let usage = Usage {
            prompt_tokens: 5000,
            completion_tokens: 10,
            estimated: false,
        };
        let meter = Arc::new(Meter::new(Budget {
            max_tokens: 1000,
            max_cost: 0.0,
            price: None,
        }));
        let p = MeteredProvider::new(Fixed(usage), meter.clone());
        assert_eq!(p.complete(&req(10)).await.unwrap().text, "ok");
        assert!(meter.exhausted().is_some());
        assert!(matches!(
            p.complete(&req(10)).await,
            Err(LlmError::Budget { .. })
        ));
    }
}
