//! The hub as an OpenID Connect client of the city's provider (Keycloak or any certified provider):
//! discovery, the authorization code flow with PKCE (S256) and `state`/`nonce`, the code exchange,
//! renewal with the refresh token, and RP-initiated sign-out. It talks HTTP to the provider only; the
//! sessions it leads to are stored by `service::sessions` and the pages are `http::signin`'s.

use crate::config::Settings;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use secrecy::ExposeSecret;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// Where a provider publishes its configuration.
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// What can go wrong signing in, as the page shows it.
#[derive(Clone, Debug, thiserror::Error)]
pub enum SigninError {
    /// The provider could not be reached or answered nonsense (the text is for the log).
    #[error("the identity provider cannot be reached: {0}")]
    Unreachable(String),
    /// The provider refused (an invalid or reused code, a refresh token that ended).
    #[error("the identity provider refused: {0}")]
    Refused(String),
}

/// The endpoints of the provider, from its discovery document.
#[derive(Clone, Debug, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// The tokens of a code exchange or a renewal.
#[derive(Clone, Debug, Deserialize)]
pub struct TokenSet {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub id_token: Option<String>,
    /// Seconds the access token lives (the token's own `exp` is what the hub checks).
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// A sign-in under way: what the callback must match, kept by the hub (never in the page).
#[derive(Clone, Debug)]
pub struct Flow {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// 32 random bytes as base64url: `state`, `nonce`, PKCE verifiers, session and CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The PKCE S256 challenge of `verifier`.
pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// How long a discovery document is kept before it is read again.
const DISCOVERY_TTL: Duration = Duration::from_secs(300);

/// The client: the provider's configuration (cached) and the hub's registration there.
pub struct OidcClient {
    issuer: String,
    client_id: String,
    client_secret: Option<String>,
    redirect_url: String,
    scopes: Vec<String>,
    http: reqwest::Client,
    discovered: RwLock<Option<(Discovery, Instant)>>,
}

impl OidcClient {
    /// The client the settings describe, if sign-in with the provider is configured.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, SigninError> {
        let Some(client_id) = settings.signin.client_id.clone() else {
            return Ok(None);
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            // The provider's redirects are for browsers; the hub's calls must not follow them.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SigninError::Unreachable(format!("http client: {e}")))?;
        Ok(Some(OidcClient {
            issuer: settings.auth.issuer.clone(),
            client_id,
            client_secret: settings
                .signin
                .client_secret
                .as_ref()
                .map(|s| s.expose_secret().to_owned()),
            redirect_url: settings.redirect_url(),
            scopes: settings.signin.scopes.clone(),
            http,
            discovered: RwLock::new(None),
        }))
    }

    /// The hub's client id (the ID token's audience).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The provider's endpoints, read from its discovery document at most every five minutes. The
    /// document's `issuer` must be the configured one (a mix-up defence).
    pub async fn discovery(&self) -> Result<Discovery, SigninError> {
        if let Some((found, at)) = self.discovered.read().await.as_ref()
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(found.clone());
        }
        let found: Discovery = self
            .http
            .get(discovery_url(&self.issuer))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| SigninError::Unreachable(e.to_string()))?
            .json()
            .await
            .map_err(|e| SigninError::Unreachable(format!("discovery document: {e}")))?;
        if found.issuer.trim_end_matches('/') != self.issuer.trim_end_matches('/') {
            return Err(SigninError::Unreachable(format!(
                "the discovery document names issuer {:?}, not the configured {:?}",
                found.issuer, self.issuer
            )));
        }
        *self.discovered.write().await = Some((found.clone(), Instant::now()));
        Ok(found)
    }

    /// A new sign-in: its secrets, and where to send the browser.
    pub async fn begin(&self) -> Result<(Flow, String), SigninError> {
        let discovery = self.discovery().await?;
        let flow = Flow {
            state: random_token(),
            nonce: random_token(),
            verifier: random_token(),
        };
        let mut url = reqwest::Url::parse(&discovery.authorization_endpoint)
            .map_err(|e| SigninError::Unreachable(format!("authorization endpoint: {e}")))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_url)
            .append_pair("scope", &self.scopes.join(" "))
            .append_pair("state", &flow.state)
            .append_pair("nonce", &flow.nonce)
            .append_pair("code_challenge", &challenge_of(&flow.verifier))
            .append_pair("code_challenge_method", "S256");
        Ok((flow, url.into()))
    }

    /// Exchanges the callback's code (with the flow's PKCE verifier) for tokens.
    pub async fn exchange(&self, code: &str, verifier: &str) -> Result<TokenSet, SigninError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.redirect_url),
            ("code_verifier", verifier),
        ])
        .await
    }

    /// Renews the tokens with a refresh token.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenSet, SigninError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenSet, SigninError> {
        let discovery = self.discovery().await?;
        let mut request = self.http.post(&discovery.token_endpoint);
        let mut form: Vec<(&str, &str)> = form.to_vec();
        match &self.client_secret {
            // A confidential client authenticates with HTTP Basic (client_secret_basic).
            Some(secret) => request = request.basic_auth(&self.client_id, Some(secret)),
            None => form.push(("client_id", &self.client_id)),
        }
        let response = request
            .form(&form)
            .send()
            .await
            .map_err(|e| SigninError::Unreachable(e.to_string()))?;
        let status = response.status();
        if status.is_client_error() {
            // OAuth's error answer: `{"error": "invalid_grant", "error_description": …}`.
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            let error = body["error"].as_str().unwrap_or("refused");
            return Err(SigninError::Refused(error.to_owned()));
        }
        if !status.is_success() {
            return Err(SigninError::Unreachable(format!(
                "token endpoint answered {status}"
            )));
        }
        response
            .json()
            .await
            .map_err(|e| SigninError::Unreachable(format!("token answer: {e}")))
    }

    /// Where to send the browser to end the provider's session too, if the provider says where. The
    /// client is named by `client_id` (RP-Initiated Logout 1.0), not by an `id_token_hint`: no token
    /// ever travels in a URL.
    pub async fn end_session_url(&self, post_logout_redirect: &str) -> Option<String> {
        let discovery = self.discovery().await.ok()?;
        let mut url = reqwest::Url::parse(discovery.end_session_endpoint.as_deref()?).ok()?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("post_logout_redirect_uri", post_logout_redirect);
        Some(url.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn random_tokens_are_long_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
    }
}
