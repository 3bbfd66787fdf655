//! The run as it goes, for those who watch it elsewhere than the console:
//! the live dashboard's page (`--dashboard`) and the metrics pushed to
//! Prometheus (`--prometheus-rw`).

use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};

use molotov_metrics::{Report, RunFacts, StopReason, Tally, Timeline};

use super::egress::tally_so_far;
use super::shared::Shared;
use super::stamp::unix_ms;
use crate::console::Console;
use crate::dashboard::Dashboard;
use crate::plan::RunPlan;
use crate::remote_write::RemoteWrite;

pub struct Watchers {
    pub dashboard: Option<Dashboard>,
    pub remote_write: Option<RemoteWrite>,
}

impl Watchers {
    /// Binds the dashboard (a taken address fails the run before it starts)
    /// and starts the pusher.
    pub async fn start(plan: &RunPlan, console: &Console) -> anyhow::Result<Self> {
        let dashboard = match plan.output.dashboard {
            Some(address) => {
                let dashboard = Dashboard::bind(address).await?;
                console.note(&format!("dashboard: http://{}/", dashboard.address));
                Some(dashboard)
            }
            None => None,
        };
        let remote_write = (plan.output.remote_write.as_ref())
            .map(|push| RemoteWrite::start(push, plan, console))
            .transpose()?;
        Ok(Self {
            dashboard,
            remote_write,
        })
    }

    pub fn publish_page(&self, shared: &Shared, started: Instant) {
        if let Some(dashboard) = &self.dashboard {
            dashboard.publish(&snapshot(shared, started));
        }
    }

    pub fn push_metrics(&self, shared: &Shared) {
        if let Some(remote_write) = &self.remote_write {
            let workers = shared.context.metrics.live.workers.load(Ordering::Relaxed);
            remote_write.push(&tally_so_far(&shared.context), workers);
        }
    }

    /// The end of the run: the final report on the dashboard, the final
    /// metrics pushed.
    pub async fn finish(self, report: &Report, tally: &Tally) {
        let dashboard = self.dashboard.map(|d| d.finish(report));
        let remote_write = self.remote_write.map(|r| r.finish(tally));
        tokio::join!(
            async {
                if let Some(done) = dashboard {
                    done.await;
                }
            },
            async {
                if let Some(done) = remote_write {
                    done.await;
                }
            }
        );
    }
}

/// The run so far, as a report (its timeline already coarsened for charts).
fn snapshot(shared: &Shared, started: Instant) -> Report {
    let elapsed = started.elapsed();
    let facts = RunFacts {
        component: shared.plan.component.shown.clone(),
        component_sha256: shared.plan.component.sha256.clone(),
        flags: shared.plan.command_line.clone(),
        started_at_ms: unix_ms(SystemTime::now()).saturating_sub(elapsed.as_millis() as u64),
        late_s: None,
        shard: shared.plan.part.shown_shard(),
        workers: shared.workers,
        processes: 1,
        workers_per_instance: Some(shared.per_instance),
        duration_s: elapsed.as_secs_f64(),
        stopped_by: StopReason::Completed,
        sizing: None,
    };
    let mut report = Report::new(facts, &tally_so_far(&shared.context));
    let timeline = shared.timeline.lock().expect("timeline");
    report.timeline = Timeline {
        every_s: timeline.every_s,
        intervals: timeline.coarsened(molotov_report::MAX_POINTS),
    };
    report
}
