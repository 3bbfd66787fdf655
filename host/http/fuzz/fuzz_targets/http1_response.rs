#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let _ = molotov_http::fuzzing::http1_responses(bytes);
});
