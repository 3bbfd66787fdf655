//! A response's status and headers. HTTP/1.1 headers are looked up where they
//! lie in the response head: a `HeaderMap` is built only for the rare reader
//! that needs one (a guest's own `wasi:http` client).
//!
//! Building a map for every response (an allocation or two, a name lookup
//! and a shared-bytes count per header, and as much again to drop it) cost 3 %
//! of the requests per client CPU-second, for headers most scenarios never read.

use std::ops::Range;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

/// A response's status line and headers.
#[derive(Debug)]
pub struct ResponseHead {
    pub status: StatusCode,
    pub headers: ResponseHeaders,
}

/// A response's headers, in the order received.
#[derive(Debug)]
pub enum ResponseHeaders {
    /// HTTP/1.1: the head as received, and where each name and value lies in it.
    Raw { head: Bytes, spans: Vec<Span> },
    /// HTTP/2, as hyper gives them.
    Map(HeaderMap),
}

/// Where one header's name and value lie in a response head.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    name: [u32; 2],
    value: [u32; 2],
}

impl Span {
    pub fn new(name: Range<usize>, value: Range<usize>) -> Self {
        // A head is at most 64 KiB, far within u32.
        let offset = |at: usize| at as u32;
        Self {
            name: [offset(name.start), offset(name.end)],
            value: [offset(value.start), offset(value.end)],
        }
    }
}

impl ResponseHeaders {
    /// The bytes they take, about: the head as received, or each name and value.
    pub fn byte_len(&self) -> usize {
        match self {
            Self::Raw { head, .. } => head.len(),
            Self::Map(map) => map
                .iter()
                .map(|(name, value)| name.as_str().len() + value.len())
                .sum(),
        }
    }

    /// Every header, names as received (HTTP/2's are lower case), in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let (raw, map) = match self {
            Self::Raw { head, spans } => (Some(spans.iter().map(|span| pair(head, span))), None),
            Self::Map(map) => (None, Some(map.iter())),
        };
        let map = map
            .into_iter()
            .flatten()
            .map(|(name, value)| (name.as_str().as_bytes(), value.as_bytes()));
        raw.into_iter().flatten().chain(map)
    }

    /// The values of header `name` (any case), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> {
        self.iter()
            .filter(move |(candidate, _)| candidate.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, value)| value)
    }

    /// The first value of header `name` (any case).
    pub fn get<'a>(&'a self, name: &'a str) -> Option<&'a [u8]> {
        self.get_all(name).next()
    }

    /// Every header, names in lower case, in order, as text.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(n, v)| (lossy(n).to_ascii_lowercase(), lossy(v)))
            .collect()
    }

    /// The first value of header `name` (any case), as text.
    pub fn first(&self, name: &str) -> Option<String> {
        self.get(name).map(lossy)
    }

    /// The headers as a map, values sharing the head's bytes. `httparse`
    /// accepted every name and value, so none fails to convert.
    pub fn into_map(self) -> HeaderMap {
        let (head, spans) = match self {
            Self::Map(map) => return map,
            Self::Raw { head, spans } => (head, spans),
        };
        let mut map = HeaderMap::with_capacity(spans.len());
        for span in &spans {
            let name = HeaderName::from_bytes(slice(&head, span.name));
            let [start, end] = span.value;
            let value = HeaderValue::from_maybe_shared(head.slice(start as usize..end as usize));
            if let (Ok(name), Ok(value)) = (name, value) {
                map.append(name, value);
            }
        }
        map
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn pair<'a>(head: &'a [u8], span: &Span) -> (&'a [u8], &'a [u8]) {
    (slice(head, span.name), slice(head, span.value))
}

fn slice(head: &[u8], [start, end]: [u32; 2]) -> &[u8] {
    &head[start as usize..end as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_headers_are_found_in_any_case_and_in_order() {
        let head = Bytes::from_static(b"Set-Cookie: a=1\r\nset-cookie: b=2\r\nX-Y: z\r\n");
        let spans = vec![
            Span::new(0..10, 12..15),
            Span::new(17..27, 29..32),
            Span::new(34..37, 39..40),
        ];
        let headers = ResponseHeaders::Raw { head, spans };
        let cookies: Vec<_> = headers.get_all("SET-COOKIE").collect();
        assert_eq!(cookies, [&b"a=1"[..], &b"b=2"[..]]);
        assert_eq!(headers.get("x-y"), Some(&b"z"[..]));
        assert_eq!(headers.get("missing"), None);
        let map = headers.into_map();
        assert_eq!(map.get_all("set-cookie").iter().count(), 2);
        assert_eq!(map["x-y"], "z");
    }
}
