//! The seed's pair: 90% of reads, 10% of writes.

#[molotov::scenarios]
mod read_write {
    use molotov::prelude::*;
    use serde_json::json;
    use std::sync::OnceLock;

    fn api() -> &'static str {
        static API: OnceLock<String> = OnceLock::new();
        API.get_or_init(|| molotov::env("SERVER_URL").unwrap_or_default() + "/")
    }

    #[scenario(weight = 90)]
    fn my_scenario_one(s: &Session) -> Result {
        let res = s.get(api())?.expect_status(200)?;
        ensure!(
            res.json()?["result"] == "OK",
            "unexpected body: {}",
            res.text()
        );
        Ok(())
    }

    #[scenario(weight = 10)]
    fn scenario_two(s: &Session) -> Result {
        s.post_json(api(), &json!({"OK": 1}))?.expect_status(200)?;
        Ok(())
    }
}
