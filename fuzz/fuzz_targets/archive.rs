//! Any bytes as a run-log download (ZIP or text): read without panicking, within limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use selfheal::logs::archive::{Limits, read_stream};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_inflated_bytes: 64 << 20, tail_lines: 200, ..Limits::default() };
    let _ = read_stream(std::io::Cursor::new(data), "fuzz", &limits);
});
