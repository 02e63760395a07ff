//! Prompt context within a token budget.
