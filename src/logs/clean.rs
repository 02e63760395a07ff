//! Cleans one raw log line: BOMs, the runner's 7-digit timestamp, ANSI colour, and
//! the `##[group]`/`##[endgroup]`/`##[debug]` markers (LOGS.md §4–5). STUB.
