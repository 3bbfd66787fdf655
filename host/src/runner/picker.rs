//! Which scenario a worker runs next: by weight, `-s`, `--single-run`, or the component's own picker.

use anyhow::bail;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::SmallRng;

use crate::cli::RunArgs as Flags;
use crate::component::Description;
use crate::component::bindings::Fixtures;

pub enum Picker {
    Weighted {
        names: Vec<String>,
        index: WeightedIndex<u32>,
    },
    Single(String),
    /// `--single-run`: every scenario once, in name order.
    EachOnce(Vec<String>),
    /// The component's own `pick` export.
    Component,
}

/// The host's choice for one step.
pub enum Pick<'a> {
    Name(&'a str),
    /// Ask the component.
    AskComponent,
    /// `--single-run` has run everything.
    Done,
}

impl Picker {
    pub fn new(description: &Description, flags: &Flags) -> anyhow::Result<Self> {
        let names = || description.scenarios.iter().map(|s| s.name.clone());
        if description.scenarios.is_empty() {
            bail!("the component has no scenario");
        }
        if let Some(name) = &flags.single_mode {
            if !names().any(|n| n == *name) {
                bail!(
                    "-s {name}: no such scenario; the component has {}",
                    names().collect::<Vec<_>>().join(", ")
                );
            }
            return Ok(Self::Single(name.clone()));
        }
        if flags.single_run {
            let mut sorted: Vec<String> = names().collect();
            sorted.sort();
            return Ok(Self::EachOnce(sorted));
        }
        if description.fixtures.contains(Fixtures::PICKER) {
            return Ok(Self::Component);
        }
        let weights: Vec<u32> = description.scenarios.iter().map(|s| s.weight).collect();
        let index = WeightedIndex::new(&weights)
            .map_err(|_| anyhow::anyhow!("every scenario has weight 0: nothing to run"))?;
        Ok(Self::Weighted {
            names: names().collect(),
            index,
        })
    }

    /// The scenario for the worker's `step` (counted from 0).
    pub fn pick(&self, step: u64, rng: &mut SmallRng) -> Pick<'_> {
        match self {
            Self::Weighted { names, index } => Pick::Name(&names[index.sample(rng)]),
            Self::Single(name) => Pick::Name(name),
            Self::EachOnce(names) => match names.get(step as usize) {
                Some(name) => Pick::Name(name),
                None => Pick::Done,
            },
            Self::Component => Pick::AskComponent,
        }
    }
}
