#[runtime::test]
async fn reads_back(size: usize) {
    let _ = size;
}

fn main() {}
