//! `selfheal approve --web`: the review queue as a local web page, server-rendered HTML
//! with no JavaScript. Bound to 127.0.0.1 only; every request must carry the random
//! token printed in the URL, every POST also a CSRF token from the page, and requests
//! whose Host or Origin is not this loopback address are refused. Approve and Reject
//! call back into the same locked, re-validating code the terminal `approve` uses.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::queue::{self, Pending};

/// What the buttons do: implemented by the CLI (re-validate, apply, record).
pub trait Actions: Send + Sync + 'static {
    /// Applies pending patch `id`; `Ok` carries what happened, in words.
    fn approve(&self, id: &str) -> Result<String, String>;
    fn reject(&self, id: &str, reason: &str) -> Result<String, String>;
}

struct Web {
    token: String,
    csrf: String,
    addr: SocketAddr,
    state_dir: PathBuf,
    actions: Arc<dyn Actions>,
}

/// A bound server: its address and the URL (with the token) to open.
pub struct Server {
    pub addr: SocketAddr,
    pub url: String,
    listener: tokio::net::TcpListener,
    app: axum::Router,
}

/// A fresh random hex string (from the OS), for the URL token and the CSRF token.
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf));
    assert!(ok.is_ok(), "no /dev/urandom to make a token");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Binds 127.0.0.1:`port` (0: any free port).
pub async fn bind(
    port: u16,
    state_dir: PathBuf,
    actions: Arc<dyn Actions>,
) -> std::io::Result<Server> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let token = random_hex(24);
    let web = Arc::new(Web {
        token: token.clone(),
        csrf: random_hex(24),
        addr,
        state_dir,
        actions,
    });
    let app = axum::Router::new()
        .route("/", get(page))
        .route("/approve/{id}", post(approve))
        .route("/reject/{id}", post(reject))
        .with_state(web);
    Ok(Server {
        addr,
        url: format!("http://{addr}/?token={token}"),
        listener,
        app,
    })
}

impl Server {
    /// Serves until `shutdown` resolves.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

#[derive(Deserialize)]
struct PageQuery {
    token: Option<String>,
    msg: Option<String>,
}

#[derive(Deserialize)]
struct ActionForm {
    token: String,
    csrf: String,
    #[serde(default)]
    reason: String,
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn refuse(why: &str) -> Response {
    (StatusCode::FORBIDDEN, format!("refused: {why}\n")).into_response()
}

/// Host must be this server's loopback address; Origin, when sent, too.
fn foreign(web: &Web, headers: &HeaderMap) -> Option<&'static str> {
    let port = web.addr.port();
    let allowed = [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ];
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !allowed.iter().any(|a| a == host) {
        return Some("the Host header is not this loopback address");
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok())
        && !allowed.iter().any(|a| origin == format!("http://{a}"))
    {
        return Some("the request comes from another origin");
    }
    None
}

async fn page(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    if let Some(why) = foreign(&web, &headers) {
        return refuse(why);
    }
    if !q.token.as_deref().is_some_and(|t| same(t, &web.token)) {
        return refuse("missing or wrong token; open the URL selfheal printed");
    }
    let pending = load_all(&web.state_dir);
    Html(render_page(&web, &pending, q.msg.as_deref())).into_response()
}

async fn approve(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ActionForm>,
) -> Response {
    act(web, headers, f, move |a, _| a.approve(&id)).await
}

async fn reject(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ActionForm>,
) -> Response {
    act(web, headers, f, move |a, reason| a.reject(&id, reason)).await
}

/// Checks the request, runs the action off the async runtime, and redirects back to
/// the page with what happened.
async fn act(
    web: Arc<Web>,
    headers: HeaderMap,
    f: ActionForm,
    action: impl FnOnce(&dyn Actions, &str) -> Result<String, String> + Send + 'static,
) -> Response {
    if let Some(why) = foreign(&web, &headers) {
        return refuse(why);
    }
    if !same(&f.token, &web.token) || !same(&f.csrf, &web.csrf) {
        return refuse("missing or wrong token or CSRF token");
    }
    let actions = web.actions.clone();
    let reason = f.reason.clone();
    // The actions start runtimes of their own (validation), so they get a plain thread.
    let done = tokio::task::spawn_blocking(move || {
        std::thread::spawn(move || action(actions.as_ref(), &reason)).join()
    })
    .await;
    let msg = match done {
        Ok(Ok(Ok(text))) => text,
        Ok(Ok(Err(text))) => format!("not done: {text}"),
        _ => "not done: the action failed unexpectedly".into(),
    };
    Redirect::to(&format!("/?token={}&msg={}", web.token, encode(&msg))).into_response()
}

fn load_all(state_dir: &std::path::Path) -> Vec<Pending> {
    queue::list_pending(state_dir)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| queue::load_pending(state_dir, &m.id).ok())
        .collect()
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn render_diff(diff: &str) -> String {
    diff.lines()
        .map(|l| {
            let class = if l.starts_with("+++") || l.starts_with("---") {
                "file"
            } else if l.starts_with('+') {
                "add"
            } else if l.starts_with('-') {
                "del"
            } else if l.starts_with("@@") {
                "hunk"
            } else {
                "ctx"
            };
            format!("<span class=\"{class}\">{}</span>", escape(l))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}\
pre{background:#f6f8fa;padding:1rem;overflow:auto}.add{color:#116329;background:#dafbe1}\
.del{color:#82071e;background:#ffebe9}.hunk{color:#0550ae}.file{font-weight:bold}\
.msg{padding:.7rem;background:#fff8c5;border:1px solid #d4a72c}article{border-top:1px solid #ddd;margin-top:1.5rem}\
button{margin-right:.5rem}";

fn render_page(web: &Web, pending: &[Pending], msg: Option<&str>) -> String {
    let mut html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>selfheal: pending patches</title><style>{STYLE}</style></head><body><h1>Pending patches ({})</h1>",
        pending.len()
    );
    if let Some(m) = msg {
        html.push_str(&format!("<p class=\"msg\" id=\"msg\">{}</p>", escape(m)));
    }
    if pending.is_empty() {
        html.push_str("<p id=\"empty\">No patches are waiting for approval.</p>");
    }
    for p in pending {
        html.push_str(&render_entry(web, p));
    }
    html.push_str("</body></html>");
    html
}

fn render_entry(web: &Web, p: &Pending) -> String {
    let id = escape(&p.meta.id);
    let hidden = format!(
        "<input type=\"hidden\" name=\"token\" value=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        web.token, web.csrf
    );
    format!(
        "<article id=\"p-{id}\"><h2>{id}</h2><p>risk {}/100 · {} · {}</p><p>{}</p><pre>{}</pre><pre>{}</pre>\
         <form method=\"post\" action=\"/approve/{id}\" class=\"approve\">{hidden}<button type=\"submit\">Approve</button></form>\
         <form method=\"post\" action=\"/reject/{id}\" class=\"reject\">{hidden}<input name=\"reason\" placeholder=\"reason\"><button type=\"submit\">Reject</button></form></article>",
        p.meta.risk,
        escape(&p.meta.created_at),
        escape(&p.meta.repo),
        escape(&p.meta.failure_summary),
        escape(p.diagnosis.trim()),
        render_diff(&p.diff),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_diffs_are_classed() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let d = render_diff("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old <b>\n+new");
        assert!(
            d.contains("<span class=\"del\">-old &lt;b&gt;</span>")
                && d.contains("<span class=\"add\">+new</span>")
        );
        assert_eq!(encode("a b/é"), "a%20b%2F%C3%A9");
    }

    #[test]
    fn tokens_are_random_and_compared_in_full() {
        let (a, b) = (random_hex(24), random_hex(24));
        assert_eq!(a.len(), 48);
        assert_ne!(a, b);
        assert!(same(&a, &a.clone()) && !same(&a, &b) && !same(&a, &a[..47]));
    }
}
