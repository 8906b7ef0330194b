//! The JWT suite: only valid access tokens get in; everything else is `UNAUTHENTICATED` (HTTP 401).

use crate::on_both_backends;
use crate::support::{Backend, SECRET, TestApp, spawn_app_with};
use axum::routing::get;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const ME: &str = "{ me { authenticated department roles } }";

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims() -> Value {
    json!({ "sub": "tester", "dept": "health", "roles": ["viewer"], "iss": "childhub", "aud": "childhub",
            "exp": now() + 600, "nbf": now() - 10 })
}

fn with(mut base: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().expect("object") {
        if v.is_null() {
            base.as_object_mut().expect("object").remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base
}

fn hs256(claims: &Value) -> String {
    let key = EncodingKey::from_secret(SECRET.as_bytes()).expect("key");
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).expect("sign")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn rs256(claims: &Value, kid: &str) -> String {
    let key = EncodingKey::from_rsa_pem(&fixture("rsa-private.pem")).expect("rsa key");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

fn es256(claims: &Value, kid: &str) -> String {
    let key = EncodingKey::from_ec_pem(&fixture("ec-private.pem")).expect("ec key");
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

fn b64(value: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

async fn expect_refused(app: &TestApp, token: &str, case: &str) {
    let (status, body) = app.post(Some(token), &json!({ "query": ME })).await;
    assert_eq!(status, 401, "{case}: {body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{case}: {body}"
    );
    assert!(body.get("data").is_none(), "{case}: no data may come back");
}

on_both_backends!(
    hs256_tokens_are_checked_claim_by_claim,
    |app: TestApp| async move {
        let valid = hs256(&claims());
        let data = app.data(&valid, ME, json!({})).await;
        assert_eq!(data["me"]["department"], "health");
        assert_eq!(data["me"]["roles"], json!(["VIEWER"]));

        let none_alg = format!(
            "{}.{}.",
            b64(&json!({ "alg": "none", "typ": "JWT" })),
            b64(&claims())
        );
        let mut tampered = valid.clone();
        let payload_start = tampered.find('.').expect("dot") + 1;
        tampered.replace_range(
            payload_start..payload_start + 1,
            if &valid[payload_start..payload_start + 1] == "e" {
                "f"
            } else {
                "e"
            },
        );
        let other_secret = {
            let key =
                EncodingKey::from_secret(b"another-secret-that-is-32-bytes-long!!").expect("key");
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(), &key).expect("sign")
        };
        let hs384 = {
            let key = EncodingKey::from_secret(SECRET.as_bytes()).expect("key");
            jsonwebtoken::encode(&Header::new(Algorithm::HS384), &claims(), &key).expect("sign")
        };
        let cases = [
            ("alg none", none_alg),
            (
                "expired",
                hs256(&with(claims(), json!({ "exp": now() - 3600 }))),
            ),
            (
                "not yet valid",
                hs256(&with(claims(), json!({ "nbf": now() + 3600 }))),
            ),
            (
                "wrong issuer",
                hs256(&with(claims(), json!({ "iss": "someone-else" }))),
            ),
            (
                "wrong audience",
                hs256(&with(claims(), json!({ "aud": "another-api" }))),
            ),
            (
                "missing audience",
                hs256(&with(claims(), json!({ "aud": null }))),
            ),
            (
                "missing issuer",
                hs256(&with(claims(), json!({ "iss": null }))),
            ),
            (
                "missing expiry",
                hs256(&with(claims(), json!({ "exp": null }))),
            ),
            (
                "ID token (typ)",
                hs256(&with(claims(), json!({ "typ": "ID" }))),
            ),
            (
                "ID token (nonce)",
                hs256(&with(claims(), json!({ "nonce": "n-0S6_WzA2Mj" }))),
            ),
            (
                "unknown department",
                hs256(&with(claims(), json!({ "dept": "nasa" }))),
            ),
            ("tampered payload", tampered),
            ("signed with another secret", other_secret),
            ("HS384 instead of HS256", hs384),
            ("RS256 where HS256 is configured", rs256(&claims(), "rsa-1")),
            ("garbage", "not.a.jwt".to_owned()),
            ("empty", String::new()),
        ];
        for (case, token) in cases {
            expect_refused(&app, &token, case).await;
        }
        // Not a bearer scheme at all.
        let response = app
            .client
            .post(app.url("/graphql"))
            .header(
                "authorization",
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode("a:b")
                ),
            )
            .json(&json!({ "query": ME }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 401);
        // No token at all.
        let (status, body) = app.post(None, &json!({ "query": ME })).await;
        assert_eq!(status, 401);
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
);

on_both_backends!(a_small_clock_skew_is_tolerated, |app: TestApp| async move {
    // Within the 30-second leeway on either side.
    let token = hs256(&with(
        claims(),
        json!({ "exp": now() - 5, "nbf": now() + 5 }),
    ));
    let data = app.data(&token, ME, json!({})).await;
    assert_eq!(data["me"]["authenticated"], true);
});

/// An OIDC provider's JWKS endpoint, counting how often it is fetched.
async fn jwks_server() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let body: Value = serde_json::from_slice(&fixture("jwks.json")).expect("jwks json");
    let router = axum::Router::new().route(
        "/realms/city/protocol/openid-connect/certs",
        get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            async move { axum::Json(body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (
        format!("http://{addr}/realms/city/protocol/openid-connect/certs"),
        hits,
    )
}

async fn jwks_app(backend: Backend, url: String) -> TestApp {
    spawn_app_with(backend, move |s| {
        s.auth.hs256_secret = None;
        s.auth.jwks_url = Some(url);
        s.auth.issuer = "https://sso.city.example/realms/city".into();
        s.auth.audience = "childhub".into();
        s.auth.jwks_refetch_interval = std::time::Duration::from_secs(2);
    })
    .await
}

fn oidc_claims() -> Value {
    with(
        claims(),
        json!({ "iss": "https://sso.city.example/realms/city", "azp": "dashboard", "typ": "Bearer" }),
    )
}

// One test per backend (the PostgreSQL one reported as ignored, never as passed, without a server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_tokens_verify_against_the_providers_keys_on_sqlite() {
    oidc_tokens_verify_against_the_providers_keys(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CHILDHUB_TEST_POSTGRES (as .ci/run does)"
)]
async fn oidc_tokens_verify_against_the_providers_keys_on_postgres() {
    oidc_tokens_verify_against_the_providers_keys(Backend::Postgres).await;
}

async fn oidc_tokens_verify_against_the_providers_keys(backend: Backend) {
    {
        let (url, hits) = jwks_server().await;
        let app = jwks_app(backend, url).await;
        for token in [
            rs256(&oidc_claims(), "rsa-1"),
            es256(&oidc_claims(), "ec-1"),
        ] {
            let data = app.data(&token, ME, json!({})).await;
            assert_eq!(data["me"]["department"], "health", "{backend:?}");
        }
        assert_eq!(
            hits.load(Ordering::SeqCst),
            1,
            "keys are cached after the first fetch"
        );
        // Past the refetch interval, so that the first unknown key id may refetch once.
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

        let public_pem = fixture("rsa-public.pem");
        let confused = {
            // The classic HS/RS confusion: HMAC keyed with the provider's public key.
            let key = EncodingKey::from_secret(&public_pem).expect("key");
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some("rsa-1".into());
            jsonwebtoken::encode(&header, &oidc_claims(), &key).expect("sign")
        };
        let key_mismatch = {
            // An EC key id on an RSA-signed token.
            rs256(&oidc_claims(), "ec-1")
        };
        let cases = [
            ("HS256 signed with the RSA public key", confused),
            ("RS256 token claiming the EC key", key_mismatch),
            ("unknown key id", rs256(&oidc_claims(), "rotated-away")),
            ("no key id", {
                let key = EncodingKey::from_rsa_pem(&fixture("rsa-private.pem")).expect("key");
                jsonwebtoken::encode(&Header::new(Algorithm::RS256), &oidc_claims(), &key)
                    .expect("sign")
            }),
            ("wrong issuer", rs256(&claims(), "rsa-1")),
            (
                "ID token",
                rs256(
                    &with(oidc_claims(), json!({ "typ": "ID", "at_hash": "x" })),
                    "rsa-1",
                ),
            ),
            (
                "expired",
                es256(&with(oidc_claims(), json!({ "exp": now() - 3600 })), "ec-1"),
            ),
            ("HS256 with the shared test secret", hs256(&oidc_claims())),
        ];
        for (case, token) in cases {
            expect_refused(&app, &token, case).await;
        }
        // Unknown key ids trigger at most one refetch per interval, however many arrive.
        assert_eq!(
            hits.load(Ordering::SeqCst),
            2,
            "{backend:?}: one refetch for the unknown kids"
        );
    }
}
