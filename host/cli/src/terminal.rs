//! What reaches the operator's terminal from guests and servers: their text
//! with its control characters escaped.

use std::borrow::Cow;

/// `text` with every control character but newline and tab escaped
/// (`\u{1b}`): what a guest or a server wrote must not drive the operator's
/// terminal (ANSI and OSC sequences, carriage returns over other lines).
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.contains(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut safe = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            safe.extend(c.escape_unicode());
        } else {
            safe.push(c);
        }
    }
    Cow::Owned(safe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_text_cannot_drive_the_terminal() {
        assert_eq!(terminal_safe("plain\tline\nnext"), "plain\tline\nnext");
        assert_eq!(
            terminal_safe("\x1b]0;owned\x07red\x1b[31m\rover"),
            "\\u{1b}]0;owned\\u{7}red\\u{1b}[31m\\u{d}over"
        );
    }
}
