#[runtime::main(threads = 4)]
async fn main() -> std::io::Result<()> {
    std::fs::metadata("/")?;
    Ok(())
}
