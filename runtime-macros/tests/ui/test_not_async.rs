#[runtime::test]
fn reads_back() {}

fn main() {}
