//! The JSON results file (`run --json`): writing a run's results, and
//! reading them back (`merge`, `report`).

use std::path::{Path, PathBuf};

use crate::report::Report;

/// Why results could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ResultsFileError {
    #[error("cannot encode the results as JSON: {0}")]
    Encode(serde_json::Error),
    #[error("cannot write the JSON results to {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot read {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path} is not molotov's results (`run --json`): {error}")]
    NotResults {
        path: PathBuf,
        error: serde_json::Error,
    },
}

impl Report {
    /// Writes the results as `--json` does.
    pub fn write_json(&self, path: &Path) -> Result<(), ResultsFileError> {
        let text = serde_json::to_string_pretty(self).map_err(ResultsFileError::Encode)?;
        std::fs::write(path, text + "\n").map_err(|error| ResultsFileError::Write {
            path: path.into(),
            error,
        })
    }

    /// Reads the results a run wrote with `--json`.
    pub fn read_json(path: &Path) -> Result<Self, ResultsFileError> {
        let text = std::fs::read_to_string(path).map_err(|error| ResultsFileError::Read {
            path: path.into(),
            error,
        })?;
        serde_json::from_str(&text).map_err(|error| ResultsFileError::NotResults {
            path: path.into(),
            error,
        })
    }
}
