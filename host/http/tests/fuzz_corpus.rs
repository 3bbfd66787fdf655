//! The fuzz targets' corpus (`host/http/fuzz/corpus/`), replayed as ordinary
//! tests: every input found interesting once stays checked, without nightly.

use std::path::{Path, PathBuf};

use molotov_http::fuzzing;

/// The corpus of `target`, found when the tests run (a build cache shared by
/// clones at other paths must not point them at another checkout).
fn corpus_dir(target: &str) -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test");
    Path::new(&manifest_dir).join("fuzz/corpus").join(target)
}

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .map(|path| {
            let bytes = std::fs::read(&path).expect("a corpus file");
            (path, bytes)
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no corpus in {}", dir.display());
    inputs
}

#[test]
fn the_http1_response_corpus_is_answered_or_refused() {
    for (path, bytes) in corpus("http1_response") {
        let exchanges = fuzzing::http1_responses(&bytes);
        assert!(!exchanges.is_empty(), "{}", path.display());
    }
    let named = |name: &str| {
        let path = corpus_dir("http1_response").join(name);
        fuzzing::http1_responses(&std::fs::read(path).unwrap())
    };
    let kept_alive = named("keep-alive");
    assert_eq!(kept_alive[..2], [Ok((200, 5)), Ok((204, 0))]);
    assert!(matches!(&named("status-999")[0], Err(e) if e.contains("outside 100-599")));
    assert!(matches!(&named("unasked-101")[0], Err(e) if e.contains("upgrade")));
    assert!(matches!(&named("claims-a-gigabyte")[0], Err(e) if e.contains("over the limit")));
}

#[test]
fn the_chunked_body_corpus_is_decoded_or_refused() {
    for (path, bytes) in corpus("chunked_body") {
        let exchanges = fuzzing::chunked_body(&bytes);
        assert!(!exchanges.is_empty(), "{}", path.display());
    }
}

/// 169.254.169.254 as the URL parser writes it, in the forms that carry it.
const METADATA_SPELLINGS: [&str; 5] = [
    "169.254.169.254",
    "[::ffff:a9fe:a9fe]",
    "[::a9fe:a9fe]",
    "[64:ff9b::a9fe:a9fe]",
    "[2002:a9fe:a9fe::]",
];

#[test]
fn the_redirect_corpus_never_reaches_a_denied_address() {
    for (path, bytes) in corpus("redirect") {
        if let Some(Ok((url, allowed))) = fuzzing::redirect(&bytes) {
            let host = url::Url::parse(&url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string));
            let metadata = host.is_some_and(|host| METADATA_SPELLINGS.contains(&host.as_str()));
            assert!(!(metadata && allowed), "{}: {url}", path.display());
        }
    }
    assert!(matches!(
        fuzzing::redirect(b"file:///etc/passwd"),
        Some(Err(_))
    ));
    assert_eq!(
        fuzzing::redirect(b"/next"),
        Some(Ok(("http://example.test/next".to_string(), true)))
    );
}
