//! Numbers as the page writes them.

/// Milliseconds, to the microsecond.
pub(crate) fn ms(value: f64) -> String {
    format!("{value:.3}")
}

/// A count with its thousands separated by commas.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
