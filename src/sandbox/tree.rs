//! Packs a source tree into a tar stream for the container; the tree is never bind-mounted.
//!
//! Left out: `.git`, `target/`, `node_modules/`, `.selfheal/` and the `validate.exclude`
//! globs ([`crate::glob`]: a pattern without `/` matches at any depth, a trailing `/` matches
//! directories only, `**` crosses directories). Symlinks are stored as links, never followed,
//! so a link to a host file cannot carry that file into the sandbox. Entries are owned by
//! uid/gid 1000, the `selfheal` user of the sandbox images.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use axum::body::Bytes;
use futures_util::Stream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::error::SandboxError;
use crate::glob::{GlobError, GlobSet};

/// Never copied into a sandbox.
pub const ALWAYS_EXCLUDED: &[&str] = &[".git/", "target/", "node_modules/", ".selfheal/"];
/// Owner of every entry in the tar.
pub const SANDBOX_UID: u64 = 1000;
const CHUNK: usize = 256 * 1024;

/// Which paths stay out of the sandbox.
#[derive(Clone, Debug)]
pub struct TreeFilter {
    globs: GlobSet,
}

impl TreeFilter {
    /// The built-in exclusions plus `extra` globs from `validate.exclude` (the same
    /// [`crate::glob`] rules the local work copy obeys).
    pub fn new(extra: &[String]) -> Result<TreeFilter, SandboxError> {
        let all: Vec<&str> = ALWAYS_EXCLUDED
            .iter()
            .copied()
            .chain(extra.iter().map(String::as_str))
            .collect();
        let globs = GlobSet::new(&all).map_err(|e| SandboxError::BadPattern {
            pattern: match &e {
                GlobError::Invalid { pattern, .. } => pattern.clone(),
                GlobError::Empty => String::new(),
            },
            reason: e.to_string(),
        })?;
        Ok(TreeFilter { globs })
    }

    /// True when `rel` (a `/`-separated path inside the tree) is left out.
    pub fn excludes(&self, rel: &str, is_dir: bool) -> bool {
        self.globs.matches_entry(rel, is_dir)
    }
}

/// What was packed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TreeStats {
    pub files: u64,
    pub bytes: u64,
}

/// Streams `root` as a tar whose entries sit under `prefix/` (`workspace/src/…`).
///
/// The walk runs on a blocking thread; the handle reports its stats or the first error
/// (which also ends the stream with an error, so an upload fails rather than half-copies).
pub fn tar_stream(
    root: PathBuf,
    prefix: String,
    filter: TreeFilter,
) -> (
    impl Stream<Item = io::Result<Bytes>> + Send + 'static,
    JoinHandle<Result<TreeStats, SandboxError>>,
) {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(8);
    let handle = tokio::task::spawn_blocking(move || {
        let writer = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let result = write_tar(writer, &root, &prefix, &filter);
        if let Err(e) = &result {
            let _ = tx.blocking_send(Err(io::Error::other(e.to_string())));
        }
        result
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (stream, handle)
}

/// The whole tar in memory (for small build contexts).
pub fn tar_to_vec(root: &Path, prefix: &str, filter: &TreeFilter) -> Result<Vec<u8>, SandboxError> {
    let mut out = Vec::new();
    write_tar(&mut out, root, prefix, filter)?;
    Ok(out)
}

fn write_tar<W: Write>(
    writer: W,
    root: &Path,
    prefix: &str,
    filter: &TreeFilter,
) -> Result<TreeStats, SandboxError> {
    let mut builder = tar::Builder::new(writer);
    builder.follow_symlinks(false);
    let mut stats = TreeStats::default();
    let prefix = prefix.trim_matches('/');
    if !prefix.is_empty() {
        let meta = fs::metadata(root).map_err(tree_err(root))?;
        append_entry(&mut builder, root, &meta, prefix, &mut stats)?;
    }
    walk(&mut builder, root, root, prefix, filter, &mut stats)?;
    builder
        .into_inner()
        .and_then(|mut w| w.flush())
        .map_err(tree_err(root))?;
    Ok(stats)
}

fn walk<W: Write>(
    builder: &mut tar::Builder<W>,
    root: &Path,
    dir: &Path,
    prefix: &str,
    filter: &TreeFilter,
    stats: &mut TreeStats,
) -> Result<(), SandboxError> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(tree_err(dir))?
        .collect::<Result<_, _>>()
        .map_err(tree_err(dir))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).map_err(tree_err(&path))?;
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        if filter.excludes(&rel, meta.is_dir()) {
            continue;
        }
        let name = if prefix.is_empty() {
            rel.clone()
        } else {
            format!("{prefix}/{rel}")
        };
        append_entry(builder, &path, &meta, &name, stats)?;
        if meta.is_dir() {
            walk(builder, root, &path, prefix, filter, stats)?;
        }
    }
    Ok(())
}

fn append_entry<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &Path,
    meta: &fs::Metadata,
    name: &str,
    stats: &mut TreeStats,
) -> Result<(), SandboxError> {
    let mut header = tar::Header::new_gnu();
    header.set_metadata_in_mode(meta, tar::HeaderMode::Complete);
    header.set_uid(SANDBOX_UID);
    header.set_gid(SANDBOX_UID);
    let ft = meta.file_type();
    let result = if ft.is_dir() {
        builder.append_data(&mut header, format!("{name}/"), io::empty())
    } else if ft.is_symlink() {
        let target = fs::read_link(path).map_err(tree_err(path))?;
        header.set_size(0);
        builder.append_link(&mut header, name, target)
    } else if ft.is_file() {
        let file = File::open(path).map_err(tree_err(path))?;
        stats.files += 1;
        stats.bytes += meta.len();
        builder.append_data(&mut header, name, file)
    } else {
        return Ok(()); // sockets, fifos, devices: nothing a test needs copied
    };
    result.map_err(tree_err(path))
}

fn tree_err(path: &Path) -> impl FnOnce(io::Error) -> SandboxError + '_ {
    move |source| SandboxError::Tree {
        path: path.to_path_buf(),
        source,
    }
}

/// Sends what is written in chunks to an async receiver (the upload body).
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "upload stopped"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn filter(extra: &[&str]) -> TreeFilter {
        TreeFilter::new(&extra.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn built_in_exclusions() {
        let f = filter(&[]);
        assert!(f.excludes(".git", true));
        assert!(f.excludes("target", true));
        assert!(f.excludes("web/node_modules", true));
        assert!(f.excludes(".selfheal", true));
        assert!(!f.excludes("target", false), "a file named target is kept");
        assert!(!f.excludes("src/main.rs", false));
    }

    #[test]
    fn globs() {
        let f = filter(&["*.log", "/data/", "docs/**/*.png", "build-?"]);
        assert!(f.excludes("a.log", false) && f.excludes("deep/b.log", false));
        assert!(f.excludes("data", true) && !f.excludes("src/data", true));
        assert!(f.excludes("docs/x.png", false) && f.excludes("docs/a/b/x.png", false));
        assert!(!f.excludes("img/x.png", false));
        assert!(f.excludes("build-1", true) && !f.excludes("build-12", true));
        assert!(!f.excludes("a.log.txt", false));
    }

    fn sample_tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        fs::create_dir_all(p.join("src/deep")).unwrap();
        fs::create_dir_all(p.join(".git/objects")).unwrap();
        fs::create_dir_all(p.join("node_modules/x")).unwrap();
        fs::write(p.join("src/a.py"), "print(1)\n").unwrap();
        fs::write(
            p.join(format!("src/deep/{}.txt", "n".repeat(120))),
            "long name",
        )
        .unwrap();
        fs::write(p.join(".git/HEAD"), "ref").unwrap();
        fs::write(p.join("node_modules/x/i.js"), "").unwrap();
        fs::write(p.join("debug.log"), "noise").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", p.join("link")).unwrap();
        dir
    }

    fn entries(tar_bytes: &[u8]) -> Vec<(String, tar::EntryType, u64)> {
        let mut archive = tar::Archive::new(tar_bytes);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    e.header().entry_type(),
                    e.header().uid().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn packs_tree_with_prefix_links_and_owner() {
        let dir = sample_tree();
        let bytes = tar_to_vec(dir.path(), "workspace", &filter(&["*.log"])).unwrap();
        let got = entries(&bytes);
        let names: Vec<&str> = got.iter().map(|(n, _, _)| n.as_str()).collect();
        let long = format!("workspace/src/deep/{}.txt", "n".repeat(120));
        assert_eq!(
            names,
            vec![
                "workspace/",
                "workspace/link",
                "workspace/src/",
                "workspace/src/a.py",
                "workspace/src/deep/",
                &long
            ]
        );
        assert!(got.iter().all(|(_, _, uid)| *uid == 1000));
        assert_eq!(
            got[1].1,
            tar::EntryType::Symlink,
            "symlinks are not followed"
        );
    }

    #[tokio::test]
    async fn stream_matches_in_memory_tar() {
        let dir = sample_tree();
        let big = vec![7u8; 3 * CHUNK + 11];
        fs::write(dir.path().join("src/big.bin"), &big).unwrap();
        let (stream, handle) =
            tar_stream(dir.path().to_path_buf(), "workspace".into(), filter(&[]));
        let chunks: Vec<Bytes> = stream.map(|c| c.unwrap()).collect().await;
        let stats = handle.await.unwrap().unwrap();
        assert_eq!(stats.files, 4);
        assert!(chunks.len() > 3);
        let streamed: Vec<u8> = chunks.concat();
        assert_eq!(
            streamed,
            tar_to_vec(dir.path(), "workspace", &filter(&[])).unwrap()
        );
    }

    #[tokio::test]
    async fn missing_root_ends_stream_with_error() {
        let (stream, handle) = tar_stream(
            PathBuf::from("/nonexistent/selfheal"),
            "w".into(),
            filter(&[]),
        );
        let items: Vec<io::Result<Bytes>> = stream.collect().await;
        assert!(items.last().unwrap().is_err());
        assert!(matches!(
            handle.await.unwrap(),
            Err(SandboxError::Tree { .. })
        ));
    }
}
