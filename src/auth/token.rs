//! Bearer tokens: verifying JWTs (a shared HS256 secret, or an OIDC provider's JWKS with RS256/ES256) and
//! issuing development tokens. Algorithms are pinned per key source; `exp`, `nbf`, `iss` and `aud` are
//! always checked with a small leeway; ID tokens are refused.

use crate::config::{AuthSettings, MIN_SECRET_LEN};
use crate::error::{AppError, AppResult};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// The claims childhub reads from an access token.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Claims {
    pub sub: String,
    /// Department code, e.g. `health`.
    pub dept: String,
    /// Any of `viewer`, `submitter`, `approver`, `admin`.
    #[serde(default)]
    pub roles: Vec<String>,
    pub exp: u64,
    pub iss: String,
    pub aud: Audience,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// Keycloak marks its token types here (`Bearer` for access tokens, `ID` for ID tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// Only ID tokens carry these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
}

/// What a verified access token says about its holder, read with the configured claim names
/// (`auth.department_claim`, `auth.roles_claim`).
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    pub sub: String,
    /// The department code; `None` when the token carries none (the directory gave the user none).
    pub department: Option<String>,
    pub roles: Vec<String>,
    pub exp: u64,
}

/// `aud` may be one string or a list.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

fn refused(reason: &str) -> AppError {
    AppError::Unauthenticated(format!("invalid bearer token: {reason}"))
}

/// Where verification keys come from.
enum Keys {
    /// A shared HS256 secret.
    Shared(DecodingKey),
    /// An OIDC provider's JSON Web Key Set, cached and refetched on an unknown `kid`.
    Jwks(JwksCache),
}

/// Verifies bearer tokens according to the settings.
pub struct Verifier {
    keys: Keys,
    issuer: String,
    audience: String,
    leeway: u64,
    department_claim: String,
    roles_claim: String,
}

/// Where a provider's key set is: a configured URL, or the `jwks_uri` its discovery document names.
#[derive(Clone, Debug)]
pub enum JwksSource {
    Url(String),
    /// The issuer, whose `/.well-known/openid-configuration` names the key set.
    Discover(String),
}

/// The claim at a dotted `path` of `claims` (`realm_access.roles`).
fn claim_at<'a>(claims: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.')
        .try_fold(claims, |value, key| value.get(key))
}

impl Verifier {
    /// A verifier for the configured key source. `secret` is the HS256 secret to use when no JWKS URL is
    /// set (from the settings or the development secret file).
    /// `discover_keys`: take the provider's keys from its discovery document when no `jwks_url` is set
    /// (sign-in with the provider is configured).
    pub fn new(
        settings: &AuthSettings,
        secret: Option<&str>,
        discover_keys: bool,
    ) -> AppResult<Self> {
        let keys = match (&settings.jwks_url, secret) {
            (Some(url), _) => Keys::Jwks(JwksCache::new(
                JwksSource::Url(url.clone()),
                settings.jwks_refetch_interval,
            )?),
            (None, _) if discover_keys => Keys::Jwks(JwksCache::new(
                JwksSource::Discover(settings.issuer.clone()),
                settings.jwks_refetch_interval,
            )?),
            (None, Some(secret)) => {
                check_secret(secret)?;
                Keys::Shared(
                    DecodingKey::from_secret(secret.as_bytes())
                        .map_err(|e| AppError::Internal(format!("HS256 secret unusable: {e}")))?,
                )
            }
            (None, None) => {
                return Err(AppError::Internal(
                    "no token verification configured: set auth.hs256_secret or auth.jwks_url"
                        .into(),
                ));
            }
        };
        Ok(Verifier {
            keys,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            leeway: settings.leeway.as_secs(),
            department_claim: settings.department_claim.clone(),
            roles_claim: settings.roles_claim.clone(),
        })
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut v = Validation::new(algorithm);
        v.algorithms = vec![algorithm];
        v.leeway = self.leeway;
        v.validate_exp = true;
        v.validate_nbf = true;
        v.validate_aud = true;
        v.set_issuer(&[self.issuer.as_str()]);
        v.set_audience(&[self.audience.as_str()]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v
    }

    /// The key and algorithm a token's header asks for, from this verifier's key source.
    async fn key_for(&self, header: &Header) -> AppResult<(DecodingKey, Algorithm)> {
        match &self.keys {
            Keys::Shared(key) => {
                if header.alg != Algorithm::HS256 {
                    return Err(refused("algorithm not accepted"));
                }
                Ok((key.clone(), Algorithm::HS256))
            }
            Keys::Jwks(cache) => {
                if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
                    return Err(refused("algorithm not accepted"));
                }
                let kid = header.kid.as_deref().ok_or_else(|| refused("no key id"))?;
                let (key, key_alg) = cache.key(kid).await?;
                if key_alg != header.alg {
                    return Err(refused("algorithm does not match the key"));
                }
                Ok((key, key_alg))
            }
        }
    }

    /// The claims of a JWT signed by this verifier's keys, for `issuer` and `audience`.
    async fn decode(&self, token: &str, audience: &str) -> AppResult<serde_json::Value> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| refused("malformed"))?;
        let (key, algorithm) = self.key_for(&header).await?;
        let mut validation = self.validation(algorithm);
        validation.set_audience(&[audience]);
        let data =
            jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                refused(match e.kind() {
                    ErrorKind::ExpiredSignature => "expired",
                    ErrorKind::ImmatureSignature => "not yet valid",
                    ErrorKind::InvalidIssuer => "wrong issuer",
                    ErrorKind::InvalidAudience => "wrong audience",
                    ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
                    ErrorKind::InvalidSignature => "bad signature",
                    ErrorKind::InvalidAlgorithm => "algorithm not accepted",
                    _ => "malformed",
                })
            })?;
        Ok(data.claims)
    }

    /// The claims of a valid access token; `UNAUTHENTICATED` for anything else.
    pub async fn verify(&self, token: &str) -> AppResult<Verified> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| refused("malformed"))?;
        if let Some(typ) = &header.typ
            && !typ.eq_ignore_ascii_case("JWT")
            && !typ.eq_ignore_ascii_case("at+jwt")
        {
            return Err(refused("not an access token"));
        }
        let claims = self.decode(token, &self.audience).await?;
        let text = |key: &str| claims.get(key).and_then(|v| v.as_str());
        let id_token = text("typ").is_some_and(|t| t.eq_ignore_ascii_case("ID"))
            || claims.get("nonce").is_some()
            || claims.get("at_hash").is_some();
        if id_token {
            return Err(refused("ID tokens are not accepted; send an access token"));
        }
        let roles = match claim_at(&claims, &self.roles_claim) {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect(),
            Some(serde_json::Value::String(one)) => {
                one.split_whitespace().map(str::to_owned).collect()
            }
            _ => Vec::new(),
        };
        Ok(Verified {
            sub: text("sub").unwrap_or_default().to_owned(),
            department: claim_at(&claims, &self.department_claim)
                .and_then(|v| v.as_str())
                .filter(|d| !d.is_empty())
                .map(str::to_owned),
            roles,
            exp: claims.get("exp").and_then(|v| v.as_u64()).unwrap_or(0),
        })
    }

    /// The claims of a valid ID token for `client_id` that carries `nonce` (sign-in): signature from
    /// the provider's keys, `iss`, `aud`, `exp` and the nonce this sign-in sent.
    pub async fn verify_id_token(
        &self,
        token: &str,
        client_id: &str,
        nonce: &str,
    ) -> AppResult<serde_json::Value> {
        let claims = self.decode(token, client_id).await?;
        let sent = claims.get("nonce").and_then(|v| v.as_str()).unwrap_or("");
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            sent.as_bytes(),
            nonce.as_bytes(),
        )) {
            return Err(refused("the ID token's nonce is not this sign-in's"));
        }
        Ok(claims)
    }

    /// The department claim's name, for messages.
    pub fn department_claim(&self) -> &str {
        &self.department_claim
    }
}

/// Keys of an OIDC provider, fetched with reqwest and kept until an unknown `kid` shows up.
pub struct JwksCache {
    source: JwksSource,
    client: reqwest::Client,
    min_refetch: Duration,
    state: RwLock<JwksState>,
}

#[derive(Default)]
struct JwksState {
    keys: HashMap<String, (DecodingKey, Algorithm)>,
    fetched_at: Option<Instant>,
}

impl JwksCache {
    fn new(source: JwksSource, min_refetch: Duration) -> AppResult<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| AppError::Internal(format!("http client: {e}")))?;
        Ok(JwksCache {
            source,
            client,
            min_refetch,
            state: RwLock::new(JwksState::default()),
        })
    }

    /// The key with this id, refetching the set (at most once per `min_refetch`) when it is unknown.
    async fn key(&self, kid: &str) -> AppResult<(DecodingKey, Algorithm)> {
        if let Some(found) = self.state.read().await.keys.get(kid) {
            return Ok(found.clone());
        }
        let mut state = self.state.write().await;
        if let Some(found) = state.keys.get(kid) {
            return Ok(found.clone());
        }
        let may_fetch = state
            .fetched_at
            .is_none_or(|at| at.elapsed() >= self.min_refetch);
        if may_fetch {
            state.fetched_at = Some(Instant::now());
            match self.fetch().await {
                Ok(keys) => state.keys = keys,
                Err(e) => tracing::warn!(error = %e, source = ?self.source, "JWKS fetch failed"),
            }
        }
        state
            .keys
            .get(kid)
            .cloned()
            .ok_or_else(|| refused("unknown key id"))
    }

    async fn fetch(&self) -> AppResult<HashMap<String, (DecodingKey, Algorithm)>> {
        let url = match &self.source {
            JwksSource::Url(url) => url.clone(),
            JwksSource::Discover(issuer) => {
                let discovery: serde_json::Value = self
                    .client
                    .get(crate::auth::oidc::discovery_url(issuer))
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| AppError::Upstream(format!("OIDC discovery: {e}")))?
                    .json()
                    .await
                    .map_err(|e| AppError::Upstream(format!("OIDC discovery body: {e}")))?;
                discovery["jwks_uri"]
                    .as_str()
                    .ok_or_else(|| AppError::Upstream("OIDC discovery names no jwks_uri".into()))?
                    .to_owned()
            }
        };
        let set: JwkSet = self
            .client
            .get(&url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| AppError::Upstream(format!("JWKS: {e}")))?
            .json()
            .await
            .map_err(|e| AppError::Upstream(format!("JWKS body: {e}")))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            let algorithm = match &jwk.algorithm {
                jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                _ => continue,
            };
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                keys.insert(kid, (key, algorithm));
            }
        }
        Ok(keys)
    }
}

/// Signs a development token with the shared secret.
/// The one rule for a shared secret, applied where tokens are verified and where they are signed, so
/// `childhub token` never signs with a secret `serve` would refuse.
pub fn check_secret(secret: &str) -> AppResult<()> {
    if secret.len() < MIN_SECRET_LEN {
        return Err(AppError::invalid(
            "auth.hs256_secret",
            format!("{} characters", secret.len()),
            format!("at least {MIN_SECRET_LEN} characters"),
        ));
    }
    Ok(())
}

pub fn issue_dev_token(
    settings: &AuthSettings,
    secret: &str,
    subject: &str,
    department: &str,
    roles: &[&str],
    ttl: Duration,
) -> AppResult<String> {
    check_secret(secret)?;
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: subject.to_owned(),
        dept: department.to_owned(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        exp: now + ttl.as_secs(),
        iss: settings.issuer.clone(),
        aud: Audience::One(settings.audience.clone()),
        nbf: Some(now),
        iat: Some(now),
        azp: None,
        typ: None,
        nonce: None,
        at_hash: None,
    };
    let key = EncodingKey::from_secret(secret.as_bytes())
        .map_err(|e| AppError::Internal(format!("HS256 secret unusable: {e}")))?;
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
        .map_err(|e| AppError::Internal(format!("signing a token: {e}")))
}

/// Reads a duration like `8h`, `30m`, `45s` or `2d`.
pub fn parse_ttl(text: &str) -> Option<Duration> {
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}
