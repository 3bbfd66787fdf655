//! A real scheduler: a one-node Slurm cluster (Debian's `slurm-wlm`, installed
//! by `tests/toolchains.sh`) started on 127.0.0.1 for the test, a job array
//! of four shards against a local server, and their results merged.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// munged, slurmctld and slurmd with a configuration of their own, stopped
/// by pid when dropped.
struct Cluster {
    dir: PathBuf,
    daemons: Vec<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Cluster {
    fn start() -> Self {
        let dir = scratch("slurm");
        for sub in ["state", "spool"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let host =
            String::from_utf8(Command::new("hostname").arg("-s").output().unwrap().stdout).unwrap();
        let (host, d) = (host.trim(), dir.display());
        let config = format!(
            "ClusterName=molotov\nSlurmctldHost={host}(127.0.0.1)\nSlurmctldPort={}\nSlurmdPort={}\n\
             AuthType=auth/munge\nAuthInfo=socket={d}/munge.socket\nCredType=cred/munge\n\
             SlurmUser=root\nSlurmdUser=root\nStateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\n\
             SlurmctldPidFile={d}/slurmctld.pid\nSlurmdPidFile={d}/slurmd.pid\n\
             SlurmctldLogFile={d}/slurmctld.log\nSlurmdLogFile={d}/slurmd.log\n\
             ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nSelectType=select/cons_tres\n\
             SelectTypeParameters=CR_Core\nReturnToService=2\nMpiDefault=none\nSwitchType=switch/none\n\
             JobAcctGatherType=jobacct_gather/none\nAccountingStorageType=accounting_storage/none\n\
             NodeName={host} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN\n\
             PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4\n",
            free_port(),
            free_port(),
        );
        std::fs::write(dir.join("slurm.conf"), config).unwrap();
        let status = Command::new("munged")
            .arg("--force")
            .arg(format!("--socket={d}/munge.socket"))
            .arg(format!("--pid-file={d}/munged.pid"))
            .arg(format!("--log-file={d}/munged.log"))
            .arg(format!("--seed-file={d}/munged.seed"))
            .status()
            .expect("munged (slurm-wlm and munge: run tests/toolchains.sh)");
        assert!(status.success(), "munged did not start");
        let mut cluster = Self {
            dir,
            daemons: Vec::new(),
        };
        for daemon in ["slurmctld", "slurmd"] {
            let child = Command::new(daemon)
                .args(["-D", "-f"])
                .arg(cluster.config())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("a Slurm daemon starts");
            cluster.daemons.push(child);
        }
        let ready = Instant::now() + Duration::from_secs(30);
        while !cluster.node_idle() {
            assert!(Instant::now() < ready, "the Slurm node never became idle");
            std::thread::sleep(Duration::from_millis(200));
        }
        cluster
    }

    fn config(&self) -> PathBuf {
        self.dir.join("slurm.conf")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.env("SLURM_CONF", self.config());
        command
    }

    fn node_idle(&self) -> bool {
        let out = self.command("sinfo").args(["-h", "-o", "%T"]).output();
        out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle")
    }
}

/// Asks `pid` to stop (SIGTERM: slurmctld then stops its script helper too).
fn terminate(pid: u32) {
    let _ = Command::new("kill").arg(pid.to_string()).status();
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for daemon in &mut self.daemons {
            terminate(daemon.id());
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(daemon.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
        // munged daemonized itself: its pid is in its pid file.
        let pid = std::fs::read_to_string(self.dir.join("munged.pid"));
        if let Some(pid) = pid.ok().and_then(|pid| pid.trim().parse::<u32>().ok()) {
            terminate(pid);
        }
    }
}

fn merge(files: &[PathBuf], threshold: &str) -> (Option<i32>, serde_json::Value) {
    let json = scratch("slurm-merged.json");
    let status = molotov()
        .arg("merge")
        .args(files)
        .args(["--threshold", threshold, "-q", "--json"])
        .arg(&json)
        .status()
        .unwrap();
    let merged = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    (status.code(), merged)
}

fn job_script(dir: &Path, server: &Server) -> PathBuf {
    let script = dir.join("shard.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec '{molotov}' run '{suite}' --target {url} -s ok -w 8 -r 5 -q \
             --start-at +1 --raw '{out}/shard-'$SLURM_ARRAY_TASK_ID'.json'\n",
            molotov = env!("CARGO_BIN_EXE_molotov"),
            suite = guests().suite.display(),
            url = server.url,
            out = dir.display(),
        ),
    )
    .unwrap();
    script
}

#[test]
fn a_slurm_job_array_of_four_shards_merges_to_exact_counts() {
    let server = Server::start();
    let cluster = Cluster::start();
    let script = job_script(&cluster.dir, &server);
    let submitted = cluster
        .command("timeout")
        .args([
            "300",
            "sbatch",
            "--array=0-3",
            "--wait",
            "--no-requeue",
            "-o",
        ])
        .arg(cluster.dir.join("shard-%a.log"))
        .env(
            "MOLOTOV_CACHE_DIR",
            workspace().join("target").join("e2e-cache"),
        )
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        submitted.status.success(),
        "sbatch: {}",
        String::from_utf8_lossy(&submitted.stderr)
    );
    let raws: Vec<PathBuf> = (0..4)
        .map(|i| cluster.dir.join(format!("shard-{i}.json")))
        .collect();
    // -w 8 over 4 shards, 5 runs each worker: 40 runs, one request each.
    let (code, merged) = merge(&raws, "scenario ok: count == 40");
    assert_eq!(code, Some(0), "{merged}");
    assert_eq!(merged["workers"], 8);
    assert_eq!(count(&merged["requests"]["count"]), 40);
    assert_eq!(count(&merged["requests"]["count"]), server.served() - 1);
    // Judged on the merged whole: a shard alone has 10 runs.
    let (code, merged) = merge(&raws, "scenario ok: count < 40");
    assert_eq!(code, Some(1), "{merged}");
}
