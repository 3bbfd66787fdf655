//! Load-test scenarios for molotov. Build with
//! `cargo build --release --target wasm32-wasip2`, then run a test of
//! `molotov.json`: `molotov run --config molotov.json smoke`.

#[molotov::scenarios]
mod scenarios {
    use molotov::prelude::*;
    use serde_json::json;

    /// Once per worker, before its first run: headers for every request.
    #[setup]
    fn setup(worker_id: u32, _args: &RunArgs) -> Result<Option<SessionOptions>> {
        Ok(Some(SessionOptions {
            headers: vec![("x-worker".into(), worker_id.to_string())],
            timeout_ms: None,
            max_redirects: None,
        }))
    }

    // `async fn` scenarios: one instance runs many workers, each `await`
    // letting the others go on while the host performs the request.

    /// 90% of the runs: read, and check the answer.
    #[scenario(weight = 90)]
    async fn read(s: &AsyncSession) -> Result {
        let res = s.get("/").await?.expect_status(200)?;
        ensure!(res.json()?["result"] == "OK", "unexpected body: {}", res.text());
        Ok(())
    }

    /// 10% of the runs: write.
    #[scenario(weight = 10)]
    async fn write(s: &AsyncSession) -> Result {
        s.post_json("/echo", &json!({"OK": 1})).await?.expect_status(200)?;
        Ok(())
    }
}
