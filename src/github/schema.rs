//! A small JSON-schema checker for the subset GitHub's OpenAPI 3.0 description uses:
//! `type`, `nullable`, `properties`, `required`, `items`, `enum`, `additionalProperties`,
//! `anyOf`, `oneOf`, `allOf`. `format` and other annotations are not checked.
//!
//! It keeps the fake GitHub honest: every body the fake sends is checked against the
//! contract's response schema, so the fake cannot drift from GitHub.

use serde_json::Value;

use super::fake::{Contract, Recorded, Sent, contract};

/// Problems found, each as `path: what`; empty when `value` matches `schema`.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, value, "$", &mut errors);
    errors
}

fn check(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(s) = schema.as_object() else {
        return;
    };
    if value.is_null() && s.get("nullable").and_then(Value::as_bool) == Some(true) {
        return;
    }
    if let Some(t) = s.get("type").and_then(Value::as_str)
        && !has_type(value, t)
    {
        errors.push(format!("{path}: expected {t}, got {}", kind(value)));
        return;
    }
    if let Some(options) = s.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!(
            "{path}: {value} is not one of {}",
            Value::Array(options.clone())
        ));
    }
    check_combinators(s, value, path, errors);
    if let Some(obj) = value.as_object() {
        check_object(s, obj, path, errors);
    }
    if let (Some(items), Some(arr)) = (s.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            check(items, v, &format!("{path}[{i}]"), errors);
        }
    }
}

fn check_object(
    s: &serde_json::Map<String, Value>,
    obj: &serde_json::Map<String, Value>,
    path: &str,
    errors: &mut Vec<String>,
) {
    let props = s.get("properties").and_then(Value::as_object);
    for key in s
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = key.as_str().unwrap_or("");
        if !obj.contains_key(key) {
            errors.push(format!("{path}: missing required `{key}`"));
        }
    }
    for (k, v) in obj {
        let sub = format!("{path}.{k}");
        match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
            (Some(ps), _) => check(ps, v, &sub, errors),
            (None, Some(Value::Bool(false))) => errors.push(format!("{sub}: not allowed")),
            (None, Some(extra @ Value::Object(_))) => check(extra, v, &sub, errors),
            (None, _) => {}
        }
    }
}

fn check_combinators(
    s: &serde_json::Map<String, Value>,
    value: &Value,
    path: &str,
    errors: &mut Vec<String>,
) {
    let passing = |list: &Vec<Value>| {
        list.iter()
            .filter(|sub| validate(sub, value).is_empty())
            .count()
    };
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for sub in all {
            check(sub, value, path, errors);
        }
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array)
        && passing(any) == 0
    {
        errors.push(format!(
            "{path}: matches none of anyOf ({} options)",
            any.len()
        ));
    }
    if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
        let n = passing(one);
        if n != 1 {
            errors.push(format!(
                "{path}: matches {n} of oneOf ({} options), not exactly 1",
                one.len()
            ));
        }
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "null" => v.is_null(),
        _ => true,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The schema a sent body must match; `None` for endpoints outside the contract.
pub fn schema_for(c: &Contract, status: u16) -> Option<Value> {
    let s = match c {
        Contract::Operation(file) => {
            contract(file)["responses"][status.to_string()]["schema"].clone()
        }
        Contract::BasicError => contract("repos.get.json")["responses"]["404"]["schema"].clone(),
        Contract::NotInContract(_) => return None,
    };
    (!s.is_null()).then_some(s)
}

/// Checks every sent body; the error lists each mismatch (or a body with no schema).
pub fn check_sent(sent: &[Sent]) -> Result<usize, String> {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (i, s) in sent.iter().enumerate() {
        if let Contract::NotInContract(_) = s.contract {
            continue;
        }
        let Some(schema) = schema_for(&s.contract, s.status) else {
            problems.push(format!(
                "body #{i} ({:?} {}): the contract has no schema",
                s.contract, s.status
            ));
            continue;
        };
        checked += 1;
        for e in validate(&schema, &s.body) {
            problems.push(format!("body #{i} ({:?} {}): {e}", s.contract, s.status));
        }
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(problems.join("\n"))
    }
}

/// Endpoints selfheal calls that the contract folder does not describe.
const OUTSIDE_CONTRACT: &[(&str, &str)] = &[(
    "GET",
    "/repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}/logs",
)];

/// Checks every request the client made: a known operation, query parameters the operation
/// declares (with valid values), and a body matching its `requestBody` schema.
pub fn check_requests(requests: &[Recorded]) -> Result<usize, String> {
    let index = contract("index.json");
    let ops = index["operations"].as_array().cloned().unwrap_or_default();
    let mut problems = Vec::new();
    let mut checked = 0;
    for r in requests {
        let find = |greedy: bool| {
            ops.iter().find(|o| {
                o["method"].as_str() == Some(r.method.as_str())
                    && path_matches(o["path"].as_str().unwrap_or(""), &r.path, greedy)
            })
        };
        let op = find(false).or_else(|| find(true));
        let Some(op) = op else {
            let outside = OUTSIDE_CONTRACT
                .iter()
                .any(|(m, p)| *m == r.method && path_matches(p, &r.path, false));
            if !outside {
                problems.push(format!(
                    "{} {}: no such operation in the contract",
                    r.method, r.path
                ));
            }
            continue;
        };
        checked += 1;
        let file = contract(op["file"].as_str().unwrap_or(""));
        for p in check_request(&file, r) {
            problems.push(format!("{} {}?{}: {p}", r.method, r.path, r.query));
        }
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(problems.join("\n"))
    }
}

/// `/repos/{owner}/{repo}/commits/{ref}` against a concrete path; with `greedy`, a last
/// `{param}` may hold `/` (refs do).
fn path_matches(template: &str, path: &str, greedy: bool) -> bool {
    let t: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let last_is_param = t.last().is_some_and(|s| s.starts_with('{'));
    if p.len() < t.len() || (p.len() > t.len() && !(greedy && last_is_param)) {
        return false;
    }
    t.iter()
        .zip(&p)
        .all(|(ts, ps)| ts.starts_with('{') && !ps.is_empty() || ts == ps)
}

fn check_request(file: &Value, r: &Recorded) -> Vec<String> {
    let mut problems = Vec::new();
    let params = file["parameters"].as_array().cloned().unwrap_or_default();
    let url = reqwest::Url::parse(&format!("http://x/?{}", r.query)).expect("query parses");
    for (k, v) in url.query_pairs() {
        let declared = params
            .iter()
            .find(|p| p["in"] == "query" && p["name"] == *k);
        match declared {
            None => problems.push(format!("query parameter `{k}` is not declared")),
            Some(p) => {
                if let Some(e) = check_param(&p["schema"], &v) {
                    problems.push(format!("query parameter `{k}`={v}: {e}"));
                }
            }
        }
    }
    let schema = &file["requestBody"]["schema"];
    match (&r.body, schema.is_null()) {
        (Some(body), false) => problems.extend(validate(schema, body)),
        (Some(_), true) => problems.push("a body was sent where none is declared".into()),
        (None, false) if file["requestBody"]["required"] == true => {
            problems.push("the required body is missing".into())
        }
        _ => {}
    }
    problems
}

/// A query value (always text) against its parameter schema.
fn check_param(schema: &Value, v: &str) -> Option<String> {
    let as_json = match schema["type"].as_str() {
        Some("integer") => match v.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => return Some("not an integer".into()),
        },
        Some("boolean") => match v {
            "true" | "false" => Value::Bool(v == "true"),
            _ => return Some("not a boolean".into()),
        },
        _ => Value::String(v.to_string()),
    };
    let errors = validate(schema, &as_json);
    (!errors.is_empty()).then(|| errors.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_required_nullable() {
        let s = json!({"type":"object","required":["id","name"],"properties":{
            "id":{"type":"integer"},"name":{"type":"string","nullable":true}}});
        assert!(validate(&s, &json!({"id":1,"name":null})).is_empty());
        let e = validate(&s, &json!({"id":"1"}));
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e.iter().any(|x| x.contains("missing required `name`")));
        assert!(
            e.iter()
                .any(|x| x.contains("$.id: expected integer, got string"))
        );
    }

    #[test]
    fn enum_items_and_combinators() {
        let s = json!({"type":"array","items":{"type":"string","enum":["open","closed"]}});
        assert!(validate(&s, &json!(["open"])).is_empty());
        assert_eq!(validate(&s, &json!(["merged"])).len(), 1);
        let any = json!({"anyOf":[{"type":"string"},{"type":"integer"}]});
        assert!(validate(&any, &json!(3)).is_empty());
        assert!(!validate(&any, &json!(true)).is_empty());
        let one = json!({"oneOf":[{"type":"number"},{"type":"integer"}]});
        assert!(!validate(&one, &json!(3)).is_empty(), "3 matches both");
        let all = json!({"allOf":[{"required":["a"]},{"required":["b"]}]});
        assert_eq!(validate(&all, &json!({"a":1})).len(), 1);
    }

    #[test]
    fn additional_properties() {
        let s = json!({"type":"object","properties":{"a":{}},"additionalProperties":{"type":"integer"}});
        assert!(validate(&s, &json!({"a":"x","b":2})).is_empty());
        assert_eq!(validate(&s, &json!({"b":"2"})).len(), 1);
    }

    #[test]
    fn templated_paths_match() {
        let commits = "/repos/{owner}/{repo}/commits/{ref}";
        assert!(path_matches(commits, "/repos/a/b/commits/feature/x", true));
        assert!(!path_matches(
            commits,
            "/repos/a/b/commits/feature/x",
            false
        ));
        assert!(path_matches(
            "/repos/{owner}/{repo}/pulls",
            "/repos/a/b/pulls",
            false
        ));
        assert!(!path_matches(
            "/repos/{owner}/{repo}/pulls",
            "/repos/a/b/pulls/1",
            true
        ));
        let run = "/repos/{owner}/{repo}/actions/runs/{run_id}";
        assert!(!path_matches(run, "/repos/a/b/actions/runs", true));
        assert!(!path_matches(run, "/repos/a/b/actions/runs/1/jobs", false));
    }

    #[test]
    fn requests_are_checked_against_parameters_and_bodies() {
        let req = |method: &str, path: &str, query: &str, body: Option<Value>| Recorded {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            authorization: None,
            if_none_match: None,
            body,
            status: 200,
        };
        let good = [
            req(
                "GET",
                "/repos/a/b/actions/runs",
                "status=failure&per_page=30",
                None,
            ),
            req(
                "POST",
                "/repos/a/b/pulls",
                "",
                Some(json!({"head": "x", "base": "main", "title": "t"})),
            ),
            req(
                "POST",
                "/repos/a/b/issues/3/labels",
                "",
                Some(json!({"labels": ["x"]})),
            ),
        ];
        assert_eq!(check_requests(&good), Ok(3));
        let bad = [
            req(
                "GET",
                "/repos/a/b/actions/runs",
                "status=broken&perpage=3",
                None,
            ),
            req(
                "POST",
                "/repos/a/b/pulls",
                "",
                Some(json!({"title": "no head"})),
            ),
            req("DELETE", "/repos/a/b", "", None),
        ];
        let e = check_requests(&bad).unwrap_err();
        for part in [
            "`status`=broken",
            "`perpage` is not declared",
            "missing required `head`",
            "no such operation",
        ] {
            assert!(e.contains(part), "{part} not in\n{e}");
        }
    }

    /// The operations copied from GitHub's REST docs (issue 16): each documented example
    /// validates against the schema written down beside it, so the fake built from those
    /// examples starts from what GitHub shows.
    #[test]
    fn examples_from_the_docs_validate_against_their_schemas() {
        let index = contract("index.json");
        let from_docs: Vec<&Value> = index["operations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["from"] == "docs.github.com")
            .collect();
        assert_eq!(from_docs.len(), 8);
        for op in from_docs {
            let file = contract(op["file"].as_str().unwrap());
            for (status, r) in file["responses"].as_object().unwrap() {
                if r["example"].is_null() {
                    continue;
                }
                let errors = validate(&r["schema"], &r["example"]);
                assert!(errors.is_empty(), "{} {status}: {errors:?}", op["file"]);
            }
            let body = &file["requestBody"];
            for ex in body["examples"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
            {
                assert!(validate(&body["schema"], ex).is_empty(), "{}", op["file"]);
            }
        }
    }

    #[test]
    fn contract_examples_for_runs_validate() {
        // The run example is clean; the job example is known to lack `created_at` (README).
        let file = contract("actions.get-workflow-run.json");
        let r = &file["responses"]["200"];
        assert_eq!(validate(&r["schema"], &r["example"]), Vec::<String>::new());
        let file = contract("actions.get-job-for-workflow-run.json");
        let r = &file["responses"]["200"];
        let errors = validate(&r["schema"], &r["example"]);
        assert!(
            errors.iter().any(|e| e.contains("created_at")),
            "{errors:?}"
        );
    }
}
