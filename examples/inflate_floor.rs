//! The floor for reading a run-log ZIP: inflate every entry to nowhere, with no line work.
//! Prints the time and MB/s (of inflated bytes) for the `zip` crate's reader and for raw
//! flate2 `Decompress` over the entry's bytes (what the archive reader uses).
//!
//! `cargo run --release --example inflate_floor -- ARCHIVE.zip`

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::time::Instant;

use flate2::{Decompress, FlushDecompress, Status};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: inflate_floor ARCHIVE.zip");
        std::process::exit(2);
    };
    let t = Instant::now();
    let mut zip = zip::ZipArchive::new(File::open(&path)?)?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut f = zip.by_index(i)?;
        total += io::copy(&mut f, &mut io::sink())?;
    }
    report("zip crate reader", total, t);

    let t = Instant::now();
    let mut spans = Vec::new();
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i)?;
        spans.push((
            f.data_start().unwrap_or(0),
            f.compressed_size(),
            f.compression() == zip::CompressionMethod::Deflated,
        ));
    }
    let mut file = File::open(&path)?;
    let mut total = 0u64;
    let mut input = vec![0u8; 256 * 1024];
    let mut out = vec![0u8; 256 * 1024];
    for (start, len, deflated) in spans {
        file.seek(SeekFrom::Start(start))?;
        let mut r = (&mut file).take(len);
        if !deflated {
            total += io::copy(&mut r, &mut io::sink())?;
            continue;
        }
        let mut d = Decompress::new(false);
        'entry: loop {
            let have = r.read(&mut input)?;
            if have == 0 {
                break;
            }
            let mut at = 0;
            while at < have {
                let (i0, o0) = (d.total_in(), d.total_out());
                let status = d.decompress(&input[at..have], &mut out, FlushDecompress::None)?;
                at += (d.total_in() - i0) as usize;
                total += d.total_out() - o0;
                if status == Status::StreamEnd {
                    break 'entry;
                }
            }
        }
    }
    report("raw flate2 Decompress", total, t);
    Ok(())
}

fn report(what: &str, bytes: u64, t: Instant) {
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{what}: {bytes} bytes inflated in {secs:.3} s = {:.0} MB/s",
        bytes as f64 / 1e6 / secs
    );
}
