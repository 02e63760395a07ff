//! The ZIP container: lists entries (central directory, or a walk over local headers when
//! the directory is missing because the download was cut), and inflates one entry into
//! reusable chunks with the zip-bomb caps checked while inflating.
//!
//! Entries are read with positional reads on a shared `File`, so several can be inflated at
//! once; nothing is ever written to disk.

use std::fs::File;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::{Decompress, FlushDecompress, Status};

/// Bytes handed to the scanner at a time.
pub const CHUNK: usize = 256 * 1024;
/// Below this many inflated bytes an entry's ratio is not judged.
const RATIO_GRACE: u64 = 1 << 20;

/// Where one entry's data lies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryMeta {
    pub name: String,
    /// 0 stored, 8 deflate; others are skipped.
    pub method: u16,
    pub data_start: u64,
    pub compressed: u64,
    pub size: u64,
    /// The archive ends inside this entry: read what is there.
    pub truncated: bool,
}

/// What became of listing the archive.
#[derive(Debug, Default)]
pub struct Listing {
    pub entries: Vec<EntryMeta>,
    pub warnings: Vec<String>,
    /// The central directory was unreadable and local headers were walked instead.
    pub recovered: bool,
}

/// Why an entry could not be inflated (to the end).
#[derive(Debug, thiserror::Error)]
pub enum InflateError {
    #[error("{0}")]
    Bomb(String),
    #[error("{0}")]
    Corrupt(String),
    #[error("read failed: {0}")]
    Io(#[from] io::Error),
}

/// Reads `len` bytes of `file` from `pos` on, without moving a shared cursor.
pub struct PosReader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl<'a> PosReader<'a> {
    pub fn new(file: &'a File, pos: u64, len: u64) -> Self {
        PosReader {
            file,
            pos,
            end: pos.saturating_add(len),
        }
    }
}

impl Read for PosReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = read_at(self.file, &mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, pos)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, pos)
}

/// Lists the entries from the central directory, or by walking local headers.
/// `max_inflated` caps the inflating needed to find the end of entries whose sizes come
/// after their data (only when the directory is unreadable).
pub fn list(file: &File, file_len: u64, max_inflated: u64) -> Listing {
    match central_directory(file) {
        Ok(entries) if entries.len() < directory_count(file, file_len).unwrap_or(0) => {
            // the zip crate keeps one entry per name; walk the headers to see them all
            let mut listing = walk(file, file_len, max_inflated);
            listing.recovered = false;
            listing.warnings.insert(
                0,
                "the archive holds several entries with one name; all of them are read".into(),
            );
            listing
        }
        Ok(entries) => Listing {
            entries,
            ..Listing::default()
        },
        Err(why) => {
            let mut listing = walk(file, file_len, max_inflated);
            let n = listing.entries.len();
            listing
                .warnings
                .insert(0, format!("the archive's directory is unreadable ({why}); archive is cut after {n} entries"));
            listing
        }
    }
}

/// The entry count the end-of-directory record states (`None` when there is none or it
/// needs zip64).
fn directory_count(file: &File, file_len: u64) -> Option<usize> {
    let tail_len = file_len.min(66_000);
    let mut tail = vec![0u8; tail_len as usize];
    let got = read_full(file, &mut tail, file_len - tail_len).ok()?;
    let tail = &tail[..got];
    let at = tail.windows(4).rposition(|w| w == b"PK\x05\x06")?;
    let count = u16_at(tail.get(at..at + 22)?, 10);
    (count != 0xFFFF).then_some(usize::from(count))
}

fn central_directory(file: &File) -> Result<Vec<EntryMeta>, String> {
    let reader = PosSeek { file, pos: 0 };
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|e| format!("entry {i}: {e}"))?;
        let name = String::from_utf8_lossy(f.name_raw()).into_owned();
        let method = match f.compression() {
            zip::CompressionMethod::Stored => 0,
            zip::CompressionMethod::Deflated => 8,
            _ => u16::MAX,
        };
        let data_start = f
            .data_start()
            .ok_or_else(|| format!("entry {name}: no data offset"))?;
        out.push(EntryMeta {
            name,
            method,
            data_start,
            compressed: f.compressed_size(),
            size: f.size(),
            truncated: false,
        });
    }
    Ok(out)
}

/// `Read + Seek` over positional reads, for the zip crate's directory parser.
struct PosSeek<'a> {
    file: &'a File,
    pos: u64,
}

impl Read for PosSeek<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = read_at(self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl io::Seek for PosSeek<'_> {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let len = self.file.metadata()?.len();
        let new = match to {
            io::SeekFrom::Start(p) => Some(p),
            io::SeekFrom::End(d) => len.checked_add_signed(d),
            io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos =
            new.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.pos)
    }
}

const LOCAL_SIG: u32 = 0x0403_4b50;
const DESCRIPTOR_SIG: u32 = 0x0807_4b50;

/// Finds the entries from their local headers, in order, and stops where the data ends
/// (a cut download has no central directory).
fn walk(file: &File, file_len: u64, max_inflated: u64) -> Listing {
    let mut listing = Listing {
        recovered: true,
        ..Listing::default()
    };
    let mut pos = 0u64;
    loop {
        match local_entry(file, pos, file_len, max_inflated) {
            Ok(Some((entry, next))) => {
                let cut = entry.truncated;
                listing.entries.push(entry);
                if cut {
                    break;
                }
                pos = next;
            }
            Ok(None) => break,
            Err(e) => {
                listing.warnings.push(format!("stopped at byte {pos}: {e}"));
                break;
            }
        }
    }
    listing
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(a)
}

/// One local header at `pos`: the entry and where the next header starts. `None` at the
/// end of the entries (central directory or end of data).
fn local_entry(
    file: &File,
    pos: u64,
    file_len: u64,
    max_inflated: u64,
) -> Result<Option<(EntryMeta, u64)>, String> {
    let mut h = [0u8; 30];
    let got = read_full(file, &mut h, pos).map_err(|e| e.to_string())?;
    if got < 4 || u32_at(&h, 0) != LOCAL_SIG {
        return Ok(None);
    }
    if got < 30 {
        return Err("a local header is cut".into());
    }
    let flags = u16_at(&h, 6);
    let method = u16_at(&h, 8);
    let (mut csize, mut usize_) = (u64::from(u32_at(&h, 18)), u64::from(u32_at(&h, 22)));
    let (name_len, extra_len) = (u16_at(&h, 26) as usize, u16_at(&h, 28) as usize);
    let mut var = vec![0u8; name_len + extra_len];
    if read_full(file, &mut var, pos + 30).map_err(|e| e.to_string())? < var.len() {
        return Err("an entry name is cut".into());
    }
    let name = String::from_utf8_lossy(&var[..name_len]).into_owned();
    if (csize == 0xFFFF_FFFF || usize_ == 0xFFFF_FFFF)
        && let Some((u, c)) = zip64_sizes(&var[name_len..])
    {
        (usize_, csize) = (u, c);
    }
    let data_start = pos + 30 + var.len() as u64;
    let available = file_len.saturating_sub(data_start);
    let has_descriptor = flags & 0x08 != 0 && csize == 0;
    if has_descriptor {
        return descriptor_entry(file, name, method, data_start, available, max_inflated);
    }
    let truncated = csize > available;
    let entry = EntryMeta {
        name,
        method,
        data_start,
        compressed: csize.min(available),
        size: usize_,
        truncated,
    };
    Ok(Some((entry, data_start + csize)))
}

/// Sizes from a zip64 extra field (id 1): uncompressed, then compressed.
fn zip64_sizes(extra: &[u8]) -> Option<(u64, u64)> {
    let mut i = 0;
    while i + 4 <= extra.len() {
        let (id, len) = (u16_at(extra, i), u16_at(extra, i + 2) as usize);
        let body = extra.get(i + 4..i + 4 + len)?;
        if id == 1 && body.len() >= 16 {
            return Some((u64_at(body, 0), u64_at(body, 8)));
        }
        i += 4 + len;
    }
    None
}

/// Sizes come after the data: inflate to the end of the deflate stream to find them.
fn descriptor_entry(
    file: &File,
    name: String,
    method: u16,
    data_start: u64,
    available: u64,
    max_inflated: u64,
) -> Result<Option<(EntryMeta, u64)>, String> {
    if method != 8 {
        return Err(format!(
            "entry {name} is stored with its size after the data; cannot find its end"
        ));
    }
    let mut reader = PosReader::new(file, data_start, available);
    let (consumed, produced, complete) =
        inflate_to_end(&mut reader, max_inflated).map_err(|e| format!("entry {name}: {e}"))?;
    let mut entry = EntryMeta {
        name,
        method,
        data_start,
        compressed: consumed,
        size: produced,
        truncated: !complete,
    };
    if !complete {
        entry.compressed = available;
        return Ok(Some((entry, data_start + available)));
    }
    let mut next = data_start + consumed;
    let mut d = [0u8; 4];
    if read_full(file, &mut d, next).map_err(|e| e.to_string())? == 4
        && u32_at(&d, 0) == DESCRIPTOR_SIG
    {
        next += 4;
    }
    // crc + sizes: 12 bytes, or 20 with zip64 sizes; the next signature tells which
    let mut after = [0u8; 4];
    let zip64 = read_full(file, &mut after, next + 12).map_err(|e| e.to_string())? == 4
        && u32_at(&after, 0) != LOCAL_SIG
        && u32_at(&after, 0) != 0x0201_4b50;
    next += if zip64 { 20 } else { 12 };
    Ok(Some((entry, next)))
}

/// Inflates a raw deflate stream to nowhere: (bytes consumed, bytes produced, reached the end).
fn inflate_to_end(reader: &mut impl Read, max_out: u64) -> Result<(u64, u64, bool), String> {
    let mut d = Decompress::new(false);
    let mut input = vec![0u8; 64 * 1024];
    let mut out = vec![0u8; CHUNK];
    let (mut have, mut at) = (0usize, 0usize);
    loop {
        if at == have {
            have = reader.read(&mut input).map_err(|e| e.to_string())?;
            at = 0;
            if have == 0 {
                return Ok((d.total_in(), d.total_out(), false));
            }
        }
        let (before, out_before) = (d.total_in(), d.total_out());
        let status = d
            .decompress(&input[at..have], &mut out, FlushDecompress::None)
            .map_err(|e| e.to_string())?;
        at += (d.total_in() - before) as usize;
        if status != Status::StreamEnd && d.total_in() == before && d.total_out() == out_before {
            return Err("deflate data stalls".into());
        }
        if status == Status::StreamEnd {
            return Ok((d.total_in(), d.total_out(), true));
        }
        if d.total_out() > max_out {
            return Err(format!(
                "it inflates past {max_out} bytes (max_inflated_bytes)"
            ));
        }
    }
}

fn read_full(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        let n = read_at(file, &mut buf[got..], pos + got as u64)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got)
}

/// The first (at most) `n` inflated bytes of an entry; empty when it cannot be read.
pub fn head(file: &File, entry: &EntryMeta, n: usize) -> Vec<u8> {
    let mut reader = PosReader::new(file, entry.data_start, entry.compressed);
    let mut out = Vec::with_capacity(n);
    if entry.method == 0 {
        out.resize(n, 0);
        let got = reader.read(&mut out).unwrap_or(0);
        out.truncate(got);
        return out;
    }
    let mut d = Decompress::new(false);
    let mut input = [0u8; 4096];
    while out.len() < n {
        let Ok(have) = reader.read(&mut input) else {
            break;
        };
        if have == 0 {
            break;
        }
        let mut at = 0;
        while at < have && out.len() < n {
            let before = d.total_in();
            match d.decompress_vec(&input[at..have], &mut out, FlushDecompress::None) {
                Ok(Status::StreamEnd) => return out,
                Ok(_) => at += (d.total_in() - before) as usize,
                Err(_) => return out,
            }
            if d.total_in() == before && out.len() < n && at < have {
                break;
            }
        }
    }
    out
}

/// Caps shared by every entry of one archive.
pub struct Budget {
    pub max_total: u64,
    pub max_ratio: u64,
    pub inflated: AtomicU64,
}

/// Inflates one entry chunk by chunk.
pub struct Inflater<'a> {
    reader: PosReader<'a>,
    entry: &'a EntryMeta,
    budget: &'a Budget,
    decomp: Option<Decompress>,
    input: Vec<u8>,
    have: usize,
    at: usize,
    done: bool,
    /// The data ended before the deflate stream did; reported on the next call.
    cut: bool,
    produced: u64,
}

impl<'a> Inflater<'a> {
    pub fn new(file: &'a File, entry: &'a EntryMeta, budget: &'a Budget) -> Self {
        let decomp = (entry.method == 8).then(|| Decompress::new(false));
        Inflater {
            reader: PosReader::new(file, entry.data_start, entry.compressed),
            entry,
            budget,
            decomp,
            input: vec![0u8; CHUNK],
            have: 0,
            at: 0,
            done: false,
            cut: false,
            produced: 0,
        }
    }

    /// Bytes produced so far.
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// Replaces `out`'s contents with the next inflated bytes; `Ok(false)` at the end.
    pub fn next_chunk(&mut self, out: &mut Vec<u8>) -> Result<bool, InflateError> {
        out.clear();
        if self.done {
            return Ok(false);
        }
        if out.capacity() < CHUNK {
            out.reserve(CHUNK);
        }
        let more = match self.decomp.is_some() {
            true => self.inflate_into(out)?,
            false => self.copy_into(out)?,
        };
        self.account(out.len() as u64)?;
        if !more {
            self.done = true;
        }
        Ok(!out.is_empty() || more)
    }

    fn copy_into(&mut self, out: &mut Vec<u8>) -> Result<bool, InflateError> {
        out.resize(CHUNK, 0);
        let n = self.reader.read(out)?;
        out.truncate(n);
        if n == 0 && self.entry.truncated {
            return self.ended_early();
        }
        Ok(n > 0)
    }

    fn inflate_into(&mut self, out: &mut Vec<u8>) -> Result<bool, InflateError> {
        if self.cut {
            return self.ended_early();
        }
        let d = self.decomp.as_mut().expect("deflate entry");
        while out.len() < out.capacity() {
            if self.at == self.have {
                self.have = self.reader.read(&mut self.input)?;
                self.at = 0;
                if self.have == 0 {
                    if out.is_empty() {
                        return self.ended_early();
                    }
                    self.cut = true;
                    return Ok(true);
                }
            }
            let (before, out_before) = (d.total_in(), out.len());
            let status = d
                .decompress_vec(&self.input[self.at..self.have], out, FlushDecompress::None)
                .map_err(|e| {
                    InflateError::Corrupt(format!(
                        "bad deflate data after {} bytes: {e}",
                        d.total_out()
                    ))
                })?;
            self.at += (d.total_in() - before) as usize;
            if status == Status::StreamEnd {
                return Ok(false);
            }
            if d.total_in() == before && out.len() == out_before {
                return Err(InflateError::Corrupt(format!(
                    "deflate data stalls after {} bytes",
                    d.total_out()
                )));
            }
        }
        Ok(true)
    }

    fn ended_early(&self) -> Result<bool, InflateError> {
        let what = if self.entry.truncated {
            "the archive ends inside this entry"
        } else {
            "the entry's data ends early"
        };
        Err(InflateError::Corrupt(format!(
            "{what} (after {} inflated bytes)",
            self.produced
        )))
    }

    fn account(&mut self, n: u64) -> Result<(), InflateError> {
        self.produced += n;
        let total = self.budget.inflated.fetch_add(n, Ordering::Relaxed) + n;
        if total > self.budget.max_total {
            return Err(InflateError::Bomb(format!(
                "it inflates to more than {} bytes (max_inflated_bytes)",
                self.budget.max_total
            )));
        }
        let ratio_cap = self
            .entry
            .compressed
            .max(1)
            .saturating_mul(self.budget.max_ratio);
        if self.produced > RATIO_GRACE && self.produced > ratio_cap {
            return Err(InflateError::Bomb(format!(
                "entry {} inflates more than {} times its {} compressed bytes (max_ratio)",
                self.entry.name, self.budget.max_ratio, self.entry.compressed
            )));
        }
        Ok(())
    }
}
