//! Each localisation rule on small repositories in Python, Go, JavaScript and Rust.

use std::path::Path;

use super::*;
use crate::logs::rank::rank_files;
use crate::logs::{Frame, Kind};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        write(d.path(), rel, text);
    }
    d
}

fn failing(tool: &str, file: &str, line: u32, test: &str) -> Failure {
    let mut f =
        Failure::new(tool, Kind::TestFailure, "assertion failed").at(file, Some(line), None);
    f.test = Some(test.into());
    f
}

/// (path, reason, lines) of a suspect.
type Seen = (String, Reason, Option<(u32, u32)>);

fn found(failures: &[Failure], root: &Path) -> Vec<Seen> {
    localise(failures, root)
        .suspects
        .into_iter()
        .map(|s| (s.path, s.reason, s.lines))
        .collect()
}

fn ranked(failures: &[Failure], root: &Path) -> Vec<RankedFile> {
    rerank(rank_files(failures, Some(root)), &localise(failures, root))
}

const STATS: &str = "\"\"\"Rolling statistics.\"\"\"\n\n\ndef moving_average(xs, n):\n    out = []\n    for i in range(len(xs) - n):\n        out.append(sum(xs[i:i + n]) / n)\n    return out\n";
const TEST_STATS: &str = "from calc.stats import moving_average\n\n\ndef test_window_equals_length():\n    xs = [2, 4, 6]\n    assert moving_average(xs, 3) == [4]\n";

#[test]
fn python_calls_on_the_failing_line_resolve_through_the_imports() {
    let d = repo(&[
        ("calc/__init__.py", ""),
        ("calc/stats.py", STATS),
        // Another definition of the same name, nearer by directory: the import wins.
        (
            "tests/legacy.py",
            "def moving_average(xs, n):\n    return []\n",
        ),
        (
            "legacy/stats.py",
            "def moving_average(xs, n):\n    return []\n",
        ),
        ("tests/test_stats.py", TEST_STATS),
    ]);
    let f = failing(
        "pytest",
        "tests/test_stats.py",
        6,
        "tests/test_stats.py::test_window_equals_length",
    );
    let got = found(std::slice::from_ref(&f), d.path());
    assert_eq!(
        got[0],
        (
            "calc/stats.py".into(),
            Reason::CalledOnFailingLine,
            Some((4, 8))
        )
    );
    let files = ranked(&[f], d.path());
    assert_eq!(files[0].path, "calc/stats.py");
    assert_eq!(
        files[0].reasons[0],
        "called on the failing line of the test: `moving_average` (lines 4-8)"
    );
    let test_pos = files
        .iter()
        .position(|r| r.path == "tests/test_stats.py")
        .unwrap();
    assert!(test_pos > 0, "{files:?}");
}

#[test]
fn python_methods_in_the_test_body_and_helpers_of_the_test_file() {
    let d = repo(&[
        (
            "shop/cart.py",
            "class Cart:\n    def __init__(self):\n        self.items = []\n\n    def add(self, item, qty):\n        self.items.append((item, qty))\n\n    def total(self):\n        return sum(q for _, q in self.items)\n",
        ),
        (
            "tests/test_cart.py",
            "import shop.cart as cart_mod\n\n\ndef make():\n    return cart_mod.Cart()\n\n\ndef test_total():\n    c = make()\n    c.add('apple', 2)\n    assert c.total() == 2\n",
        ),
    ]);
    let f = failing(
        "pytest",
        "tests/test_cart.py",
        11,
        "tests/test_cart.py::test_total",
    );
    let got = found(&[f], d.path());
    assert!(
        got.contains(&(
            "shop/cart.py".into(),
            Reason::CalledOnFailingLine,
            Some((8, 9))
        )),
        "total() on the failing line: {got:?}"
    );
    assert!(
        got.contains(&("shop/cart.py".into(), Reason::CalledByTest, Some((5, 6)))),
        "add() in the body: {got:?}"
    );
    assert!(
        got.iter()
            .any(|(p, _, l)| p == "shop/cart.py" && *l == Some((1, 9))),
        "Cart() through the helper make(): {got:?}"
    );
}

#[test]
fn python_patch_targets_and_fixtures() {
    let d = repo(&[
        ("shop/__init__.py", ""),
        (
            "shop/payments.py",
            "import requests\n\n\ndef charge(card, cents):\n    return requests.post('/charge', json={'c': cents})\n",
        ),
        (
            "shop/orders.py",
            "from shop.payments import charge\n\n\nclass Order:\n    def __init__(self, cents):\n        self.cents = cents\n\n    def pay(self, card):\n        return charge(card, self.cents)\n",
        ),
        (
            "tests/conftest.py",
            "import pytest\nfrom shop.orders import Order\n\n\n@pytest.fixture\ndef order():\n    return Order(250)\n",
        ),
        (
            "tests/test_orders.py",
            "from unittest import mock\n\n\n@mock.patch(\"shop.payments.requests\")\ndef test_pay_posts_cents(requests, order):\n    order.pay('4242')\n    requests.post.assert_called_once_with('/charge', json={'c': 250})\n",
        ),
    ]);
    let f = failing(
        "pytest",
        "tests/test_orders.py",
        7,
        "tests/test_orders.py::test_pay_posts_cents",
    );
    let got = found(&[f], d.path());
    assert!(
        got.contains(&("shop/payments.py".into(), Reason::PatchedByTest, None)),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            "shop/orders.py".into(),
            Reason::CalledByFixture,
            Some((4, 9))
        )),
        "{got:?}"
    );
}

#[test]
fn python_module_level_statements_the_code_uses() {
    let d = repo(&[
        (
            "text/slug.py",
            "import re\n\n_UNSAFE = re.compile(r\"[^a-z0-9]+\")\nOTHER = 3\n\n\ndef slugify(s):\n    return _UNSAFE.sub(\"-\", s.lower()).strip(\"-\")\n",
        ),
        (
            "tests/test_slug.py",
            "from text.slug import slugify\n\n\ndef test_spaces():\n    assert slugify(\"A b\") == \"a-b\"\n",
        ),
    ]);
    let f = failing(
        "pytest",
        "tests/test_slug.py",
        5,
        "tests/test_slug.py::test_spaces",
    );
    let got = found(&[f], d.path());
    assert!(
        got.contains(&("text/slug.py".into(), Reason::ModuleLevel, Some((3, 3)))),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|(_, _, l)| *l == Some((4, 4))),
        "OTHER is not used: {got:?}"
    );
}

#[test]
fn innermost_repository_frame_and_never_site_packages() {
    let d = repo(&[
        (
            "pkg/core.py",
            "def run(x):\n    helper = x.get('h')\n    return helper()\n",
        ),
        (
            "tests/test_core.py",
            "from pkg.core import run\n\n\ndef test_run():\n    run({})\n",
        ),
    ]);
    let mut f = failing(
        "pytest",
        "tests/test_core.py",
        5,
        "tests/test_core.py::test_run",
    );
    let frame = |file: &str, line| Frame {
        file: file.into(),
        line: Some(line),
        function: None,
    };
    f.frames = vec![
        frame("tests/test_core.py", 5),
        frame("pkg/core.py", 3),
        frame("/opt/py/lib/python3.11/site-packages/mock/mock.py", 1190),
    ];
    let got = found(std::slice::from_ref(&f), d.path());
    assert!(
        got.contains(&("pkg/core.py".into(), Reason::InnermostFrame, Some((1, 3)))),
        "{got:?}"
    );
    let files = ranked(&[f], d.path());
    assert_eq!(files[0].path, "pkg/core.py");
    assert!(
        files.iter().all(|r| !r.path.contains("site-packages")),
        "{files:?}"
    );
}

#[test]
fn module_named_like_the_test() {
    assert_eq!(subject_stem("tests/test_slug.py").as_deref(), Some("slug"));
    assert_eq!(subject_stem("pkg/store_test.go").as_deref(), Some("store"));
    assert_eq!(subject_stem("test/cart.test.js").as_deref(), Some("cart"));
    assert_eq!(subject_stem("src/cart.spec.ts").as_deref(), Some("cart"));
    assert_eq!(subject_stem("tests/parse.rs").as_deref(), Some("parse"));
    assert_eq!(subject_stem("test/index.js"), None);
    assert_eq!(subject_stem("tests/test.py"), None);
    let d = repo(&[
        ("src/textkit/slug.py", "def slugify(s):\n    return s\n"),
        ("tests/test_slug.py", "def test_x():\n    assert 1 == 2\n"),
    ]);
    let f = failing(
        "pytest",
        "tests/test_slug.py",
        2,
        "tests/test_slug.py::test_x",
    );
    let got = found(&[f], d.path());
    assert_eq!(
        got,
        [("src/textkit/slug.py".into(), Reason::NamedLikeTest, None)]
    );
}

#[test]
fn go_same_package_and_module_imports() {
    let d = repo(&[
        ("go.mod", "module example.com/tools\n\ngo 1.21\n"),
        (
            "mathx/clamp.go",
            "package mathx\n\n// Clamp limits v to [lo, hi].\nfunc Clamp(v, lo, hi int) int {\n\tif v < lo {\n\t\treturn lo\n\t}\n\tif v > hi {\n\t\treturn lo\n\t}\n\treturn v\n}\n",
        ),
        (
            "strutil/reverse.go",
            "package strutil\n\nfunc Reverse(s string) string {\n\tr := []rune(s)\n\treturn string(r)\n}\n",
        ),
        (
            "mathx/clamp_test.go",
            "package mathx\n\nimport (\n\t\"testing\"\n\n\t\"example.com/tools/strutil\"\n)\n\nfunc TestClamp(t *testing.T) {\n\tif got := Clamp(12, 0, 10); got != 10 {\n\t\tt.Errorf(\"Clamp = %d, %s\", got, strutil.Reverse(\"x\"))\n\t}\n}\n",
        ),
    ]);
    let f = failing("go", "mathx/clamp_test.go", 10, "TestClamp");
    let got = found(&[f], d.path());
    assert_eq!(
        got[0],
        (
            "mathx/clamp.go".into(),
            Reason::CalledOnFailingLine,
            Some((4, 12))
        )
    );
    assert!(
        got.contains(&(
            "strutil/reverse.go".into(),
            Reason::CalledByTest,
            Some((3, 6))
        )),
        "{got:?}"
    );
    // Only the test name is known (no file): the test file is found by its function.
    let mut g = Failure::new("go", Kind::TestFailure, "Clamp = 0");
    g.test = Some("example.com/tools/mathx.TestClamp".into());
    let got = found(&[g], d.path());
    assert!(
        got.iter()
            .any(|(p, r, _)| p == "mathx/clamp.go" && *r == Reason::CalledByTest),
        "{got:?}"
    );
}

#[test]
fn javascript_require_and_the_it_block_around_the_failing_line() {
    let d = repo(&[
        (
            "package.json",
            "{\"name\": \"cartjs\", \"main\": \"lib/index.js\"}\n",
        ),
        ("lib/index.js", "module.exports = require('./cart');\n"),
        (
            "lib/cart.js",
            "'use strict';\n\nfunction cartTotal(items, tax) {\n  const sub = items.reduce((s, i) => s + i.price, 0);\n  return sub * tax;\n}\n\nmodule.exports = { cartTotal };\n",
        ),
        ("lib/other.js", "function cartTotal() { return 0; }\n"),
        (
            "test/cart.test.js",
            "const assert = require('node:assert');\nconst { cartTotal } = require('../lib/cart');\n\ndescribe('cart', () => {\n  it('adds tax', () => {\n    const items = [{ price: 10 }];\n    assert.strictEqual(cartTotal(items, 0.5), 15);\n  });\n});\n",
        ),
    ]);
    let f = failing("node", "test/cart.test.js", 7, "cart > adds tax");
    let got = found(&[f], d.path());
    assert_eq!(
        got[0],
        (
            "lib/cart.js".into(),
            Reason::CalledOnFailingLine,
            Some((3, 6))
        )
    );
}

#[test]
fn rust_integration_test_uses_resolve_to_the_crate() {
    let d = repo(&[
        (
            "Cargo.toml",
            "[package]\nname = \"semver-lite\"\nversion = \"0.1.0\"\n\n[dependencies]\n",
        ),
        ("src/lib.rs", "mod version;\npub use version::Version;\n"),
        (
            "src/version.rs",
            "pub struct Version {\n    pub major: u64,\n}\n\nimpl Version {\n    pub fn parse(s: &str) -> Option<Version> {\n        let major = s.split('.').next()?.parse().ok()?;\n        Some(Version { major })\n    }\n}\n",
        ),
        (
            "tests/parse.rs",
            "use semver_lite::Version;\n\n#[test]\nfn parses_major() {\n    let v = Version::parse(\"1.2.3\").unwrap();\n    assert_eq!(v.major, 1);\n}\n",
        ),
    ]);
    let mut f = failing("cargo", "tests/parse.rs", 6, "parses_major");
    f.message = "assertion `left == right` failed".into();
    let got = found(&[f], d.path());
    assert!(
        got.contains(&("src/version.rs".into(), Reason::CalledByTest, Some((6, 9)))),
        "{got:?}"
    );
}

#[test]
fn a_test_that_does_not_compile_keeps_its_place() {
    let d = repo(&[
        ("calc/__init__.py", ""),
        ("calc/stats.py", STATS),
        ("tests/test_stats.py", TEST_STATS),
    ]);
    let mut f = failing(
        "pytest",
        "tests/test_stats.py",
        6,
        "tests/test_stats.py::test_window_equals_length",
    );
    f.kind = Kind::SyntaxError;
    let files = ranked(&[f], d.path());
    assert_eq!(files[0].path, "tests/test_stats.py", "{files:?}");
    assert!(files.iter().any(|r| r.path == "calc/stats.py"));
}

#[test]
fn javascript_default_export_of_a_required_module() {
    let d = repo(&[
        ("package.json", "{\"name\": \"range-parser\"}\n"),
        (
            "index.js",
            "'use strict'\n\nmodule.exports = rangeParser\n\nfunction rangeParser (size, str) {\n  var index = str.indexOf('=')\n  return index\n}\n",
        ),
        (
            "test/range-parser.js",
            "var assert = require('assert')\nvar parse = require('..')\n\ndescribe('parseRange(len, str)', function () {\n  it('should parse str', function () {\n    assert.strictEqual(parse(200, 'bytes=0-499'), -1)\n  })\n})\n",
        ),
    ]);
    let f = failing("node-test", "test/range-parser.js", 6, "should parse str");
    let got = found(&[f], d.path());
    assert_eq!(
        got[0],
        ("index.js".into(), Reason::CalledOnFailingLine, Some((5, 8)))
    );
}

#[test]
fn names_the_test_uses_before_the_code_defines_them() {
    let d = repo(&[
        ("boltons/__init__.py", ""),
        ("boltons/statsutils.py", "class Stats:\n    pass\n"),
        (
            "tests/test_statsutils.py",
            "from boltons.statsutils import Stats, mode\n\n\ndef test_mode():\n    assert mode([1, 1, 2]) == 1\n",
        ),
        ("go.mod", "module example.com/h\n"),
        (
            "bytes.go",
            "package h\n\nfunc Bytes(n uint64) string { return \"\" }\n",
        ),
        (
            "bytes_test.go",
            "package h\n\nimport \"testing\"\n\nfunc TestBytesN(t *testing.T) {\n\t_ = BytesN(3, 2)\n}\n",
        ),
        ("Cargo.toml", "[package]\nname = \"strsim\"\n"),
        (
            "src/lib.rs",
            "pub fn hamming(a: &str, b: &str) -> usize { 0 }\n",
        ),
        (
            "tests/lib.rs",
            "use strsim::{hamming, normalized_levenshtein};\n",
        ),
    ]);
    let mut py = Failure::new(
        "pytest",
        Kind::ImportError,
        "ImportError: cannot import name 'mode' from 'boltons.statsutils' (/home/runner/work/b/b/boltons/statsutils.py)",
    )
    .at("tests/test_statsutils.py", Some(1), None);
    py.test = Some("tests/test_statsutils.py".into());
    let go = Failure::new(
        "go",
        Kind::CompileError,
        "./bytes_test.go:6:7: undefined: BytesN",
    )
    .at("bytes_test.go", Some(6), Some(7));
    let rs = Failure::new(
        "rustc",
        Kind::ImportError,
        "error[E0432]: unresolved import `strsim::normalized_levenshtein`",
    )
    .at("tests/lib.rs", Some(1), None);
    for (f, home) in [
        (py, "boltons/statsutils.py"),
        (go, "bytes.go"),
        (rs, "src/lib.rs"),
    ] {
        let loc = localise(std::slice::from_ref(&f), d.path());
        assert!(!loc.test_is_wrong, "{f:?}");
        assert!(
            loc.suspects
                .iter()
                .any(|s| s.path == home && s.reason == Reason::ExpectedByTest),
            "{home}: {:?}",
            loc.suspects
        );
        assert_eq!(ranked(&[f], d.path())[0].path, home);
    }
}

#[test]
fn common_method_names_count_on_an_imported_module() {
    let d = repo(&[
        ("package.json", "{\"name\": \"bytes\"}\n"),
        (
            "index.js",
            "module.exports = bytes;\nmodule.exports.format = format;\n\nfunction bytes(value) {\n  return format(value);\n}\n\nfunction format(value) {\n  return value + 'kB';\n}\n",
        ),
        (
            "test/byte-format.js",
            "var assert = require('assert');\nvar bytes = require('..');\n\ndescribe('format', function(){\n  it('Should return standard case', function(){\n    var list = [1].map(String);\n    assert.equal(bytes.format(1024), '1KB');\n  });\n});\n",
        ),
    ]);
    let f = failing(
        "node-test",
        "test/byte-format.js",
        7,
        "Should return standard case",
    );
    let got = found(&[f], d.path());
    assert_eq!(
        got[0],
        (
            "index.js".into(),
            Reason::CalledOnFailingLine,
            Some((8, 10))
        )
    );
    assert!(
        !got.iter().any(|(_, _, l)| *l == Some((4, 6))),
        "`map`/`String` are not looked up: {got:?}"
    );
}

#[test]
fn a_method_the_test_expects_on_a_type_points_at_the_type() {
    let d = repo(&[
        ("go.mod", "module example.com/semver\n"),
        (
            "constraints.go",
            "package semver\n\ntype Constraints struct {\n\tconstraints [][]string\n}\n",
        ),
        ("version.go", "package semver\n\ntype Version struct{}\n"),
        (
            "version_test.go",
            "package semver\n\nimport \"testing\"\n\nfunc TestPre(t *testing.T) {\n\tc := &Constraints{}\n\tc.IncludePrerelease = true\n}\n",
        ),
    ]);
    let f = Failure::new(
        "go",
        Kind::CompileError,
        "./version_test.go:7:4: c.IncludePrerelease undefined (type *Constraints has no field or method IncludePrerelease)",
    )
    .at("version_test.go", Some(7), Some(4));
    assert_eq!(ranked(&[f], d.path())[0].path, "constraints.go");
}
