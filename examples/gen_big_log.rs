//! Writes a run-log ZIP in GitHub's layout with one big step for the benchmark: `SIZE_MB`
//! of mostly passing test noise (timestamps, ANSI colour, the odd `error` word and group)
//! and a real pytest failure at the end.
//!
//! The big step is stored twice, as GitHub does: as `test/2_Run pytest.txt` and as the job
//! file `0_test.txt` (a raw copy of the compressed bytes, so the job file holds that step
//! only; a real job file also holds the small set-up step).
//!
//! With `--one-line` the job file `0_test.txt` alone holds one line of `SIZE_MB`, then the
//! exit-code line (the bounded-memory case).
//!
//! `cargo run --release --example gen_big_log -- OUT.zip SIZE_MB [--once | --one-line]`

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};

use zip::write::SimpleFileOptions;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Runner-style timestamps, one step apart per line.
struct Clock {
    secs: u64,
    frac: u64,
}

impl Clock {
    fn stamp(&mut self, out: &mut Vec<u8>) {
        self.frac += 13_579;
        if self.frac >= 10_000_000 {
            self.frac -= 10_000_000;
            self.secs += 1;
        }
        let (h, m, s) = (
            9 + self.secs / 3600 % 14,
            self.secs / 60 % 60,
            self.secs % 60,
        );
        write!(out, "2026-11-20T{h:02}:{m:02}:{s:02}.{:07}Z ", self.frac).expect("write to Vec");
    }
}

fn noise_line(rng: &mut Rng, clock: &mut Clock, out: &mut Vec<u8>) {
    clock.stamp(out);
    let (a, b, c) = (rng.below(400), rng.below(90), rng.below(1000));
    let pct = rng.below(100);
    let w = match rng.below(1000) {
        0..=449 => writeln!(
            out,
            "tests/pkg_{a}/test_mod_{b}.py::test_case_{c}[param{b}] \x1b[32mPASSED\x1b[0m  [{pct:3}%]"
        ),
        450..=649 => writeln!(out, "   Compiling crate-{a} v0.{b}.{c}"),
        650..=799 => writeln!(
            out,
            " \x1b[32m✓\x1b[39m src/components/widget_{a}.test.ts \x1b[2m({b} tests)\x1b[22m \x1b[33m{c}ms\x1b[39m"
        ),
        800..=899 => writeln!(
            out,
            "Downloading https://files.pythonhosted.org/packages/{:02x}/{:02x}/pkg_{a}-{b}.{c}-py3-none-any.whl ({c} kB)",
            rng.below(256),
            rng.below(256)
        ),
        900..=995 => writeln!(
            out,
            "ok   \tgithub.com/acme/app/internal/pkg{a}\t0.{c:03}s\tcoverage: {pct}.{b}% of statements"
        ),
        996..=997 => writeln!(out, "tests/test_errors.py::test_error_path_{c} PASSED"),
        998 => writeln!(out, "##[group]Cache step {a}\n{}##[endgroup]", {
            let mut s = Vec::new();
            clock.stamp(&mut s);
            String::from_utf8(s).expect("ascii")
        }),
        _ => writeln!(out, "warning: unused variable `x{a}` in helper_{b}"),
    };
    w.expect("write to Vec");
}

const FAILURE: &[&str] = &[
    "=================================== FAILURES ===================================",
    "_______________________________ test_total_price _______________________________",
    "",
    "    def test_total_price():",
    "        cart = Cart([Item(\"apple\", 3)])",
    ">       assert cart.total() == 4",
    "E       assert 3 == 4",
    "E        +  where 3 = <bound method Cart.total of <shop.cart.Cart object at 0x7f>>()",
    "",
    "tests/test_cart.py:12: AssertionError",
    "=========================== short test summary info ============================",
    "FAILED tests/test_cart.py::test_total_price - assert 3 == 4",
    "========================= 1 failed, 48210 passed in 812.44s =========================",
    "##[error]Process completed with exit code 1.",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(mb)) = (
        args.first(),
        args.get(1).and_then(|s| s.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: gen_big_log OUT.zip SIZE_MB [--once]");
        std::process::exit(2);
    };
    let twice = !args.iter().any(|a| a == "--once");
    if args.iter().any(|a| a == "--one-line") {
        return one_line(out, mb);
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(out)?;
    let mut zip = zip::ZipWriter::new(file);
    let opts = SimpleFileOptions::default().large_file(true);
    let mut clock = Clock { secs: 0, frac: 0 };
    let mut line = Vec::with_capacity(512);

    zip.start_file("test/1_Set up job.txt", opts)?;
    line.extend_from_slice("\u{feff}".as_bytes());
    for msg in [
        "Current runner version: '2.321.0'",
        "Secret source: Actions",
        "Complete job name: test",
    ] {
        clock.stamp(&mut line);
        line.extend_from_slice(msg.as_bytes());
        line.push(b'\n');
    }
    zip.write_all(&line)?;

    let big = "test/2_Run pytest.txt";
    zip.start_file(big, opts)?;
    let target = mb << 20;
    let mut written = 0u64;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    {
        let mut w = BufWriter::with_capacity(1 << 20, &mut zip);
        line.clear();
        line.extend_from_slice("\u{feff}".as_bytes());
        clock.stamp(&mut line);
        line.extend_from_slice(b"##[group]Run pytest -q\n");
        clock.stamp(&mut line);
        line.extend_from_slice(b"\x1b[36;1mpytest -q\x1b[0m\n");
        clock.stamp(&mut line);
        line.extend_from_slice(b"##[endgroup]\n");
        while written < target {
            noise_line(&mut rng, &mut clock, &mut line);
            if line.len() > 64 * 1024 {
                w.write_all(&line)?;
                written += line.len() as u64;
                line.clear();
            }
        }
        for msg in FAILURE {
            clock.stamp(&mut line);
            line.extend_from_slice(msg.as_bytes());
            line.push(b'\n');
        }
        w.write_all(&line)?;
        written += line.len() as u64;
        w.flush()?;
    }
    zip.start_file("test/system.txt", opts)?;
    zip.write_all(b"Requested labels: ubuntu-latest\nJob defined at: acme/app/.github/workflows/ci.yml@refs/heads/main\n")?;
    if twice {
        zip.deep_copy_file(big, "0_test.txt")?;
    }
    zip.finish()?;
    let entries = if twice { 2 * written } else { written };
    eprintln!("wrote {out}: big step {written} bytes, {entries} bytes of big entries uncompressed");
    Ok(())
}

fn one_line(out: &str, mb: u64) -> Result<(), Box<dyn std::error::Error>> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(out)?;
    let mut zip = zip::ZipWriter::new(file);
    zip.start_file("0_test.txt", SimpleFileOptions::default().large_file(true))?;
    let mut clock = Clock { secs: 0, frac: 0 };
    let mut head = "\u{feff}".as_bytes().to_vec();
    clock.stamp(&mut head);
    zip.write_all(&head)?;
    let block = vec![b'x'; 1 << 20];
    for _ in 0..mb {
        zip.write_all(&block)?;
    }
    let mut tail = b"\n".to_vec();
    clock.stamp(&mut tail);
    tail.extend_from_slice(b"##[error]Process completed with exit code 1.\n");
    zip.write_all(&tail)?;
    zip.finish()?;
    eprintln!("wrote {out}: one line of {mb} MiB");
    Ok(())
}
