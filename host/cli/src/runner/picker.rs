//! Which scenario a worker runs next: by weight, `-s`, `--single-run`, or the component's own picker.

use anyhow::bail;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::SmallRng;

use crate::plan::LoadPlan;
use molotov_runtime::Description;

/// How scenarios are picked; a pick is an index into the description's list.
pub enum Picker {
    Weighted(WeightedIndex<u32>),
    Single(usize),
    /// `--single-run`: every scenario once, in name order.
    EachOnce(Vec<usize>),
    /// The component's own `pick` export.
    Component,
}

/// The host's choice for one step.
pub enum Pick {
    Scenario(usize),
    /// Ask the component.
    AskComponent,
    /// `--single-run` has run everything.
    Done,
}

impl Picker {
    pub fn new(description: &Description, load: &LoadPlan) -> anyhow::Result<Self> {
        let scenarios = &description.scenarios;
        if scenarios.is_empty() {
            bail!("the component has no scenario");
        }
        if let Some(name) = &load.single_mode {
            let Some(index) = description.index_of(name) else {
                let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
                bail!(
                    "-s {name}: no such scenario; the component has {}",
                    names.join(", ")
                );
            };
            return Ok(Self::Single(index));
        }
        if load.single_run {
            let mut in_name_order: Vec<usize> = (0..scenarios.len()).collect();
            in_name_order.sort_by_key(|&index| &scenarios[index].name);
            return Ok(Self::EachOnce(in_name_order));
        }
        if description.fixtures.picker {
            return Ok(Self::Component);
        }
        let weights = scenarios.iter().map(|s| s.weight);
        let index = WeightedIndex::new(weights)
            .map_err(|_| anyhow::anyhow!("every scenario has weight 0: nothing to run"))?;
        Ok(Self::Weighted(index))
    }

    /// The scenario for the worker's `step` (counted from 0).
    pub fn pick(&self, step: u64, rng: &mut SmallRng) -> Pick {
        match self {
            Self::Weighted(weights) => Pick::Scenario(weights.sample(rng)),
            Self::Single(index) => Pick::Scenario(*index),
            Self::EachOnce(indices) => match indices.get(step as usize) {
                Some(&index) => Pick::Scenario(index),
                None => Pick::Done,
            },
            Self::Component => Pick::AskComponent,
        }
    }
}
