//! One shard of a run spread over machines by a scheduler (Kubernetes,
//! Nomad, Slurm): which shard this is, from `--shard I/N` or the scheduler's
//! own variables, and its exact share of the run's workers and rate.

use std::str::FromStr;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// Shard `index` (from 0) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let wrong = || format!("`{text}` is not a shard: expected I/N, with 0 <= I < N (`0/4`)");
        let (index, count) = text.split_once('/').ok_or_else(wrong)?;
        let (index, count): (u32, u32) = (
            index.trim().parse().map_err(|_| wrong())?,
            count.trim().parse().map_err(|_| wrong())?,
        );
        if count == 0 || index >= count {
            return Err(wrong());
        }
        Ok(Self { index, count })
    }
}

impl Shard {
    /// `--shard`, else the scheduler's variables: a Slurm job array's task,
    /// a Kubernetes Indexed Job's completion index or a Nomad allocation's
    /// index (the last two with `--shard-count`, which they do not give).
    pub fn detect(
        flag: Option<Shard>,
        count: Option<u32>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Option<Shard>> {
        if flag.is_some() {
            return Ok(flag);
        }
        let number = |name: &str| -> anyhow::Result<Option<u32>> {
            env(name)
                .map(|value| value.trim().parse::<u32>())
                .transpose()
                .with_context(|| format!("{name} is not a number"))
        };
        let (index, count, source) = if let Some(task) = number("SLURM_ARRAY_TASK_ID")? {
            // Arrays may start anywhere (`--array=1-4`).
            let first = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let index = task
                .checked_sub(first)
                .context("SLURM_ARRAY_TASK_ID below SLURM_ARRAY_TASK_MIN")?;
            (
                index,
                number("SLURM_ARRAY_TASK_COUNT")?.or(count),
                "SLURM_ARRAY_TASK_ID",
            )
        } else if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            (index, count, "JOB_COMPLETION_INDEX")
        } else if let Some(index) = number("NOMAD_ALLOC_INDEX")? {
            (index, count, "NOMAD_ALLOC_INDEX")
        } else if let Some(index) = number("AWS_BATCH_JOB_ARRAY_INDEX")? {
            // AWS Batch array jobs, which run on Amazon ECS.
            (index, count, "AWS_BATCH_JOB_ARRAY_INDEX")
        } else {
            return match count {
                Some(_) => bail!(
                    "--shard-count without a shard index (--shard I/N, or a scheduler's index variable)"
                ),
                None => Ok(None),
            };
        };
        let count = count.with_context(|| {
            format!("{source} is set: give the number of shards with --shard-count")
        })?;
        if index >= count {
            bail!("{source} gives shard {index}, but there are {count} shards");
        }
        Ok(Some(Shard { index, count }))
    }

    /// This shard's part of `total` things numbered from 0: its first one and
    /// how many (the first `total % count` shards take one more, so the parts
    /// add up to `total`: 10 over 3 is 4, 3, 3).
    pub fn share(&self, total: u32) -> (u32, u32) {
        let (base, extra) = (total / self.count, total % self.count);
        let first = self.index * base + self.index.min(extra);
        (first, base + u32::from(self.index < extra))
    }

    /// What the shard's scenarios read with `env`: `MOLOTOV_SHARD`, `MOLOTOV_SHARD_COUNT`.
    pub fn variables(&self) -> [(String, String); 2] {
        [
            ("MOLOTOV_SHARD".to_string(), self.index.to_string()),
            ("MOLOTOV_SHARD_COUNT".to_string(), self.count.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_whole_with_global_ids() {
        let shards: Vec<(u32, u32)> = (0..3)
            .map(|index| Shard { index, count: 3 }.share(10))
            .collect();
        assert_eq!(shards, [(0, 4), (4, 3), (7, 3)]);
        assert_eq!(Shard { index: 3, count: 4 }.share(2), (2, 0));
    }

    #[test]
    fn the_shard_comes_from_the_flag_or_the_schedulers_variables() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            Shard::detect(None, None, slurm).unwrap(),
            Some(Shard { index: 2, count: 4 })
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "1")]);
        assert_eq!(
            Shard::detect(None, Some(2), k8s).unwrap(),
            Some(Shard { index: 1, count: 2 })
        );
        assert!(Shard::detect(None, None, env(&[("NOMAD_ALLOC_INDEX", "0")])).is_err());
        let batch = env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "3")]);
        assert_eq!(
            Shard::detect(None, Some(4), batch).unwrap(),
            Some(Shard { index: 3, count: 4 })
        );
        assert_eq!(
            Shard::detect(Some("1/2".parse().unwrap()), None, slurm).unwrap(),
            Some(Shard { index: 1, count: 2 })
        );
        assert_eq!(Shard::detect(None, None, env(&[])).unwrap(), None);
        for bad in ["2/2", "1", "a/3", "0/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
