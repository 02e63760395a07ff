//! Acting as a GitHub App: a JWT signed with the App's private key, the App's installation
//! on the repository (`GET /repos/{owner}/{repo}/installation`), and installation tokens
//! minted from it (`POST /app/installations/{id}/access_tokens`). octocrab does the JWT and
//! the token exchange, and re-mints a token that has less than 30 seconds left; everything
//! else stays on our own client (`client.rs` says why).
//!
//! The key comes from `SELFHEAL_GITHUB_APP_PRIVATE_KEY` (the PEM itself, as a CI secret) or
//! `[github] app_private_key_path`; the App id from `[github] app_id` or
//! `SELFHEAL_GITHUB_APP_ID`. The PEM never leaves this module.

use octocrab::Octocrab;
use octocrab::models::{AppId, InstallationId};
use secrecy::{ExposeSecret, SecretString};

use super::error::GithubError;
use super::repo::RepoSlug;

/// An App id and its private key (PEM, PKCS#1 or PKCS#8 RSA).
#[derive(Clone)]
pub struct AppKey {
    pub app_id: u64,
    pem: SecretString,
}

impl std::fmt::Debug for AppKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppKey")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

impl AppKey {
    pub fn new(app_id: u64, pem: SecretString) -> AppKey {
        AppKey { app_id, pem }
    }

    /// The App configured in `[github]` (with the PEM from the environment, if given);
    /// `None` when no App id is set.
    pub fn from_config(
        github: &crate::config::GithubConfig,
        env_pem: Option<&SecretString>,
    ) -> Result<Option<AppKey>, GithubError> {
        if github.app_id == 0 {
            return Ok(None);
        }
        let pem = match env_pem {
            Some(pem) => pem.clone(),
            None => read_key(&github.app_private_key_path)?,
        };
        Ok(Some(AppKey::new(github.app_id, pem)))
    }
}

fn read_key(path: &str) -> Result<SecretString, GithubError> {
    if path.trim().is_empty() {
        return Err(app_error(
            "read the GitHub App's private key",
            "[github] app_id is set but no key is: set SELFHEAL_GITHUB_APP_PRIVATE_KEY or [github] app_private_key_path",
        ));
    }
    std::fs::read_to_string(path)
        .map(SecretString::from)
        .map_err(|source| GithubError::Io {
            what: "read the GitHub App's private key".into(),
            path: path.into(),
            source,
        })
}

fn app_error(what: &str, message: impl std::fmt::Display) -> GithubError {
    GithubError::App {
        what: what.to_string(),
        message: message.to_string(),
    }
}

/// The App's installation on one repository, able to mint installation tokens.
pub struct Installation {
    pub app_id: u64,
    pub id: u64,
    /// The account the App is installed on (`acme`).
    pub account: String,
    /// Permissions the installation was granted (`contents: write`, …).
    pub permissions: Vec<(String, String)>,
    crab: Octocrab,
}

impl std::fmt::Debug for Installation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installation")
            .field("app_id", &self.app_id)
            .field("id", &self.id)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl Installation {
    /// Finds the App's installation on `repo` through the API at `api_url`.
    pub async fn find(
        api_url: &str,
        key: &AppKey,
        repo: &RepoSlug,
    ) -> Result<Installation, GithubError> {
        let what = format!("find the GitHub App's installation on {repo}");
        let encoding = octocrab::auth::EncodingKey::from_rsa_pem(
            key.pem.expose_secret().as_bytes(),
        )
        .map_err(|e| {
            app_error(
                &what,
                format!("the private key is not an RSA PEM key ({e})"),
            )
        })?;
        let app = Octocrab::builder()
            .base_uri(api_url)
            .map_err(|e| app_error(&what, e))?
            .app(AppId(key.app_id), encoding)
            .build()
            .map_err(|e| app_error(&what, e))?;
        // Read as JSON: octocrab's `Installation` model has no `pull_requests` permission.
        let route = format!("/repos/{}/{}/installation", repo.owner, repo.name);
        let found: serde_json::Value = app
            .get(route, None::<&()>)
            .await
            .map_err(|e| app_error(&what, octocrab_message(&e)))?;
        let id = found["id"]
            .as_u64()
            .ok_or_else(|| app_error(&what, "the installation has no id"))?;
        let crab = app
            .installation(InstallationId(id))
            .map_err(|e| app_error(&what, e))?;
        let permissions = found["permissions"]
            .as_object()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_str()?.to_string())))
            .collect();
        let account = found["account"]["login"].as_str().unwrap_or("").to_string();
        Ok(Installation {
            app_id: key.app_id,
            id,
            account,
            permissions,
            crab,
        })
    }

    /// A valid installation token: the cached one, or a new one when it has less than 30
    /// seconds left (GitHub's last an hour).
    pub async fn token(&self) -> Result<SecretString, GithubError> {
        self.crab.installation_token().await.map_err(|e| {
            app_error(
                &format!("mint an installation token for installation {}", self.id),
                octocrab_message(&e),
            )
        })
    }

    /// The permission granted for `name` (`contents`, `pull_requests`), if any.
    pub fn permission(&self, name: &str) -> Option<&str> {
        self.permissions
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// GitHub's own message when octocrab got an error answer, else octocrab's words.
fn octocrab_message(e: &octocrab::Error) -> String {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            format!("GitHub answered {}: {}", source.status_code, source.message)
        }
        other => other.to_string(),
    }
}

/// The client `run` and `check` use: acting as the GitHub App's installation on `repo` when
/// `[github] app_id` is set, else with the token (`GH_TOKEN`, `GITHUB_TOKEN`, config).
pub async fn connect(
    github: &crate::config::GithubConfig,
    app_pem: Option<&SecretString>,
    api_url: Option<&str>,
    repo: &RepoSlug,
) -> Result<super::Client, GithubError> {
    let client = super::Client::from_config(github, api_url)?;
    let Some(key) = AppKey::from_config(github, app_pem)? else {
        return Ok(client);
    };
    let installation = Installation::find(client.base_url(), &key, repo).await?;
    Ok(client.with_credentials(super::Credentials::App(std::sync::Arc::new(installation))))
}
