//! The runner as a library: plans built in code, with no command line,
//! run against the built-in target on 127.0.0.1.

use std::time::Duration;

use molotov::plan::{
    HttpPlan, Limits, LoadModel, LoadPlan, OutputPlan, Part, ResultFiles, RunIdentity, RunPlan,
    StopRules,
};
use molotov::shard::Shard;

use crate::support::{Server, guests};

/// A closed-model plan of `workers` running `runs` each against `target`,
/// quiet, with the limits a careful operator would set.
fn plan(target: &str, workers: u32, runs: u64) -> RunPlan {
    let component = guests().hello.clone();
    RunPlan {
        component: molotov::planning::component(component, "hello".into()).expect("readable"),
        cache_dir: None,
        load: LoadPlan {
            workers,
            first_worker: 0,
            model: LoadModel::Closed {
                ramp_up: Duration::ZERO,
                sizing: None,
            },
            duration: None,
            max_runs: Some(runs),
            single_run: false,
            single_mode: None,
            delay: Duration::ZERO,
            start_at: None,
        },
        stop: StopRules {
            graceful_stop: Duration::from_secs(5),
            force_shutdown: false,
            exception: false,
            fail: None,
            thresholds: Vec::new(),
        },
        http: HttpPlan {
            target: Some(target.to_string()),
            allow_hosts: Vec::new(),
            egress_allow: Vec::new(),
            egress_deny: Vec::new(),
            egress_strict: false,
            connect_to: Vec::new(),
            ca_certs: Vec::new(),
            insecure: false,
            timeout: Duration::from_secs(10),
        },
        limits: Limits {
            max_body_bytes: 1 << 20,
            max_open: 4,
            max_connections: 6,
            ws_max_frame_rate: 1000,
            grpc_max_messages: 100,
            max_request_names: 100,
            max_metric_names: 100,
            max_vars_bytes: 1 << 20,
            max_output_lines: 100,
            max_memory_bytes: 64 << 20,
            guest_deadline: Duration::from_secs(5),
            workers_per_instance: None,
        },
        output: OutputPlan {
            quiet: true,
            verbose: 0,
            plain_console: true,
            console_update: None,
            timeline_every: Duration::from_secs(1),
            statsd: None,
            dashboard: None,
            remote_write: None,
            files: ResultFiles::default(),
        },
        part: Part {
            processes: 1,
            shard: None,
            run_id: "library".into(),
            child_results: None,
            k6_scenarios: Vec::new(),
            fixtures_from: None,
        },
        env: Vec::new(),
        command_line: "(a plan built in code)".into(),
        identity: RunIdentity {
            workers: Some(workers),
            duration_s: None,
            max_runs: Some(runs),
            rate: None,
            stages: None,
            single_run: false,
            single_mode: None,
            delay_s: 0.0,
            processes: 1,
            k6: None,
        },
    }
}

fn run(plan: RunPlan) -> molotov::runner::Outcome {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let limited =
        async { tokio::time::timeout(Duration::from_secs(120), molotov::runner::run(plan)).await };
    (runtime.block_on(limited))
        .expect("the run ends")
        .expect("the run runs")
}

#[test]
fn a_plan_built_in_code_runs_as_the_command_line_would() {
    let server = Server::start();
    let before = server.served();
    let outcome = run(plan(&server.url, 3, 4));
    let report = &outcome.report;
    assert_eq!((report.scenarios.ok, report.scenarios.failed), (12, 0));
    assert_eq!(report.requests.count, 12);
    // The server's own count: 12 runs, and the two counting requests.
    assert_eq!(server.served() - before, 13);
    assert_eq!(report.workers, 3);
    assert_eq!(report.component, "hello");
    assert_eq!(report.flags, "(a plan built in code)");
    assert!(!outcome.failed);
}

#[test]
fn a_plans_shard_thresholds_and_identity_reach_the_outcome() {
    let server = Server::start();
    let mut plan = plan(&server.url, 2, 3);
    plan.part.shard = Some(Shard { index: 1, count: 2 });
    plan.load.first_worker = 2;
    plan.stop.thresholds = ["errors < 1%", "rps > 1000000000"]
        .iter()
        .map(|expr| expr.parse().expect("a threshold"))
        .collect();
    let identity = plan.identity.clone();
    let outcome = run(plan);
    assert_eq!(outcome.report.shard.as_deref(), Some("1/2"));
    assert_eq!(outcome.shard, Some(Shard { index: 1, count: 2 }));
    assert!(outcome.identity.check_same(&identity).is_ok());
    let verdicts: Vec<(&str, bool)> = (outcome.report.thresholds.iter())
        .map(|verdict| (verdict.expr.as_str(), verdict.ok))
        .collect();
    assert_eq!(
        verdicts,
        [("errors < 1%", true), ("rps > 1000000000", false)]
    );
    assert!(outcome.failed, "a failed threshold fails the run");
}
