#[runtime::main]
async fn helper<T: Default>() -> T {
    T::default()
}

fn main() {
    let _: u8 = helper();
}
