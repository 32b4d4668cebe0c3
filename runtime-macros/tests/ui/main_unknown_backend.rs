#[runtime::main(backend = "kqueue")]
async fn main() {}
