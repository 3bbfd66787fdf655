//! Quantities as people read them: bytes as k6 shows them (go-humanize's
//! SI form: `83 B`, `1.2 kB`, `12 MB`).

const PREFIXES: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

/// `bytes` with an SI prefix, one decimal below ten.
pub fn si_bytes(bytes: f64) -> String {
    if bytes < 10.0 {
        return format!("{} B", bytes.max(0.0).round());
    }
    let power = (bytes.log10() / 3.0).floor().min(6.0);
    let value = (bytes / 1000f64.powf(power) * 10.0 + 0.5).floor() / 10.0;
    let prefix = PREFIXES[power as usize];
    match value < 10.0 {
        true => format!("{value:.1} {prefix}"),
        false => format!("{value:.0} {prefix}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_as_in_k6() {
        let shown = [0.0, 9.0, 83.0, 999.0, 1200.0, 12_000.0, 2_460_000.0, 3e9];
        let expected = [
            "0 B", "9 B", "83 B", "999 B", "1.2 kB", "12 kB", "2.5 MB", "3.0 GB",
        ];
        for (bytes, text) in shown.into_iter().zip(expected) {
            assert_eq!(si_bytes(bytes), text);
        }
    }
}
