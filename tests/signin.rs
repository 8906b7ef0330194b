//! Signing in to the pages with a real OpenID Connect provider (the certified `oidc-provider` package,
//! started as a process) and the hub as its own process, clicked through in Chromium: the workspace for
//! the person's roles, silent renewal, sign-out at both ends, and every refusal the red team asks for —
//! forged state, replayed code, another audience, no department, an ended session, CSRF, open
//! redirects, session fixation, tokens in URLs or logs.

use crate::support::browser;
use crate::support::processes::{Hub, Provider, free_port, start_hub, start_provider};
use serde_json::json;

/// A provider and a hub signing in with it; `provider` takes extra provider options, `hub` extra settings.
async fn city(provider: serde_json::Value, hub: &[(&str, String)]) -> (Provider, Hub) {
    let port = free_port();
    let base = format!("http://localhost:{port}");
    let mut options = json!({
        "redirect": format!("{base}/signin/callback"),
        "postLogout": format!("{base}/signed-out"),
    });
    if let (Some(o), Some(extra)) = (options.as_object_mut(), provider.as_object()) {
        o.extend(extra.clone());
    }
    let provider = start_provider(options).await;
    let mut env = vec![
        ("CHILDHUB_AUTH__ISSUER", provider.issuer.clone()),
        ("CHILDHUB_AUTH__AUDIENCE", "childhub".to_owned()),
        ("CHILDHUB_SIGNIN__CLIENT_ID", "childhub".to_owned()),
        (
            "CHILDHUB_SIGNIN__REDIRECT_URL",
            format!("{base}/signin/callback"),
        ),
    ];
    env.extend(hub.iter().map(|(k, v)| (*k, v.clone())));
    let hub = start_hub(port, &env).await;
    (provider, hub)
}

/// No URL the browser went to, and no line of the hub's log, carries a token (a JWT begins `eyJ`).
fn assert_no_tokens(visited: &[String], hub: &Hub) {
    for url in visited {
        assert!(
            !url.contains("eyJ") && !url.contains("access_token"),
            "a token in a URL: {url}"
        );
    }
    let log = hub.log_text();
    assert!(!log.contains("eyJ"), "a token in the hub's log:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "needs Chromium and tests/browser's packages (Debian's chromium, `npm ci --prefix tests/browser`, as .ci/run does)"
)]
async fn a_coordinator_signs_in_works_is_renewed_and_signs_out() {
    // Access tokens live 20 s and are renewed when less than 15 s is left: after the scenario's 8 s
    // pause every request needs a renewed token.
    let (provider, hub) = city(
        json!({ "accessTtl": 20 }),
        &[("CHILDHUB_SIGNIN__RENEW_BEFORE", "15s".to_owned())],
    )
    .await;
    let run = browser::run(
        "signin",
        json!({ "hub": hub.url, "user": "stats-coordinator", "room": "/review", "waitForRenewal": 8000 }),
    )
    .await;
    let r = &run.result;
    assert!(
        r["loginPage"]
            .as_str()
            .unwrap()
            .starts_with(&provider.issuer),
        "{r}"
    );
    assert_eq!(
        r["landed"],
        format!("{}/review", hub.url),
        "back in the bookmarked room"
    );
    assert!(r["name"].as_str().unwrap().contains("李强"), "{r}");
    assert!(
        r["department"].as_str().unwrap().contains("statistics"),
        "{r}"
    );
    assert!(r["roles"].as_str().unwrap().contains("approver"), "{r}");
    let nav: Vec<&str> = r["nav"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        nav.iter().any(|n| n.contains("审核")),
        "an approver's rooms: {nav:?}"
    );
    assert!(nav.iter().any(|n| n.contains("GraphiQL")), "{nav:?}");
    assert!(
        !nav.iter().any(|n| n.contains("指标目录")),
        "no admin rooms for a non-admin: {nav:?}"
    );
    let cookie = r["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "childhub")
        .expect("the session cookie");
    assert_eq!(cookie["httpOnly"], true);
    assert_eq!(cookie["sameSite"], "Lax");
    assert!(
        !r["scriptSeesCookie"]
            .as_str()
            .unwrap()
            .contains("childhub="),
        "page scripts cannot read the session"
    );
    assert!(
        r["tiles"].as_u64().unwrap() > 0,
        "the dashboard read data after the renewal"
    );
    assert_eq!(
        r["back"],
        format!("{}/review", hub.url),
        "the back button works"
    );
    assert!(
        r["providerLogoutPage"]
            .as_str()
            .unwrap()
            .starts_with(&provider.issuer),
        "{r}"
    );
    assert!(r["signedOut"].as_str().unwrap().contains("已退出"), "{r}");
    assert!(
        r["afterSignOut"]
            .as_str()
            .unwrap()
            .starts_with(&provider.issuer),
        "signed out at the provider too: {r}"
    );
    assert!(
        hub.log_text().contains("session renewed"),
        "the access token was renewed: {}",
        hub.log_text()
    );
    assert_no_tokens(&run.visited, &hub);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "needs Chromium and tests/browser's packages (Debian's chromium, `npm ci --prefix tests/browser`, as .ci/run does)"
)]
async fn sign_in_refuses_what_it_must_with_a_page_that_says_what_to_do() {
    let (_provider, hub) = city(json!({}), &[]).await;
    // A replayed code: the provider's answer opened twice.
    let replay = browser::run(
        "signin_refusals",
        json!({ "hub": hub.url, "mode": "replay", "user": "health-clerk" }),
    )
    .await
    .result;
    assert_eq!(replay["landed"], format!("{}/", hub.url), "{replay}");
    let text = replay["text"].as_str().unwrap();
    assert!(
        text.contains("already used") && text.contains("重新登录"),
        "{text}"
    );
    // A forged state.
    let forged = browser::run(
        "signin_refusals",
        json!({ "hub": hub.url, "mode": "forged" }),
    )
    .await
    .result;
    let text = forged["text"].as_str().unwrap();
    assert!(
        text.contains("state does not match") && text.contains("Start again"),
        "{text}"
    );
    // An account without a department.
    let nobody = browser::run(
        "signin_refusals",
        json!({ "hub": hub.url, "mode": "refused", "user": "no-department" }),
    )
    .await
    .result;
    let text = nobody["text"].as_str().unwrap();
    assert!(
        text.contains("账号未关联部门") && text.contains("no department"),
        "{text}"
    );
    // Session fixation: a cookie planted before sign-in is not promoted.
    let planted = "planted-by-an-attacker-0123456789";
    let fixed = browser::run(
        "signin_refusals",
        json!({ "hub": hub.url, "mode": "fixation", "user": "health-clerk", "plant": planted }),
    )
    .await
    .result;
    let cookie = fixed["cookie"]
        .as_str()
        .expect("a session cookie")
        .to_owned();
    assert_ne!(cookie, planted, "a fresh session");
    assert!(fixed["who"].as_str().unwrap().contains("王芳"), "{fixed}");

    // CSRF: the session cookie alone does not run GraphQL, sign out, or open a socket from elsewhere.
    let client = reqwest::Client::new();
    let with_cookie =
        |request: reqwest::RequestBuilder| request.header("cookie", format!("childhub={cookie}"));
    let post = with_cookie(client.post(format!("{}/graphql", hub.url)))
        .json(&json!({ "query": "{ me { department } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 403);
    let body: serde_json::Value = post.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let signout = with_cookie(client.post(format!("{}/signout", hub.url)))
        .send()
        .await
        .unwrap();
    assert_eq!(signout.status(), 403, "no sign-out without the token");
    let page = with_cookie(client.get(format!("{}/reporting", hub.url)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"childhub-csrf\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page carries its CSRF token")
        .to_owned();
    let post = with_cookie(client.post(format!("{}/graphql", hub.url)))
        .header("x-csrf-token", &csrf)
        .json(&json!({ "query": "{ me { department } }" }))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = post.json().await.unwrap();
    assert_eq!(body["data"]["me"]["department"], "health", "{body}");
    let ws = with_cookie(client.get(format!("{}/graphql", hub.url)))
        .header("origin", "https://evil.example")
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-protocol", "graphql-transport-ws")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ws.status(),
        403,
        "a socket from another site with the cookie is refused"
    );

    // Open redirects: return_to must be a path on the hub.
    for evil in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let answer = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(format!("{}/signin", hub.url))
            .query(&[("return_to", evil)])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 303, "{evil}");
    }
    let db = sea_orm::Database::connect(&hub.database_url).await.unwrap();
    use sea_orm::{ConnectionTrait, Statement};
    let targets = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT return_to FROM signin_flow",
        ))
        .await
        .unwrap();
    assert!(targets.len() >= 4);
    for row in targets {
        assert_eq!(
            row.try_get::<String>("", "return_to").unwrap(),
            "/",
            "never another site"
        );
    }

    // An ended session: the room says so and offers to sign in again.
    db.execute_unprepared("UPDATE web_session SET expires_at = '2000-01-01T00:00:00Z'")
        .await
        .unwrap();
    let ended = browser::run(
        "signin_refusals",
        json!({ "hub": hub.url, "mode": "room", "cookie": cookie, "room": "/reporting" }),
    )
    .await
    .result;
    let text = ended["text"].as_str().unwrap();
    assert!(
        text.contains("会话已结束") && text.contains("Sign in again"),
        "{text}"
    );
    assert_no_tokens(&[], &hub);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "needs Chromium and tests/browser's packages (Debian's chromium, `npm ci --prefix tests/browser`, as .ci/run does)"
)]
async fn a_token_for_another_audience_or_an_unreachable_provider_gets_a_clear_page() {
    // The provider issues access tokens for another application.
    let (_provider, hub) = city(json!({ "audience": "payroll" }), &[]).await;
    let refused = browser::run(
        "signin_refusals",
        json!({ "hub": hub.url, "mode": "refused", "user": "health-clerk" }),
    )
    .await
    .result;
    let text = refused["text"].as_str().unwrap();
    assert!(
        text.contains("not for this hub") && text.contains("wrong audience"),
        "{text}"
    );
    // A provider that is down.
    let port = free_port();
    let down = start_hub(
        port,
        &[
            (
                "CHILDHUB_AUTH__ISSUER",
                format!("http://127.0.0.1:{}", free_port()),
            ),
            ("CHILDHUB_SIGNIN__CLIENT_ID", "childhub".to_owned()),
        ],
    )
    .await;
    let answer = reqwest::get(format!("{}/signin", down.url)).await.unwrap();
    assert_eq!(answer.status(), 503);
    let text = answer.text().await.unwrap();
    assert!(
        text.contains("cannot be reached") && text.contains("Try again"),
        "{text}"
    );
}
