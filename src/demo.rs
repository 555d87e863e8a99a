//! placeholder
pub async fn run() -> Result<(), String> {
    Err("demo not wired yet".into())
}
