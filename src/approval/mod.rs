//! Asking a human before a patch touches the working tree.
//!
//! [`prompt`] is the terminal y/N question (never blocking without a TTY); [`queue`] keeps
//! deferred patches under `<state>/pending/` for `selfheal approve`. This module decides
//! nothing about applying or publishing: the pipeline acts on the [`Decision`].

pub mod prompt;
pub mod queue;
pub mod web;

pub use prompt::{Decision, ask};
pub use queue::{
    HistoryEntry, NewPending, Pending, PendingLock, PendingMeta, QueueError, is_pending,
    list_pending, load_pending, lock_pending, mark_applied, mark_rejected, read_history,
    remove_pending, save_pending, set_origin,
};
