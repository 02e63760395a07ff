//! Which environment variables the local sandbox takes away from the tests.
//!
//! The tests run model-written code on the host; the environment selfheal was started with
//! holds the GitHub token, the LLM key and, on a laptop, cloud credentials. Every variable
//! whose name looks like a secret is removed from the test command's environment, unless
//! `[validate] pass_env` names it: tokens, keys, secrets, passwords, and the credential
//! variables of AWS, Google Cloud and Azure (by prefix, as their SDKs read them).

/// Exact names that are secrets without looking like one.
const EXACT: &[&str] = &[
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CREDENTIALS",
    "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE",
    "DOCKER_AUTH_CONFIG",
    "NPM_CONFIG__AUTH",
    "KUBECONFIG",
    "SSH_AUTH_SOCK",
    "GPG_AGENT_INFO",
    "NETRC",
];

/// Prefixes of cloud credential families.
const PREFIXES: &[&str] = &["AWS_", "AZURE_", "ARM_CLIENT_", "GCP_", "GOOGLE_CLOUD_"];

/// Words that make a name a secret wherever they appear (`_`-separated parts).
const PARTS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "SECRETS",
    "KEY",
    "APIKEY",
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "CREDENTIAL",
    "CREDENTIALS",
    "AUTH",
    "PAT",
];

/// Whether an environment variable named `name` looks like it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if EXACT.contains(&upper.as_str()) || PREFIXES.iter().any(|p| upper.starts_with(p)) {
        return true;
    }
    upper.contains("PASSWORD")
        || upper
            .split(['_', '-', '.'])
            .any(|part| PARTS.contains(&part))
}

/// The names among `names` to remove from the tests' environment: secrets not in `pass`.
pub fn secrets_to_remove<'a>(
    names: impl IntoIterator<Item = &'a str>,
    pass: &[String],
) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| is_secret_name(n) && !pass.iter().any(|p| p == n))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keys_passwords_and_cloud_credentials_are_secrets() {
        for name in [
            "GH_TOKEN",
            "GITHUB_TOKEN",
            "OPENAI_API_KEY",
            "NPM_TOKEN",
            "MY_SERVICE_SECRET",
            "STRIPE_KEY",
            "DB_PASSWORD",
            "PGPASSWORD",
            "AWS_ACCESS_KEY_ID",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "AZURE_CLIENT_SECRET",
            "AZURE_TENANT_ID",
            "CARGO_REGISTRY_TOKEN",
            "SSH_AUTH_SOCK",
            "api_key",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "PATH",
            "HOME",
            "LANG",
            "CARGO_HOME",
            "PYTHONPATH",
            "KEYBOARD_LAYOUT",
            "MONKEY",
            "TERM",
            "CI",
            "SELFHEAL_STATE_DIR",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn pass_env_keeps_what_it_names() {
        let pass = vec!["NPM_TOKEN".to_string()];
        let removed = secrets_to_remove(["PATH", "GH_TOKEN", "NPM_TOKEN", "AWS_REGION"], &pass);
        assert_eq!(removed, ["GH_TOKEN", "AWS_REGION"]);
    }
}
