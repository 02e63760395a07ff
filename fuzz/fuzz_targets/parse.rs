//! Any text as a failed step's kept lines: every parser runs without panicking and the
//! step always gets an answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use selfheal::logs::StepLog;
use selfheal::logs::parse::parse_step;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let step = StepLog { lines: text.lines().map(str::to_string).collect(), failed: true, ..StepLog::default() };
    let found = parse_step(&step, None);
    assert!(step.lines.is_empty() || !found.is_empty());
});
