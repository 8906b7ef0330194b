//! Checked-in contracts: `schema.graphql` is the schema the code serves, the default settings are the
//! documented ones (an insta snapshot, so a change shows as a diff), and the example settings file
//! parses and shows the defaults, and every element of the schema says what it is.

#[test]
fn checked_in_schema_matches_the_code() {
    let expected = childhub::graphql::sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    if actual != expected {
        // A readable diff first, then how to fix it.
        similar_asserts(&actual, &expected);
        panic!(
            "schema.graphql drifted from the code; regenerate it with `cargo run -q -- schema > schema.graphql`"
        );
    }
}

/// Prints the lines that differ between the checked-in and the generated schema.
fn similar_asserts(actual: &str, expected: &str) {
    let old: std::collections::BTreeSet<&str> = actual.lines().collect();
    let new: std::collections::BTreeSet<&str> = expected.lines().collect();
    for line in old.difference(&new) {
        eprintln!("- {line}");
    }
    for line in new.difference(&old) {
        eprintln!("+ {line}");
    }
}

/// What async-graphql generates and the code cannot describe: the spec's `ID` scalar and the
/// federation entry points, whose meaning the Apollo Federation spec gives.
const GENERATED: &[&str] = &[
    "type ID",
    "type _Entity",
    "type _Service",
    "field Query._service",
    "field Query._entities",
    "argument Query._entities(representations)",
    "field _Service.sdl",
];

#[tokio::test]
async fn every_type_field_argument_and_enum_value_has_a_description() {
    let json: serde_json::Value =
        serde_json::from_str(&childhub::graphql::introspection_json().await).unwrap();
    let types = json["data"]["__schema"]["types"]
        .as_array()
        .expect("introspection answered");
    let described = |value: &serde_json::Value| {
        value["description"]
            .as_str()
            .is_some_and(|text| text.trim().len() > 3)
    };
    let mut missing = Vec::new();
    let mut walked = 0;
    let mut check = |what: String, value: &serde_json::Value| {
        walked += 1;
        if !described(value) && !GENERATED.contains(&what.as_str()) {
            missing.push(what);
        }
    };
    for ty in types {
        let name = ty["name"].as_str().unwrap();
        if name.starts_with("__") {
            continue; // introspection's own types
        }
        check(format!("type {name}"), ty);
        for field in ty["fields"].as_array().into_iter().flatten() {
            let field_name = field["name"].as_str().unwrap();
            check(format!("field {name}.{field_name}"), field);
            for arg in field["args"].as_array().into_iter().flatten() {
                check(
                    format!(
                        "argument {name}.{field_name}({})",
                        arg["name"].as_str().unwrap()
                    ),
                    arg,
                );
            }
        }
        for input in ty["inputFields"].as_array().into_iter().flatten() {
            check(
                format!("input field {name}.{}", input["name"].as_str().unwrap()),
                input,
            );
        }
        for value in ty["enumValues"].as_array().into_iter().flatten() {
            check(
                format!("enum value {name}.{}", value["name"].as_str().unwrap()),
                value,
            );
        }
    }
    assert!(
        walked > 500,
        "the walk saw only {walked} elements; is introspection answering?"
    );
    assert!(
        missing.is_empty(),
        "{} schema elements have no description (a `///` doc comment or `#[graphql(desc = …)]`):\n{}",
        missing.len(),
        missing.join("\n")
    );
}

/// Entity types are what other subgraphs reference: each says how (its `@key`), and its names may be
/// resolved by another subgraph too.
#[tokio::test]
async fn entity_types_say_how_another_subgraph_references_them() {
    let sdl = childhub::graphql::sdl();
    let json: serde_json::Value =
        serde_json::from_str(&childhub::graphql::introspection_json().await).unwrap();
    let types = json["data"]["__schema"]["types"].as_array().unwrap();
    let entities: Vec<&str> = types
        .iter()
        .filter_map(|ty| ty["name"].as_str())
        .filter(|name| sdl.contains(&format!("type {name} @key")))
        .collect();
    assert!(
        entities.len() >= 3,
        "expected the catalogue's entities, found {entities:?}"
    );
    for ty in types
        .iter()
        .filter(|ty| entities.contains(&ty["name"].as_str().unwrap()))
    {
        let text = ty["description"].as_str().unwrap_or_default();
        assert!(
            text.contains("@key"),
            "entity {} does not say how to reference it (its @key) in: {text:?}",
            ty["name"]
        );
    }
    // Names are what another subgraph (a city-wide directory, say) may resolve too: shareable.
    for entity in &entities {
        let body = sdl.split(&format!("type {entity} @key")).nth(1).unwrap();
        let body = &body[..body.find("\n}").unwrap()];
        for name in ["nameZh: String! @shareable", "nameEn: String! @shareable"] {
            assert!(body.contains(name), "{entity} lacks `{name}`");
        }
    }
}

#[test]
fn the_default_settings_are_the_documented_ones() {
    // Secrets print as [REDACTED]: the snapshot also proves that Debug never shows one.
    let mut settings = childhub::config::Settings::default();
    settings.auth.hs256_secret = Some("a secret that must never be printed!!".to_owned().into());
    let shown = format!("{settings:#?}");
    assert!(!shown.contains("never be printed"));
    insta::assert_snapshot!("default_settings", shown);
}

#[test]
fn the_example_settings_file_is_valid_and_shows_the_defaults() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/childhub.example.toml");
    let loaded =
        childhub::config::Settings::load(Some(std::path::Path::new(path)), &Default::default())
            .expect("the example parses");
    let defaults = childhub::config::Settings::default();
    assert_eq!(format!("{loaded:?}"), format!("{defaults:?}"));
}

#[test]
fn every_key_can_come_from_the_environment() {
    // Runs in a child process, so the variables do not leak into the other tests.
    if std::env::var("CHILDHUB_SETTINGS_PROBE").is_err() {
        let status = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "schema::every_key_can_come_from_the_environment",
                "--exact",
                "--nocapture",
            ])
            .env("CHILDHUB_SETTINGS_PROBE", "1")
            .env("CHILDHUB_LIMITS__MAX_PAGE_SIZE", "250")
            .env("CHILDHUB_LIMITS__REQUEST_TIMEOUT", "5s")
            .env("CHILDHUB_PLAN__LAST_YEAR", "2031")
            .env(
                "CHILDHUB_JWT_SECRET",
                "short-name-secret-0123456789abcdef0123",
            )
            .env(
                "CHILDHUB_CORS_ORIGINS",
                "https://a.example, https://b.example",
            )
            .env(
                "CHILDHUB_DATABASE__REPLICA_URLS",
                "postgres://u:p@standby-1:5432/childhub, postgres://u:p@standby-2:5432/childhub",
            )
            .env("CHILDHUB_DATABASE__MAX_REPLICA_LAG", "2s")
            .status()
            .expect("child test");
        assert!(status.success());
        return;
    }
    use secrecy::ExposeSecret;
    let settings =
        childhub::config::Settings::load(None, &Default::default()).expect("settings load");
    assert_eq!(settings.limits.max_page_size, 250);
    assert_eq!(
        settings.limits.request_timeout,
        std::time::Duration::from_secs(5)
    );
    assert_eq!(settings.plan.last_year, 2031);
    assert_eq!(
        settings
            .auth
            .hs256_secret
            .as_ref()
            .map(|s| s.expose_secret()),
        Some("short-name-secret-0123456789abcdef0123")
    );
    assert_eq!(settings.http.cors_origins.len(), 2);
    let replicas: Vec<&str> = settings
        .database
        .replica_urls
        .iter()
        .map(|u| u.expose_secret())
        .collect();
    assert_eq!(
        replicas,
        [
            "postgres://u:p@standby-1:5432/childhub",
            "postgres://u:p@standby-2:5432/childhub"
        ]
    );
    assert_eq!(
        settings.database.max_replica_lag,
        std::time::Duration::from_secs(2)
    );
    let bad = std::env::var("CHILDHUB_PROBE_BAD").is_ok();
    assert!(!bad);
}

#[test]
fn a_bad_setting_names_the_key_and_where_it_came_from() {
    if std::env::var("CHILDHUB_SETTINGS_PROBE_BAD").is_err() {
        let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "schema::a_bad_setting_names_the_key_and_where_it_came_from",
                "--exact",
                "--nocapture",
            ])
            .env("CHILDHUB_SETTINGS_PROBE_BAD", "1")
            .env("CHILDHUB_LIMITS__MAX_PAGE_SIZE", "lots")
            .output()
            .expect("child test");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        return;
    }
    let err = childhub::config::Settings::load(None, &Default::default())
        .expect_err("refused")
        .to_string();
    assert!(err.contains("max_page_size"), "{err}");
    assert!(
        err.to_ascii_uppercase()
            .contains("CHILDHUB_LIMITS__MAX_PAGE_SIZE"),
        "{err}"
    );
}
