#[runtime::test]
#[test]
async fn reads_back() {}

fn main() {}
