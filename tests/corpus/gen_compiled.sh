#!/usr/bin/env bash
# Regenerates the compiled-language corpus cases under tests/corpus/cases/: Rust, Go, Java
# and C/C++ (case names rust-, go-, java-, c-, cpp-), by REALLY running the tools on small
# broken projects written to a temp dir. tests/corpus/gen_scripting.py owns the
# scripting-side cases; tests/corpus/generate.sh runs both.
#
# Needs: cargo + rustc with clippy and rustfmt (rustup), go (Debian `golang-go`), gcc/g++,
# clang (Debian `clang`), cmake, javac (JDK 17), go-staticcheck (Debian), python3; the Maven
# cases need Debian's Maven plugins and JUnit (`libmaven-compiler-plugin-java libsurefire-java
# libmaven-resources-plugin-java libmaven-jar-plugin-java junit4 junit5`): each Maven project's
# `.mvn/maven.config` adds `-o -s .mvn/settings.xml`, whose local repository is
# /usr/share/maven-repo, so `mvn` runs offline. One dependency case asks crates.io's index.
#
# Each case is written in the one corpus case format (see tests/corpus/gen_scripting.py's
# docstring): tests/corpus/cases/<case>/output.txt (raw stdout+stderr, colour kept, the temp dir
# rewritten to /home/runner/work/app/app), meta.toml (job, command, exit code), failure.zip
# (tests/support/runlog.py, the real run-log layout) and expected.toml (the FIRST failure
# triage should report, repo-relative).
#
# Usage: tests/corpus/gen_compiled.sh [case-name-substring]
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CASES=$ROOT/tests/corpus/cases
RUNLOG=$ROOT/tests/support/runlog.py
WORK=$(mktemp -d /tmp/gen_compiled.XXXXXX)
FAKE=/home/runner/work/app/app
ONLY=${1:-}
trap 'rm -rf "$WORK"' EXIT
export GOPROXY=off GOTOOLCHAIN=local GOCACHE=$WORK/.gocache GOPATH=$WORK/.gopath
export GO111MODULE=on
unset CARGO_TARGET_DIR RUSTFLAGS

# skip CASE: true when a filter was given and CASE does not match it.
skip() { [ -n "$ONLY" ] && [[ "$1" != *"$ONLY"* ]]; }

# project CASE: a fresh empty project dir for CASE; prints its path.
project() {
    local dir=$WORK/$1
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "$dir"
}

# file DIR PATH: writes stdin to DIR/PATH (creating folders).
file() {
    mkdir -p "$(dirname "$1/$2")"
    cat >"$1/$2"
}

# capture CASE DIR JOB CMD [runlog flags...]: runs CMD in DIR as CI would, keeps
# stdout+stderr and the exit code, rewrites temp paths, writes output.txt, meta.toml and
# failure.zip.
capture() {
    local case=$1 dir=$2 job=$3 cmd=$4
    shift 4
    local out=$CASES/$case
    mkdir -p "$out"
    local code
    (cd "$dir" && bash -c "$cmd") >"$WORK/$case.raw" 2>&1
    code=$?
    sed -e "s#$dir#$FAKE#g" -e "s#$WORK#/home/runner/work/_temp#g" -e "s#$HOME#/home/runner#g" \
        "$WORK/$case.raw" >"$out/output.txt"
    python3 - "$job" "$cmd" "$code" >"$out/meta.toml" <<'PY'
import json, sys
job, cmd, code = sys.argv[1:]
print("job = %s\ncmd = %s\nexit = %d" % (json.dumps(job), json.dumps(cmd), int(code)))
PY
    python3 "$RUNLOG" --job "$job" --cmd "$cmd" --exit "$code" --out "$out/failure.zip" "$@" \
        <"$out/output.txt"
    echo "$case: exit $code, $(wc -l <"$out/output.txt") lines"
}

# expect CASE key=value...: writes expected.toml (numbers stay bare, the rest quoted).
expect() {
    local case=$1
    shift
    {
        for kv in "$@"; do
            local k=${kv%%=*} v=${kv#*=}
            if [[ "$v" =~ ^[0-9]+$ ]]; then echo "$k = $v"; else echo "$k = \"${v//\"/\\\"}\""; fi
        done
    } >"$CASES/$case/expected.toml"
}

# ---------------------------------------------------------------- Rust
cargo_project() {
    local dir
    dir=$(project "$1")
    file "$dir" Cargo.toml <<'EOF'
[package]
name = "app"
version = "0.1.0"
edition = "2021"

[dependencies]
EOF
    echo "$dir"
}

rust_cases() {
    local d c
    c=rust-type-mismatch
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/main.rs <<'EOF'
mod config;

fn main() {
    let port = config::port();
    println!("listening on {port}");
}
EOF
        file "$d" src/config.rs <<'EOF'
//! Reads the port.

pub fn port() -> u16 {
    let raw = std::env::var("PORT").unwrap_or_default();
    let parsed: u16 = raw;
    parsed
}
EOF
        capture $c "$d" build "cargo build"
        expect $c tool=rustc kind=type_error file=src/config.rs line=5 message_contains="mismatched types"
    fi

    c=rust-type-mismatch-color
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF'
pub fn total(prices: &[u32]) -> u64 {
    let mut sum = 0u32;
    for p in prices {
        sum += p;
    }
    sum
}
EOF
        capture $c "$d" "build (ubuntu-latest, stable)" "cargo build --color=always"
        expect $c tool=rustc kind=type_error file=src/lib.rs line=6 message_contains="E0308"
    fi

    c=rust-unresolved-name
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF'
pub mod parse;

pub fn run(input: &str) -> usize {
    parse::count_words(input)
}
EOF
        file "$d" src/parse.rs <<'EOF'
pub fn count_words(input: &str) -> usize {
    let words = split_words(input);
    words.len()
}

pub fn split(input: &str) -> Vec<&str> {
    input.split_whitespace().collect()
}
EOF
        capture $c "$d" check "cargo check --all-targets"
        expect $c tool=rustc kind=compile_error file=src/parse.rs line=2 message_contains="E0425" symbol=split_words
    fi

    c=rust-unresolved-import
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF'
use std::collections::HashMapp;

pub fn index(words: &[&str]) -> HashMapp<String, usize> {
    let mut m = HashMapp::new();
    for w in words {
        *m.entry(w.to_string()).or_insert(0) += 1;
    }
    m
}
EOF
        capture $c "$d" build "cargo build --color=always --verbose"
        expect $c tool=rustc kind=import_error file=src/lib.rs line=1 message_contains="E0432"
    fi

    c=rust-borrow-error
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF'
pub struct Queue {
    items: Vec<String>,
}

impl Queue {
    pub fn drain_long(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for item in &self.items {
            if item.len() > 3 {
                self.items.retain(|i| i != item);
                out.push(item.clone());
            }
        }
        out
    }
}
EOF
        capture $c "$d" build "cargo build"
        expect $c tool=rustc kind=compile_error file=src/lib.rs line=10 message_contains="E0502"
    fi

    c=rust-test-assert-eq
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF'
//! Pricing.

pub fn discount(price: u32, percent: u32) -> u32 {
    price - price * percent / 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_discount() {
        assert_eq!(discount(200, 0), 200);
    }

    #[test]
    fn ten_percent() {
        assert_eq!(discount(200, 10), 180);
    }
}
EOF
        capture $c "$d" test "cargo test"
        expect $c tool=cargo-test kind=test_failure file=src/lib.rs line=18 test=tests::ten_percent message_contains="assertion"
    fi

    c=rust-test-panic-in-code
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF'
pub mod stack;
EOF
        file "$d" src/stack.rs <<'EOF'
pub struct Stack {
    items: Vec<i32>,
}

impl Stack {
    pub fn new() -> Self {
        Stack { items: Vec::new() }
    }

    pub fn push(&mut self, v: i32) {
        self.items.push(v);
    }

    pub fn peek(&self) -> i32 {
        self.items[self.items.len()]
    }
}
EOF
        file "$d" tests/stack.rs <<'EOF'
use app::stack::Stack;

#[test]
fn push_then_peek() {
    let mut s = Stack::new();
    s.push(3);
    assert_eq!(s.peek(), 3);
}

#[test]
fn empty_is_fine() {
    let _ = Stack::new();
}
EOF
        capture $c "$d" "test (ubuntu-latest)" "cargo test --color=always" --no-step-folders
        expect $c tool=cargo-test kind=test_failure file=src/stack.rs line=15 test=push_then_peek message_contains="index out of bounds"
    fi

    c=rust-test-unwrap-err
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF'
use std::num::ParseIntError;

/// Parses `a.b.c` into its three numbers.
pub fn parse_version(v: &str) -> Result<(u32, u32, u32), ParseIntError> {
    let mut parts = v.split('.');
    let major = parts.next().unwrap_or("0").parse()?;
    let minor = parts.next().unwrap_or("0").parse()?;
    let patch = parts.next().unwrap_or("0").parse()?;
    Ok((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_prerelease() {
        let v = parse_version("1.2.3-beta").unwrap();
        assert_eq!(v, (1, 2, 3));
    }

    #[test]
    fn plain() {
        assert!(parse_version("1.2.3").is_ok(), "plain versions parse");
    }
}
EOF
        RUST_BACKTRACE=0 capture $c "$d" test "cargo test --all-features -- --test-threads=1"
        expect $c tool=cargo-test kind=test_failure file=src/lib.rs line=18 test=tests::with_prerelease message_contains="unwrap"
    fi

    c=rust-doctest-failure
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF'
/// Doubles a number.
///
/// ```
/// assert_eq!(app::double(2), 5);
/// ```
pub fn double(x: i32) -> i32 {
    x * 2
}
EOF
        capture $c "$d" test "cargo test --doc"
        expect $c tool=cargo-test kind=test_failure file=src/lib.rs line=3 test="src/lib.rs - double (line 3)" message_contains="left == right"
    fi

    c=rust-clippy-deny
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF'
pub fn is_empty_name(name: &String) -> bool {
    name.len() == 0
}

pub fn first(v: &Vec<u8>) -> Option<u8> {
    v.get(0).copied()
}
EOF
        capture $c "$d" clippy "cargo clippy --all-targets -- -D warnings"
        expect $c tool=clippy kind=lint file=src/lib.rs line=1 message_contains="&String" symbol=ptr_arg
    fi

    c=rust-clippy-color
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/main.rs <<'EOF'
fn main() {
    let names = vec!["a", "b"];
    for i in 0..names.len() {
        println!("{}", names[i]);
    }
    let unused = 3;
}
EOF
        capture $c "$d" lint "cargo clippy --color=always -- -D warnings"
        expect $c tool=clippy kind=lint file=src/main.rs line=6 symbol=unused_variables message_contains="unused variable"
    fi

    c=rust-fmt-check
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF'
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

pub fn mul(a:i32,b:i32)->i32{ a*b }
EOF
        file "$d" src/util.rs <<'EOF'
pub fn  twice(x: i32) -> i32 {
    x * 2
}
EOF
        echo "pub mod util;" >>"$d/src/lib.rs"
        capture $c "$d" fmt "cargo fmt --all -- --check"
        expect $c tool=rustfmt kind=format file=src/lib.rs line=5 message_contains="Diff in"
    fi

    c=rust-dependency-version
    if ! skip $c; then
        d=$(cargo_project $c)
        echo 'serde = "=99.0.0"' >>"$d/Cargo.toml"
        echo 'pub fn f() {}' | file "$d" src/lib.rs
        capture $c "$d" build "cargo build"
        expect $c tool=cargo kind=dependency file=Cargo.toml message_contains="serde"
    fi

    c=rust-deny-warnings-rustflags
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF'
pub fn area(w: u32, h: u32) -> u32 {
    let scale = 2;
    w * h
}
EOF
        capture $c "$d" build "RUSTFLAGS='-D warnings' cargo build"
        expect $c tool=rustc kind=lint file=src/lib.rs line=2 message_contains="unused variable" symbol=unused_variables
    fi
    c=rust-nextest-failure
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF2'
/// Splits `key=value`.
pub fn split_pair(s: &str) -> Option<(&str, &str)> {
    let i = s.find('=')?;
    Some((&s[..i], &s[i..]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits() {
        assert_eq!(super::split_pair("a=b"), Some(("a", "b")));
    }

    #[test]
    fn missing_sign() {
        assert_eq!(super::split_pair("ab"), None);
    }
}
EOF2
        capture $c "$d" "test (nextest)" "cargo nextest run --no-fail-fast"
        expect $c tool=cargo-test kind=test_failure file=src/lib.rs line=11 test=tests::splits message_contains="left == right"
    fi

    c=rust-syntax-error
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF2'
pub fn greet(name: &str) -> String {
    let greeting = format!("hello {name}")
    greeting
}
EOF2
        capture $c "$d" build "cargo build --release"
        expect $c tool=rustc kind=syntax_error file=src/lib.rs line=2 message_contains="expected"
    fi

    c=rust-trait-bound-workspace
    if ! skip $c; then
        d=$(project $c)
        file "$d" Cargo.toml <<'EOF2'
[workspace]
members = ["crates/core", "crates/cli"]
resolver = "2"
EOF2
        file "$d" crates/core/Cargo.toml <<'EOF2'
[package]
name = "core-lib"
version = "0.1.0"
edition = "2021"
EOF2
        file "$d" crates/core/src/lib.rs <<'EOF2'
use std::collections::HashSet;

#[derive(Debug, PartialEq)]
pub struct Tag(pub String);

pub fn unique(tags: Vec<Tag>) -> HashSet<Tag> {
    tags.into_iter().collect()
}
EOF2
        file "$d" crates/cli/Cargo.toml <<'EOF2'
[package]
name = "cli"
version = "0.1.0"
edition = "2021"

[dependencies]
core-lib = { path = "../core" }
EOF2
        file "$d" crates/cli/src/main.rs <<'EOF2'
fn main() {
    let n = core_lib::unique(vec![]).len();
    println!("{n}");
}
EOF2
        capture $c "$d" "build" "cargo build --workspace --color=always"
        expect $c tool=rustc kind=type_error file=crates/core/src/lib.rs line=7 message_contains="E0277"
    fi

    c=rust-offline-missing-crate
    if ! skip $c; then
        d=$(cargo_project $c)
        echo 'selfheal_corpus_absent_crate = "1.2"' >>"$d/Cargo.toml"
        echo 'pub fn f() {}' | file "$d" src/lib.rs
        capture $c "$d" build "cargo build --offline --locked"
        expect $c tool=cargo kind=dependency file=Cargo.toml symbol=selfheal_corpus_absent_crate
    fi

    c=rust-test-compile-error
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF2'
pub struct Counter {
    n: u32,
}

impl Counter {
    pub fn new() -> Self {
        Counter { n: 0 }
    }

    pub fn incr(&mut self) {
        self.n += 1;
    }

    pub fn get(&self) -> u32 {
        self.n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        let mut c = Counter::new();
        c.increment();
        assert_eq!(c.get(), 1);
    }
}
EOF2
        capture $c "$d" test "cargo test --workspace --color=always"
        expect $c tool=rustc kind=compile_error file=src/lib.rs line=26 symbol=increment message_contains="E0599"
    fi

    c=rust-should-panic
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF2'
pub fn checked_div(a: i32, b: i32) -> i32 {
    if b == 0 {
        return 0;
    }
    a / b
}

#[cfg(test)]
mod tests {
    #[test]
    #[should_panic(expected = "division by zero")]
    fn zero_divisor_panics() {
        super::checked_div(1, 0);
    }
}
EOF2
        RUST_BACKTRACE=0 capture $c "$d" test "cargo test"
        expect $c tool=cargo-test kind=test_failure file=src/lib.rs line=12 test=tests::zero_divisor_panics message_contains="did not panic"
    fi


    c=rust-short-format
    if ! skip $c; then
        d=$(cargo_project $c)
        file "$d" src/lib.rs <<'EOF2'
pub fn parse_flag(s: &str) -> bool {
    match s {
        "yes" => true,
        "no" => false,
        _ => "maybe",
    }
}
EOF2
        capture $c "$d" check "cargo check --message-format=short"
        expect $c tool=rustc kind=type_error file=src/lib.rs line=5 message_contains="E0308"
    fi
}

rust_cases

# ---------------------------------------------------------------- Go
go_project() {
    local dir
    dir=$(project "$1")
    printf 'module github.com/acme/app\n\ngo 1.19\n' | file "$dir" go.mod
    echo "$dir"
}

go_cases() {
    local d c
    c=go-build-undefined
    if ! skip $c; then
        d=$(go_project $c)
        file "$d" calc/calc.go <<'EOF'
package calc

// Sum adds all numbers.
func Sum(xs []int) int {
	return addAll(xs, 0)
}
EOF
        file "$d" main.go <<'EOF'
package main

import (
	"fmt"

	"github.com/acme/app/calc"
)

func main() {
	fmt.Println(calc.Sum([]int{1, 2}))
}
EOF
        capture $c "$d" build "go build ./..."
        expect $c tool=go kind=compile_error file=calc/calc.go line=5 symbol=addAll message_contains="undefined"
    fi

    c=go-build-type-error
    if ! skip $c; then
        d=$(go_project $c)
        file "$d" main.go <<'EOF'
package main

import (
	"fmt"
	"os"
	"strconv"
)

func parsePort(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return "8080"
	}
	return n
}

func main() {
	fmt.Println(parsePort(os.Getenv("PORT")))
}
EOF
        capture $c "$d" build "go build -v ."
        expect $c tool=go kind=type_error file=main.go line=12 message_contains="cannot use"
    fi

    c=go-syntax-error
    if ! skip $c; then
        d=$(go_project $c)
        file "$d" server/server.go <<'EOF'
package server

func Handle(path string) string {
	if path == "/" {
		return "index"
	
	return "other"
}
EOF
        capture $c "$d" build "go build ./..."
        expect $c tool=go kind=syntax_error file=server/server.go line=9
    fi

    c=go-vet-printf
    if ! skip $c; then
        d=$(go_project $c)
        file "$d" report/report.go <<'EOF'
package report

import "fmt"

// Line formats one row.
func Line(name string, count int) string {
	return fmt.Sprintf("%s: %d items", count, name)
}
EOF
        capture $c "$d" vet "go vet ./..."
        expect $c tool=go-vet kind=lint file=report/report.go line=7 message_contains="Sprintf"
    fi

    c=go-test-failure
    if ! skip $c; then
        d=$(go_project $c)
        file "$d" calc/calc.go <<'EOF'
package calc

// Average returns the mean of xs.
func Average(xs []int) int {
	total := 0
	for _, x := range xs {
		total += x
	}
	return total / (len(xs) + 1)
}
EOF
        file "$d" calc/calc_test.go <<'EOF'
package calc

import "testing"

func TestAverage(t *testing.T) {
	got := Average([]int{2, 4, 6})
	if got != 4 {
		t.Errorf("Average([2 4 6]) = %d, want 4", got)
	}
}

func TestAverageOne(t *testing.T) {
	if got := Average([]int{5}); got == 0 {
		t.Fatalf("Average([5]) = 0")
	}
}
EOF
        capture $c "$d" test "go test ./..."
        expect $c tool=go-test kind=test_failure file=calc/calc_test.go line=8 test=TestAverage message_contains="want 4"
    fi

    c=go-test-verbose-subtests
    if ! skip $c; then
        d=$(go_project $c)
        file "$d" slug/slug.go <<'EOF'
package slug

import "strings"

// Make turns a title into a URL slug.
func Make(title string) string {
	return strings.ToLower(strings.ReplaceAll(title, " ", "_"))
}
EOF
        file "$d" slug/slug_test.go <<'EOF'
package slug

import "testing"

func TestMake(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"lower", "abc", "abc"},
		{"spaces", "Hello World", "hello-world"},
		{"trim", " x ", "x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Make(c.in); got != c.want {
				t.Errorf("Make(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}
EOF
        capture $c "$d" "test (1.19)" "go test -v -race -count=1 ./..." --no-step-folders
        expect $c tool=go-test kind=test_failure file=slug/slug_test.go line=14 test=TestMake/spaces message_contains="hello-world"
    fi

    c=go-test-panic
    if ! skip $c; then
        d=$(go_project $c)
        file "$d" store/store.go <<'EOF'
package store

// Store keeps counters.
type Store struct {
	counts map[string]int
}

// New returns an empty store.
func New() *Store { return &Store{} }

// Inc adds one to key.
func (s *Store) Inc(key string) int {
	s.counts[key]++
	return s.counts[key]
}
EOF
        file "$d" store/store_test.go <<'EOF'
package store

import "testing"

func TestInc(t *testing.T) {
	s := New()
	if got := s.Inc("a"); got != 1 {
		t.Fatalf("got %d", got)
	}
}
EOF
        capture $c "$d" test "go test ./..."
        expect $c tool=go-test kind=test_failure file=store/store.go line=13 test=TestInc message_contains="assignment to entry in nil map"
    fi

    c=go-test-json
    if ! skip $c; then
        d=$(go_project $c)
        file "$d" mathx/mathx.go <<'EOF'
package mathx

// Clamp limits v to [lo, hi].
func Clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return lo
	}
	return v
}
EOF
        file "$d" mathx/mathx_test.go <<'EOF'
package mathx

import "testing"

func TestClamp(t *testing.T) {
	if got := Clamp(5, 0, 3); got != 3 {
		t.Errorf("Clamp(5, 0, 3) = %d, want 3", got)
	}
}
EOF
        capture $c "$d" test "go test -json ./..."
        expect $c tool=go-test kind=test_failure file=mathx/mathx_test.go line=7 test=TestClamp message_contains="want 3"
    fi

    c=go-test-build-failed
    if ! skip $c; then
        d=$(go_project $c)
        file "$d" user/user.go <<'EOF'
package user

// User is an account.
type User struct{ Name string }

// Greeting says hello.
func (u User) Greeting() string { return "hello " + u.Name }
EOF
        file "$d" user/user_test.go <<'EOF'
package user

import "testing"

func TestGreeting(t *testing.T) {
	u := User{Name: "ann"}
	if u.Greet() != "hello ann" {
		t.Fail()
	}
}
EOF
        capture $c "$d" test "go test ./..."
        expect $c tool=go kind=compile_error file=user/user_test.go line=7 symbol=Greet message_contains="Greet"
    fi

    c=go-gofmt-list
    if ! skip $c; then
        d=$(go_project $c)
        file "$d" api/api.go <<'EOF'
package api

func  Version() string {
	return "1"
}
EOF
        file "$d" main.go <<'EOF'
package main

func main() {}
EOF
        capture $c "$d" fmt 'test -z "$(gofmt -l . | tee /dev/stderr)"'
        expect $c tool=gofmt kind=format file=api/api.go
    fi

    c=go-gofmt-diff
    if ! skip $c; then
        d=$(go_project $c)
        file "$d" api/api.go <<'EOF'
package api

// Version is the API version.
func Version() string {
	v := "1"
    return v
}
EOF
        capture $c "$d" fmt 'out=$(gofmt -d .); echo "$out"; test -z "$out"'
        expect $c tool=gofmt kind=format file=api/api.go line=6
    fi

    c=go-missing-module
    if ! skip $c; then
        d=$(go_project $c)
        file "$d" main.go <<'EOF'
package main

import (
	"fmt"

	"github.com/google/uuid"
)

func main() {
	fmt.Println(uuid.NewString())
}
EOF
        capture $c "$d" build "go build ./..."
        expect $c tool=go kind=dependency file=main.go line=6 symbol=github.com/google/uuid
    fi

    c=go-missing-gosum
    if ! skip $c; then
        d=$(go_project $c)
        printf '\nrequire github.com/google/uuid v1.6.0\n' >>"$d/go.mod"
        file "$d" main.go <<'EOF'
package main

import (
	"fmt"

	"github.com/google/uuid"
)

func main() {
	fmt.Println(uuid.NewString())
}
EOF
        capture $c "$d" test "go test ./..."
        expect $c tool=go kind=dependency file=main.go line=6 message_contains="go.sum"
    fi

    c=go-test-timeout
    if ! skip $c; then
        d=$(go_project $c)
        file "$d" queue/queue.go <<'EOF'
package queue

// Drain reads everything from ch.
func Drain(ch chan int) []int {
	var out []int
	for v := range ch {
		out = append(out, v)
	}
	return out
}
EOF
        file "$d" queue/queue_test.go <<'EOF'
package queue

import "testing"

func TestDrain(t *testing.T) {
	ch := make(chan int, 2)
	ch <- 1
	ch <- 2
	if got := Drain(ch); len(got) != 2 {
		t.Fatalf("got %v", got)
	}
}
EOF
        capture $c "$d" test "go test -timeout 3s ./..."
        expect $c tool=go-test kind=timeout file=queue/queue.go line=6 test=TestDrain message_contains="timed out"
    fi

    c=go-vet-during-test
    if ! skip $c; then
        d=$(go_project $c)
        file "$d" logx/logx.go <<'EOF'
package logx

import "fmt"

// Line renders a log line.
func Line(level string, code int) string {
	return fmt.Sprintf("[%s] code=%d", level)
}
EOF
        file "$d" logx/logx_test.go <<'EOF'
package logx

import "testing"

func TestLine(t *testing.T) {
	if Line("info", 3) == "" {
		t.Fatal("empty")
	}
}
EOF
        capture $c "$d" test "go test -race ./..."
        expect $c tool=go-vet kind=lint file=logx/logx.go line=7 message_contains="Sprintf"
    fi

    c=go-unused-import
    if ! skip $c; then
        d=$(go_project $c)
        file "$d" cmd/app/main.go <<'EOF'
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	fmt.Println(strings.ToUpper("hi"))
}
EOF
        capture $c "$d" build "go build -o bin/app ./cmd/app"
        expect $c tool=go kind=compile_error file=cmd/app/main.go line=5 symbol=os
    fi


    c=go-staticcheck
    if ! skip $c && command -v go-staticcheck >/dev/null; then
        d=$(go_project $c)
        file "$d" search/search.go <<'EOF'
package search

import "strings"

// HasWord reports whether text mentions word.
func HasWord(text, word string) bool {
	if strings.Index(strings.ToLower(text), word) != -1 {
		return true
	}
	return false
}
EOF
        capture $c "$d" lint "go-staticcheck ./..."
        expect $c tool=staticcheck kind=lint file=search/search.go line=7 symbol=S1008
    fi
}

go_cases

# ---------------------------------------------------------------- Java
# mvn_project CASE JUNIT: a Maven project that builds offline against Debian's Maven repo
# (.mvn/maven.config adds `-o -s .mvn/settings.xml`, so CI's plain `mvn` command is kept).
mvn_project() {
    local dir junit
    dir=$(project "$1")
    if [ "$2" = 5 ]; then
        junit='<dependency><groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter-api</artifactId><version>5.9.2</version><scope>test</scope></dependency>
    <dependency><groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter-engine</artifactId><version>5.9.2</version><scope>test</scope></dependency>'
    else
        junit='<dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version><scope>test</scope></dependency>'
    fi
    file "$dir" pom.xml <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.acme</groupId>
  <artifactId>calc</artifactId>
  <version>1.0</version>
  <properties>
    <maven.compiler.source>17</maven.compiler.source>
    <maven.compiler.target>17</maven.compiler.target>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    $junit
  </dependencies>
  <build>
    <plugins>
      <plugin><artifactId>maven-resources-plugin</artifactId><version>3.3.0</version></plugin>
      <plugin><artifactId>maven-compiler-plugin</artifactId><version>3.10.1</version></plugin>
      <plugin><artifactId>maven-surefire-plugin</artifactId><version>2.22.3</version></plugin>
      <plugin><artifactId>maven-jar-plugin</artifactId><version>3.3.0</version></plugin>
    </plugins>
  </build>
</project>
EOF
    file "$dir" .mvn/settings.xml <<'EOF'
<settings><localRepository>/usr/share/maven-repo</localRepository><offline>true</offline></settings>
EOF
    printf -- '-o -s .mvn/settings.xml\n' | file "$dir" .mvn/maven.config
    echo "$dir"
}

java_cases() {
    local d c
    c=java-javac-cannot-find-symbol
    if ! skip $c; then
        d=$(project $c)
        file "$d" src/com/acme/Calc.java <<'EOF'
package com.acme;

public class Calc {
    public int add(int a, int b) {
        return a + b;
    }

    public int twice(int a) {
        return sum(a, a);
    }
}
EOF
        capture $c "$d" build "javac -d out \$(find src -name '*.java')"
        expect $c tool=javac kind=compile_error file=src/com/acme/Calc.java line=9 symbol=sum message_contains="cannot find symbol"
    fi

    c=java-javac-incompatible-types
    if ! skip $c; then
        d=$(project $c)
        file "$d" src/main/java/com/acme/Config.java <<'EOF'
package com.acme;

import java.util.List;

public class Config {
    public String name() {
        return "app";
    }

    public int port() {
        String raw = System.getenv("PORT");
        return raw;
    }

    public List<String> hosts() {
        return List.of("a");
    }
}
EOF
        capture $c "$d" build "javac -Xlint:all -d build src/main/java/com/acme/*.java"
        expect $c tool=javac kind=type_error file=src/main/java/com/acme/Config.java line=12 message_contains="incompatible types"
    fi

    c=java-maven-compile-error
    if ! skip $c; then
        d=$(mvn_project $c 4)
        file "$d" src/main/java/com/acme/Calc.java <<'EOF'
package com.acme;

import java.util.List;

public class Calc {
    public int total(List<Integer> xs) {
        int sum = 0;
        for (int x : xs) {
            sum += x;
        }
        return sum;
    }

    public double mean(List<Integer> xs) {
        return total(xs) / (double) xs.size();
    }

    public int max(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).maxx().orElse(0);
    }
}
EOF
        capture $c "$d" build "mvn -B compile"
        expect $c tool=maven kind=compile_error file=src/main/java/com/acme/Calc.java line=19 symbol=maxx message_contains="cannot find symbol"
    fi

    c=java-maven-junit4-failure
    if ! skip $c; then
        d=$(mvn_project $c 4)
        file "$d" src/main/java/com/acme/Calc.java <<'EOF'
package com.acme;

public class Calc {
    public int add(int a, int b) {
        return a - b;
    }
}
EOF
        file "$d" src/test/java/com/acme/CalcTest.java <<'EOF'
package com.acme;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class CalcTest {
    @Test
    public void addsSmallNumbers() {
        assertEquals(4, new Calc().add(2, 2));
    }

    @Test
    public void addsZero() {
        assertEquals(3, new Calc().add(3, 0));
    }
}
EOF
        capture $c "$d" test "mvn -B test"
        expect $c tool=maven kind=test_failure file=src/test/java/com/acme/CalcTest.java line=10 test=com.acme.CalcTest.addsSmallNumbers message_contains="expected:<4> but was:<0>"
    fi

    c=java-maven-junit5-exception
    if ! skip $c; then
        d=$(mvn_project $c 5)
        file "$d" src/main/java/com/acme/Inventory.java <<'EOF'
package com.acme;

import java.util.HashMap;
import java.util.Map;

public class Inventory {
    private final Map<String, Integer> stock = new HashMap<>();

    public void add(String item, int n) {
        stock.merge(item, n, Integer::sum);
    }

    public int remaining(String item) {
        return stock.get(item);
    }
}
EOF
        file "$d" src/test/java/com/acme/InventoryTest.java <<'EOF'
package com.acme;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class InventoryTest {
    @Test
    void countsAddedItems() {
        Inventory inv = new Inventory();
        inv.add("apple", 2);
        assertEquals(2, inv.remaining("apple"));
    }

    @Test
    void unknownItemIsZero() {
        Inventory inv = new Inventory();
        assertEquals(0, inv.remaining("pear"));
    }
}
EOF
        capture $c "$d" "test (temurin 17)" "mvn -B -Dstyle.color=always -DtrimStackTrace=false verify"
        expect $c tool=maven kind=test_failure file=src/main/java/com/acme/Inventory.java line=14 test=com.acme.InventoryTest.unknownItemIsZero message_contains="NullPointerException"
    fi

    c=java-maven-dependency
    if ! skip $c; then
        d=$(mvn_project $c 4)
        sed -i 's#<dependencies>#<dependencies>\n    <dependency><groupId>com.google.guava</groupId><artifactId>guava</artifactId><version>99.0-jre</version></dependency>#' "$d/pom.xml"
        file "$d" src/main/java/com/acme/App.java <<'EOF'
package com.acme;

public class App {
    public static void main(String[] args) {}
}
EOF
        capture $c "$d" build "mvn -B package"
        expect $c tool=maven kind=dependency file=pom.xml symbol=com.google.guava:guava message_contains="guava"
    fi

    c=java-maven-syntax-error
    if ! skip $c; then
        d=$(mvn_project $c 4)
        file "$d" src/main/java/com/acme/Greeter.java <<'EOF'
package com.acme;

public class Greeter {
    public String greet(String name) {
        String text = "Hello, " + name
        return text;
    }
}
EOF
        capture $c "$d" build "mvn compile"
        expect $c tool=maven kind=syntax_error file=src/main/java/com/acme/Greeter.java line=5 message_contains="';' expected"
    fi
    c=java-junit-console
    if ! skip $c && [ -f /usr/share/java/junit-platform-console-standalone.jar ]; then
        d=$(project $c)
        file "$d" src/main/java/com/acme/Slug.java <<'EOF'
package com.acme;

public final class Slug {
    private Slug() {}

    public static String of(String title) {
        return title.trim().toLowerCase().replace(' ', '_');
    }
}
EOF
        file "$d" src/test/java/com/acme/SlugTest.java <<'EOF'
package com.acme;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SlugTest {
    @Test
    void replacesSpacesWithDashes() {
        assertEquals("hello-world", Slug.of("Hello World"));
    }

    @Test
    void trims() {
        assertEquals("x", Slug.of(" x "));
    }
}
EOF
        local jar=/usr/share/java/junit-platform-console-standalone.jar
        capture $c "$d" test "javac -d out -cp $jar \$(find src -name '*.java') && java -jar $jar --disable-banner --details=tree -cp out --select-class com.acme.SlugTest"
        expect $c tool=junit kind=test_failure file=src/test/java/com/acme/SlugTest.java line=10 test=com.acme.SlugTest.replacesSpacesWithDashes message_contains="hello-world"
    fi

    c=java-javac-package-missing
    if ! skip $c; then
        d=$(project $c)
        file "$d" src/main/java/com/acme/Json.java <<'EOF'
package com.acme;

import com.fasterxml.jackson.databind.ObjectMapper;

public class Json {
    private final ObjectMapper mapper = new ObjectMapper();
}
EOF
        capture $c "$d" build "javac -d build/classes src/main/java/com/acme/Json.java"
        expect $c tool=javac kind=import_error file=src/main/java/com/acme/Json.java line=3 symbol=com.fasterxml.jackson.databind
    fi


    c=java-javac-werror
    if ! skip $c; then
        d=$(project $c)
        file "$d" src/com/acme/Names.java <<'EOF'
package com.acme;

import java.util.ArrayList;
import java.util.List;

public class Names {
    public List<String> upper(List<String> names) {
        List out = new ArrayList();
        for (String n : names) {
            out.add(n.toUpperCase());
        }
        return out;
    }
}
EOF
        capture $c "$d" build "javac -Xlint:all -Werror -d out src/com/acme/Names.java"
        expect $c tool=javac kind=lint file=src/com/acme/Names.java line=8 symbol=rawtypes
    fi
}

java_cases

# ---------------------------------------------------------------- C / C++
c_cases() {
    local d c
    c=c-gcc-undeclared
    if ! skip $c; then
        d=$(project $c)
        file "$d" src/parse.c <<'EOF'
#include <string.h>

int count_commas(const char *s) {
    for (size_t i = 0; i < strlen(s); i++) {
        if (s[i] == ',') {
            count++;
        }
    }
    return count;
}
EOF
        capture $c "$d" build "gcc -Wall -Wextra -c src/parse.c -o parse.o"
        expect $c tool=gcc kind=compile_error file=src/parse.c line=6 symbol=count message_contains="undeclared"
    fi

    c=c-gcc-color-type-error
    if ! skip $c; then
        d=$(project $c)
        file "$d" lib/buf.c <<'EOF'
#include <stdlib.h>

struct buf {
    char *data;
    size_t len;
};

struct buf *buf_new(size_t cap) {
    struct buf *b = malloc(sizeof *b);
    b->data = malloc(cap);
    b->len = 0;
    return b;
}

int buf_len(struct buf b) {
    return b.len;
}

int use(void) {
    struct buf *b = buf_new(8);
    return buf_len(b);
}
EOF
        LC_ALL=C.UTF-8 capture $c "$d" build "gcc -fdiagnostics-color=always -std=c11 -c lib/buf.c"
        expect $c tool=gcc kind=type_error file=lib/buf.c line=21 message_contains="incompatible type"
    fi

    c=c-clang-undeclared
    if ! skip $c; then
        d=$(project $c)
        file "$d" src/main.c <<'EOF'
#include <stdio.h>

static int square(int x) { return x * x; }

int main(void) {
    int total = 0;
    for (int i = 0; i < 3; i++) {
        total += sqare(i);
    }
    printf("%d\n", totl);
    return 0;
}
EOF
        capture $c "$d" build "clang -Wall -o app src/main.c"
        expect $c tool=clang kind=compile_error file=src/main.c line=10 symbol=totl message_contains="undeclared identifier"
    fi

    c=c-clang-color-syntax
    if ! skip $c; then
        d=$(project $c)
        file "$d" src/vec.cpp <<'EOF'
#include <vector>

int sum(const std::vector<int> &v) {
    int s = 0;
    for (int x : v) {
        s += x
    }
    return s;
}
EOF
        capture $c "$d" build "clang++ -fcolor-diagnostics -std=c++17 -c src/vec.cpp"
        expect $c tool=clang kind=syntax_error file=src/vec.cpp line=6 message_contains="expected ';'"
    fi

    c=c-linker-undefined
    if ! skip $c; then
        d=$(project $c)
        file "$d" src/util.h <<'EOF'
int checksum(const char *s);
EOF
        file "$d" src/main.c <<'EOF'
#include <stdio.h>
#include "util.h"

int main(int argc, char **argv) {
    printf("%d\n", checksum(argc > 1 ? argv[1] : ""));
    return 0;
}
EOF
        file "$d" src/util.c <<'EOF'
#include "util.h"

int check_sum(const char *s) {
    int n = 0;
    while (*s) n += *s++;
    return n;
}
EOF
        capture $c "$d" build "gcc -g -o app src/main.c src/util.c"
        expect $c tool=ld kind=compile_error file=src/main.c line=5 symbol=checksum message_contains="undefined reference"
    fi

    c=c-linker-undefined-nodebug
    if ! skip $c; then
        d=$(project $c)
        file "$d" main.c <<'EOF'
double area(double r);

int main(void) {
    return (int)area(2.0);
}
EOF
        capture $c "$d" build "cc -O2 main.c -o app"
        expect $c tool=ld kind=compile_error file=main.c symbol=area message_contains="undefined reference"
    fi

    c=c-missing-header
    if ! skip $c; then
        d=$(project $c)
        file "$d" src/net.c <<'EOF'
#include <stdio.h>
#include "config.h"

int port(void) { return DEFAULT_PORT; }
EOF
        capture $c "$d" build "gcc -Iinclude -c src/net.c"
        expect $c tool=gcc kind=import_error file=src/net.c line=2 symbol=config.h
    fi

    c=c-clang-missing-header
    if ! skip $c; then
        d=$(project $c)
        file "$d" src/json.c <<'EOF'
#include <jansson_nonexistent.h>

int parse(void) { return 0; }
EOF
        capture $c "$d" build "clang -c src/json.c"
        expect $c tool=clang kind=import_error file=src/json.c line=1 symbol=jansson_nonexistent.h
    fi

    c=cpp-template-error
    if ! skip $c; then
        d=$(project $c)
        file "$d" src/names.cpp <<'EOF'
#include <algorithm>
#include <map>
#include <string>
#include <vector>

struct Person {
    std::string name;
    int age;
};

std::vector<Person> sorted(std::vector<Person> people) {
    std::sort(people.begin(), people.end());
    return people;
}

int count(const std::map<std::string, int> &m) {
    return m.size();
}
EOF
        capture $c "$d" build "g++ -std=c++17 -Wall -c src/names.cpp"
        expect $c tool=gcc kind=type_error file=src/names.cpp line=12 message_contains="operator<"
    fi

    c=c-werror
    if ! skip $c; then
        d=$(project $c)
        file "$d" src/stats.c <<'EOF'
int mean(const int *xs, int n) {
    int total = 0;
    int unused;
    for (int i = 0; i < n; i++) total += xs[i];
    return total / n;
}
EOF
        capture $c "$d" build "gcc -Wall -Werror -c src/stats.c"
        expect $c tool=gcc kind=lint file=src/stats.c line=3 symbol=unused message_contains="unused variable"
    fi

    c=c-cmake-make-error
    if ! skip $c && command -v cmake >/dev/null; then
        d=$(project $c)
        file "$d" CMakeLists.txt <<'EOF'
cmake_minimum_required(VERSION 3.10)
project(app C)
add_executable(app src/main.c src/ring.c)
EOF
        file "$d" src/ring.h <<'EOF'
struct ring { int *items; int head, tail, cap; };
int ring_push(struct ring *r, int v);
EOF
        file "$d" src/ring.c <<'EOF'
#include "ring.h"

int ring_push(struct ring *r, int v) {
    if ((r->tail + 1) % r->cap == r->head) return -1;
    r->items[r->tail] = v;
    r->tail = (r->tail + 1) % r->capacity;
    return 0;
}
EOF
        file "$d" src/main.c <<'EOF'
#include "ring.h"
int main(void) { return 0; }
EOF
        capture $c "$d" build "cmake -S . -B build && cmake --build build"
        expect $c tool=gcc kind=compile_error file=src/ring.c line=6 symbol=capacity
    fi

    c=c-cmake-missing-package
    if ! skip $c && command -v cmake >/dev/null; then
        d=$(project $c)
        file "$d" CMakeLists.txt <<'EOF'
cmake_minimum_required(VERSION 3.10)
project(app C)
find_package(ZeroMQNonexistent REQUIRED)
add_executable(app main.c)
EOF
        echo 'int main(void) { return 0; }' | file "$d" main.c
        capture $c "$d" configure "cmake -S . -B build"
        expect $c tool=cmake kind=dependency file=CMakeLists.txt line=3 symbol=ZeroMQNonexistent
    fi

    c=c-make-gcc
    if ! skip $c; then
        d=$(project $c)
        printf 'CFLAGS = -Wall -O2\n\napp: main.o list.o\n\t$(CC) -o $@ $^\n\nclean:\n\trm -f app *.o\n' | file "$d" Makefile
        file "$d" list.h <<'EOF'
struct node { int value; struct node *next; };
int list_len(const struct node *head);
EOF
        file "$d" list.c <<'EOF'
#include <stddef.h>
#include "list.h"

int list_len(const struct node *head) {
    int n = 0;
    for (const struct node *p = head; p != NULL; p = p->next) {
        n++
    }
    return n;
}
EOF
        file "$d" main.c <<'EOF'
#include "list.h"
int main(void) { return list_len(NULL); }
EOF
        capture $c "$d" build "make"
        expect $c tool=gcc kind=compile_error file=main.c line=2 symbol=NULL message_contains="undeclared"
    fi

    c=cpp-clang-no-member
    if ! skip $c; then
        d=$(project $c)
        file "$d" src/shape.cpp <<'EOF'
#include <string>

class Shape {
public:
    explicit Shape(std::string name) : name_(std::move(name)) {}
    const std::string &name() const { return name_; }

private:
    std::string name_;
};

std::size_t label_len(const Shape &s) {
    return s.label().size();
}
EOF
        capture $c "$d" build "clang++ -std=c++20 -Wall -Werror -c src/shape.cpp -o shape.o"
        expect $c tool=clang kind=compile_error file=src/shape.cpp line=13 symbol=label
    fi

}

c_cases
