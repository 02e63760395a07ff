#!/usr/bin/env python3
"""Regenerates the scripting-side corpus cases: Python, JavaScript/TypeScript, shell/make,
infrastructure and generic (case names py_, js_, ts_, sh_, make_, infra_, generic_).
tests/corpus/gen_compiled.sh owns the compiled-language cases; tests/corpus/generate.sh runs both.

Every case is REAL output: the script writes a small broken project into a temp dir, runs
the real tool on it, and keeps what it printed (stdout and stderr interleaved) and its exit
code. The temp dir prefix is rewritten to the runner's checkout `/home/runner/work/app/app`
(and the local Python prefix to the hosted toolcache) so the output looks as it does in CI.
Each case becomes tests/corpus/cases/<case>/ with

    output.txt     the captured output, unchanged apart from the path rewrite
    failure.zip    the output in the real run-log layout (tests/support/runlog.py)
    expected.toml  tool, kind, file, line (, message_contains, test, symbol) of the first
                   failure triage must report; `file` is repo-relative
    meta.toml      the job, the command shown in the log and its exit code (the corpus
                   harness, src/logs/parse/corpus.rs, builds the failed step from it)

Requirements (installs nothing itself):
    pip install pytest mypy ruff flake8 black isort pylint pre-commit
    apt-get install node-typescript eslint jest mocha make git curl   # node >= 20 with npm on PATH
Debian's jest and eslint live in /usr/share/nodejs; with a non-Debian node the script sets
NODE_PATH and preloads a small shim for jest (see JEST_SHIM). Where Debian's jest cannot be
installed next to a non-Debian nodejs (it depends on node-types-node), build a dummy
`node-types-node` package with `equivs` first.

Usage: python3 tests/corpus/gen_scripting.py [case-name-substring ...]
"""
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASES_DIR = os.path.join(ROOT, "tests", "corpus", "cases")
RUNLOG = os.path.join(ROOT, "tests", "support", "runlog.py")
WORKSPACE = "/home/runner/work/app/app"
RUNNER_TEMP = "/home/runner/work/_temp"
TOOLCACHE_PY = "/opt/hostedtoolcache/Python/3.11.7/x64"

JEST_SHIM = """\
// Debian's jest reads process.config.variables.node_relative_path, which only Debian's own
// node defines; other builds freeze process.config, so replace it with a completed copy.
const cfg = JSON.parse(JSON.stringify(process.config));
cfg.variables.node_relative_path = cfg.variables.node_relative_path || 'lib/nodejs:share/nodejs';
cfg.variables.node_prefix = cfg.variables.node_prefix || '/usr';
Object.defineProperty(process, 'config', { value: cfg, configurable: true, writable: true });
"""


def d(s):
    return textwrap.dedent(s).lstrip("\n")


# ---------------------------------------------------------------- shared sources

CALC_PY = d('''
    """Small arithmetic helpers."""


    def add(a, b):
        return a + b


    def divide(a, b):
        return a / b


    def average(values):
        total = sum(values)
        return divide(total, len(values))


    def price_of(catalog, name):
        return catalog[name]["price"]
''')

TEST_CALC_PY = d('''
    from app.calc import add, average, price_of


    def test_add():
        assert add(2, 2) == 4


    def test_average_of_nothing():
        assert average([]) == 0


    def test_price():
        assert price_of({"tea": {"price": 3}}, "coffee") == 3
''')

PY_BASE = {"app/__init__.py": "", "app/calc.py": CALC_PY, "tests/__init__.py": ""}

TEST_ADD_WRONG_PY = d('''
    from app.calc import add


    def test_add_small():
        assert add(1, 1) == 2


    def test_add_negative():
        result = add(-2, 3)
        assert result == -1, "adding a negative number"
''')

TEST_PARAM_PY = d('''
    import pytest

    from app.calc import add


    @pytest.mark.parametrize("a,b,expected", [(1, 2, 3), (2, 2, 5), (0, 0, 0)])
    def test_add(a, b, expected):
        assert add(a, b) == expected
''')

TEST_COLLECT_PY = d('''
    import responses_mock

    from app.calc import add


    def test_add():
        assert add(1, 2) == 3
''')

TEST_FIXTURE_PY = d('''
    from app.calc import add


    def test_add_uses_db(db):
        assert add(1, 2) == 3
''')

CONFTEST_SETUP_ERR = d('''
    import json

    import pytest


    @pytest.fixture
    def settings(tmp_path):
        path = tmp_path / "settings.json"
        path.write_text("{not json")
        return json.loads(path.read_text())
''')

TEST_SETUP_ERR = d('''
    def test_settings_loaded(settings):
        assert settings["debug"] is False
''')

UNITTEST_PY = d('''
    import unittest

    from app.calc import add, average


    class TestCalc(unittest.TestCase):
        def test_add(self):
            self.assertEqual(add(2, 3), 6)

        def test_average(self):
            self.assertEqual(average([2, 4]), 3)


    if __name__ == "__main__":
        unittest.main()
''')

UNITTEST_ERR_PY = d('''
    import unittest

    from app.calc import average


    class TestAverage(unittest.TestCase):
        def test_empty(self):
            self.assertEqual(average([]), 0)
''')

CONFIG_PY = d('''
    import os


    def database_url():
        return os.environ["DATABASE_URL"]


    def load():
        return {"db": database_url()}
''')

MIGRATE_PY = d('''
    import sys

    sys.path.insert(0, ".")

    from app import config


    def main():
        settings = config.load()
        print("migrating", settings["db"])


    if __name__ == "__main__":
        main()
''')

SYNTAX_PY = d('''
    def greet(name):
        message = f"hello {name}"
        return message


    def shout(name)
        return greet(name).upper()
''')

MAIN_IMPORTS_PG = d('''
    import psycopg2


    def connect(url):
        return psycopg2.connect(url)
''')

MYPY_PY = d('''
    from typing import Optional


    def find(names: list[str], wanted: str) -> Optional[int]:
        for i, name in enumerate(names):
            if name == wanted:
                return i
        return None


    def first_index(names: list[str]) -> int:
        return find(names, "a")


    def label(count: int) -> str:
        return "count: " + count
''')

LINT_PY = d('''
    import os
    import sys
    from typing import List


    def total(values: List[int]) -> int:
        result = 0
        for v in values:
            result += v
        return result


    def debug():
        x = 1
        print(sys.argv)
''')

UNFORMATTED_PY = d('''
    def total( values ):
        return sum( [v for v in values if v>0] )
    x = { 'a':1,'b':2 }
''')

# ---------------------------------------------------------------- JS / TS sources

TSCONFIG = d('''
    {
      "compilerOptions": {
        "target": "es2020",
        "module": "commonjs",
        "strict": true,
        "noEmit": true
      },
      "include": ["src"]
    }
''')

TS_USER = d('''
    export interface User {
      id: number;
      name: string;
    }

    export function makeUser(name: string): User {
      return { id: "1", name };
    }

    export function greet(user: User): string {
      return "hello " + user.nmae;
    }
''')

TS_INDEX = d('''
    import { makeUser, greet } from "./user";

    const u = makeUser("ada");
    console.log(greet(u));
''')

ESLINTRC = d('''
    {
      "root": true,
      "env": { "node": true, "es2020": true },
      "parserOptions": { "ecmaVersion": 2020 },
      "extends": "eslint:recommended",
      "rules": { "semi": ["error", "always"] }
    }
''')

JS_LINT = d('''
    const fs = require("fs");

    function readConfig(path) {
      const text = fs.readFileSync(path, "utf8");
      return JSON.parse(txt);
    }

    module.exports = { readConfig }
''')

PKG_JSON = '{\n  "name": "app",\n  "version": "1.0.0",\n  "scripts": { "test": "jest --ci" }\n}\n'
JEST_CONFIG = "module.exports = { testEnvironment: 'node' };\n"

JS_CART = d('''
    function total(items) {
      return items.reduce((sum, item) => sum + item.price * item.qty, 0);
    }

    function applyDiscount(items, code) {
      const rate = DISCOUNTS[code].rate;
      return total(items) * (1 - rate);
    }

    const DISCOUNTS = { SAVE10: { rate: 0.1 } };

    module.exports = { total, applyDiscount };
''')

JS_CART_TEST = d('''
    const { total, applyDiscount } = require("../src/cart");

    describe("cart", () => {
      test("totals quantities", () => {
        const items = [{ price: 2, qty: 3 }, { price: 1, qty: 1 }];
        expect(total(items)).toBe(8);
      });

      test("applies a discount code", () => {
        const items = [{ price: 10, qty: 1 }];
        expect(applyDiscount(items, "SAVE20")).toBe(8);
      });
    });
''')

JS_CART_TEST_THROW_FIRST = d('''
    const { applyDiscount } = require("../src/cart");

    describe("discounts", () => {
      test("unknown codes are ignored", () => {
        const items = [{ price: 10, qty: 1 }];
        expect(applyDiscount(items, "BOGUS")).toBe(10);
      });
    });
''')

NODE_TEST = d('''
    const test = require("node:test");
    const assert = require("node:assert");
    const { total, applyDiscount } = require("../src/cart");

    test("totals quantities", () => {
      assert.strictEqual(total([{ price: 2, qty: 3 }]), 6);
    });

    test("discount SAVE10", () => {
      assert.strictEqual(applyDiscount([{ price: 10, qty: 2 }], "SAVE10"), 19);
    });
''')

NODE_TEST_THROW = d('''
    const test = require("node:test");
    const assert = require("node:assert");
    const { applyDiscount } = require("../src/cart");

    test("unknown code", () => {
      assert.strictEqual(applyDiscount([{ price: 10, qty: 1 }], "NOPE"), 10);
    });
''')

NODE_MISSING_MODULE = d('''
    const express = require("express");

    const app = express();
    app.listen(3000);
''')

# ---------------------------------------------------------------- shell sources

MAKEFILE_PYTEST = d('''
    .PHONY: test lint

    lint:
    \truff check app

    test:
    \tpython -m pytest -q tests
''')

MAKEFILE_CP = d('''
    .PHONY: dist

    dist:
    \tmkdir -p dist
    \tcp build/app.tar.gz dist/
''')



# ---------------------------------------------------------------- more sources

UNITTEST_IMPORT_PY = d("""
    import unittest

    from app.missing_helpers import slugify


    class TestSlug(unittest.TestCase):
        def test_slug(self):
            self.assertEqual(slugify("A b"), "a-b")
""")

TEST_CLASS_TEARDOWN_PY = d("""
    import pytest

    from app.calc import add


    @pytest.fixture
    def conn():
        yield {"open": True}
        raise RuntimeError("connection already closed")


    class TestAdd:
        def test_small(self, conn):
            assert add(1, 1) == 2

        def test_big(self):
            assert add(10**6, 1) == 10**6
""")

RUFF_SYNTAX_PY = d("""
    def load(path):
        with open(path) as f
            return f.read()
""")

TS_IMPORT = d("""
    import { format } from "date-fns";

    export const today = (): string => format(new Date(), "yyyy-MM-dd");
""")

JS_ESM_APP = d("""
    import chalk from "chalk";

    console.log(chalk.green("ok"));
""")

JS_SYNTAX = d("""
    function total(items) {
      return items.reduce((sum, item) => sum + item.price, 0;
    }

    module.exports = { total };
""")

PKG_JSON_NPM_TEST = '{\n  "name": "app",\n  "version": "1.0.0",\n  "scripts": { "test": "jest --ci" }\n}\n'

CI_SCRIPT = d("""
    #!/usr/bin/env bash
    set -euo pipefail
    echo "checking formatting"
    shfmt-missing -d scripts/
""")

MAKEFILE_BAD = "build:\n        gcc -o app main.c\n"

WHEEL_FILES = {}


def wheel(name, version, requires=()):
    """A minimal real wheel (zip with METADATA, WHEEL, RECORD) that pip can resolve."""
    import base64
    import hashlib
    import io
    import zipfile
    dist = "%s-%s" % (name, version)
    meta = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)
    meta += "".join("Requires-Dist: %s\n" % r for r in requires)
    files = {
        "%s/__init__.py" % name: "",
        "%s.dist-info/METADATA" % dist: meta,
        "%s.dist-info/WHEEL" % dist: "Wheel-Version: 1.0\nGenerator: corpus\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = ""
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record += "%s,sha256=%s,%d\n" % (path, digest, len(text))
    files["%s.dist-info/RECORD" % dist] = record + "%s.dist-info/RECORD,,\n" % dist
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
    return "wheels/%s-py3-none-any.whl" % dist, buf.getvalue()

MOCHA_TEST = d("""
    const assert = require("assert");
    const { total, applyDiscount } = require("../src/cart");

    describe("cart", () => {
      it("totals quantities", () => {
        assert.strictEqual(total([{ price: 2, qty: 3 }, { price: 1, qty: 1 }]), 8);
      });

      it("ignores unknown codes", () => {
        assert.strictEqual(applyDiscount([{ price: 10, qty: 1 }], "NOPE"), 10);
      });
    });
""")

MOCHA_THROW_TEST = d("""
    const assert = require("assert");
    const { applyDiscount } = require("../src/cart");

    describe("discounts", () => {
      it("ignores unknown codes", () => {
        assert.strictEqual(applyDiscount([{ price: 10, qty: 1 }], "NOPE"), 10);
      });
    });
""")

PRECOMMIT_CONFIG = d("""
    repos:
      - repo: local
        hooks:
          - id: black
            name: black
            entry: black
            language: system
            types: [python]
          - id: flake8
            name: flake8
            entry: flake8
            language: system
            types: [python]
""")

PYLINT_PY = d("""
    import os


    def area(w, h):
        return w * h


    def main():
        print(area(2, undefined_height))
""")

ISORT_PY = d("""
    import sys
    import os


    print(os.sep, sys.argv)
""")

GIT_INIT = "git init -q && git add -A && "

CONFTEST_IMPORT = d("""
    import pytest

    from app.database import connect


    @pytest.fixture
    def db():
        return connect()
""")

UNITTEST_SUBTEST_PY = d("""
    import unittest

    from app.calc import add


    class TestTable(unittest.TestCase):
        def test_table(self):
            for a, b, want in [(1, 1, 2), (2, 2, 5)]:
                with self.subTest(a=a, b=b):
                    self.assertEqual(add(a, b), want)
""")

BROKEN_SETUP_PY = d("""
    from setuptools import setup

    raise RuntimeError("libfoo-dev headers not found: install libfoo-dev")

    setup(name="fastfoo", version="0.1")
""")

TS_SYNTAX = d("""
    export function total(xs: number[]): number {
      return xs.reduce((a, b) => a + b, 0;
    }
""")

ENV_SCRIPT = "#!/usr/bin/env python-missing\nprint('hi')\n"


def case(name, files, run, expected, job="test", cmd=None, env=None, no_step_folders=False, script=False):
    """One case: `run` is the shell command really executed in the project dir; `cmd` what
    the workflow shows (defaults to `run`). With `script`, `run` is written to a runner-like
    temp script and run as `bash -e <script>`, as `run:` steps are."""
    return dict(name=name, files=files, run=run, expected=expected, job=job, cmd=cmd or run,
                env=env or {}, no_step_folders=no_step_folders, script=script)


def py(files, **extra):
    out = dict(PY_BASE)
    out.update(files)
    out.update(extra)
    return out


CASES = [
    # ------------------------------------------------------------ pytest
    case("py_pytest_tb_auto_color", py({"tests/test_calc.py": TEST_CALC_PY}),
         "python -m pytest --color=yes tests",
         dict(tool="pytest", kind="test_failure", file="app/calc.py", line=9,
              message_contains="ZeroDivisionError", test="tests/test_calc.py::test_average_of_nothing")),
    case("py_pytest_tb_long", py({"tests/test_add.py": TEST_ADD_WRONG_PY}),
         "python -m pytest --tb=long -p no:cacheprovider tests",
         dict(tool="pytest", kind="test_failure", file="tests/test_add.py", line=10,
              message_contains="adding a negative number", test="tests/test_add.py::test_add_negative"),
         job="test (ubuntu-latest, 3.11)"),
    case("py_pytest_tb_short", py({"tests/test_calc.py": TEST_CALC_PY}),
         "python -m pytest --tb=short -q tests",
         dict(tool="pytest", kind="test_failure", file="app/calc.py", line=9,
              message_contains="ZeroDivisionError", test="tests/test_calc.py::test_average_of_nothing")),
    case("py_pytest_tb_line", py({"tests/test_calc.py": TEST_CALC_PY}),
         "python -m pytest --tb=line tests",
         dict(tool="pytest", kind="test_failure", file="app/calc.py", line=9,
              message_contains="ZeroDivisionError")),
    case("py_pytest_tb_native", py({"tests/test_calc.py": TEST_CALC_PY}),
         "python -m pytest --tb=native -v tests",
         dict(tool="pytest", kind="test_failure", file="app/calc.py", line=9,
              message_contains="ZeroDivisionError", test="tests/test_calc.py::test_average_of_nothing")),
    case("py_pytest_tb_no", py({"tests/test_add.py": TEST_ADD_WRONG_PY}),
         "python -m pytest --tb=no -rA tests",
         dict(tool="pytest", kind="test_failure", file="tests/test_add.py",
              message_contains="adding a negative number", test="tests/test_add.py::test_add_negative")),
    case("py_pytest_param", py({"tests/test_param.py": TEST_PARAM_PY}),
         "python -m pytest -q tests",
         dict(tool="pytest", kind="test_failure", file="tests/test_param.py", line=8,
              message_contains="assert 4 == 5", test="tests/test_param.py::test_add[2-2-5]")),
    case("py_pytest_param_verbose_color", py({"tests/test_param.py": TEST_PARAM_PY}),
         "python -m pytest -v --color=yes tests", env={"FORCE_COLOR": "1"},
         expected=dict(tool="pytest", kind="test_failure", file="tests/test_param.py", line=8,
                       message_contains="assert 4 == 5", test="tests/test_param.py::test_add[2-2-5]")),
    case("py_pytest_keyerror", py({"tests/test_calc.py": TEST_CALC_PY}),
         "python -m pytest -q -k price tests",
         dict(tool="pytest", kind="test_failure", file="app/calc.py", line=18,
              message_contains="KeyError", test="tests/test_calc.py::test_price")),
    case("py_pytest_collect_import", py({"tests/test_api.py": TEST_COLLECT_PY}),
         "python -m pytest tests",
         dict(tool="pytest", kind="import_error", file="tests/test_api.py", line=1,
              message_contains="No module named 'responses_mock'", symbol="responses_mock")),
    case("py_pytest_fixture_missing", py({"tests/test_db.py": TEST_FIXTURE_PY}),
         "python -m pytest tests",
         dict(tool="pytest", kind="test_failure", file="tests/test_db.py", line=4,
              message_contains="fixture 'db' not found", test="tests/test_db.py::test_add_uses_db", symbol="db")),
    case("py_pytest_setup_error", py({"tests/conftest.py": CONFTEST_SETUP_ERR, "tests/test_settings.py": TEST_SETUP_ERR}),
         "python -m pytest tests",
         dict(tool="pytest", kind="test_failure", file="tests/conftest.py", line=10,
              message_contains="JSONDecodeError", test="tests/test_settings.py::test_settings_loaded")),
    # ------------------------------------------------------------ unittest / python
    case("py_unittest_fail", py({"tests/test_unit.py": UNITTEST_PY}),
         "python -m unittest discover -s tests -t .",
         dict(tool="unittest", kind="test_failure", file="tests/test_unit.py", line=8,
              message_contains="5 != 6", test="tests.test_unit.TestCalc.test_add")),
    case("py_unittest_error_verbose", py({"tests/test_avg.py": UNITTEST_ERR_PY}),
         "python -m unittest -v tests.test_avg",
         dict(tool="unittest", kind="test_failure", file="app/calc.py", line=9,
              message_contains="ZeroDivisionError", test="tests.test_avg.TestAverage.test_empty")),
    case("py_traceback_script", py({"app/config.py": CONFIG_PY, "scripts/migrate.py": MIGRATE_PY}),
         "python scripts/migrate.py",
         dict(tool="python", kind="config", file="app/config.py", line=5,
              message_contains="KeyError: 'DATABASE_URL'", symbol="DATABASE_URL"), job="migrate"),
    case("py_syntax_error", py({"app/shout.py": SYNTAX_PY}),
         "python app/shout.py",
         dict(tool="python", kind="syntax_error", file="app/shout.py", line=6,
              message_contains="SyntaxError")),
    case("py_module_not_found", py({"app/settings.py": MAIN_IMPORTS_PG}),
         'python -c "import app.settings"',
         dict(tool="python", kind="import_error", file="app/settings.py", line=1,
              message_contains="No module named 'psycopg2'", symbol="psycopg2"), job="smoke", no_step_folders=True),
    # ------------------------------------------------------------ linters
    case("py_mypy", py({"app/lookup.py": MYPY_PY}),
         "mypy app",
         dict(tool="mypy", kind="type_error", file="app/lookup.py", line=12,
              message_contains="Incompatible return value type"), job="typecheck"),
    case("py_mypy_columns_pretty_color", py({"app/lookup.py": MYPY_PY}),
         "mypy --show-column-numbers --pretty app", env={"MYPY_FORCE_COLOR": "1", "FORCE_COLOR": "1"},
         expected=dict(tool="mypy", kind="type_error", file="app/lookup.py", line=12,
                       message_contains="Incompatible return value type"), job="typecheck"),
    case("py_ruff_check_full", py({"app/report.py": LINT_PY}),
         "ruff check --output-format=full app",
         dict(tool="ruff", kind="lint", file="app/report.py", line=1,
              message_contains="imported but unused", symbol="os"), job="lint"),
    case("py_ruff_check_concise", py({"app/report.py": LINT_PY}),
         "ruff check --output-format=concise app",
         dict(tool="ruff", kind="lint", file="app/report.py", line=1,
              message_contains="imported but unused", symbol="os"), job="lint"),
    case("py_ruff_format_check", py({"app/fmt.py": UNFORMATTED_PY}),
         "ruff format --check app",
         dict(tool="ruff", kind="format", file="app/fmt.py"), job="lint"),
    case("py_flake8", py({"app/report.py": LINT_PY}),
         "flake8 app",
         dict(tool="flake8", kind="lint", file="app/report.py", line=1,
              message_contains="imported but unused", symbol="os"), job="lint"),
    case("py_pip_no_version", {"requirements.txt": "requests==99.0.0\n"},
         "pip install --no-index --find-links ./wheels -r requirements.txt",
         dict(tool="pip", kind="dependency", file="requirements.txt",
              message_contains="Could not find a version that satisfies the requirement requests==99.0.0",
              symbol="requests"), job="install"),
    # ------------------------------------------------------------ TypeScript / JavaScript
    case("ts_tsc_plain", {"tsconfig.json": TSCONFIG, "src/user.ts": TS_USER, "src/index.ts": TS_INDEX},
         "tsc -p .",
         dict(tool="tsc", kind="type_error", file="src/user.ts", line=7,
              message_contains="TS2322"), job="build"),
    case("ts_tsc_pretty", {"tsconfig.json": TSCONFIG, "src/user.ts": TS_USER, "src/index.ts": TS_INDEX},
         "tsc -p . --pretty",
         dict(tool="tsc", kind="type_error", file="src/user.ts", line=7,
              message_contains="TS2322"), job="build"),
    case("js_eslint_stylish", {".eslintrc.json": ESLINTRC, "src/config.js": JS_LINT},
         "eslint src",
         dict(tool="eslint", kind="lint", file="src/config.js", line=4,
              message_contains="'text' is assigned a value but never used", symbol="text"), job="lint"),
    case("js_eslint_stylish_color", {".eslintrc.json": ESLINTRC, "src/config.js": JS_LINT},
         "eslint --color src",
         dict(tool="eslint", kind="lint", file="src/config.js", line=4,
              message_contains="'text' is assigned a value but never used", symbol="text"), job="lint"),
    case("js_eslint_unix", {".eslintrc.json": ESLINTRC, "src/config.js": JS_LINT},
         "eslint --format unix src",
         dict(tool="eslint", kind="lint", file="src/config.js", line=4,
              message_contains="'text' is assigned a value but never used", symbol="text"), job="lint"),
    case("js_jest_assert", {"package.json": PKG_JSON, "jest.config.js": JEST_CONFIG, "src/cart.js": JS_CART,
                            "test/cart.test.js": JS_CART_TEST},
         "jest --ci",
         dict(tool="jest", kind="test_failure", file="test/cart.test.js", line=6,
              message_contains="toBe", test="cart › totals quantities")),
    case("js_jest_throw_color", {"package.json": PKG_JSON, "jest.config.js": JEST_CONFIG, "src/cart.js": JS_CART,
                                 "test/discount.test.js": JS_CART_TEST_THROW_FIRST},
         "jest --ci --colors",
         dict(tool="jest", kind="test_failure", file="src/cart.js", line=6,
              message_contains="Cannot read properties of undefined", test="discounts › unknown codes are ignored")),
    case("js_node_test_tap", {"package.json": PKG_JSON, "src/cart.js": JS_CART, "test/cart.test.js": NODE_TEST},
         "node --test --test-reporter=tap test/",
         dict(tool="node-test", kind="test_failure", file="test/cart.test.js", line=10,
              message_contains="Expected values to be strictly equal", test="discount SAVE10")),
    case("js_node_test_spec", {"package.json": PKG_JSON, "src/cart.js": JS_CART, "test/cart.test.js": NODE_TEST},
         "node --test --test-reporter=spec test/",
         dict(tool="node-test", kind="test_failure", file="test/cart.test.js", line=10,
              message_contains="Expected values to be strictly equal", test="discount SAVE10")),
    case("js_node_test_spec_throw", {"package.json": PKG_JSON, "src/cart.js": JS_CART, "test/code.test.js": NODE_TEST_THROW},
         "node --test --test-reporter=spec test/",
         dict(tool="node-test", kind="test_failure", file="src/cart.js", line=6,
              message_contains="Cannot read properties of undefined", test="unknown code")),
    case("js_node_missing_module", {"package.json": PKG_JSON, "src/server.js": NODE_MISSING_MODULE},
         "node src/server.js",
         dict(tool="node", kind="import_error", file="src/server.js", line=1,
              message_contains="Cannot find module 'express'", symbol="express"), job="start"),
    case("js_npm_ci_no_lockfile", {"package.json": PKG_JSON},
         "npm ci",
         dict(tool="npm", kind="dependency", message_contains="EUSAGE"), job="install"),
    # ------------------------------------------------------------ shell / make
    case("sh_command_not_found", {},
         "echo \"building\"\nyarnpkg-missing install --frozen-lockfile\necho done",
         dict(tool="shell", kind="command_not_found", message_contains="command not found",
              symbol="yarnpkg-missing"), script=True, job="build"),
    case("sh_dash_not_found", {},
         "sh -c 'protoc-gen --version'",
         dict(tool="shell", kind="command_not_found", message_contains="not found", symbol="protoc-gen"),
         job="build", no_step_folders=True),
    case("make_wraps_pytest", py({"Makefile": MAKEFILE_PYTEST, "tests/test_calc.py": TEST_CALC_PY}),
         "make test",
         dict(tool="pytest", kind="test_failure", file="app/calc.py", line=9,
              message_contains="ZeroDivisionError", test="tests/test_calc.py::test_average_of_nothing")),
    case("make_wraps_ruff", py({"Makefile": MAKEFILE_PYTEST, "app/report.py": LINT_PY}),
         "make lint",
         dict(tool="ruff", kind="lint", file="app/report.py", line=1, symbol="os"), job="lint"),
    case("make_recipe_cp", {"Makefile": MAKEFILE_CP},
         "make dist",
         dict(tool="make", kind="unknown", file="Makefile", line=5,
              message_contains="No such file or directory"), job="package"),
    case("make_no_rule", {"Makefile": MAKEFILE_CP},
         "make release",
         dict(tool="make", kind="config", message_contains="No rule to make target 'release'",
              symbol="release"), job="package"),
    # ------------------------------------------------------------ infrastructure
    case("infra_killed_137", {},
         "python3 -c 'import os, signal; print(\"loading dataset\", flush=True); os.kill(os.getpid(), signal.SIGKILL)'",
         dict(tool="runner", kind="oom", message_contains="Killed"), script=True, job="train"),
    case("infra_node_heap_oom", {"src/leak.js": "const a = [];\nwhile (true) { a.push(new Array(1e5).fill('x')); }\n"},
         "node --max-old-space-size=16 src/leak.js",
         dict(tool="node", kind="oom", message_contains="heap out of memory"), job="build", script=True),
    case("infra_timeout_124", {},
         "timeout 2 python3 -c 'import time; print(\"waiting for service\", flush=True); time.sleep(30)'",
         dict(tool="runner", kind="timeout"), script=True, job="integration"),
    case("infra_dns_curl", {},
         "curl -sSf https://artifacts.example.invalid/app.tar.gz -o app.tar.gz",
         dict(tool="runner", kind="network", message_contains="Could not resolve host"), job="deploy"),
    case("infra_pip_network", {"requirements.txt": "requests==2.32.3\n"},
         "pip install --retries 1 --timeout 2 --index-url https://pypi.example.invalid/simple -r requirements.txt",
         dict(tool="pip", kind="network", message_contains="Failed to establish a new connection"),
         job="install", env={"PIP_FIND_LINKS": None}),
    case("infra_disk_full", {},
         "dd if=/dev/zero of=/dev/full bs=1M count=1",
         dict(tool="runner", kind="infra", message_contains="No space left on device"), job="build"),
    # ------------------------------------------------------------ generic
    case("generic_git_fatal", {},
         "git clone --depth 1 file:///home/runner/work/app/missing-repo vendor/lib",
         dict(tool="unknown", kind="dependency", message_contains="fatal:"), job="build"),
    # ------------------------------------------------------------ more
    case("py_unittest_import_error", py({"tests/test_slug.py": UNITTEST_IMPORT_PY}),
         "python -m unittest discover -s tests -t .",
         dict(tool="unittest", kind="import_error", file="tests/test_slug.py", line=3,
              message_contains="No module named 'app.missing_helpers'", symbol="app.missing_helpers")),
    case("py_pytest_class_teardown", py({"tests/test_cls.py": TEST_CLASS_TEARDOWN_PY}),
         "python -m pytest -rA tests",
         dict(tool="pytest", kind="test_failure", file="tests/test_cls.py", line=9,
              message_contains="connection already closed", test="tests/test_cls.py::TestAdd::test_small")),
    case("py_ruff_syntax_error", py({"app/load.py": RUFF_SYNTAX_PY}),
         "ruff check app",
         dict(tool="ruff", kind="syntax_error", file="app/load.py", line=2), job="lint"),
    case("py_pip_resolution_impossible", {"requirements.txt": "alpha==1.0\ngamma==1.0\n",
                                          "__wheels__": ""},
         "pip install --no-index --find-links ./wheels -r requirements.txt",
         dict(tool="pip", kind="dependency", file="requirements.txt",
              line=1, message_contains="conflicting dependencies", symbol="alpha"), job="install",
         env={"PIP_FIND_LINKS": None}),
    case("ts_tsc_missing_module", {"tsconfig.json": TSCONFIG, "src/dates.ts": TS_IMPORT},
         "tsc -p .",
         dict(tool="tsc", kind="import_error", file="src/dates.ts", line=1,
              message_contains="TS2307", symbol="date-fns"), job="build"),
    case("js_eslint_compact", {".eslintrc.json": ESLINTRC, "src/config.js": JS_LINT},
         "eslint --format compact src",
         dict(tool="eslint", kind="lint", file="src/config.js", line=4,
              message_contains="'text' is assigned a value but never used", symbol="text"), job="lint"),
    case("js_node_esm_missing", {"package.json": '{"name": "app", "type": "module"}\n', "src/app.js": JS_ESM_APP},
         "node src/app.js",
         dict(tool="node", kind="import_error", message_contains="Cannot find package 'chalk'", symbol="chalk"),
         job="start"),
    case("js_node_syntax_error", {"src/total.js": JS_SYNTAX},
         "node src/total.js",
         dict(tool="node", kind="syntax_error", file="src/total.js", line=2,
              message_contains="SyntaxError"), job="start"),
    case("js_npm_test_jest", {"package.json": PKG_JSON_NPM_TEST, "jest.config.js": JEST_CONFIG, "src/cart.js": JS_CART,
                              "test/discount.test.js": JS_CART_TEST_THROW_FIRST},
         "npm test",
         dict(tool="jest", kind="test_failure", file="src/cart.js", line=6,
              message_contains="Cannot read properties of undefined", test="discounts › unknown codes are ignored")),
    case("sh_repo_script_not_found", {"scripts/ci.sh": CI_SCRIPT},
         "bash scripts/ci.sh",
         dict(tool="shell", kind="command_not_found", file="scripts/ci.sh", line=4, symbol="shfmt-missing"),
         job="lint"),
    case("make_missing_separator", {"Makefile": MAKEFILE_BAD},
         "make build",
         dict(tool="make", kind="syntax_error", file="Makefile", line=2,
              message_contains="missing separator"), job="build"),
    case("js_mocha_assert", {"package.json": PKG_JSON, "src/cart.js": JS_CART, "test/cart.test.js": MOCHA_TEST},
         "mocha",
         dict(tool="mocha", kind="test_failure", file="test/cart.test.js", line=6,
              message_contains="Expected values to be strictly equal", test="cart totals quantities")),
    case("js_mocha_throw", {"package.json": PKG_JSON, "src/cart.js": JS_CART, "test/discount.test.js": MOCHA_THROW_TEST},
         "mocha --color",
         dict(tool="mocha", kind="test_failure", file="src/cart.js", line=6,
              message_contains="Cannot read properties of undefined", test="discounts ignores unknown codes")),
    case("py_precommit_black", py({".pre-commit-config.yaml": PRECOMMIT_CONFIG, "app/fmt.py": UNFORMATTED_PY}),
         GIT_INIT + "pre-commit run --all-files --show-diff-on-failure --color=always",
         dict(tool="black", kind="format", file="app/fmt.py"), job="lint",
         cmd="pre-commit run --all-files --show-diff-on-failure --color=always"),
    case("py_precommit_flake8", py({".pre-commit-config.yaml": PRECOMMIT_CONFIG, "app/report.py": LINT_PY}),
         GIT_INIT + "pre-commit run --all-files",
         dict(tool="flake8", kind="lint", file="app/report.py", line=1, symbol="os"), job="lint",
         cmd="pre-commit run --all-files"),
    case("py_black_check", py({"app/fmt.py": UNFORMATTED_PY}),
         "black --check app",
         dict(tool="black", kind="format", file="app/fmt.py"), job="lint"),
    case("py_isort_check", py({"app/imports.py": ISORT_PY}),
         "isort --check-only app",
         dict(tool="isort", kind="format", file="app/imports.py"), job="lint"),
    case("py_pylint", py({"app/geometry.py": PYLINT_PY}),
         "pylint app",
         dict(tool="pylint", kind="lint", file="app/geometry.py", line=9,
              message_contains="Undefined variable", symbol="undefined_height"), job="lint"),
    case("py_pytest_conftest_import", py({"tests/conftest.py": CONFTEST_IMPORT, "tests/test_calc.py": TEST_CALC_PY}),
         "python -m pytest tests",
         dict(tool="pytest", kind="import_error", file="tests/conftest.py", line=3,
              message_contains="No module named 'app.database'", symbol="app.database")),
    case("py_unittest_subtest", py({"tests/test_table.py": UNITTEST_SUBTEST_PY}),
         "python -m unittest discover -s tests -t .",
         dict(tool="unittest", kind="test_failure", file="tests/test_table.py", line=10,
              message_contains="4 != 5", test="tests.test_table.TestTable.test_table")),
    case("py_pip_build_failure", {"vendor/fastfoo/setup.py": BROKEN_SETUP_PY},
         "pip install --no-build-isolation --no-index ./vendor/fastfoo",
         dict(tool="pip", kind="dependency", message_contains="libfoo-dev headers not found", symbol="fastfoo"),
         job="install"),
    case("ts_tsc_syntax", {"tsconfig.json": TSCONFIG, "src/total.ts": TS_SYNTAX},
         "tsc -p .",
         dict(tool="tsc", kind="syntax_error", file="src/total.ts", line=2,
              message_contains="TS1005"), job="build"),
    case("sh_env_not_found", {"scripts/gen.py": ENV_SCRIPT},
         "chmod +x scripts/gen.py && ./scripts/gen.py",
         dict(tool="shell", kind="command_not_found", symbol="python-missing"), job="build"),
]


def node_env():
    env = {"NODE_PATH": "/usr/share/nodejs:/usr/lib/nodejs"}
    return env


def write_tree(root, files):
    if "__wheels__" in files:
        files = {k: v for k, v in files.items() if k != "__wheels__"}
        for name, version, req in (("alpha", "1.0", ["beta==1.0"]), ("gamma", "1.0", ["beta==2.0"]),
                                   ("beta", "1.0", []), ("beta", "2.0", [])):
            rel, data = wheel(name, version, req)
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def rewrite_paths(text, tmp):
    """Local paths to the ones a GitHub-hosted Ubuntu runner prints."""
    text = text.replace(os.path.join(tmp, "_temp"), RUNNER_TEMP)
    text = text.replace(os.path.join(tmp, "app"), WORKSPACE)
    prefix = sysconfig.get_config_var("prefix") or ""
    if prefix:
        text = text.replace(prefix, TOOLCACHE_PY)
    text = text.replace(tmp, "/home/runner/work")
    return text


def run_case(c, shim):
    tmp = tempfile.mkdtemp(prefix="selfheal-corpus-")
    try:
        repo = os.path.join(tmp, "app")
        os.makedirs(repo)
        os.makedirs(os.path.join(tmp, "_temp"))
        write_tree(repo, c["files"])
        env = dict(os.environ)
        env.pop("PYTEST_ADDOPTS", None)
        env.pop("NO_COLOR", None)
        env.pop("FORCE_COLOR", None)
        env.update(node_env())
        env["NODE_OPTIONS"] = "--require " + shim
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["CI"] = "true"
        for k, v in c["env"].items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        if c["script"]:
            script = os.path.join(tmp, "_temp", "6f1c2b9e-3a47-4d2e-9f0a-5b8c7d1e2f30.sh")
            with open(script, "w") as f:
                f.write(c["run"] + "\n")
            argv = ["bash", "-e", script]
        else:
            argv = ["bash", "-e", "-c", c["run"]]
        p = subprocess.run(argv, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=300)
        out = p.stdout.decode("utf-8", errors="replace")
        return rewrite_paths(out, tmp), p.returncode
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def toml_value(v):
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v), ensure_ascii=False)


def write_case(c, out, code):
    folder = os.path.join(CASES_DIR, c["name"])
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "output.txt"), "w") as f:
        f.write(out)
    with open(os.path.join(folder, "expected.toml"), "w") as f:
        f.write("# first failure triage must report (generated by tests/corpus/gen_scripting.py)\n")
        for k in ("tool", "kind", "file", "line", "message_contains", "test", "symbol"):
            if k in c["expected"]:
                f.write("%s = %s\n" % (k, toml_value(c["expected"][k])))
    with open(os.path.join(folder, "meta.toml"), "w") as f:
        f.write("job = %s\ncmd = %s\nexit = %d\n" % (toml_value(c["job"]), toml_value(c["cmd"]), code))
    argv = [sys.executable, RUNLOG, "--job", c["job"], "--cmd", c["cmd"], "--exit", str(code),
            "--out", os.path.join(folder, "failure.zip")]
    if c["no_step_folders"]:
        argv.append("--no-step-folders")
    subprocess.run(argv, input=out.encode(), check=True)


def main():
    wanted = sys.argv[1:]
    shim_dir = tempfile.mkdtemp(prefix="selfheal-shim-")
    shim = os.path.join(shim_dir, "jest-shim.js")
    with open(shim, "w") as f:
        f.write(JEST_SHIM)
    failed = []
    for c in CASES:
        if wanted and not any(w in c["name"] for w in wanted):
            continue
        out, code = run_case(c, shim)
        if code == 0:
            failed.append(c["name"])
            print("%-32s exit 0: NOT a failure, skipped" % c["name"])
            continue
        write_case(c, out, code)
        print("%-32s exit %d, %d lines" % (c["name"], code, out.count("\n")))
    shutil.rmtree(shim_dir, ignore_errors=True)
    if failed:
        sys.exit("cases that did not fail: " + ", ".join(failed))


if __name__ == "__main__":
    main()
