//! The checked-in `schema.graphql` is the schema the code serves.

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
