//! The error type of scenarios: a message that the host reports as the failure.

use std::fmt;

/// Why a scenario, or a fixture, failed. Any error converts into it with `?`.
pub struct Error(String);

/// `Result<T, molotov::Error>`, with `()` as the default success type.
pub type Result<T = ()> = std::result::Result<T, Error>;

impl Error {
    /// An error with this message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self(message.to_string())
    }

    /// The message the host will report.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl<E: std::error::Error> From<E> for Error {
    fn from(error: E) -> Self {
        Self(error.to_string())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Returns early with an error made from a format string.
#[macro_export]
macro_rules! bail {
    ($($fmt:tt)+) => {
        return ::core::result::Result::Err($crate::Error::msg(::std::format!($($fmt)+)))
    };
}

/// Fails the scenario with a message unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr $(,)?) => {
        if !$cond {
            $crate::bail!("check failed: {}", ::core::stringify!($cond));
        }
    };
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            $crate::bail!($($fmt)+);
        }
    };
}
