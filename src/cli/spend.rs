//! The daily LLM spending cap, `[llm] max_cost_usd_per_day`, for every command that starts
//! repairs (`run`, `run --watch`, `offline`): today's spend is kept in the state dir
//! (`store::spend`), counted after each repair and checked before the next one starts.

use crate::config::LlmConfig;
use crate::store::Store;

/// `Some(why)` when no new repair may start: today's spend reached the cap, or the
/// model's price is unknown so the cap cannot hold. `spends` is false for a replay or
/// `--print-prompt`, which cost nothing.
pub fn stop_reason(llm: &LlmConfig, store: &Store, spends: bool) -> Option<String> {
    let cap = llm.max_cost_usd_per_day;
    if cap <= 0.0 || !spends {
        return None;
    }
    if crate::llm::meter::price_for(llm, &llm.model).is_none() {
        return Some(format!(
            "[llm] max_cost_usd_per_day = {cap} cannot hold: the price of `{}` is unknown (set [llm] price_in_per_mtok and price_out_per_mtok)",
            llm.model
        ));
    }
    let spent = store.spent_on(&today()).unwrap_or(0.0);
    (spent >= cap).then(|| {
        format!(
            "today's LLM spend ${spent:.4} reached [llm] max_cost_usd_per_day = ${cap}: no new repair starts until tomorrow (UTC)"
        )
    })
}

/// Adds one repair's cost to today's spend; trouble is a warning, not an error.
pub fn count(store: &Store, usd: f64) {
    if let Err(e) = store.add_spend(&today(), usd) {
        eprintln!("warning: could not count today's LLM spend: {e}");
    }
}

/// `YYYY-MM-DD`, UTC: the day the spend is counted on.
fn today() -> String {
    crate::date::Utc::from_system(std::time::SystemTime::now()).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn priced(cap: f64) -> LlmConfig {
        LlmConfig {
            max_cost_usd_per_day: cap,
            price_in_per_mtok: 1.0,
            price_out_per_mtok: 2.0,
            model: "my-model".into(),
            ..crate::config::Config::defaults().llm
        }
    }

    #[test]
    fn the_cap_stops_new_repairs_once_reached_and_not_before() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(stop_reason(&priced(0.5), &store, true), None);
        count(&store, 0.3);
        assert_eq!(stop_reason(&priced(0.5), &store, true), None);
        count(&store, 0.3);
        let why = stop_reason(&priced(0.5), &store, true).unwrap();
        assert!(
            why.contains("$0.6000") && why.contains("until tomorrow"),
            "{why}"
        );
        assert_eq!(
            stop_reason(&priced(0.5), &store, false),
            None,
            "a replay costs nothing"
        );
        assert_eq!(stop_reason(&priced(0.0), &store, true), None, "no cap");
    }

    #[test]
    fn an_unknown_price_is_not_free() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let unknown = LlmConfig {
            price_in_per_mtok: 0.0,
            price_out_per_mtok: 0.0,
            ..priced(1.0)
        };
        let why = stop_reason(&unknown, &store, true).unwrap();
        assert!(why.contains("price of `my-model` is unknown"), "{why}");
    }
}
