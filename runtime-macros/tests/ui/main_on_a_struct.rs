#[runtime::main]
struct Config;

fn main() {}
