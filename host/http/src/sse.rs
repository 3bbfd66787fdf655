//! Server-sent events (`text/event-stream`) parsed as the WHATWG HTML
//! standard interprets an event stream: lines ended by CRLF, LF or CR, one
//! leading BOM dropped, `event`, `data` (lines joined by `\n`), `id` and
//! `retry` fields, comments and unknown fields ignored, an event dispatched
//! at an empty line (not at all without data, nor at the end of the stream).
//!
//! Written here rather than taken from `eventsource-stream`: that crate has
//! had no release since 2022, reads a `Stream` of chunks (ours are read with
//! their own timeouts) and does not bound an event's size, which a client
//! facing servers it does not trust must.

use std::collections::VecDeque;

use crate::error::Error;

/// One event of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// Its type, the `event` field; `None` for the default, `message`.
    pub event: Option<String>,
    /// Its `data` lines, joined by `\n`.
    pub data: String,
    /// The stream's last event ID, which carries over to later events as in
    /// the standard; `None` while unset or set empty.
    pub id: Option<String>,
    /// The reconnection time the stream last set (`retry`), in ms.
    pub retry_ms: Option<u64>,
}

/// Events parsed from a stream's bytes as they come.
pub(crate) struct SseParser {
    /// Bytes of a line not yet ended.
    pending: Vec<u8>,
    /// How much of `pending` is known to hold no line end.
    scanned: usize,
    /// Whether the start of the stream (and a BOM there) is behind.
    started: bool,
    /// The last line ended with CR: an LF right after it ends no line.
    after_cr: bool,
    event: String,
    data: String,
    last_id: String,
    retry_ms: Option<u64>,
    ready: VecDeque<SseEvent>,
    /// The largest event, in bytes: its data, its type and a line pending.
    max: usize,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl SseParser {
    pub fn new(max: usize) -> Self {
        Self {
            pending: Vec::new(),
            scanned: 0,
            started: false,
            after_cr: false,
            event: String::new(),
            data: String::new(),
            last_id: String::new(),
            retry_ms: None,
            ready: VecDeque::new(),
            max,
        }
    }

    /// The next event complete, if any.
    pub fn next(&mut self) -> Option<SseEvent> {
        self.ready.pop_front()
    }

    /// Takes the stream's next bytes; an error once the event being built
    /// is over the limit.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend_from_slice(bytes);
        let mut start = 0;
        if !self.started {
            if pending.len() < BOM.len() && BOM.starts_with(&pending) {
                self.pending = pending;
                return Ok(());
            }
            self.started = true;
            if pending.starts_with(BOM) {
                start = BOM.len();
            }
        }
        loop {
            if self.after_cr && start < pending.len() {
                start += usize::from(pending[start] == b'\n');
                self.after_cr = false;
            }
            let from = self.scanned.max(start);
            let Some(end) = (pending[from..].iter())
                .position(|&b| b == b'\r' || b == b'\n')
                .map(|at| from + at)
            else {
                break;
            };
            self.after_cr = pending[end] == b'\r';
            self.line(&pending[start..end])?;
            start = end + 1;
            self.scanned = 0;
        }
        pending.drain(..start);
        self.scanned = pending.len();
        self.pending = pending;
        self.check_size()
    }

    fn check_size(&self) -> Result<(), Error> {
        let size = self.pending.len() + self.data.len() + self.event.len();
        match size > self.max {
            true => Err(Error::BodyTooLarge { limit: self.max }),
            false => Ok(()),
        }
    }

    fn line(&mut self, line: &[u8]) -> Result<(), Error> {
        let (field, value) = match line.iter().position(|&b| b == b':') {
            None if line.is_empty() => {
                self.dispatch();
                return Ok(());
            }
            Some(0) => return Ok(()),
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        let value = String::from_utf8_lossy(value);
        match field {
            b"event" => self.event = value.into_owned(),
            b"data" => {
                self.data.push_str(&value);
                self.data.push('\n');
            }
            b"id" if !value.contains('\0') => self.last_id = value.into_owned(),
            b"retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry_ms = value.parse().ok().or(self.retry_ms);
            }
            _ => {}
        }
        self.check_size()
    }

    fn dispatch(&mut self) {
        let mut data = std::mem::take(&mut self.data);
        let event = std::mem::take(&mut self.event);
        if data.is_empty() {
            return;
        }
        data.pop();
        let id = (!self.last_id.is_empty()).then(|| self.last_id.clone());
        self.ready.push_back(SseEvent {
            event: (!event.is_empty()).then_some(event),
            data,
            id,
            retry_ms: self.retry_ms,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(stream: &[u8], piece: usize) -> Vec<SseEvent> {
        let mut parser = SseParser::new(1024);
        let mut events = Vec::new();
        for bytes in stream.chunks(piece) {
            parser.push(bytes).unwrap();
            events.extend(std::iter::from_fn(|| parser.next()));
        }
        events
    }

    fn event(kind: Option<&str>, data: &str, id: Option<&str>, retry: Option<u64>) -> SseEvent {
        SseEvent {
            event: kind.map(str::to_string),
            data: data.into(),
            id: id.map(str::to_string),
            retry_ms: retry,
        }
    }

    /// The fields as the standard reads them, whatever the line ends and
    /// wherever the stream is split, a split CRLF included.
    #[test]
    fn fields_line_ends_and_splits() {
        let stream = b"\xEF\xBB\xBF: a comment\r\n\
            event: greet\r\ndata: hello\r\ndata:world\r\nid: 1\r\n\r\n\
            data: second\rretry: 1500\r\r\
            data\nunknown: x\ndata:  two spaces\n\n\
            id\ndata: no id\nretry: 12x\n\n\
            event: only-a-type\n\n\
            data: cut off at the end";
        let expected = [
            event(Some("greet"), "hello\nworld", Some("1"), None),
            event(None, "second", Some("1"), Some(1500)),
            event(None, "\n two spaces", Some("1"), Some(1500)),
            event(None, "no id", None, Some(1500)),
        ];
        for piece in 1..=stream.len() {
            assert_eq!(events(stream, piece), expected, "in pieces of {piece}");
        }
    }

    #[test]
    fn a_bom_is_dropped_at_the_start_only() {
        let stream = b"\xEF\xBB\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\n";
        let data: Vec<String> = events(stream, 1).into_iter().map(|e| e.data).collect();
        assert_eq!(data, ["a"]);
    }

    #[test]
    fn an_event_over_the_limit_is_an_error_and_many_small_ones_are_not() {
        let mut parser = SseParser::new(64);
        for _ in 0..100 {
            parser.push(b"data: 0123456789\n\n").unwrap();
            assert!(parser.next().is_some());
        }
        let line = b"data: 0123456789\n";
        let outcome = (0..10).try_for_each(|_| parser.push(line));
        assert_eq!(outcome, Err(Error::BodyTooLarge { limit: 64 }));
        let mut endless = SseParser::new(64);
        let outcome = (0..10).try_for_each(|_| endless.push(b"data: no line end yet"));
        assert_eq!(outcome, Err(Error::BodyTooLarge { limit: 64 }));
    }
}
