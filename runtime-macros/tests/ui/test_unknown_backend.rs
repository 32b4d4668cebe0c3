#[runtime::test(backend = "io-uring")]
async fn reads_back() {}

fn main() {}
