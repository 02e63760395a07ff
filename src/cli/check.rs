//! `selfheal check`: a pre-flight that says what is missing, one line per check with a
//! hint. Checks run concurrently, each with its own timeout, so the whole takes about as
//! long as the slowest answer (under 2 s when everything answers). `--deep` also makes
//! one tiny completion and starts one container.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Hint, exit};
use crate::github::{Client, RepoHints, RepoSlug, RunFilter, resolve_repo};
use crate::llm::{ChatRequest, ClientOptions, OpenAiClient, Provider, prompts::Prompts};

use super::args::CheckArgs;
use super::{Ctx, print_stdout};

/// Per-check time limit, and with `--deep`.
const TIMEOUT: Duration = Duration::from_millis(1800);
const DEEP_TIMEOUT: Duration = Duration::from_secs(120);
/// The GitHub group's limit when it acts as a GitHub App.
const APP_TIMEOUT: Duration = Duration::from_secs(10);

/// One line of the report.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    /// A failed required check makes `check` exit non-zero.
    pub required: bool,
    pub detail: String,
    pub hint: Option<String>,
}

fn pass(name: &'static str, detail: impl Into<String>) -> Check {
    Check {
        name,
        ok: true,
        required: true,
        detail: detail.into(),
        hint: None,
    }
}

fn fail(name: &'static str, detail: impl Into<String>, hint: impl Into<String>) -> Check {
    Check {
        name,
        ok: false,
        required: true,
        detail: detail.into(),
        hint: Some(hint.into()),
    }
}

fn optional(mut c: Check) -> Check {
    c.required = false;
    c
}

pub fn run(ctx: &Ctx, args: &CheckArgs) -> Result<i32, Error> {
    crate::llm::init_tls();
    crate::github::init_tls();
    let rt = super::runtime()?;
    let checks = rt.block_on(all_checks(ctx, args.deep));
    report(ctx, &checks)?;
    Ok(if checks.iter().any(|c| c.required && !c.ok) {
        exit::ERROR
    } else {
        exit::SUCCESS
    })
}

async fn all_checks(ctx: &Ctx, deep: bool) -> Vec<Check> {
    let limit = if deep { DEEP_TIMEOUT } else { TIMEOUT };
    let repo = resolve_repo(&RepoHints {
        flag: None,
        env_github_repository: ctx.config.env.github_repository.as_deref(),
        config: Some(&ctx.config.github.repo),
        repo_dir: Some(&ctx.repo_root),
    });
    // As a GitHub App the group signs a JWT and mints a token before it reads anything.
    let gh_limit = if ctx.config.github.app_id != 0 {
        limit.max(APP_TIMEOUT)
    } else {
        limit
    };
    let (gh, llm, docker) = tokio::join!(
        timed("github", gh_limit, github_checks(ctx, repo)),
        timed("llm", limit, llm_checks(ctx, deep)),
        timed("docker", limit, docker_checks(ctx, deep)),
    );
    let mut out = vec![
        config_check(ctx),
        prompts_check(ctx),
        state_check(ctx),
        git_identity_check(ctx),
    ];
    out.extend(gh);
    out.extend(llm);
    out.extend(docker);
    out
}

/// Runs a group of checks; past the limit it becomes one failed check naming the group.
async fn timed(
    name: &'static str,
    limit: Duration,
    f: impl Future<Output = Vec<Check>>,
) -> Vec<Check> {
    match tokio::time::timeout(limit, f).await {
        Ok(checks) => checks,
        Err(_) => vec![fail(
            name,
            format!("no answer within {:.1} s", limit.as_secs_f64()),
            "check that the service is up and reachable",
        )],
    }
}

fn config_check(ctx: &Ctx) -> Check {
    let source = ctx
        .config
        .source
        .as_ref()
        .map_or("embedded defaults only".to_string(), |p| {
            p.display().to_string()
        });
    if ctx.config.warnings.is_empty() {
        pass("config", source)
    } else {
        optional(fail(
            "config",
            format!("{source}: {}", ctx.config.warnings.join("; ")),
            "fix or remove the keys named; see self-heal.toml.example",
        ))
    }
}

fn prompts_check(ctx: &Ctx) -> Check {
    match Prompts::from_config(&ctx.config.llm) {
        Ok(_) if ctx.config.llm.prompts_dir.is_empty() => pass("prompts", "built in"),
        Ok(_) => pass("prompts", format!("from {}", ctx.config.llm.prompts_dir)),
        Err(e) => fail(
            "prompts",
            e.to_string(),
            "fix [llm] prompts_dir or the templates in it",
        ),
    }
}

fn state_check(ctx: &Ctx) -> Check {
    let dir = ctx.config.state_dir(&ctx.repo_root);
    let probe = dir.join(".check-write");
    let res = std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(&probe, b"ok"))
        .and_then(|_| std::fs::remove_file(&probe));
    match res {
        Ok(()) => pass("state dir", format!("{} is writable", dir.display())),
        Err(e) => fail(
            "state dir",
            format!("{}: {e}", dir.display()),
            "set [state] dir or --state-dir to a writable folder",
        ),
    }
}

fn git_identity_check(ctx: &Ctx) -> Check {
    let p = &ctx.config.publish;
    if p.author_name.trim().is_empty() || p.author_email.trim().is_empty() {
        return fail(
            "git identity",
            "[publish] author_name / author_email is empty",
            "set both in self-heal.toml",
        );
    }
    let app = ctx.config.github.app_id;
    let credentials = match ctx.config.env.token_source {
        _ if app != 0 => format!("push with GitHub App {app}'s installation tokens"),
        Some(src) => format!("push with the token from {src}"),
        None => "no token to push with".into(),
    };
    let c = pass(
        "git identity",
        format!(
            "commits as {} <{}>; {credentials}",
            p.author_name, p.author_email
        ),
    );
    if ctx.config.env.token_source.is_none() && app == 0 {
        optional(Check {
            ok: false,
            hint: Some("set GH_TOKEN to push fixes".into()),
            ..c
        })
    } else {
        c
    }
}

async fn github_checks(
    ctx: &Ctx,
    repo: Result<RepoSlug, crate::github::GithubError>,
) -> Vec<Check> {
    let mut out = Vec::new();
    if ctx.config.github.app_id != 0 {
        return app_checks(ctx, repo).await;
    }
    let token = match ctx.config.env.token_source {
        Some(src) => {
            out.push(pass("token", format!("from {src}")));
            true
        }
        None => {
            out.push(fail("token", "no GitHub token", "set GH_TOKEN or GITHUB_TOKEN to a token with Actions read, contents and pull requests write"));
            false
        }
    };
    let repo = match repo {
        Ok(r) => {
            out.push(pass("repository", r.to_string()));
            r
        }
        Err(e) => {
            out.push(fail("repository", e.to_string(), "pass --repo OWNER/NAME, set GITHUB_REPOSITORY, or run in a clone with an origin remote"));
            return out;
        }
    };
    if !token {
        return out;
    }
    let gh = match Client::from_config(&ctx.config.github, None) {
        Ok(gh) => gh,
        Err(e) => {
            out.push(fail(
                "github api",
                e.to_string(),
                "check [github] api_url / GITHUB_API_URL",
            ));
            return out;
        }
    };
    let source = ctx.config.env.token_source.unwrap_or("config");
    match gh.get_repo(&repo).await {
        Ok(r) => {
            out.push(pass(
                "token accepted",
                format!(
                    "{} reads {} (default branch {})",
                    gh.base_url(),
                    r.full_name,
                    r.default_branch
                ),
            ));
            out.push(token_identity(source, r.permissions.as_ref()));
        }
        Err(e) => out.push(fail("token accepted", e.to_string(), e.hint())),
    }
    out.extend(runs_check(&gh, &repo).await);
    out
}

/// Who pushes and opens pull requests with a token, and whether GitHub says it may push.
fn token_identity(source: &str, p: Option<&crate::github::RepoPermissions>) -> Check {
    let who = format!("the token from {source}");
    match p {
        Some(p) if p.push => pass(
            "identity",
            format!("{who}: can push and open pull requests"),
        ),
        Some(_) => fail(
            "identity",
            format!("{who}: read-only on this repository, cannot push"),
            "give the token contents: write and pull-requests: write, or configure a GitHub App ([github] app_id)",
        ),
        None => pass(
            "identity",
            format!(
                "{who}: GitHub does not say whether it may push (a workflow token: set contents: write and pull-requests: write)"
            ),
        ),
    }
}

/// As a GitHub App: the key, the installation on the repository, a minted token, and what
/// the installation may do.
async fn app_checks(ctx: &Ctx, repo: Result<RepoSlug, crate::github::GithubError>) -> Vec<Check> {
    let app_id = ctx.config.github.app_id;
    let repo = match repo {
        Ok(r) => r,
        Err(e) => return vec![fail("repository", e.to_string(), e.hint())],
    };
    let mut out = vec![pass("repository", repo.to_string())];
    let gh = match crate::github::connect(
        &ctx.config.github,
        ctx.config.env.app_private_key.as_ref(),
        None,
        &repo,
    )
    .await
    {
        Ok(gh) => gh,
        Err(e) => {
            out.push(fail(
                "identity",
                format!("GitHub App {app_id}: {e}"),
                e.hint(),
            ));
            return out;
        }
    };
    let Some(app) = gh.app() else {
        return out;
    };
    out.push(match gh.token().await {
        Ok(_) => pass(
            "identity",
            format!(
                "GitHub App {app_id}, installation {} on {}: installation token minted",
                app.id, app.account
            ),
        ),
        Err(e) => fail("identity", e.to_string(), e.hint()),
    });
    out.push(app_permissions(app));
    out.extend(runs_check(&gh, &repo).await);
    out
}

/// Can the installation push (`contents: write`) and open pull requests
/// (`pull_requests: write`)?
fn app_permissions(app: &crate::github::Installation) -> Check {
    let has = |p: &str| matches!(app.permission(p), Some("write" | "admin"));
    let (push, prs) = (has("contents"), has("pull_requests"));
    let say = |b: bool| if b { "yes" } else { "no" };
    let detail = format!(
        "push (contents: write): {}; open pull requests (pull_requests: write): {}",
        say(push),
        say(prs)
    );
    if push && prs {
        pass("can publish", detail)
    } else {
        fail(
            "can publish",
            detail,
            "grant the App Contents and Pull requests read & write in its settings, then accept the new permissions on the installation",
        )
    }
}

async fn runs_check(gh: &Client, repo: &RepoSlug) -> Vec<Check> {
    let mut out = Vec::new();
    let filter = RunFilter {
        per_page: 1,
        limit: 1,
        ..RunFilter::default()
    };
    out.push(match gh.list_runs(repo, &filter).await {
        Ok(runs) => pass(
            "runs readable",
            format!("{} failed run(s) on the first page", runs.len()),
        ),
        Err(e) => fail(
            "runs readable",
            e.to_string(),
            "the token needs Actions: read",
        ),
    });
    out
}

async fn llm_checks(ctx: &Ctx, deep: bool) -> Vec<Check> {
    let c = &ctx.config.llm;
    let url = format!("{}/models", c.base_url.trim_end_matches('/'));
    let client = reqwest::Client::builder().timeout(TIMEOUT).build();
    let Ok(client) = client else {
        return vec![fail(
            "llm endpoint",
            "cannot build an HTTP client",
            "report this as a bug",
        )];
    };
    let mut req = client.get(&url);
    if !c.api_key.is_empty() {
        req = req.bearer_auth(&c.api_key);
    }
    let mut out = Vec::new();
    match req.send().await {
        Ok(r) if r.status().is_success() => {
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            let ids: Vec<&str> = body["data"]
                .as_array()
                .map(|a| a.iter().filter_map(|m| m["id"].as_str()).collect())
                .unwrap_or_default();
            out.push(pass(
                "llm endpoint",
                format!("{url} answers ({} model(s))", ids.len()),
            ));
            out.push(if ids.contains(&c.model.as_str()) {
                pass("llm model", format!("{} is listed", c.model))
            } else {
                optional(fail(
                    "llm model",
                    format!("{} is not among {}", c.model, ids.join(", ")),
                    "set SELFHEAL_MODEL or [llm] model to a listed id",
                ))
            });
        }
        Ok(r) if r.status().as_u16() == 401 => out.push(fail(
            "llm endpoint",
            format!("{url} answered 401"),
            "set OPENAI_API_KEY",
        )),
        Ok(r) => out.push(fail(
            "llm endpoint",
            format!("{url} answered {}", r.status()),
            "check OPENAI_BASE_URL",
        )),
        Err(e) => out.push(fail(
            "llm endpoint",
            format!("{url}: {e}"),
            "check OPENAI_BASE_URL and that the server runs",
        )),
    }
    if deep && out.first().is_some_and(|c| c.ok) {
        out.push(tiny_completion(ctx).await);
    }
    out
}

async fn tiny_completion(ctx: &Ctx) -> Check {
    let mut opts = ClientOptions::from_config(&ctx.config.llm);
    opts.retry.max_retries = 0;
    let client = match OpenAiClient::new(opts) {
        Ok(c) => c,
        Err(e) => return fail("llm completion", e.to_string(), e.hint()),
    };
    let req = ChatRequest {
        system: "Answer with one word.".into(),
        user: "Say ok.".into(),
        max_tokens: 5,
        temperature: 0.0,
        purpose: "check".into(),
        seed: None,
        done: crate::llm::Done::Never,
    };
    match client.complete(&req).await {
        Ok(r) => pass(
            "llm completion",
            format!(
                "{} answered in {} token(s)",
                r.model, r.usage.completion_tokens
            ),
        ),
        Err(e) => fail("llm completion", e.to_string(), e.hint()),
    }
}

async fn docker_checks(ctx: &Ctx, deep: bool) -> Vec<Check> {
    use crate::sandbox::{Engine, images};
    let required = ctx.config.sandbox() == "docker";
    let req = |c: Check| if required { c } else { optional(c) };
    let engine = match Engine::connect(ctx.config.env.docker_host.as_deref()).await {
        Ok(e) => e,
        Err(e) => {
            return vec![req(fail(
                "docker",
                e.to_string(),
                "start the engine, or use --sandbox local",
            ))];
        }
    };
    let mut out = vec![pass("docker", format!("engine at {}", engine.socket()))];
    // With official images (`validate.images` auto/official) the base is only the offline
    // fallback, so its absence is not a failure there.
    let base_needed = ctx.config.validate.images == "local";
    let base_check = match images::image_id(&engine, images::BASE_IMAGE).await {
        Ok(Some(_)) => pass(
            "sandbox image",
            format!(
                "{} present; language images are built from it on first use",
                images::BASE_IMAGE
            ),
        ),
        Ok(None) => fail(
            "sandbox image",
            format!("{} is missing", images::BASE_IMAGE),
            "build it with `sudo selfheal sandbox build` (Debian packages only, no pull)",
        ),
        Err(e) => fail("sandbox image", e.to_string(), "check the engine"),
    };
    out.push(if base_needed {
        req(base_check)
    } else {
        optional(base_check)
    });
    if deep && out.last().is_some_and(|c| c.ok) {
        out.push(req(start_container(ctx).await));
    }
    out
}

async fn start_container(ctx: &Ctx) -> Check {
    use crate::sandbox::{DockerOptions, DockerValidator};
    use crate::validate::{ValidationRequest, Validator};
    let mut opts =
        DockerOptions::from_config(&ctx.config.validate, ctx.config.env.docker_host.clone());
    opts.image = Some(crate::sandbox::images::BASE_IMAGE.into());
    let Ok(dir) = tempfile::tempdir() else {
        return fail("container", "no temp dir", "check TMPDIR");
    };
    let validator = match DockerValidator::connect(opts).await {
        Ok(v) => v,
        Err(e) => return fail("container", e.to_string(), "check the engine"),
    };
    let req = ValidationRequest::new(
        dir.path(),
        "true",
        Duration::from_secs(60),
        format!("check-{}", std::process::id()),
    );
    match validator.validate(&req).await {
        Ok(o) if o.passed => pass(
            "container",
            format!("started and removed one ({})", o.summary()),
        ),
        Ok(o) => fail("container", o.summary(), "see the engine's logs"),
        Err(e) => fail("container", e.to_string(), "see the engine's logs"),
    }
}

#[derive(Serialize)]
struct Report<'a> {
    schema: u32,
    ok: bool,
    checks: &'a [Check],
}

fn report(ctx: &Ctx, checks: &[Check]) -> Result<(), Error> {
    let ok = !checks.iter().any(|c| c.required && !c.ok);
    if ctx.json {
        return print_stdout(&crate::report::json::to_string(&Report {
            schema: 1,
            ok,
            checks,
        }));
    }
    let mut out = String::new();
    for c in checks {
        let mark = match (c.ok, c.required) {
            (true, _) => ctx.term.green("✓"),
            (false, true) => ctx.term.red("✗"),
            (false, false) => ctx.term.yellow("!"),
        };
        out.push_str(&format!("{mark} {:<15} {}", c.name, c.detail));
        if let Some(h) = &c.hint {
            out.push_str(&format!(" {}", ctx.term.dim(&format!("(hint: {h})"))));
        }
        out.push('\n');
    }
    print_stdout(&out)
}
