//! The fake's GitHub App side: the two routes a JWT authenticates
//! (`GET /repos/{owner}/{repo}/installation`, `POST /app/installations/{id}/access_tokens`),
//! the JWT checks GitHub makes (RS256 signature by the App's key, `iss` = the App id, `exp`
//! at most 10 minutes ahead and not past, `iat` present), and the installation tokens it
//! mints and later accepts until they expire.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use serde_json::Value;

use super::State;
use super::render;
use super::routes::Reply;
use super::scenario::{FakeApp, Scenario};

/// Routes that take the App's JWT instead of a token.
pub(super) fn is_app_route(path: &str) -> bool {
    path.starts_with("/app/") || (path.starts_with("/repos/") && path.ends_with("/installation"))
}

/// Whether `token` is the scenario's token or an installation token that has not expired.
pub(super) fn accepts(s: &Scenario, token: &str) -> bool {
    if token.is_empty() {
        return false;
    }
    let now = now();
    token == s.token
        || s.minted
            .iter()
            .any(|(t, expires)| t == token && *expires > now)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub(super) fn respond(
    st: &mut State,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    _body: &Bytes,
) -> Reply {
    let Some(app) = st.scenario.app.clone() else {
        st.surprises
            .push(format!("{method} {path}: no GitHub App in this scenario"));
        return Reply::error(404, "Not Found");
    };
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if let Err(why) = check_jwt(&app, bearer) {
        st.surprises
            .push(format!("{method} {path}: JWT refused: {why}"));
        return Reply::error(401, "A JSON web token could not be decoded");
    }
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["repos", o, r, "installation"]) => {
            if *o != st.scenario.owner || *r != st.scenario.repo {
                return Reply::error(404, "Not Found");
            }
            let body = render::installation(&st.scenario, &app, &st.api_url);
            Reply::op(200, "apps.get-repo-installation.json", body)
        }
        ("POST", ["app", "installations", id, "access_tokens"]) => {
            if id.parse::<u64>().ok() != Some(app.installation_id) {
                return Reply::error(404, "Not Found");
            }
            mint(st, &app)
        }
        _ => {
            st.surprises.push(format!("{method} {path}: no such route"));
            Reply::error(404, "Not Found")
        }
    }
}

fn mint(st: &mut State, app: &FakeApp) -> Reply {
    let n = st.scenario.minted.len() + 1;
    let token = format!(
        "ghs_fakeinstallation{n:04}{:016x}",
        app.app_id * 7919 + n as u64
    );
    let expires = now() + app.token_ttl_secs;
    st.scenario.minted.push((token.clone(), expires));
    let body = render::installation_token(&token, expires);
    Reply::op(201, "apps.create-installation-access-token.json", body)
}

/// GitHub's checks of an App's JWT.
fn check_jwt(app: &FakeApp, jwt: &str) -> Result<(), String> {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let key = DecodingKey::from_rsa_pem(app.public_key_pem.as_bytes())
        .map_err(|e| format!("the scenario's public key: {e}"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    // `iss` is a number in GitHub's JWTs (the App id), so it and `iat` are checked below.
    validation.set_required_spec_claims(&["exp"]);
    validation.leeway = 0;
    let data = jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .map_err(|e| format!("{e} (signature, algorithm or exp)"))?;
    let claims = data.claims;
    if !claims["iat"].is_u64() {
        return Err("iat is missing".into());
    }
    let iss = match &claims["iss"] {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => return Err(format!("iss is {other}")),
    };
    if iss != app.app_id.to_string() {
        return Err(format!("iss is {iss}, not the App id {}", app.app_id));
    }
    let exp = claims["exp"].as_u64().ok_or("exp is not a number")?;
    if exp > now() + 600 {
        return Err(format!("exp is {} s ahead; GitHub allows 600", exp - now()));
    }
    Ok(())
}
