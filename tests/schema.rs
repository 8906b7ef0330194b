//! Checked-in contracts: `schema.graphql` is the schema the code serves, and the example settings file
//! parses and shows the defaults.

#[test]
fn checked_in_schema_matches_the_code() {
    let expected = childhub::graphql::sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    if actual != expected {
        panic!(
            "schema.graphql drifted from the code; regenerate it with `cargo run -q -- schema > schema.graphql`"
        );
    }
}

#[test]
fn the_example_settings_file_is_valid_and_shows_the_defaults() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/childhub.example.toml");
    let loaded =
        childhub::config::Settings::load(Some(std::path::Path::new(path)), &Default::default())
            .expect("the example parses");
    let defaults = childhub::config::Settings::default();
    assert_eq!(
        format!("{:?}", loaded.limits),
        format!("{:?}", defaults.limits)
    );
    assert_eq!(loaded.auth.issuer, defaults.auth.issuer);
    assert_eq!(loaded.plan.jump_threshold, defaults.plan.jump_threshold);
}
