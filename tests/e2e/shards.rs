//! A run spread over shards (`--shard`, or a scheduler's variables), started
//! together (`--start-at`) and merged exactly (`molotov merge`); and the
//! deployment files, checked for what a load test needs of a scheduler.

use std::path::PathBuf;
use std::process::Child;

use crate::support::*;

/// Starts shard `index` of `count` of `-s ok -w 10 -r 5`, writing `raw`.
fn shard(server: &Server, index: u32, count: u32, raw: &PathBuf, extra: &[&str]) -> Child {
    let shard = format!("{index}/{count}");
    molotov()
        .args([
            "run",
            guests().suite.to_str().unwrap(),
            "--target",
            &server.url,
        ])
        .args([
            "-s",
            "ok",
            "-w",
            "10",
            "-r",
            "5",
            "-q",
            "--shard",
            &shard,
            "--start-at",
            "+1",
        ])
        .arg("--raw")
        .arg(raw)
        .args(extra)
        .spawn()
        .expect("molotov starts")
}

fn merge(files: &[PathBuf], args: &[&str]) -> Run {
    let json = scratch("merged.json");
    let mut command = molotov();
    command
        .arg("merge")
        .args(files)
        .args(args)
        .arg("--json")
        .arg(&json);
    let output = command.output().expect("molotov merge starts");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        json: std::fs::read_to_string(&json)
            .ok()
            .map(|t| serde_json::from_str(&t).unwrap()),
    }
}

fn four_shards(server: &Server) -> Vec<PathBuf> {
    let raws: Vec<PathBuf> = (0..4)
        .map(|i| scratch(&format!("shard-{i}.raw.json")))
        .collect();
    let children: Vec<Child> = (0..4)
        .map(|i| shard(server, i, 4, &raws[i as usize], &[]))
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    raws
}

#[test]
fn four_shards_merge_to_the_exact_counts_of_one_run() {
    let server = Server::start();
    let raws = four_shards(&server);
    let merged = merge(
        &raws,
        &[
            "--threshold",
            "scenario ok: count == 50",
            "--threshold",
            "errors < 1%",
        ],
    );
    assert_eq!(merged.code, Some(0), "{}", merged.stderr);
    let json = merged.json();
    // -w 10 split 3+3+2+2, each worker 5 runs: 50 runs, 50 requests.
    assert_eq!(json["workers"], 10, "{json}");
    assert_eq!(json["scenarios"]["ok"], 50, "{json}");
    assert_eq!(count(&json["requests"]["count"]), server.served() - 1);
    assert_eq!(json["requests"]["by_name"]["GET /"]["count"], 50);
    let in_timeline: u64 = (json["timeline"]["intervals"].as_array().unwrap().iter())
        .map(|i| count(&i["ok"]))
        .sum();
    assert_eq!(in_timeline, 50);
    // A threshold judged on the merged whole fails when it should.
    let merged = merge(&raws, &["--threshold", "scenario ok: count > 50"]);
    assert_eq!(merged.code, Some(1), "{}", merged.stdout);
    assert_eq!(merged.json()["thresholds"][0]["value"], 50.0);
}

#[test]
fn a_shard_runs_its_share_of_the_workers_with_global_ids() {
    let server = Server::start();
    let raw = scratch("one-shard.raw.json");
    let mut child = shard(&server, 1, 3, &raw, &[]);
    assert!(child.wait().unwrap().success());
    let text = std::fs::read_to_string(&raw).unwrap();
    let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(raw["shard"], serde_json::json!({"index": 1, "count": 3}));
    assert_eq!(raw["workers"], 3, "10 over 3 is 4, 3, 3");
    // The lifecycle guest prints in each worker's setup: shard 1 of 3 has
    // workers 4, 5 and 6.
    let run = run_against(
        &server,
        &guests().lifecycle,
        &["-w", "10", "-r", "1", "--shard", "1/3"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for worker in ["W:4", "W:5", "W:6"] {
        assert!(
            !run.printed_by(worker).is_empty(),
            "{worker}: {}",
            run.stderr
        );
    }
    assert!(run.printed_by("W:0").is_empty() && run.printed_by("W:7").is_empty());
    // A scenario knows its shard (`molotov::shard()`).
    let args = ["-s", "whoami", "-w", "3", "-r", "1", "--shard", "2/3"];
    let run = run_against(&server, &guests().suite, &args);
    assert_eq!(run.printed_by("W:2"), ["shard 2/3"], "{}", run.stderr);
}

#[test]
fn the_shard_is_read_from_a_slurm_array_when_not_given() {
    let server = Server::start();
    let json = scratch("slurm-shard.json");
    let status = molotov()
        .args([
            "run",
            guests().suite.to_str().unwrap(),
            "--target",
            &server.url,
        ])
        .args(["-s", "ok", "-w", "4", "-r", "1", "-q", "--json"])
        .arg(&json)
        .env("SLURM_ARRAY_TASK_ID", "3")
        .env("SLURM_ARRAY_TASK_MIN", "2")
        .env("SLURM_ARRAY_TASK_COUNT", "2")
        .status()
        .unwrap();
    assert!(status.success());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(
        (&json["shard"], &json["workers"]),
        (&"1/2".into(), &2.into())
    );
}

/// An AWS Batch array job gives the index; `--raw DIR` names the file.
#[test]
fn an_aws_batch_shard_writes_its_raw_results_into_a_directory() {
    let server = Server::start();
    let dir = scratch("batch-results");
    std::fs::create_dir_all(&dir).unwrap();
    let status = molotov()
        .args([
            "run",
            guests().suite.to_str().unwrap(),
            "--target",
            &server.url,
        ])
        .args([
            "-s",
            "ok",
            "-w",
            "4",
            "-r",
            "1",
            "-q",
            "--shard-count",
            "4",
            "--raw",
        ])
        .arg(&dir)
        .env("AWS_BATCH_JOB_ARRAY_INDEX", "2")
        .status()
        .unwrap();
    assert!(status.success());
    let written = merge(&[dir.join("shard-2.json")], &["--allow-partial"]);
    assert_eq!(
        count(&written.json()["requests"]["count"]),
        1,
        "{}",
        written.stderr
    );
}

#[test]
fn merge_refuses_missing_shards_and_parts_of_other_runs() {
    let server = Server::start();
    let raws = four_shards(&server);
    let merged = merge(&raws[..3], &[]);
    assert_eq!(merged.code, Some(2));
    assert!(
        merged.stderr.contains("shards 3 of 4 are missing"),
        "{}",
        merged.stderr
    );
    let partial = merge(&raws[..3], &["--allow-partial"]);
    assert_eq!(partial.code, Some(0), "{}", partial.stderr);
    let twice = merge(&[raws[0].clone(), raws[0].clone()], &[]);
    assert!(twice.stderr.contains("given twice"), "{}", twice.stderr);
    // A shard of another run (another --delay) is not a part of this run.
    let other = scratch("other.raw.json");
    let mut child = shard(&server, 3, 4, &other, &["--delay", "0.01"]);
    assert!(child.wait().unwrap().success());
    let mixed = merge(
        &[raws[0].clone(), raws[1].clone(), raws[2].clone(), other],
        &[],
    );
    assert_eq!(mixed.code, Some(2));
    assert!(
        mixed
            .stderr
            .contains("ran with other settings: not parts of one run: delay_s: 0.01 / 0.0"),
        "{}",
        mixed.stderr
    );
    // Raw results of another version are named as such, not as garbage.
    let older = scratch("older.raw.json");
    std::fs::write(
        &older,
        r#"{"molotov_version": "0.0.1", "plan": "workers=None"}"#,
    )
    .unwrap();
    let refused = merge(&[raws[0].clone(), older], &[]);
    assert_eq!(refused.code, Some(2));
    assert!(
        refused
            .stderr
            .contains("raw results of molotov 0.0.1, which this molotov"),
        "{}",
        refused.stderr
    );
}

#[test]
fn the_deployment_files_have_what_a_load_test_needs_of_its_scheduler() {
    let deploy = workspace().join("deploy");
    let text = std::fs::read_to_string(deploy.join("kubernetes/job.yaml")).unwrap();
    let job = &yaml_rust2::YamlLoader::load_from_str(&text).unwrap()[0];
    assert_eq!(job["kind"].as_str(), Some("Job"));
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    assert_eq!(
        spec["backoffLimit"].as_i64(),
        Some(0),
        "a load test is never retried"
    );
    assert_eq!(spec["completions"].as_i64(), spec["parallelism"].as_i64());
    assert_eq!(
        spec["template"]["spec"]["restartPolicy"].as_str(),
        Some("Never")
    );
    let args: Vec<&str> = (spec["template"]["spec"]["containers"][0]["args"]
        .as_vec()
        .unwrap()
        .iter())
    .filter_map(|a| a.as_str())
    .collect();
    let shards = format!("--shard-count={}", spec["completions"].as_i64().unwrap());
    assert!(args.contains(&shards.as_str()), "{args:?}");
    assert!(
        args.iter()
            .any(|a| a.starts_with("--raw=") && a.contains("$(JOB_COMPLETION_INDEX)"))
    );
    let merge = std::fs::read_to_string(deploy.join("kubernetes/merge.yaml")).unwrap();
    let merge = &yaml_rust2::YamlLoader::load_from_str(&merge).unwrap()[0];
    assert_eq!(merge["spec"]["backoffLimit"].as_i64(), Some(0));

    let text = std::fs::read_to_string(deploy.join("nomad/molotov.nomad.json")).unwrap();
    let nomad: serde_json::Value = serde_json::from_str(&text).unwrap();
    let group = &nomad["Job"]["TaskGroups"][0];
    assert_eq!(nomad["Job"]["Type"], "batch");
    assert_eq!(group["RestartPolicy"]["Attempts"], 0);
    assert_eq!(group["ReschedulePolicy"]["Attempts"], 0);
    let args = group["Tasks"][0]["Config"]["args"].to_string();
    assert!(
        args.contains(&format!("\"--shard-count\",\"{}\"", group["Count"])),
        "{args}"
    );
    assert!(args.contains("${NOMAD_ALLOC_INDEX}"), "{args}");

    let text = std::fs::read_to_string(deploy.join("ecs/job-definition.json")).unwrap();
    let batch: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        batch["retryStrategy"]["attempts"], 1,
        "a load test is never retried"
    );
    let container = &batch["containerProperties"];
    let command: Vec<&str> = (container["command"].as_array().unwrap().iter())
        .filter_map(|a| a.as_str())
        .collect();
    let after = |flag: &str| command[command.iter().position(|a| *a == flag).unwrap() + 1];
    assert_eq!(after("--shard-count"), "4");
    // Each shard writes shard-I.json into the shared volume's directory.
    assert_eq!(
        after("--raw"),
        container["mountPoints"][0]["containerPath"]
            .as_str()
            .unwrap()
    );
    assert!(command.contains(&"--egress-strict"), "{command:?}");

    let sbatch = std::fs::read_to_string(deploy.join("slurm/molotov.sbatch")).unwrap();
    assert!(sbatch.contains("#SBATCH --array=0-3") && sbatch.contains("#SBATCH --no-requeue"));
    assert!(sbatch.contains("--raw \"results/shard-${SLURM_ARRAY_TASK_ID}.json\""));
    let container = std::fs::read_to_string(deploy.join("Containerfile")).unwrap();
    assert_eq!(
        container.matches("\nFROM ").count() + usize::from(container.starts_with("FROM ")),
        2,
        "multi-stage"
    );
}
