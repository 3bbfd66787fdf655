//! The languages a scenario project can be written in, and the contract
//! every guest is built against.

/// The contract every guest is built against: the host's own copy.
pub const WIT: &str = include_str!("../../../../wit/scenario.wit");

/// A scenario project's language: told by the files it has, or chosen with `--lang`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    Rust,
    Go,
    #[value(name = "js")]
    JavaScript,
    Python,
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Rust => "Rust",
            Self::Go => "Go",
            Self::JavaScript => "JavaScript",
            Self::Python => "Python",
        })
    }
}
