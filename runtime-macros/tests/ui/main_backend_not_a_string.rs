#[runtime::main(backend = epoll)]
async fn main() {}
