//! Scenarios for the end-to-end tests: well-behaved, failing, broken and hostile ones.
//! Every weight is 0: a test names the scenario it runs with `-s`.

#[molotov::scenarios]
mod suite {
    use molotov::prelude::*;

    #[global_setup]
    fn global_setup(_args: &RunArgs) -> Result {
        molotov::set_var("global-setup", "done");
        Ok(())
    }

    #[setup]
    fn setup(worker_id: u32, _args: &RunArgs) -> Result<Option<SessionOptions>> {
        Ok(Some(SessionOptions {
            headers: vec![("x-molotov-worker".into(), worker_id.to_string())],
            timeout_ms: None,
            max_redirects: None,
        }))
    }

    #[events(scenario_failure)]
    fn on_event(event: &Event) {
        if let Event::ScenarioFailure(_) = event {
            molotov::incr("failures-seen", 1);
        }
    }

    #[scenario(weight = 0)]
    fn ok(s: &Session) -> Result {
        s.get("/")?.expect_status(200)?;
        Ok(())
    }

    /// Waits 0.2 s after each run.
    #[scenario(weight = 0, delay = 0.2)]
    fn paced(s: &Session) -> Result {
        s.get("/")?.expect_status(200)?;
        Ok(())
    }

    #[scenario(weight = 0)]
    fn server_error(s: &Session) -> Result {
        s.get("/status/500")?.expect_status(200)?;
        Ok(())
    }

    #[scenario(weight = 0)]
    fn trap(_s: &Session) -> Result {
        panic!("boom");
    }

    #[scenario(weight = 0)]
    fn spin(_s: &Session) -> Result {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    #[scenario(weight = 0)]
    fn hog(_s: &Session) -> Result {
        let mut blocks: Vec<Vec<u8>> = Vec::new();
        loop {
            blocks.push(std::hint::black_box(vec![1u8; 1 << 20]));
        }
    }

    #[scenario(weight = 0)]
    fn slow(s: &Session) -> Result {
        s.get("/slow?ms=200")?.expect_status(200)?;
        molotov::sleep(100);
        Ok(())
    }

    #[scenario(weight = 0)]
    fn protocol(s: &Session) -> Result {
        let expected = molotov::env("EXPECTED").unwrap_or_default();
        let seen = s.get("/version")?.expect_status(200)?.json()?;
        ensure!(
            seen["version"] == expected.as_str(),
            "expected {expected}, got {seen}"
        );
        Ok(())
    }

    /// A service with room for `CAPACITY` workers: the others get 503s.
    #[scenario(weight = 0)]
    fn capacity(s: &Session) -> Result {
        let capacity: u32 = molotov::env("CAPACITY")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let path = if molotov::worker_id() < capacity {
            "/"
        } else {
            "/status/503"
        };
        // Paced before the check, so failing runs go no faster than the others.
        molotov::sleep(10);
        s.get(path)?.expect_status(200)?;
        Ok(())
    }

    /// Fails in the first process of `-p`, succeeds slowly in the others.
    #[scenario(weight = 0)]
    fn first_process_fails(s: &Session) -> Result {
        ensure!(
            molotov::env("MOLOTOV_PROCESS").as_deref() != Some("0"),
            "failing in process 0"
        );
        molotov::sleep(50);
        s.get("/")?.expect_status(200)?;
        Ok(())
    }

    /// Bodies on both sides of the size that comes with the status.
    #[scenario(weight = 0)]
    fn echo_bodies(s: &Session) -> Result {
        for size in [0, 64 * 1024, 64 * 1024 + 1, 300 * 1024] {
            let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let echoed = s.post("/echo", &body)?.expect_status(200)?;
            ensure!(echoed.bytes() == body, "{size} bytes: echo differs");
        }
        Ok(())
    }

    /// Has 2 MiB echoed back.
    #[scenario(weight = 0)]
    fn large_body(s: &Session) -> Result {
        s.post("/echo", vec![b'x'; 2 << 20])?;
        Ok(())
    }

    /// Sets headers the session must refuse.
    #[scenario(weight = 0)]
    fn bad_headers(s: &Session) -> Result {
        ensure!(s.set_header("x-bad", "a\r\nb").is_err(), "CR LF accepted");
        s.set_header("Content-Length", "0")?;
        Ok(())
    }

    /// Shares a new 1 MiB variable at every run.
    #[scenario(weight = 0)]
    fn fill_vars(_s: &Session) -> Result {
        let key = format!("blob-{}-{}", molotov::worker_id(), molotov::step());
        molotov::set_var(&key, &"v".repeat(1 << 20));
        Ok(())
    }

    /// Writes 2 KB to stderr at every run, as `eprintln!` debugging does.
    #[scenario(weight = 0)]
    fn chatty(_s: &Session) -> Result {
        eprintln!("{}", "x".repeat(2048));
        Ok(())
    }

    /// Prints the run's shard, for the sharding tests.
    #[scenario(weight = 0)]
    fn whoami(_s: &Session) -> Result {
        let (index, count) = molotov::shard().unwrap_or_default();
        molotov::print(&format!("shard {index}/{count}"));
        Ok(())
    }

    /// Prints 50 lines a run, for `--max-output`.
    #[scenario(weight = 0)]
    fn loud(_s: &Session) -> Result {
        for line in 0..50 {
            molotov::print(&format!("loud {line}"));
        }
        Ok(())
    }

    /// Keeps every response it gets (1 MiB bodies): the host holds them.
    #[scenario(weight = 0)]
    fn hoard(s: &Session) -> Result {
        let body = vec![b'x'; 1 << 20];
        let mut kept = Vec::new();
        for _ in 0..200 {
            kept.push(s.post("/echo", &body)?);
        }
        Ok(())
    }

    /// Opens TCP sockets through WASI and keeps them, as a guest exhausting
    /// the host's file descriptors would: the host's WASI makes none.
    #[scenario(weight = 0)]
    fn wasi_sockets(_s: &Session) -> Result {
        use wasip2::sockets::network::IpAddressFamily;
        use wasip2::sockets::tcp_create_socket::create_tcp_socket;
        let mut kept = Vec::new();
        for _ in 0..100_000 {
            match create_tcp_socket(IpAddressFamily::Ipv4) {
                Ok(socket) => kept.push(socket),
                Err(error) => molotov::bail!("socket {} refused: {error:?}", kept.len()),
            }
        }
        Ok(())
    }

    /// A path and a custom metric per step, as ids in paths make them.
    #[scenario(weight = 0)]
    fn many_names(s: &Session) -> Result {
        let step = molotov::step();
        s.get(&format!("/items/{step}"))?;
        molotov::incr(&format!("seen-{step}"), 1);
        Ok(())
    }

    /// Requests each URL of `PROBES` (space-separated), as a scenario
    /// looking for what it can reach would, and prints what came back.
    #[scenario(weight = 0)]
    fn probe(s: &Session) -> Result {
        for url in molotov::env("PROBES")
            .unwrap_or_default()
            .split_whitespace()
        {
            match s.get(url) {
                Ok(res) => {
                    molotov::print(&format!("PROBE {url} -> {} {}", res.status(), res.text()))
                }
                Err(error) => molotov::print(&format!("PROBE {url} -> error {error}")),
            }
        }
        Ok(())
    }

    #[scenario(weight = 0)]
    fn elsewhere(s: &Session) -> Result {
        s.get("http://127.0.0.2:9/")?;
        Ok(())
    }

    #[scenario(weight = 0)]
    fn session_state(s: &Session) -> Result {
        ensure!(
            molotov::get_var("global-setup").as_deref() == Some("done"),
            "global-setup did not run"
        );
        ensure!(
            molotov::env("EXPECTED").as_deref() == Some("yes"),
            "--env EXPECTED=yes not seen"
        );
        s.get("/cookies/set?flavour=oatmeal")?.expect_status(200)?;
        let cookies = s.get("/cookies")?.json()?;
        ensure!(
            cookies["flavour"] == "oatmeal",
            "cookie not kept: {cookies}"
        );
        let headers = s.get("/headers")?.json()?;
        let worker = molotov::worker_id().to_string();
        ensure!(
            headers["x-molotov-worker"] == worker.as_str(),
            "setup header missing: {headers}"
        );
        let host = headers["host"].as_str().unwrap_or_default();
        ensure!(host.starts_with("127.0.0.1:"), "no Host header: {headers}");
        let redirected = s.get("/redirect?to=/echo")?;
        ensure!(
            redirected.url().ends_with("/echo"),
            "redirect not followed: {}",
            redirected.url()
        );
        molotov::incr("session-checks", 1);
        Ok(())
    }

    /// For shared instances: the worker keeps its cookie jar, id and step
    /// across awaits among the other workers' runs.
    #[scenario(weight = 0)]
    async fn async_own_cookie(s: &AsyncSession) -> Result {
        let (me, step) = (molotov::worker_id(), molotov::step());
        if step == 1 {
            let set = format!("/cookies/set?worker={me}");
            s.get(&set).await?.expect_status(200)?;
        }
        molotov::sleep_async(2).await;
        let cookies = s.get("/cookies").await?.json()?;
        let mine = me.to_string();
        ensure!(
            cookies["worker"] == mine.as_str(),
            "worker {me} was sent {cookies}"
        );
        let (now, now_step) = (molotov::worker_id(), molotov::step());
        ensure!(
            (now, now_step) == (me, step),
            "worker {me} at step {step} became {now} at {now_step}"
        );
        molotov::incr(&format!("runs.{me}"), 1);
        molotov::incr(&format!("steps.{me}"), step as i64);
        Ok(())
    }

    /// Awaits a future that nothing will wake.
    #[scenario(weight = 0)]
    async fn async_awaits_nothing(_s: &AsyncSession) -> Result {
        std::future::pending::<()>().await;
        Ok(())
    }
}
