//! The repair loop: choose the failures to fix, build the context, ask the model for a
//! patch, check it (parse, guard, risk), get approval, prove it on a staged copy of the
//! tree, and only then apply it to the working tree; on a failed proof, retry with what
//! the tests said. Emits [`Event`]s for the reporters; does no printing of its own.

pub mod stage;
