#[runtime::main(backend = "kqueue")]
fn main(argc: i32) {
    let _ = argc;
}
