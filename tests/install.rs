//! The action's install step (`scripts/install-selfheal.sh`) against a local HTTP server
//! serving a GitHub release layout (`<tag>/SHA256SUMS`, `<tag>/COMMIT`,
//! `<tag>/selfheal-<target>`): the right checksum installs the binary and it runs, a wrong
//! one is refused, a missing asset or a branch ref falls back to `cargo install --locked`
//! (a recording stand-in for cargo: the compile itself is what the fallback avoids here).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

const TARGET: &str = "x86_64-unknown-linux-musl";
const TAG: &str = "v0.1.0";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// Serves `root` on 127.0.0.1 until the test process ends; returns the base URL.
fn serve(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || answer(stream, &root));
        }
    });
    url
}

fn answer(mut stream: std::net::TcpStream, root: &Path) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    let mut header = String::new();
    while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
        header.clear();
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let file = root.join(path.trim_start_matches('/'));
    let (status, body) = match std::fs::read(&file) {
        Ok(body) if !path.contains("..") && file.is_file() => ("200 OK", body),
        _ => ("404 Not Found", b"not found".to_vec()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// `sha256sum` of a file (the digest in Rust is slow in an unoptimised test build).
fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success(), "sha256sum {}", path.display());
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// A release of the real selfheal binary; `sums` decides what SHA256SUMS claims.
fn release(sums: impl Fn(&str) -> String) -> TempDir {
    let dir = TempDir::new().unwrap();
    let tag = dir.path().join(TAG);
    std::fs::create_dir_all(&tag).unwrap();
    let asset = format!("selfheal-{TARGET}");
    std::fs::copy(env!("CARGO_BIN_EXE_selfheal"), tag.join(&asset)).unwrap();
    let line = format!("{}  {asset}\n", sums(&sha256_hex(&tag.join(&asset))));
    std::fs::write(tag.join("SHA256SUMS"), line).unwrap();
    std::fs::write(tag.join("COMMIT"), format!("{SHA}\n")).unwrap();
    dir
}

/// A stand-in for cargo that records its arguments and installs a script as the binary.
fn fake_cargo(dir: &Path) -> PathBuf {
    let path = dir.join("cargo");
    let script = r#"#!/bin/sh
echo "$@" > "$(dirname "$0")/cargo-args"
while [ $# -gt 0 ]; do [ "$1" = --root ] && root="$2"; shift; done
mkdir -p "$root/bin" && printf '#!/bin/sh\necho selfheal compiled\n' > "$root/bin/selfheal" && chmod +x "$root/bin/selfheal"
"#;
    std::fs::write(&path, script).unwrap();
    Command::new("chmod").arg("+x").arg(&path).status().unwrap();
    path
}

fn install(url: &str, git_ref: &str, work: &Path) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-selfheal.sh");
    Command::new("bash")
        .arg(script)
        .args(["--dest"])
        .arg(work.join("dest"))
        .args(["--source", env!("CARGO_MANIFEST_DIR"), "--ref", git_ref])
        .args(["--release-url", url])
        .env("SELFHEAL_TARGET", TARGET)
        .env("CARGO", fake_cargo(work))
        .env_remove("GITHUB_OUTPUT")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn right_checksum_installs_the_release_binary() {
    let rel = release(|sum| sum.to_string());
    let url = serve(rel.path().to_path_buf());
    for git_ref in [TAG, SHA] {
        let work = TempDir::new().unwrap();
        let out = install(&url, git_ref, work.path());
        assert!(out.status.success(), "{git_ref}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with("method=download\n"),
            "{}",
            text(&out)
        );
        let bin = work.path().join("dest/bin/selfheal");
        let version = Command::new(&bin).arg("--version").output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&version.stdout).trim(),
            format!("selfheal {}", env!("CARGO_PKG_VERSION"))
        );
        assert!(!work.path().join("cargo-args").exists(), "cargo ran");
    }
}

#[test]
fn wrong_checksum_is_refused_and_nothing_is_installed() {
    let rel = release(|sum| sum.chars().rev().collect());
    let url = serve(rel.path().to_path_buf());
    let work = TempDir::new().unwrap();
    let out = install(&url, TAG, work.path());
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("checksum mismatch"), "{}", text(&out));
    assert!(!work.path().join("dest/bin/selfheal").exists());
    assert!(
        !work.path().join("cargo-args").exists(),
        "a mismatch must not fall back"
    );
}

#[test]
fn missing_asset_or_branch_ref_falls_back_to_cargo_install() {
    let rel = release(|sum| sum.to_string());
    std::fs::remove_file(rel.path().join(TAG).join(format!("selfheal-{TARGET}"))).unwrap();
    let url = serve(rel.path().to_path_buf());
    let other_sha = "fedcba9876543210fedcba9876543210fedcba98";
    // The asset is gone; a branch names no release; a SHA the release was not built from.
    for git_ref in [TAG, "main", other_sha] {
        let work = TempDir::new().unwrap();
        let out = install(&url, git_ref, work.path());
        assert!(out.status.success(), "{git_ref}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with("method=compile\n"),
            "{git_ref}: {}",
            text(&out)
        );
        let args = std::fs::read_to_string(work.path().join("cargo-args")).unwrap();
        assert!(
            args.starts_with(&format!(
                "install --locked --path {} --root ",
                env!("CARGO_MANIFEST_DIR")
            )),
            "{args}"
        );
        let ran = Command::new(work.path().join("dest/bin/selfheal"))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&ran.stdout), "selfheal compiled\n");
    }
}

#[test]
fn cache_key_names_the_target_and_ref_and_follows_the_sources() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-selfheal.sh");
    let key = |source: &Path| {
        let out = Command::new("bash")
            .arg(&script)
            .arg("--cache-key")
            .arg("--source")
            .arg(source)
            .args(["--ref", "main"])
            .env("SELFHEAL_TARGET", TARGET)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let src = TempDir::new().unwrap();
    std::fs::create_dir_all(src.path().join("src")).unwrap();
    std::fs::write(
        src.path().join("Cargo.toml"),
        "[package]\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::write(src.path().join("src/main.rs"), "fn main() {}\n").unwrap();
    let before = key(src.path());
    assert!(
        before.starts_with(&format!("selfheal-{TARGET}-main-")),
        "{before}"
    );
    assert_eq!(before, key(src.path()), "stable");
    std::fs::write(src.path().join("src/main.rs"), "fn main() { }\n").unwrap();
    assert_ne!(before, key(src.path()), "a source change is a new key");
}
