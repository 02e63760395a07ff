//! Prints every kept line of every step of one log source (debugging aid).
//!
//! `cargo run --example dump_steps -- PATH`

use selfheal::error::Hint;
use selfheal::logs::archive::{Limits, LogSource, read_run};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: dump_steps PATH");
        std::process::exit(2);
    };
    let outcome = LogSource::from_arg(&path).and_then(|s| read_run(&s, &Limits::default()));
    match outcome {
        Ok(o) => {
            for s in &o.steps {
                println!(
                    "== {} / {} (#{:?}) failed={} exit={:?} commands={:?}",
                    s.job, s.step, s.number, s.failed, s.exit_code, s.commands
                );
                for a in &s.annotations {
                    println!("  @ {:?} {:?}:{:?} {}", a.level, a.file, a.line, a.message);
                }
                for l in &s.lines {
                    println!("  | {l}");
                }
            }
            for w in &o.warnings {
                println!("warning: {w}");
            }
        }
        Err(e) => {
            eprintln!("error: {e}\n(hint: {})", e.hint());
            std::process::exit(1);
        }
    }
}
