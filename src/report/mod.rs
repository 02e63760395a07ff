//! Rendering for people (`human`) and programs (`json`). STUB until wired.
