//! The fake's routing and handlers: auth, scripted answers, pagination with absolute `Link`
//! URLs, ETags, and one function per operation.

use axum::body::{Body as AxumBody, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::render;
use super::scenario::{FakeComment, FakeJob, FakePull, FakeRun, Scripted};
use super::{Contract, State, app};

/// What a handler answers.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

pub(crate) enum Body {
    Json(Contract, Value),
    Raw(String, Vec<u8>),
    Empty,
}

impl Reply {
    pub(super) fn json(status: u16, contract: Contract, value: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Json(contract, value),
        }
    }
    pub(super) fn op(status: u16, file: &'static str, value: Value) -> Reply {
        Reply::json(status, Contract::Operation(file), value)
    }
    pub(super) fn error(status: u16, message: &str) -> Reply {
        Reply::json(status, Contract::BasicError, render::error(message, status))
    }
    pub(super) fn header(mut self, k: &str, v: impl Into<String>) -> Reply {
        self.headers.push((k.to_string(), v.into()));
        self
    }

    pub fn into_response(self) -> Response {
        let (content_type, bytes) = match self.body {
            Body::Json(_, v) => (
                "application/json; charset=utf-8".to_string(),
                v.to_string().into_bytes(),
            ),
            Body::Raw(ct, b) => (ct, b),
            Body::Empty => (String::new(), Vec::new()),
        };
        let mut resp = Response::new(AxumBody::from(bytes));
        *resp.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let h = resp.headers_mut();
        if !content_type.is_empty() {
            h.insert(
                "content-type",
                HeaderValue::from_str(&content_type).expect("content type"),
            );
        }
        for (k, v) in &self.headers {
            let name: axum::http::HeaderName = k.parse().expect("header name");
            h.insert(name, HeaderValue::from_str(v).expect("header value"));
        }
        resp
    }
}

/// Auth, then scripted answers, then the real route; adds ETag and rate-limit headers.
pub(crate) fn respond(
    st: &mut State,
    method: &Method,
    path: &str,
    full_path: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Reply {
    if app::is_app_route(path) {
        // Authenticated as the App itself: a JWT, never a token.
        return with_rate_headers(app::respond(st, method, path, headers, body));
    }
    if !authorized(st, headers) {
        return with_rate_headers(Reply::error(401, "Bad credentials"));
    }
    let scripted = take_script(st, method, path);
    let reply = match scripted {
        Some(s) if !s.after_real => scripted_reply(s),
        Some(s) => {
            let _ = route(st, method, path, full_path, uri, headers, body);
            scripted_reply(s)
        }
        None => route(st, method, path, full_path, uri, headers, body),
    };
    with_rate_headers(conditional(reply, method, headers))
}

fn authorized(st: &State, headers: &HeaderMap) -> bool {
    let got = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let token = got
        .strip_prefix("Bearer ")
        .or_else(|| got.strip_prefix("token "))
        .unwrap_or("");
    app::accepts(&st.scenario, token)
}

/// Who a request's token belongs to: the App's bot for an installation token.
fn author(st: &State, headers: &HeaderMap) -> String {
    let got = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if st
        .scenario
        .minted
        .iter()
        .any(|(t, _)| got.ends_with(t.as_str()))
    {
        "selfheal[bot]".into()
    } else {
        st.scenario.owner.clone()
    }
}

fn take_script(st: &mut State, method: &Method, path: &str) -> Option<Scripted> {
    let i = st.script.iter().position(|s| {
        s.method.eq_ignore_ascii_case(method.as_str()) && path.ends_with(&s.path_suffix)
    })?;
    st.script.remove(i)
}

fn scripted_reply(s: Scripted) -> Reply {
    let body = match serde_json::from_str::<Value>(&s.body) {
        Ok(v) if v.is_object() => Body::Json(Contract::BasicError, v),
        _ => Body::Raw("text/html".into(), s.body.into_bytes()),
    };
    let mut r = Reply {
        status: s.status,
        headers: Vec::new(),
        body,
    };
    for (k, v) in s.headers {
        r = r.header(&k, v);
    }
    r
}

/// A 200 JSON answer to a GET gets an ETag; a matching `If-None-Match` gets 304.
fn conditional(reply: Reply, method: &Method, headers: &HeaderMap) -> Reply {
    let Body::Json(_, value) = &reply.body else {
        return reply;
    };
    if method != Method::GET || reply.status != 200 {
        return reply;
    }
    let digest = Sha256::digest(value.to_string().as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let etag = format!("W/\"{hex}\"");
    let asked = headers.get("if-none-match").and_then(|v| v.to_str().ok());
    if asked == Some(etag.as_str()) {
        return Reply {
            status: 304,
            headers: Vec::new(),
            body: Body::Empty,
        }
        .header("etag", etag);
    }
    reply.header("etag", etag)
}

/// The `x-ratelimit-*` headers GitHub puts on every answer, unless scripted ones are there.
fn with_rate_headers(mut reply: Reply) -> Reply {
    let defaults = [
        ("x-ratelimit-limit", "5000"),
        ("x-ratelimit-remaining", "4999"),
        ("x-ratelimit-used", "1"),
        ("x-ratelimit-reset", "4102444800"),
        ("x-ratelimit-resource", "core"),
    ];
    for (k, v) in defaults {
        if !reply.headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(k)) {
            reply = reply.header(k, v);
        }
    }
    reply
}

fn surprise(st: &mut State, method: &Method, path: &str, why: &str) -> Reply {
    st.surprises.push(format!("{method} {path}: {why}"));
    Reply::error(404, "Not Found")
}

fn route(
    st: &mut State,
    method: &Method,
    path: &str,
    full_path: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Reply {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let q = Query::parse(uri.query().unwrap_or(""));
    let page_url = format!("{}{full_path}", st.api_origin);
    let m = method.as_str();
    let (owner, repo, rest) = match segs.as_slice() {
        ["repos", o, r, rest @ ..] => (*o, *r, rest),
        _ => return surprise(st, method, path, "no such route"),
    };
    if owner != st.scenario.owner || repo != st.scenario.repo {
        return surprise(st, method, path, "unknown repository");
    }
    match (m, rest) {
        ("GET", []) => Reply::op(200, "repos.get.json", render::repository(&st.scenario)),
        ("GET", ["actions", "runs"]) => list_runs(st, &q, None, &page_url),
        ("GET", ["actions", "workflows", w, "runs"]) => list_runs(st, &q, Some(w), &page_url),
        ("GET", ["actions", "runs", id]) => get_run(st, id),
        ("GET", ["actions", "runs", id, "jobs"]) => list_jobs(st, id, &q, &page_url),
        ("GET", ["actions", "runs", id, "logs"]) => run_logs(st, id, None),
        ("GET", ["actions", "runs", id, "attempts", n, "logs"]) => run_logs(st, id, Some(n)),
        ("GET", ["actions", "jobs", id]) => get_job(st, id),
        ("GET", ["actions", "jobs", id, "logs"]) => job_log(st, id),
        ("GET", ["commits", r @ ..]) if !r.is_empty() => get_commit(st, &r.join("/")),
        ("GET", ["git", "ref", "heads", b @ ..]) if !b.is_empty() => get_ref(st, &b.join("/")),
        ("POST", ["git", "refs"]) => create_ref(st, body),
        ("GET", ["pulls"]) => list_pulls(st, &q, &page_url),
        ("POST", ["pulls"]) => create_pull(st, body),
        ("POST", ["issues", n, "labels"]) => add_labels(st, n, body),
        ("POST", ["labels"]) => create_label(st, body),
        ("GET", ["issues", n, "comments"]) => list_comments(st, n, &q, &page_url),
        ("POST", ["issues", n, "comments"]) => {
            let user = author(st, headers);
            create_comment(st, n, body, user)
        }
        ("PATCH", ["issues", "comments", id]) => update_comment(st, id, body),
        ("POST", ["actions", "runs", id, "rerun-failed-jobs"]) => rerun_failed_jobs(st, id),
        _ => surprise(st, method, path, "no such route"),
    }
}

/// The query string as pairs.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(q: &str) -> Query {
        let url = reqwest::Url::parse(&format!("http://x/?{q}")).expect("query parses");
        Query(
            url.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }
    fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }
    fn num(&self, k: &str, default: usize) -> usize {
        self.get(k).and_then(|v| v.parse().ok()).unwrap_or(default)
    }
}

/// One page of `items` and its `Link` header (absolute URLs back to the fake).
fn paginate(items: Vec<Value>, q: &Query, page_url: &str) -> (Vec<Value>, Option<String>) {
    let per_page = q.num("per_page", 30).clamp(1, 100);
    let page = q.num("page", 1).max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let link_to = |n: usize| {
        let mut url = reqwest::Url::parse(page_url).expect("page url");
        {
            let mut pairs = url.query_pairs_mut();
            pairs.clear();
            for (k, v) in q.0.iter().filter(|(k, _)| k != "page") {
                pairs.append_pair(k, v);
            }
            pairs.append_pair("page", &n.to_string());
        }
        url.to_string()
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("<{}>; rel=\"prev\"", link_to(page - 1)));
        links.push(format!("<{}>; rel=\"first\"", link_to(1)));
    }
    if page < last {
        links.push(format!("<{}>; rel=\"next\"", link_to(page + 1)));
        links.push(format!("<{}>; rel=\"last\"", link_to(last)));
    }
    (slice, (!links.is_empty()).then(|| links.join(", ")))
}

fn with_link(reply: Reply, link: Option<String>) -> Reply {
    match link {
        Some(l) => reply.header("link", l),
        None => reply,
    }
}

fn run_matches(r: &FakeRun, q: &Query, workflow: Option<&str>) -> bool {
    let status_ok = q
        .get("status")
        .is_none_or(|s| r.status == s || r.conclusion.as_deref() == Some(s));
    let branch_ok = q
        .get("branch")
        .is_none_or(|b| r.head_branch.as_deref() == Some(b));
    let event_ok = q.get("event").is_none_or(|e| r.event == e);
    let sha_ok = q.get("head_sha").is_none_or(|h| r.head_sha == h);
    let created_ok = q
        .get("created")
        .and_then(|c| c.strip_prefix(">="))
        .is_none_or(|d| r.created_at.get(..10).unwrap_or("") >= d);
    let workflow_ok = workflow
        .is_none_or(|w| r.workflow_id.to_string() == w || r.path.ends_with(&format!("/{w}")));
    status_ok && branch_ok && event_ok && sha_ok && created_ok && workflow_ok
}

fn list_runs(st: &State, q: &Query, workflow: Option<&str>, page_url: &str) -> Reply {
    let mut runs: Vec<&FakeRun> = st
        .scenario
        .runs
        .iter()
        .filter(|r| run_matches(r, q, workflow))
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.id));
    let total = runs.len();
    let items = runs
        .iter()
        .map(|r| render::run(&st.scenario, r, &st.api_url))
        .collect();
    let (page, link) = paginate(items, q, page_url);
    let file = if workflow.is_some() {
        "actions.list-workflow-runs.json"
    } else {
        "actions.list-workflow-runs-for-repo.json"
    };
    with_link(
        Reply::op(
            200,
            file,
            json!({"total_count": total, "workflow_runs": page}),
        ),
        link,
    )
}

fn find_run<'a>(st: &'a State, id: &str) -> Option<&'a FakeRun> {
    let id: u64 = id.parse().ok()?;
    st.scenario.runs.iter().find(|r| r.id == id)
}

fn get_run(st: &State, id: &str) -> Reply {
    match find_run(st, id) {
        Some(r) => Reply::op(
            200,
            "actions.get-workflow-run.json",
            render::run(&st.scenario, r, &st.api_url),
        ),
        None => Reply::error(404, "Not Found"),
    }
}

fn list_jobs(st: &State, id: &str, q: &Query, page_url: &str) -> Reply {
    let Some(run) = find_run(st, id) else {
        return Reply::error(404, "Not Found");
    };
    let all = q.get("filter") == Some("all");
    let jobs: Vec<FakeJob> = st
        .scenario
        .jobs
        .get(&run.id)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|j| all || j.run_attempt.is_none_or(|a| a == run.run_attempt))
        .collect();
    let total = jobs.len();
    let items = jobs
        .iter()
        .map(|j| render::job(&st.scenario, run, j, &st.api_url))
        .collect();
    let (page, link) = paginate(items, q, page_url);
    let body = json!({"total_count": total, "jobs": page});
    with_link(
        Reply::op(200, "actions.list-jobs-for-workflow-run.json", body),
        link,
    )
}

fn get_job(st: &State, id: &str) -> Reply {
    let id: u64 = id.parse().unwrap_or(0);
    for (run_id, jobs) in &st.scenario.jobs {
        if let (Some(j), Some(run)) = (
            jobs.iter().find(|j| j.id == id),
            find_run(st, &run_id.to_string()),
        ) {
            let body = render::job(&st.scenario, run, j, &st.api_url);
            return Reply::op(200, "actions.get-job-for-workflow-run.json", body);
        }
    }
    Reply::error(404, "Not Found")
}

fn run_logs(st: &State, id: &str, attempt: Option<&str>) -> Reply {
    let run = find_run(st, id);
    let attempt_ok = attempt.is_none_or(|n| {
        n.parse::<u32>()
            .is_ok_and(|n| run.is_some_and(|r| n >= 1 && n <= r.run_attempt))
    });
    match run {
        Some(r) if attempt_ok && st.scenario.run_logs.contains_key(&r.id) => {
            let location = format!(
                "{}/logs/run-{}.zip?urlExpires=2026-11-24T12%3A00%3A00Z&urlSigningMethod=HMACV1",
                st.blob_url, r.id
            );
            redirect(location)
        }
        _ => Reply::error(404, "Not Found"),
    }
}

fn job_log(st: &State, id: &str) -> Reply {
    let id: u64 = id.parse().unwrap_or(0);
    if st.scenario.job_logs.contains_key(&id) {
        redirect(format!(
            "{}/logs/job-{id}.txt?urlSigningMethod=HMACV1",
            st.blob_url
        ))
    } else {
        Reply::error(404, "Not Found")
    }
}

fn redirect(location: String) -> Reply {
    Reply {
        status: 302,
        headers: Vec::new(),
        body: Body::Empty,
    }
    .header("location", location)
}

/// What the download host answers.
pub(crate) fn blob(st: &mut State, path: &str) -> Reply {
    if let Some((status, ct, body)) = st.blob_override.clone() {
        return Reply {
            status,
            headers: Vec::new(),
            body: Body::Raw(ct, body),
        };
    }
    let file = path.strip_prefix("/logs/").unwrap_or("");
    let run = file
        .strip_prefix("run-")
        .and_then(|f| f.strip_suffix(".zip"))
        .and_then(|n| n.parse().ok());
    let job = file
        .strip_prefix("job-")
        .and_then(|f| f.strip_suffix(".txt"))
        .and_then(|n| n.parse().ok());
    let found = match (run, job) {
        (Some(id), _) => st
            .scenario
            .run_logs
            .get(&id)
            .map(|b| ("application/zip", b.clone())),
        (_, Some(id)) => st
            .scenario
            .job_logs
            .get(&id)
            .map(|t| ("text/plain", t.clone().into_bytes())),
        _ => None,
    };
    match found {
        Some((ct, bytes)) => Reply {
            status: 200,
            headers: Vec::new(),
            body: Body::Raw(ct.into(), bytes),
        },
        None => {
            st.surprises
                .push(format!("download host: GET {path}: no such blob"));
            Reply {
                status: 404,
                headers: Vec::new(),
                body: Body::Raw(
                    "application/xml".into(),
                    b"<Error><Code>BlobNotFound</Code></Error>".to_vec(),
                ),
            }
        }
    }
}

/// The sha a branch points at: from the backing git repository if any, else the map.
fn branch_sha(st: &State, branch: &str) -> Option<String> {
    match &st.scenario.git_dir {
        Some(dir) => {
            let repo = git2::Repository::open(dir).ok()?;
            let r = repo.find_reference(&format!("refs/heads/{branch}")).ok()?;
            r.target().map(|o| o.to_string())
        }
        None => st.scenario.refs.get(branch).cloned(),
    }
}

fn get_ref(st: &State, branch: &str) -> Reply {
    match branch_sha(st, branch) {
        Some(sha) => Reply::op(
            200,
            "git.get-ref.json",
            render::git_ref(&st.scenario, branch, &sha, &st.api_url),
        ),
        None => Reply::error(404, "Not Found"),
    }
}

fn validation_failed(message: &str) -> Reply {
    let body = json!({"message": message, "documentation_url": "https://docs.github.com/rest", "errors": [message]});
    Reply::json(422, Contract::BasicError, body)
}

fn create_ref(st: &mut State, body: &Bytes) -> Reply {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (Some(r), Some(sha)) = (v["ref"].as_str(), v["sha"].as_str()) else {
        return validation_failed("Invalid request: ref and sha are required");
    };
    let Some(branch) = r.strip_prefix("refs/heads/") else {
        return validation_failed("Reference name is invalid");
    };
    if branch_sha(st, branch).is_some() {
        return validation_failed("Reference already exists");
    }
    if let Some(dir) = &st.scenario.git_dir {
        let made = git2::Repository::open(dir).ok().and_then(|repo| {
            let oid = git2::Oid::from_str(sha).ok()?;
            repo.reference(r, oid, false, "fake GitHub create ref")
                .ok()
                .map(drop)
        });
        if made.is_none() {
            return validation_failed("Object does not exist");
        }
    } else {
        st.scenario.refs.insert(branch.to_string(), sha.to_string());
    }
    Reply::op(
        201,
        "git.create-ref.json",
        render::git_ref(&st.scenario, branch, sha, &st.api_url),
    )
}

fn get_commit(st: &State, reference: &str) -> Reply {
    let Some(dir) = &st.scenario.git_dir else {
        return Reply::error(404, &format!("No commit found for SHA: {reference}"));
    };
    let found = git2::Repository::open(dir).ok().and_then(|repo| {
        let c = repo
            .revparse_single(reference)
            .ok()?
            .peel_to_commit()
            .ok()?;
        let a = c.author();
        let m = c.committer();
        Some(render::commit(
            &c.id().to_string(),
            c.message().unwrap_or(""),
            (a.name().unwrap_or(""), a.email().unwrap_or("")),
            (m.name().unwrap_or(""), m.email().unwrap_or("")),
        ))
    });
    match found {
        Some(body) => Reply::op(200, "repos.get-commit.json", body),
        None => Reply::error(404, &format!("No commit found for SHA: {reference}")),
    }
}

fn list_pulls(st: &State, q: &Query, page_url: &str) -> Reply {
    let state = q.get("state").unwrap_or("open");
    let head = q.get("head");
    let mut pulls: Vec<&FakePull> = st
        .scenario
        .pulls
        .iter()
        .filter(|p| state == "all" || p.state == state)
        .filter(|p| {
            head.is_none_or(|h| h == p.head || h == format!("{}:{}", st.scenario.owner, p.head))
        })
        .collect();
    pulls.sort_by_key(|p| std::cmp::Reverse(p.number));
    let items = pulls
        .iter()
        .map(|p| render::pull(&st.scenario, p, &st.api_url, false))
        .collect();
    let (page, link) = paginate(items, q, page_url);
    with_link(Reply::op(200, "pulls.list.json", Value::Array(page)), link)
}

fn create_pull(st: &mut State, body: &Bytes) -> Reply {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (Some(head), Some(base)) = (v["head"].as_str(), v["base"].as_str()) else {
        return validation_failed("Validation Failed: head and base are required");
    };
    let head = head.rsplit(':').next().unwrap_or(head).to_string();
    let Some(head_sha) = branch_sha(st, &head) else {
        return validation_failed("Validation Failed: head is invalid");
    };
    if st
        .scenario
        .pulls
        .iter()
        .any(|p| p.state == "open" && p.head == head)
    {
        let owner = st.scenario.owner.clone();
        return validation_failed(&format!(
            "A pull request already exists for {owner}:{head}."
        ));
    }
    let number = st
        .scenario
        .pulls
        .iter()
        .map(|p| p.number)
        .max()
        .unwrap_or(0)
        + 1;
    let pull = FakePull {
        number,
        title: v["title"].as_str().unwrap_or("").to_string(),
        body: v["body"].as_str().unwrap_or("").to_string(),
        head,
        head_sha,
        base: base.to_string(),
        state: "open".into(),
        merged: false,
        draft: v["draft"].as_bool().unwrap_or(false),
        labels: Vec::new(),
    };
    let rendered = render::pull(&st.scenario, &pull, &st.api_url, true);
    st.scenario.pulls.push(pull);
    Reply::op(201, "pulls.create.json", rendered)
}

fn add_labels(st: &mut State, number: &str, body: &Bytes) -> Reply {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let number: u64 = number.parse().unwrap_or(0);
    let Some(pull) = st.scenario.pulls.iter_mut().find(|p| p.number == number) else {
        return Reply::error(404, "Not Found");
    };
    for l in v["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !pull.labels.iter().any(|x| x == l) {
            pull.labels.push(l.to_string());
        }
    }
    let added: Vec<String> = pull.labels.clone();
    for l in &added {
        if !st.scenario.labels.contains(l) {
            st.scenario.labels.push(l.clone()); // GitHub creates a missing label
        }
    }
    let labels: Vec<Value> = added
        .iter()
        .map(|l| render::label(&st.scenario, l))
        .collect();
    Reply::op(200, "issues.add-labels.json", Value::Array(labels))
}

fn create_label(st: &mut State, body: &Bytes) -> Reply {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let Some(name) = v["name"].as_str().filter(|n| !n.trim().is_empty()) else {
        return validation_failed("Validation Failed: name is missing");
    };
    if st
        .scenario
        .labels
        .iter()
        .any(|l| l.eq_ignore_ascii_case(name))
    {
        let body = json!({"message": "Validation Failed", "documentation_url": "https://docs.github.com/rest/issues/labels#create-a-label",
                          "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}]});
        return Reply::json(422, Contract::Operation("issues.create-label.json"), body);
    }
    st.scenario.labels.push(name.to_string());
    let label = render::label(&st.scenario, name);
    Reply::op(201, "issues.create-label.json", label)
}

fn comments_of(st: &State, number: u64) -> Vec<Value> {
    st.scenario
        .comments
        .iter()
        .filter(|c| c.issue_number == number)
        .map(|c| render::comment(&st.scenario, c, &st.api_url))
        .collect()
}

fn issue_exists(st: &State, number: u64) -> bool {
    st.scenario.pulls.iter().any(|p| p.number == number)
}

fn list_comments(st: &State, n: &str, q: &Query, page_url: &str) -> Reply {
    let number: u64 = n.parse().unwrap_or(0);
    if !issue_exists(st, number) {
        return Reply::error(404, "Not Found");
    }
    let (page, link) = paginate(comments_of(st, number), q, page_url);
    with_link(
        Reply::op(200, "issues.list-comments.json", Value::Array(page)),
        link,
    )
}

fn comment_text(body: &Bytes) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v["body"].as_str().map(str::to_string)
}

fn create_comment(st: &mut State, n: &str, body: &Bytes, user: String) -> Reply {
    let number: u64 = n.parse().unwrap_or(0);
    if !issue_exists(st, number) {
        return Reply::error(404, "Not Found");
    }
    let Some(text) = comment_text(body) else {
        return validation_failed("Validation Failed: body is missing");
    };
    let id = 1_000 + st.scenario.comments.len() as u64 + 1;
    let c = FakeComment {
        id,
        issue_number: number,
        body: text,
        user,
        edits: 0,
    };
    let rendered = render::comment(&st.scenario, &c, &st.api_url);
    st.scenario.comments.push(c);
    let location = rendered["url"].as_str().unwrap_or("").to_string();
    Reply::op(201, "issues.create-comment.json", rendered).header("location", location)
}

fn update_comment(st: &mut State, id: &str, body: &Bytes) -> Reply {
    let id: u64 = id.parse().unwrap_or(0);
    let Some(text) = comment_text(body) else {
        return validation_failed("Validation Failed: body is missing");
    };
    let Some(c) = st.scenario.comments.iter_mut().find(|c| c.id == id) else {
        return Reply::error(404, "Not Found");
    };
    c.body = text;
    c.edits += 1;
    let c = c.clone();
    Reply::op(
        200,
        "issues.update-comment.json",
        render::comment(&st.scenario, &c, &st.api_url),
    )
}

/// Records the re-run; the run itself is left as it was, so a test can ask again and
/// see that selfheal remembers.
fn rerun_failed_jobs(st: &mut State, id: &str) -> Reply {
    let Some(run) = find_run(st, id) else {
        return Reply::error(404, "Not Found");
    };
    let run_id = run.id;
    st.scenario.reruns.push(run_id);
    Reply::op(201, "actions.re-run-workflow-failed-jobs.json", json!({}))
}
