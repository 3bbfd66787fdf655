//! The seed's hello world: one scenario that reads `/` and checks the answer.
//! An `async fn`: workers then share an instance (see the README).

#[molotov::scenarios]
mod hello {
    use molotov::prelude::*;
    use std::sync::OnceLock;

    /// `SERVER_URL` (from `--env`) wins, Molotov-style; otherwise the
    /// relative path resolves against `--target`.
    fn api() -> &'static str {
        static API: OnceLock<String> = OnceLock::new();
        API.get_or_init(|| molotov::env("SERVER_URL").unwrap_or_default() + "/")
    }

    #[scenario]
    async fn my_scenario_one(s: &AsyncSession) -> Result {
        let res = s.get(api()).await?.expect_status(200)?;
        ensure!(
            res.json()?["result"] == "OK",
            "unexpected body: {}",
            res.text()
        );
        Ok(())
    }
}
