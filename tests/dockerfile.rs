//! The top-level Dockerfile: its defaults are the official images a user's machine pulls
//! (`rust:…` builder, `debian:…-slim` runtime), and it builds and runs here with both
//! overridden by local images, since this machine cannot pull: the runtime is the
//! debootstrapped `selfheal-base:latest`, the builder is that base plus this machine's
//! Rust toolchain. The image must answer `selfheal --version`.
//!
//! Needs the Docker engine and `selfheal-base:latest`; without them the test prints
//! `SKIP …`, and with `CI=true` that is a failure. The first build compiles the
//! dependencies (dev profile: 30+ minutes on a loaded 2-core machine); later builds reuse
//! that layer and recompile only selfheal when its sources changed (about 6 minutes).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BASE: &str = "selfheal-base:latest";
const IMAGE: &str = "selfheal-dockerfile-test:latest";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().unwrap()
}

/// The engine and the local Debian base, or why the test cannot run.
fn docker_or_skip(test: &str) -> bool {
    let reason = if !Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        "no Docker engine".to_string()
    } else if !docker(&["image", "inspect", BASE]).status.success() {
        format!("{BASE} is missing (.ci/run builds it)")
    } else {
        return true;
    };
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{test}: CI=true needs the Docker engine and {BASE}, but: {reason}");
    }
    eprintln!("SKIP {test}: {reason}");
    false
}

/// `ARG NAME=default` of the Dockerfile.
fn arg_default(dockerfile: &str, name: &str) -> String {
    dockerfile
        .lines()
        .find_map(|l| l.strip_prefix(&format!("ARG {name}=")))
        .unwrap_or_else(|| panic!("no ARG {name}= in the Dockerfile"))
        .trim()
        .to_string()
}

#[test]
fn the_dockerfile_defaults_to_official_images() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let rust = arg_default(&dockerfile, "RUST_IMAGE");
    let runtime = arg_default(&dockerfile, "RUNTIME_IMAGE");
    assert!(rust.starts_with("rust:"), "{rust}");
    assert!(
        runtime.starts_with("debian:") && runtime.ends_with("-slim"),
        "{runtime}"
    );
    assert!(dockerfile.contains("FROM ${RUST_IMAGE} AS build"));
    assert!(dockerfile.contains("FROM ${RUNTIME_IMAGE}\n"));
    assert!(dockerfile.contains("COPY --from=build "));
}

/// This machine's Rust toolchain (the sysroot of `rustc`) on top of the local base.
fn local_rust_image() -> String {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let sysroot = PathBuf::from(String::from_utf8(sysroot.stdout).unwrap().trim());
    let vv = Command::new("rustc").arg("-vV").output().unwrap();
    let vv = String::from_utf8(vv.stdout).unwrap();
    let field = |name: &str| {
        vv.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let (release, host) = (field("release:"), field("host:"));
    let tag = format!("selfheal-test-rust:{release}-2");
    if docker(&["image", "inspect", &tag]).status.success() {
        return tag;
    }
    let ctx = tempfile::tempdir().unwrap();
    // This machine reaches crates.io through a proxy with its own CA: the builder trusts
    // what the host trusts (a user's machine needs none of this).
    let ca = ctx.path().join("ca");
    std::fs::create_dir_all(&ca).unwrap();
    for entry in std::fs::read_dir("/usr/local/share/ca-certificates")
        .into_iter()
        .flatten()
        .flatten()
    {
        std::fs::copy(entry.path(), ca.join(entry.file_name())).unwrap();
    }
    std::fs::copy(
        "/etc/ssl/certs/ca-certificates.crt",
        ctx.path().join("ca-bundle.crt"),
    )
    .unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!(
            "FROM {BASE}\nUSER root\nCOPY toolchain /usr/local/rust\n\
             COPY ca/ /usr/local/share/ca-certificates/\n\
             COPY ca-bundle.crt /etc/ssl/certs/ca-certificates.crt\n\
             ENV PATH=/usr/local/rust/bin:/usr/local/cargo/bin:$PATH CARGO_HOME=/usr/local/cargo \\\n\
             CARGO_HTTP_CAINFO=/etc/ssl/certs/ca-certificates.crt\n\
             RUN rustc --version && cargo --version\n"
        ),
    )
    .unwrap();
    // Only what compiling needs: rustc, cargo and the target's libraries (no docs, no sources).
    let tar = format!(
        "cd {sysroot} && tar -c -C {ctx} . -C {sysroot} --transform 's,^\\(bin\\|lib\\),toolchain/\\1,' \\
         bin/rustc bin/cargo lib/librustc_driver-*.so lib/libLLVM* lib/rustlib/{host}/lib \\
         lib/rustlib/{host}/bin | docker build -q -t {tag} -",
        ctx = ctx.path().display(),
        sysroot = sysroot.display()
    );
    let out = Command::new("bash")
        .args(["-o", "pipefail", "-c", &tar])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "local Rust image: {}", text(&out));
    tag
}

#[test]
fn the_dockerfile_builds_with_local_bases_and_runs_selfheal() {
    if !docker_or_skip("the_dockerfile_builds_with_local_bases_and_runs_selfheal") {
        return;
    }
    let rust = local_rust_image();
    let out = Command::new("docker")
        .args(["build", "-t", IMAGE])
        .args(["--build-arg", &format!("RUST_IMAGE={rust}")])
        .args(["--build-arg", &format!("RUNTIME_IMAGE={BASE}")])
        .args(["--build-arg", "PROFILE=dev"])
        .arg(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "docker build: {}", text(&out));
    let ran = docker(&["run", "--rm", "--network", "none", IMAGE, "--version"]);
    assert!(ran.status.success(), "{}", text(&ran));
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout).trim(),
        format!("selfheal {}", env!("CARGO_PKG_VERSION"))
    );
    // Not root, working in /workspace, and the builder's toolchain is not in the image.
    let shape = docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "sh",
        IMAGE,
        "-c",
        "id -u; pwd; command -v cargo || echo no-cargo",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&shape.stdout),
        "1000\n/workspace\nno-cargo\n",
        "{}",
        text(&shape)
    );
    let size = docker(&["image", "inspect", "-f", "{{.Size}}", IMAGE]);
    eprintln!(
        "{IMAGE}: {} MB",
        String::from_utf8_lossy(&size.stdout)
            .trim()
            .parse::<u64>()
            .unwrap_or(0)
            / 1_000_000
    );
    assert!(Path::new(&root().join(".dockerignore")).is_file());
}
