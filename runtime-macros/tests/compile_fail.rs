//! Checks that each misuse of the attributes fails to compile with a clear message
//! pointing at the right token. Every `tests/ui/*.rs` file is one misuse; the
//! expected compiler output sits next to it in a `.stderr` file.
//!
//! After an intended change of a message, regenerate the expected output with
//! `TRYBUILD=overwrite cargo test -p runtime-macros --test compile_fail` and review
//! the diff.

#[test]
fn misuse_is_reported_at_the_right_place() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
